"""pyqtgraph charts of a comparison: pass rate by tier with intervals, failure modes,
agent vs code score, score vs speed. Each chart saves as PNG or SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from app.core.metrics import Rate
from app.core.reports.data import ReportData
from app.core.reports.svg import FAILURE_COLOURS, PALETTE


class _RateBars(pg.PlotWidget):
    """Grouped bars, one colour per model, whiskers for the 95% interval. Click a bar: ``picked``."""

    picked = Signal(str, str)  # model, task id ("" for all tasks)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, title=title)
        self._series: list[str] = []
        self.scene().sigMouseClicked.connect(self._on_click)
        self.setBackground(None)
        self.setLabel("left", "pass rate", units="%")
        self.setYRange(0, 100)
        self.setMouseEnabled(x=False, y=False)
        self.addLegend(offset=(-10, 10))
        self.bars: list[pg.BarGraphItem] = []

    def _on_click(self, event: object) -> None:
        point = self.getPlotItem().vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        width = 0.8 / max(1, len(self._series))
        offset = point.x() - round(point.x()) + 0.4
        index = int(offset // width) if 0 <= offset < 0.8 else -1
        if 0 <= index < len(self._series):
            self.picked.emit(self._series[index], "")

    def _draw(self, groups: list[str], series: list[tuple[str, list[Rate]]]) -> None:
        self.clear()
        self.bars = []
        self._series = [name for name, _ in series]
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
    picked = Signal(str, str)

    def __init__(self, title: str, x_label: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, title=title)
        self.setBackground(None)
        self.setLabel("bottom", x_label)
        self.setLabel("left", y_label)
        self.setMouseEnabled(x=False, y=False)
        self.addLegend(offset=(10, -10))  # bottom-left: points crowd the top right
        self.points: list[tuple[str, float, float]] = []

    def _draw(self, points: list[tuple[str, float, float]]) -> None:
        self.clear()
        self.points = points
        for i, (name, x, y) in enumerate(points):
            item = pg.ScatterPlotItem([x], [y], size=12, brush=QColor(PALETTE[i % len(PALETTE)]), name=name)
            item.sigClicked.connect(lambda *_, model=name: self.picked.emit(model, ""))
            self.addItem(item)


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


class TaskHeatmap(pg.PlotWidget):
    """Model × task pass share (red 0 → green 1; grey where nothing was scored)."""

    picked = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, title="Pass share per task and model")
        self.setBackground(None)
        self.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem()
        self.addItem(self.image)
        self.invertY(True)
        self.models: list[str] = []
        self.tasks: list[str] = []
        self.matrix = np.zeros((0, 0))
        self.image.mouseClickEvent = self._on_click  # type: ignore[method-assign]

    def show_data(self, data: ReportData) -> None:
        self.models = [m.model for m in data.models]
        self.tasks = [task for _, _, task in data.tasks]
        matrix = np.full((len(self.models), len(self.tasks)), np.nan)
        for col, model in enumerate(self.models):
            for row, task in enumerate(self.tasks):
                rate = data.cells.get((task, model))
                if rate is not None and rate.scored:
                    matrix[col, row] = rate.passed / rate.scored
        self.matrix = matrix
        colours = np.zeros((*matrix.shape, 4), dtype=np.ubyte)
        for (x, y), share in np.ndenumerate(matrix):
            if np.isnan(share):
                colours[x, y] = (148, 163, 184, 255)
            else:
                colours[x, y] = (int(239 - 205 * share), int(68 + 129 * share), int(68 + 26 * share), 255)
        self.image.setImage(colours, levels=None)
        self.getAxis("bottom").setTicks([[(i + 0.5, m) for i, m in enumerate(self.models)]])
        self.getAxis("left").setTicks([[(i + 0.5, t) for i, t in enumerate(self.tasks)]])

    def _on_click(self, event: object) -> None:
        pos = event.pos()  # type: ignore[attr-defined]
        col, row = int(pos.x()), int(pos.y())
        if 0 <= col < len(self.models) and 0 <= row < len(self.tasks):
            self.picked.emit(self.models[col], self.tasks[row])


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
