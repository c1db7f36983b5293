"""Upload a job's files to an Azure Files share, moving only what changed.

Storage mode ``azure-files``: render nodes see the share on a drive letter, a
UNC path or a CIFS mount (the share root is the plan's ``node_root``), so each
file goes to the place below the share root where the node will look for it::

    plan = storage_plan(preset, node_os="windows")
    items, outside = items_for_share(paths, plan)        # share path = node path minus the root
    client = share_client(preset.azure_files.account, preset.azure_files.share)
    summary = upload_to_share(client, items, cache=HashCache(), progress=progress)

What is already there is known from an index on the share
(``.azrender/index.json``, the same document as the blob index) and, for files
the index does not vouch for, from the file's own ``xxh3`` metadata (one HEAD),
so a resubmit of an unchanged scene uploads 0 bytes and a lost index costs
requests, not bytes.

A file is written to a hidden part file beside its final name (``.azpart-…``,
named by the target path and the content hash), in ranges of at most 4 MiB
(the service's Put Range limit, each with a Content-MD5 and retried on
transient failures), and only renamed over the final name once every range is
in. The part carries the content's ``xxh3`` and the source's ``mtime_ns`` from
its creation and the rename keeps them, so a file under its final name is
always complete and described: a node never opens half a texture, and an
interrupted upload leaves the previous version intact.

An interrupted upload (network gone, process killed) resumes: the next run
finds the part, checks that it was made for the same content (size, ``xxh3``
and source ``mtime_ns`` in its metadata; otherwise it is created afresh) and
asks the service which ranges hold data (List Ranges), then sends only the
missing ones. The service is the record, so no local journal is needed: a
range the service applied just before the kill counts, one it never got is
sent again.

Stale parts are not swept: a part is left only by an interrupted upload, is
resumed by the next upload of the same content, and is hidden and never named
by the index, so nodes never open it. A part whose source changed before it
was finished (different content, different name) stays behind until someone
deletes ``.azpart-*`` files by hand; that costs storage, never correctness.

Credentials follow :mod:`azrender.storage.client`: ``AZURE_STORAGE_CONNECTION_STRING``
when set (it must be for the share's account), otherwise
``https://<account>.file.core.windows.net`` with ``DefaultAzureCredential``
(``token_intent="backup"``, which the Files data plane requires for OAuth).
Concurrent uploads by two artists are safe for the files (each rename is
atomic); the index is merged just before it is replaced, and a lost race only
costs the other artist's next upload a HEAD per file.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.core.pipeline.transport import HttpTransport
from azure.storage.fileshare import ExponentialRetry, ShareClient, ShareFileClient

from azrender.errors import StorageError
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.blocks import _read_at
from azrender.storage.client import (
    CONNECTION_STRING_ENV,
    CONNECTION_TIMEOUT_S,
    READ_TIMEOUT_S,
    RETRY_TOTAL,
    failure_kind,
    first_line,
    public_url,
    redact,
)
from azrender.storage.hashing import HashCache, IndexEntry, hash_bytes
from azrender.storage.index import index_document, parse_index
from azrender.storage.modes import StoragePlan
from azrender.storage.parallel import run_parallel
from azrender.storage.retry import TRANSPORT_ERRORS, with_retries
from azrender.storage.upload import (
    UploadItem,
    UploadSummary,
    _entry_or_error,
    check_unchanged,
    plan_uploads,
)

__all__ = [
    "RANGE_SIZE",
    "SHARE_INDEX",
    "items_for_share",
    "part_name",
    "read_share_index",
    "share_client",
    "share_errors",
    "share_path",
    "upload_for_plan",
    "upload_to_share",
]

Retry = Callable[[Callable[[], Any]], Any]

#: The index of what the share holds: share path -> {hash, size, mtime_ns}.
SHARE_INDEX = ".azrender/index.json"
#: The largest body one Put Range may carry.
RANGE_SIZE = 4 << 20
#: Part files are hidden (leading dot) and named by target and content.
PART_PREFIX = ".azpart-"
_INDEX_MERGE_ATTEMPTS = 3

# Characters Azure Files refuses in a name (and control characters); a trailing
# dot would be silently stripped by the SDK, so it is refused as well.
_BAD_NAME = re.compile(r'["\\:|<>*?\x00-\x1f]')
_MAX_COMPONENT = 255
_MAX_PATH = 2048


# ---------------------------------------------------------------- reaching the share


def files_account_url(account: str) -> str:
    """The Files endpoint of a storage account.

    >>> files_account_url("abcrender")
    'https://abcrender.file.core.windows.net'
    """
    return f"https://{account}.file.core.windows.net"


def _client_options(retry_total: int) -> dict[str, Any]:
    # Same bounds as the blob clients (see azrender.storage.client): a dead
    # endpoint fails in seconds, a blip is ridden out.
    return {
        "connection_timeout": CONNECTION_TIMEOUT_S,
        "read_timeout": READ_TIMEOUT_S,
        "retry_policy": ExponentialRetry(
            initial_backoff=1, increment_base=1, retry_total=retry_total, random_jitter_range=1
        ),
    }


def _connection_account(conn: str) -> str | None:
    """``AccountName`` of a connection string, or None.

    >>> _connection_account("DefaultEndpointsProtocol=https;AccountName=abc;AccountKey=k")
    'abc'
    """
    for part in conn.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "accountname":
            return value.strip()
    return None


def share_client(
    account: str,
    share: str,
    *,
    transport: HttpTransport[Any, Any] | None = None,
    retry_total: int = RETRY_TOTAL,
) -> ShareClient:
    """A client for ``share`` of ``account``: connection string when set, else Entra ID.

    ``transport`` replaces the HTTP layer (tests play the service through it);
    ``retry_total`` is the SDK's own per-request retries.
    """
    options = _client_options(retry_total)
    if transport is not None:
        options["transport"] = transport
    conn = os.environ.get(CONNECTION_STRING_ENV, "").strip()
    if conn:
        named = _connection_account(conn)
        if named is not None and named.lower() != account.lower():
            raise StorageError(
                f"{CONNECTION_STRING_ENV} is for storage account {named!r}, "
                f"but the preset's share {share!r} is on account {account!r}",
                hint="use that account's connection string, or unset it to use `az login`",
            )
        try:
            return ShareClient.from_connection_string(conn, share, **options)
        except ValueError as exc:
            raise StorageError(
                f"{CONNECTION_STRING_ENV} is not a valid storage connection string",
                hint="copy it again from the portal (Access keys) or unset it to use `az login`",
            ) from exc
    # Imported here: azure.identity is slow to import and not needed with a key.
    from azure.identity import DefaultAzureCredential

    return ShareClient(
        account_url=files_account_url(account),
        share_name=share,
        credential=DefaultAzureCredential(),
        token_intent="backup",  # the Files data plane accepts OAuth only with this intent
        **options,
    )


def _endpoint(client: ShareClient) -> str:
    url = public_url(client.url).rstrip("/")
    suffix = "/" + client.share_name
    return redact(url[: -len(suffix)] if url.endswith(suffix) else url)


@contextmanager
def share_errors(what: str, client: ShareClient, path: str | None = None) -> Iterator[None]:
    """Map azure-core failures inside the block to one-line :class:`StorageError` s.

    The message names the share, the file and the endpoint, never a key.
    """
    try:
        yield
    except StorageError:
        raise
    except AzureError as exc:
        raise _translate(exc, what, client, path) from exc
    except TRANSPORT_ERRORS as exc:
        raise StorageError(
            f"{what}: the connection to Azure Files at {_endpoint(client)} kept breaking: "
            f"{first_line(exc)}",
            hint="check the network and run again; files already complete are not sent again",
        ) from exc


def _translate(exc: AzureError, what: str, client: ShareClient, path: str | None) -> StorageError:
    endpoint = _endpoint(client)
    where = f"share {client.share_name!r}" + (f", file {path!r}" if path else "")
    status = getattr(exc, "status_code", None)
    code = str(getattr(exc, "error_code", "") or "")
    kind = failure_kind(exc)
    if kind == "unreachable":
        return StorageError(
            f"{what}: cannot reach Azure Files at {endpoint}: {first_line(exc)}",
            hint="check [azure_files] account in the preset, and the network",
        )
    if kind == "refused":
        return StorageError(
            f"{what}: Azure Files refused the credential for {where} at {endpoint}",
            hint="sign in with `az login` (needs the Storage File Data Privileged Contributor role) "
            "or check the connection string",
        )
    if code == "ShareNotFound" or (status == 404 and not path):
        return StorageError(
            f"{what}: share {client.share_name!r} does not exist at {endpoint}",
            hint="create it in the portal or check [azure_files] share in the preset",
        )
    if kind == "not-found":
        return StorageError(f"{what}: {where} not found at {endpoint}", hint="upload again")
    if kind == "answered":
        return StorageError(
            f"{what}: Azure Files answered {status} {code}".rstrip()
            + f" for {where} at {endpoint}",
            hint=first_line(exc),
        )
    return StorageError(f"{what}: request failed for {where} at {endpoint}: {first_line(exc)}")


def ensure_share(client: ShareClient) -> None:
    """Create the share unless it exists.

    With Entra ID the data plane cannot create shares (403): the share must then
    exist already, which the first directory or file request reports clearly.
    """
    with share_errors("creating the share", client):
        try:
            client.create_share()
        except ResourceExistsError:
            pass
        except HttpResponseError as exc:
            if exc.status_code != 403:
                raise


# ---------------------------------------------------------------- where files go (pure)


def _parts(path: str, node_os: str) -> list[str]:
    pattern = r"[\\/]" if node_os == "windows" else r"/"
    return [p for p in re.split(pattern, path) if p]


def share_path(local: str | Path, plan: StoragePlan) -> str | None:
    """The path on the share of a local file, or None when the node sees it elsewhere.

    It is the file's node path with the share root (the drive, UNC path or
    mount folder of ``plan.node_root``) taken off; a ``[[paths]]`` rule with an
    absolute target outside the share puts a file elsewhere.

    >>> from azrender.paths import PathMap
    >>> plan = StoragePlan("azure-files", "windows", "S:", PathMap("S:", "windows"), "file-share", False)
    >>> share_path("P:\\\\show\\\\tex\\\\a b.png", plan)
    'P/show/tex/a b.png'
    """
    node = plan.pathmap.map(str(local))
    if node is None:
        return None
    root = _parts(plan.node_root, plan.node_os)
    parts = _parts(node, plan.node_os)
    head = parts[: len(root)]
    if plan.node_os == "windows":
        root, head = [p.casefold() for p in root], [p.casefold() for p in head]
    if head != root or len(parts) == len(root):
        return None
    return posixpath.normpath("/".join(parts[len(root) :]))


def name_problem(path: str) -> str | None:
    """Why Azure Files cannot hold ``path`` (a share path), or None when it can.

    >>> name_problem("P/show/a b ü.png") is None
    True
    >>> name_problem("mnt/show/what?.png")
    "'what?.png' contains a character Azure Files refuses"
    """
    if len(path) > _MAX_PATH:
        return f"the path is longer than {_MAX_PATH} characters"
    for part in path.split("/"):
        if _BAD_NAME.search(part):
            return f"{part!r} contains a character Azure Files refuses"
        if part.endswith("."):
            return f"{part!r} ends with a dot"
        if len(part) > _MAX_COMPONENT:
            return f"{part[:40]!r}... is longer than {_MAX_COMPONENT} characters"
    return None


def items_for_share(
    paths: Iterable[str | Path], plan: StoragePlan
) -> tuple[list[UploadItem], list[str]]:
    """Upload items (``blob`` = share path) and the files the node sees outside the share.

    Raises :class:`StorageError` listing files whose names Azure Files cannot hold.
    """
    items: list[UploadItem] = []
    outside: list[str] = []
    bad: list[str] = []
    # Azure Files names are case-insensitive: /show/A.png and /show/a.png would be one file.
    seen: dict[str, str] = {}
    for p in paths:
        target = share_path(p, plan)
        if target is None:
            outside.append(str(p))
            continue
        problem = name_problem(target)
        if problem is None and seen.setdefault(target.casefold(), target) != target:
            problem = f"differs only in case from {seen[target.casefold()]!r}"
        if problem:
            bad.append(f"{p} ({problem})")
            continue
        items.append(UploadItem(local=Path(p), blob=target))
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise StorageError(
            f"{len(bad)} file(s) cannot be stored on Azure Files: {shown}",
            hint='rename them, or use storage mode "blob-copy"',
        )
    return items, outside


def part_name(path: str, content_hash: str) -> str:
    """The hidden part file a share path is written to before it is renamed into place.

    Named by target and content, so the same file and content reuse one name
    and two files in a folder never share one.

    >>> part_name("P/show/a.png", "ab" * 16).startswith("P/show/.azpart-")
    True
    """
    folder, _, _ = path.rpartition("/")
    name = PART_PREFIX + hash_bytes(f"{path}\n{content_hash}".encode())
    return f"{folder}/{name}" if folder else name


def parent_dirs(paths: Iterable[str]) -> list[str]:
    """Every folder the paths need, parents before children.

    >>> parent_dirs(["a/b/c.png", "a/d.png", "e.png"])
    ['a', 'a/b']
    """
    dirs: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return sorted(dirs, key=lambda d: (d.count("/"), d))


# ---------------------------------------------------------------- the index on the share


def read_share_index(client: ShareClient, retry: Retry = with_retries) -> dict[str, IndexEntry]:
    """The share's index; empty when there is none yet."""
    with share_errors("reading the share index", client, SHARE_INDEX):
        try:
            data = retry(lambda: client.get_file_client(SHARE_INDEX).download_file().readall())
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ShareNotFound":
                raise
            return {}
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise StorageError(
            f"the share index {SHARE_INDEX!r} on share {client.share_name!r} is not valid JSON",
            hint="delete it; the next upload checks each file's metadata instead",
        ) from exc
    return parse_index(doc, SHARE_INDEX)


