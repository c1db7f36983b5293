"""Local disk problems and a missing job end ``azrender download``/``upload`` with one line.

A read-only, full or impossible ``--dest``, a cache folder on a full disk, and
an unknown job id: non-zero exit, one ``error:`` line that names the path and
what to do, no traceback, and nothing half-written under a final name.
The full and read-only disks are real: small tmpfs mounts (Linux, root).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from azrender.errors import EXIT_USAGE, JobError, StorageError
from azrender.storage.client import client_options, ensure_container

pytestmark = pytest.mark.azurite

BIN = Path(sys.executable).parent
MiB = 1 << 20


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "AZRENDER_DEBUG"}
    full.update(env)
    return subprocess.run(
        [str(BIN / "azrender"), *args], capture_output=True, text=True, env=full, timeout=120, check=False
    )


def one_line_error(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def job(tmp_path: Path, storage_env: str) -> tuple[Path, dict[str, str], str, dict[str, bytes]]:
    """A preset, the CLI's environment, a job id and the outputs it has in Azurite."""
    container = f"out-{uuid.uuid4().hex[:16]}"
    preset = tmp_path / "show.toml"
    preset.write_text(f'name = "show"\n[storage]\noutputs_container = "{container}"\n')
    client = ContainerClient.from_connection_string(storage_env, container, **client_options())
    ensure_container(client)
    files = {
        "frames/f_0001.exr": os.urandom(3 * MiB),
        "frames/f_0002.exr": os.urandom(3 * MiB),
        "logs/t1/stdout.txt": b"rendered\n",
    }
    for name, data in files.items():
        client.upload_blob(f"j1/{name}", data)
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": storage_env,
        "AZRENDER_CACHE_DIR": str(tmp_path / "cache"),
        "AZRENDER_DATA_DIR": str(tmp_path / "data"),
    }
    return preset, env, "j1", files


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real 1 MiB tmpfs; remount it read-only with ``remount(path, "ro")``."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mnt, str(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _final_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")]


def test_download_of_an_unknown_job_exits_non_zero_with_one_line(tmp_path: Path, job) -> None:  # type: ignore[no-untyped-def]
    preset, env, _, _ = job
    dest = tmp_path / "frames"
    done = run("download", "no-such-job", "--preset", str(preset), "--dest", str(dest), env=env)
    one_line_error(done, JobError.exit_code, "job 'no-such-job'", "nothing to download", "azrender jobs")
    assert not dest.exists()
    bad = run("download", "../j1", "--preset", str(preset), "--dest", str(dest), env=env)
    one_line_error(bad, EXIT_USAGE, "invalid job id")


def test_dest_that_is_a_file_or_below_a_file_is_refused_before_anything_moves(tmp_path: Path, job) -> None:  # type: ignore[no-untyped-def]
    preset, env, job_id, _ = job
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    done = run("download", job_id, "--preset", str(preset), "--dest", str(afile), env=env)
    one_line_error(done, EXIT_USAGE, f"--dest {afile} is a file, not a folder", "give a folder path")
    below = afile / "frames"
    done = run("download", job_id, "--preset", str(preset), "--dest", str(below), env=env)
    one_line_error(done, EXIT_USAGE, str(below), "which is a file, not a folder", "give a folder path")
    assert afile.read_text() == "x"


def test_full_dest_is_one_line_and_nothing_is_half_written(tmp_path: Path, job, small_disk) -> None:  # type: ignore[no-untyped-def]
    preset, env, job_id, files = job
    mnt, _ = small_disk
    dest = mnt / "frames"
    done = run("download", job_id, "--preset", str(preset), "--dest", str(dest), env=env)
    one_line_error(done, StorageError.exit_code, str(dest), "the disk is full", "choose another --dest")
    for p in _final_files(dest):  # whatever made it is whole
        assert p.read_bytes() == files[p.relative_to(dest).as_posix()], p


def test_read_only_dest_is_one_line(tmp_path: Path, job, small_disk) -> None:  # type: ignore[no-untyped-def]
    preset, env, job_id, _ = job
    mnt, _ = small_disk
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    done = run("download", job_id, "--preset", str(preset), "--dest", str(mnt / "frames"), env=env)
    one_line_error(done, StorageError.exit_code, str(mnt / "frames"), "read-only", "choose another --dest on a writable disk")
    assert list(mnt.iterdir()) == []


def test_cache_folder_on_a_full_disk_is_one_line(tmp_path: Path, job, small_disk) -> None:  # type: ignore[no-untyped-def]
    preset, env, _, _ = job
    mnt, _ = small_disk
    (mnt / "cache").mkdir()  # the cache folder exists; the disk under it is full
    fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError):
            for _ in range(100):  # 1 MiB in 64 KiB writes, bounded
                os.write(fd, b"\0" * 65536)
    finally:
        os.close(fd)
    folder = tmp_path / "show"
    folder.mkdir()
    for i in range(3):
        (folder / f"t{i}.png").write_bytes(os.urandom(1000))
    done = run("upload", str(folder), "--preset", str(preset), env={**env, "AZRENDER_CACHE_DIR": str(mnt / "cache")})
    line = one_line_error(done, StorageError.exit_code, str(mnt / "cache"), "the disk is full", "AZRENDER_CACHE_DIR")
    assert "AccountKey" not in line


def test_cache_folder_that_is_a_file_is_one_line(tmp_path: Path, job) -> None:  # type: ignore[no-untyped-def]
    preset, env, _, _ = job
    cache = tmp_path / "cache-is-a-file"
    cache.write_text("x")
    folder = tmp_path / "show"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"png")
    done = run("upload", str(folder), "--preset", str(preset), env={**env, "AZRENDER_CACHE_DIR": str(cache)})
    one_line_error(done, StorageError.exit_code, str(cache), "not a folder", "AZRENDER_CACHE_DIR")
    assert cache.read_text() == "x"
