"""Compare: tick runs, see their models side by side — charts and a task table."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.engine import Engine
from app.core.plan import AttemptSettings
from app.core.reports.data import ReportData, build_report
from app.core.verdict import build_verdict
from app.ui.background.workers import BackgroundCall
from app.ui.charts.chart_frame import NOTHING_TICKED, MarkFilter
from app.ui.charts.compare_charts import (
    AgentVsCode,
    FailureModes,
    PassRateByTier,
    RawVsHarness,
    ScoreVsSpeed,
    save_chart,
)
from app.ui.charts.heatmap import TaskHeatmap
from app.ui.charts.tuning_view import TuningView
from app.ui.models.history_model import describe_configurations, display_names
from app.ui.transcripts.attempt_browser import AttemptBrowser
from app.ui.widgets.unjudged_banner import UnjudgedBanner
from app.ui.widgets.verdict_panel import VerdictPanel

RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class ComparePage(QWidget):
    """Views only lay out: the report data is built off the GUI thread by the engine."""

    plan_requested = Signal(str, object)  # title, a callable that stores and returns a RunPlan
    computed = Signal(object)  # ReportData of the ticked runs, once shown

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._call: BackgroundCall | None = None
        self.data: ReportData | None = None
        self._compared: list[str] = []
        self._generation = 0
        self._failures_pending: str | None = None

        self.runs = QListWidget()
        self.runs.setTextElideMode(Qt.TextElideMode.ElideRight)  # the tooltip has the whole name
        self.runs.itemChanged.connect(self._on_runs_changed)
        hint = QLabel("Tick one or more runs to compare their models.")
        hint.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(QLabel("<b>Runs</b>"))
        left_layout.addWidget(self.runs, 1)
        left_layout.addWidget(hint)

        self.status = QLabel("Nothing selected yet.")
        self.by_tier = PassRateByTier()
        self.failures = FailureModes()
        self.gap = AgentVsCode()
        self.speed = ScoreVsSpeed()
        self.modes = RawVsHarness()
        self.heatmap = TaskHeatmap()
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.browser = AttemptBrowser(engine)
        self.tuning = TuningView()
        self.tuning.ceiling_requested.connect(self.request_ceiling_run)
        self.tuning.winners_requested.connect(self.request_winners_run)
        for chart in (self.by_tier, self.failures, self.modes, self.gap, self.speed, self.heatmap):
            chart.picked.connect(self.show_attempts)
        self.verdict = VerdictPanel()
        self.verdict.failures_requested.connect(self.show_failures)
        self.tabs = QTabWidget()
        for widget, name in ((self.by_tier, "Pass rate by tier"), (self.failures, "Failure modes"), (self.heatmap, "Heatmap"),
                             (self.gap, "Agent vs code"), (self.speed, "Score vs speed"), (self.modes, "Raw vs harness"), (self.table, "Task table"),
                             (self.tuning, "Tuning"), (self.browser, "Attempts")):
            self.tabs.addTab(widget, name)
        save = QPushButton("Save chart…")
        save.clicked.connect(self.save_current_chart)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(save)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(top)
        self.unjudged_banner = UnjudgedBanner()
        right_layout.addWidget(self.unjudged_banner)
        self.right_split = QSplitter(Qt.Orientation.Vertical)
        self.right_split.addWidget(self.verdict)
        self.right_split.addWidget(self.tabs)
        self.right_split.setStretchFactor(1, 1)
        self.right_split.setChildrenCollapsible(False)
        right_layout.addWidget(self.right_split, 1)
        self.tabs.currentChanged.connect(self._on_tab_changed)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 4)
        splitter.setSizes([270, 1000])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._show_nothing_ticked()

    @Slot(int)
    def _on_tab_changed(self, _index: int) -> None:
        """Transcripts and the tuning view get the full height: the verdict folds to its
        recommendation while they show."""
        reading = self.tabs.currentWidget() in (self.browser, self.tuning)
        self.verdict.set_folded(reading)
        self._fit_verdict()
        QTimer.singleShot(0, self, self._fit_verdict)  # again once the folded layout has its new size

    def _fit_verdict(self) -> None:
        """Folded, the verdict is held to its one line so the transcripts get every other pixel."""
        total = max(1, self.right_split.height())
        if self.verdict.folded:
            wanted = self.verdict.folded_height(self.right_split.width())
        else:
            wanted = min(self.verdict.sizeHint().height(), int(total * 0.45))
        self.right_split.setSizes([wanted, total - wanted])

    def _charts(self) -> tuple[PassRateByTier, FailureModes, AgentVsCode, ScoreVsSpeed, RawVsHarness, TaskHeatmap]:
        return (self.by_tier, self.failures, self.gap, self.speed, self.modes, self.heatmap)

    def _show_nothing_ticked(self) -> None:
        self.data = None
        for chart in self._charts():
            chart.show_empty(NOTHING_TICKED)
        self.verdict.show_verdict(None)
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)

    def tick_runs(self, run_ids: list[str]) -> None:
        """Tick exactly these runs (e.g. the one that just finished) and compare them."""
        self.reload()
        wanted = set(run_ids)
        self.runs.blockSignals(True)
        for i in range(self.runs.count()):
            item = self.runs.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(RUN_ID_ROLE) in wanted else Qt.CheckState.Unchecked)
        self.runs.blockSignals(False)
        self.compare(self.selected_run_ids())

    def reload(self) -> None:
        """Refresh the run list, keeping the ticks."""
        ticked = set(self.selected_run_ids())
        self.runs.blockSignals(True)
        self.runs.clear()
        runs = self._engine.repository.list_runs(limit=500)
        names = display_names(runs)
        for run in runs:
            rate = "—" if run.pass_rate is None else f"{100 * run.pass_rate:.0f}%"
            item = QListWidgetItem(f"{names[run.id]}  ·  {run.attempts_done}/{run.attempts_total}  ·  {rate}")
            item.setData(RUN_ID_ROLE, run.id)
            item.setToolTip(f"{names[run.id]}\n{describe_configurations(run)} · {', '.join(run.models)}\n{run.id}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if run.id in ticked else Qt.CheckState.Unchecked)
            self.runs.addItem(item)
        self.runs.blockSignals(False)

    def selected_run_ids(self) -> list[str]:
        return [
            self.runs.item(i).data(RUN_ID_ROLE)
            for i in range(self.runs.count())
            if self.runs.item(i).checkState() == Qt.CheckState.Checked
        ]

    def compare(self, run_ids: list[str]) -> None:
        self.tuning.set_has_runs(bool(run_ids))
        if not run_ids:
            self._compared = []
            self.status.setText("Nothing selected yet.")
            self._generation += 1
            self._show_nothing_ticked()
            return
        self.status.setText("Computing…")
        self._compared = list(run_ids)
        repository = self._engine.repository
        self._generation += 1
        generation = self._generation
        self._call = BackgroundCall(lambda: build_report(repository, run_ids, failure_examples=0, with_attempts=False), name="compare", parent=self)
        self._call.succeeded.connect(lambda data: self._on_computed(generation, data))
        self._call.failed.connect(lambda message: self.status.setText(f"Could not compare: {message}"))
        self._call.start()

    def _on_computed(self, generation: int, data: ReportData) -> None:
        """Ticking fast starts several computations; only the newest may show."""
        if generation == self._generation:
            self.show_data(data)

    @Slot(object)
    def show_data(self, data: ReportData) -> None:
        self.data = data
        n = sum(m.agent.scored + m.code.scored for m in data.models)
        self.status.setText(f"{len(data.models)} model(s) · {len(data.tasks)} task(s) · {n} scored attempts")
        self.verdict.show_verdict(build_verdict(data.models), data.differences)
        self._fit_verdict()
        for chart in self._charts():
            chart.show_data(data)
        self._fill_table(data)
        self.unjudged_banner.show_unjudged(data.unjudged)
        self.tuning.show_tuning(data.tuning)
        self.browser.set_data(self._compared, data)
        if self._failures_pending is not None:
            series, self._failures_pending = self._failures_pending, None
            self.show_failures(series)
        self.computed.emit(data)

    def compared_run_ids(self) -> list[str]:
        return list(self._compared)

    def show_failures_of(self, run_ids: list[str], series: str) -> None:
        """Tick these runs and list one series' failures, at once if already shown."""
        shown = self.data is not None and {r.id for r in self.data.runs} == set(run_ids) == set(self._compared)
        if shown:
            self.show_failures(series)
        else:
            self._failures_pending = series
            self.tick_runs(run_ids)

    def _fill_table(self, data: ReportData) -> None:
        models = [m.model for m in data.models]
        self.table.clear()
        self.table.setRowCount(len(data.tasks) + 1)
        self.table.setColumnCount(len(models) + 1)
        self.table.setHorizontalHeaderLabels(["tier", *models])
        self.table.setVerticalHeaderLabels([data.title(task) for _, _, task in data.tasks] + ["total"])
        for row, (suite, tier, task) in enumerate(data.tasks):
            self.table.setItem(row, 0, QTableWidgetItem(f"{suite}/{tier}"))
            for col, model in enumerate(models, start=1):
                rate = data.cells.get((task, model))
                item = QTableWidgetItem(f"{rate.passed}/{rate.scored}" if rate and rate.scored else "—")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if rate and rate.scored:
                    share = rate.passed / rate.scored
                    item.setBackground(QColor("#bbf7d0" if share == 1 else "#fef08a" if share else "#fecaca"))
                    item.setForeground(QColor("#0f172a"))
                self.table.setItem(row, col, item)
        for col, m in enumerate(data.models, start=1):
            total = QTableWidgetItem(f"{m.agent.passed + m.code.passed}/{m.agent.scored + m.code.scored}")
            total.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(len(data.tasks), col, total)
        self.table.resizeColumnsToContents()

    @Slot()
    def save_current_chart(self) -> None:
        widget = self.tabs.currentWidget()
        path, _ = QFileDialog.getSaveFileName(self, "Save chart", str(Path.home() / "agentgap-chart.png"),
                                              "PNG image (*.png);;SVG image (*.svg)")
        if path:
            save_chart(widget, Path(path))

    @Slot()
    def request_ceiling_run(self) -> None:
        """Sweep the budgets of every failing model × task of the compared runs."""
        engine, run_ids = self._engine, list(self._compared)
        if run_ids:
            self.plan_requested.emit("Find budget ceilings", lambda: engine.plan_ceiling(run_ids))

    @Slot(str, object)
    def request_winners_run(self, model: str, settings: AttemptSettings) -> None:
        """The all-winners combination, with the sweep's tasks and N."""
        engine, run_ids = self._engine, list(self._compared)
        self.plan_requested.emit(
            "Run all winners",
            lambda: engine.plan_follow_up(run_ids, model, [settings], name=f"all winners · {model}"),
        )

    @Slot(object)
    def show_attempts(self, mark: MarkFilter) -> None:
        """A bar, segment, point or heatmap cell lists the attempts behind it."""
        self.browser.focus(mark.model, mark.task_id, tier=mark.tier, outcome=mark.outcome)
        self.tabs.setCurrentWidget(self.browser)

    @Slot(str)
    def show_failures(self, series: str) -> None:
        """From the verdict: every failing attempt of one model (in one configuration)."""
        self.browser.focus(series, None, failures_only=True)
        self.tabs.setCurrentWidget(self.browser)

    @Slot(int, int)
    def _on_cell_clicked(self, row: int, column: int) -> None:
        """A k/N cell lists the attempts behind it."""
        if self.data is None or column == 0 or row >= len(self.data.tasks):
            return
        model = self.data.models[column - 1].model
        self.show_attempts(MarkFilter(model=model, task_id=self.data.tasks[row][2]))

    @Slot(QListWidgetItem)
    def _on_runs_changed(self, _item: QListWidgetItem) -> None:
        self.compare(self.selected_run_ids())
