"""The main window: navigation, menus and shortcuts, and the life cycle of runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, QSize, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

import app

if TYPE_CHECKING:  # the window paints before any of these is imported (see ``attach``)
    from app.core.engine import Engine
    from app.core.events import RunFinished
    from app.core.plan import RunPlan
    from app.core.providers.base import ProviderKind
    from app.core.reports.data import ReportData
    from app.ui.background.bridge import EventBridge
    from app.ui.background.run_launcher import RunLauncher
    from app.ui.background.workers import RunController
    from app.ui.dialogs.sweep_dialog import SweepRequest
    from app.ui.models.run_state import RunState
    from app.ui.pages.compare_page import ComparePage
    from app.ui.pages.history_page import HistoryPage
    from app.ui.pages.live_run_page import LiveRunPage
    from app.ui.pages.models_page import ModelsPage
    from app.ui.pages.run_setup_page import RunRequest, RunSetupPage

log = logging.getLogger(__name__)

PAGES = ("Models", "Run setup", "Live run", "History", "Compare")
MODELS, SETUP, LIVE, HISTORY, COMPARE = range(len(PAGES))
CLOSE_WAIT_S = 10.0


class LoadingNote(QWidget):
    """Stands where the pages will be, its note centred; says once that it has been painted."""

    painted = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._told = False
        layout = QGridLayout(self)
        layout.addWidget(QLabel("Loading…"), 1, 1)
        for i in (0, 2):
            layout.setRowStretch(i, 1)
            layout.setColumnStretch(i, 1)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._told:
            self._told = True
            self.painted.emit()


class MainWindow(QMainWindow):
    """Owns the engine's event bridge and the run controller; pages only lay out and ask.

    Built without an engine, the window is only its frame (navigation, menus, a loading
    note), cheap enough to paint at once; ``attach`` then brings the engine and the pages."""

    engine: Engine
    bridge: EventBridge
    controller: RunController
    launcher: RunLauncher
    models_page: ModelsPage
    setup_page: RunSetupPage
    live_page: LiveRunPage
    history_page: HistoryPage
    compare_page: ComparePage

    def __init__(self, engine: Engine | None = None, *, owns_engine: bool = True) -> None:
        super().__init__()
        self._owns_engine = owns_engine
        self._closed = False
        self.pages_ready = False
        self.setWindowTitle(f"AgentGap {app.__version__}")
        self.nav = QListWidget()
        self.nav.addItems(PAGES)
        self.nav.setFixedWidth(150)
        self.nav.setSpacing(2)
        row_height = self.fontMetrics().height() + 14
        for row in range(self.nav.count()):
            self.nav.item(row).setSizeHint(QSize(0, row_height))
        self.nav.setCurrentRow(MODELS)
        self.stack = QStackedWidget()
        self.loading = LoadingNote()
        self.loading.painted.connect(lambda: QTimer.singleShot(0, self._assign_shortcuts))
        self.stack.addWidget(self.loading)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.run_status = QLabel()
        self.statusBar().addPermanentWidget(self.run_status)
        self._build_menus()
        self._restore_geometry()
        if engine is not None:
            self.attach(engine)

    def attach(self, engine: Engine) -> None:
        """Bring in the engine and build the pages in place of the loading note."""
        from app.ui.background.bridge import EventBridge
        from app.ui.background.run_launcher import RunLauncher
        from app.ui.background.workers import RunController
        from app.ui.pages.compare_page import ComparePage
        from app.ui.pages.history_page import HistoryPage
        from app.ui.pages.live_run_page import LiveRunPage
        from app.ui.pages.models_page import ModelsPage
        from app.ui.pages.run_setup_page import RunSetupPage

        self._assign_shortcuts()
        self.engine = engine
        self.bridge = EventBridge(self)
        self._unsubscribe = engine.bus.subscribe(self.bridge.submit)
        self.controller = RunController(engine, self)
        self.launcher = RunLauncher(engine, self)

        self.models_page = ModelsPage(engine)
        self.setup_page = RunSetupPage()
        self.live_page = LiveRunPage(engine.repository.transcript)
        self.history_page = HistoryPage(engine)
        self.compare_page = ComparePage(engine)
        self.stack.removeWidget(self.loading)
        self.loading.deleteLater()
        for page in (self.models_page, self.setup_page, self.live_page, self.history_page, self.compare_page):
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.currentRowChanged.connect(self._on_page_changed)

        self._connect_pages()
        self.setup_page.set_catalog(engine.catalog)
        self.setup_page.apply_defaults(engine.settings)
        self.setup_page.set_history_source(engine.repository.attempt_durations)
        if engine.catalog.errors:
            self.statusBar().showMessage(
                f"{len(engine.catalog.errors)} task file(s) could not be loaded (see the log).", 10000
            )
        for action in self._engine_actions:
            action.setEnabled(True)
        self.pages_ready = True
        page = self.nav.currentRow()  # a page chosen while loading is kept
        self.stack.setCurrentIndex(page)
        self._on_page_changed(page)
        QTimer.singleShot(0, self.models_page.refresh)

    # ---- construction ---------------------------------------------------------------

    def _action(self, text: str, shortcut: QKeySequence | str | None, slot: object) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            self._shortcuts.append((action, [shortcut]))
        action.triggered.connect(slot)
        return action

    @Slot()
    def _assign_shortcuts(self) -> None:
        """Shortcuts are given once the frame is painted: the first one makes the binding
        build every ``Qt`` enum, which takes longer than drawing the window."""
        for action, shortcuts in self._shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        self._shortcuts.clear()

    def _build_menus(self) -> None:
        self._shortcuts: list[tuple[QAction, list[QKeySequence | str]]] = []
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setToolTipsVisible(True)
        self.new_run_action = self._action("&New run", "Ctrl+N", lambda: self.show_page(SETUP))
        self.export_action = self._action("&Export…", "Ctrl+E", self.export_report)
        self.export_action.setToolTip("Save the shown run as HTML, Markdown, CSV or JSON")
        quit_action = self._action("&Quit", "Ctrl+Q", self.close)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addActions([self.new_run_action, self.export_action])
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self._engine_actions = [self.new_run_action, self.export_action]

        edit_menu = bar.addMenu("&Edit")
        self.preferences_action = self._action("&Preferences…", None, self.open_preferences)
        preferences_keys = [QKeySequence(QKeySequence.StandardKey.Preferences), "Ctrl+,"]
        self._shortcuts.append((self.preferences_action, preferences_keys))
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        edit_menu.addAction(self.preferences_action)
        self._engine_actions.append(self.preferences_action)

        run_menu = bar.addMenu("&Run")
        self.start_action = self._action("&Start", "Ctrl+R", self.start_from_setup)
        self.cancel_action = self._action("&Cancel", "Ctrl+.", self.cancel_run)
        self.cancel_action.setEnabled(False)
        self.refresh_action = self._action("&Refresh models", "F5", lambda: self.models_page.refresh())
        run_menu.addActions([self.start_action, self.cancel_action])
        run_menu.addSeparator()
        run_menu.addAction(self.refresh_action)
        self._engine_actions += [self.start_action, self.refresh_action]
        for action in self._engine_actions:
            action.setEnabled(False)  # until ``attach``

        view_menu = bar.addMenu("&View")
        for i, name in enumerate(PAGES):
            view_menu.addAction(self._action(name, f"Ctrl+{i + 1}", lambda _=False, p=i: self.show_page(p)))

        help_menu = bar.addMenu("&Help")
        about = self._action("&About AgentGap", None, self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)

    def export_report(self) -> None:
        """Export the run on the Live run page, else the one selected in History."""
        from app.ui.dialogs.export_dialog import export_run

        state = self.live_page.state
        run_id = state.run_id if state is not None else self.history_page.selected_run_id()
        if run_id is None:
            QMessageBox.information(self, "Export", "Open or run something first: there is no run to export.")
            return
        self._export = export_run(self, self.engine, run_id)

    def _connect_pages(self) -> None:
        self.bridge.events_arrived.connect(self.live_page.on_events)
        self.models_page.discovered.connect(self.setup_page.set_hosts)
        self.models_page.demo_requested.connect(self.try_demo)
        self.setup_page.start_requested.connect(self.start_run)
        self.setup_page.sweep_requested.connect(self.start_sweep)
        self.compare_page.plan_requested.connect(self.start_planned)
        self.live_page.cancel_requested.connect(self.cancel_run)
        self.live_page.setup_requested.connect(lambda: self.show_page(SETUP))
        self.history_page.open_requested.connect(self.open_run)
        self.history_page.compare_requested.connect(self.compare_runs)
        self.live_page.compare_requested.connect(lambda run_id: self.compare_runs([run_id]))
        self.live_page.failures_requested.connect(self._show_failures_of_run)
        self.compare_page.computed.connect(self._on_compared)
        self.history_page.resume_requested.connect(self.resume_run)
        self.launcher.launch_ready.connect(self._launch)
        self.launcher.run_opened.connect(self._on_run_opened)
        self.launcher.failed.connect(self._on_launch_failed)
        self.controller.run_finished.connect(self._on_run_finished)
        self.controller.run_failed.connect(self._on_run_failed)

    def show_page(self, page: int) -> None:
        self.nav.setCurrentRow(page)

    @Slot(int)
    def _on_page_changed(self, page: int) -> None:
        if page == HISTORY:
            self.history_page.reload()
        elif page == COMPARE:
            self.compare_page.reload()

    # ---- runs -----------------------------------------------------------------------

    @Slot()
    def start_from_setup(self) -> None:
        reason = self.setup_page.blocking_reason()
        if reason:
            self.show_page(SETUP)
            self.statusBar().showMessage(reason, 5000)
            return
        self.start_run(self.setup_page.request())

    @Slot(object)
    def start_run(self, request: RunRequest) -> None:
        """Store the plan (on a worker, before anything runs), then execute it."""
        if self.controller.running or not self.launcher.plan(request):
            return
        self.setup_page.set_run_active(True)
        self.statusBar().showMessage("Storing the plan…", 3000)

    @Slot(object)
    def start_sweep(self, request: SweepRequest) -> None:
        """Store an OFAT sweep of one model (on a worker), then execute it."""
        from app.core.modelref import ModelRef

        info = request.model
        ref = ModelRef(info.provider, info.host, info.name)
        engine = self.engine
        attempts = len(request.spec.cells()) * len(request.tasks) * request.spec.repeats
        self.start_planned(
            "Start sweep",
            lambda: engine.plan_sweep(ref, list(request.tasks), request.spec, name=request.name, digests={ref: info.digest}),
            cloud=([info.provider], attempts),
        )

    @Slot(str, object)
    def start_planned(
        self, title: str, make_plan: Callable[[], RunPlan], cloud: tuple[list[ProviderKind], int | None] = ([], None)
    ) -> None:
        if self.controller.running:
            self._on_launch_failed(title, "A run is in progress; cancel it or wait for it to finish.")
            return
        if self.launcher.launch_planned(title, make_plan, cloud=cloud):
            self.setup_page.set_run_active(True)
            self.statusBar().showMessage("Storing the plan…", 3000)

    @Slot(object, object, bool)
    def _launch(self, plan: RunPlan, state: RunState, resume: bool) -> None:
        self.bridge.drain()  # events of an earlier run must not reach the new state
        self.live_page.show_run(state)
        self.controller.start(plan, resume=resume)
        self.setup_page.set_run_active(True)
        self.compare_page.tuning.set_can_queue(False)
        self.history_page.set_active_run(plan.run_id)
        self.cancel_action.setEnabled(True)
        self.run_status.setText(f"Running “{plan.name}”")
        self.show_page(LIVE)

    @Slot()
    def cancel_run(self) -> None:
        if self.controller.running:
            self.controller.cancel()
            self.live_page.set_cancelling()
            self.cancel_action.setEnabled(False)

    @Slot(object)
    def _on_run_finished(self, finished: RunFinished) -> None:
        self.bridge.drain()
        self._run_ended("")
        verb = "cancelled" if finished.cancelled else "finished"
        self.run_status.setText(f"Run {verb}: {finished.completed_attempts} attempt(s) completed")
        self.compare_page.tick_runs([finished.run_id])  # its verdict then shows on Live run too

    @Slot(str)
    def _on_run_failed(self, message: str) -> None:
        self.bridge.drain()
        self._run_ended(message)
        self.run_status.setText("The run stopped with an error")

    def _run_ended(self, message: str) -> None:
        self.live_page.run_ended(message)
        self.setup_page.set_run_active(False)
        self.compare_page.tuning.set_can_queue(True)
        self.history_page.set_active_run(None)
        self.cancel_action.setEnabled(False)

    @Slot(str)
    def open_run(self, run_id: str) -> None:
        """Show a stored run's grid and transcripts, read-only (loaded on a worker)."""
        self.launcher.open(run_id)

    @Slot(object)
    def _on_run_opened(self, state: RunState) -> None:
        self.live_page.show_run(state)
        self.show_page(LIVE)
        if state.done:
            self.compare_page.tick_runs([state.run_id])

    @Slot(list)
    def compare_runs(self, run_ids: list[str]) -> None:
        """Compare exactly these runs (from History, or the run that just finished)."""
        self.compare_page.tick_runs(list(run_ids))
        self.show_page(COMPARE)

    @Slot(str, str)
    def _show_failures_of_run(self, run_id: str, series: str) -> None:
        """From the verdict on Live run: Compare with the run ticked, listing that model's failures."""
        self.compare_page.show_failures_of([run_id], series)
        self.show_page(COMPARE)

    @Slot(object)
    def _on_compared(self, data: ReportData) -> None:
        from app.core.verdict import build_verdict

        if len(data.runs) == 1:
            self.live_page.show_verdict(data.runs[0].id, build_verdict(data.models), data.differences)

    @Slot(str)
    def resume_run(self, run_id: str) -> None:
        """Run the attempts of a stored run that never finished."""
        if self.controller.running:
            QMessageBox.information(self, "Resume run", "Wait for the current run to finish, or cancel it.")
            return
        if self.launcher.resume(run_id):
            self.setup_page.set_run_active(True)

    @Slot(str, str)
    def _on_launch_failed(self, title: str, message: str) -> None:
        if not self.controller.running:
            self.setup_page.set_run_active(False)
        log.warning("%s: %s", title, message)
        QMessageBox.warning(self, title, message)

    # ---- dialogs --------------------------------------------------------------------

    @Slot()
    def try_demo(self) -> None:
        self.setup_page.select_demo_models()
        self.show_page(SETUP)

    @Slot()
    def open_preferences(self) -> None:
        from app.core.config import save_settings
        from app.ui.dialogs.settings_dialog import SettingsDialog
        from app.ui.theme import apply_theme

        dialog = SettingsDialog(self.engine.settings, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted or dialog.result_settings is None:
            return
        old_hosts = self.engine.settings.hosts
        self.engine.settings = dialog.result_settings
        save_settings(self.engine.settings)
        self.setup_page.apply_defaults(self.engine.settings)
        app = QApplication.instance()
        if isinstance(app, QApplication) and self.engine.settings.theme:
            apply_theme(app, self.engine.settings.theme)
        if dialog.result_settings.hosts != old_hosts:
            self.models_page.refresh()

    @Slot()
    def show_about(self) -> None:
        from app.ui.dialogs.about_dialog import AboutDialog

        self.about_dialog = AboutDialog(self.engine.settings, self.engine.db_path, self)
        self.about_dialog.open()

    # ---- window state ---------------------------------------------------------------

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1180, 760)
        state = settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def _save_window_state(self) -> None:
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel a running run and wait for its thread, then release the engine."""
        if self._closed:
            event.accept()
            return
        if not self.pages_ready:  # closed while loading: nothing runs yet
            self._save_window_state()
            self._closed = True
            event.accept()
            return
        self.controller.cancel()
        if not self.controller.wait(CLOSE_WAIT_S):
            log.warning("the run thread did not stop within %.0f s", CLOSE_WAIT_S)
        self.launcher.wait(CLOSE_WAIT_S)
        self.models_page.wait_for_discovery(1.0)
        self._save_window_state()
        self._unsubscribe()
        self.bridge.stop()
        if self._owns_engine:
            self.engine.close()
        self._closed = True
        event.accept()
