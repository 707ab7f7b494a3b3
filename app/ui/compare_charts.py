"""pyqtgraph charts of a comparison: pass rate by tier with intervals, failure modes,
agent vs code score, score vs speed. Each chart saves as PNG or SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from app.core.metrics import Rate
from app.core.reports.data import ReportData
from app.core.reports.svg import FAILURE_COLOURS, PALETTE


class _RateBars(pg.PlotWidget):
    """Grouped bars, one colour per model, whiskers for the 95% interval."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, title=title)
        self.setBackground(None)
        self.setLabel("left", "pass rate", units="%")
        self.setYRange(0, 100)
        self.setMouseEnabled(x=False, y=False)
        self.addLegend(offset=(-10, 10))
        self.bars: list[pg.BarGraphItem] = []

    def _draw(self, groups: list[str], series: list[tuple[str, list[Rate]]]) -> None:
        self.clear()
        self.bars = []
        width = 0.8 / max(1, len(series))
        for i, (name, rates) in enumerate(series):
            xs = [gi - 0.4 + width * (i + 0.5) for gi in range(len(groups))]
            heights = [100 * (r.value or 0.0) for r in rates]
            bar = pg.BarGraphItem(x=xs, height=heights, width=width * 0.9, brush=QColor(PALETTE[i % len(PALETTE)]), name=name)
            self.addItem(bar)
            self.bars.append(bar)
            lows = [100 * ((r.value or 0) - r.interval[0]) if r.scored else 0 for r in rates]
            highs = [100 * (r.interval[1] - (r.value or 0)) if r.scored else 0 for r in rates]
            self.addItem(pg.ErrorBarItem(x=np.array(xs), y=np.array(heights), bottom=np.array(lows),
                                         top=np.array(highs), beam=width * 0.3))
        self.getAxis("bottom").setTicks([[(i, g) for i, g in enumerate(groups)]])


class PassRateByTier(_RateBars):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Pass rate by tier (95% interval)", parent)

    def show_data(self, data: ReportData) -> None:
        tiers = sorted({t for m in data.models for t in m.by_tier})
        self._draw(tiers, [(m.model, [m.by_tier.get(t) or Rate(0, 0) for t in tiers]) for m in data.models])


class RawVsHarness(_RateBars):
    """The same model in each tool-calling mode: how much of its failure is format."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Agent score by tool-calling mode (raw = native)", parent)

    def show_data(self, data: ReportData) -> None:
        modes = sorted({mode for m in data.models for mode in m.by_mode})
        self._draw(modes, [(m.model, [m.by_mode.get(x) or Rate(0, 0) for x in modes]) for m in data.models])


class FailureModes(pg.PlotWidget):
    """One stacked bar per model: how its failed attempts ended."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, title="How failed attempts ended")
        self.setBackground(None)
        self.setLabel("left", "attempts")
        self.setMouseEnabled(x=False, y=False)
        self.addLegend(offset=(-10, 10))
        self.segments: list[pg.BarGraphItem] = []

    def show_data(self, data: ReportData) -> None:
        self.clear()
        self.segments = []
        modes = [m for m in FAILURE_COLOURS if any(model.failures.get(m) for model in data.models)]
        bottoms = [0.0] * len(data.models)
        for mode in modes:
            heights = [float(model.failures.get(mode, 0)) for model in data.models]
            item = pg.BarGraphItem(x=list(range(len(data.models))), height=heights, y0=list(bottoms), width=0.6,
                                   brush=QColor(FAILURE_COLOURS[mode]), name=mode.value)
            self.addItem(item)
            self.segments.append(item)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        self.getAxis("bottom").setTicks([[(i, m.model) for i, m in enumerate(data.models)]])


class _Scatter(pg.PlotWidget):
    def __init__(self, title: str, x_label: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, title=title)
        self.setBackground(None)
        self.setLabel("bottom", x_label)
        self.setLabel("left", y_label)
        self.setMouseEnabled(x=False, y=False)
        self.addLegend(offset=(-10, 10))
        self.points: list[tuple[str, float, float]] = []

    def _draw(self, points: list[tuple[str, float, float]]) -> None:
        self.clear()
        self.points = points
        for i, (name, x, y) in enumerate(points):
            self.addItem(pg.ScatterPlotItem([x], [y], size=12, brush=QColor(PALETTE[i % len(PALETTE)]), name=name))


class AgentVsCode(_Scatter):
    """The gap chart: agent score against code score, with the diagonal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Agent score vs code score", "code score (one-shot) %", "agent score %", parent)

    def show_data(self, data: ReportData) -> None:
        points = [(m.model, 100 * (m.code.value or 0), 100 * (m.agent.value or 0))
                  for m in data.models if m.code.scored and m.agent.scored]
        self._draw(points)
        self.addItem(pg.PlotDataItem([0, 100], [0, 100], pen=pg.mkPen("#94a3b8", style=pg.QtCore.Qt.PenStyle.DashLine)))
        self.setXRange(0, 100)
        self.setYRange(0, 100)


class ScoreVsSpeed(_Scatter):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Agent score vs speed", "tokens/s", "agent score %", parent)

    def show_data(self, data: ReportData) -> None:
        self._draw([(m.model, m.tokens_per_s or 0.0, 100 * (m.agent.value or 0))
                    for m in data.models if m.agent.scored and m.tokens_per_s])
        self.setYRange(0, 100)


def save_chart(widget: QWidget, path: Path) -> Path:
    """PNG from a grab; SVG rendered through QSvgGenerator (pyqtgraph's SVG exporter is not used)."""
    if path.suffix.lower() == ".svg":
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        size = widget.size()
        generator.setSize(QSize(size.width(), size.height()))
        generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
        generator.setTitle(widget.windowTitle() or "AgentGap chart")
        painter = QPainter(generator)
        widget.render(painter)
        painter.end()
    else:
        widget.grab().save(str(path.with_suffix(".png") if path.suffix.lower() != ".png" else path))
    return path
