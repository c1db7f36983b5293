"""azrender's own folders: the overrides, and on Linux the XDG folders exactly as ``platformdirs`` finds them."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from azrender import settings


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG folders are read directly on Linux only")
@pytest.mark.parametrize("xdg", [None, "", "  ", "/srv/xdg", "relative/xdg"])
def test_linux_folders_are_platformdirs_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg: str | None) -> None:
    monkeypatch.delenv("AZRENDER_DATA_DIR", raising=False)
    monkeypatch.delenv("AZRENDER_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for variable in ("XDG_DATA_HOME", "XDG_CACHE_HOME"):
        if xdg is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, xdg)
    assert settings.data_dir() == platformdirs.user_data_path("azrender")
    assert settings.cache_dir() == platformdirs.user_cache_path("azrender")
    if not (xdg or "").startswith("/"):
        assert settings.cache_dir() == tmp_path / "home" / ".cache" / "azrender"
        assert settings.data_dir() == tmp_path / "home" / ".local" / "share" / "azrender"


def test_the_overrides_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AZRENDER_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("AZRENDER_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CACHE_HOME", "/elsewhere")
    assert (settings.data_dir(), settings.cache_dir()) == (tmp_path / "d", tmp_path / "c")
