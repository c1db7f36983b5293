"""The pre-flight checks of the scene's files: missing ones, ones the node cannot see or
that travel instead of being read from a share, and paths a Windows node cannot open.

Pure functions of the scan (:class:`~azrender.model.AssetSet`) and the storage plan;
:func:`azrender.preflight.checks.run_checks` runs them with the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from azrender.model import AssetSet, JobSpec
from azrender.paths import is_windows_path
from azrender.paths.rules import map_path
from azrender.preflight.findings import Finding
from azrender.presets.model import PathRule
from azrender.storage.modes import StoragePlan

#: Windows MAX_PATH is 260 characters *including* the terminating NUL, so a
#: usable path has at most 259 (docs: "Maximum Path Length Limitation",
#: learn.microsoft.com/windows/win32/fileio/maximum-file-path-limitation).
WINDOWS_MAX_PATH = 259

#: What Batch's folder variables expand to on a Windows node (docs: "Files and
#: directories in Azure Batch": AZ_BATCH_NODE_ROOT_DIR is D:\batch\tasks). The
#: task folder's job and task parts are filled from the job being checked.
WINDOWS_NODE_DIRS: dict[str, str] = {
    "AZ_BATCH_NODE_SHARED_DIR": "D:\\batch\\tasks\\shared",
    "AZ_BATCH_NODE_MOUNTS_DIR": "D:\\batch\\tasks\\fsmounts",
    "AZ_BATCH_NODE_ROOT_DIR": "D:\\batch\\tasks",
}

_VAR = re.compile(r"%([A-Za-z_][A-Za-z0-9_]*)%")


def check_missing(assets: AssetSet) -> list[Finding]:
    """Every missing dependency, with the datablock or node that needs it."""
    return [
        Finding(
            "missing-file", "warning", f"missing: {a.path}", str(a.path), a.referrer,
            "fix the path in the scene or restore the file; it renders without it otherwise",
        )
        for a in assets.missing
    ]  # fmt: skip


def check_scan_warnings(assets: AssetSet) -> list[Finding]:
    """What the scan read but cannot vouch for (a missing reference whose own files are unknown...)."""
    return [Finding("scan-warning", "warning", line, None, "", "") for line in assets.warnings]


def check_mapping(assets: AssetSet, plan: StoragePlan, paths: Iterable[PathRule]) -> list[Finding]:
    """Files the node cannot see (share modes), and files on drives/shares no rule maps.

    With a mirror (``blob-copy``, ``blobfuse``, ``azure-files``) every file is
    uploaded, so a Windows drive or UNC share that no ``[[paths]]`` rule covers
    is only a warning that the file travels instead of being read from the
    studio's share; without one (``nfs``, ``cifs``) the file is not on the node.
    """
    out: list[Finding] = []
    pairs = [(r.source, r.target) for r in paths]
    for a in assets.present:
        text = str(a.path)
        if plan.pathmap.map(text) is None:
            out.append(Finding(
                "outside-mapped-roots", "warning",
                f"not below any mapped root, so not on the node: {text}", text, a.referrer,
                "move it below a shared root, or add a [[paths]] rule for its folder",
            ))  # fmt: skip
        elif pairs and is_windows_path(text) and map_path(text, pairs) is None:
            anchor = text[:2] if text[1:2] == ":" else "\\\\" + "\\".join(text.lstrip("\\").split("\\")[:2])
            out.append(Finding(
                "unmapped-drive", "warning",
                f"on {anchor}, which no [[paths]] rule maps; it is uploaded instead: {text}",
                text, a.referrer,
                f"add a [[paths]] rule for {anchor}, or move the file below a mapped root",
            ))  # fmt: skip
    return out


def windows_node_path(node_path: str, job_id: str = "job", task_id: str = "task") -> str:
    r"""A Windows node path with Batch's variables expanded as a node expands them.

    >>> windows_node_path(r"%AZ_BATCH_NODE_SHARED_DIR%\assets\P\a.png")
    'D:\\batch\\tasks\\shared\\assets\\P\\a.png'
    """
    dirs = dict(WINDOWS_NODE_DIRS)
    dirs["AZ_BATCH_TASK_WORKING_DIR"] = f"D:\\batch\\tasks\\workitems\\{job_id}\\job-1\\{task_id}\\wd"
    return _VAR.sub(lambda m: dirs.get(m.group(1), m.group(0)), node_path)


def check_long_paths(assets: AssetSet, plan: StoragePlan, job: JobSpec) -> list[Finding]:
    """Node paths longer than Windows allows (Windows nodes only)."""
    if plan.node_os != "windows":
        return []
    out = []
    for a in assets.assets:
        node = plan.pathmap.map(a.path)
        if node is None:
            continue
        full = windows_node_path(node, job.job_id)
        if len(full) > WINDOWS_MAX_PATH:
            out.append(Finding(
                "long-path", "warning",
                f"{len(full)} characters on the Windows node (at most {WINDOWS_MAX_PATH}): {full}",
                str(a.path), a.referrer,
                "shorten folder or file names, or map its root to a short node folder with [[paths]]",
            ))  # fmt: skip
    return out


def check_case_collisions(assets: AssetSet) -> list[Finding]:
    """Paths that differ only by case: one file on Windows and macOS, two on a Linux node."""
    groups: dict[str, list[str]] = {}
    for a in assets.assets:
        groups.setdefault(str(a.path).casefold(), []).append(str(a.path))
    referrers = {str(a.path): a.referrer for a in assets.assets}
    out = []
    for spellings in groups.values():
        if len(spellings) > 1:
            shown = ", ".join(spellings)
            out.append(Finding(
                "case-collision", "warning",
                f"{len(spellings)} paths differ only by case: {shown}", spellings[0],
                referrers[spellings[0]],
                "spell the path the same way everywhere in the scene (Linux nodes tell them apart)",
            ))  # fmt: skip
    return out
