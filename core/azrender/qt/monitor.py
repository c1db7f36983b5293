"""The job monitor: the jobs this machine submitted, their state, and their download.

The list refreshes off the UI thread through the backend's ``jobs()`` and
keeps polling while a job is active; ``Retry`` requeues the selected job's
failed tasks (``azrender retry``); ``Download`` mirrors a job's frames and
logs into ``<folder>/<job id>/`` with :func:`azrender.storage.download.download_prefix`,
so a second download fetches only what is new.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from azrender.backends import Retried, backend_for
from azrender.model import JobStatus
from azrender.outputs import outputs_client
from azrender.presets import Preset
from azrender.progress import Progress
from azrender.qt.binding import QtCore, QtGui, QtWidgets
from azrender.qt.tasks import Task, TaskRunner
from azrender.qt.widgets import say, status_label
from azrender.storage.download import DownloadSummary, download_prefix

COLUMNS = ("Job", "State", "Done", "Failed", "Tasks", "Backend", "Why")
POLL_MS = 1500


def job_row(status: JobStatus) -> tuple[str, ...]:
    """The table cells for one job."""
    counts = status.counts
    state = status.state
    if state == "completed":
        state = "failed" if counts["failed"] else "succeeded"
    elif counts["running"]:
        state = "running"
    return (
        status.job_id,
        state,
        str(counts["succeeded"]),
        str(counts["failed"]),
        str(len(status.tasks)),
        status.backend,
        status.failure_summary(),
    )


def failure_details(status: JobStatus) -> str:
    """Every failed task's one-line reason, one per line (the row's tooltip)."""
    return "\n".join(f"{t.task_id}: {t.failure or f'exit code {t.exit_code}'}"
                     for t in status.tasks if t.result == "failure")


def task_log(dest: Path, job_id: str, task_id: str) -> Path:
    """Where a download puts a task's stderr (jobs.py uploads it to ``<job>/logs/<task>/``)."""
    return dest / job_id / "logs" / task_id / "stderr.txt"


def download_job(preset: Preset, job_id: str, dest: Path, progress: Progress) -> DownloadSummary:
    """A job's frames and logs into ``dest/<job id>/``; only new files move."""
    client = outputs_client(preset, job_id)
    return download_prefix(client, f"{job_id}/", dest / job_id, progress=progress)