def _write_share_index(
    client: ShareClient, new: dict[str, IndexEntry], retry: Retry = with_retries
) -> None:
    """Merge ``new`` into the index and replace it whole (part file, then rename)."""
    _make_dirs(client, parent_dirs([SHARE_INDEX]), retry)
    merged = {**read_share_index(client, retry), **new}
    body = json.dumps(index_document(merged), separators=(",", ":")).encode()
    tmp = part_name(SHARE_INDEX, uuid.uuid4().hex)  # never resumed: small, rewritten whole
    with share_errors("writing the share index", client, SHARE_INDEX):
        part = client.get_file_client(tmp)
        digest = hash_bytes(body)
        retry(lambda: part.upload_file(body, metadata={"xxh3": digest}))
        _rename_into_place(client, part, SHARE_INDEX, digest, retry)


# ---------------------------------------------------------------- one file


def _metadata(entry: IndexEntry) -> dict[str, str]:
    return {"xxh3": entry.hash, "mtime_ns": str(entry.mtime_ns)}


def _make_dirs(client: ShareClient, dirs: list[str], retry: Retry) -> None:
    """Create ``dirs`` (parents first); folders that exist already are fine."""
    by_depth: dict[int, list[str]] = {}
    for d in dirs:
        by_depth.setdefault(d.count("/"), []).append(d)

    def make(d: str) -> None:
        with share_errors("creating a folder", client, d), suppress(ResourceExistsError):
            retry(lambda: client.get_directory_client(d).create_directory())

    for depth in sorted(by_depth):
        run_parallel(make, by_depth[depth], max_workers=8)


