"""The node gets azrender from the job itself: request bodies, the installer on a bare Python, the local node.

Ground truth: the bodies are checked against the SDK's REST models and for what a
node would run; the installer runs on this machine's base interpreter (no azrender
importable, as on a marketplace image) and what it installs is compared with the
checkout's own files; the local node runs the very preparation task Batch gets.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import ContainerClient

import azrender
from azrender import __version__
from azrender.batch.dryrun import dry_run_document
from azrender.batch.validate import validate_body
from azrender.interpreter import bare_python
from azrender.jobs import JobRequest, build_job, node_release_command, preparation_task
from azrender.local.backend import LocalBackend
from azrender.local.node import NodeLayout, prune_node_environments
from azrender.local.state import JobStore
from azrender.model import FrameRange, JobSpec, TaskSpec
from azrender.node.contract import ENV_JOB_VERSION, PREPARATION_TASK_ID, RELEASE_TASK_ID
from azrender.nodebundle import bundle, node_install, wheels
from azrender.nodebundle.bootstrap import node_python, version_environment
from azrender.presets import parse_preset
from azrender.storage.manifest import write_job
from azrender.storage.modes import blob_copy_plan, storage_plan
from azrender_blender.adapter import BlenderAdapter

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
BASE = 'name = "show"\n[storage]\naccount_url = "https://showstore.blob.core.windows.net"\n'
#: Canonical's Jammy offer and the Batch node agent for it.
UBUNTU_2204 = '[pool]\nimage = "canonical/0001-com-ubuntu-server-jammy/22_04-lts"\nnode_agent_sku = "batch.node.ubuntu 22.04"\n'
WINDOWS_2022 = ('[pool]\nos = "windows"\nimage = "microsoftwindowsserver/windowsserver/2022-datacenter"\n'
                'node_agent_sku = "batch.node.windows amd64"\nstart_command = "choco install -y blender"\n')
REF = bundle.running_ref()
#: What a node must never be told to do: reach a package index, or pip-install into the image's Python.
FORBIDDEN = ("pip install", "pip3", "-m pip", "--break-system-packages", "python3-pip", "ensurepip", "pypi")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, str):
        yield value


def dry_run(preset_text: str, pool_mode: str) -> tuple[JobSpec, dict[str, Any]]:
    preset = parse_preset(BASE + f'[batch]\npool_mode = "{pool_mode}"\n' + preset_text, Path("show.toml"))
    request = JobRequest(scene=Path("/show/shot.blend"), app="blender", frames=FrameRange.parse("1-4"),
                         chunk_size=2, assets_container="assets", outputs_container="outputs")
    job = build_job(request, BlenderAdapter(), "shot-1", storage_plan(preset, node_os=preset.pool.os))
    return job, dry_run_document(job, preset, now=NOW, environ={})


def command_lines(doc: dict[str, Any]) -> list[str]:
    job = doc["job"]
    return [job["jobPreparationTask"]["commandLine"], job["jobReleaseTask"]["commandLine"],
            *(t["commandLine"] for t in doc["tasks"])]


def check_common(doc: dict[str, Any]) -> dict[str, Any]:
    """What every pool mode and OS shares; returns the preparation task."""
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []
    assert all(validate_body("BatchTaskCreateOptions", t) == [] for t in doc["tasks"])
    if doc["pool"] is not None:
        assert validate_body("BatchPoolCreateOptions", doc["pool"]) == []
    text = json.dumps(doc).lower()
    assert not [f for f in FORBIDDEN if f in text]
    prep = doc["job"]["jobPreparationTask"]
    assert prep["waitForSuccess"] is True  # no task starts on a node whose bootstrap failed
    [resource] = [r for r in prep["resourceFiles"] if r["blobPrefix"].startswith("azrender-node/")]
    assert resource["blobPrefix"] == f"azrender-node/{REF.bundle_id}/"
    assert resource["storageContainerUrl"].startswith("https://showstore.blob.core.windows.net/assets?")
    assert "sp=rl" in resource["storageContainerUrl"]  # the job's read+list SAS, not a pool-lifetime one
    common = {e["name"]: e["value"] for e in doc["job"]["commonEnvironmentSettings"]}
    assert common[ENV_JOB_VERSION] == __version__
    return prep


@pytest.mark.parametrize("pool_mode", ["create", "existing", "auto"])
def test_ubuntu_2204_every_pool_mode_installs_the_bundle_in_the_preparation_task(pool_mode: str) -> None:
    _, doc = dry_run(UBUNTU_2204, pool_mode)
    prep = check_common(doc)
    script = shlex.split(prep["commandLine"])
    assert script[:2] == ["/bin/bash", "-c"] and len(script) == 3
    steps = script[2].split(" && ")
    home = f"$AZ_BATCH_NODE_SHARED_DIR/azrender/{REF.bundle_id}"
    assert steps[0].startswith("command -v python3 >/dev/null || {")  # no python3: one line, exit 3
    # The image's own python3 (3.10 on 22.04) runs the stdlib installer from the resource files.
    assert steps[1] == f'python3 azrender-node/{REF.bundle_id}/install.py --target "{home}"'
    assert steps[-1] == f'"{home}/venv/bin/python" -m azrender.node sync --job shot-1'
    # Every later node command is the bundle's Python through a shell (Batch expands no variables itself).
    for line in command_lines(doc)[1:]:
        argv = shlex.split(line)
        assert argv[:4] == ["/bin/bash", "-c", f'exec "{home}/venv/bin/python" "$@"', "azrender-node"], line
        assert argv[4:6] == ["-m", "azrender.node"]
    start = (doc["pool"] or doc["job"]["poolInfo"].get("autoPoolSpecification", {}).get("pool") or {}).get("startTask")
    assert start is None  # nothing left for a start task to do on this preset: azrender comes with the job
    if pool_mode != "existing":
        spec = doc["pool"] or doc["job"]["poolInfo"]["autoPoolSpecification"]["pool"]
        assert spec["virtualMachineConfiguration"]["nodeAgentSKUId"] == "batch.node.ubuntu 22.04"


@pytest.mark.parametrize("pool_mode", ["create", "existing", "auto"])
def test_windows_2022_gets_the_staged_python_before_anything_calls_it(pool_mode: str) -> None:
    _, doc = dry_run(WINDOWS_2022, pool_mode)
    prep = check_common(doc)
    home = rf"C:\ProgramData\azrender\{REF.bundle_id}"
    python = rf"{home}\python\python.exe"
    assert prep["commandLine"] == (
        rf'cmd /c "azrender-node\{REF.bundle_id}\bootstrap.cmd {home} && {python} -m azrender.node sync --job shot-1"'
    )
    # No bare `python` anywhere: every node command names the bundle's interpreter.
    for line in command_lines(doc):
        assert line.count("-m azrender.node") == line.count(f"{python} -m azrender.node") == 1, line
    assert doc["job"]["jobReleaseTask"]["commandLine"] == f"{python} -m azrender.node release --job shot-1"
    if pool_mode != "existing":
        spec = doc["pool"] or doc["job"]["poolInfo"]["autoPoolSpecification"]["pool"]
        # The image setup runs first, elevated, before any job; azrender's own steps follow in the job.
        assert spec["startTask"]["commandLine"] == 'cmd /c "choco install -y blender"'
        assert spec["startTask"]["userIdentity"] == {"autoUser": {"scope": "pool", "elevationLevel": "admin"}}
        assert spec["startTask"]["waitForSuccess"] is True


def test_the_windows_bundle_carries_its_own_bootstrap_script() -> None:
    script = bundle.BOOTSTRAP_CMD
    # The embeddable zip is unpacked with PowerShell's Expand-Archive (in every Windows Server since 2016),
    # then the stdlib installer runs on that Python.
    assert "Expand-Archive -LiteralPath '%HERE%python-embed-amd64.zip'" in script
    assert '"%STAGING%\\python\\python.exe" "%HERE%install.py" --staging "%STAGING%" --target "%TARGET%"' in script
    assert "pip" not in script.lower()


def test_embeddable_python_pth_gets_site_packages(tmp_path: Path) -> None:
    """The embeddable distribution's ._pth (its documented default content) must name site-packages."""
    folder = tmp_path / "python"
    folder.mkdir()
    (folder / "python312._pth").write_text("python312.zip\n.\n\n# Uncomment to run site.main() automatically\n#import site\n")
    assert node_install.embedded_python(folder) == folder / "python.exe"
    lines = (folder / "python312._pth").read_text().splitlines()
    assert lines[:2] == ["python312.zip", "."] and "Lib\\site-packages" in lines and "import site" in lines
    assert "#import site" not in lines and (folder / "Lib" / "site-packages").is_dir()