class JobMonitor(QtWidgets.QWidget):
    """Job list with state, and a download of the selected job."""

    # Emitted with the new list after every refresh, and the summary after a download.
    refreshed = QtCore.Signal(object)
    downloaded = QtCore.Signal(object)
    retried = QtCore.Signal(object)  # the backend's Retried

    def __init__(
        self,
        settings: Callable[[], tuple[Preset, str | None]],
        pool: QtCore.QThreadPool,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        """``settings`` returns the preset and backend override chosen in the dialog (may raise)."""
        super().__init__(parent)
        self._settings = settings
        self._runner = TaskRunner(pool)
        self._refreshing = False
        self._downloading: tuple[str, Path] = ("", Path())  # the job and folder of the running download
        self.jobs: list[JobStatus] = []

        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.table.verticalHeader().setVisible(False)

        self.refresh_button = QtWidgets.QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.dest_edit = QtWidgets.QLineEdit(str(Path.home() / "azrender-output"))
        browse = QtWidgets.QPushButton("…")
        browse.setToolTip("Choose the folder that downloads go to")
        browse.clicked.connect(self._browse)
        self.download_button = QtWidgets.QPushButton("Download")
        self.download_button.setToolTip("Frames and logs of the selected job into <folder>/<job id>/")
        self.download_button.clicked.connect(self.download_selected)
        self.log_button = QtWidgets.QPushButton("Show log")
        self.log_button.setToolTip("Open the downloaded stderr of the selected job's first failed task")
        self.log_button.clicked.connect(self.show_log)
        self.retry_button = QtWidgets.QPushButton("Retry")
        self.retry_button.setToolTip("Render the selected job's failed tasks again (`azrender retry`)")
        self.retry_button.clicked.connect(self.retry_selected)
        self.status = status_label()

        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.refresh_button)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        row.addWidget(QtWidgets.QLabel("Download to"))
        row.addWidget(self.dest_edit, 3)
        row.addWidget(browse)
        row.addWidget(self.download_button)
        row.addWidget(self.log_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.status)

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)

    # -- refresh ----------------------------------------------------------------

    def refresh(self) -> None:
        """Ask the backend for the job list off the UI thread (one request at a time)."""
        if self._refreshing:
            return
        chosen = self._chosen_settings()
        if chosen is None:
            self.timer.stop()
            return
        preset, backend = chosen
        self._refreshing = True
        task = Task(lambda _p: backend_for(preset, backend).jobs())
        task.signals.done.connect(self._show_jobs)
        task.signals.failed.connect(self._refresh_failed)
        self._run(task)

    def watch(self) -> None:
        """Refresh now and keep polling while any job is active."""
        self.refresh()
        self.timer.start()

    def _show_jobs(self, jobs: object) -> None:
        self._refreshing = False
        assert isinstance(jobs, list)
        selected = self.selected_job()
        # Newest first: the job just submitted is on top.
        self.jobs = sorted(jobs, key=lambda s: s.created, reverse=True)
        self.table.setRowCount(len(self.jobs))
        for r, status in enumerate(self.jobs):
            details = failure_details(status)
            for c, text in enumerate(job_row(status)):
                item = QtWidgets.QTableWidgetItem(text)
                if details:
                    item.setToolTip(details)
                self.table.setItem(r, c, item)
            if status.job_id == selected or (selected is None and r == 0):
                self.table.selectRow(r)
        if not any(s.state == "active" for s in self.jobs):
            self.timer.stop()
        self.refreshed.emit(self.jobs)

    def _refresh_failed(self, message: str) -> None:
        self._refreshing = False
        self.timer.stop()
        self._say(message, error=True)

    def selected_job(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item is not None else None

    # -- download ---------------------------------------------------------------

    def _browse(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Download to", self.dest_edit.text())
        if folder:
            self.dest_edit.setText(folder)

    def download_selected(self) -> None:
        job_id = self.selected_job()
        if job_id is None:
            self._say("select a job in the list first", error=True)
            return
        text = self.dest_edit.text().strip()
        if not text:
            self._say("choose a folder to download to", error=True)
            return
        chosen = self._chosen_settings()
        if chosen is None:
            return
        preset = chosen[0]
        dest = Path(text).expanduser()
        self.download_button.setEnabled(False)
        self._say(f"downloading {job_id} …")
        task = Task(lambda progress: download_job(preset, job_id, dest, progress))
        self._downloading = (job_id, dest)  # one at a time: the button is off until it ends
        task.signals.done.connect(self._downloaded)  # a bound slot: never called once the window is gone
        task.signals.failed.connect(self._download_failed)
        self._run(task)

    def _downloaded(self, summary: object) -> None:
        self.download_button.setEnabled(True)
        assert isinstance(summary, DownloadSummary)
        job_id, dest = self._downloading
        self._say(
            f"{summary.files} files of {job_id}: {summary.downloaded_files} downloaded, "
            f"{summary.skipped_files} already there — {dest / job_id}"
        )
        self.downloaded.emit(summary)

    def _download_failed(self, message: str) -> None:
        self.download_button.setEnabled(True)
        self._say(message, error=True)

    def show_log(self) -> Path | None:
        """Open the selected job's first failed task's downloaded stderr; the path, or None."""
        status = self._selected_status()
        failed = [t for t in status.tasks if t.result == "failure"] if status else []
        if status is None or not failed:
            self._say("select a job with a failed task first", error=True)
            return None
        log = task_log(Path(self.dest_edit.text().strip()).expanduser(), status.job_id, failed[0].task_id)
        if not log.is_file():
            self._say(f"{log} is not here yet: download the job first", error=True)
            return None
        QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(log)))
        self._say(f"{failed[0].task_id}: {failed[0].failure or ''} — {log}")
        return log

    # -- retry ------------------------------------------------------------------

    def retry_selected(self) -> None:
        """Requeue the selected job's failed tasks off the UI thread, then follow the list."""
        status = self._selected_status()
        if status is None or not status.counts["failed"]:
            self._say("select a job with a failed task first", error=True)
            return
        chosen = self._chosen_settings()
        if chosen is None:
            return
        preset, backend = chosen
        job_id = status.job_id
        self.retry_button.setEnabled(False)
        self._say(f"requeuing the failed tasks of {job_id} …")
        task = Task(lambda _p: backend_for(preset, backend).retry(job_id))
        task.signals.done.connect(self._retried)
        task.signals.failed.connect(self._retry_failed)
        self._run(task)

    def _retried(self, done: object) -> None:
        self.retry_button.setEnabled(True)
        assert isinstance(done, Retried)
        self._say(done.line())
        self.retried.emit(done)
        self.watch()  # the requeued tasks (or the new job) show up and are followed

    def _retry_failed(self, message: str) -> None:
        self.retry_button.setEnabled(True)
        self._say(message, error=True)

    # -- plumbing ---------------------------------------------------------------

    def _selected_status(self) -> JobStatus | None:
        return next((s for s in self.jobs if s.job_id == self.selected_job()), None)

    def _chosen_settings(self) -> tuple[Preset, str | None] | None:
        """The dialog's preset and backend; None, said on the status line, when they are not usable."""
        try:
            return self._settings()
        except Exception as exc:  # the dialog shows what is wrong with the preset
            self._say(str(exc), error=True)
            return None

    def _run(self, task: Task) -> None:
        self._runner.start(task)

    def _say(self, text: str, *, error: bool = False) -> None:
        say(self.status, text, error=error)