def _already_there(client: ShareClient, path: str, entry: IndexEntry, retry: Retry) -> bool:
    """True when the file on the share carries this content's hash and size."""
    with share_errors("checking", client, path):
        try:
            props = retry(lambda: client.get_file_client(path).get_file_properties())
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ShareNotFound":
                raise
            return False
    meta = props.metadata or {}
    return bool(meta.get("xxh3") == entry.hash and props.size == entry.size)


def _has_hash(client: ShareClient, path: str, content_hash: str) -> bool:
    try:
        props = client.get_file_client(path).get_file_properties()
    except ResourceNotFoundError:
        return False
    return bool((props.metadata or {}).get("xxh3") == content_hash)


def _rename_into_place(
    client: ShareClient, part: ShareFileClient, final: str, content_hash: str, retry: Retry
) -> None:
    """Rename ``part`` over ``final`` (atomic on the service).

    A rename that finds its part gone checks whether ``final`` carries the
    hash already: an earlier attempt succeeded and only its answer was lost, or
    another upload of the same content (which shares the part) renamed it first.
    """

    def rename() -> None:
        try:
            part.rename_file(final, overwrite=True, ignore_read_only=True)
        except ResourceNotFoundError:
            if _has_hash(client, final, content_hash):
                return
            raise

    retry(rename)


