"""Two or more transcripts of attempts side by side at full height, each under a header naming
its model, configuration, run and outcome, scrolled together, with one search for all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.events import Event
from app.core.store.records import AttemptRecord
from app.ui import theme
from app.ui.transcripts.transcript_view import TranscriptView


@dataclass(frozen=True, slots=True)
class ShownAttempt:
    """One attempt as a column of the comparison shows it."""

    attempt: AttemptRecord
    configuration: str
    events: Sequence[Event]


def attempt_header(attempt: AttemptRecord, configuration: str) -> str:
    """Model, configuration, run and outcome in one line of rich text."""
    outcome = attempt.outcome.value if attempt.outcome else "unfinished"
    config = f" · {configuration}" if configuration else ""
    return (
        f"<b>{attempt.model}</b>{config} · {attempt.task_id} · run {attempt.repeat + 1} · "
        f"<b>{outcome}</b> · {attempt.turns} turns<br><span>run id {attempt.run_id}</span>"
    )


class TranscriptComparison(QWidget):
    """Columns of transcripts; the first is the selected attempt, the others were put beside it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search every transcript shown (Enter: next match)")
        self.search.textChanged.connect(self._highlight)
        self.search.returnPressed.connect(self.find_next)
        self.matches = QLabel()
        self.columns = QSplitter(Qt.Orientation.Horizontal)
        self.headers: list[QLabel] = []
        self.views: list[TranscriptView] = []
        self._syncing = False
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.matches)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.columns, 1)
        self._ensure_columns(1)
        self.views[0].show_placeholder("Select an attempt above to read its transcript.")

    def _ensure_columns(self, count: int) -> None:
        while len(self.views) < count:
            column = QWidget()
            column_layout = QVBoxLayout(column)
            column_layout.setContentsMargins(0, 0, 0, 0)
            header = QLabel()
            header.setWordWrap(True)
            header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            view = TranscriptView()
            view.verticalScrollBar().valueChanged.connect(lambda _v, v=view: self._sync_scroll(v))
            column_layout.addWidget(header)
            column_layout.addWidget(view, 1)
            self.columns.addWidget(column)
            self.headers.append(header)
            self.views.append(view)
        for i in range(self.columns.count()):
            self.columns.widget(i).setVisible(i < count)

    def show_attempts(self, shown: Sequence[ShownAttempt]) -> None:
        """Show these attempts in order, one column each."""
        self._ensure_columns(max(1, len(shown)))
        if not shown:
            self.headers[0].setText("")
            self.views[0].show_placeholder("No attempt matches the filters.")
            return
        outcomes = {s.attempt.outcome for s in shown}
        for header, view, item in zip(self.headers, self.views, shown, strict=False):
            header.setText(attempt_header(item.attempt, item.configuration))
            differs = len(outcomes) > 1
            colour = theme.outcome_color(item.attempt.outcome, header.palette()) if differs and item.attempt.outcome else None
            header.setStyleSheet(f"border-left: 4px solid {colour.name()}; padding-left: 6px;" if colour else "")
            view.show_attempt(item.attempt.id, item.events)
        self._highlight(self.search.text())

    @property
    def shown_ids(self) -> list[str | None]:
        return [v.attempt_id for v, h in zip(self.views, self.headers, strict=True) if h.parentWidget().isVisibleTo(self)]

    def _sync_scroll(self, source: TranscriptView) -> None:
        """Scroll the other columns to the same share of their length, so turns stay roughly level."""
        if self._syncing:
            return
        self._syncing = True
        bar = source.verticalScrollBar()
        share = bar.value() / bar.maximum() if bar.maximum() else 0.0
        for view in self.views:
            if view is not source:
                other = view.verticalScrollBar()
                other.setValue(round(share * other.maximum()))
        self._syncing = False

    @Slot(str)
    def _highlight(self, text: str) -> None:
        """Select the first match in every column; the count of all matches shows beside the box."""
        total = 0
        for view in self.views:
            if not text:
                continue
            document = view.document()
            cursor = document.find(text, 0)
            first = QTextCursor(cursor)
            while not cursor.isNull():
                total += 1
                cursor = document.find(text, cursor)
            if not first.isNull():
                view.setTextCursor(first)
                view.ensureCursorVisible()
        self.matches.setText(f"{total} match(es)" if text else "")

    @Slot()
    def find_next(self) -> None:
        text = self.search.text()
        if not text:
            return
        for view in self.views:
            if not view.find(text):
                view.moveCursor(QTextCursor.MoveOperation.Start)
                view.find(text, QTextDocument.FindFlag(0))
