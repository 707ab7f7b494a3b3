"""pyqtgraph charts of tuning runs: an OFAT sweep against its baseline, and budget-sweep lines."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.core.metrics import Rate
from app.core.reports.svg import PALETTE
from app.core.tuning.analysis import SweepAnalysis, Verdict
from app.core.tuning.ceilings import CeilingDiagnosis

VERDICT_COLOURS = {
    Verdict.BASELINE: "#94a3b8",
    Verdict.BETTER: "#16a34a",
    Verdict.WORSE: "#dc2626",
    Verdict.UNCLEAR: "#3b82f6",
}


class SweepChart(pg.PlotWidget):
    """One bar group per factor (the baseline's value among them), 95% whiskers, the baseline's
    interval as a band; a star over each winner, whose interval clears the band."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, title="Sweep: each factor against the baseline")
        self.setBackground(None)
        self.setLabel("left", "pass rate", units="%")
        self.setYRange(0, 118)
        self.setMouseEnabled(x=False, y=False)
        self.bars: list[tuple[str, str, Verdict]] = []  # (group, value label, verdict)
        self.winner_marks = 0
        self.band: pg.LinearRegionItem | None = None

    def show_sweep(self, sweep: SweepAnalysis | None) -> None:
        self.clear()
        self.bars, self.winner_marks, self.band = [], 0, None
        if sweep is None:
            self.setTitle("Sweep: no sweep among the ticked runs")
            return
        base = sweep.baseline.rate
        self.setTitle(f"Sweep of {sweep.model}: baseline {base.passed}/{base.scored}")
        low, high = base.interval
        self.band = pg.LinearRegionItem(
            values=(100 * low, 100 * high), orientation="horizontal", movable=False,
            brush=pg.mkBrush(148, 163, 184, 50), pen=pg.mkPen(None),
        )
        self.addItem(self.band)
        groups: list[tuple[str, list[tuple[str, Rate, Verdict, bool]]]] = [
            (f.factor.caption, [(p.label, p.rate, p.verdict, p is f.winner) for p in f.points]) for f in sweep.factors
        ]
        if sweep.combinations:
            groups.append(("combined", [(c.settings.label, c.rate, v, False) for c, v in sweep.combinations]))
        ticks: list[tuple[float, str]] = []
        x = 0.0
        for caption, points in groups:
            start = x
            for label, rate, verdict, winner in points:
                self._bar(x, rate, verdict, winner)
                self.bars.append((caption, label, verdict))
                ticks.append((x, label))
                x += 1
            title = pg.TextItem(caption, anchor=(0.5, 0), color="#64748b")
            title.setPos((start + x - 1) / 2, 116)
            self.addItem(title)
            x += 0.8  # a gap between factors
        self.getAxis("bottom").setTicks([ticks])
        self.setXRange(-0.7, max(0.7, x - 1.1))

    def _bar(self, x: float, rate: Rate, verdict: Verdict, winner: bool) -> None:
        value = 100 * (rate.value or 0.0)
        self.addItem(pg.BarGraphItem(x=[x], height=[value], width=0.7, brush=QColor(VERDICT_COLOURS[verdict])))
        if rate.scored:
            low, high = rate.interval
            self.addItem(pg.ErrorBarItem(
                x=np.array([x]), y=np.array([value]), bottom=np.array([value - 100 * low]),
                top=np.array([100 * high - value]), beam=0.25,
            ))
        if winner:
            self.winner_marks += 1
            star = pg.ScatterPlotItem([x], [100 * rate.interval[1] + 5], symbol="star", size=16, brush=QColor("#f59e0b"))
            self.addItem(star)


class CeilingChart(pg.PlotWidget):
    """Pass rate of each model's failing tasks as one budget grows: turns solid, tokens dashed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, title="Budget sweep: does more budget help?")
        self.setBackground(None)
        self.setLabel("left", "pass rate", units="%")
        self.setLabel("bottom", "budget × the task's own · solid: turns · dashed: tokens")
        self.setYRange(0, 100)
        self.setMouseEnabled(x=False, y=False)
        self.addLegend(offset=(-10, -10))  # bottom right: rising lines leave it clear
        self.lines: list[tuple[str, str]] = []  # (model, "turns" | "tokens")

    def show_ceilings(self, diagnoses: list[CeilingDiagnosis]) -> None:
        self.clear()
        self.lines = []
        models = sorted({d.model for d in diagnoses})
        scales: set[float] = set()
        for i, model in enumerate(models):
            own = [d for d in diagnoses if d.model == model]
            colour = QColor(PALETTE[i % len(PALETTE)])
            for budget, style in (("turns", Qt.PenStyle.SolidLine), ("tokens", Qt.PenStyle.DashLine)):
                pooled = _pooled([d.turns if budget == "turns" else d.tokens for d in own])
                if len(pooled) < 2:
                    continue
                xs = [math.log2(s) for s, _ in pooled]
                ys = [100 * (r.value or 0.0) for _, r in pooled]
                scales.update(s for s, _ in pooled)
                self.plot(xs, ys, pen=pg.mkPen(colour, width=2, style=style), symbol="o", symbolBrush=colour,
                          symbolSize=8, name=model if budget == "turns" else None)  # one legend entry a model
                self.lines.append((model, budget))
        self.getAxis("bottom").setTicks([[(math.log2(s), f"×{s:g}") for s in sorted(scales)]])


def _pooled(series: list[tuple[tuple[float, Rate], ...]]) -> list[tuple[float, Rate]]:
    sums: dict[float, list[int]] = {}
    for points in series:
        for scale, rate in points:
            counts = sums.setdefault(scale, [0, 0])
            counts[0] += rate.passed
            counts[1] += rate.scored
    return [(scale, Rate(p, n)) for scale, (p, n) in sorted(sums.items()) if n]
