"""The model × task heatmap of a comparison: pass share per cell with k/N in it, task
titles on the rows, one column per model and configuration, and a colour key."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QWidget

from app.core.reports.data import ReportData
from app.ui.charts.chart_frame import ChartFrame, MarkFilter
from app.ui.charts.compare_charts import NOT_RUN, short_label


class TaskHeatmap(ChartFrame):
    """Task (rows, by title) × series (columns) pass share with k/N in each cell and a colour key."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Pass share per task and model", parent, legend=False, scrollable=True)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.plot.invertY(True)
        self.models: list[str] = []
        self.tasks: list[str] = []
        self.column_width = 70
        self.matrix = np.zeros((0, 0))
        self.values: list[pg.TextItem] = []
        self.image.mouseClickEvent = self._on_click  # type: ignore[method-assign]
        self.key = QLabel(
            "Colour key: <span style='background:#d55e00;color:#fff'>&nbsp;0%&nbsp;</span> "
            "<span style='background:#e6a23c;color:#000'>&nbsp;50%&nbsp;</span> "
            "<span style='background:#0072b2;color:#fff'>&nbsp;100%&nbsp;</span> "
            "<span style='background:#9ca3af;color:#000'>&nbsp;not run&nbsp;</span> — cells show passes/scored; "
            "click one for its attempts."
        )
        self.layout().addWidget(self.key)

    def show_data(self, data: ReportData) -> None:
        self.models = [m.model for m in data.models]
        self.tasks = [task for _, _, task in data.tasks]
        if not self.models or not self.tasks:
            self.show_empty("Nothing was scored in the ticked runs.")
            return
        used = 0
        matrix = np.full((len(self.models), len(self.tasks)), np.nan)
        for col, model in enumerate(self.models):
            for row, task in enumerate(self.tasks):
                rate = data.cells.get((task, model))
                if rate is not None and rate.scored:
                    matrix[col, row] = rate.passed / rate.scored
                text = f"{rate.passed}/{rate.scored}" if rate is not None and rate.scored else NOT_RUN
                share = matrix[col, row]
                colour = "#000000" if np.isnan(share) or 0.25 < share < 0.75 else "#ffffff"
                self._value_label(used, text, colour).setPos(col + 0.5, row + 0.5)
                used += 1
        for spare in self.values[used:]:
            spare.hide()
        self.matrix = matrix
        colours = np.zeros((*matrix.shape, 4), dtype=np.ubyte)
        for (x, y), share in np.ndenumerate(matrix):
            colours[x, y] = (156, 163, 175, 255) if np.isnan(share) else _diverging(float(share))
        self.image.setImage(colours, levels=None)
        # Each name on at most two lines (model, then configuration) in a column wide enough for
        # it, so no name runs into its neighbour or past the edge.
        self.plot.showAxis("top")
        self.plot.hideAxis("bottom")
        top = self.plot.getAxis("top")
        names = [column_name(m) for m in self.models]
        top.setTicks([[(i + 0.5, name) for i, name in enumerate(names)]])
        top.setStyle(hideOverlappingLabels=False)
        top.setHeight(2 * self.fontMetrics().height() + 14)
        self.plot.getAxis("left").setTicks([[(i + 0.5, short_label(data.title(t))) for i, t in enumerate(self.tasks)]])
        row = self.fontMetrics().height() + 8
        widest = max(self.fontMetrics().horizontalAdvance(line) for name in names for line in name.splitlines())
        self.column_width = max(70, widest + 16)
        self.graphics.setMinimumHeight(len(self.tasks) * row + 2 * row + 70)
        self.graphics.setMinimumWidth(320 + len(self.models) * self.column_width)
        self.plot.setXRange(0, len(self.models), padding=0)
        self.plot.setYRange(0, len(self.tasks), padding=0)
        self.show_plot()

    def _value_label(self, index: int, text: str, colour: str) -> pg.TextItem:
        """Cell labels are reused, never removed: a grid of hundreds redraws without churn."""
        if index == len(self.values):
            label = pg.TextItem(anchor=(0.5, 0.5))
            self.plot.addItem(label)
            self.values.append(label)
        label = self.values[index]
        label.setText(text, color=colour)
        label.show()
        return label

    def _on_click(self, event: object) -> None:
        pos = event.pos()  # type: ignore[attr-defined]
        self.pick_cell(int(pos.x()), int(pos.y()))

    def pick_cell(self, col: int, row: int) -> None:
        if 0 <= col < len(self.models) and 0 <= row < len(self.tasks):
            self.picked.emit(MarkFilter(model=self.models[col], task_id=self.tasks[row]))


def _diverging(share: float) -> tuple[int, int, int, int]:
    """Vermillion (0) through orange (0.5) to blue (1): readable without red–green vision."""
    low, mid, high = (213, 94, 0), (230, 162, 60), (0, 114, 178)
    a, b, t = (low, mid, share * 2) if share <= 0.5 else (mid, high, share * 2 - 1)
    r, g, bl = (round(a[i] + (b[i] - a[i]) * t) for i in range(3))
    return (r, g, bl, 255)


def column_name(series: str) -> str:
    """``host/model [configuration]`` as two lines: the model's short name, then the configuration."""
    model, _, configuration = series.partition(" [")
    model = model if model.startswith("sim:") else model.rsplit("/", 1)[-1]
    return f"{model}\n[{configuration}" if configuration else model
