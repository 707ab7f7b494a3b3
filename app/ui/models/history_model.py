"""Qt item model of stored runs, one row per run summary from the repository."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.ui import theme
from app.ui.formatting import format_rate, format_when
from app.ui.models.run_models import short_model_name

if TYPE_CHECKING:
    from app.core.store.repository import RunSummary

Index = QModelIndex | QPersistentModelIndex
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 30
STATUS_HUES = {"finished": 120, "cancelled": 45, "interrupted": 28, "failed": 0}


def is_resumable(summary: RunSummary, active_run_id: str | None = None) -> bool:
    """A run with attempts left that is not executing now can be resumed."""
    return summary.resumable and summary.id != active_run_id


def display_names(runs: Sequence[RunSummary]) -> dict[str, str]:
    """Run names, with the configuration added where runs of the same name were run differently."""
    by_name: dict[str, set[tuple[str, ...]]] = {}
    for run in runs:
        by_name.setdefault(run.name, set()).add(run.configurations)
    return {
        run.id: f"{run.name} · {describe_configurations(run)}"
        if len(by_name[run.name]) > 1 and describe_configurations(run) not in run.name
        else run.name
        for run in runs
    }


def describe_configurations(run: RunSummary) -> str:
    """How the run's attempts were run: one configuration, or how many a sweep has."""
    if len(run.configurations) == 1:
        return run.configurations[0]
    return f"{len(run.configurations)} configurations" if run.configurations else "—"


class RunHistoryModel(QAbstractTableModel):
    HEADERS = ("When", "Name", "Models", "Mode", "Suites", "Attempts", "Pass rate", "Status")
    WHEN, NAME, MODELS, MODE, SUITES, ATTEMPTS, PASS_RATE, STATUS = range(8)

    def __init__(self) -> None:
        super().__init__()
        self._runs: list[RunSummary] = []
        self._names: dict[str, str] = {}
        self.active_run_id: str | None = None

    def set_runs(self, runs: Sequence[RunSummary]) -> None:
        self.beginResetModel()
        self._runs = list(runs)
        self._names = display_names(self._runs)
        self.endResetModel()

    def run_at(self, row: int) -> RunSummary | None:
        return self._runs[row] if 0 <= row < len(self._runs) else None

    def row_of(self, run_id: str) -> int:
        return next((i for i, r in enumerate(self._runs) if r.id == run_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._runs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def status_of(self, summary: RunSummary) -> str:
        return "running" if summary.id == self.active_run_id else str(summary.status)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self._runs[index.row()]
        column = index.column()
        if role == RUN_ID_ROLE:
            return run.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(run, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.MODELS:
                return "\n".join(run.models)
            if column == self.MODE:
                return "\n".join(run.configurations) or None
            return f"run {run.id}"
        if role == Qt.ItemDataRole.BackgroundRole and column == self.STATUS:
            hue = STATUS_HUES.get(self.status_of(run))
            return None if hue is None else theme.tint(hue, None)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (self.ATTEMPTS, self.PASS_RATE):
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def _text(self, run: RunSummary, column: int) -> str:
        if column == self.WHEN:
            return format_when(run.created_at)
        if column == self.NAME:
            return self._names.get(run.id, run.name)
        if column == self.MODELS:
            models = [short_model_name(m) for m in run.models]
            return ", ".join(models[:3]) + (f" +{len(models) - 3}" if len(models) > 3 else "")
        if column == self.MODE:
            return describe_configurations(run)
        if column == self.SUITES:
            return ", ".join(run.suites)
        if column == self.ATTEMPTS:
            return f"{run.attempts_done}/{run.attempts_total}"
        if column == self.PASS_RATE:
            return format_rate(run.pass_rate)
        return self.status_of(run)
