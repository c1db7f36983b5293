"""The dialog's preset choice: a path typed or browsed, and the presets used recently.

A relative path is read against the scene's folder, never against the
application's working folder (which is wherever Maya or 3ds Max was started
from, e.g. its ``bin`` folder). The recent list is kept in the user's Qt
settings, newest first.
"""

from __future__ import annotations

from pathlib import Path

from azrender.qt.binding import QtCore, QtWidgets

RECENT_KEY = "recentPresets"
RECENT_LIMIT = 8


def resolve_preset(text: str, scene_dir: Path | None) -> Path:
    """The preset file ``text`` names: ``~`` expanded, a relative path taken from the scene's folder.

    >>> resolve_preset("shows/abc.toml", Path("/proj/shot010")).as_posix()
    '/proj/shot010/shows/abc.toml'
    >>> resolve_preset("/shows/abc.toml", Path("/proj")).as_posix()
    '/shows/abc.toml'
    """
    path = Path(text.strip()).expanduser()
    if not path.is_absolute() and scene_dir is not None:
        path = scene_dir / path
    return path


def remember(recent: list[str], path: Path, limit: int = RECENT_LIMIT) -> list[str]:
    """``recent`` with ``path`` moved to the front, without repeats, at most ``limit`` long.

    >>> remember(["/a.toml", "/b.toml"], Path("/b.toml"))
    ['/b.toml', '/a.toml']
    """
    text = str(path)
    return [text, *[p for p in recent if p != text]][:limit]


def settings_store() -> QtCore.QSettings:
    """Where the recent list lives: the user's settings for azrender (registry, plist or .conf)."""
    return QtCore.QSettings("azrender", "submit-dialog")


def load_recent(store: QtCore.QSettings) -> list[str]:
    value = store.value(RECENT_KEY, [])
    if isinstance(value, str):  # one entry comes back as a plain string on some platforms
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [str(v) for v in value if str(v)]


def save_recent(store: QtCore.QSettings, recent: list[str]) -> None:
    store.setValue(RECENT_KEY, recent)
    store.sync()


class PresetPicker(QtWidgets.QWidget):
    """The preset row: a path field, a file browser and the Recent menu.

    ``chosen`` is emitted when the artist picks or finishes typing a preset.
    """

    chosen = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QtWidgets.QLineEdit()
        self.edit.setPlaceholderText("the show's preset, e.g. shows/abc.toml")
        self.edit.editingFinished.connect(self.chosen.emit)
        browse = QtWidgets.QPushButton("…")
        browse.setToolTip("Choose the show's preset (.toml)")
        browse.clicked.connect(self._browse)
        self.recent_button = QtWidgets.QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setToolTip("Presets used from this machine, newest first")
        self.recent_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_button.setMenu(QtWidgets.QMenu(self.recent_button))
        self.recent_button.menu().aboutToShow.connect(self._fill_recent)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)
        row.addWidget(self.recent_button)

    def path(self, scene_dir: Path | None) -> Path | None:
        """The chosen preset file (see :func:`resolve_preset`), or None when nothing is typed."""
        text = self.edit.text().strip()
        return resolve_preset(text, scene_dir) if text else None

    def remember(self, scene_dir: Path | None) -> None:
        """Put the chosen preset at the top of the Recent menu."""
        path = self.path(scene_dir)
        if path is not None:
            store = settings_store()
            save_recent(store, remember(load_recent(store), path))

    def _browse(self) -> None:
        path, _filter = QtWidgets.QFileDialog.getOpenFileName(
            self, "Choose a preset", self.edit.text(), "Presets (*.toml)"
        )
        if path:
            self._use(path)

    def _fill_recent(self) -> None:
        menu = self.recent_button.menu()
        menu.clear()
        recent = load_recent(settings_store())
        for path in recent:
            action = menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self._use(p))
        if not recent:
            menu.addAction("(no presets used yet)").setEnabled(False)

    def _use(self, path: str) -> None:
        self.edit.setText(path)
        self.chosen.emit()
