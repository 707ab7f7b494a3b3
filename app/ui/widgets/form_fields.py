"""Input widgets and choices shared by Run setup and Preferences."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QSpinBox

from app.core.outcomes import ToolMode

TOOL_MODE_CHOICES = (
    (ToolMode.RECOVERY, "native + recovery (reads calls written as text)"),
    (ToolMode.NATIVE, "native only (the raw score)"),
    (ToolMode.PROMPTED, "prompted (tools described in the prompt)"),
)
THINKING_CHOICES = ((None, "server default"), (True, "on"), (False, "off"))


def budget_spin_box(maximum: int, suffix: str, tip: str, *, step: int = 1) -> QSpinBox:
    """A spin box whose lowest value reads "task default" (stored as None)."""
    box = QSpinBox()
    box.setRange(0, maximum)
    box.setSpecialValueText("task default")
    box.setSuffix(suffix)
    box.setSingleStep(step)
    box.setToolTip(tip)
    return box


def choice_box(choices: tuple[tuple[object, str], ...], current: object) -> QComboBox:
    """A combo box of (value, label) pairs with ``current`` selected."""
    box = QComboBox()
    for value, text in choices:
        box.addItem(text, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box
