"""A progress bar that repaints with the next frame instead of at once.

``QProgressBar.setValue`` repaints synchronously whenever its text shows the value, which
costs a full paint per finished attempt; this strip draws the same styled bar but only
schedules an update, so bursts of progress cost one paint per frame.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyleOptionProgressBar, QStylePainter, QWidget


class ProgressStrip(QWidget):
    """Done of total with a caption drawn by the current style."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._done = 0
        self._total = 1
        self._caption = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_progress(self, done: int, total: int, caption: str) -> None:
        if (done, max(1, total), caption) == (self._done, self._total, self._caption):
            return
        self._done, self._total, self._caption = done, max(1, total), caption
        self.update()

    def value(self) -> int:
        return self._done

    def maximum(self) -> int:
        return self._total

    def text(self) -> str:
        return self._caption

    def sizeHint(self) -> QSize:
        return QSize(200, self.fontMetrics().height() + 10)

    def paintEvent(self, event: QPaintEvent) -> None:
        option = QStyleOptionProgressBar()
        option.initFrom(self)
        option.minimum = 0
        option.maximum = self._total
        option.progress = min(self._done, self._total)
        option.text = self._caption
        option.textVisible = True
        option.state |= QStyle.StateFlag.State_Horizontal
        painter = QStylePainter(self)
        painter.drawControl(QStyle.ControlElement.CE_ProgressBar, option)
