"""Where a path written in a Maya scene points, found the way Maya looks for it.

Maya resolves a file path in steps; what Autodesk documents of them, and what
this module does for each (``MFileObject::MFileResolveMethod``, Maya SDK,
https://help.autodesk.com/cloudhelp/2018/ENU/Maya-SDK/cpp_ref/class_m_file_object.html:
``kInputFile = kExact | kDirMap | kRelative | kBaseName``, references add
``kReferenceMappings``):

1. **Exact** (``kExact``): the path as written, environment variables expanded
   (``MFileObject::expandedFullName``). An absolute path that exists is the answer.
2. **Directory mapping** (``kDirMap``; the ``dirmap`` command, Maya Commands
   reference, e.g. https://docs.huihoo.com/autodesk/maya/2017/english/CommandsPython/dirmap.html:
   "map a directory to another directory ... Directories must both be absolute paths"). The artist's mappings live in their Maya session, not in
   the file, so a headless scan has none; on the node the job's remap script
   turns ``dirmap`` on for every mirrored folder (see :mod:`azrender_maya.adapter`).
3. **Project-relative part** (``kRelative``): Maya writes a path inside the
   project it was saved in as ``<project root>//<path in the project>``; the
   part after the ``//`` is looked for in the scene's project. (Autodesk's
   pages say only that workspace locations "are used when resolving file paths
   at runtime"; the ``//`` marker's meaning is from users' notes, e.g.
   http://flame-blaze.net/question/ファイルパスの取り扱い, and from the real
   files in ``shared/fixtures/real``.) A relative path is looked for in the
   project root.
4. **File rules** (``kRelative``; the ``workspace`` command,
   https://help.autodesk.com/cloudhelp/2016/ENU/Maya-Tech-Docs/Commands/workspace.html: "The workspace file
   defines a set of rules that map file types to their storage, either
   relative to the project root or as an absolute location. These rules are
   used when resolving file paths at runtime"): the relative part, then the
   file name alone (``kBaseName``), in the folder the project's rule for that
   kind of file names (``sourceImages`` for textures, ``scene`` for references...).
5. **The scene's folder**: the relative part, then the file name alone (``kBaseName``).

The project is the folder holding ``workspace.mel`` (Autodesk, "Organize files
into projects", https://help.autodesk.com/cloudhelp/2016/ENU/Maya/files/GUID-9CE78B5A-7E9F-45E6-AB6D-66795E5656F4.htm:
"A Maya project definition file is named workspace.mel and is
stored in the project's root directory"), looked for from the scene's folder
upward. Maya's ``kReferenceMappings`` (the Reference Editor's per-session
repaths) and file-resolver plug-ins are not in the file and are not guessed.
When no step finds the file, the path Maya would have read first is reported,
the ``//`` marker kept, so the report shows what the scene says.

>>> split_project_marker("C:/Users/me/maya/projects/Haunted//assets/chair.ma")
('C:/Users/me/maya/projects/Haunted', 'assets/chair.ma')
>>> split_project_marker("//server/share/a.ma") is None
True
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from azrender.model import AssetKind
from azrender.paths import is_windows_path
from azrender.scan import ResolvedPath, expand_vars, has_tokens
from azrender.scan.inputs import note_file, note_folder, note_missing
from azrender.scan.resolve import found_at
from azrender_maya.mel import MelSyntaxError, statements

# The file rules (``workspace -fr <rule> <folder>``) that hold each kind of
# file, in the order they are tried; names as Maya's own workspace.mel writes them.
RULES_FOR_KIND: dict[AssetKind, tuple[str, ...]] = {
    AssetKind.TEXTURE: ("sourceImages",),
    AssetKind.REFERENCE: ("scene", "mayaAscii", "mayaBinary"),
    AssetKind.CACHE: ("alembicCache", "fileCache", "diskCache"),
    AssetKind.VOLUME: ("fileCache", "diskCache"),
    AssetKind.AUDIO: ("sound",),
    AssetKind.MOVIE: ("movie",),
    AssetKind.OTHER: ("sourceImages",),
}

# `scheme://` (a URI) is not a project marker.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


@dataclass(frozen=True)
class MayaProject:
    """A Maya project: its root (the folder with ``workspace.mel``) and its file rules."""

    root: Path
    rules: Mapping[str, str] = field(default_factory=dict)

    def rule_folder(self, rule: str) -> Path | None:
        """The folder a file rule names (relative rules join the root); None if the project has none."""
        folder = self.rules.get(rule)
        if not folder:
            return None
        path = Path(folder.replace("\\", "/"))
        return path if path.is_absolute() else self.root / path

    @cached_property
    def _kind_folders(self) -> dict[AssetKind, tuple[str, ...]]:
        """Per kind, the project root then its rule folders, as absolute text (computed once)."""
        root = os.path.abspath(self.root)
        out: dict[AssetKind, tuple[str, ...]] = {}
        for kind, rules in RULES_FOR_KIND.items():
            folders = (self.rule_folder(rule) for rule in rules)
            out[kind] = (root, *(os.path.abspath(f) for f in folders if f is not None))
        return out

    def folders_for(self, kind: AssetKind) -> tuple[str, ...]:
        """The project root, then the folders of the file rules that hold ``kind`` (steps 3 and 4)."""
        return self._kind_folders.get(kind) or (os.path.abspath(self.root),)


def find_maya_project(scene: str | Path) -> Path | None:
    """The Maya project root of ``scene``: the nearest folder upward holding ``workspace.mel``.

    >>> find_maya_project("/nonexistent/scenes/a.ma") is None
    True
    """
    start = Path(scene).absolute().parent
    for folder in (start, *start.parents):
        if (folder / "workspace.mel").is_file():
            return folder
        note_missing(folder / "workspace.mel")  # one made here later would make this the project
    return None


def read_file_rules(workspace_mel: str) -> dict[str, str]:
    """``workspace -fr "<rule>" "<folder>"`` statements of a ``workspace.mel`` text, as a dict.

    >>> read_file_rules('workspace -fr "sourceImages" "sourceimages";\\nworkspace -fr "scene" "scenes";')
    {'sourceImages': 'sourceimages', 'scene': 'scenes'}
    """
    rules: dict[str, str] = {}
    try:
        for stmt in statements(workspace_mel):
            words = [t.text for t in stmt]
            if words[0] != "workspace":
                continue
            for i, word in enumerate(words[:-2]):
                if word in ("-fr", "-fileRule"):
                    rules[words[i + 1]] = words[i + 2]
    except MelSyntaxError:
        return rules  # a hand-edited file that does not end: the rules read so far
    return rules


def maya_project(scene: str | Path) -> MayaProject | None:
    """The project of ``scene`` with its file rules, or None when no ``workspace.mel`` is above it."""
    root = find_maya_project(scene)
    return None if root is None else project_at(root)


def project_at(root: Path) -> MayaProject:
    """The project rooted at ``root`` (e.g. Maya's ``workspace -q -rootDirectory``), rules read from its workspace.mel."""
    note_file(root / "workspace.mel")  # its file rules decide where relative paths are
    try:
        text = (root / "workspace.mel").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    return MayaProject(root, read_file_rules(text))


def split_project_marker(path: str) -> tuple[str, str] | None:
    """``(project root as written, path inside the project)`` for a path with Maya's ``//`` marker."""
    text = path.replace("\\", "/")
    if _URI.match(text):
        return None
    start = 2 if text.startswith("//") else 0  # a UNC path's own leading `//`
    at = text.find("//", start)
    if at <= 0:
        return None
    inside = text[at:].lstrip("/")
    return (text[:at], inside) if inside else None


def _absolute(folder: str) -> str:
    return folder if folder.startswith("/") else os.path.abspath(folder)


def _folder_exists(candidate: str, known: dict[str, bool] | None) -> bool:
    """Whether ``candidate``'s folder exists, asked once per folder per scan when ``known`` is kept."""
    folder = posixpath.dirname(candidate)
    if known is None:
        return os.path.isdir(folder)
    found = known.get(folder)
    if found is None:
        found = known[folder] = os.path.isdir(folder)
    return found


def _candidates(
    rel: str, name: str, kind: AssetKind, scene_dir: str | Path, project: MayaProject | None
) -> Iterator[str]:
    """Steps 3 to 5, in order, each place at most once; lazy, so the first hit stops the stats."""
    folders: list[tuple[str, tuple[str, ...]]] = []
    if project is not None:
        root, *rule_folders = project.folders_for(kind)
        # 3. the project-relative part, or a relative path, in the project
        folders.append((root, (rel,)))
        # 4. the file rules for this kind: the relative part, then the name alone
        folders += [(folder, (rel, name)) for folder in rule_folders]
    # 5. the scene's folder: the relative part, then the name alone
    folders.append((_absolute(str(scene_dir)), (rel, name)))
    seen: set[str] = set()
    for folder, parts in folders:
        for part in parts:
            if part:
                candidate = posixpath.normpath(folder + "/" + part)
                if candidate not in seen:
                    seen.add(candidate)
                    yield candidate


def resolve_maya_path(
    written: str,
    kind: AssetKind,
    *,
    scene_dir: str | Path,
    project: MayaProject | None,
    env: Mapping[str, str] | None = None,
    folders: dict[str, bool] | None = None,
) -> ResolvedPath:
    """Resolve one written path by the steps in this module's docstring; ``stat`` only.

    ``folders`` (one dict per scan) remembers which folders exist, so the
    places a file cannot be in cost one ``stat`` per folder, not per file.

    >>> resolve_maya_path("/gone/a//b.png", AssetKind.TEXTURE, scene_dir="/s", project=None, env={}).path
    '/gone/a//b.png'
    """
    expansion = expand_vars(written.strip(), env)
    text = expansion.text
    foreign = is_windows_path(text)
    absolute = foreign or text.startswith("/")
    tokens = has_tokens(text)  # tokens live in the file name, the same in every candidate
    # 1. exact
    if absolute and not foreign:
        exact = posixpath.normpath(text)
        there, st = found_at(exact, tokens)
        if there:
            return ResolvedPath(written, exact, expansion.unresolved, stat=st)
        note_folder(posixpath.dirname(exact))  # a file made there later is found first
    # 2. directory mapping: none known headless (see the module docstring).
    marker = split_project_marker(text)
    if marker is not None:
        rel = marker[1]
    elif absolute:
        rel = ""
    else:
        rel = text.replace("\\", "/")
    name = posixpath.basename(text.replace("\\", "/"))
    first = None
    for candidate in _candidates(rel, name, kind, scene_dir, project):
        if _folder_exists(candidate, folders):
            there, st = found_at(candidate, tokens)
            if there:
                return ResolvedPath(written, candidate, expansion.unresolved, stat=st)
        note_folder(posixpath.dirname(candidate))  # as above: an earlier place wins once it has the file
        first = first or candidate
    # Not found: what Maya reads first, as written (`//` kept), or the first relative candidate.
    if absolute:
        shown = text if foreign or marker is not None else posixpath.normpath(text)
        return ResolvedPath(written, shown, expansion.unresolved, foreign=foreign)
    return ResolvedPath(written, first or text, expansion.unresolved)
