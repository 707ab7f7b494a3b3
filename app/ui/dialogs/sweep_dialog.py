"""The OFAT sweep builder: one model, a baseline, factors each varied alone, N ≥ 3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.plan import AttemptSettings
from app.core.providers.base import ModelInfo
from app.core.tasks.loader import Task
from app.core.tuning.factors import Factor
from app.core.tuning.sweep import MIN_REPEATS, SweepCell, SweepError, SweepSpec
from app.ui import theme
from app.ui.formatting import plural

SUGGESTED_VALUES = {
    Factor.TEMPERATURE: "0, 0.4, 1.0",
    Factor.CONTEXT: "8k, 32k",
    Factor.THINKING: "on, off",
    Factor.TOOL_MODE: "native, prompted",
    Factor.DIRECTIVE: "completeness",
    Factor.TURN_BUDGET: "×2, ×4",
    Factor.TOKEN_BUDGET: "×2, ×4",
}


@dataclass(frozen=True, slots=True)
class SweepRequest:
    model: ModelInfo
    tasks: tuple[Task, ...]
    spec: SweepSpec
    name: str


class FactorRow:
    """A factor's checkbox and the values to try, typed as a comma-separated list.

    The field starts empty, with the suggested values as placeholder text only. Ticking the
    factor fills in the suggestions, selected, so whatever the user types replaces them."""

    def __init__(self, factor: Factor) -> None:
        self.factor = factor
        self.enabled = QCheckBox(factor.caption.capitalize())
        self.values = QLineEdit()
        self.values.setPlaceholderText(f"e.g. {SUGGESTED_VALUES[factor]}")
        self.values.setToolTip(f"Values to try, separated by commas: {factor.hint}")
        self.values.setEnabled(False)
        self.enabled.toggled.connect(self._on_toggled)

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        self.values.setEnabled(on)
        if on and not self.values.text().strip():
            self.values.setText(SUGGESTED_VALUES[self.factor])
            self.values.selectAll()
            self.values.setFocus()

    def parsed(self) -> list[object]:
        """Only what is in the field: never the placeholder."""
        return [self.factor.parse(v) for v in self.values.text().split(",") if v.strip()]


class SweepDialog(QDialog):
    """Shows the cells and the attempt count as you type; OK only when the sweep can run."""

    def __init__(
        self,
        models: Sequence[ModelInfo],
        tasks: Sequence[Task],
        baseline: AttemptSettings,
        repeats: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Tune one model: one factor at a time")
        self.setMinimumWidth(620)
        self._tasks = tuple(tasks)
        self._baseline = baseline
        self._models = list(models)

        self.model = QComboBox()
        for info in self._models:
            self.model.addItem(info.ref() if not info.simulated else f"sim:{info.name}", info)
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 100)
        self.repeats.setValue(max(MIN_REPEATS, repeats))
        self.repeats.setToolTip(f"Runs per cell; a sweep needs at least {MIN_REPEATS}")
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional")

        self.rows = {f: FactorRow(f) for f in Factor}
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Factor</b>"), 0, 0)
        grid.addWidget(QLabel("<b>Values to try</b>"), 0, 1)
        grid.addWidget(QLabel("<b>Baseline</b>"), 0, 2)
        for i, (factor, row) in enumerate(self.rows.items(), start=1):
            grid.addWidget(row.enabled, i, 0)
            grid.addWidget(row.values, i, 1)
            current = QLabel(factor.render(factor.read(baseline)))
            current.setToolTip("The baseline's value, from the Run setup form")
            grid.addWidget(current, i, 2)
            row.enabled.toggled.connect(self.update_summary)
            row.values.textChanged.connect(self.update_summary)
        grid.setColumnStretch(1, 1)
        factors_box = QGroupBox("Vary each factor alone against the baseline")
        factors_box.setLayout(grid)

        header = QGridLayout()
        header.addWidget(QLabel("Model"), 0, 0)
        header.addWidget(self.model, 0, 1)
        header.addWidget(QLabel("Runs per cell"), 1, 0)
        header.addWidget(self.repeats, 1, 1)
        header.addWidget(QLabel("Name"), 2, 0)
        header.addWidget(self.name, 2, 1)
        header.setColumnStretch(1, 1)

        self.tasks_label = QLabel(f"Tasks: the {plural(len(self._tasks), 'task')} ticked in Run setup.")
        self.cells = QLabel()
        self.cells.setWordWrap(True)
        self.cells.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel()
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        self.reason = QLabel()
        self.reason.setWordWrap(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start = self.buttons.addButton("Start sweep", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(factors_box)
        layout.addWidget(self.tasks_label)
        layout.addWidget(self.cells)
        layout.addWidget(self.summary)
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)
        self.repeats.valueChanged.connect(self.update_summary)
        self.update_summary()

    def spec(self) -> SweepSpec:
        """The sweep as the form stands; ``ValueError``/``SweepError`` say what is wrong."""
        factors = {f: row.parsed() for f, row in self.rows.items() if row.enabled.isChecked()}
        return SweepSpec(self._baseline, factors, self.repeats.value())  # type: ignore[arg-type]

    def cell_list(self) -> list[SweepCell]:
        return self.spec().cells()

    def is_incomplete(self) -> bool:
        """Nothing chosen yet (no factor ticked): a hint, not an error."""
        return bool(self._models and self._tasks) and not any(r.enabled.isChecked() for r in self.rows.values())

    def blocking_reason(self) -> str:
        if not self._models:
            return "Tick at least one model in Run setup."
        if not self._tasks:
            return "Tick at least one task in Run setup."
        try:
            self.cell_list()
        except (SweepError, ValueError) as error:
            return str(error)[:1].upper() + str(error)[1:] + "."
        return ""

    def request(self) -> SweepRequest:
        return SweepRequest(self.model.currentData(), self._tasks, self.spec(), self.name.text().strip())

    @Slot()
    def update_summary(self, *_: object) -> None:
        reason = self.blocking_reason()
        if reason:
            self.cells.setText("")
            self.summary.setText("")
        else:
            cells = self.cell_list()
            runs = self.repeats.value()
            self.cells.setText("Cells: " + " · ".join(c.label for c in cells))
            self.summary.setText(
                f"{plural(len(cells), 'cell')} × {plural(len(self._tasks), 'task')} × {plural(runs, 'run')} "
                f"= {plural(len(cells) * len(self._tasks) * runs, 'attempt')}"
            )
        if self.is_incomplete():
            self.reason.setText("Tick a factor to vary, and the values to try.")
            self.reason.setStyleSheet("")
        else:
            self.reason.setText(reason)
            self.reason.setStyleSheet(f"color: {theme.error_text_color(self.palette()).name()};" if reason else "")
        self.start.setEnabled(not reason)
        self.start.setToolTip(reason or "Store the sweep and run it")
