"""The shared Qt dialog shows pre-flight findings at the check step and when a submit is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from pytestqt.qtbot import QtBot

from azrender.qt import FileSession, SubmitDialog

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
MISSING = REAL / "helio__blender-asset-tracer" / "tests" / "blendfiles" / "missing_textures.blend"


def test_findings_listed_with_severity_and_a_blocked_submit_says_why(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not MISSING.is_file():
        pytest.skip("../shared/fixtures/real is not beside this checkout")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
    preset = tmp_path / "show.toml"
    preset.write_text('name = "show"\n[preflight]\nerrors = "missing-file"\n', encoding="utf-8")
    dialog = SubmitDialog(FileSession(MISSING, app="blender", start=1, end=1), preset=preset)
    qtbot.addWidget(dialog)

    with qtbot.waitSignal(dialog.checked, timeout=30_000):
        dialog.check_button.click()
    rows = [dialog.findings_list.item(i).text() for i in range(dialog.findings_list.count())]
    assert len(rows) == 2 and all(r.startswith("ERROR missing-file: missing: ") for r in rows)
    assert any("(Image 'Golden Palace 2, Old Bagan')" in r for r in rows)
    assert dialog.findings_list.item(0).toolTip().startswith("fix the path in the scene")

    dialog.findings_list.clear()
    asked: list[str] = []  # missing files are confirmed first; "yes" lets the preflight refuse
    dialog.confirm = lambda title, question: (asked.append(title), True)[1]  # type: ignore[method-assign]
    dialog.submit_button.click()
    assert asked == ["Files are missing"]
    qtbot.waitUntil(lambda: "not submitted" in dialog.status_label.text(), timeout=30_000)
    assert "preflight: 2 error(s)" in dialog.status_label.text()
    assert dialog.findings_list.count() == 2 and dialog.submission is None
    assert dialog.submit_button.isEnabled()
