"""Turns an attempt's events into rich-text pieces for the transcript view.

A ``TranscriptRenderer`` walks events in order and yields pieces: streamed text (to be
appended as it arrives) or a finished HTML block (a card per tool call, result,
rejection, and the verdict). The same pieces build a whole document at once (switching
attempts) or are appended one batch at a time (live streaming).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from PySide6.QtGui import QPalette

from app.core.chat import CallSource
from app.core.events import (
    AssistantTurn,
    AttemptFinished,
    AttemptStarted,
    Event,
    InfraError,
    TextDelta,
    ToolCallParsed,
    ToolCallRejected,
    ToolResult,
    TurnStarted,
)
from app.core.outcomes import Outcome
from app.ui import theme

COLLAPSED_LINES = 6
COLLAPSE_OVER_CHARS = 700
TOGGLE_SCHEME = "toggle"

SOURCE_NAMES: dict[CallSource, str] = {
    CallSource.NATIVE: "native",
    CallSource.TOOL_CALL_TAG: "<tool_call> tag",
    CallSource.JSON_FENCE: "fenced JSON block",
    CallSource.BARE_JSON: "bare JSON",
    CallSource.PYTHON_TAG: "<|python_tag|>",
    CallSource.PYTHONIC: "pythonic call",
    CallSource.MISTRAL: "[TOOL_CALLS]",
    CallSource.FUNCTION_TAG: "<function=…> tag",
    CallSource.XML_FUNCTION: "XML <function> form",
}


def source_badge_text(source: CallSource) -> str:
    """``native`` or ``recovered from <format>``."""
    return "native" if source is CallSource.NATIVE else f"recovered from {SOURCE_NAMES[source]}"


@dataclass(frozen=True)
class TranscriptColors:
    """Hex colours taken from the palette once per render."""

    text: str
    dim: str
    card: str
    border: str
    native: str
    recovered: str
    rejected: str
    neutral: str
    link: str
    outcome_cards: dict[Outcome, str]
    outcome_badges: dict[Outcome, str]

    @classmethod
    def from_palette(cls, palette: QPalette) -> TranscriptColors:
        base = palette.color(QPalette.ColorRole.Base)
        alt = base.lighter(135) if theme.is_dark(palette) else base.darker(104)
        return cls(
            text=theme.text_color(palette).name(),
            dim=theme.dim_text_color(palette).name(),
            card=alt.name(),
            border=palette.color(QPalette.ColorRole.Mid).name(),
            native=theme.info_color(palette).name(),
            recovered=theme.tint(45, palette, strong=True).name(),
            rejected=theme.tint(0, palette).name(),
            neutral=theme.neutral_tint(palette).name(),
            link=palette.color(QPalette.ColorRole.Link).name(),
            outcome_cards={o: theme.outcome_color(o, palette, strong=False).name() for o in Outcome},
            outcome_badges={o: theme.outcome_color(o, palette).name() for o in Outcome},
        )


@dataclass(frozen=True, slots=True)
class StreamStart:
    """Begin a new paragraph of streamed text."""

    thinking: bool


@dataclass(frozen=True, slots=True)
class StreamText:
    text: str
    thinking: bool


@dataclass(frozen=True, slots=True)
class Block:
    """A finished HTML block (card or line)."""

    html: str


Piece = StreamStart | StreamText | Block


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def pretty(text: str) -> str:
    """Pretty-print ``text`` when it is JSON; otherwise return it unchanged."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return text


