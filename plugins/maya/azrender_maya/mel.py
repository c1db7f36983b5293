"""A tokenizer for the MEL subset Maya writes in ``.ma`` files, and the scene it describes.

Maya ASCII is a MEL script: ``createNode``, ``setAttr``, ``file -r``,
``requires``... statements ending in ``;``, strings in double quotes with
backslash escapes, statements spanning lines, ``//`` comments. The tokenizer
is one regular expression run over the text (no per-character Python loop).

>>> [t.text for t in tokenize('setAttr ".ftn" -type "string" "a;b\\\\"c";')]
['setAttr', '.ftn', '-type', 'string', 'a;b"c', ';']
>>> scene = parse_ma('//Maya ASCII 2024 scene\\ncreateNode file -n "file1";\\n'
...                  '\\tsetAttr ".ftn" -type "string" "tex/a.png";\\n')
>>> scene.nodes[0].type, scene.nodes[0].name, scene.nodes[0].attrs["ftn"]
('file', 'file1', 'tex/a.png')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Token:
    """One MEL token: a bare word (``setAttr``, ``-type``, ``3``), a string, or ``;``."""

    text: str
    quoted: bool = False


@dataclass
class MayaNode:
    """A dependency node and the attribute values the file sets on it.

    ``attrs`` maps the attribute as written (``ftn``, ``fileTextureName``,
    ``fn[0]``) to its value: the string for string attributes, the first word
    otherwise (``3``, ``yes``).
    """

    type: str
    name: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MayaReference:
    """A ``file -r`` reference (or a nested one recorded with ``-rdi``)."""

    path: str
    namespace: str = ""
    reference_node: str = ""
    file_type: str = ""
    depth_info: bool = False


@dataclass
class MayaScene:
    """What a scanner needs from one Maya file, whatever its format."""

    nodes: list[MayaNode] = field(default_factory=list)
    references: list[MayaReference] = field(default_factory=list)
    requires: list[tuple[str, str]] = field(default_factory=list)
    file_info: dict[str, str] = field(default_factory=dict)
    # ``currentUnit`` (``.ma``) / ``LUNI``, ``AUNI``, ``TUNI`` (``.mb``): "linear", "angle", "time".
    units: dict[str, str] = field(default_factory=dict)

    def node(self, name: str) -> MayaNode | None:
        """The last node created with ``name`` (leading ``:`` ignored)."""
        key = name.lstrip(":")
        for n in reversed(self.nodes):
            if n.name.lstrip(":") == key:
                return n
        return None


class MelSyntaxError(ValueError):
    """The text is not MEL as Maya writes it (e.g. a string that never closes)."""


_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>//[^\n]*|/\*.*?\*/)
    | "(?P<string>(?:[^"\\]|\\.)*)"
    | (?P<semi>;)
    | (?P<open>")
    | (?P<word>[^\s;"]+)
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def tokenize(text: str) -> Iterator[Token]:
    """Yield the tokens of ``text``; comments and whitespace are dropped.

    Raises :class:`MelSyntaxError` on a string that is not closed.
    """
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "word":
            yield Token(m.group("word"))
        elif kind == "string":
            yield Token(_unescape(m.group("string")), quoted=True)
        elif kind == "semi":
            yield Token(";")
        elif kind == "open":
            line = text.count("\n", 0, m.start()) + 1
            raise MelSyntaxError(f"string opened on line {line} is never closed")


def statements(text: str) -> Iterator[list[Token]]:
    """Group tokens into statements (without the ``;``).

    Raises :class:`MelSyntaxError` when the text ends inside a statement: a
    Maya-written file always ends its last statement with ``;``.
    """
    current: list[Token] = []
    for tok in tokenize(text):
        if tok.text == ";" and not tok.quoted:
            if current:
                yield current
            current = []
        else:
            current.append(tok)
    if current:
        raise MelSyntaxError(f"the file ends inside a `{current[0].text}` statement")


# setAttr flags that take one value; other flags (-av, -c...) take none.
_SETATTR_VALUE_FLAGS = frozenset(
    {
        "-s",
        "-size",
        "-type",
        "-k",
        "-keyable",
        "-l",
        "-lock",
        "-cb",
        "-channelBox",
        "-ca",
        "-caching",
    }
)
_CREATENODE_VALUE_FLAGS = frozenset({"-n", "-name", "-p", "-parent"})
_FILE_VALUE_FLAGS = frozenset(
    {
        "-rdi",
        "-ns",
        "-rfn",
        "-typ",
        "-op",
        "-dr",
        "-lck",
        "-shd",
        "-rpr",
        "-gr",
        "-gn",
        "-rnn",
        "-pmt",
    }
)
# currentUnit -l centimeter -a degree -t film;
_CURRENTUNIT_FLAGS = {
    "-l": "linear",
    "-linear": "linear",
    "-a": "angle",
    "-angle": "angle",
    "-t": "time",
    "-time": "time",
}
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _is_flag(tok: Token) -> bool:
    return not tok.quoted and tok.text.startswith("-") and not _NUMBER.fullmatch(tok.text)


def _flags(args: list[Token], value_flags: frozenset[str]) -> tuple[dict[str, str], list[Token]]:
    """Split ``args`` into flag values and positional tokens."""
    flags: dict[str, str] = {}
    positional: list[Token] = []
    i = 0
    while i < len(args):
        tok = args[i]
        if _is_flag(tok):
            if tok.text in value_flags and i + 1 < len(args):
                flags[tok.text] = args[i + 1].text
                i += 2
                continue
            flags[tok.text] = ""
        else:
            positional.append(tok)
        i += 1
    return flags, positional


def parse_ma(text: str) -> MayaScene:
    """Read the statements of a Maya ASCII file into a :class:`MayaScene`.

    Raises :class:`MelSyntaxError` on text that does not tokenize.
    """
    scene = MayaScene()
    current: MayaNode | None = None
    for stmt in statements(text):
        head, args = stmt[0].text, stmt[1:]
        if stmt[0].quoted:
            continue
        if head == "createNode" and args:
            flags, pos = _flags(args, _CREATENODE_VALUE_FLAGS)
            node_type = pos[0].text if pos else ""
            name = flags.get("-n") or flags.get("-name") or f"{node_type}1"
            current = MayaNode(node_type, name)
            scene.nodes.append(current)
        elif head == "select":
            flags, pos = _flags(args, frozenset())
            if pos:
                current = scene.node(pos[-1].text) or _placeholder(scene, pos[-1].text)
        elif head == "setAttr":
            _set_attr(scene, current, args)
        elif head == "file":
            ref = _file_reference(args)
            if ref is not None:
                scene.references.append(ref)
        elif head == "requires":
            _, pos = _flags(args, frozenset({"-nodeType", "-dataType"}))
            if pos:
                scene.requires.append((pos[0].text, pos[1].text if len(pos) > 1 else ""))
        elif head == "fileInfo" and len(args) >= 2:
            scene.file_info[args[0].text] = args[1].text
        elif head == "currentUnit":
            flags, _ = _flags(args, frozenset(_CURRENTUNIT_FLAGS))
            for flag, value in flags.items():
                scene.units[_CURRENTUNIT_FLAGS[flag]] = value
    return scene


def _placeholder(scene: MayaScene, name: str) -> MayaNode:
    node = MayaNode("", name)
    scene.nodes.append(node)
    return node


def _set_attr(scene: MayaScene, current: MayaNode | None, args: list[Token]) -> None:
    flags, pos = _flags(args, _SETATTR_VALUE_FLAGS)
    if not pos:
        return
    plug = pos[0].text
    if plug.startswith("."):
        node, attr = current, plug[1:]
    elif "." in plug:
        name, attr = plug.split(".", 1)
        node = scene.node(name) or _placeholder(scene, name)
    else:
        return
    if node is None or len(pos) < 2:
        return
    # a string value, or a single scalar word (``setAttr ".uvt" 3;``)
    if flags.get("-type") == "string" or ("-type" not in flags and len(pos) == 2):
        node.attrs[attr] = pos[1].text


def _file_reference(args: list[Token]) -> MayaReference | None:
    flags, pos = _flags(args, _FILE_VALUE_FLAGS)
    if "-r" not in flags and "-reference" not in flags and "-rdi" not in flags:
        return None
    paths = [t.text for t in pos if t.quoted]
    if not paths:
        return None
    return MayaReference(
        path=paths[-1],
        namespace=flags.get("-ns", ""),
        reference_node=flags.get("-rfn", ""),
        file_type=flags.get("-typ", ""),
        depth_info="-rdi" in flags,
    )
