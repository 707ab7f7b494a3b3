"""Live run: the model × task grid, progress with ETA, the attempts, and one transcript."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.events import Event
from app.core.reports.configurations import SettingDifference
from app.core.unjudged import unjudged
from app.core.verdict import Verdict
from app.ui.formatting import format_duration, plural
from app.ui.models.run_models import AttemptListModel, RunGridModel
from app.ui.models.run_state import AttemptStatus, RunState
from app.ui.pages.run_overview import RunOverview, titled
from app.ui.transcripts.transcript_view import TranscriptView
from app.ui.widgets.elided_label import ElidedLabel
from app.ui.widgets.progress_strip import ProgressStrip
from app.ui.widgets.unjudged_banner import UnjudgedBanner
from app.ui.widgets.verdict_panel import VerdictPanel

log = logging.getLogger(__name__)

TranscriptLoader = Callable[[str], Sequence[Event]]
FOLLOW_LINGER_MS = 1200


class LiveRunPage(QWidget):
    """Shows the run being executed, or a stored run opened from History (read-only)."""

    cancel_requested = Signal()
    setup_requested = Signal()
    compare_requested = Signal(str)  # run id
    failures_requested = Signal(str, str)  # run id, series name

    def __init__(self, load_transcript: TranscriptLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._load_transcript = load_transcript
        self._state: RunState | None = None  # the run shown
        self._live: RunState | None = None  # the run executing (shown or not)
        self._programmatic_selection = False
        self.grid_model = RunGridModel()
        self.attempts_model = AttemptListModel()
        self._eta_timer = QTimer(self)
        self._eta_timer.setInterval(1000)
        self._eta_timer.timeout.connect(self._update_progress)
        self._linger = QTimer(self)  # how long a finished attempt's verdict stays when following
        self._linger.setSingleShot(True)
        self._linger.setInterval(FOLLOW_LINGER_MS)
        self._linger.timeout.connect(self._jump_to_latest)
        self._stack = QStackedWidget()
        self._stack.addWidget(self._build_empty_state())
        self._stack.addWidget(self._build_run_view())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

    # ---- layout ---------------------------------------------------------------------

    def _build_empty_state(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        text = QLabel(
            "<h3>No run yet</h3><p>Choose models and tasks in <b>Run setup</b> and press "
            "<b>Start</b> (Ctrl+R). Attempts fill the grid here as they finish, and the "
            "transcript of the latest attempt streams in beside it.</p>"
            "<p>Past runs can be reopened from <b>History</b>.</p>"
        )
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        button = QPushButton("Go to Run setup")
        button.clicked.connect(self.setup_requested)
        layout.addWidget(text)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(2)
        return page

    def _build_run_view(self) -> QWidget:
        page = QWidget()
        self.title = ElidedLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.status = QLabel()
        # One line that never asks for a new layout when its text changes every second.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setToolTip("Stop the run within a second; finished attempts are kept (Ctrl+.)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.back_button = QPushButton("Back to the live run")
        self.back_button.clicked.connect(self._back_to_live)
        self.back_button.hide()
        self.progress = ProgressStrip()
        self.overview = RunOverview(self.grid_model, self.attempts_model)
        self.grid = self.overview.grid
        self.grid.clicked.connect(self._on_grid_clicked)
        self.attempt_table = self.overview.attempt_table
        self.attempt_table.selectionModel().currentRowChanged.connect(self._on_attempt_selected)
        self.follow = self.overview.follow
        self.follow.toggled.connect(self._on_follow_toggled)

        self.verdict = VerdictPanel()
        self.verdict.failures_requested.connect(self._on_failures_requested)
        self.compare_button = QPushButton("Compare this run…")
        self.compare_button.setToolTip("Open Compare with this run ticked: charts, heatmap and every attempt")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        self.verdict_box = QWidget()
        verdict_layout = QVBoxLayout(self.verdict_box)
        verdict_layout.setContentsMargins(0, 4, 0, 4)
        verdict_layout.addWidget(self.verdict)
        verdict_row = QHBoxLayout()
        verdict_row.addStretch(1)
        verdict_row.addWidget(self.compare_button)
        verdict_layout.addLayout(verdict_row)
        self.verdict_box.hide()

        self.transcript_title = ElidedLabel("Transcript")
        self.transcript = TranscriptView()

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.back_button)
        top.addWidget(self.cancel_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.overview)
        splitter.addWidget(titled(self.transcript_title, self.transcript))
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([600, 500])
        layout = QVBoxLayout(page)
        layout.addLayout(top)
        layout.addWidget(self.status)
        self.unjudged_banner = UnjudgedBanner()
        layout.addWidget(self.unjudged_banner)
        layout.addWidget(self.progress)
        layout.addWidget(self.verdict_box)
        layout.addWidget(splitter, 1)
        return page

    # ---- verdict --------------------------------------------------------------------

    def show_verdict(self, run_id: str, verdict: Verdict, differences: list[SettingDifference]) -> None:
        """The end of a run: which model, and why the others failed (for the run shown only)."""
        if self._state is None or self._state.run_id != run_id or (self._state.live and not self._state.finished):
            return
        self.verdict.show_verdict(verdict, differences)
        if self._state.cancelled or self._state.done < self._state.total:
            left = self._state.total - self._state.done
            self.verdict.recommendation.setText(
                self.verdict.recommendation.text()
                + f" Caveat: the run was cut short, {plural(left, 'attempt')} never ran."
            )
        self.verdict_box.show()

    @Slot()
    def _on_compare_clicked(self) -> None:
        if self._state is not None:
            self.compare_requested.emit(self._state.run_id)

    @Slot(str)
    def _on_failures_requested(self, series: str) -> None:
        if self._state is not None:
            self.failures_requested.emit(self._state.run_id, series)

    # ---- showing a run --------------------------------------------------------------

    @property
    def state(self) -> RunState | None:
        return self._state

    @property
    def live_state(self) -> RunState | None:
        return self._live

    def show_run(self, state: RunState) -> None:
        """Show ``state``: a run about to execute (live) or one loaded from the store.

        A stored run may be shown while another executes; the executing one keeps
        absorbing events and "Back to the live run" returns to it.
        """
        if state.live:
            self._live = state
        self._state = state
        self.back_button.setVisible(self._live is not None and state is not self._live)
        self.grid_model.set_state(state)
        self.attempts_model.set_state(state)
        self.overview.fit_to(state)
        self.title.setText(state.name)
        self.verdict_box.hide()
        self.cancel_button.setVisible(state.live)
        self.cancel_button.setEnabled(state.live and not state.finished)
        self.follow.setVisible(state.live)
        self.follow.setChecked(state.live)
        self._stack.setCurrentIndex(1)
        self.transcript.show_placeholder(
            "The transcript of the latest attempt appears here as soon as it starts."
            if state.live
            else "Select an attempt (or a cell of the grid) to read its transcript."
        )
        self._update_progress()
        self.unjudged_banner.show_unjudged(unjudged(state.attempts.values()))
        if state.live:
            self._eta_timer.start()
        elif state.order:
            self.select_attempt(state.order[0])

    def run_ended(self, message: str = "") -> None:
        """The worker is done (finished, cancelled or failed); ``message`` explains a failure."""
        self._eta_timer.stop()
        self.cancel_button.setEnabled(False)
        if self._live is not None:
            self._live.finished = True
        self._live = None
        self.back_button.hide()
        self._update_progress(message)

    @Slot()
    def _back_to_live(self) -> None:
        if self._live is not None:
            self.show_run(self._live)
            latest = self._live.latest_started()
            if latest is not None and self.follow.isChecked():
                self.select_attempt(latest)

    def set_cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling… attempts in flight stop within a second; finished ones are kept.")

    @Slot(list)
    def on_events(self, events: list[Event]) -> None:
        """One batch from the bridge: update the grid, list, progress and the shown transcript."""
        state = self._live
        if state is None:
            return
        changes = state.apply(events)
        if state is not self._state or not (changes.attempts or changes.events or changes.progress):
            return
        self.attempts_model.sync_rows()
        self.grid_model.cells_changed(changes.cells)
        self.attempts_model.attempts_changed(changes.attempts)
        if changes.attempts:
            self.unjudged_banner.show_unjudged(unjudged(state.attempts.values()))
        shown = self.transcript.attempt_id
        if shown is not None and shown in changes.events:
            shown_state = state.attempts[shown]
            if shown_state.events is not None and shown_state.events is not self.transcript.shown_events:
                self.transcript.show_attempt(shown, shown_state.events)  # a retry began afresh
            else:
                self.transcript.append_events(shown, changes.events[shown])
        if self.follow.isChecked():
            self._follow_latest(state, shown)
        if changes.progress:
            self._update_progress()

    def _follow_latest(self, state: RunState, shown: str | None) -> None:
        """Stay on the shown attempt while it runs; once it has ended (and its verdict had a
        moment on screen), move to the attempt that started most recently."""
        current = state.attempts.get(shown) if shown else None
        if current is not None and current.status is AttemptStatus.RUNNING:
            self._linger.stop()
            return
        if current is None:
            self._jump_to_latest()
        elif not self._linger.isActive():
            self._linger.start()

    @Slot()
    def _jump_to_latest(self) -> None:
        state = self._live
        if state is None or state is not self._state or not self.follow.isChecked():
            return
        running = [a for a in state.attempts.values() if a.status is AttemptStatus.RUNNING]
        latest = max(running, key=lambda a: a.started_seq).attempt_id if running else None
        if latest is not None and latest != self.transcript.attempt_id:
            self.select_attempt(latest)

    def _update_progress(self, failure: str = "") -> None:
        state = self._state
        if state is None:
            return
        done = state.done
        self.progress.set_progress(done, state.total, f"{done} / {state.total} attempts")
        if failure:
            text = f"The run stopped: {failure}"
        elif not state.live:
            left = state.total - done
            text = "Stored run, opened from History (read-only)."
            if left:
                text += f" {plural(left, 'attempt')} never finished; resume it from History."
        elif not state.finished:
            eta = state.eta_seconds()
            running = state.running
            text = f"Running: {done} of {state.total} attempts done, {running} in progress"
            text += f" · about {format_duration(eta)} left" if eta is not None else " · estimating time left…"
        elif state.cancelled:
            text = (
                f"Cancelled: {done} of {state.total} attempts finished and kept. "
                "Resume the rest from History."
            )
        else:
            text = f"Finished: {done} of {state.total} attempts."
        if text != self.status.text():
            self.status.setText(text)

    # ---- selection ------------------------------------------------------------------

    def select_attempt(self, attempt_id: str) -> None:
        """Select ``attempt_id`` in the list and show its transcript."""
        row = self.attempts_model.row_of(attempt_id)
        if row < 0:
            return
        self._programmatic_selection = True
        try:
            index = self.attempts_model.index(row, 0)
            self.attempt_table.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.attempt_table.scrollTo(index)
        finally:
            self._programmatic_selection = False
        self._show_transcript(attempt_id)

    @Slot(QModelIndex, QModelIndex)
    def _on_attempt_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._programmatic_selection:
            return
        attempt_id = self.attempts_model.attempt_id(current.row())
        if attempt_id is None:
            return
        if self._state is not None and self._state.live and not self._state.finished:
            self.follow.setChecked(False)
        self._show_transcript(attempt_id)

    @Slot(QModelIndex)
    def _on_grid_clicked(self, index: QModelIndex) -> None:
        cell = self.grid_model.cell_at(index)
        if cell is None or self._state is None:
            return
        listed = set(self._state.order)
        started = [a for a in self._state.cell_outcomes(cell) if a.attempt_id in listed]
        if not started:
            return
        chosen = max(started, key=lambda a: (a.status is AttemptStatus.RUNNING, a.started_seq, a.repeat))
        self.follow.setChecked(False)
        self.select_attempt(chosen.attempt_id)

    @Slot(bool)
    def _on_follow_toggled(self, checked: bool) -> None:
        if checked and self._state is not None:
            latest = self._state.latest_started()
            if latest is not None:
                self.select_attempt(latest)

    def _show_transcript(self, attempt_id: str) -> None:
        state = self._state
        if state is None:
            return
        attempt = state.attempts[attempt_id]
        self.transcript_title.setText(
            f"Transcript — {attempt.model} · {state.task_titles.get(attempt.task_id, attempt.task_id)}"
            f" · run {attempt.repeat + 1}"
        )
        if attempt.events is None:
            try:
                attempt.events = list(self._load_transcript(attempt_id))
            except Exception as error:  # a store problem must not take the page down
                log.exception("cannot load transcript %s", attempt_id)
                self.transcript.show_placeholder(f"The transcript could not be loaded: {error}")
                return
        if not attempt.events:
            self.transcript.show_placeholder("This attempt has not started yet.")
            return
        self.transcript.show_attempt(attempt_id, attempt.events)