def _part_matches(props: Any, entry: IndexEntry) -> bool:
    """True when a part was created for exactly this content (size, hash, source mtime)."""
    meta = props.metadata or {}
    return bool(
        props.size == entry.size
        and meta.get("xxh3") == entry.hash
        and meta.get("mtime_ns") == str(entry.mtime_ns)
    )


def written_spans(ranges: Iterable[Any]) -> list[tuple[int, int]]:
    """Merge List Ranges answers (inclusive ``start``/``end``) into sorted ``[start, end)`` spans.

    Cleared ranges (``cleared=True``, only in snapshot diffs) hold no data.

    >>> written_spans([{"start": 512, "end": 1023}, {"start": 0, "end": 511}, {"start": 2048, "end": 2099}])
    [(0, 1024), (2048, 2100)]
    """
    spans: list[tuple[int, int]] = []
    for r in sorted(
        (int(r["start"]), int(r["end"]) + 1) for r in ranges if not r.get("cleared", False)
    ):
        if spans and r[0] <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], r[1]))
        else:
            spans.append(r)
    return spans


def covered(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when ``[start, end)`` lies inside one of the merged ``spans``.

    >>> covered([(0, 1024)], 256, 1024), covered([(0, 1024)], 512, 1025)
    (True, False)
    """
    return any(s <= start and end <= e for s, e in spans)


def _resumable(
    part: ShareFileClient, entry: IndexEntry, retry: Retry
) -> list[tuple[int, int]] | None:
    """The spans already written to ``part`` when it holds this content, else None.

    None means: no part, or a part made for other content (or an older source
    mtime), which must be created afresh before any range is written.
    """
    try:
        props = retry(part.get_file_properties)
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) == "ShareNotFound":
            raise
        return None
    if not _part_matches(props, entry):
        return None
    if entry.size == 0:
        return []
    try:
        ranges = retry(lambda: list(part.list_ranges()))
    except ResourceNotFoundError:
        return None  # deleted (or renamed by another upload of the same content) meanwhile
    return written_spans(ranges)


def _upload_one(
    client: ShareClient,
    item: UploadItem,
    entry: IndexEntry,
    progress: Progress,
    retry: Retry,
    range_size: int,
    range_workers: int,
) -> tuple[int, int]:
    """Write one file to its part in ranges, then rename it into place.

    A part left by an interrupted upload of the same content is resumed: only
    the ranges the service does not hold are sent. Returns (bytes sent, bytes
    found already written).
    """
    part = client.get_file_client(part_name(item.blob, entry.hash))
    lock = threading.Lock()
    sent = 0
    with share_errors("uploading", client, item.blob):
        # A file of one range gains nothing from resuming: no HEAD, no List Ranges.
        have = _resumable(part, entry, retry) if entry.size > range_size else None
        if have is None:
            # Create File on an existing part replaces it: a stale part never leaks in.
            # The metadata is set here, before any byte, so a rename never needs to add it.
            retry(lambda: part.create_file(entry.size, metadata=_metadata(entry)))
            have = []
        starts = range(0, entry.size, range_size)
        todo = [o for o in starts if not covered(have, o, min(o + range_size, entry.size))]
        reused = entry.size - sum(min(range_size, entry.size - o) for o in todo)
        if reused:
            progress.advance(reused)

        def put(offset: int) -> None:
            nonlocal sent
            length = min(range_size, entry.size - offset)
            try:
                data = _read_at(item.local, offset, length)
            except FileNotFoundError as exc:
                raise StorageError(f"local file vanished during upload: {item.local}") from exc
            retry(lambda: part.upload_range(data, offset, length, validate_content=True))
            with lock:
                sent += length
            progress.advance(length)

        run_parallel(put, todo, max_workers=range_workers)
        # The part may mix old and new bytes; it is never renamed into place.
        check_unchanged(item.local, entry)
        _rename_into_place(client, part, item.blob, entry.hash, retry)
    return sent, reused


# ---------------------------------------------------------------- the upload


def upload_to_share(
    client: ShareClient,
    items: Iterable[UploadItem],
    *,
    cache: HashCache | None,
    progress: Progress = NO_PROGRESS,
    max_workers: int = 8,
    range_size: int = RANGE_SIZE,
    range_workers: int = 4,
    retry: Retry = with_retries,
) -> UploadSummary:
    """Upload the items (``blob`` = share path) whose content the share does not hold yet.

    The index decides first; a file it does not vouch for is looked at (its
    ``xxh3`` metadata) before its bytes are sent. A file larger than one
    range whose part an interrupted run left resumes from the ranges the
    service holds (``resumed_bytes``). The index is updated with what is now on
    the share, also when the upload stops midway.
    """
    range_size = min(max(1, range_size), RANGE_SIZE)
    unique: dict[str, UploadItem] = {}
    for item in items:
        unique.setdefault(item.blob, item)
    entries = run_parallel(
        lambda it: _entry_or_error(it, cache), unique.values(), max_workers=max_workers
    )
    hashed = {it.blob: (it, e) for it, e in zip(unique.values(), entries, strict=True)}

    ensure_share(client)
    index = read_share_index(client, retry)
    candidates = plan_uploads(hashed, index)
    present = run_parallel(
        lambda job: _already_there(client, job[0].blob, job[1], retry),
        candidates,
        max_workers=max_workers,
    )
    found = {job[0].blob: job[1] for job, there in zip(candidates, present, strict=True) if there}
    todo = [job for job, there in zip(candidates, present, strict=True) if not there]
    total = sum(e.size for _, e in todo)

    done: dict[str, IndexEntry] = dict(found)
    lock = threading.Lock()
    moved: list[tuple[int, int]] = []  # (sent, found already written) per uploaded file

    def record(job: tuple[UploadItem, IndexEntry], result: tuple[int, int]) -> None:
        with lock:
            done[job[0].blob] = job[1]
            moved.append(result)

    progress.begin("upload", total=total, unit="B")
    try:
        _make_dirs(client, parent_dirs(it.blob for it, _ in todo), retry)
        run_parallel(
            lambda job: _upload_one(
                client, job[0], job[1], progress, retry, range_size, range_workers
            ),
            todo,
            max_workers=max_workers,
            on_done=record,
        )
    except BaseException:
        # Record what arrived so the next run skips it, without hiding the real error.
        if done:
            with suppress(StorageError):
                _write_share_index(client, done, retry)
        raise
    finally:
        progress.end()
    if done:
        _write_share_index(client, done, retry)

    return UploadSummary(
        files=len(hashed),
        uploaded_files=len(todo),
        uploaded_bytes=total,
        skipped_files=len(hashed) - len(todo),
        entries={path: e for path, (_, e) in hashed.items()},
        sent_bytes=sum(sent for sent, _ in moved),
        resumed_bytes=sum(reused for _, reused in moved),
    )


def upload_for_plan(
    paths: Iterable[str | Path],
    plan: StoragePlan,
    account: str,
    share: str,
    *,
    cache: HashCache | None = None,
    progress: Progress = NO_PROGRESS,
    transport: HttpTransport[Any, Any] | None = None,
) -> UploadSummary:
    """The submit's step for ``azure-files``: every file to where ``plan`` says the node sees it.

    Files a ``[[paths]]`` rule sends outside the share are not uploaded (the
    node has them elsewhere); they are named in a progress note.
    """
    items, outside = items_for_share(paths, plan)
    if outside:
        shown = ", ".join(outside[:3]) + (
            f" and {len(outside) - 3} more" if len(outside) > 3 else ""
        )
        progress.note(f"{len(outside)} file(s) map outside the share and are not uploaded: {shown}")
    client = share_client(account, share, transport=transport)
    own_cache = cache is None
    hashes = cache if cache is not None else HashCache()
    try:
        return upload_to_share(client, items, cache=hashes, progress=progress)
    finally:
        if own_cache:
            hashes.close()
