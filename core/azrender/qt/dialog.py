"""The "Render on Azure" submit dialog, shared by Maya and 3ds Max.

(Over 450 lines: one window whose slots share its state; the parts that stand alone are
:mod:`.files`, :mod:`.presets`, :mod:`.widgets`, :mod:`.tasks` and :mod:`.monitor`.)

It shows what the application's :class:`~azrender.qt.session.AppSession`
reports (scene, frames, renderer, cameras, render layers), lets the artist pick
a preset, chunk size and backend, lists the scene's files with the missing
ones first, and submits through :func:`azrender.submit.submit_scene` on a pool
thread with a progress bar. The second tab is the :class:`~azrender.qt.monitor.JobMonitor`.

Everything slow runs off the UI thread; the application is only asked on the
UI thread, where its API is safe to call.
"""

from __future__ import annotations

import os
from pathlib import Path

from azrender.backends import BACKENDS
from azrender.errors import AzrenderError, UsageError
from azrender.model import AssetSet, FrameRange, RenderOptions
from azrender.preflight import Report
from azrender.presets import Preset, load_preset
from azrender.progress import Progress, human_size
from azrender.qt.binding import QtCore, QtGui, QtWidgets
from azrender.qt.files import MISSING_COLOR, FilesPanel
from azrender.qt.monitor import JobMonitor
from azrender.qt.presets import PresetPicker
from azrender.qt.session import AppSession, SceneInfo
from azrender.qt.tasks import Task, TaskRunner
from azrender.qt.widgets import StepBar, say, status_label
from azrender.submit import PreflightBlocked, Submission, scan_scene, submit_scene

PRESET_ENV = "AZRENDER_PRESET"
FROM_PRESET = "from preset"


# preset, backend override, frames, render options, frames per task
DryRunSettings = tuple[Preset, "str | None", FrameRange, RenderOptions, int]


