"""Qt item models over a ``RunState``: the model × task grid and the list of attempts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from app.core.outcomes import Outcome
from app.ui import theme
from app.ui.models.run_state import AttemptState, AttemptStatus, Cell, RunState

Index = QModelIndex | QPersistentModelIndex
ATTEMPT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
CELL_ROLE = Qt.ItemDataRole.UserRole + 2


def short_model_name(label: str) -> str:
    """``localhost:11434/qwen2.5:3b`` → ``qwen2.5:3b``; ``sim:competent`` stays as it is."""
    if label.startswith("sim:"):
        return label
    return label.rsplit("/", 1)[-1]


def header_model_name(label: str) -> str:
    """Two short lines for a grid column: ``sim:`` / ``competent``, ``qwen2.5:`` / ``3b``."""
    name = short_model_name(label)
    head, colon, tail = name.partition(":")
    return f"{head}:\n{tail}" if colon and tail else name


def outcome_label(state: AttemptState) -> str:
    if state.status is AttemptStatus.RUNNING:
        return "running…"
    if state.outcome is None:
        return "not run yet"
    return state.outcome.value.replace("_", " ")


class RunGridModel(QAbstractTableModel):
    """Rows are tasks, columns are models; a cell reads ``k/n`` (passes of scored attempts).
    A last row totals each model's column."""

    TOTAL = "Total"

    def __init__(self) -> None:
        super().__init__()
        self._state: RunState | None = None

    def set_state(self, state: RunState | None) -> None:
        self.beginResetModel()
        self._state = state
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self._state is None or not self._state.tasks:
            return 0
        return len(self._state.tasks) + 1

    def is_total_row(self, row: int) -> bool:
        return self._state is not None and row == len(self._state.tasks)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._state is None else len(self._state.models)

    def cell_at(self, index: Index) -> Cell | None:
        """The task × model of a cell; None for the totals row."""
        if self._state is None or not index.isValid() or self.is_total_row(index.row()):
            return None
        return (self._state.tasks[index.row()], self._state.models[index.column()])

    def cells_changed(self, cells: Iterable[Cell]) -> None:
        if self._state is None:
            return
        rows = {t: i for i, t in enumerate(self._state.tasks)}
        cols = {m: i for i, m in enumerate(self._state.models)}
        changed: set[int] = set()
        for task, model in cells:
            if task in rows and model in cols:
                index = self.index(rows[task], cols[model])
                self.dataChanged.emit(index, index)
                changed.add(cols[model])
        total_row = len(self._state.tasks)
        for column in changed:
            index = self.index(total_row, column)
            self.dataChanged.emit(index, index)

    def _column_attempts(self, column: int) -> list[AttemptState]:
        assert self._state is not None
        model = self._state.models[column]
        return [a for task in self._state.tasks for a in self._state.cell_outcomes((task, model))]

    def _total(self, index: Index, role: int) -> Any:
        attempts = self._column_attempts(index.column())
        scored = [a.outcome for a in attempts if a.outcome is not None and a.outcome.counts_in_score]
        passed = sum(1 for o in scored if o is Outcome.PASSED)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{passed}/{len(scored)}" if scored else "·"
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole:
            return theme.pass_share_color(passed / len(scored)) if scored else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.ToolTipRole:
            share = f" ({100 * passed / len(scored):.0f}%)" if scored else ""
            return f"{self._state.models[index.column()] if self._state else ''}: {passed} of {len(scored)} " \
                   f"scored attempts passed{share}; {len(attempts) - len(scored)} not finished or not scored"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self._state is not None and index.isValid() and self.is_total_row(index.row()):
            return self._total(index, role)
        cell = self.cell_at(index)
        if cell is None or self._state is None:
            return None
        attempts = self._state.cell_outcomes(cell)
        scored = [a.outcome for a in attempts if a.outcome is not None and a.outcome.counts_in_score]
        passed = sum(1 for o in scored if o is Outcome.PASSED)
        if role == Qt.ItemDataRole.DisplayRole:
            running = any(a.status is AttemptStatus.RUNNING for a in attempts)
            if not scored:
                return "▸" if running else "·"
            return f"{passed}/{len(scored)}" + (" ▸" if running else "")
        if role == Qt.ItemDataRole.BackgroundRole:
            return theme.pass_share_color(passed / len(scored)) if scored else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(cell, attempts, passed, len(scored))
        if role == CELL_ROLE:
            return cell
        return None

    def _tooltip(self, cell: Cell, attempts: list[AttemptState], passed: int, scored: int) -> str:
        task, model = cell
        title = self._state.task_titles.get(task, task) if self._state else task
        lines = [f"{model} — {title}", f"{passed} of {scored} scored run(s) passed"]
        for a in sorted(attempts, key=lambda s: s.repeat):
            detail = f": {a.detail}" if a.detail and a.outcome is not Outcome.PASSED else ""
            lines.append(f"run {a.repeat + 1}: {outcome_label(a)}{detail}")
        return "\n".join(lines)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if self._state is None:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._state.models):
            label = self._state.models[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return header_model_name(label)
            if role == Qt.ItemDataRole.ToolTipRole:
                return label
        if orientation == Qt.Orientation.Vertical and self.is_total_row(section):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.TOTAL
            if role == Qt.ItemDataRole.ToolTipRole:
                return "Every task of the model's column"
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._state.tasks):
            task = self._state.tasks[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return self._state.task_titles.get(task, task)
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{self._state.task_titles.get(task, task)}\n{task}"
        return None


class AttemptListModel(QAbstractTableModel):
    """Attempts in the order they started, with their status or outcome."""

    HEADERS = ("Outcome", "Model", "Task", "Run")

    def __init__(self) -> None:
        super().__init__()
        self._state: RunState | None = None
        self._rows: list[str] = []
        self._row_of: dict[str, int] = {}

    def set_state(self, state: RunState | None) -> None:
        self.beginResetModel()
        self._state = state
        self._rows = list(state.order) if state else []
        self._row_of = {a: i for i, a in enumerate(self._rows)}
        self.endResetModel()

    def sync_rows(self) -> None:
        """Append rows for attempts that started since the last call."""
        if self._state is None or len(self._state.order) == len(self._rows):
            return
        new = self._state.order[len(self._rows) :]
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(new) - 1)
        for attempt_id in new:
            self._row_of[attempt_id] = len(self._rows)
            self._rows.append(attempt_id)
        self.endInsertRows()

    def attempts_changed(self, attempt_ids: Iterable[str]) -> None:
        for attempt_id in attempt_ids:
            row = self._row_of.get(attempt_id)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))

    def row_of(self, attempt_id: str) -> int:
        return self._row_of.get(attempt_id, -1)

    def attempt_id(self, row: int) -> str | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self._state is None or not index.isValid():
            return None
        state = self._state.attempts[self._rows[index.row()]]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return outcome_label(state)
            if column == 1:
                return short_model_name(state.model)
            if column == 2:
                return self._state.task_titles.get(state.task_id, state.task_id)
            return str(state.repeat + 1)
        if role == Qt.ItemDataRole.BackgroundRole and column == 0 and state.outcome is not None:
            return theme.outcome_color(state.outcome)
        if role == Qt.ItemDataRole.ToolTipRole:
            text = f"{state.model} · {state.task_id} · run {state.repeat + 1}\n{outcome_label(state)}"
            if state.outcome is not None:
                text += f" — {state.outcome.describe}"
            return text + (f"\n{state.detail}" if state.detail else "")
        if role == ATTEMPT_ID_ROLE:
            return state.attempt_id
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None
