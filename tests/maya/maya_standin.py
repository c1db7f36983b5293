"""A stand-in for Maya's ``Render`` on the emulated node (a test double; there is no Maya here).

It does what Maya's batch renderer does with the parts of the command line the
remap depends on: opens the scene (read with the headless reader, which holds
each value as one string however the ``.ma`` wrapped it, as Maya does),
evaluates the ``-preRender`` MEL ``python("exec(open(r'" + getenv(...) + "...").read())")``
with a ``maya.cmds`` over that scene, then saves what the remap left as
``<-rd>/<-im>.ma`` (``createNode``/``setAttr``/``file -r`` statements), so a
test can read the remapped scene back from the job's outputs. Each path the
remap set is followed by ``// exists`` or ``// MISSING`` on the node.
"""

from __future__ import annotations

import os
import re
import sys
import types
from pathlib import Path
from typing import Any

from azrender_maya.mel import parse_ma
from azrender_maya.scan import PATH_ATTRIBUTES

_MEL_PART = re.compile(r'"((?:[^"\\]|\\.)*)"|getenv\("(\w+)"\)')


def mel_python_code(mel: str) -> str:
    """The Python text of a ``python(<concatenation of literals and getenv>)`` MEL call."""
    inner = mel.strip()
    assert inner.startswith("python(") and inner.endswith(")"), mel
    out = ""
    for literal, var in _MEL_PART.findall(inner[len("python(") : -1]):
        out += os.environ[var] if var else re.sub(r"\\(.)", r"\1", literal)
    return out


class SceneCmds:
    """The ``maya.cmds`` calls the remap script makes, over one opened scene."""

    def __init__(self, scene: Path) -> None:
        self.scene = parse_ma(scene.read_text(encoding="utf-8"))
        self.nodes = {n.name: n for n in self.scene.nodes}
        self.references = {r.reference_node: r.path for r in self.scene.references if not r.depth_info}
        self.dirmaps: list[tuple[str, str]] = []
        self.names = {(e.node_type, a): e.attrs for e in PATH_ATTRIBUTES for a in e.attrs}

    def _plug(self, plug: str) -> tuple[Any, str]:
        name, attr = plug.split(".", 1)
        node = self.nodes[name]
        for written in self.names.get((node.type, attr), (attr,)):
            if written in node.attrs:
                return node, written
        raise ValueError(f"No value for {plug}")

    def ls(self, type: str) -> list[str]:
        if type == "reference":
            return list(self.references)
        return [n.name for n in self.scene.nodes if n.type == type]

    def getAttr(self, plug: str) -> str:
        node, attr = self._plug(plug)
        return str(node.attrs[attr])

    def setAttr(self, plug: str, value: str, type: str) -> None:
        node, attr = self._plug(plug)
        node.attrs[attr] = value

    def referenceQuery(self, node: str, filename: bool = False, withoutCopyNumber: bool = False,
                       unresolvedName: bool = False) -> str:
        return self.references[node]

    def file(self, path: str, loadReference: str) -> None:
        self.references[loadReference] = path

    def dirmap(self, enable: bool | None = None, mapDirectory: tuple[str, str] | None = None) -> None:
        if mapDirectory is not None:
            self.dirmaps.append(mapDirectory)

    def save(self, path: Path) -> None:
        def mark(value: str) -> str:
            return "// exists" if os.path.isfile(value) else "// MISSING"

        lines = ["//Maya ASCII 2024 scene (the stand-in's save after -preRender)"]
        for ref_node, ref_path in self.references.items():
            lines.append(f'file -r -rfn "{ref_node}" "{ref_path}"; {mark(ref_path)}')
        for node in self.scene.nodes:
            lines.append(f'createNode {node.type} -n "{node.name}";')
            lines += [f'\tsetAttr ".{a}" -type "string" "{v}"; {mark(v)}' for a, v in node.attrs.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    flags = dict(zip(argv[:-1:2], argv[1:-1:2], strict=False))
    scene = Path(argv[-1])
    cmds = SceneCmds(scene)
    maya = types.ModuleType("maya")
    module = types.ModuleType("maya.cmds")
    for name in ("ls", "getAttr", "setAttr", "referenceQuery", "file", "dirmap"):
        setattr(module, name, getattr(cmds, name))
    maya.cmds = module  # type: ignore[attr-defined]
    sys.modules["maya"], sys.modules["maya.cmds"] = maya, module
    exec(compile(mel_python_code(flags["-preRender"]), "<-preRender>", "exec"), {"__name__": "__main__"})
    out = Path(flags["-rd"])
    out.mkdir(parents=True, exist_ok=True)
    cmds.save(out / (flags["-im"] + ".ma"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
