"""Reach an Azure Files share, and turn its SDK failures into one line the user can act on.

Credentials follow :mod:`azrender.storage.client`: ``AZURE_STORAGE_CONNECTION_STRING``
when set (it must be for the share's account), otherwise
``https://<account>.file.core.windows.net`` with ``DefaultAzureCredential``
(``token_intent="backup"``, which the Files data plane requires for OAuth)::

    client = share_client(preset.azure_files.account, preset.azure_files.share)
    with share_errors("creating a folder", client, "P/show"):
        ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.core.pipeline.transport import HttpTransport
from azure.storage.fileshare import ExponentialRetry, ShareClient

from azrender.errors import StorageError
from azrender.storage.account import (
    CONNECTION_STRING_ENV,
    FILES,
    connection_account,
    endpoint_of,
    files_account_url,
    translating,
)
from azrender.storage.client import CONNECTION_TIMEOUT_S, READ_TIMEOUT_S, RETRY_TOTAL

__all__ = ["ensure_share", "share_client", "share_errors"]


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
        named = connection_account(conn)
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
    return endpoint_of(client.url, client.share_name)


@contextmanager
def share_errors(what: str, client: ShareClient, path: str | None = None) -> Iterator[None]:
    """Map azure-core failures inside the block to one-line :class:`StorageError` s.

    The message names the share, the file and the endpoint, never a key.
    """
    with translating(what, FILES, _endpoint(client), client.share_name, path):
        yield


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
