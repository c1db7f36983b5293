"""Upload a large file as blocks, resumably: staged blocks survive a crash and are reused.

Each block's id is derived from the file's content hash, the block size and
the block's index, so the same content always gets the same ids. Before
staging, the blob's block list (committed and uncommitted) is read; blocks
already there with the right size are not sent again. Staged blocks are
invisible: the blob appears (or changes) only at ``commit_block_list``, which
happens once every block is in, so nothing ever sees half a file::

    sent = upload_in_blocks(client.get_blob_client("P/show/big.exr"), path, entry,
                            metadata={"xxh3": entry.hash})
    sent.sent_bytes, sent.reused_bytes      # what went over the wire, what was already staged

Every block goes with a Content-MD5 (``validate_content``), so the service
rejects a body corrupted on the way; each block is retried on transient
failures (:mod:`azrender.storage.retry`).

The three requests (Get Block List, Put Block, Put Block List) go through a
:class:`BlockTarget`: :class:`RestBlocks` sends them on the lean path
(:class:`~azrender.storage.rest.BlobRest`), :class:`SdkBlocks` through the
SDK's ``BlobClient`` where the lean path cannot reach the container.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobClient, ContentSettings

from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.hashing import IndexEntry
from azrender.storage.parallel import run_parallel
from azrender.storage.retry import with_retries

if TYPE_CHECKING:
    from azrender.storage.rest import BlobRest

DEFAULT_BLOCK_SIZE = 8 << 20
MAX_BLOCKS = 50_000  # the service's limit per blob
#: Stage-and-commit rounds when another uploader's commit deleted our staged
#: blocks ("Any blocks not specified in the block list are permanently
#: deleted", CommitBlockList / Put Block List docs; Azurite does the same).
COMMIT_ATTEMPTS = 3


@dataclass(frozen=True)
class BlockUpload:
    """What a block upload did: bytes staged now, bytes found staged already, block count."""

    blocks: int
    sent_bytes: int
    reused_bytes: int


def block_size_for(size: int, preferred: int = DEFAULT_BLOCK_SIZE) -> int:
    """``preferred``, doubled until the file fits in :data:`MAX_BLOCKS` blocks.

    >>> block_size_for(100 << 20, 8 << 20) == 8 << 20
    True
    >>> block_size_for(500_000 * (8 << 20), 8 << 20) == 128 << 20
    True
    """
    bs = max(1, preferred)
    while -(-size // bs) > MAX_BLOCKS:
        bs *= 2
    return bs


def block_ids(content_hash: str, size: int, block_size: int) -> list[str]:
    """The deterministic block ids of a file: same content and block size, same ids.

    All ids of a blob must have the same length (the service's rule), hence the
    fixed-width fields.

    >>> block_ids("ab" * 16, 10, 4)
    ['abababababababababababababababab-00000004-000000', 'abababababababababababababababab-00000004-000001', 'abababababababababababababababab-00000004-000002']
    """
    count = max(1, -(-size // block_size))
    return [f"{content_hash[:32]}-{block_size:08x}-{i:06d}" for i in range(count)]


def existing_blocks(blob: BlobClient) -> dict[str, int]:
    """Block id → size of every block the service holds for ``blob`` (committed or not)."""
    try:
        committed, uncommitted = blob.get_block_list("all")
    except ResourceNotFoundError:
        return {}
    return {str(b.id): int(b.size) for b in [*committed, *uncommitted]}


class BlockTarget(Protocol):
    """The block requests of one blob."""

    def existing(self) -> dict[str, int]:
        """Block id -> size of every block the service holds for the blob (committed or not)."""
        ...

    def stage(self, block_id: str, data: bytes) -> None:
        """Put Block, with the body's Content-MD5."""
        ...

    def commit(self, block_ids: list[str], metadata: dict[str, str]) -> None:
        """Put Block List: the blob becomes these blocks, in order, with ``metadata``."""
        ...


@dataclass(frozen=True)
class SdkBlocks:
    """The block requests through the SDK (``content_settings``: the blob's content headers)."""

    blob: BlobClient
    content_settings: ContentSettings | None = None

    def existing(self) -> dict[str, int]:
        return existing_blocks(self.blob)

    def stage(self, block_id: str, data: bytes) -> None:
        self.blob.stage_block(block_id, data, length=len(data), validate_content=True)

    def commit(self, block_ids: list[str], metadata: dict[str, str]) -> None:
        self.blob.commit_block_list(
            [BlobBlock(block_id=bid) for bid in block_ids], metadata=metadata, content_settings=self.content_settings
        )


@dataclass(frozen=True)
class RestBlocks:
    """The block requests of blob ``name`` on the lean path (the same requests the SDK sends)."""

    rest: BlobRest
    name: str

    def existing(self) -> dict[str, int]:
        return self.rest.block_sizes(self.name)

    def stage(self, block_id: str, data: bytes) -> None:
        self.rest.put_block(self.name, block_id, data)

    def commit(self, block_ids: list[str], metadata: dict[str, str]) -> None:
        self.rest.put_block_list(self.name, block_ids, metadata)


def read_at(path: os.PathLike[str] | str, offset: int, length: int) -> bytes:
    """``length`` bytes of ``path`` from ``offset``; a file that shrank meanwhile is an error."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise OSError(f"{path} shrank while it was uploading")
    return data


def upload_in_blocks(
    blob: BlobClient | BlockTarget,
    path: os.PathLike[str] | str,
    entry: IndexEntry,
    *,
    metadata: dict[str, str],
    content_settings: ContentSettings | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    max_workers: int = 4,
    progress: Progress = NO_PROGRESS,
    retry: Callable[[Callable[[], object]], object] = with_retries,
) -> BlockUpload:
    """Stage the blocks of ``path`` the service does not have yet, then commit them all.

    ``entry`` is the file's hash and size as hashed before the upload; block
    ids come from it, so a changed file never reuses stale blocks. ``blob``
    is a :class:`BlockTarget` or an SDK ``BlobClient`` (then ``content_settings``
    are the blob's content headers; a target brings its own).
    """
    target = SdkBlocks(blob, content_settings) if isinstance(blob, BlobClient) else blob
    bs = block_size_for(entry.size, block_size)
    ids = block_ids(entry.hash, entry.size, bs)

    def length(i: int) -> int:
        return min(bs, entry.size - i * bs)

    lock = threading.Lock()
    sent = 0
    reused = 0

    def stage(i: int) -> None:
        nonlocal sent
        data = read_at(path, i * bs, length(i))
        retry(lambda: target.stage(ids[i], data))
        with lock:
            sent += len(data)
        progress.advance(len(data))

    for attempt in range(COMMIT_ATTEMPTS):
        have = retry(target.existing)
        assert isinstance(have, dict)
        todo = [i for i, bid in enumerate(ids) if have.get(bid) != length(i)]
        if attempt == 0:
            reused = sum(length(i) for i in range(len(ids)) if i not in set(todo))
            if reused:
                progress.advance(reused)
        run_parallel(stage, todo, max_workers=max_workers)
        try:
            retry(lambda: target.commit(ids, metadata))
            break
        except HttpResponseError as exc:
            # Another uploader committed this blob in between: Put Block List
            # deletes every block not in its list, ours included. Stage the
            # missing ones again (bounded) rather than fail.
            if getattr(exc, "error_code", None) != "InvalidBlockList" or attempt + 1 >= COMMIT_ATTEMPTS:
                raise
    return BlockUpload(blocks=len(ids), sent_bytes=sent, reused_bytes=reused)
