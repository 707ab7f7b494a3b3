"""The verdict: which model to use and why the others fail, ranked by agent score with the
95% interval, code score and the gap, the main failure mode with its share, and pass^k.
Each row has one button that opens that model's failing transcripts."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.metrics import Rate
from app.core.reports.configurations import SettingDifference
from app.core.verdict import Verdict, VerdictRow

COLUMNS = ("#", "model (configuration)", "agent score (95% CI)", "code score", "gap", "main failure", "pass^k", "")


def _score(rate: Rate) -> str:
    if not rate.scored:
        return "—"
    low, high = rate.interval
    return f"{100 * (rate.value or 0):.0f}% ({100 * low:.0f}–{100 * high:.0f})"


def _failure(row: VerdictRow) -> str:
    share = row.main_failure_share
    if row.main_failure is None or share is None:
        return "none"
    return f"{row.main_failure.value.replace('_', ' ')} {100 * share:.0f}%"


def _gap(row: VerdictRow) -> str:
    return "—" if row.gap is None else f"{100 * row.gap:+.0f} pts"


def describe_differences(differences: list[SettingDifference]) -> str:
    """One line naming what differs between the ticked runs' settings."""
    if not differences:
        return ""
    parts = [f"{d.name}: {' / '.join(d.values)}" for d in differences]
    return "Settings differ, so each configuration is shown apart — " + "; ".join(parts)


QWIDGETSIZE_MAX = (1 << 24) - 1


class VerdictPanel(QWidget):
    """Recommendation above a ranking table; ``failures_requested`` carries a series name."""

    failures_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recommendation = QLabel()
        self.recommendation.setWordWrap(True)
        self.recommendation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.recommendation.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.recommendation.setFont(font)
        self.differences = QLabel()
        self.differences.setWordWrap(True)
        self.differences.hide()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # the name takes what is left and elides at the end (tooltip: whole), so the button always shows
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setWordWrap(False)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.doubleClicked.connect(lambda index: self._request(index.row()))
        self.verdict: Verdict | None = None
        self._folded = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.recommendation)
        layout.addWidget(self.differences)
        layout.addWidget(self.table)
        self.show_verdict(None)

    @property
    def folded(self) -> bool:
        return self._folded

    def folded_height(self, width: int) -> int:
        """The height of the recommendation alone at ``width``."""
        label = self.recommendation
        return max(label.heightForWidth(max(1, width)), label.minimumSizeHint().height())

    def set_folded(self, folded: bool) -> None:
        """Only the recommendation (for reading transcripts below), or the whole ranking.
        Folded, the panel is held to the recommendation's height at its current width."""
        self._folded = folded
        self.setMaximumHeight(self.folded_height(self.width()) if folded else QWIDGETSIZE_MAX)
        self.table.setVisible(not folded and self.verdict is not None)
        self.differences.setVisible(not folded and bool(self.differences.text()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._folded and event.size().width() != event.oldSize().width():
            self.setMaximumHeight(self.folded_height(event.size().width()))

    def show_verdict(self, verdict: Verdict | None, differences: list[SettingDifference] | None = None) -> None:
        self.verdict = verdict
        text = describe_differences(differences or [])
        self.differences.setText(text)
        self.differences.setVisible(bool(text) and not self._folded)
        if verdict is None:
            self.recommendation.setText("Verdict: tick a run to rank its models.")
            self.table.setRowCount(0)
            self.table.hide()
            return
        self.recommendation.setText(f"Verdict: {verdict.recommendation}")
        self.table.setVisible(not self._folded)
        self.table.setRowCount(len(verdict.rows))
        for r, row in enumerate(verdict.rows):
            # a demo model's "sim:" prefix already says it is simulated
            name = row.name + ("  (simulated)" if row.simulated and not row.name.startswith("sim:") else "")
            k = "—" if row.pass_hat_k is None else f"{100 * row.pass_hat_k:.0f}% (k={row.k})"
            values = (str(r + 1), name, _score(row.agent), _score(row.code), _gap(row), _failure(row), k)
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c in (0, 2, 3, 4, 6):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if row.main_failure is not None and c == 5:
                    item.setToolTip(f"{row.main_failure.describe}: {row.main_failure_count} of "
                                    f"{row.agent.scored + row.code.scored} scored attempts")
                if c == 1:
                    item.setToolTip(name)
                if c in (2, 3):
                    rate = row.agent if c == 2 else row.code
                    item.setToolTip(f"{rate.passed} of {rate.scored} scored attempts passed")
                self.table.setItem(r, c, item)
            button = QPushButton(f"Failures ({row.failed})" if row.failed else "No failures")
            button.setEnabled(bool(row.failed))
            button.setToolTip(f"Open the failing transcripts of {row.name}")
            button.clicked.connect(lambda _=False, r=r: self._request(r))
            self.table.setCellWidget(r, len(COLUMNS) - 1, button)
        header = self.table.horizontalHeader().height()
        heights = [self.table.rowHeight(i) for i in range(len(verdict.rows))]
        frame = 2 * self.table.frameWidth() + 2
        self.table.setMaximumHeight(header + sum(heights) + frame)
        self.table.setMinimumHeight(header + sum(heights[:3]) + frame)

    def _request(self, row: int) -> None:
        if self.verdict is not None and 0 <= row < len(self.verdict.rows):
            self.failures_requested.emit(self.verdict.rows[row].name)
