"""The left half of the Live run page: the model × task grid above the list of attempts."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.outcomes import Outcome
from app.ui.models.run_models import AttemptListModel, RunGridModel, short_model_name
from app.ui.models.run_state import RunState


def titled(label: QLabel | str, widget: QWidget) -> QWidget:
    """``widget`` under a bold caption."""
    caption = label if isinstance(label, QLabel) else QLabel(label)
    font = caption.font()
    font.setBold(True)
    caption.setFont(font)
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(caption)
    layout.addWidget(widget, 1)
    return box


MAX_TITLE_WIDTH = 300


class RunOverview(QSplitter):
    """Lays out the grid and the attempt table over their models and sizes them to the run."""

    def __init__(self, grid_model: RunGridModel, attempts_model: AttemptListModel) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self._state: RunState | None = None
        row_height = self.fontMetrics().height() + 8

        self.grid = QTableView()
        self.grid.setModel(grid_model)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Widths are set once per run (fit_to): sizing to contents on every change would
        # re-measure the column each time a cell fills in.
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.grid.horizontalHeader().setMinimumSectionSize(64)
        rows = self.grid.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(row_height)
        rows.setMaximumWidth(MAX_TITLE_WIDTH)  # longer task titles elide at the end; the tooltip has them whole
        rows.setTextElideMode(Qt.TextElideMode.ElideRight)

        self.attempt_table = QTableView()
        self.attempt_table.setModel(attempts_model)
        self.attempt_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.attempt_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.attempt_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.attempt_table.verticalHeader().hide()
        self.attempt_table.verticalHeader().setDefaultSectionSize(row_height)
        # Fixed widths: sizing columns to contents would read every row on every change.
        header = self.attempt_table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

        self.follow = QCheckBox("Follow the latest attempt")
        self.follow.setToolTip(
            "Show each attempt until it ends, then move to the one that started most recently"
        )
        self.follow.setChecked(True)
        legend = QLabel("k/n: passed of finished runs  ·  ▸ running  ·  · not started yet  ·  "
                        "click a cell for its latest transcript")
        legend.setEnabled(False)  # drawn in the palette's secondary text colour
        grid_box = titled("Pass count per task and model", self.grid)
        grid_box.layout().addWidget(legend)
        self.addWidget(grid_box)
        attempts_box = titled("Attempts", self.attempt_table)
        attempts_box.layout().addWidget(self.follow)
        self.addWidget(attempts_box)
        self.setSizes([300, 300])

    def fit_to(self, state: RunState) -> None:
        """Size columns for this run; give the grid the height its rows need."""
        self._state = state
        metrics = self.attempt_table.fontMetrics()
        pad = 18
        header = self.attempt_table.horizontalHeader()
        labels = [o.value.replace("_", " ") for o in Outcome] + ["not run yet", "running…"]
        header.resizeSection(0, max(metrics.horizontalAdvance(t) for t in labels) + pad)
        longest = max((short_model_name(m) for m in state.models), key=len, default="Model")
        header.resizeSection(1, min(220, metrics.horizontalAdvance(longest) + pad))
        header.resizeSection(3, metrics.horizontalAdvance("Run") + pad)
        titles = [str(self.grid.model().headerData(r, Qt.Orientation.Vertical) or "")
                  for r in range(self.grid.model().rowCount())]
        rows = self.grid.verticalHeader()
        rows.setFixedWidth(min(MAX_TITLE_WIDTH, max((metrics.horizontalAdvance(t) for t in titles), default=0) + pad))
        columns = self.grid.horizontalHeader()
        cell = metrics.horizontalAdvance("00/00 ▸")
        for column in range(len(state.models)):
            title = str(self.grid.model().headerData(column, Qt.Orientation.Horizontal) or "")
            widest = max((metrics.horizontalAdvance(line) for line in title.splitlines()), default=0)
            columns.resizeSection(column, max(cell, widest) + pad)
        self._fit_grid_height()
        QTimer.singleShot(0, self._fit_grid_height)  # again once the splitter has its real size

    @Slot()
    def _fit_grid_height(self) -> None:
        if self._state is None:
            return
        rows = self.grid.verticalHeader().defaultSectionSize() * (len(self._state.tasks) + 1)
        header = self.grid.horizontalHeader().sizeHint().height()
        scrollbar = self.grid.horizontalScrollBar().sizeHint().height()
        wanted = rows + header + 2 * self.grid.frameWidth() + scrollbar + 48
        total = max(400, sum(self.sizes()))
        grid_height = min(wanted, total * 2 // 3)
        self.setSizes([grid_height, total - grid_height])
