"""Pre-flight findings, each produced from a real scene or a real preset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from azrender.apps import adapter_for_scene
from azrender.model import Asset, AssetKind, AssetSet, FrameRange
from azrender.preflight import Report
from azrender.preflight.checks import (
    PreflightInput,
    SceneFacts,
    run_checks,
)
from azrender.preflight.files import windows_node_path
from azrender.preflight.scene import scene_facts
from azrender.presets import Preset, parse_preset
from azrender.storage.modes import storage_plan
from azrender.submit import plan_job, scan_scene

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
BLENDS = REAL / "helio__blender-asset-tracer" / "tests" / "blendfiles"
CONN = {"AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}


def preset(text: str) -> Preset:
    return parse_preset('name = "abc"\n' + text, Path("shows/abc.toml"))


def report_for(
    assets: AssetSet, p: Preset, *, node_os: str = "linux", on_azure: bool = False,
    frames: str = "1-2", scene: SceneFacts | None = None, renderer: str | None = None,
    output_dir: Path | None = None, environ: dict[str, str] | None = None, strict: bool = False,
) -> Report:
    from azrender.model import RenderOptions

    plan = storage_plan(p, node_os=node_os)  # type: ignore[arg-type]
    adapter = adapter_for_scene(assets.scene)
    job = plan_job(assets.scene, adapter, p, FrameRange.parse(frames), None, job_id="j1", plan=plan,
                   render=RenderOptions(renderer=renderer))
    inp = PreflightInput(assets, plan, p, job, on_azure=on_azure, scene=scene or SceneFacts(),
                         output_dir=output_dir, environ=CONN if environ is None else environ)
    return run_checks(inp, strict=strict)


def codes(report: Report) -> list[tuple[str, str]]:
    return [(f.code, f.severity) for f in report.findings]


def windows_assets(scene: Path, *paths: str, size: int = 10) -> AssetSet:
    """A real scene plus files on Windows paths (they cannot exist on this Linux host)."""
    assets = AssetSet(scene=scene, app="blender", assets=[Asset.from_disk(scene, AssetKind.SCENE)])
    for i, p in enumerate(paths):
        assets.add(Asset(Path(p), AssetKind.TEXTURE, True, size, f"Image 'img{i}'"))
    return assets


@pytest.fixture
def blends() -> Path:
    if not BLENDS.is_dir():
        pytest.skip("../shared/fixtures/real is not beside this checkout")
    return BLENDS


def test_missing_files_with_their_referrer_warn(blends: Path) -> None:
    _, assets = scan_scene(blends / "missing_textures.blend")
    report = report_for(assets, preset(""))
    missing = [f for f in report.findings if f.code == "missing-file"]
    assert {(f.path, f.referrer) for f in missing} == {
        (str(a.path), a.referrer) for a in assets.missing
    }
    assert len(missing) == 2 and any("Golden Palace" in f.referrer for f in missing)
    assert all(f.severity == "warning" for f in missing) and not report.blocking


def test_preset_and_strict_promote_missing_files_to_errors(blends: Path) -> None:
    _, assets = scan_scene(blends / "missing_textures.blend")
    promoted = report_for(assets, preset('[preflight]\nerrors = "missing-file"\n'))
    assert {s for c, s in codes(promoted) if c == "missing-file"} == {"error"} and promoted.blocking
    assert report_for(assets, preset(""), strict=True).blocking
    ignored = report_for(assets, preset('[preflight]\nignore = "missing-file"\n'))
    assert "missing-file" not in {c for c, _ in codes(ignored)}


def test_files_outside_every_mapped_root_on_an_nfs_share(blends: Path) -> None:
    _, assets = scan_scene(blends / "subdir" / "doubly_linked_up.blend")
    p = preset(
        '[storage]\nmode = "nfs"\n[share]\nsource = "10.0.0.4:/exports/show"\n'
        f'[[paths]]\nsource = "{blends / "subdir"}"\ntarget = "subdir"\n'
    )
    report = report_for(assets, p)
    outside = {f.path: f.referrer for f in report.findings if f.code == "outside-mapped-roots"}
    # The scene is below the rule; the libraries it links from the folder above are not.
    assert outside == {
        str(blends / "linked_cube.blend"): "Library 'Lib'",
        str(blends / "basic_file.blend"): f"Library 'Lib' in library {blends / 'linked_cube.blend'}",
    }


def test_windows_drive_and_share_without_a_rule(blends: Path) -> None:
    assets = windows_assets(
        blends / "basic_file.blend", "P:\\show\\tex\\a.png", "D:\\Users\\me\\Desktop\\b.png",
        "\\\\fs02\\lib\\c.png",
    )
    report = report_for(assets, preset('[[paths]]\nsource = "P:\\\\show"\ntarget = "show"\n'))
    unmapped = {f.path: f for f in report.findings if f.code == "unmapped-drive"}
    assert set(unmapped) == {"D:\\Users\\me\\Desktop\\b.png", "\\\\fs02\\lib\\c.png"}
    assert "D:" in unmapped["D:\\Users\\me\\Desktop\\b.png"].message
    assert "\\\\fs02\\lib" in unmapped["\\\\fs02\\lib\\c.png"].fix
    assert unmapped["\\\\fs02\\lib\\c.png"].referrer == "Image 'img2'"


def test_long_paths_only_for_windows_nodes(blends: Path) -> None:
    deep = "P:\\" + "\\".join(["a_rather_long_folder_name"] * 10) + "\\texture.png"
    assets = windows_assets(blends / "basic_file.blend", deep, "P:\\short\\t.png")
    p = preset('[storage]\nmode = "azure-files"\n[azure_files]\naccount = "abcrender"\nshare = "show"\n')
    report = report_for(assets, p, node_os="windows")
    long = [f for f in report.findings if f.code == "long-path"]
    assert [f.path for f in long] == [deep]
    node = "S:\\P" + deep[2:]  # azure-files on a drive: the mirror below S:
    assert long[0].message.startswith(f"{len(node)} characters on the Windows node")
    assert windows_node_path(node) == node
    assert "long-path" not in {c for c, _ in codes(report_for(assets, preset("")))}


def test_names_differing_only_by_case(blends: Path) -> None:
    assets = windows_assets(blends / "basic_file.blend", "P:\\show\\Tex\\Wood.png", "p:\\show\\tex\\wood.png")
    found = [f for f in report_for(assets, preset("")).findings if f.code == "case-collision"]
    assert len(found) == 1 and "Wood.png" in found[0].message and "wood.png" in found[0].message


def test_assets_larger_than_the_temp_disk_block(blends: Path) -> None:
    assets = windows_assets(blends / "basic_file.blend", "P:\\show\\cache.vdb", size=14 << 30)
    p = preset('[backend]\nkind = "azure"\n[pool]\nvm_size = "Standard_D2s_v3"\n')
    report = report_for(assets, p, on_azure=True)
    assert ("assets-exceed-temp-disk", "error") in codes(report) and report.blocking
    assert ("consider-blobfuse", "info") in codes(report)
    # Half-full disk: only the note; the local backend: nothing.
    half = windows_assets(blends / "basic_file.blend", "P:\\show\\cache.vdb", size=8 << 30)
    assert codes(report_for(half, p, on_azure=True)) == [("consider-blobfuse", "info")]
    assert codes(report_for(assets, p, on_azure=False)) == []


def test_azcopy_on_an_existing_pool_is_noted(blends: Path) -> None:
    assets = windows_assets(blends / "basic_file.blend", "P:\\show\\a.png", size=1 << 20)
    existing = preset('[storage]\nnode_sync = "azcopy"\n[backend]\nkind = "azure"\n'
                      '[batch]\npool_mode = "existing"\npool_id = "farm"\n')
    [finding] = report_for(assets, existing, on_azure=True).findings
    assert (finding.code, finding.severity) == ("azcopy-on-existing-pool", "info")
    assert "'farm'" in finding.message and "PATH" in finding.fix
    created = preset('[storage]\nnode_sync = "azcopy"\n[backend]\nkind = "azure"\n')
    assert codes(report_for(assets, created, on_azure=True)) == []  # its start task installs azcopy
    assert codes(report_for(assets, existing, on_azure=False)) == []


def test_an_app_that_does_not_exist_for_the_nodes_os_is_an_error(blends: Path) -> None:
    from azrender_max.adapter import MaxAdapter

    assets = windows_assets(blends / "basic_file.blend", "P:\\show\\a.png", size=1 << 20)
    max_only = scene_facts(MaxAdapter(), Path("any.max"))
    assert max_only.node_systems == ("windows",)
    [local] = report_for(assets, preset(""), scene=max_only).findings
    assert (local.code, local.severity) == ("app-not-on-node-os", "error")
    assert "renders on windows nodes only, and the local node emulates a Linux Batch node" in local.message
    on_linux_pool = report_for(assets, preset('[backend]\nkind = "azure"\n'), on_azure=True, scene=max_only)
    assert on_linux_pool.blocking and 'os = "windows"' in on_linux_pool.findings[0].fix
    windows = preset('[backend]\nkind = "azure"\n[pool]\nos = "windows"\n')
    assert codes(report_for(assets, windows, node_os="windows", on_azure=True, scene=max_only)) == []
    both = SceneFacts(node_systems=("linux", "windows"))
    assert codes(report_for(assets, preset(""), scene=both)) == []


def test_azure_files_quota_and_readers(blends: Path) -> None:
    assets = windows_assets(blends / "basic_file.blend", "P:\\show\\big.exr", size=3 << 30)
    p = preset(
        '[storage]\nmode = "azure-files"\n[azure_files]\naccount = "abcrender"\nshare = "show"\n'
        '[pool]\ndedicated = 300\nspot = 200\ntask_slots = 8\n[preflight]\nshare_quota_gib = 2\n'
    )
    report = report_for(assets, p, node_os="windows")
    by_code = {f.code: f for f in report.findings}
    assert by_code["share-quota"].severity == "error" and "2 GiB quota" in by_code["share-quota"].message
    assert by_code["share-readers"].severity == "warning" and "4000 tasks" in by_code["share-readers"].message
    small = preset('[storage]\nmode = "azure-files"\n[azure_files]\naccount = "abcrender"\nshare = "show"\n')
    assert codes(report_for(assets, small, node_os="windows")) == []


def test_renderer_the_image_does_not_declare(blends: Path) -> None:
    _, assets = scan_scene(blends / "basic_file.blend")
    p = preset('[preflight]\nimage_renderers = "CYCLES BLENDER_EEVEE_NEXT"\n')
    assert codes(report_for(assets, p, renderer="cycles")) == []
    found = [f for f in report_for(assets, p, renderer="arnold").findings if f.code == "renderer-not-on-image"]
    assert len(found) == 1 and "'arnold'" in found[0].message


def test_maya_frames_outside_the_saved_range_and_renderer() -> None:
    scene = REAL / "Autodesk__maya-usd/test/testSamples/MaterialX/mtlxNodesShowcase.ma"
    if not scene.is_file():
        pytest.skip("no real fixtures")
    adapter, assets = scan_scene(scene)
    facts = scene_facts(adapter, scene)
    assert (facts.first_frame, facts.last_frame) == (1, 10) and facts.renderer
    p = preset('[preflight]\nimage_renderers = "arnold"\n')
    report = report_for(assets, p, frames="5-14", scene=facts)
    outside = [f for f in report.findings if f.code == "frames-outside-scene"]
    assert len(outside) == 1 and outside[0].message.startswith("4 frame(s) outside the scene's range 1-10: 11, 12")
    renderer = [f for f in report.findings if f.code == "renderer-not-on-image"]
    assert (facts.renderer == "arnold") == (not renderer)
    assert "frames-outside-scene" not in {c for c, _ in codes(report_for(assets, p, frames="1-10", scene=facts))}


def test_blender_adapter_has_no_scene_settings(blends: Path) -> None:
    adapter, _ = scan_scene(blends / "basic_file.blend")
    assert scene_facts(adapter, blends / "basic_file.blend") == SceneFacts(
        node_systems=("linux", "windows"), builtin_renderers=adapter.builtin_renderers)
    assert "CYCLES" in adapter.builtin_renderers


def test_unwritable_output_folder_blocks(blends: Path, tmp_path: Path) -> None:
    _, assets = scan_scene(blends / "basic_file.blend")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root writes anywhere: only the file case below then
            report = report_for(assets, preset(""), output_dir=locked / "frames")
            assert codes(report) == [("output-unwritable", "error")] and report.blocking
    finally:
        locked.chmod(0o700)
    assert codes(report_for(assets, preset(""), output_dir=tmp_path / "new" / "frames")) == []
    afile = tmp_path / "afile"
    afile.write_text("x")
    report = report_for(assets, preset(""), output_dir=afile / "frames")
    assert codes(report) == [("output-unwritable", "error")] and report.blocking
    assert "is not a folder" in report.findings[0].message


def test_credentials_that_do_not_resolve_block(blends: Path) -> None:
    _, assets = scan_scene(blends / "basic_file.blend")
    report = report_for(assets, preset(""), environ={})
    assert codes(report) == [("credentials", "error")]
    assert "account_url" in report.findings[0].message
    secret = "AccountKey=c2VjcmV0c2VjcmV0"
    bad = report_for(assets, preset(""), environ={"AZURE_STORAGE_CONNECTION_STRING": secret})
    assert codes(bad) == [("credentials", "error")]
    assert "c2VjcmV0" not in str(bad.to_json())
    with_url = preset('[storage]\naccount_url = "https://abcrender.blob.core.windows.net"\n')
    assert codes(report_for(assets, with_url, environ={})) == []


def test_output_not_collected(blends: Path) -> None:
    from dataclasses import replace

    _, assets = scan_scene(blends / "basic_file.blend")
    p = preset("")
    plan = storage_plan(p)
    job = plan_job(assets.scene, adapter_for_scene(assets.scene), p, FrameRange.parse("1-2"), None, plan=plan)
    job.tasks[1] = replace(job.tasks[1], output_files=job.tasks[1].output_files[1:])
    report = run_checks(PreflightInput(assets, plan, p, job, environ=CONN))
    assert [(f.code, f.message.split(" uploads")[0]) for f in report.findings] == [
        ("output-not-collected", f"task {job.tasks[1].task_id}")
    ]


def test_report_json_orders_errors_first() -> None:
    from azrender.preflight import Finding

    r = Report([Finding("missing-file", "warning", "m", "/a"), Finding("credentials", "error", "c")])
    doc = r.to_json()
    assert doc["blocking"] is True and doc["counts"] == {"error": 1, "warning": 1, "info": 0}
    assert [f["code"] for f in doc["findings"]] == ["credentials", "missing-file"]  # type: ignore[index]