class SubmitDialog(QtWidgets.QDialog):
    """Submit the application's open scene to Azure (or the local node), and watch its jobs."""

    # Emitted when a submit has been handed to the backend (a Submission), and
    # when a dependency check finished (an AssetSet): tests and hosts listen here.
    submitted = QtCore.Signal(object)
    checked = QtCore.Signal(object)

    def __init__(
        self,
        session: AppSession,
        *,
        preset: Path | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.pool = QtCore.QThreadPool(self)
        self.runner = TaskRunner(self.pool)
        self.assets: AssetSet | None = None
        self.submission: Submission | None = None
        self.planned: Submission | None = None  # the last check's dry run (job and findings)
        self.preflight: Report | None = None
        self._scene_text = ""
        self._submit_task: Task | None = None
        self._closing = False
        self.setWindowTitle("Render on Azure")
        self.setObjectName("azrenderSubmitDialog")

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self._build_submit_tab(), "Submit")
        self.monitor = JobMonitor(self.settings, self.pool)
        self.tabs.addTab(self.monitor, "Jobs")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.tabs)

        default = preset or (Path(os.environ[PRESET_ENV]) if os.environ.get(PRESET_ENV) else None)
        if default is not None:
            self.preset_edit.setText(str(default))
        self.reload_scene()
        self.fit_to_screen()

    def fit_to_screen(self, width: int = 760, height: int = 640) -> None:
        """``width`` x ``height``, or less where the screen (at its scaling) has less room."""
        screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        if room is not None:
            width, height = min(width, int(room.width() * 0.95)), min(height, int(room.height() * 0.9))
        self.setMinimumSize(min(self.minimumSizeHint().width(), width), min(240, height))
        self.resize(width, height)

    # -- building ---------------------------------------------------------------

    def _build_submit_tab(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        self.scene_label = QtWidgets.QLabel()
        self.scene_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long scene path must not widen the dialog past the screen: elided, whole in the tooltip.
        self.scene_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                       QtWidgets.QSizePolicy.Policy.Preferred)
        self.warning_label = QtWidgets.QLabel()
        self.warning_label.setStyleSheet(f"color: {MISSING_COLOR};")
        self.warning_label.setWordWrap(True)

        self.preset_picker = PresetPicker()
        self.preset_picker.chosen.connect(self._preset_changed)
        self.preset_edit = self.preset_picker.edit

        self.start_spin = self._frame_spin()
        self.end_spin = self._frame_spin()
        self.step_spin = QtWidgets.QSpinBox()
        self.step_spin.setRange(1, 100000)
        self.chunk_spin = QtWidgets.QSpinBox()
        self.chunk_spin.setRange(1, 100000)
        self.chunk_spin.setToolTip("Frames per task: one task renders this many frames in a row")
        frames_row = QtWidgets.QHBoxLayout()
        for label, widget in (("start", self.start_spin), ("end", self.end_spin),
                              ("step", self.step_spin), ("frames per task", self.chunk_spin)):
            frames_row.addWidget(QtWidgets.QLabel(label))
            frames_row.addWidget(widget)
        frames_row.addStretch(1)

        self.renderer_label = QtWidgets.QLabel()
        self.camera_combo = QtWidgets.QComboBox()
        self.layers_list = QtWidgets.QListWidget()
        self.layers_list.setMaximumHeight(80)
        self.backend_combo = QtWidgets.QComboBox()
        self.backend_combo.addItems([FROM_PRESET, *BACKENDS])
        self.strict_check = QtWidgets.QCheckBox("Refuse to submit when files are missing")

        form = QtWidgets.QFormLayout()
        form.addRow("Preset", self.preset_picker)
        form.addRow("Frames", frames_row)
        form.addRow("Renderer", self.renderer_label)
        form.addRow("Camera", self.camera_combo)
        form.addRow("Render layers", self.layers_list)
        form.addRow("Backend", self.backend_combo)
        form.addRow("", self.strict_check)

        self.files = FilesPanel()
        self.files.check_button.clicked.connect(self.check_dependencies)
        # The parts hosts and tests reach for by name.
        self.check_button, self.assets_label = self.files.check_button, self.files.summary
        self.assets_table, self.findings_list = self.files.table, self.files.findings

        self.progress_bar = StepBar()
        self.status_label = status_label()
        self.submit_button = QtWidgets.QPushButton("Submit")
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the upload; the job is not submitted")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_submit)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.progress_bar, 1)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(close)

        # On a small or 200 % screen the settings scroll; Submit and Cancel stay in view.
        body = QtWidgets.QWidget()
        body_layout = QtWidgets.QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.scene_label)
        body_layout.addWidget(self.warning_label)
        body_layout.addLayout(form)
        body_layout.addWidget(self.files, 1)
        self.settings_area = QtWidgets.QScrollArea()
        self.settings_area.setWidgetResizable(True)
        self.settings_area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.settings_area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.settings_area.setWidget(body)
        layout = QtWidgets.QVBoxLayout(page)
        layout.addWidget(self.settings_area, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        return page

    @staticmethod
    def _frame_spin() -> QtWidgets.QSpinBox:
        spin = QtWidgets.QSpinBox()
        spin.setRange(-1_000_000, 1_000_000)
        return spin

    # -- scene ------------------------------------------------------------------

    def reload_scene(self) -> None:
        """Ask the application for the scene's settings again (on the UI thread)."""
        try:
            info = self.session.scene_info()
        except AzrenderError as exc:
            self.info: SceneInfo | None = None
            self._scene_text = "No scene"
            self.scene_label.setText("No scene")
            self._say(str(exc), error=True)
            self.submit_button.setEnabled(False)
            self.check_button.setEnabled(False)
            return
        self.info = info
        self._scene_text = f"{info.scene.name} — {info.scene.parent}  ({info.app})"
        self.scene_label.setToolTip(str(info.scene))
        self._elide_scene_label()
        self.warning_label.setText(
            "The scene has unsaved changes: the farm renders the file as saved on disk."
            if info.modified else ""
        )
        self.start_spin.setValue(info.start)
        self.end_spin.setValue(info.end)
        self.step_spin.setValue(max(1, info.step))
        resolution = f", {info.resolution[0]}x{info.resolution[1]}" if info.resolution else ""
        self.renderer_label.setText((info.renderer or "as saved in the scene") + resolution)
        self.camera_combo.clear()
        self.camera_combo.addItems(list(info.cameras) or ["as saved in the scene"])
        self.layers_list.clear()
        for layer in info.layers:
            item = QtWidgets.QListWidgetItem(layer)
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Checked)
            self.layers_list.addItem(item)
        self.submit_button.setEnabled(True)
        self.check_button.setEnabled(True)

    def _elide_scene_label(self) -> None:
        metrics = self.scene_label.fontMetrics()
        width = max(self.scene_label.width(), 80)
        self.scene_label.setText(metrics.elidedText(
            self._scene_text, QtCore.Qt.TextElideMode.ElideMiddle, width))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide_scene_label()

    def frames(self) -> FrameRange:
        """The frame range from the start/end/step fields."""
        start, end, step = self.start_spin.value(), self.end_spin.value(), self.step_spin.value()
        if end < start:
            raise UsageError(f"the end frame {end} is before the start frame {start}",
                             hint="set end to the start frame or later")
        spec = f"{start}-{end}" + (f"x{step}" if step != 1 else "")
        return FrameRange.parse(spec)

    def selected_camera(self) -> str | None:
        if self.info is None or not self.info.cameras:
            return None
        return self.camera_combo.currentText()

    def selected_layers(self) -> list[str]:
        items = (self.layers_list.item(i) for i in range(self.layers_list.count()))
        return [i.text() for i in items if i.checkState() == QtCore.Qt.CheckState.Checked]

    def render_options(self) -> RenderOptions:
        """The chosen camera and ticked layers, for ``submit_scene(render=...)``.

        No cameras or layers reported means "as saved in the scene". A scene
        with layers but none ticked would render nothing, so that is refused.
        """
        layers = tuple(self.selected_layers())
        if self.layers_list.count() and not layers:
            raise UsageError("no render layer ticked", hint="tick the render layers to render")
        return RenderOptions(camera=self.selected_camera(), layers=layers)

    # -- preset -----------------------------------------------------------------

    def _preset_changed(self) -> None:
        try:
            preset, _backend = self.settings()
        except AzrenderError as exc:
            self._say(str(exc), error=True)
            return
        self.chunk_spin.setValue(preset.render.chunk)
        self._say(f"preset {preset.name}: backend {preset.backend.kind}")

    def settings(self) -> tuple[Preset, str | None]:
        """The preset and the backend override chosen here; raises a one-line AzrenderError."""
        path = self.preset_picker.path(self.info.scene.parent if self.info is not None else None)
        if path is None:
            raise UsageError("no preset chosen", hint="pick the show's preset file (.toml)")
        preset = load_preset(path)
        backend = self.backend_combo.currentText()
        return preset, None if backend == FROM_PRESET else backend

    # -- dependencies -------------------------------------------------------------

    def check_dependencies(self) -> None:
        """List the scene's files: from the application when it can tell, else by scanning the file."""
        if self.info is None:
            return
        try:
            found = self.session.dependencies()
        except AzrenderError as exc:
            self._say(str(exc), error=True)
            return
        scene = self.info.scene
        planned = self._dry_run_settings()
        if found is not None:
            # The application's own list is what it shows; with a preset, a dry run of the
            # saved file adds the pre-flight findings (what would fail on the farm).
            self._show_assets(found)
            if planned is not None:
                task = Task(lambda progress: self._plan(scene, planned, progress))
                task.signals.done.connect(self._show_plan)
                task.signals.failed.connect(self._check_failed)
                self._run(task)
            return
        self.check_button.setEnabled(False)
        self._say(f"scanning {scene.name} …")
        if planned is None:
            task = Task(lambda progress: scan_scene(scene, progress)[1])
        else:  # with a preset: a dry run also gives the pre-flight report
            task = Task(lambda progress: self._plan(scene, planned, progress))
        task.signals.done.connect(self._show_check)
        task.signals.failed.connect(self._check_failed)
        self._run(task)

    @staticmethod
    def _plan(scene: Path, planned: DryRunSettings, progress: Progress) -> Submission:
        """The dry run of a submit: the planned job and its pre-flight report (pool thread)."""
        preset, backend, frames, render, chunk = planned
        return submit_scene(scene, preset, frames, chunk=chunk, backend=backend,
                            dry_run=True, render=render, progress=progress)

    def _show_plan(self, result: object) -> None:
        assert isinstance(result, Submission)
        self.planned = result
        if result.preflight is not None:
            self.show_findings(result.preflight)

    def _dry_run_settings(self) -> DryRunSettings | None:
        """What a dry run needs, read on the UI thread (widgets are not for pool threads)."""
        try:
            preset, backend = self.settings()
            return preset, backend, self.frames(), self.render_options(), self.chunk_spin.value()
        except AzrenderError:  # no or bad preset: the file check still runs
            return None

    def _show_check(self, result: object) -> None:
        if isinstance(result, Submission):
            self.planned = result
            self._show_assets(result.assets)
            if result.preflight is not None:
                self.show_findings(result.preflight)
        else:
            self._show_assets(result)

    def show_findings(self, report: Report) -> None:
        """List the pre-flight findings with their severity, errors first."""
        self.preflight = report
        self.files.show_findings(report)

    def _show_assets(self, found: object) -> None:
        self.check_button.setEnabled(True)
        assert isinstance(found, AssetSet)
        self.assets = found
        self.files.show_assets(found)
        self._say("")
        self.checked.emit(found)

    def _check_failed(self, message: str) -> None:
        self.check_button.setEnabled(True)
        self._say(message, error=True)

    def missing_files(self) -> list[str]:
        """Paths of the missing files from the last check."""
        return self.files.missing_files()

    # -- submit -----------------------------------------------------------------

    def submit(self) -> None:
        """Validate on the UI thread, then scan, upload and submit on a pool thread."""
        if self.info is None:
            return
        try:
            preset, backend = self.settings()
            frames = self.frames()
            render = self.render_options()
        except AzrenderError as exc:
            self._say(str(exc), error=True)
            return
        scene, chunk, strict = self.info.scene, self.chunk_spin.value(), self.strict_check.isChecked()
        missing = self.missing_files()
        if missing and not strict and not self.confirm(
            "Files are missing",
            f"{len(missing)} file(s) the scene needs are missing (first: {missing[0]}).\n"
            "The farm renders without them. Submit anyway?",
        ):
            self._say(f"not submitted: {len(missing)} file(s) missing", error=True)
            return
        self.preset_picker.remember(self.info.scene.parent)

        def work(progress: Progress) -> Submission | Report:
            try:
                return submit_scene(scene, preset, frames, chunk=chunk, backend=backend,
                                    wait=False, strict=strict, render=render, progress=progress,
                                    cancelled=lambda: task.cancel_requested)
            except PreflightBlocked as blocked:  # the findings list says why
                return blocked.report

        self.submit_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._say(f"submitting {scene.name}, frames {frames.spec} …")
        task = Task(work)
        self._submit_task = task
        task.signals.begun.connect(self._progress_begin)
        task.signals.advanced.connect(self.progress_bar.advance)
        task.signals.noted.connect(self._say)  # a bound slot: never called once the dialog is gone
        task.signals.done.connect(self._submitted)
        task.signals.failed.connect(self._submit_failed)
        task.signals.cancelled.connect(self._submit_cancelled)
        self._run(task)

    def cancel_submit(self) -> None:
        """Stop the running submit at its next step; the job is then not submitted."""
        if self._submit_task is not None:
            self._submit_task.cancel()
            self.cancel_button.setEnabled(False)
            self._say("cancelling …")

    def confirm(self, title: str, question: str) -> bool:
        """Ask the artist yes or no (a method, so hosts and tests can answer it)."""
        answer = QtWidgets.QMessageBox.question(self, title, question)
        return bool(answer == QtWidgets.QMessageBox.StandardButton.Yes)

    def _submit_cancelled(self) -> None:
        self._submit_finished(stopped=True)
        self._say("cancelled: nothing was submitted (files already uploaded stay for next time)")
        self._close_if_asked()

    def _submit_finished(self, *, stopped: bool = False) -> None:
        """Buttons back; a submit that ``stopped`` short also clears the bar and its numbers."""
        self._submit_task = None
        self.submit_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if stopped:
            self.progress_bar.clear_step()

    def _submitted(self, result: object) -> None:
        if isinstance(result, Report):
            self._submit_finished(stopped=True)
            self.show_findings(result)
            self._say(f"not submitted: {result.summary()}; fix the errors listed", error=True)
            return
        assert isinstance(result, Submission)
        if result.preflight is not None:
            self.show_findings(result.preflight)
        self.submission = result
        self._submit_finished()
        self.progress_bar.finish()
        self._show_assets(result.assets)
        upload = result.upload
        moved = f", {upload.uploaded_files} uploaded ({human_size(upload.uploaded_bytes)})" if upload else ""
        self._say(f"submitted job {result.job.job_id}: {len(result.job.tasks)} tasks{moved}")
        self.submitted.emit(result)
        self.tabs.setCurrentWidget(self.monitor)
        self.monitor.watch()

    def _submit_failed(self, message: str) -> None:
        self._submit_finished(stopped=True)
        self._say(message, error=True)
        self._close_if_asked()

    def _progress_begin(self, label: str, total: float, unit: str) -> None:
        self.progress_bar.begin(label, total, unit)
        self.status_label.setText(f"{label} …")

    # -- plumbing ---------------------------------------------------------------

    def _run(self, task: Task) -> None:
        self.runner.start(task)

    def _say(self, text: str, *, error: bool = False) -> None:
        say(self.status_label, text, error=error)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Never block the application and never submit behind the artist's back.

        With a submit running the artist is asked; "yes" cancels it and hides the
        dialog at once, which closes for good when the work has stopped (so no
        signal reaches a deleted widget); "no" keeps it open.
        """
        if self._submit_task is not None:
            if not self._closing and not self.confirm(
                "Upload running", "A submit is uploading. Cancel it and close?"):
                event.ignore()
                return
            self._closing = True
            self.cancel_submit()
            self.hide()
            event.ignore()
            return
        self.monitor.timer.stop()
        # Checks and refreshes are short reads; a few seconds at most.
        self.pool.waitForDone(5_000)
        super().closeEvent(event)

    def _close_if_asked(self) -> None:
        if self._closing:
            self.close()


def show_only(
    open_dialogs: list[SubmitDialog],
    session: AppSession,
    parent: QtWidgets.QWidget | None,
    tab: str = "submit",
) -> SubmitDialog:
    """Open the dialog on ``session``, closing the ones in ``open_dialogs`` first.

    An application keeps one dialog at a time (a second menu click replaces the
    first); ``tab="jobs"`` opens on the job monitor and starts following jobs.
    """
    for old in open_dialogs:
        old.close()
    open_dialogs.clear()
    dialog = SubmitDialog(session, parent=parent)
    if tab == "jobs":
        dialog.tabs.setCurrentWidget(dialog.monitor)
        dialog.monitor.watch()
    dialog.show()
    open_dialogs.append(dialog)
    return dialog
