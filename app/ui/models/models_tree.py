"""Qt item model of discovered hosts and their models, and a delegate that draws badges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.core.providers.base import HostStatus, ModelInfo, ProviderKind
from app.ui import theme
from app.ui.formatting import format_context, format_size, plural

Index = QModelIndex | QPersistentModelIndex
BADGES_ROLE = Qt.ItemDataRole.UserRole + 10
HOST_ROLE = Qt.ItemDataRole.UserRole + 11
MODEL_ROLE = Qt.ItemDataRole.UserRole + 12

BADGE_HUES = {"tools": 210, "thinking": 270, "vision": 180, "loaded": 120, "simulated": 300}
_HOST_ROW = 0xFFFFFFFF  # internal id of a host row; model rows carry their host's row


HOST_KINDS = {
    ProviderKind.OLLAMA: "Ollama",
    ProviderKind.OPENAI: "OpenAI-compatible",
    ProviderKind.ANTHROPIC: "Anthropic (cloud)",
    ProviderKind.OPENAI_CLOUD: "OpenAI (cloud)",
}


def host_title(status: HostStatus, label: str = "") -> str:
    """One line per host: what it is, and how many models it has or that it did not answer."""
    if status.provider is ProviderKind.SIMULATED:
        return f"Simulated demo models (built in) — {plural(len(status.models), 'model')}"
    kind = HOST_KINDS.get(status.provider, "OpenAI-compatible")
    name = f"{label} · {status.host}" if label and label != kind else status.host
    if not status.reachable:
        return f"{kind} · {name} — not reachable"
    version = f" (version {status.version})" if status.version else ""
    return f"{kind} · {name}{version} — {plural(len(status.models), 'model')}"


class HostModelsTreeModel(QAbstractItemModel):
    """Hosts as top-level rows (spanning all columns), their models as children."""

    HEADERS = (
        "Model", "Family", "Parameters", "Quantization", "Size", "Context", "Capabilities", "State",
        "Notes",
    )

    def __init__(self) -> None:
        super().__init__()
        self._hosts: list[HostStatus] = []
        self._labels: dict[str, str] = {}

    def set_hosts(self, hosts: Sequence[HostStatus], labels: dict[str, str] | None = None) -> None:
        self.beginResetModel()
        self._hosts = list(hosts)
        self._labels = dict(labels or {})
        self.endResetModel()

    @property
    def hosts(self) -> list[HostStatus]:
        return list(self._hosts)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _HOST_ROW)
        return self.createIndex(row, column, parent.row())

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == _HOST_ROW:
            return QModelIndex()
        return self.createIndex(int(index.internalId()), 0, _HOST_ROW)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._hosts)
        if parent.internalId() == _HOST_ROW and parent.column() == 0:
            return len(self._hosts[parent.row()].models)
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == _HOST_ROW:
            return self._host_data(self._hosts[index.row()], index.column(), role)
        host = self._hosts[int(index.internalId())]
        return self._model_data(host.models[index.row()], index.column(), role)

    def _host_data(self, status: HostStatus, column: int, role: int) -> Any:
        if role == HOST_ROLE:
            return status
        if column != 0:
            return None
        title = host_title(status, self._labels.get(status.host, ""))
        if role == Qt.ItemDataRole.DisplayRole:
            return title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{title}\n{status.error}" if status.error else title
        if role == Qt.ItemDataRole.BackgroundRole and not status.reachable:
            return theme.tint(0, None)
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _model_data(self, info: ModelInfo, column: int, role: int) -> Any:
        if role == MODEL_ROLE:
            return info
        if role == BADGES_ROLE:
            if column == 6:
                return sorted(info.capabilities)
            if column == 7:
                return ["simulated"] if info.simulated else (["loaded"] if info.loaded else [])
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return info.description or info.ref
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        values = (
            info.name,
            info.family or "—",
            info.parameter_size or "—",
            info.quantization or "—",
            "built in" if info.simulated else format_size(info.size_bytes),
            format_context(info.context_length),
            ", ".join(sorted(info.capabilities)),
            "simulated" if info.simulated else ("loaded" if info.loaded else ""),
            info.description,
        )
        return values[column]


class BadgeDelegate(QStyledItemDelegate):
    """Draws the strings of ``BADGES_ROLE`` as small coloured pills."""

    PAD = 6

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        badges = index.data(BADGES_ROLE)
        if badges is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        metrics = QFontMetrics(opt.font)
        x = opt.rect.x() + 4
        height = metrics.height() + 2
        y = opt.rect.y() + (opt.rect.height() - height) // 2
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for badge in badges:
            width = metrics.horizontalAdvance(badge) + 2 * self.PAD
            if x + width > opt.rect.right():
                break
            rect = QRect(x, y, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.tint(BADGE_HUES.get(badge, 210), opt.palette, strong=True))
            painter.drawRoundedRect(rect, height / 2, height / 2)
            painter.setPen(theme.text_color(opt.palette))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, badge)
            x += width + 4
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        badges = index.data(BADGES_ROLE)
        hint = super().sizeHint(option, index)
        if not badges:
            return hint
        metrics = QFontMetrics(option.font)
        width = sum(metrics.horizontalAdvance(b) + 2 * self.PAD + 4 for b in badges) + 8
        return QSize(max(hint.width(), width), max(hint.height(), metrics.height() + 6))
