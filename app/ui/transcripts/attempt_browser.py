"""Attempts of the compared runs, filtered by model, task, tier and failure mode, with two
transcripts side by side (pick one, then "Show beside" to compare another against it)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.engine import Engine
from app.core.outcomes import Outcome
from app.core.reports.data import ReportData
from app.core.store.records import AttemptRecord
from app.ui.transcripts.transcript_view import TranscriptView

ANY = "(any)"
COLUMNS = ("outcome", "model", "task", "tier", "run", "turns", "detail")


class AttemptBrowser(QWidget):
    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._run_ids: list[str] = []
        self.records: list[AttemptRecord] = []
        self.model_filter = QComboBox()
        self.task_filter = QComboBox()
        self.outcome_filter = QComboBox()
        self.failures_only = QCheckBox("failures only")
        self.failures_only.setChecked(True)
        for combo in (self.model_filter, self.task_filter, self.outcome_filter):
            combo.currentIndexChanged.connect(self.refresh)
        self.failures_only.toggled.connect(self.refresh)
        filters = QHBoxLayout()
        for label, widget in (("Model", self.model_filter), ("Task", self.task_filter), ("Outcome", self.outcome_filter)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget, 1)
        filters.addWidget(self.failures_only)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.currentCellChanged.connect(self._on_row)
        self.left = TranscriptView()
        self.right = TranscriptView()
        self.right.show_placeholder("Pick another attempt and press “Show beside” to compare two transcripts.")
        beside = QPushButton("Show beside")
        beside.clicked.connect(self.show_beside)
        transcripts = QSplitter()
        transcripts.addWidget(self.left)
        transcripts.addWidget(self.right)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(beside)
        lower_layout.addLayout(row)
        lower_layout.addWidget(transcripts, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(split, 1)

    def set_data(self, run_ids: list[str], data: ReportData) -> None:
        self._run_ids = list(run_ids)
        self._fill(self.model_filter, [m.model for m in data.models])
        self._fill(self.task_filter, [task for _, _, task in data.tasks])
        self._fill(self.outcome_filter, [o.value for o in Outcome])
        self.refresh()

    def focus(self, model: str | None, task_id: str | None) -> None:
        """Show the attempts behind one cell of the comparison table."""
        self.failures_only.setChecked(False)
        for combo, value in ((self.model_filter, model), (self.task_filter, task_id)):
            index = combo.findText(value) if value else 0
            combo.setCurrentIndex(max(0, index))
        self.refresh()

    @staticmethod
    def _fill(combo: QComboBox, values: list[str]) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItems([ANY, *values])
        combo.blockSignals(False)

    @Slot()
    def refresh(self) -> None:
        if not self._run_ids:
            return

        def chosen(combo: QComboBox) -> str | None:
            return None if combo.currentText() in ("", ANY) else combo.currentText()

        outcome = chosen(self.outcome_filter)
        self.records = self._engine.repository.find_attempts(
            self._run_ids,
            model=chosen(self.model_filter),
            task_id=chosen(self.task_filter),
            outcome=Outcome(outcome) if outcome else None,
            failures_only=self.failures_only.isChecked(),
        )
        self.table.setRowCount(len(self.records))
        for row, a in enumerate(self.records):
            values = (a.outcome.value if a.outcome else "", a.model, a.task_id, a.tier, str(a.repeat + 1), str(a.turns), a.detail)
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()

    @Slot(int, int, int, int)
    def _on_row(self, row: int, _col: int, _prev_row: int, _prev_col: int) -> None:
        if 0 <= row < len(self.records):
            attempt = self.records[row]
            self.left.show_attempt(attempt.id, self._engine.repository.transcript(attempt.id))

    @Slot()
    def show_beside(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.records):
            attempt = self.records[row]
            self.right.show_attempt(attempt.id, self._engine.repository.transcript(attempt.id))
