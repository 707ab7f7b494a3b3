"""The selected attempt's transcript at full height, or two or more attempts side by side with
their turns aligned (turn N of each in one row) and the lines that differ highlighted; a header
per attempt names its model, configuration, run and outcome; one search covers what is shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.events import Event
from app.core.store.records import AttemptRecord
from app.ui import theme
from app.ui.transcripts.aligned_turns import (
    FIRST_DIFFERENCE,
    AlignedColors,
    aligned_html,
    turn_sections,
)
from app.ui.transcripts.transcript_view import TranscriptView


@dataclass(frozen=True, slots=True)
class ShownAttempt:
    """One attempt as a column of the comparison shows it."""

    attempt: AttemptRecord
    configuration: str
    events: Sequence[Event]
    run_name: str = ""


def attempt_header(attempt: AttemptRecord, configuration: str, run_name: str = "") -> str:
    """Model, configuration, run and outcome in rich text."""
    outcome = attempt.outcome.value.replace("_", " ") if attempt.outcome else "unfinished"
    config = f" · {configuration}" if configuration else ""
    run = run_name or attempt.run_id
    return (
        f"<b>{attempt.model}</b>{config} · <b>{outcome}</b> · {attempt.turns} turns<br>"
        f"<small>{attempt.task_id} · repeat {attempt.repeat + 1} · run “{run}”</small>"
    )


def aligned_colors(widget: QWidget) -> AlignedColors:
    palette = widget.palette()
    return AlignedColors(
        text=theme.text_color(palette).name(),
        dim=theme.dim_text_color(palette).name(),
        differs=theme.tint(48, palette).name(),
        rule=theme.dim_text_color(palette).name(),
        kinds={"thinking": theme.dim_text_color(palette).name(), "check": theme.dim_text_color(palette).name()},
    )


class TranscriptComparison(QWidget):
    """One full transcript, or aligned columns when attempts were put beside the selected one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the transcripts shown (Enter: next match)")
        self.search.textChanged.connect(self._highlight)
        self.search.returnPressed.connect(self.find_next)
        self.matches = QLabel()
        self.legend = QLabel()
        self.header_row = QHBoxLayout()
        self.headers: list[QLabel] = []
        self.single = TranscriptView()
        self.aligned = QTextBrowser()
        self.aligned.setOpenLinks(False)
        self.aligned.document().setUndoRedoEnabled(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.single)
        self.stack.addWidget(self.aligned)
        self._shown: list[ShownAttempt] = []
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.matches)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(self.header_row)
        layout.addWidget(self.legend)
        layout.addWidget(self.stack, 1)
        self.legend.hide()
        self._ensure_headers(1)
        self.single.show_placeholder("Select an attempt above to read its transcript.")

    def _ensure_headers(self, count: int) -> None:
        while len(self.headers) < count:
            header = QLabel()
            header.setWordWrap(True)
            header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.header_row.addWidget(header, 1)
            self.headers.append(header)
        for i, header in enumerate(self.headers):
            header.setVisible(i < count)

    @property
    def shown_ids(self) -> list[str]:
        """The attempts on screen, the selected one first."""
        return [s.attempt.id for s in self._shown]

    @property
    def current_view(self) -> QTextBrowser:
        return self.aligned if len(self._shown) > 1 else self.single

    def show_attempts(self, shown: Sequence[ShownAttempt]) -> None:
        """The first is the selected attempt; any others are shown beside it, turns aligned."""
        self._shown = list(shown)
        self._ensure_headers(max(1, len(shown)))
        if not shown:
            self.headers[0].setText("")
            self.legend.hide()
            self.stack.setCurrentWidget(self.single)
            self.single.show_placeholder("No attempt matches the filters.")
            return
        outcomes = {s.attempt.outcome for s in shown}
        for header, item in zip(self.headers, shown, strict=False):
            header.setText(attempt_header(item.attempt, item.configuration, item.run_name))
            outcome = item.attempt.outcome
            colour = theme.outcome_color(outcome, header.palette()) if len(outcomes) > 1 and outcome else None
            header.setStyleSheet(f"border-left: 4px solid {colour.name()}; padding-left: 6px;" if colour else "")
        if len(shown) == 1:
            self.legend.hide()
            self.stack.setCurrentWidget(self.single)
            self.single.show_attempt(shown[0].attempt.id, shown[0].events)
        else:
            self._render_aligned()
            self.stack.setCurrentWidget(self.aligned)
        self._highlight(self.search.text())

    def _render_aligned(self) -> None:
        colors = aligned_colors(self)
        self.legend.setText(
            f'<span style="background-color: {colors.differs}">&nbsp;highlighted&nbsp;</span> lines differ from the '
            "selected attempt (left; its own, from the one beside it) · each row holds the same turn of every attempt"
        )
        self.legend.show()
        columns = [turn_sections(s.events) for s in self._shown]
        self.aligned.setHtml(aligned_html(columns, colors))
        self.aligned.verticalScrollBar().setValue(0)
        self.aligned.scrollToAnchor(FIRST_DIFFERENCE)  # open where the attempts part ways

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and len(self._shown) > 1:
            self._render_aligned()

    @Slot(str)
    def _highlight(self, text: str) -> None:
        """Select the first match; the count of all matches shows beside the box."""
        if not text:
            self.matches.setText("")
            return
        view = self.current_view
        document = view.document()
        cursor = document.find(text, 0)
        first = QTextCursor(cursor)
        total = 0
        while not cursor.isNull():
            total += 1
            cursor = document.find(text, cursor)
        if not first.isNull():
            view.setTextCursor(first)
            view.ensureCursorVisible()
        self.matches.setText(f"{total} match(es)")

    @Slot()
    def find_next(self) -> None:
        text = self.search.text()
        view = self.current_view
        if text and not view.find(text):
            view.moveCursor(QTextCursor.MoveOperation.Start)
            view.find(text, QTextDocument.FindFlag(0))
