"""Checkable item models for Run setup: suites → tiers → tasks, and the discovered models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from app.core.providers.base import HostStatus, ModelInfo
from app.core.tasks.loader import Catalog, Task
from app.ui.formatting import dimension_label, plural

Index = QModelIndex | QPersistentModelIndex
TASK_ROLE = Qt.ItemDataRole.UserRole + 20
MODEL_INFO_ROLE = Qt.ItemDataRole.UserRole + 21
GROUP_ROLE = Qt.ItemDataRole.UserRole + 22  # (suite id, tier or None) of a parent row
CHECK = Qt.ItemDataRole.CheckStateRole
Checked, Unchecked, Partial = (
    Qt.CheckState.Checked,
    Qt.CheckState.Unchecked,
    Qt.CheckState.PartiallyChecked,
)


def _check_state(value: Any) -> Qt.CheckState:
    return value if isinstance(value, Qt.CheckState) else Qt.CheckState(value)


class TaskSelectionModel(QStandardItemModel):
    """Suites and tiers are tri-state parents whose state follows their tasks (and sets them)."""

    def __init__(self) -> None:
        super().__init__()
        self.setHorizontalHeaderLabels(["Task", "Dimension"])
        self._updating = False

    def set_catalog(self, catalog: Catalog, checked_suites: Sequence[str] = ("readiness",)) -> None:
        self.clear()
        self.setHorizontalHeaderLabels(["Task", "Dimension"])
        for suite in catalog.suites.values():
            suite_item = self._parent_item(suite.spec.title or suite.id, suite.spec.description)
            suite_item.setData((suite.id, None), GROUP_ROLE)
            for tier in suite.spec.tiers:
                tasks = [t for t in suite.tasks if t.tier == tier]
                if not tasks:
                    continue
                tier_item = self._parent_item(tier, f"{suite.id} · tier {tier}")
                tier_item.setData((suite.id, tier), GROUP_ROLE)
                for task in tasks:
                    item = QStandardItem(task.spec.title)
                    item.setData(task, TASK_ROLE)
                    item.setToolTip(f"{task.id}\n{task.spec.conversation()[0].prompt.strip()[:300]}")
                    item.setCheckable(True)
                    item.setEditable(False)
                    item.setCheckState(Checked if suite.id in checked_suites else Unchecked)
                    dimension = QStandardItem(dimension_label(task.spec.dimension))
                    dimension.setEditable(False)
                    tier_item.appendRow([item, dimension])
                suite_item.appendRow([tier_item, _blank()])
            self.appendRow([suite_item, _blank()])
        self._updating = True
        try:
            for row in range(self.rowCount()):
                self._refresh_parent(self.item(row))
        finally:
            self._updating = False

    @staticmethod
    def _parent_item(text: str, tooltip: str) -> QStandardItem:
        item = QStandardItem(text)
        item.setCheckable(True)
        item.setUserTristate(False)
        item.setEditable(False)
        item.setToolTip(tooltip.strip())
        item.setData(text, Qt.ItemDataRole.UserRole)
        return item

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != CHECK or self._updating:
            return super().setData(index, value, role)
        item = self.itemFromIndex(QModelIndex(index))
        state = _check_state(value)
        if state is Partial:
            state = Checked
        self._updating = True
        try:
            ok = super().setData(index, state, role)
            self._set_descendants(item, state)
            top = item
            while top.parent() is not None:
                top = top.parent()
            self._refresh_parent(top)
        finally:
            self._updating = False
        return ok

    def _set_descendants(self, item: QStandardItem, state: Qt.CheckState) -> None:
        for row in range(item.rowCount()):
            child = item.child(row)
            child.setCheckState(state)
            self._set_descendants(child, state)

    def _refresh_parent(self, item: QStandardItem) -> tuple[int, int]:
        """Recompute parents bottom-up; returns (checked tasks, tasks) below ``item``."""
        if item.data(TASK_ROLE) is not None:
            return (1 if item.checkState() is Checked else 0, 1)
        checked = total = 0
        for row in range(item.rowCount()):
            c, t = self._refresh_parent(item.child(row))
            checked, total = checked + c, total + t
        state = Checked if total and checked == total else (Partial if checked else Unchecked)
        item.setCheckState(state)
        base = item.data(Qt.ItemDataRole.UserRole)
        item.setText(f"{base}  ({checked} of {plural(total, 'task')})")
        return checked, total

    def check_only(self, suite: str, tier: str | None = None) -> None:
        """Tick exactly the tasks of ``suite`` (only its ``tier`` if given), as clicks would."""
        for row in range(self.rowCount()):
            self.setData(self.item(row).index(), Unchecked, CHECK)
        for row in range(self.rowCount()):
            suite_item = self.item(row)
            if suite_item.data(GROUP_ROLE) != (suite, None):
                continue
            targets = [suite_item] if tier is None else [
                suite_item.child(r) for r in range(suite_item.rowCount())
                if suite_item.child(r).data(GROUP_ROLE) == (suite, tier)
            ]
            for item in targets:
                self.setData(item.index(), Checked, CHECK)

    def selected_tasks(self) -> list[Task]:
        found: list[Task] = []

        def walk(item: QStandardItem) -> None:
            task = item.data(TASK_ROLE)
            if task is not None and item.checkState() is Checked:
                found.append(task)
            for row in range(item.rowCount()):
                walk(item.child(row))

        for row in range(self.rowCount()):
            walk(self.item(row))
        return found


def _blank() -> QStandardItem:
    item = QStandardItem()
    item.setEditable(False)
    return item


class ModelChoiceModel(QStandardItemModel):
    """The models of the last discovery, each with a checkbox; simulated ones say so."""

    def set_hosts(self, statuses: Sequence[HostStatus]) -> None:
        previously = {m.ref for m in self.selected_models()}
        self.clear()
        for status in statuses:
            for info in status.models:
                label = f"{info.ref}  (simulated)" if info.simulated else info.ref
                item = QStandardItem(label)
                item.setData(info, MODEL_INFO_ROLE)
                item.setCheckable(True)
                item.setEditable(False)
                extra = [info.parameter_size, info.quantization if not info.simulated else None]
                facts = " · ".join(x for x in extra if x)
                tip = info.description or info.ref
                item.setToolTip(f"{tip}\n{facts}" if facts else tip)
                item.setCheckState(Checked if info.ref in previously else Unchecked)
                self.appendRow(item)

    def models(self) -> list[ModelInfo]:
        return [self.item(r).data(MODEL_INFO_ROLE) for r in range(self.rowCount())]

    def selected_models(self) -> list[ModelInfo]:
        return [
            self.item(r).data(MODEL_INFO_ROLE)
            for r in range(self.rowCount())
            if self.item(r).checkState() is Checked
        ]

    def check_only(self, predicate: Any) -> None:
        """Check exactly the models for which ``predicate(info)`` is true."""
        for row in range(self.rowCount()):
            item = self.item(row)
            item.setCheckState(Checked if predicate(item.data(MODEL_INFO_ROLE)) else Unchecked)
