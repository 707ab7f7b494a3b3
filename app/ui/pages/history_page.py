"""History: stored runs, a filter, and open / resume / delete."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.engine import Engine
from app.ui.formatting import plural
from app.ui.models.history_model import RUN_ID_ROLE, RunHistoryModel, is_resumable

if TYPE_CHECKING:
    from app.core.store.repository import RunSummary

log = logging.getLogger(__name__)
PAGE_SIZE = 500


class HistoryPage(QWidget):
    """Reads summaries through the repository; opening and resuming are the window's job."""

    open_requested = Signal(str)
    compare_requested = Signal(list)  # run ids
    resume_requested = Signal(str)
    run_deleted = Signal(str)

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._interrupted: list[str] = []
        self._stale = True
        self.model = RunHistoryModel()

        self.banner = QFrame()
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_resume = QPushButton("Resume")
        self.banner_resume.clicked.connect(self._resume_interrupted)
        dismiss = QPushButton("Not now")
        dismiss.clicked.connect(self.banner.hide)
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(self.banner_resume)
        banner_layout.addWidget(dismiss)
        self.banner.hide()

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by run name or id…")
        self.filter.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(200)
        self._filter_timer.timeout.connect(self.reload)
        self.filter.textChanged.connect(self._filter_timer.start)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self._open_selected)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self._stack = QStackedWidget()
        self._stack.addWidget(self.table)
        self._stack.addWidget(self.empty)

        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show the run's grid and transcripts (read-only)")
        self.open_button.clicked.connect(self._open_selected)
        self.compare_button = QPushButton("Compare selected runs")
        self.compare_button.setToolTip("Open Compare with the selected runs ticked (Ctrl/Shift+click to select several)")
        self.compare_button.clicked.connect(self._compare_selected)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self._resume_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self._delete_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.filter, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.delete_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(buttons)
        layout.addWidget(self._stack, 1)
        self._update_buttons()

    # ---- data -----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    @Slot()
    def reload(self) -> None:
        """Read the run summaries again (later, on showing, when the page is hidden)."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        selected = self.selected_run_id()
        search = self.filter.text().strip()
        try:
            runs = self._engine.repository.list_runs(limit=PAGE_SIZE, offset=0, search=search or None)
        except Exception as error:  # the store is unreadable: say so instead of crashing
            log.exception("cannot list runs")
            self.model.set_runs([])
            self.empty.setText(f"The run history could not be read: {error}")
            self._stack.setCurrentIndex(1)
            return
        self.model.set_runs(runs)
        if runs:
            self._stack.setCurrentIndex(0)
        else:
            self.empty.setText(
                f"No run matches “{search}”."
                if search
                else "No runs yet. Start one from Run setup — the simulated demo models work "
                "without any model server."
            )
            self._stack.setCurrentIndex(1)
        row = self.model.row_of(selected) if selected else -1
        self.table.selectRow(row if row >= 0 else 0)
        self._update_buttons()

    def set_active_run(self, run_id: str | None) -> None:
        """The run executing now cannot be resumed or deleted."""
        self.model.active_run_id = run_id
        self.reload()

    def show_interrupted(self, runs: list[RunSummary]) -> None:
        """Offer, without blocking, to resume runs that stopped with attempts left."""
        self._interrupted = [r.id for r in runs]
        if not runs:
            self.banner.hide()
            return
        latest = runs[0]
        left = latest.attempts_total - latest.attempts_done
        crashed = sum(1 for r in runs if r.status == "interrupted")
        if crashed:
            head = f"{plural(crashed, 'run')} stopped when AgentGap last closed"
        else:
            head = f"{plural(len(runs), 'cancelled run')} can be finished"
        self.banner_text.setText(
            f"<b>{head}.</b> “{latest.name}” has {plural(left, 'attempt')} left; "
            "the attempts that finished are kept."
        )
        self.banner_resume.setText("Resume “" + _elide(latest.name, 30) + "”")
        self.banner.show()

    def selected_run_id(self) -> str | None:
        index = self.table.currentIndex()
        return index.siblingAtColumn(0).data(RUN_ID_ROLE) if index.isValid() else None

    def select_run(self, run_id: str) -> None:
        row = self.model.row_of(run_id)
        if row >= 0:
            self.table.selectRow(row)

    # ---- actions --------------------------------------------------------------------

    @Slot()
    def _update_buttons(self, *_: object) -> None:
        run = self.model.run_at(self.table.currentIndex().row())
        active = run is not None and run.id == self.model.active_run_id
        self.open_button.setEnabled(run is not None and not active)
        self.open_button.setToolTip(
            "This run is executing: watch it on the Live run page" if active else "Show the run's grid and transcripts (read-only)"
        )
        resumable = run is not None and is_resumable(run, self.model.active_run_id)
        self.resume_button.setEnabled(resumable)
        self.resume_button.setToolTip(
            "Run the attempts that never finished" if resumable else "Only unfinished runs can be resumed"
        )
        self.delete_button.setEnabled(run is not None and not active)
        self.compare_button.setEnabled(bool(self.selected_run_ids()))

    def selected_run_ids(self) -> list[str]:
        """Every selected run, in table order."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        runs = [self.model.run_at(row) for row in rows]
        return [run.id for run in runs if run is not None]

    @Slot()
    def _compare_selected(self) -> None:
        run_ids = self.selected_run_ids()
        if run_ids:
            self.compare_requested.emit(run_ids)

    @Slot(QModelIndex)
    def _on_double_click(self, index: QModelIndex) -> None:
        self._open_selected()

    @Slot()
    def _open_selected(self) -> None:
        run_id = self.selected_run_id()
        if run_id and run_id != self.model.active_run_id:
            self.open_requested.emit(run_id)

    @Slot()
    def _resume_selected(self) -> None:
        run_id = self.selected_run_id()
        if run_id:
            self.resume_requested.emit(run_id)

    @Slot()
    def _resume_interrupted(self) -> None:
        self.banner.hide()
        if self._interrupted:
            self.resume_requested.emit(self._interrupted[0])

    @Slot()
    def _delete_selected(self) -> None:
        run = self.model.run_at(self.table.currentIndex().row())
        if run is None or run.id == self.model.active_run_id:
            return
        answer = QMessageBox.question(
            self,
            "Delete run",
            f"Delete “{run.name}” and its {plural(run.attempts_done, 'finished attempt')}?\n"
            "This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self._engine.repository.delete_run(run.id)
        except Exception as error:
            log.exception("cannot delete run %s", run.id)
            QMessageBox.warning(self, "Delete run", f"The run could not be deleted: {error}")
            return
        self.reload()
        self.run_deleted.emit(run.id)


def _elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
