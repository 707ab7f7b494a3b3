"""A chart with its legend beside the plot (never on the data), readable axis text in either
palette, and an empty state in words instead of empty axes."""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QShowEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from app.core.outcomes import Outcome
from app.ui import theme

NOTHING_TICKED = "Tick one or more runs on the left to compare their models."


@dataclass(frozen=True, slots=True)
class MarkFilter:
    """The attempts one mark of a chart stands for; None means any."""

    model: str | None = None  # the series name: model and, if settings differ, its configuration
    task_id: str | None = None
    tier: str | None = None  # "suite/tier"
    outcome: Outcome | None = None


class ChartFrame(QWidget):
    """A plot with a legend column to its right; ``picked`` says which attempts a click means."""

    picked = Signal(object)  # MarkFilter

    def __init__(
        self, title: str, parent: QWidget | None = None, *, legend: bool = True, scrollable: bool = False
    ) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(None)
        # A scrolling chart keeps its title above the scroll area, where it is always in view.
        self.plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0, title=None if scrollable else title)
        self.title = QLabel(f"<b>{title}</b>")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setVisible(scrollable)
        self.plot.hideButtons()  # no stray auto-range button
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.legend: pg.LegendItem | None = None
        if legend:
            self.legend = pg.LegendItem(offset=None, verSpacing=-2)
            self.graphics.addItem(self.legend, row=0, col=1)
            self.graphics.ci.layout.setColumnStretchFactor(0, 4)
        self.empty = QLabel(NOTHING_TICKED)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self._plot_page: QWidget = self.graphics
        if scrollable:  # a big grid keeps readable rows and scrolls instead of squeezing
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(self.graphics)
            self._plot_page = scroll
        self.stack.addWidget(self._plot_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.stack)
        self._palette_changed = False
        self._style_axes()

    @property
    def showing_empty_state(self) -> bool:
        return self.stack.currentWidget() is self.empty

    def show_empty(self, message: str) -> None:
        self.empty.setText(message)
        self.stack.setCurrentWidget(self.empty)

    def show_plot(self) -> None:
        self.stack.setCurrentWidget(self._plot_page)

    def clear(self) -> None:
        self.plot.clear()
        if self.legend is not None:
            self.legend.clear()

    def add_legend_entry(self, item: pg.GraphicsObject, name: str) -> None:
        if self.legend is not None:
            self.legend.addItem(item, name)

    def _style_axes(self) -> None:
        """Axis and title text in the palette's text colour, at the widget's font size."""
        colour = theme.text_color(self.palette())
        font = QFont(self.font())
        font.setPointSizeF(max(9.0, font.pointSizeF()))
        for name in ("left", "bottom", "top"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(colour))
            axis.setTextPen(pg.mkPen(colour))
            axis.setStyle(tickFont=font)
            axis.label.setDefaultTextColor(colour)
        self.plot.titleLabel.setText(self.plot.titleLabel.text, color=colour.name(), size=f"{font.pointSizeF() + 2:g}pt")
        if self.legend is not None:
            self.legend.setLabelTextColor(colour)
            self.legend.setLabelTextSize(f"{font.pointSizeF():g}pt")
            for _, label in self.legend.items:
                label.setText(label.text, color=colour.name())

    def text_colour(self) -> QColor:
        return theme.text_color(self.palette())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._palette_changed = True
            if self.isVisible():
                self._restyle_soon()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._palette_changed:
            self._restyle_soon()

    def _restyle_soon(self) -> None:
        """Restyle on the next turn of the event loop: never inside a palette cascade, and not
        at all once the widget is gone (the timer dies with it)."""
        self._palette_changed = False
        QTimer.singleShot(0, self, self._style_axes)
