"""Sending one file of a blob upload: a small one as one Put Blob, a large one as resumable blocks.

A small file (under the large-file threshold) goes in one Put Blob: the blob
appears whole or not at all, and the service checks the body's checksum
(:func:`azrender.storage.rest.body_checksum`; the SDK path sends Content-MD5).
Where :class:`~azrender.storage.rest.BlobRest` can reach the container (Shared
Key, SAS or a token credential, no proxy) the request is sent through it, at a
fraction of the SDK's client CPU per file; otherwise through the SDK. A large
file goes as blocks (:mod:`azrender.storage.blocks`), on the same lean path
where it can (Put Block and Put Block List), else through the SDK. Every blob carries the
``xxh3`` and ``mtime_ns`` metadata of the bytes it was sent with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.progress import Progress
from azrender.storage.account import BLOB, translating
from azrender.storage.blocks import (
    BlockTarget,
    BlockUpload,
    RestBlocks,
    SdkBlocks,
    upload_in_blocks,
)
from azrender.storage.client import describe
from azrender.storage.hashing import IndexEntry
from azrender.storage.index import metadata_for
from azrender.storage.items import UploadItem, check_unchanged, vanished_as_storage_error
from azrender.storage.rest import BlobRest
from azrender.storage.retry import with_retries
from azrender.storage.uploadplan import UploadOptions

__all__ = ["FileSender"]


class FileSender:
    """Sends one file: a small one as one Put Blob (atomic, MD5-checked by the service;
    through :class:`~azrender.storage.rest.BlobRest` where it can reach the container,
    else the SDK), a large one as resumable blocks (:mod:`azrender.storage.blocks`).

    Built once per upload: the lean path, the endpoint named in messages and
    the options are worked out once, not per file.
    """

    def __init__(
        self, client: ContainerClient, options: UploadOptions, open_file: Callable[[UploadItem], BinaryIO]
    ) -> None:
        self.client = client
        self.options = options
        self.open_file = open_file
        self.rest = BlobRest.of(client)
        self.endpoint, self.container = describe(client)

    def close(self) -> None:
        if self.rest is not None:
            self.rest.close()

    def send(
        self, item: UploadItem, entry: IndexEntry, progress: Progress, data: bytes | None = None
    ) -> BlockUpload:
        """Upload one file; returns the bytes sent and the bytes found already staged.

        With ``data`` (the bytes that were hashed) the blob holds exactly what
        ``entry`` describes; a file read here again is checked not to have changed.
        """
        with translating("uploading", BLOB, self.endpoint, self.container, item.blob):
            if data is None and entry.size >= self.options.large_threshold:
                result = self._blocks(item, entry, progress)
            else:
                self._whole(item, entry, data)
                progress.advance(entry.size)
                result = BlockUpload(blocks=1, sent_bytes=entry.size, reused_bytes=0)
        if data is None:
            # The blob may hold a mix of old and new bytes; its metadata hash would be wrong.
            check_unchanged(item.local, entry)
        return result

    def _whole(self, item: UploadItem, entry: IndexEntry, data: bytes | None) -> None:
        """One Put Blob, repeated from byte 0 on a transient failure."""
        rest, meta = self.rest, metadata_for(entry)
        if rest is not None and (data is not None or entry.size < self.options.read_whole_below):
            body = data if data is not None else self._read_whole(item, entry)
            with_retries(lambda: rest.put_blob(item.blob, body, meta))
            return

        def send(body: bytes | BinaryIO) -> None:
            self.client.upload_blob(
                item.blob, body, length=entry.size, overwrite=True, metadata=meta,
                validate_content=True,
                # Below the SDK's max_single_put_size (64 MiB, above our large-file
                # threshold) this is one Put Blob: the blob appears whole or not at all.
                max_concurrency=1,
            )

        def attempt() -> None:
            if data is not None:
                send(data)
                return
            with self.open_file(item) as f:
                send(f)

        with_retries(attempt)

    def _blocks(self, item: UploadItem, entry: IndexEntry, progress: Progress) -> BlockUpload:
        target: BlockTarget = (
            RestBlocks(self.rest, item.blob) if self.rest is not None else SdkBlocks(self.client.get_blob_client(item.blob))
        )
        try:
            return upload_in_blocks(
                target,
                item.local,
                entry,
                metadata=metadata_for(entry),
                block_size=self.options.block_size,
                max_workers=self.options.block_workers,
                progress=progress,
            )
        except FileNotFoundError as exc:
            raise StorageError(f"local file vanished during upload: {item.local}") from exc
        except OSError as exc:
            if isinstance(exc, (ConnectionError, TimeoutError)):
                raise
            raise StorageError(f"cannot read {item.local}: {exc}") from exc

    def _read_whole(self, item: UploadItem, entry: IndexEntry) -> bytes:
        """The file's bytes, refused if they are not as many as were hashed."""
        with vanished_as_storage_error(item, "during"), self.open_file(item) as f:
            body = f.read()
        if len(body) != entry.size:
            raise StorageError(
                f"local file changed while it was uploading: {item.local}",
                hint="wait for whatever writes it to finish and upload again",
            )
        return body