# --- the installer on this machine's bare interpreter ------------------------------------------


@pytest.fixture(scope="module")
def built() -> Path:
    """The bundle for this interpreter, in the session's node cache."""
    return bundle.build_bundle(REF, [bundle.running_target()])


def bare_env(shared: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "AZ_BATCH_NODE_SHARED_DIR": str(shared)}


def install(python: str, folder: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python, str(folder / "install.py"), "--target", str(target)], capture_output=True,
                          text=True, timeout=300, env=bare_env(target.parent.parent), check=False)


def test_the_bundle_installs_on_a_bare_python_with_only_what_the_node_needs(built: Path, tmp_path: Path) -> None:
    bare = bare_python()
    env = bare_env(tmp_path)
    assert subprocess.run([bare, "-c", "import azrender"], env=env, capture_output=True).returncode != 0, (
        f"{bare} is not bare: it imports azrender")
    target = tmp_path / "shared" / "azrender" / REF.bundle_id
    start = time.monotonic()
    done = install(bare, built, target)
    took = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"azrender node: installed azrender {__version__} ({bundle.running_target().key}) in {target}"
    python = target / "venv" / "bin" / "python"
    probe = ("import azrender, sys, importlib.util; print(azrender.__file__); "
             "print(importlib.util.find_spec('click') is None, importlib.util.find_spec('azure.batch') is None)")
    out = subprocess.run([str(python), "-c", probe], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert Path(out[0]).is_relative_to(target / "venv")
    assert out[1:] == ["True", "True"]  # the client's own dependencies (click, azure-batch) stay off the node
    # What runs on the node is this checkout's code, byte for byte.
    installed = Path(out[0]).parent
    here = Path(azrender.__file__).parent
    for rel in ("node/sync.py", "node/watch.py", "storage/download.py"):
        assert (installed / rel).read_bytes() == (here / rel).read_bytes()
    version = subprocess.run([str(python), "-m", "azrender.node", "version"], env=env, capture_output=True, text=True)
    assert (version.returncode, version.stdout.strip()) == (0, f"azrender {__version__}")
    # A node that has the bundle skips the install.
    again = install(bare, built, target)
    assert again.returncode == 0 and "already installed" in again.stdout
    print(f"install {took:.1f}s")


def test_a_bundle_built_for_a_job_without_a_version_still_names_this_clients(built: Path) -> None:
    """A job built by hand may carry no AZRENDER_JOB_VERSION, so its ref has none: the listing the
    node installs from names this client's version all the same (it checks that version)."""
    listing = built / f"{bundle.running_target().key}.json"
    listing.unlink()  # the session's listing: written afresh, from the ref without a version
    folder = bundle.build_bundle(bundle.NodeBundleRef(REF.bundle_id, ""), [bundle.running_target()])
    assert folder == built
    written = json.loads(listing.read_text())
    assert (written["azrender"], written["bundle"]) == (__version__, REF.bundle_id)


def test_a_tampered_wheel_fails_the_install_with_one_line(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(built, copy)
    wheel = next(p for p in (copy / "wheels").glob("xxhash-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[100] ^= 0xFF
    wheel.write_bytes(bytes(data))
    target = tmp_path / "shared" / "azrender" / REF.bundle_id
    done = install(bare_python(), copy, target)
    assert done.returncode == 3
    assert done.stderr.strip() == (
        f"error: azrender node bootstrap: staged wheel wheels/{wheel.name} is missing or does not match its hash; "
        "submit again")
    assert not target.exists() and not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def other_python() -> str | None:
    """A CPython of another minor version, as a node image with another python3 would have."""
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in ("3.10", "3.12", "3.13"):
        # pyenv's shims exist for inactive versions too, so each candidate is run.
        for found in (shutil.which(f"python{version}"), *map(str, pyenv.glob(f"{version}*/bin/python{version}"))):
            if version != mine and found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
                return found
    return None


def test_a_python_the_bundle_has_no_wheels_for_is_named_in_one_line(built: Path, tmp_path: Path) -> None:
    python = other_python()
    if python is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs a second CPython (3.10, 3.12 or 3.13) to check the wrong-Python message")
        pytest.skip("no other CPython on this machine")
    target = tmp_path / "shared" / "azrender" / REF.bundle_id
    done = install(python, built, target)
    assert done.returncode == 3
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: azrender node bootstrap: this node's Python 3.")
    assert f"which has {bundle.running_target().key}" in line and not target.exists()


def test_without_the_venv_module_the_pep405_layout_still_isolates(tmp_path: Path) -> None:
    """Where the image's Python lacks a working venv module, the hand-made PEP 405 layout is used."""
    code = ("import sys; sys.modules['venv'] = None; sys.path.insert(0, sys.argv[1]); import node_install; "
            "from pathlib import Path; print(node_install.make_venv(Path(sys.argv[2])))")
    env = bare_env(tmp_path)
    made = subprocess.run([bare_python(), "-c", code, str(Path(node_install.__file__).parent), str(tmp_path / "v")],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
    probe = "import sys, sysconfig; print(sys.prefix != sys.base_prefix, sysconfig.get_path('purelib'))"
    isolated, purelib = subprocess.run([made, "-c", probe], env=env, capture_output=True, text=True,
                                       check=True).stdout.split()
    assert isolated == "True" and Path(purelib).is_relative_to(tmp_path / "v") and Path(purelib).is_dir()


def test_a_node_with_another_azrender_version_refuses_the_job(tmp_path: Path) -> None:
    env = {**bare_env(tmp_path), ENV_JOB_VERSION: "0.0.1"}
    done = subprocess.run([sys.executable, "-m", "azrender.node", "release", "--job", "j1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: this node runs azrender {__version__} but the job was submitted with azrender 0.0.1; "
        "the job's preparation task installs the submitter's version: check that it ran on this node"]
    env[ENV_JOB_VERSION] = __version__
    ok = subprocess.run([sys.executable, "-m", "azrender.node", "release", "--job", "j1"], env=env,
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr


# --- the local node boots the same way --------------------------------------------------------


def boot_job(container: ContainerClient, job_id: str) -> JobSpec:
    """A job that only boots: the preparation task Batch gets, one task asking where azrender comes from."""
    write_job(container, job_id, {}, {"remap.py": b"# nothing to remap\n"})
    probe = "import azrender, sys; print(azrender.__file__); print(sys.executable)"
    return JobSpec(
        job_id=job_id, app="blender", scene=Path("/s.blend"), frames=FrameRange.parse("1"), chunk_size=1,
        assets_container=container.container_name, outputs_container="outputs",
        preparation=preparation_task(job_id, blob_copy_plan(), {"AZRENDER_ASSETS_CONTAINER": container.container_name}),
        release=TaskSpec(RELEASE_TASK_ID, node_release_command(job_id)),
        tasks=[TaskSpec("frames-001", f"{node_python(REF, 'linux')} -c {shlex.quote(probe)}")],
        environment=version_environment(REF),
    )


@pytest.mark.azurite
def test_the_local_node_boots_from_a_bare_python_through_the_preparation_task(
    storage_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "node-cache"  # a machine that never ran this bundle: the real install happens
    monkeypatch.setenv(bundle.ENV_NODE_CACHE, str(cache))
    container = ContainerClient.from_connection_string(storage_env, f"boot-{uuid.uuid4().hex[:12]}")
    container.create_container()
    timings = []
    for run in ("first", "second"):
        layout = NodeLayout(tmp_path / f"node-{run}")  # a fresh node each time; the machine keeps its envs
        backend = LocalBackend(store=JobStore(tmp_path / f"jobs-{run}"), layout=layout)
        job_id = f"boot-{run}"
        start = time.monotonic()
        backend.submit(boot_job(container, job_id), wait=True)
        timings.append(time.monotonic() - start)
        record = backend.store.load(job_id)
        prep_dir = layout.task_dir(job_id, PREPARATION_TASK_ID)
        assert record.preparation.result == "success", (prep_dir / "stderr.txt").read_text()
        log = (prep_dir / "stdout.txt").read_text()
        expected = f"installed azrender {__version__}" if run == "first" else "already installed"
        assert expected in log, log
        # The bundle came as a resource file, from Azurite, into the preparation task's folder.
        assert (prep_dir / "wd" / "azrender-node" / REF.bundle_id / "install.py").is_file()
        # The node's own python3 is bare: no azrender on it.
        shim = layout.shim_dir / "python3"
        assert subprocess.run([str(shim), "-c", "import azrender"], capture_output=True).returncode != 0
        [task] = record.tasks
        assert task.result == "success", task.failure
        where, executable = (layout.task_dir(job_id, "frames-001") / "stdout.txt").read_text().split()
        envs = (cache / "envs" / REF.bundle_id / "venv").resolve()
        assert Path(where).resolve().is_relative_to(envs) and Path(executable).parent.parent.resolve() == envs
        assert record.release.result == "success"
    print(f"boot: first {timings[0]:.1f}s, second {timings[1]:.1f}s")


def test_pip_download_for_a_node_python_takes_only_manylinux_wheels_the_node_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real pip, with azrender's flags, fed from a local folder (no index): what it picks for a node."""
    links = tmp_path / "links"
    links.mkdir()
    for dist in wheels.closure():
        name, data = wheels.repack(dist)
        (links / name).write_bytes(data)
    # A wheel for a newer glibc than Ubuntu 22.04's must not be chosen, even at a higher version.
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    tag = f"{py}-{py}-manylinux_2_39_x86_64"
    meta = {"METADATA": b"Metadata-Version: 2.1\nName: xxhash\nVersion: 99.0\n",
            "WHEEL": f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n".encode()}
    name, data = wheels.make_wheel("xxhash", "99.0", tag, [("xxhash/__init__.py", b"", 0o644)], meta)
    (links / name).write_bytes(data)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.delenv("PIP_CONSTRAINT", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # this machine's pip settings (constraints, mirrors) stay out
    here = bundle.running_target()
    got = bundle.download_wheels(bundle.Target(here.python, "linux"), {}, tmp_path / "dest")
    names = sorted(p.name for p in got)
    expected = {wheels.canonical(d.metadata["Name"]).replace("-", "_") for d in wheels.closure()}
    assert {n.split("-")[0].lower() for n in names} == expected
    assert all(bundle.node_compatible(n) for n in names), names
    assert not [n for n in names if "99.0" in n]


def test_a_machine_keeps_the_last_few_bundle_environments(tmp_path: Path) -> None:
    now = time.time()
    for age_days, name in ((0, "current"), (3, "b"), (5, "c"), (9, "old1"), (30, "old2")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "complete").write_text("{}")
        os.utime(tmp_path / name / "complete", (now - age_days * 86400, now - age_days * 86400))
    (tmp_path / ".half-1").mkdir()
    os.utime(tmp_path / ".half-1", (now - 2 * 86400, now - 2 * 86400))
    (tmp_path / ".half-2").mkdir()  # an install under way right now
    assert prune_node_environments(tmp_path, keep=3, now=now) == [".half-1", "old1", "old2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".half-2", "b", "c", "current"]
    # An environment in use keeps itself: the installer touches its marker on every job.
    again = install(bare_python(), bundle.build_bundle(REF, [bundle.running_target()]), tmp_path / "x" / REF.bundle_id)
    assert again.returncode == 0
    marker = tmp_path / "x" / REF.bundle_id / "complete"
    os.utime(marker, (now - 86400 * 100, now - 86400 * 100))
    assert install(bare_python(), bundle.bundle_folder(REF), tmp_path / "x" / REF.bundle_id).returncode == 0
    assert now - marker.stat().st_mtime < 600
