"""The remote index: which blob holds which content, written only for bytes that are there.

``.azrender/index.json`` in the assets container maps blob name to ``{hash,
size, mtime_ns}``, so an upload can skip files without listing the container.
It must never claim content a blob does not hold, so:

- each blob carries its own ``xxh3`` (and ``mtime_ns``) metadata, written in
  the same request as its bytes (Put Blob or Put Block List), so a blob's
  metadata always describes the bytes it holds;
- the index is rewritten read-modify-write under an ETag condition
  (``If-Match`` on the ETag read, ``If-None-Match: *`` when there is none):
  a 412/409 means another uploader wrote it in between, and we merge again;
- before an entry is written, the blob's metadata is checked to hold that
  hash, *after* the index was read for that write. A blob that holds another
  hash lost a race with another uploader: it is sent again (``resend``) and
  checked once more; one that still differs is written with what the blob
  really holds (its metadata), never with what we wished it held.

Why that is enough: every uploader writes its blobs before it writes the index
and checks them between reading and conditionally writing it, so whoever
overwrote a blob after our check writes the index after us, and checks too.
The check is skipped only while the index is unchanged since this upload read
it before sending anything: nobody else has finished an index write since, so
anyone who overwrote our blobs has still to write (and check) after us.

Conditional headers: "Specifying conditional headers for Blob service
operations" (learn.microsoft.com/rest/api/storageservices): If-Match fails with
412 (Precondition Failed), If-None-Match ``*`` on an existing blob with 409
(BlobAlreadyExists); Azurite answers the same (tests/core/test_storage_index.py).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings

from azrender.errors import StorageError
from azrender.storage.account import BLOB, found_or_none
from azrender.storage.client import storage_errors
from azrender.storage.documents import DEFAULT_INDEX_BLOB as DEFAULT_INDEX_BLOB
from azrender.storage.documents import INDEX_VERSION as INDEX_VERSION
from azrender.storage.documents import index_document as index_document
from azrender.storage.documents import parse_index as parse_index
from azrender.storage.hashing import IndexEntry
from azrender.storage.parallel import run_parallel
from azrender.storage.retry import with_retries

_INDEX_MERGE_ATTEMPTS = 8
#: Times one blob is sent again after losing a race before we stop fighting over it.
_RESENDS_PER_BLOB = 2


def put_bytes(
    client: ContainerClient, blob: str, data: bytes, content_type: str | None = None
) -> None:
    """Write ``data`` to ``blob`` (overwriting), with a transactional MD5 check."""
    settings = ContentSettings(content_type=content_type) if content_type else None
    with storage_errors("writing blob", client=client, blob=blob):
        with_retries(
            lambda: client.upload_blob(
                blob, data, overwrite=True, content_settings=settings, validate_content=True
            )
        )


def _read_whole(client: ContainerClient, blob: str) -> tuple[bytes, str]:
    downloader = client.download_blob(blob)
    return downloader.readall(), str(downloader.properties.etag)


def get_json_with_etag(client: ContainerClient, blob: str) -> tuple[object | None, str | None]:
    """The parsed JSON content of ``blob`` and its ETag, or ``(None, None)`` if it does not exist."""
    with storage_errors("reading blob", client=client, blob=blob):
        try:
            data, etag = with_retries(lambda: _read_whole(client, blob))
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                raise
            return None, None
    try:
        return json.loads(data), etag
    except ValueError as exc:
        raise StorageError(
            f"blob {blob!r} in container {client.container_name!r} is not valid JSON",
            hint="delete it to start afresh",
        ) from exc


def get_json(client: ContainerClient, blob: str) -> object | None:
    """The parsed JSON content of ``blob``, or ``None`` if it does not exist."""
    return get_json_with_etag(client, blob)[0]


# ---------------------------------------------------------------- the remote index


def read_index(client: ContainerClient, blob: str = DEFAULT_INDEX_BLOB) -> dict[str, IndexEntry]:
    """The remote index; empty if it does not exist yet."""
    doc, _ = get_json_with_etag(client, blob)
    return parse_index(doc, blob)


def write_if_unchanged(client: ContainerClient, blob: str, body: bytes, etag: str | None) -> None:
    """Write ``body`` only if ``blob`` still has ``etag`` (``None``: only if it does not exist)."""
    settings = ContentSettings(content_type="application/json")
    if etag is None:
        # Nobody has written an index yet: only create, never clobber.
        client.upload_blob(
            blob,
            body,
            overwrite=True,
            match_condition=MatchConditions.IfMissing,
            content_settings=settings,
        )
    else:
        client.upload_blob(
            blob,
            body,
            overwrite=True,
            etag=etag,
            match_condition=MatchConditions.IfNotModified,
            content_settings=settings,
        )


def metadata_for(entry: IndexEntry) -> dict[str, str]:
    """The metadata a blob is written with: it describes the bytes of the same request."""
    return {"xxh3": entry.hash, "mtime_ns": str(entry.mtime_ns)}


def blob_entry(client: ContainerClient, blob: str) -> IndexEntry | None:
    """What ``blob`` holds according to its own metadata; None if absent or without ``xxh3``."""
    with storage_errors("checking", client=client, blob=blob):
        props = found_or_none(
            lambda: with_retries(lambda: client.get_blob_client(blob).get_blob_properties()), BLOB
        )
    if props is None:
        return None
    meta = props.metadata or {}
    digest = meta.get("xxh3")
    if not digest:
        return None
    mtime = meta.get("mtime_ns", "0")
    return IndexEntry(digest, int(props.size), int(mtime) if mtime.isdigit() else 0)


def holds(client: ContainerClient, blob: str, entry: IndexEntry) -> bool:
    """True if ``blob`` is committed with exactly this content (hash metadata and size)."""
    return _same(blob_entry(client, blob), entry)


@dataclass
class MergeResult:
    """What a merge wrote: blobs whose content another writer replaced (their true
    entry went in, or none if unknown), and how many blobs were sent again."""

    replaced: dict[str, IndexEntry | None]
    resent: int = 0


#: Sends one blob again (its name, the entry it must hold) and returns once committed.
Resend = Callable[[str, IndexEntry], None]


def merge_index(
    client: ContainerClient,
    blob: str,
    new: dict[str, IndexEntry],
    *,
    baseline: str | None = None,
    baseline_known: bool = False,
    check: Collection[str] | None = None,
    check_all: bool = True,
    resend: Resend | None = None,
    max_workers: int = 8,
) -> MergeResult:
    """Add ``new`` to the index, each entry only once its blob is seen to hold it.

    ``baseline`` (with ``baseline_known``) is the index ETag this upload read
    before it sent anything (None: there was no index): while the index still
    has it, only the names in ``check`` (e.g. blobs a killed run sent) are checked; ``check_all=False`` checks nothing (the
    content layout, whose blob names are their hashes). ``resend`` sends a blob
    again that lost a race; without it, or after :data:`_RESENDS_PER_BLOB`
    tries, the blob's own entry is written instead (see the module docstring).
    """
    result = MergeResult(replaced={})
    want = dict(new)
    resends: dict[str, int] = {}
    for _ in range(_INDEX_MERGE_ATTEMPTS + _RESENDS_PER_BLOB):
        doc, etag = get_json_with_etag(client, blob)
        merged = parse_index(doc, blob)
        if not check_all:
            names: list[str] = []
        elif baseline_known and etag == baseline:
            names = sorted(n for n in (check or ()) if n in want)
        else:
            names = sorted(want)
        found = run_parallel(functools.partial(blob_entry, client), names, max_workers=max_workers)
        real = dict(zip(names, found, strict=True))
        lost = [n for n in names if not _same(real[n], want[n])]
        retry = [n for n in lost if resend is not None and resends.get(n, 0) < _RESENDS_PER_BLOB]
        if retry:
            assert resend is not None
            for n in retry:
                resends[n] = resends.get(n, 0) + 1
            run_parallel(lambda n: resend(n, want[n]), retry, max_workers=max_workers)
            result.resent += len(retry)
            continue  # read the index again, then check again: only then write
        for n in lost:
            truth = real[n]
            result.replaced[n] = truth
            if truth is None:
                merged.pop(n, None)
                want.pop(n)
            else:
                want[n] = truth
        merged.update(want)
        # Compact: the C encoder (indent would force the pure-Python one, seconds
        # for a large index) and a smaller body to move on every submit.
        body = json.dumps(index_document(merged), separators=(",", ":")).encode()
        with storage_errors("writing the remote index", client=client, blob=blob):
            try:
                with_retries(functools.partial(write_if_unchanged, client, blob, body, etag))
                return result
            except (ResourceModifiedError, ResourceExistsError):
                # 412/409: another uploader changed the index (or our own write's
                # answer was lost and the retry met its ETag change); merge again.
                continue
    raise StorageError(
        f"could not update the remote index {blob!r}: it kept changing under us",
        hint="another upload is writing to the same container; try again",
    )


def _same(real: IndexEntry | None, entry: IndexEntry) -> bool:
    return real is not None and real.hash == entry.hash and real.size == entry.size
