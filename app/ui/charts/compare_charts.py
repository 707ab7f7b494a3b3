"""pyqtgraph charts of a comparison: pass rate by tier with intervals, failure modes as shares,
raw vs harness, agent vs code score, score vs speed, and a model × task heatmap.

Every series is a model in one configuration (``ModelReport.model``), never a pool of unlike
settings; every mark emits the ``MarkFilter`` of the attempts it stands for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from app.core.metrics import Rate
from app.core.outcomes import Outcome, ToolMode
from app.core.reports.data import ModelReport, ReportData
from app.core.reports.svg import FAILURE_COLOURS, PALETTE
from app.ui.charts.chart_frame import ChartFrame, MarkFilter

NOT_RUN = "not run"


def series_colour(index: int) -> QColor:
    return QColor(PALETTE[index % len(PALETTE)])


class _RateBars(ChartFrame):
    """Grouped bars, one colour per series, whiskers for the 95% interval; "not run" where a
    series has no scored attempt in a group. Click a bar: the attempts of that series and group."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.plot.setLabel("left", "pass rate", units="%")
        self.plot.setYRange(0, 105, padding=0)
        self.bars: list[pg.BarGraphItem] = []
        self._series: list[str] = []
        self._groups: list[str] = []
        self._filters: dict[tuple[int, int], MarkFilter] = {}
        self.graphics.scene().sigMouseClicked.connect(self._on_click)

    def bar_at(self, x: float) -> tuple[int, int] | None:
        """(group, series) of the bar under ``x`` in plot coordinates."""
        width = 0.8 / max(1, len(self._series))
        group = round(x)
        offset = x - group + 0.4
        index = int(offset // width) if 0 <= offset < 0.8 else -1
        if 0 <= group < len(self._groups) and 0 <= index < len(self._series):
            return group, index
        return None

    def _on_click(self, event: object) -> None:
        point = self.plot.vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        hit = self.bar_at(point.x())
        if hit is not None and hit in self._filters:
            self.picked.emit(self._filters[hit])

    def _draw(self, groups: list[str], series: list[tuple[str, list[Rate | None]]],
              filters: dict[tuple[int, int], MarkFilter]) -> None:
        self.clear()
        self.bars = []
        self._groups = groups
        self._series = [name for name, _ in series]
        self._filters = filters
        width = 0.8 / max(1, len(series))
        colour = self.text_colour()
        for i, (name, rates) in enumerate(series):
            xs = [gi - 0.4 + width * (i + 0.5) for gi in range(len(groups))]
            heights = [100 * (r.value or 0.0) if r and r.scored else 0.0 for r in rates]
            bar = pg.BarGraphItem(x=xs, height=heights, width=width * 0.9, brush=series_colour(i), pen=pg.mkPen(None))
            self.plot.addItem(bar)
            self.add_legend_entry(bar, name)
            self.bars.append(bar)
            lows = [100 * ((r.value or 0) - r.interval[0]) if r and r.scored else 0 for r in rates]
            highs = [100 * (r.interval[1] - (r.value or 0)) if r and r.scored else 0 for r in rates]
            self.plot.addItem(pg.ErrorBarItem(x=np.array(xs), y=np.array(heights), bottom=np.array(lows),
                                              top=np.array(highs), beam=width * 0.3, pen=pg.mkPen(colour)))
            for x, rate in zip(xs, rates, strict=True):
                if rate is None or not rate.scored:
                    label = pg.TextItem(NOT_RUN, color=colour, anchor=(0, 0.5), angle=90)
                    label.setPos(x, 2)
                    self.plot.addItem(label)
        self.plot.getAxis("bottom").setTicks([[(i, g) for i, g in enumerate(groups)]])
        self.plot.setXRange(-0.5, len(groups) - 0.5, padding=0.02)
        self.show_plot()


PANELS_PER_ROW = 4


class PassRateByTier(ChartFrame):
    """Small multiples: one panel per tier, one horizontal bar per series in every panel (the
    names once, on the left of each row of panels), whiskers for the 95% interval and "not run"
    where a series has no scored attempt in that tier. Hover a bar for its numbers; click it
    for its attempts (series + tier)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Pass rate by tier (95% interval)", parent, legend=False, scrollable=True)
        self.plot.invertY(True)
        self.panels: list[pg.PlotItem] = [self.plot]
        self.bars: list[pg.BarGraphItem] = []
        self._series: list[str] = []
        self._groups: list[str] = []
        self._rates: dict[tuple[int, int], Rate] = {}
        self._filters: dict[tuple[int, int], MarkFilter] = {}
        self.graphics.scene().sigMouseClicked.connect(self._on_click)
        self.graphics.scene().sigMouseMoved.connect(self._on_move)

    def show_data(self, data: ReportData) -> None:
        tiers = sorted({t for m in data.models for t in m.by_tier})
        if not tiers:
            self.show_empty("No agent task was scored in the ticked runs (one-shot code tasks are the code score).")
            return
        self._groups = tiers
        self._series = [m.model for m in data.models]
        self._filters = {(g, s): MarkFilter(model=m.model, tier=t)
                         for s, m in enumerate(data.models) for g, t in enumerate(tiers)}
        self._rates = {(g, s): rate for s, m in enumerate(data.models) for g, t in enumerate(tiers)
                       if (rate := m.by_tier.get(t)) is not None and rate.scored}
        self._layout_panels(len(tiers))
        self.bars = []
        colour = self.text_colour()
        names = [short_label(name, 34) for name in self._series]
        for g, (panel, tier) in enumerate(zip(self.panels, tiers, strict=True)):
            panel.clear()
            panel.setTitle(tier, color=colour.name())
            for s in range(len(self._series)):
                rate = self._rates.get((g, s))
                value = 100 * (rate.value or 0.0) if rate else 0.0
                bar = pg.BarGraphItem(x0=[0], y=[s], width=[value], height=0.7, brush=series_colour(s),
                                      pen=pg.mkPen(None))
                panel.addItem(bar)
                self.bars.append(bar)
                if rate is None:
                    label = pg.TextItem(NOT_RUN, color=colour, anchor=(0, 0.5))
                    label.setPos(2, s)
                    panel.addItem(label)
                    continue
                low, high = rate.interval
                panel.addItem(pg.ErrorBarItem(x=np.array([value]), y=np.array([s]), left=np.array([value - 100 * low]),
                                              right=np.array([100 * high - value]), beam=0.3, pen=pg.mkPen(colour)))
            first_in_row = g % PANELS_PER_ROW == 0
            panel.getAxis("left").setTicks([[(s, names[s] if first_in_row else "") for s in range(len(names))]])
            panel.getAxis("left").setWidth(None if first_in_row else 6)
            panel.setXRange(0, 104, padding=0)
            panel.setYRange(-0.6, len(self._series) - 0.4, padding=0)
            panel.setLabel("bottom", "pass %")
        rows = -(-len(tiers) // PANELS_PER_ROW)
        line = self.fontMetrics().height() + 6
        self.graphics.setMinimumHeight(rows * (len(self._series) * line + 4 * line))
        self.show_plot()

    def _layout_panels(self, count: int) -> None:
        """``count`` panels, at most PANELS_PER_ROW to a row; the first is the frame's own plot."""
        layout = self.graphics.ci
        for panel in self.panels[1:]:
            layout.removeItem(panel)
        self.panels = [self.plot]
        for index in range(1, count):
            panel = layout.addPlot(row=index // PANELS_PER_ROW, col=index % PANELS_PER_ROW)
            self._prepare_panel(panel)
            self.panels.append(panel)
        used = min(count, PANELS_PER_ROW)
        for col in range(PANELS_PER_ROW):
            layout.layout.setColumnStretchFactor(col, 1 if col < used else 0)

    def _prepare_panel(self, panel: pg.PlotItem) -> None:
        panel.hideButtons()
        panel.setMouseEnabled(x=False, y=False)
        panel.setMenuEnabled(False)
        panel.invertY(True)
        colour = self.text_colour()
        font = QFont(self.font())
        font.setPointSizeF(max(9.0, font.pointSizeF()))
        for name in ("left", "bottom"):
            axis = panel.getAxis(name)
            axis.setPen(pg.mkPen(colour))
            axis.setTextPen(pg.mkPen(colour))
            axis.setStyle(tickFont=font)
            axis.label.setDefaultTextColor(colour)

    def _style_axes(self) -> None:
        super()._style_axes()
        for panel in getattr(self, "panels", [])[1:]:
            self._prepare_panel(panel)

    def bar_under(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(tier, series) of the bar under a scene position."""
        for g, panel in enumerate(self.panels[: len(self._groups)]):
            if panel.vb.sceneBoundingRect().contains(scene_pos):
                point = panel.vb.mapSceneToView(scene_pos)
                s = round(point.y())
                if 0 <= s < len(self._series) and point.x() >= 0:
                    return g, s
        return None

    def _on_click(self, event: object) -> None:
        hit = self.bar_under(event.scenePos())  # type: ignore[attr-defined]
        if hit is not None and hit in self._filters:
            self.picked.emit(self._filters[hit])

    def _on_move(self, position: QPointF) -> None:
        hit = self.bar_under(position)
        if hit is None:
            self.graphics.setToolTip("")
            return
        rate = self._rates.get(hit)
        name, tier = self._series[hit[1]], self._groups[hit[0]]
        if rate is None:
            self.graphics.setToolTip(f"{name} · {tier}: not run")
            return
        low, high = rate.interval
        self.graphics.setToolTip(f"{name} · {tier}: {rate.passed} of {rate.scored} passed "
                                 f"({100 * (rate.value or 0):.0f}%, 95% CI {100 * low:.0f}–{100 * high:.0f}%). "
                                 "Click to read them.")


class RawVsHarness(_RateBars):
    """The same model in each tool-calling mode, over only the tasks run in every mode."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Agent score by tool-calling mode, same tasks in every mode (raw = native)", parent)

    def show_data(self, data: ReportData) -> None:
        deltas = data.tuning.modes
        if not deltas:
            self.show_empty("Raw vs harness needs one model run in two tool-calling modes on the same tasks "
                            "with everything else equal: tick a native run and a recovery run of it.")
            return
        modes = [m.value for m in ToolMode if any(m.value in d.rates for d in deltas)]
        groups = [f"{d.model} · {d.suite}" for d in deltas]
        filters: dict[tuple[int, int], MarkFilter] = {}
        for g, d in enumerate(deltas):
            for s, mode in enumerate(modes):
                series = _series_in_mode(data.models, d.model, mode)
                tier = next((t for t in series.by_tier if t.startswith(f"{d.suite}/")), None) if series else None
                if series is not None:
                    filters[(g, s)] = MarkFilter(model=series.model, tier=tier if tier and _one_tier(series, d.suite) else None)
        self._draw(groups, [(mode, [d.rates.get(mode) for d in deltas]) for mode in modes], filters)


def _series_in_mode(models: list[ModelReport], model: str, mode: str) -> ModelReport | None:
    return next((m for m in models if (m.model_label or m.model) == model and mode in m.by_mode), None)


def _one_tier(series: ModelReport, suite: str) -> bool:
    return sum(1 for t in series.by_tier if t.startswith(f"{suite}/")) == 1


class FailureModes(ChartFrame):
    """One stacked bar per series (a row, named on the left): the share of its scored attempts
    that ended each way. Hover a segment for the count; click it for those attempts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("How attempts failed (share of scored attempts)", parent)
        self.plot.setLabel("bottom", "share of scored attempts", units="%")
        self.plot.invertY(True)
        self.segments: list[pg.BarGraphItem] = []
        self._cells: list[tuple[int, float, float, str, Outcome, int, int]] = []  # row, x0, x1, series, mode, n, N
        self.graphics.scene().sigMouseClicked.connect(self._on_click)
        self.graphics.scene().sigMouseMoved.connect(self._on_move)

    def show_data(self, data: ReportData) -> None:
        self.clear()
        self.segments = []
        self._cells = []
        modes = [m for m in FAILURE_COLOURS if any(model.failures.get(m) for model in data.models)]
        if not modes:
            self.show_empty("No attempt failed in the ticked runs.")
            return
        totals = [m.agent.scored + m.code.scored for m in data.models]
        lefts = [0.0] * len(data.models)
        for mode in modes:
            counts = [model.failures.get(mode, 0) for model in data.models]
            widths = [100 * n / total if total else 0.0 for n, total in zip(counts, totals, strict=True)]
            item = pg.BarGraphItem(x0=list(lefts), width=widths, y=list(range(len(data.models))), height=0.6,
                                   brush=QColor(FAILURE_COLOURS[mode]), pen=pg.mkPen(None))
            self.plot.addItem(item)
            self.add_legend_entry(item, mode.value.replace("_", " "))
            self.segments.append(item)
            for row, (model, n, total, left, width) in enumerate(
                zip(data.models, counts, totals, lefts, widths, strict=True)
            ):
                if n:
                    self._cells.append((row, left, left + width, model.model, mode, n, total))
            lefts = [a + b for a, b in zip(lefts, widths, strict=True)]
        self.plot.getAxis("left").setTicks([[(i, m.model) for i, m in enumerate(data.models)]])
        self.plot.setXRange(0, 100, padding=0.02)
        self.plot.setYRange(-0.5, len(data.models) - 0.5, padding=0.02)
        self.show_plot()

    def segment_at(self, x: float, y: float) -> tuple[str, Outcome, int, int] | None:
        """(series, failure mode, count, scored) of the segment at plot coordinates."""
        for row, x0, x1, model, mode, n, total in self._cells:
            if abs(y - row) <= 0.3 and x0 <= x <= x1:
                return model, mode, n, total
        return None

    def centre_of(self, series: str, mode: Outcome) -> tuple[float, float] | None:
        """Plot coordinates of the middle of one segment (for tests and keyboard users)."""
        for row, x0, x1, model, m, _, _ in self._cells:
            if model == series and m is mode:
                return ((x0 + x1) / 2, float(row))
        return None

    def pick(self, x: float, y: float) -> None:
        hit = self.segment_at(x, y)
        if hit is not None:
            self.picked.emit(MarkFilter(model=hit[0], outcome=hit[1]))

    def _on_click(self, event: object) -> None:
        point = self.plot.vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        self.pick(point.x(), point.y())

    def _on_move(self, position: QPointF) -> None:
        point = self.plot.vb.mapSceneToView(position)
        hit = self.segment_at(point.x(), point.y())
        self.graphics.setToolTip(
            f"{hit[0]}: {hit[1].value.replace('_', ' ')} — {hit[2]} of {hit[3]} scored attempts "
            f"({100 * hit[2] / hit[3]:.0f}%). Click to read them." if hit else ""
        )


class _Scatter(ChartFrame):
    """Points with a name beside each; points on the same spot share one stacked label."""

    def __init__(self, title: str, x_label: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.points: list[tuple[str, float, float]] = []
        self.labels: list[pg.TextItem] = []

    def _draw(self, points: list[tuple[str, float, float]], names: list[str]) -> None:
        self.clear()
        self.points = points
        self.labels = []
        colour = self.text_colour()
        spots: dict[tuple[int, int], list[str]] = {}
        for name, x, y in points:
            spots.setdefault((round(x), round(y)), []).append(name)
        for name, x, y in points:
            index = names.index(name)
            item = pg.ScatterPlotItem([x], [y], size=13, brush=series_colour(index), pen=pg.mkPen(colour))
            item.sigClicked.connect(lambda *_, model=name: self.picked.emit(MarkFilter(model=model)))
            self.plot.addItem(item)
            self.add_legend_entry(item, name)
        right = max((x for _, x, _ in points), default=0.0) * 0.6
        for (x, y), together in spots.items():
            anchor = (1.08, 0.5) if x > right and x > 0 else (-0.08, 0.5)
            label = pg.TextItem("\n".join(together), color=colour, anchor=anchor)
            label.setPos(x, y)
            self.plot.addItem(label)
            self.labels.append(label)
        self.show_plot()


class AgentVsCode(_Scatter):
    """The gap chart: agent score against code score, with the diagonal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Agent score vs code score (below the diagonal: the gap)", "code score (one-shot) %",
                         "agent score %", parent)

    def show_data(self, data: ReportData) -> None:
        points = [(m.model, 100 * (m.code.value or 0), 100 * (m.agent.value or 0))
                  for m in data.models if m.code.scored and m.agent.scored]
        if not points:
            self.show_empty("Agent vs code needs models with both an agent suite and the one-shot suite scored.")
            return
        self._draw(points, [m.model for m in data.models])
        self.plot.addItem(pg.PlotDataItem([0, 100], [0, 100], pen=pg.mkPen(self.text_colour(), style=Qt.PenStyle.DashLine)))
        self.plot.setXRange(-4, 104, padding=0)  # points at 0 or 100 % whole, not cut by the axes
        self.plot.setYRange(-4, 106, padding=0)


class ScoreVsSpeed(_Scatter):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Agent score vs speed", "tokens/s", "agent score %", parent)

    def show_data(self, data: ReportData) -> None:
        points = [(m.model, m.tokens_per_s or 0.0, 100 * (m.agent.value or 0))
                  for m in data.models if m.agent.scored and m.tokens_per_s]
        if not points:
            self.show_empty("No tokens/s was recorded for the ticked runs.")
            return
        self._draw(points, [m.model for m in data.models])
        self.plot.setYRange(0, 105, padding=0)


def short_label(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        widget.render(painter, QPoint(0, 0))
        painter.end()
    else:
        widget.grab().save(str(path.with_suffix(".png") if path.suffix.lower() != ".png" else path))
    return path