@dataclass(slots=True)
class TranscriptRenderer:
    """Stateful walk over one attempt's events; ``expanded`` holds toggled-open keys."""

    colors: TranscriptColors
    expanded: set[str] = field(default_factory=set)
    _streamed_turns: set[int] = field(default_factory=set)
    _stream: tuple[int, bool] | None = None
    _count: int = 0

    def pieces(self, events: Iterable[Event]) -> Iterator[Piece]:
        for event in events:
            if isinstance(event, TextDelta):
                if self._stream != (event.turn, event.thinking):
                    self._stream = (event.turn, event.thinking)
                    self._streamed_turns.add(event.turn)
                    yield StreamStart(event.thinking)
                yield StreamText(event.text, event.thinking)
                continue
            self._stream = None
            self._count += 1
            block = self._block(event, f"e{self._count}")
            if block:
                yield Block(block)

    def document(self, events: Iterable[Event]) -> str:
        """The whole transcript as one HTML document."""
        parts: list[str] = []
        open_paragraph = False
        for piece in self.pieces(events):
            if isinstance(piece, StreamText):
                parts.append(self.stream_span(piece.text, piece.thinking))
                continue
            if open_paragraph:
                parts.append("</p>")
                open_paragraph = False
            if isinstance(piece, StreamStart):
                parts.append('<p style="white-space: pre-wrap; margin: 4px 0">')
                open_paragraph = True
            else:
                parts.append(piece.html)
        if open_paragraph:
            parts.append("</p>")
        return f'<body style="color: {self.colors.text}">' + "".join(parts) + "</body>"

    def stream_span(self, text: str, thinking: bool) -> str:
        if thinking:
            return f'<span style="color: {self.colors.dim}; font-style: italic">{_esc(text)}</span>'
        return _esc(text)

    # ---- blocks ---------------------------------------------------------------------

    def _block(self, event: Event, key: str) -> str:
        c = self.colors
        if isinstance(event, AttemptStarted):
            return self._header(event, key)
        if isinstance(event, TurnStarted):
            line = f'<p style="color: {c.dim}; margin-top: 10px"><small>— turn {event.turn} —</small></p>'
            if event.user_message:  # a later message of a multi-turn task
                line += self._card(f"<b>User</b><br>{_esc(event.user_message)}".replace("\n", "<br>"))
            return line
        if isinstance(event, AssistantTurn):
            return self._assistant(event, key)
        if isinstance(event, ToolCallParsed):
            return self._call(event, key)
        if isinstance(event, ToolCallRejected):
            return self._rejected(event, key)
        if isinstance(event, ToolResult):
            return self._result(event, key)
        if isinstance(event, InfraError):
            retry = "retrying" if event.will_retry else "giving up"
            body = f"<b>Server error</b> ({retry}, not counted against the model)<br>{_esc(event.message)}"
            return self._card(body, c.neutral)
        if isinstance(event, AttemptFinished):
            return self._verdict(event)
        return ""

    def _card(self, inner: str, background: str | None = None) -> str:
        bg = background or self.colors.card
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" border="1" '
            f'style="border-color: {self.colors.border}; border-style: solid; margin: 4px 0" '
            f'bgcolor="{bg}"><tr><td>{inner}</td></tr></table>'
        )

    def _badge(self, text: str, background: str) -> str:
        return (
            f'<span style="background-color: {background}; color: {self.colors.text}">'
            f"&nbsp;{_esc(text)}&nbsp;</span>"
        )

    def _toggle(self, key: str, closed: str, opened: str) -> str:
        label = opened if key in self.expanded else closed
        return f'<a href="{TOGGLE_SCHEME}:{key}" style="color: {self.colors.link}">{_esc(label)}</a>'

    def _pre(self, text: str) -> str:
        return f'<pre style="margin: 2px 0; white-space: pre-wrap">{_esc(text)}</pre>'

    def _collapsible_pre(self, text: str, key: str) -> str:
        lines = text.splitlines() or [""]
        if len(lines) <= COLLAPSED_LINES + 2 and len(text) <= COLLAPSE_OVER_CHARS:
            return self._pre(text)
        if key in self.expanded:
            return self._pre(text) + self._toggle(key, "", "show less")
        head = "\n".join(lines[:COLLAPSED_LINES])
        if len(head) > COLLAPSE_OVER_CHARS:
            head = head[:COLLAPSE_OVER_CHARS] + "…"
        more = f"show all ({len(lines)} lines, {len(text):,} characters)"
        return self._pre(head + "\n…") + self._toggle(key, more, "")

    def _header(self, event: AttemptStarted, key: str) -> str:
        c = self.colors
        retry = f" · try {event.try_number}" if event.try_number > 1 else ""
        tools = ", ".join(event.tools) if event.tools else "none"
        prompt = next((m.content for m in reversed(event.messages) if m.role == "user"), "")
        system = next((m.content for m in event.messages if m.role == "system"), "")
        parts = [
            f"<p><b>{_esc(event.model)}</b> on <b>{_esc(event.task_id)}</b> · run {event.repeat + 1}"
            f"{retry} · tool mode {_esc(event.tool_mode)}<br>"
            f'<span style="color: {c.dim}">tools offered: {_esc(tools)}</span></p>'
        ]
        if system:
            parts.append(f"<p>{self._toggle(key, 'show system prompt', 'hide system prompt')}</p>")
            if key in self.expanded:
                parts.append(self._pre(system))
        parts.append(self._card(f"<b>User</b><br>{_esc(prompt)}"))
        return "".join(parts)

    def _assistant(self, event: AssistantTurn, key: str) -> str:
        c = self.colors
        parts: list[str] = []
        if event.turn not in self._streamed_turns:
            if event.thinking:
                parts.append(
                    "<p>"
                    + self._toggle(key, f"▸ thinking ({len(event.thinking):,} characters)", "▾ thinking")
                    + "</p>"
                )
                if key in self.expanded:
                    parts.append(
                        f'<p style="white-space: pre-wrap; color: {c.dim}; font-style: italic">'
                        f"{_esc(event.thinking)}</p>"
                    )
            if event.content:
                parts.append(f'<p style="white-space: pre-wrap; margin: 4px 0">{_esc(event.content)}</p>')
        usage = event.usage
        facts = [f"{usage.completion_tokens} tokens"]
        if usage.tokens_per_s:
            facts.append(f"{usage.tokens_per_s:.0f} tok/s")
        if event.native_calls:
            facts.append(f"{event.native_calls} native call(s)")
        parts.append(f'<p style="color: {c.dim}; margin: 0"><small>{" · ".join(facts)}</small></p>')
        return "".join(parts)

    def _call(self, event: ToolCallParsed, key: str) -> str:
        c = self.colors
        call = event.call
        recovered = call.source.recovered
        badge = self._badge(source_badge_text(call.source), c.recovered if recovered else c.native)
        args = json.dumps(call.arguments, indent=2, ensure_ascii=False, default=str)
        inner = f"<b>Tool call</b> &nbsp;<code>{_esc(call.name)}</code> &nbsp;{badge}{self._pre(args)}"
        if recovered and call.raw:
            inner += self._toggle(key, "show the text it was recovered from", "hide raw text")
            if key in self.expanded:
                inner += self._pre(call.raw)
        return self._card(inner)

    def _rejected(self, event: ToolCallRejected, key: str) -> str:
        c = self.colors
        name = f"<code>{_esc(event.name)}</code>" if event.name else "(unreadable call)"
        inner = (
            f"<b>Rejected call</b> &nbsp;{name} &nbsp;{self._badge(event.failure.value, c.neutral)}"
            f"<br>{_esc(event.reason)}"
        )
        if event.raw:
            inner += self._collapsible_pre(event.raw, key)
        return self._card(inner, c.rejected)

    def _result(self, event: ToolResult, key: str) -> str:
        c = self.colors
        error = " &nbsp;" + self._badge("error", c.rejected) if event.is_error else ""
        inner = f"<b>Result</b> of <code>{_esc(event.name)}</code>{error}"
        inner += self._collapsible_pre(pretty(event.content), key)
        return self._card(inner)

    def _verdict(self, event: AttemptFinished) -> str:
        c = self.colors
        rows = [
            f"<b>Outcome</b> &nbsp;{self._badge(event.outcome.value, c.outcome_badges[event.outcome])}"
            " &nbsp;"
            f"{_esc(event.outcome.describe)}"
        ]
        if event.detail and event.outcome is not Outcome.PASSED:
            # the failed checks are listed below: say only what they do not
            listed = {f"{check.name}: {check.detail}" for check in event.checks if not check.passed}
            rest = [part for part in event.detail.split("; ") if part not in listed]
            if rest:
                rows.append(_esc("; ".join(rest)))
        for check in event.checks:
            mark = "✓" if check.passed else "✗"
            detail = f" — {_esc(check.detail)}" if check.detail else ""
            rows.append(f"{mark} {_esc(check.name)}{detail}")
        s = event.stats
        facts = [f"{s.turns} turn(s)", f"{s.calls_valid} valid call(s)"]
        if s.calls_recovered:
            facts.append(f"{s.calls_recovered} recovered")
        if s.calls_rejected:
            facts.append(f"{s.calls_rejected} rejected")
        facts.append(f"{s.prompt_tokens + s.completion_tokens:,} tokens")
        facts.append(f"{s.wall_s:.1f} s")
        if s.context_window:
            facts.append(f"context {s.context_window:,} tokens")
        if event.infra_retries:
            facts.append(f"{event.infra_retries} server retr{'y' if event.infra_retries == 1 else 'ies'}")
        rows.append(f'<span style="color: {c.dim}">{" · ".join(facts)}</span>')
        return self._card("<br>".join(rows), c.outcome_cards[event.outcome])
