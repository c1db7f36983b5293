"""Reaching storage, and failing in one readable line without leaking secrets."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from azrender.errors import StorageError
from azrender.local.azurite import DEV_ACCOUNT, DEV_KEY, AzuriteServer, free_port
from azrender.storage.client import (
    container_client,
    container_client_from_url,
    ensure_container,
    public_url,
    redact,
)
from azrender.storage.upload import get_json, put_bytes

SECRET_SIG = "c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"


def test_redact_masks_account_keys_and_signatures() -> None:
    text = (
        f"DefaultEndpointsProtocol=http;AccountName=a;AccountKey={DEV_KEY};"
        "SharedAccessSignature=sv=2022&sig=abc;"
        f" and https://a.blob.core.windows.net/c?sv=2022-11-02&se=2030&sig={SECRET_SIG}&sp=r"
    )
    out = redact(text)
    assert DEV_KEY not in out
    assert SECRET_SIG not in out
    assert "sig=abc" not in out
    assert "AccountKey=***" in out
    assert "SharedAccessSignature=***" in out
    assert "&sig=***&sp=r" in out
    assert "AccountName=a" in out  # only secrets go


def test_redact_leaves_plain_text_alone() -> None:
    assert redact("cannot reach http://127.0.0.1:1/x") == "cannot reach http://127.0.0.1:1/x"


def test_public_url_drops_the_sas() -> None:
    assert public_url(f"https://a/c?sv=1&sig={SECRET_SIG}") == "https://a/c"


def test_no_configuration_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="no storage account configured") as info:
        container_client("assets")
    assert info.value.hint and "AZURE_STORAGE_CONNECTION_STRING" in info.value.hint


def test_invalid_connection_string_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountKey=hunter2;garbage")
    with pytest.raises(StorageError) as info:
        container_client("assets")
    assert "hunter2" not in str(info.value)


def _closed_port_connection_string() -> tuple[str, int]:
    port = free_port()  # bound then released: nothing listens there
    conn = (
        "DefaultEndpointsProtocol=http;"
        f"AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
    )
    return conn, port


def test_unreachable_endpoint_fails_fast_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    conn, port = _closed_port_connection_string()
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    client = container_client("assets")
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        get_json(client, "x.json")
    elapsed = time.monotonic() - started
    message = str(info.value)
    # A refused connection takes ~4 s with our retry settings; the SDK's defaults keep
    # retrying for about a minute. The bound is loose so a loaded machine does not flake.
    assert elapsed < 45
    assert f"cannot reach blob storage at http://127.0.0.1:{port}/{DEV_ACCOUNT}" in message
    assert "Azurite is running" in message
    assert DEV_KEY not in message
    assert "\n" not in message


def test_unreachable_sas_url_does_not_leak_the_signature() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/{DEV_ACCOUNT}/assets?sv=2022-11-02&sp=r&sig={SECRET_SIG}"
    client = container_client_from_url(url)
    with pytest.raises(StorageError) as info:
        ensure_container(client)
    message = str(info.value)
    assert "cannot reach blob storage" in message
    assert SECRET_SIG not in message
    assert "sig=" not in message


@pytest.mark.azurite
def test_missing_container_is_named(storage_env: str) -> None:
    name = f"nope-{uuid.uuid4().hex[:12]}"
    with pytest.raises(StorageError, match=f"container '{name}' does not exist"):
        put_bytes(container_client(name), "a.txt", b"x")


@pytest.mark.azurite
def test_wrong_key_is_a_refused_credential(
    azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string.replace(DEV_KEY, wrong)
    )
    with pytest.raises(StorageError, match="refused the credential") as info:
        ensure_container(container_client(f"auth-{uuid.uuid4().hex[:12]}"))
    assert wrong not in str(info.value)
    assert info.value.hint and "az login" in info.value.hint


@pytest.mark.azurite
def test_ensure_container_is_idempotent(storage_env: str) -> None:
    client = container_client(f"idem-{uuid.uuid4().hex[:12]}")
    ensure_container(client)
    ensure_container(client)
    assert client.exists()


@pytest.mark.azurite
def test_sas_url_client_reaches_azurite(azurite: AzuriteServer, storage_env: str) -> None:
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    name = f"sas-{uuid.uuid4().hex[:12]}"
    ensure_container(container_client(name))
    sas = generate_container_sas(
        DEV_ACCOUNT,
        name,
        account_key=DEV_KEY,
        permission=ContainerSasPermissions(read=True, write=True, list=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    client = container_client_from_url(f"{azurite.blob_endpoint}/{name}?{sas}")
    put_bytes(client, "a.json", b"[1]")
    assert get_json(client, "a.json") == [1]


@pytest.mark.azurite
def test_a_netrc_entry_for_the_storage_host_does_not_replace_the_signature(
    storage_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests would send Basic auth from ~/.netrc instead of the SDK's Shared Key header."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-the-key\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    import requests.utils

    assert requests.utils.get_netrc_auth("http://127.0.0.1:10000/x") == ("someone", "not-the-key")
    client = container_client(f"netrc-{uuid.uuid4().hex[:12]}")
    ensure_container(client)
    put_bytes(client, "a.json", b'{"ok": 1}')
    assert get_json(client, "a.json") == {"ok": 1}
