"""The dialog's file list: every file the scene needs, missing ones first, and the findings.

A widget of its own so the dialog keeps to the flow (settings, check, submit):
this module only shows an :class:`~azrender.model.AssetSet` and a pre-flight
:class:`~azrender.preflight.Report`.
"""

from __future__ import annotations

from azrender.model import AssetSet
from azrender.preflight import Report
from azrender.progress import human_size
from azrender.qt.binding import QtCore, QtGui, QtWidgets

ASSET_COLUMNS = ("File", "Kind", "Size", "Used by")
MISSING_COLOR = "#d9534f"
#: Pre-flight severities as the findings list shows them.
SEVERITY_COLORS = {"error": MISSING_COLOR, "warning": "#c77c02", "info": "#31708f"}


def assets_summary(assets: AssetSet) -> str:
    """One line: how many files, how big, how many missing."""
    missing = len(assets.missing)
    text = f"{len(assets.assets)} files, {human_size(assets.total_bytes)}"
    return text + (f", {missing} missing" if missing else ", none missing")


class FilesPanel(QtWidgets.QWidget):
    """"Check files" with its summary line, the table of files, and the findings below it."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.assets: AssetSet | None = None
        self.check_button = QtWidgets.QPushButton("Check files")
        self.summary = QtWidgets.QLabel("Files not checked yet")
        self.table = QtWidgets.QTableWidget(0, len(ASSET_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(ASSET_COLUMNS))
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        # Long show paths are cut in the middle (folder start and file name stay), whole in tooltips.
        self.table.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(120)
        # Pre-flight findings (what will go wrong on the farm), errors first.
        self.findings = QtWidgets.QListWidget()
        self.findings.setVisible(False)

        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.check_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.findings)

    def show_assets(self, found: AssetSet) -> None:
        """List ``found``: missing files first (what the artist has to act on), in red."""
        self.assets = found
        ordered = sorted(found.assets, key=lambda a: (a.exists, str(a.path)))
        self.table.setRowCount(len(ordered))
        red = QtGui.QBrush(QtGui.QColor(MISSING_COLOR))
        for r, asset in enumerate(ordered):
            cells = (str(asset.path), asset.kind.value,
                     human_size(asset.size) if asset.exists else "missing", asset.referrer)
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(text)
                if not asset.exists:
                    item.setForeground(red)
                self.table.setItem(r, c, item)
        self.summary.setText(assets_summary(found))
        self.summary.setStyleSheet(f"color: {MISSING_COLOR};" if found.missing else "")

    def show_findings(self, report: Report) -> None:
        """List the pre-flight findings with their severity, errors first."""
        self.findings.clear()
        for f in report.findings:
            where = f" ({f.referrer})" if f.referrer else ""
            item = QtWidgets.QListWidgetItem(f"{f.severity.upper()} {f.code}: {f.message}{where}")
            item.setToolTip(f.fix)
            item.setForeground(QtGui.QBrush(QtGui.QColor(SEVERITY_COLORS[f.severity])))
            self.findings.addItem(item)
        self.findings.setVisible(bool(report.findings))

    def missing_files(self) -> list[str]:
        """Paths of the missing files from the last check."""
        return [str(a.path) for a in self.assets.missing] if self.assets else []
