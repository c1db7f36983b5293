"""This installation's own wheels: what ``azrender.node`` needs, as pip would install it.

Pure reading of the running installation (no network): :func:`azrender_wheel`
zips the ``azrender`` package as it is imported now (an editable checkout ships
what it runs) with fixed timestamps, so the same code gives the same bytes;
:func:`repack` turns an installed distribution back into a wheel from the files
its RECORD lists (PEP 376/427); :func:`closure` finds what the node needs here.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import azrender
from azrender.errors import UsageError

#: What ``azrender.node`` imports beyond the standard library (sync: blob client, managed
#: identity, xxh3 hashes; progress: rich; settings: platformdirs). Not azure-batch, click,
#: the scanners: the node never imports them.
NODE_REQUIREMENTS = ("azure-storage-blob", "azure-identity", "xxhash", "rich", "platformdirs")
_EPOCH = (1980, 1, 1, 0, 0, 0)


# --- what the node needs ---------------------------------------------------------------


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(text: str) -> tuple[str, set[str], object | None]:
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - pip always vendors it
        from pip._vendor.packaging.requirements import Requirement  # type: ignore[assignment]
    req = Requirement(text)
    return req.name, set(req.extras), req.marker


def closure(requirements: Iterable[str] = NODE_REQUIREMENTS) -> list[md.Distribution]:
    """The installed distributions ``requirements`` need here, dependencies included."""
    found: dict[str, md.Distribution] = {}
    queue = [(r, set[str]()) for r in requirements]
    while queue:
        text, extras = queue.pop()
        name, wanted, marker = _requirement(text)
        if marker is not None and not any(
            marker.evaluate({"extra": e}) for e in (extras or {""})  # type: ignore[attr-defined]
        ):
            continue
        key = canonical(name)
        if key in found:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError as exc:
            raise UsageError(
                f"the node needs {name}, which is not installed with this azrender",
                hint="reinstall azrender with its dependencies (pip install azrender)",
            ) from exc
        found[key] = dist
        queue.extend((r, wanted or {""}) for r in dist.requires or ())
    return sorted(found.values(), key=lambda d: canonical(d.metadata["Name"]))


def pins() -> dict[str, str]:
    """``{distribution: version}`` of what the node needs, as installed here."""
    return {canonical(d.metadata["Name"]): d.version for d in closure()}


# --- wheels ------------------------------------------------------------------------------


def _zip(files: Iterable[tuple[str, bytes, int]]) -> bytes:
    """A deterministic zip (sorted, fixed dates) of ``(name, data, mode)``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in sorted(files):
            info = zipfile.ZipInfo(name, _EPOCH)
            info.external_attr = (mode & 0o777 | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(name: str, version: str, tag: str, files: list[tuple[str, bytes, int]], meta: dict[str, bytes]) -> tuple[str, bytes]:
    """A wheel (PEP 427) of ``files`` plus a dist-info with ``meta`` files and a fresh RECORD."""
    dist_info = f"{name}-{version}.dist-info"
    entries = [*files, *((f"{dist_info}/{k}", v, 0o644) for k, v in meta.items())]
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d, _ in sorted(entries))
    record += f"{dist_info}/RECORD,,\n"
    entries.append((f"{dist_info}/RECORD", record.encode(), 0o644))
    return f"{name}-{version}-{tag}.whl", _zip(entries)


def _package_files(package: Path, prefix: str) -> Iterator[tuple[str, bytes, int]]:
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            yield f"{prefix}/{path.relative_to(package).as_posix()}", path.read_bytes(), path.stat().st_mode


@lru_cache(maxsize=1)
def azrender_wheel() -> tuple[str, bytes]:
    """This azrender as a wheel, from the folder it is imported from (an editable checkout too).

    Its metadata requires only :data:`NODE_REQUIREMENTS`: the node installs exactly the
    staged wheels (no dependency resolution), so the client's own dependencies never
    reach it.
    """
    version = azrender.__version__
    metadata = "Metadata-Version: 2.1\nName: azrender\nVersion: {v}\n{req}".format(
        v=version, req="".join(f"Requires-Dist: {r}\n" for r in NODE_REQUIREMENTS)
    )
    wheel_meta = "Wheel-Version: 1.0\nGenerator: azrender.nodebundle.bundle\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files = list(_package_files(Path(azrender.__file__).parent, "azrender"))
    return make_wheel("azrender", version, "py3-none-any", files, {"METADATA": metadata.encode(), "WHEEL": wheel_meta.encode()})


def repack(dist: md.Distribution) -> tuple[str, bytes]:
    """An installed distribution back as a wheel: the files its RECORD lists, bytecode left out."""
    if not dist.files:
        raise UsageError(
            f"{dist.metadata['Name']} was installed without a RECORD, so it cannot be staged for the node",
            hint=f"reinstall it with pip (pip install --force-reinstall {dist.metadata['Name']})",
        )
    info_dir = next(str(f).split("/")[0] for f in dist.files if str(f).split("/")[0].endswith(".dist-info"))
    files: list[tuple[str, bytes, int]] = []
    meta: dict[str, bytes] = {}
    for rel in dist.files:
        text = str(rel).replace("\\", "/")
        if text.startswith("..") or "__pycache__" in text or text.endswith((".pyc", ".pyo")):
            continue  # console scripts (outside site-packages) and bytecode: not needed by python -m
        path = Path(str(dist.locate_file(rel)))
        if not path.is_file():
            continue
        if text.startswith(info_dir + "/"):
            leaf = text[len(info_dir) + 1 :]
            if leaf in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
                continue
            meta[leaf] = path.read_bytes()
        else:
            files.append((text, path.read_bytes(), path.stat().st_mode))
    tags = [ln.split(":", 1)[1].strip() for ln in meta.get("WHEEL", b"").decode().splitlines() if ln.startswith("Tag:")]
    name, version = info_dir[: -len(".dist-info")].rsplit("-", 1)
    return make_wheel(name, version, tags[0] if tags else "py3-none-any", files, meta)
