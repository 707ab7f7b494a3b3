"""Run setup: which models, which tasks, how many runs, and the settings of every attempt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.core.chat import GenerationSettings
from app.core.config import AppSettings
from app.core.context_fit import context_shortfalls
from app.core.estimate import DurationHistory, PlannedAttempt, RunEstimate, estimate_run
from app.core.outcomes import ToolMode
from app.core.plan import AttemptSettings
from app.core.providers.base import HostStatus, ModelInfo
from app.core.providers.simulated import PROFILES
from app.core.tasks.loader import Catalog, Task
from app.ui.background.workers import BackgroundCall
from app.ui.dialogs.sweep_dialog import SweepDialog
from app.ui.formatting import format_duration, plural
from app.ui.models.task_selection import ModelChoiceModel, TaskSelectionModel
from app.ui.widgets.form_fields import (
    THINKING_CHOICES,
    TOOL_MODE_CHOICES,
    budget_spin_box,
    choice_box,
)


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Everything the Start button needs to plan a run."""

    models: tuple[ModelInfo, ...]
    tasks: tuple[Task, ...]
    repeats: int
    settings: AttemptSettings
    name: str


class RunSetupPage(QWidget):
    """Emits ``start_requested(RunRequest)``; Start is disabled (with the reason) until ready."""

    start_requested = Signal(object)
    sweep_requested = Signal(object)  # SweepRequest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task_model = TaskSelectionModel()
        self.model_choices = ModelChoiceModel()
        self._run_active = False

        self.task_tree = QTreeView()
        self.task_tree.setModel(self.task_model)
        self.task_tree.setUniformRowHeights(True)
        self._fit_task_columns()
        self.model_list = QListView()
        self.model_list.setModel(self.model_choices)
        self.models_hint = QLabel("Looking for models…")
        self.models_hint.setWordWrap(True)

        self.repeats = QSpinBox()
        self.repeats.setRange(1, 100)
        self.repeats.setToolTip("Each task runs this many times per model; 3 or more gives honest intervals")
        self.max_turns = budget_spin_box(200, " turns", "Most assistant turns per attempt")
        self.max_tokens = budget_spin_box(
            1_000_000, " tokens", "Most tokens (prompt + completion) per attempt", step=1000
        )
        self.max_seconds = budget_spin_box(3600, " s", "Most wall-clock seconds per attempt")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(-0.1, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(1)
        self.temperature.setSpecialValueText("model default")
        self.thinking = choice_box(THINKING_CHOICES, None)
        self.tool_mode = choice_box(TOOL_MODE_CHOICES, ToolMode.RECOVERY)
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional, e.g. “readiness, temp 0”")

        self.summary = QLabel()
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        self.estimate = QLabel()
        self.estimate.setToolTip("How long the run should take")
        self._history = DurationHistory()
        self._history_source: Callable[[], DurationHistory] | None = None
        self._history_call: BackgroundCall | None = None
        self._history_stale = False
        self._parallel = 1
        self._simulated_pace = 1.0
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.context_warning = QLabel()  # budgets a model's context cannot hold: a warning, not a block
        self.context_warning.setWordWrap(True)
        self.context_warning.setVisible(False)
        self.start_button = QPushButton("Start run")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._on_start)
        self.tune_button = QPushButton("Tune one model…")
        self.tune_button.setToolTip(
            "Sweep one factor at a time (temperature, context, thinking, tool calls, directive, budgets) "
            "against these settings as the baseline"
        )
        self.tune_button.clicked.connect(self.open_sweep_builder)

        form = QFormLayout()
        form.addRow("Runs per task", self.repeats)
        form.addRow("Turn budget", self.max_turns)
        form.addRow("Token budget", self.max_tokens)
        form.addRow("Time budget", self.max_seconds)
        form.addRow("Temperature", self.temperature)
        form.addRow("Thinking", self.thinking)
        form.addRow("Tool calls", self.tool_mode)
        form.addRow("Run name", self.name)
        settings_box = QGroupBox("Settings of every attempt")
        settings_box.setLayout(form)

        models_box = QGroupBox("Models")
        models_layout = QVBoxLayout(models_box)
        models_layout.addWidget(self.models_hint)
        models_layout.addWidget(self.model_list, 1)
        tasks_box = QGroupBox("Tasks")
        tasks_layout = QVBoxLayout(tasks_box)
        tasks_layout.addWidget(self.task_tree)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(models_box, 1)
        right_layout.addWidget(settings_box)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(tasks_box)
        splitter.addWidget(right)
        splitter.setSizes([560, 440])

        footer = QHBoxLayout()
        footer.addWidget(self.summary)
        footer.addWidget(self.estimate)
        footer.addWidget(self.reason, 1)
        footer.addWidget(self.tune_button)
        footer.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.context_warning)
        layout.addLayout(footer)

        self.task_model.dataChanged.connect(self.update_summary)
        self.task_model.modelReset.connect(self.update_summary)
        self.model_choices.dataChanged.connect(self.update_summary)
        self.model_choices.modelReset.connect(self.update_summary)
        self.repeats.valueChanged.connect(self.update_summary)
        self.max_tokens.valueChanged.connect(self.update_summary)
        self.update_summary()

    # ---- inputs ---------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog) -> None:
        self.task_model.set_catalog(catalog)
        self.task_tree.expandAll()
        self._fit_task_columns()
        self.update_summary()

    def _fit_task_columns(self) -> None:
        header = self.task_tree.header()
        header.setStretchLastSection(False)
        if header.count() >= 2:
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

    def set_hosts(self, statuses: Sequence[HostStatus]) -> None:
        self.model_choices.set_hosts(statuses)
        real = sum(len(s.models) for s in statuses if s.reachable and s.provider.value != "sim")
        if real:
            self.models_hint.setText("Tick the models to compare.")
        else:
            self.models_hint.setText(
                "No model server was found, so only the simulated demo models are listed "
                "(see the Models page to add a server)."
            )
        self.update_summary()

    def set_history_source(self, source: Callable[[], DurationHistory]) -> None:
        """Where stored attempt durations come from; read off the GUI thread whenever the page shows."""
        self._history_source = source
        if self.isVisible():
            self.reload_history()

    def reload_history(self) -> None:
        if self._history_source is None:
            return
        if self._history_call is not None:  # read again once this read is in
            self._history_stale = True
            return
        self._history_stale = False
        self._history_call = BackgroundCall(self._history_source, name="durations", parent=self)
        self._history_call.succeeded.connect(self.set_duration_history)
        self._history_call.done.connect(self._history_loaded)
        self._history_call.start()

    @Slot()
    def _history_loaded(self) -> None:
        self._history_call = None
        if self._history_stale:
            self.reload_history()

    @Slot(object)
    def set_duration_history(self, history: DurationHistory) -> None:
        self._history = history
        self.update_summary()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload_history()

    def run_estimate(self) -> RunEstimate:
        """How long the ticked models × tasks × runs should take."""
        models = self.model_choices.selected_models()
        tasks = self.task_model.selected_tasks()
        one_round = [PlannedAttempt(m.ref, t.id, m.simulated) for m in models for t in tasks]
        return estimate_run(one_round, self._history, parallel=self._parallel,
                            simulated_pace=self._simulated_pace, repeats=self.repeats.value())

    def apply_defaults(self, settings: AppSettings) -> None:
        """Fill the form from the user's default settings."""
        self._parallel = min((h.concurrency for h in settings.hosts if h.enabled), default=1)
        self._simulated_pace = settings.simulated_pace
        self.repeats.setValue(settings.repeats)
        self.max_turns.setValue(settings.budgets.max_turns or 0)
        self.max_tokens.setValue(settings.budgets.max_tokens or 0)
        self.max_seconds.setValue(round(settings.budgets.max_seconds or 0))
        temperature = settings.temperature
        self.temperature.setValue(self.temperature.minimum() if temperature is None else temperature)
        self.thinking.setCurrentIndex(max(0, self.thinking.findData(settings.think)))
        self.tool_mode.setCurrentIndex(max(0, self.tool_mode.findData(settings.tool_mode)))

    def select_demo_models(self) -> None:
        """Tick every demo model: the good ones and each way of failing."""
        self.model_choices.check_only(lambda m: m.simulated and m.name in PROFILES)

    def set_run_active(self, active: bool) -> None:
        self._run_active = active
        self.update_summary()

    # ---- output ---------------------------------------------------------------------

    def attempt_settings(self) -> AttemptSettings:
        temperature = self.temperature.value()
        think = self.thinking.currentData()
        return AttemptSettings(
            tool_mode=ToolMode(self.tool_mode.currentData()),
            generation=GenerationSettings(
                temperature=None if temperature < 0 else round(temperature, 2),
                think=think if isinstance(think, bool) else None,
            ),
            max_turns=self.max_turns.value() or None,
            max_tokens=self.max_tokens.value() or None,
            max_seconds=float(self.max_seconds.value()) or None,
        )

    def request(self) -> RunRequest:
        return RunRequest(
            models=tuple(self.model_choices.selected_models()),
            tasks=tuple(self.task_model.selected_tasks()),
            repeats=self.repeats.value(),
            settings=self.attempt_settings(),
            name=self.name.text().strip(),
        )

    def blocking_reason(self) -> str:
        """Why Start is disabled, or ``""`` when a run can start."""
        if self._run_active:
            return "A run is in progress; cancel it or wait for it to finish."
        if not self.model_choices.selected_models():
            return "Tick at least one model."
        if not self.task_model.selected_tasks():
            return "Tick at least one task."
        return ""

    @Slot()
    def update_summary(self, *_: object) -> None:
        models = len(self.model_choices.selected_models())
        tasks = len(self.task_model.selected_tasks())
        runs = self.repeats.value()
        self.summary.setText(
            f"{plural(models, 'model')} × {plural(tasks, 'task')} × {plural(runs, 'run')} "
            f"= {plural(models * tasks * runs, 'attempt')}"
        )
        if models and tasks:
            estimate = self.run_estimate()
            self.estimate.setText(f"· about {format_duration(estimate.seconds)}")
            self.estimate.setToolTip(f"Estimated run time: {estimate.basis}")
        else:
            self.estimate.setText("")
        reason = self.blocking_reason()
        self.reason.setText(reason)
        self.start_button.setEnabled(not reason)
        self.start_button.setToolTip(reason or "Start the run (Ctrl+R)")
        self.tune_button.setEnabled(not self._run_active)
        shortfalls = context_shortfalls(
            self.model_choices.selected_models(), self.task_model.selected_tasks(), self.attempt_settings()
        )
        self.context_warning.setText("\n".join(f"⚠ {s.warning}" for s in shortfalls))
        self.context_warning.setVisible(bool(shortfalls))

    @Slot()
    def _on_start(self) -> None:
        if not self.blocking_reason():
            self.start_requested.emit(self.request())

    def sweep_dialog(self) -> SweepDialog:
        """The sweep builder, seeded with this page's models, tasks and settings."""
        models = self.model_choices.selected_models() or self.model_choices.models()
        return SweepDialog(models, self.task_model.selected_tasks(), self.attempt_settings(), self.repeats.value(), self)

    @Slot()
    def open_sweep_builder(self) -> None:
        dialog = self.sweep_dialog()
        if dialog.exec() == SweepDialog.DialogCode.Accepted and not dialog.blocking_reason():
            self.sweep_requested.emit(dialog.request())
