"""The transcript of one attempt as a conversation, streaming in while the attempt runs.

A read-only ``QTextBrowser``: switching attempts renders the events once as one HTML
document; live events are appended in place (one edit block per 50 ms batch), so only
the new text is laid out. Links toggle the collapsed parts (thinking, raw text of a
recovered call, long tool results); a toggle re-renders the attempt at the same scroll.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QUrl, Slot
from PySide6.QtGui import QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.core.events import Event
from app.ui import theme
from app.ui.transcripts.transcript_html import (
    TOGGLE_SCHEME,
    Block,
    StreamStart,
    StreamText,
    TranscriptColors,
    TranscriptRenderer,
)


class TranscriptView(QTextBrowser):
    """Shows the events of the selected attempt; nothing else is rendered."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.document().setUndoRedoEnabled(False)
        self.document().setDocumentMargin(8)
        self.anchorClicked.connect(self._on_anchor)
        self._attempt_id: str | None = None
        self._events: Sequence[Event] = ()
        self._expanded: set[str] = set()
        self._renderer = self._new_renderer()
        self._placeholder = "Select an attempt to read its transcript."
        self.show_placeholder(self._placeholder)

    @property
    def attempt_id(self) -> str | None:
        return self._attempt_id

    @property
    def shown_events(self) -> Sequence[Event]:
        """The event list being shown (the live list itself, not a copy)."""
        return self._events

    def show_placeholder(self, message: str) -> None:
        """No attempt selected: a short explanation instead of a blank pane."""
        self._attempt_id = None
        self._events = ()
        colors = TranscriptColors.from_palette(self.palette())
        self.setHtml(f'<p style="color: {colors.dim}">{message}</p>')

    def show_attempt(self, attempt_id: str, events: Sequence[Event]) -> None:
        """Render ``events`` (kept by reference: the live list may grow) from scratch."""
        if attempt_id != self._attempt_id:
            self._expanded = set()
        self._attempt_id = attempt_id
        self._events = events
        self._render_all(keep_scroll=False)

    def append_events(self, attempt_id: str, events: Sequence[Event]) -> None:
        """Append new events of the shown attempt at the end, keeping the view at the
        bottom if it was there."""
        if attempt_id != self._attempt_id or not events:
            return
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.beginEditBlock()
        formats = {False: self._text_format(False), True: self._text_format(True)}
        for piece in self._renderer.pieces(events):
            if isinstance(piece, StreamText):
                cursor.insertText(piece.text, formats[piece.thinking])
            elif isinstance(piece, StreamStart):
                cursor.insertBlock()
            elif isinstance(piece, Block):
                cursor.insertBlock()
                cursor.insertHtml(piece.html)
        cursor.endEditBlock()
        if at_bottom:
            bar.setValue(bar.maximum())

    def _new_renderer(self) -> TranscriptRenderer:
        return TranscriptRenderer(TranscriptColors.from_palette(self.palette()), self._expanded)

    def _text_format(self, thinking: bool) -> QTextCharFormat:
        fmt = QTextCharFormat()
        palette = self.palette()
        fmt.setForeground(theme.dim_text_color(palette) if thinking else theme.text_color(palette))
        fmt.setFontItalic(thinking)
        fmt.setFontWeight(QFont.Weight.Normal)
        return fmt

    def _render_all(self, *, keep_scroll: bool) -> None:
        bar = self.verticalScrollBar()
        position, at_bottom = bar.value(), bar.value() >= bar.maximum() - 4
        self._renderer = self._new_renderer()
        self.setHtml(self._renderer.document(list(self._events)))
        if keep_scroll and not at_bottom:
            bar.setValue(position)
        else:
            bar.setValue(bar.maximum())

    @Slot(QUrl)
    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() != TOGGLE_SCHEME or self._attempt_id is None:
            return
        key = url.path()
        self._expanded.symmetric_difference_update({key})
        self._render_all(keep_scroll=True)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._attempt_id is not None:
            self._render_all(keep_scroll=True)
