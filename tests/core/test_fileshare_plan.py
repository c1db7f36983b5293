"""Where files land on the share for each azure-files plan, and the submit flow's use of it."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from tests.core.files_service import ACCOUNT, CONNECTION_STRING, FakeFilesService

from azrender import submit
from azrender.errors import StorageError
from azrender.model import FrameRange
from azrender.presets import load_preset, parse_preset
from azrender.storage import fileshare
from azrender.storage.fileshare import items_for_share, share_path, upload_for_plan
from azrender.storage.modes import storage_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "presets" / "azure-files.toml"


def preset(extra: str = "", windows_paths: str = "drive") -> Any:
    text = (
        'name = "f"\n[storage]\nmode = "azure-files"\n'
        f'[azure_files]\naccount = "{ACCOUNT}"\nshare = "show-abc"\n'
        f'windows_paths = "{windows_paths}"\n' + extra
    )
    return parse_preset(text, Path("f.toml"))


@pytest.mark.parametrize(
    ("node_os", "windows_paths", "node"),
    [
        ("windows", "drive", "S:\\P\\show\\tex\\a b.png"),
        ("windows", "unc", "\\\\abcrender.file.core.windows.net\\show-abc\\P\\show\\tex\\a b.png"),
        ("linux", "drive", "$AZ_BATCH_NODE_MOUNTS_DIR/share/P/show/tex/a b.png"),
    ],
)
def test_share_path_is_the_node_path_below_the_share_root(
    node_os: str, windows_paths: str, node: str
) -> None:
    plan = storage_plan(preset(windows_paths=windows_paths), node_os=node_os)  # type: ignore[arg-type]
    assert plan.pathmap.to_node("P:\\show\\tex\\a b.png") == node
    assert share_path("P:\\show\\tex\\a b.png", plan) == "P/show/tex/a b.png"
    assert share_path("/mnt/show/ü.exr", plan) == "mnt/show/ü.exr"


def test_rules_decide_the_share_path_and_absolute_targets_leave_the_share() -> None:
    rules = (
        '[[paths]]\nsource = "P:\\\\show"\ntarget = "show"\n'
        '[[paths]]\nsource = "/opt/lib"\ntarget = "C:\\\\lib"\n'
    )
    plan = storage_plan(preset(rules), node_os="windows")
    assert share_path("p:\\SHOW\\tex\\a.png", plan) == "show/tex/a.png"
    assert share_path("/opt/lib/x.png", plan) is None
    items, outside = items_for_share(["P:\\show\\tex\\a.png", "/opt/lib/x.png"], plan)
    assert [(i.blob, str(i.local)) for i in items] == [("show/tex/a.png", "P:\\show\\tex\\a.png")]
    assert outside == ["/opt/lib/x.png"]


def test_names_the_share_cannot_hold_are_listed_before_anything_moves() -> None:
    plan = storage_plan(preset(), node_os="linux")
    with pytest.raises(StorageError) as err:
        items_for_share(["/mnt/show/what?.png", "/mnt/show/ok.png", "/mnt/show/dots."], plan)
    text = str(err.value)
    assert text.startswith("2 file(s) cannot be stored on Azure Files:")
    assert "/mnt/show/what?.png" in text and "/mnt/show/dots." in text and "ok.png" not in text


def test_names_differing_only_in_case_are_refused() -> None:
    plan = storage_plan(preset(), node_os="linux")
    with pytest.raises(StorageError, match=r"differs only in case from 'mnt/show/A\.png'"):
        items_for_share(["/mnt/show/A.png", "/mnt/show/a.png"], plan)


def test_upload_for_the_example_preset_puts_files_where_the_node_looks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", CONNECTION_STRING)
    p = load_preset(EXAMPLE)
    plan = storage_plan(p, node_os="windows")
    files = [tmp_path / "tex" / "a b.png", tmp_path / "scene.max"]
    for i, f in enumerate(files):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"%d" % i * 100)
    service = FakeFilesService(p.azure_files.share or "")
    notes: list[str] = []

    class Notes:
        def begin(self, label: str, total: float | None, unit: str = "B") -> None: ...
        def advance(self, amount: float = 1) -> None: ...
        def note(self, message: str) -> None:
            notes.append(message)

        def end(self) -> None: ...

    summary = upload_for_plan(
        files, plan, p.azure_files.account or "", p.azure_files.share or "",
        progress=Notes(), transport=service,
    )  # fmt: skip
    assert summary.uploaded_files == 2 and service.invalid == []
    for f in files:
        node = plan.pathmap.to_node(f)
        assert node.startswith("S:\\")
        on_share = node[len("S:\\") :].replace("\\", "/")
        assert service.content(on_share) == f.read_bytes()
    assert notes == []


def test_dry_run_of_an_azure_files_preset_is_network_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a dry run opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(fileshare, "share_client", no_network)
    monkeypatch.setattr(submit, "upload_for_plan", no_network)
    tex = tmp_path / "tex" / "a.png"
    tex.parent.mkdir()
    tex.write_bytes(b"png")
    scene = tmp_path / "shot.ma"
    scene.write_text(
        '//Maya ASCII 2024 scene\nrequires maya "2024";\n'
        f'createNode file -n "file1";\n\tsetAttr ".ftn" -type "string" "{tex}";\n',
        encoding="utf-8",
    )
    result = submit.submit_scene(scene, load_preset(EXAMPLE), FrameRange.parse("1-2"), dry_run=True)
    assert result.upload is None and result.status is None
    assert tex in {a.path for a in result.assets.present}
    # The example's pool is Linux: the share is CIFS-mounted below the mounts folder.
    assert result.job.node_scene == "$AZ_BATCH_NODE_MOUNTS_DIR/share/" + str(scene).lstrip("/")


def test_submit_uploads_a_file_share_plan_to_the_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file-share branch of submit: assets to the share, the job's own files to blob."""
    service = FakeFilesService("show-abc")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", CONNECTION_STRING)
    real_client = fileshare.share_client
    monkeypatch.setattr(
        fileshare, "share_client", lambda a, s, **kw: real_client(a, s, transport=service)
    )
    written: dict[str, Any] = {}
    submitted: list[Any] = []

    class Runner:
        def submit(self, job: Any, *, wait: bool, progress: Any) -> None:
            submitted.append(job)

    monkeypatch.setattr(submit, "backend_for", lambda p, b=None: Runner())
    monkeypatch.setattr(submit, "container_client", lambda name, **kw: name)
    monkeypatch.setattr(
        submit, "ensure_container", lambda c: written.setdefault("containers", []).append(c)
    )
    monkeypatch.setattr(
        submit,
        "write_job",
        lambda c, job_id, entries, files, **kw: written.update(job=(c, entries, set(files))),
    )
    monkeypatch.setattr(submit, "write_job_spec", lambda c, job: written.update(spec=(c, job.job_id)))
    maya = tmp_path / "maya-bin"  # this machine has Maya: the local node could render it
    maya.mkdir()
    (maya / "Render").write_text("#!/bin/sh\nexit 0\n")
    (maya / "Render").chmod(0o755)
    monkeypatch.setenv("PATH", f"{maya}{os.pathsep}{os.environ['PATH']}")
    tex = tmp_path / "tex" / "a.png"
    tex.parent.mkdir()
    tex.write_bytes(b"png" * 10)
    scene = tmp_path / "shot.ma"
    scene.write_text(
        '//Maya ASCII 2024 scene\nrequires maya "2024";\n'
        f'createNode file -n "file1";\n\tsetAttr ".ftn" -type "string" "{tex}";\n',
        encoding="utf-8",
    )
    p = preset('[backend]\nkind = "local"\n')
    result = submit.submit_scene(scene, p, FrameRange.parse("1"))
    assert result.upload is not None and result.upload.uploaded_files == 2  # scene + texture
    assert service.content(str(tex).lstrip("/")) == tex.read_bytes()
    assert service.content(str(scene).lstrip("/")) == scene.read_bytes()
    assert written["job"][1] == {}  # nodes read the share; no blob sync manifest entries
    assert submitted and submitted[0].job_id == result.job.job_id
    again = submit.submit_scene(scene, p, FrameRange.parse("1"))
    assert again.upload is not None and again.upload.uploaded_bytes == 0
