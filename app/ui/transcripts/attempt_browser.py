"""Attempts of the compared runs, filtered by model (in its configuration), tier, task and
outcome; the selected attempt's transcript below, with others put beside it to compare.

The transcript shown is always the one of the selected row: every refresh reselects a row
(the one shown before when it still matches, else the first) and shows it."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QItemSelectionModel, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
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
from app.ui.transcripts.transcript_comparison import ShownAttempt, TranscriptComparison

ANY = "(any)"
MAX_BESIDE = 2  # three columns stay readable at 1280 px
COLUMNS = ("outcome", "model", "configuration", "task", "tier", "run", "turns", "detail")


@dataclass(frozen=True, slots=True)
class Series:
    """A model in one configuration, as the model filter offers it."""

    model: str
    configuration: str
    settings_keys: tuple[str, ...]


class AttemptBrowser(QWidget):
    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._run_ids: list[str] = []
        self._series: dict[str, Series] = {}
        self._configuration_of: dict[str, str] = {}
        self._run_names: dict[str, str] = {}
        self.records: list[AttemptRecord] = []
        self.model_filter = QComboBox()
        self.tier_filter = QComboBox()
        self.task_filter = QComboBox()
        self.outcome_filter = QComboBox()
        self.failures_only = QCheckBox("failures only")
        self.failures_only.setChecked(True)
        for combo in (self.model_filter, self.tier_filter, self.task_filter, self.outcome_filter):
            combo.currentIndexChanged.connect(self.refresh)
        self.failures_only.toggled.connect(self.refresh)
        filters = QHBoxLayout()
        for label, widget in (
            ("Model", self.model_filter),
            ("Tier", self.tier_filter),
            ("Task", self.task_filter),
            ("Outcome", self.outcome_filter),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget, 1)
        filters.addWidget(self.failures_only)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.currentCellChanged.connect(self._on_row)
        self.comparison = TranscriptComparison()
        self._beside: list[AttemptRecord] = []
        beside = QPushButton("Put beside")
        beside.setToolTip("Keep the selected attempt on screen and read the next one you select beside it")
        beside.clicked.connect(self.put_beside)
        same_task = QPushButton("Same task, every model")
        same_task.setToolTip("Show one attempt of the selected task per model and configuration, turns aligned")
        same_task.clicked.connect(self.compare_same_task)
        clear = QPushButton("One transcript")
        clear.clicked.connect(self.clear_beside)
        self.hint = QLabel("j / k: next / previous attempt · “Put beside” keeps this attempt on the right "
                           "of the next one you select")
        self.hint.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.hint, 1)
        row.addWidget(beside)
        row.addWidget(same_task)
        row.addWidget(clear)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(row)
        lower_layout.addWidget(self.comparison, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        self.table.setMinimumHeight(6 * self.fontMetrics().height())
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        for key, step in (("J", 1), ("K", -1)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda step=step: self.step(step))

    def set_data(self, run_ids: list[str], data: ReportData) -> None:
        self._run_ids = list(run_ids)
        self._series = {
            m.model: Series(m.model_label or m.model, m.configuration, m.settings_keys) for m in data.models
        }
        self._configuration_of = {key: m.configuration for m in data.models for key in m.settings_keys}
        self._run_names = {run.id: run.name for run in data.runs}
        self._fill(self.model_filter, list(self._series))
        self._fill(self.tier_filter, sorted({f"{suite}/{tier}" for suite, tier, _ in data.tasks}))
        self._fill(self.task_filter, [task for _, _, task in data.tasks])
        self._fill(self.outcome_filter, [o.value for o in Outcome if not o.is_pass])
        self._beside = []
        self.refresh()

    def focus(
        self,
        model: str | None,
        task_id: str | None,
        *,
        tier: str | None = None,
        outcome: Outcome | None = None,
        failures_only: bool = False,
    ) -> None:
        """Show the attempts behind one mark of a chart or one cell of a table."""
        for widget in (self.failures_only, self.model_filter, self.tier_filter, self.task_filter, self.outcome_filter):
            widget.blockSignals(True)
        self.failures_only.setChecked(failures_only)
        values = ((self.model_filter, model), (self.tier_filter, tier), (self.task_filter, task_id),
                  (self.outcome_filter, outcome.value if outcome else None))
        for combo, value in values:
            index = combo.findText(value) if value else 0
            combo.setCurrentIndex(max(0, index))
        for widget in (self.failures_only, self.model_filter, self.tier_filter, self.task_filter, self.outcome_filter):
            widget.blockSignals(False)
        self.refresh()

    @staticmethod
    def _fill(combo: QComboBox, values: list[str]) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItems([ANY, *values])
        combo.blockSignals(False)

    @staticmethod
    def _chosen(combo: QComboBox) -> str | None:
        return None if combo.currentText() in ("", ANY) else combo.currentText()

    @Slot()
    def refresh(self) -> None:
        if not self._run_ids:
            return
        shown = next(iter(self.comparison.shown_ids), None)
        series = self._series.get(self._chosen(self.model_filter) or "")
        tier = self._chosen(self.tier_filter)
        suite, _, tier_name = tier.partition("/") if tier else (None, "", None)
        outcome = self._chosen(self.outcome_filter)
        self.records = self._engine.repository.find_attempts(
            self._run_ids,
            model=series.model if series else None,
            settings_keys=series.settings_keys if series else None,
            suite=suite or None,
            tier=tier_name or None,
            task_id=self._chosen(self.task_filter),
            outcome=Outcome(outcome) if outcome else None,
            failures_only=self.failures_only.isChecked(),
        )
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.records))
        for row, a in enumerate(self.records):
            values = (a.outcome.value if a.outcome else "", a.model, self._configuration_of.get(a.settings_key, ""),
                      a.task_id, f"{a.suite}/{a.tier}", str(a.repeat + 1), str(a.turns), a.detail)
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)
        ids = [a.id for a in self.records]
        self.select_row(ids.index(shown) if shown in ids else 0)

    def select_row(self, row: int) -> None:
        """Select ``row`` and show its transcript (or the empty state when nothing matches)."""
        if not self.records:
            self.table.clearSelection()
            self.table.setCurrentCell(-1, -1)
            self.comparison.show_attempts([])
            return
        row = max(0, min(row, len(self.records) - 1))
        self.table.setCurrentCell(row, 0, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)
        self._show_current()

    @Slot(int)
    def step(self, delta: int) -> None:
        """Next (1) or previous (-1) attempt."""
        if self.records:
            self.select_row(self.table.currentRow() + delta)

    @Slot(int, int, int, int)
    def _on_row(self, row: int, _col: int, _prev_row: int, _prev_col: int) -> None:
        if 0 <= row < len(self.records):
            self._show_current()

    def _shown(self, attempt: AttemptRecord) -> ShownAttempt:
        return ShownAttempt(attempt, self._configuration_of.get(attempt.settings_key, ""),
                            self._engine.repository.transcript(attempt.id), self._run_names.get(attempt.run_id, ""))

    def _show_current(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.records):
            return
        current = self.records[row]
        others = [a for a in self._beside if a.id != current.id]
        self.comparison.show_attempts([self._shown(a) for a in (current, *others)])

    @Slot()
    def put_beside(self) -> None:
        """Keep the selected attempt on screen; the next selection shows to its left."""
        row = self.table.currentRow()
        if 0 <= row < len(self.records) and all(a.id != self.records[row].id for a in self._beside):
            self._beside.insert(0, self.records[row])
            self._show_current()

    @Slot()
    def compare_same_task(self) -> None:
        """Beside the selected attempt: one attempt of the same task per other model × configuration
        (one that ended otherwise when there is one), at most ``MAX_BESIDE``."""
        row = self.table.currentRow()
        if not 0 <= row < len(self.records):
            return
        current = self.records[row]
        candidates = self._engine.repository.find_attempts(self._run_ids, task_id=current.task_id)
        chosen: dict[tuple[str, str], AttemptRecord] = {}
        # the most telling first: other outcomes than the selected one's, then the same repeat
        for attempt in sorted(candidates, key=lambda a: (a.outcome == current.outcome, a.repeat != current.repeat,
                                                         a.repeat)):
            series = (attempt.model, self._configuration_of.get(attempt.settings_key, attempt.settings_key))
            if attempt.outcome is not None and series not in chosen:
                chosen[series] = attempt
        mine = (current.model, self._configuration_of.get(current.settings_key, current.settings_key))
        chosen.pop(mine, None)
        self._beside = list(chosen.values())[:MAX_BESIDE]
        self._show_current()

    @Slot()
    def clear_beside(self) -> None:
        self._beside = []
        self._show_current()
