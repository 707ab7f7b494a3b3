"""Compare → Tuning: sweeps with winners, budget ceilings, and raw vs harness per suite."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.metrics import Rate
from app.core.plan import AttemptSettings
from app.core.reports.tuning import TuningReport
from app.core.tuning.analysis import SweepAnalysis, Verdict
from app.core.tuning.factors import Factor
from app.ui.charts.tuning_charts import VERDICT_COLOURS, CeilingChart, SweepChart

EMPTY_HINT = (
    "No sweep, ceiling run or tool-mode comparison among the ticked runs. Start a sweep from "
    "Run setup → Tune one model…, or press Find budget ceilings to re-run what failed here "
    "with the turn and token budgets ×2 and ×4."
)


class TuningView(QWidget):
    """Lays out the tuning part of a comparison; asks for runs through signals."""

    ceiling_requested = Signal()
    winners_requested = Signal(str, object)  # model label, AttemptSettings of the combination

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tuning = TuningReport()
        self._can_queue = True
        self._has_runs = False
        self.hint = QLabel(EMPTY_HINT)
        self.hint.setWordWrap(True)
        self.sweep_model = QComboBox()
        self.sweep_model.currentIndexChanged.connect(self._show_sweep)
        self.winners_button = QPushButton("Run all winners")
        self.winners_button.setToolTip("Queue the combination of every winning value, with the same tasks and N")
        self.winners_button.clicked.connect(self._on_winners)
        self.ceiling_button = QPushButton("Find budget ceilings")
        self.ceiling_button.setToolTip(
            "Re-run every failing model × task with the turn budget and the token budget ×1, ×2 and ×4: "
            "a turn ceiling, a token ceiling, or a capability ceiling that no setting fixes"
        )
        self.ceiling_button.clicked.connect(self.ceiling_requested)

        self.sweep_chart = SweepChart()
        self.ceiling_chart = CeilingChart()
        self.sweep_table = _table(["factor", "value", "passed", "95% CI", "against the baseline"])
        self.ceiling_table = _table(["model", "task", "diagnosis", "passes by budget", "what to do"])
        self.modes_table = _table(["model", "suite", "native (raw)", "recovery (harness)", "prompted", "harness − raw"])

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Sweep of"))
        bar.addWidget(self.sweep_model, 1)
        bar.addWidget(self.winners_button)
        bar.addWidget(self.ceiling_button)
        ceilings = QSplitter(Qt.Orientation.Horizontal)
        ceilings.addWidget(self.ceiling_chart)
        ceilings.addWidget(self.ceiling_table)
        ceilings.setSizes([460, 540])
        self.tables = QTabWidget()
        self.tables.addTab(self.sweep_table, "Sweep cells")
        self.tables.addTab(ceilings, "Budget ceilings")
        self.tables.addTab(self.modes_table, "Raw vs harness by suite")
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.sweep_chart)
        body.addWidget(self.tables)
        body.setSizes([360, 360])
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(bar)
        layout.addWidget(body, 1)
        self.show_tuning(TuningReport())

    def set_can_queue(self, can: bool) -> None:
        """False while a run is in progress: one run at a time."""
        self._can_queue = can
        self._update_buttons()

    def set_has_runs(self, has: bool) -> None:
        """False while no run is ticked: nothing to find ceilings in."""
        self._has_runs = has
        self._update_buttons()

    def show_tuning(self, tuning: TuningReport) -> None:
        self.tuning = tuning
        self.hint.setVisible(tuning.empty)
        self.sweep_model.blockSignals(True)
        self.sweep_model.clear()
        for sweep in tuning.sweeps:
            self.sweep_model.addItem(sweep_title(sweep))
        self.sweep_model.setEnabled(bool(tuning.sweeps))
        self.sweep_model.blockSignals(False)
        self._show_sweep()
        self.ceiling_chart.show_ceilings(tuning.ceilings)
        self._fill_ceilings()
        self._fill_modes()
        if not tuning.sweeps and tuning.ceilings:
            self.tables.setCurrentIndex(1)
        elif not tuning.sweeps and tuning.modes:
            self.tables.setCurrentWidget(self.modes_table)

    def current_sweep(self) -> SweepAnalysis | None:
        index = self.sweep_model.currentIndex()
        return self.tuning.sweeps[index] if 0 <= index < len(self.tuning.sweeps) else None

    @Slot()
    def _show_sweep(self, *_: object) -> None:
        sweep = self.current_sweep()
        self.sweep_chart.show_sweep(sweep)
        rows: list[tuple[str, str, Rate, Verdict]] = []
        if sweep is not None:
            for f in sweep.factors:
                for p in f.points:
                    label = f"{p.label} ★ winner" if p is f.winner else p.label
                    rows.append((f.factor.caption, label, p.rate, p.verdict))
            rows += [("combined", c.settings.label, c.rate, v) for c, v in sweep.combinations]
        self.sweep_table.setRowCount(len(rows))
        for r, (factor, label, rate, verdict) in enumerate(rows):
            self._set(self.sweep_table, r, [factor, label, _count(rate), _interval(rate), verdict.value])
            self.sweep_table.item(r, 4).setForeground(QColor(VERDICT_COLOURS[verdict]))
        self.sweep_table.resizeColumnsToContents()
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self._can_queue and self._has_runs
        self.ceiling_button.setEnabled(ready)
        sweep = self.current_sweep()
        pending = sweep is not None and sweep.all_winners_settings() is not None
        self.winners_button.setEnabled(pending and ready)
        if sweep is None:
            self.winners_button.setToolTip("No sweep among the ticked runs")
        elif not sweep.winners:
            self.winners_button.setToolTip("No value's interval clears the baseline's: there is no winner to combine")
        elif not pending:
            self.winners_button.setToolTip("The combination of winners has run already (or is a single cell)")
        else:
            self.winners_button.setToolTip("Queue the combination: " + ", ".join(
                f"{f.caption} {f.render(v)}" for f, v in sweep.winners.items()))

    def _fill_ceilings(self) -> None:
        rows = self.tuning.ceilings
        self.ceiling_table.setRowCount(len(rows))
        for r, d in enumerate(rows):
            self._set(self.ceiling_table, r, [d.model, d.task_id, d.ceiling.value, d.evidence, d.advice])
        self.ceiling_table.resizeColumnsToContents()

    def _fill_modes(self) -> None:
        rows = self.tuning.modes
        self.modes_table.setRowCount(len(rows))
        for r, d in enumerate(rows):
            rates = [_count(d.rates[m]) if m in d.rates else "—" for m in ("native", "recovery", "prompted")]
            delta = "—" if d.delta is None else f"{100 * d.delta:+.0f} pts"
            self._set(self.modes_table, r, [d.model, d.suite, *rates, delta])
        self.modes_table.resizeColumnsToContents()

    @staticmethod
    def _set(table: QTableWidget, row: int, values: list[str]) -> None:
        for column, value in enumerate(values):
            table.setItem(row, column, QTableWidgetItem(value))

    @Slot()
    def _on_winners(self) -> None:
        sweep = self.current_sweep()
        combined = sweep.all_winners_settings() if sweep is not None else None
        if sweep is not None and combined is not None:
            self.winners_requested.emit(sweep.model, combined)


def sweep_title(sweep: SweepAnalysis) -> str:
    """The model, and how its baseline departs from the defaults."""
    baseline, plain = sweep.baseline.settings, AttemptSettings()
    changed = [f"{f.caption} {f.render(f.read(baseline))}" for f in Factor if f.read(baseline) != f.read(plain)]
    return f"{sweep.model} · baseline: {', '.join(changed) if changed else 'defaults'}"


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _count(rate: Rate) -> str:
    return "—" if not rate.scored else f"{rate.passed}/{rate.scored} ({100 * (rate.value or 0):.0f}%)"


def _interval(rate: Rate) -> str:
    low, high = rate.interval
    return "—" if not rate.scored else f"{100 * low:.0f}–{100 * high:.0f}%"

