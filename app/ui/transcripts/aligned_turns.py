"""Several attempts' transcripts as one table: turn N of each attempt in one row, side by side,
with the lines that differ from the neighbouring attempt highlighted (difflib over the text
of each turn)."""

from __future__ import annotations

import difflib
import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.chat import CallSource
from app.core.events import (
    AssistantTurn,
    AttemptFinished,
    AttemptStarted,
    Event,
    InfraError,
    ToolCallParsed,
    ToolCallRejected,
    ToolResult,
    TurnStarted,
)
from app.ui.transcripts.transcript_html import pretty, source_badge_text

PROMPT = 0  # the section before the first turn: the task as the user gave it
OUTCOME = 1_000_000  # the section after the last turn: the verdict
RESULT_LINES = 24
FIRST_DIFFERENCE = "first-difference"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a turn as shown and compared; ``kind`` styles it (user, assistant, call…)."""

    kind: str
    text: str


def _lines(kind: str, text: str, limit: int | None = None) -> list[Line]:
    rows = text.splitlines() or [""]
    if limit is not None and len(rows) > limit:
        rows = [*rows[:limit], f"… {len(rows) - limit} more line(s)"]
    return [Line(kind, row) for row in rows]


def turn_sections(events: Iterable[Event]) -> dict[int, list[Line]]:
    """The attempt's text by section: PROMPT, each turn number, OUTCOME."""
    sections: dict[int, list[Line]] = {}
    current = PROMPT
    for event in events:
        if isinstance(event, AttemptStarted):
            sections = {}  # a retry voids what came before
            prompt = next((m.content for m in reversed(event.messages) if m.role == "user"), "")
            sections[PROMPT] = _lines("user", f"User: {prompt}")
            current = PROMPT
        elif isinstance(event, TurnStarted):
            current = event.turn
            lines = sections.setdefault(current, [])
            if event.user_message:
                lines.extend(_lines("user", f"User: {event.user_message}"))
        elif isinstance(event, AssistantTurn):
            lines = sections.setdefault(event.turn, [])
            if event.thinking:
                lines.append(Line("thinking", f"(thinking, {len(event.thinking):,} characters)"))
            if event.content.strip():
                lines.extend(_lines("assistant", event.content.strip()))
        elif isinstance(event, ToolCallParsed):
            call = event.call
            args = json.dumps(call.arguments, ensure_ascii=False, default=str, sort_keys=True)
            via = "" if call.source is CallSource.NATIVE else f"   [{source_badge_text(call.source)}]"
            sections.setdefault(event.turn, []).append(Line("call", f"→ {call.name}({args}){via}"))
        elif isinstance(event, ToolCallRejected):
            name = event.name or "unreadable call"
            sections.setdefault(event.turn, []).append(
                Line("rejected", f"✗ rejected {name} ({event.failure.value}): {event.reason}")
            )
        elif isinstance(event, ToolResult):
            lines = sections.setdefault(event.turn, [])
            error = " (error)" if event.is_error else ""
            lines.append(Line("result", f"← {event.name}{error}:"))
            lines.extend(_lines("result", pretty(event.content), RESULT_LINES))
        elif isinstance(event, InfraError):
            sections.setdefault(current, []).append(Line("note", f"server error: {event.message}"))
        elif isinstance(event, AttemptFinished):
            lines = [Line("outcome", f"Outcome: {event.outcome.value} — {event.outcome.describe}")]
            lines += [
                Line("check", f"{'✓' if c.passed else '✗'} {c.name}" + (f" — {c.detail}" if c.detail else ""))
                for c in event.checks
            ]
            sections[OUTCOME] = lines
    return sections


def differing_lines(mine: Sequence[Line], other: Sequence[Line] | None) -> set[int]:
    """Indices of ``mine`` that are not matched in ``other`` (all of them when it has none)."""
    if other is None:
        return set(range(len(mine)))
    matcher = difflib.SequenceMatcher(None, list(mine), list(other), autojunk=False)
    changed: set[int] = set()
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            changed.update(range(i1, i2))
    return changed


@dataclass(frozen=True, slots=True)
class AlignedColors:
    """Hex colours of the aligned table, taken from the palette."""

    text: str
    dim: str
    differs: str
    rule: str
    kinds: dict[str, str]  # text colour per line kind, when not ``text``


def section_title(section: int) -> str:
    if section == PROMPT:
        return "Task"
    if section == OUTCOME:
        return "Outcome"
    return f"Turn {section}"


def aligned_html(columns: Sequence[dict[int, list[Line]]], colors: AlignedColors) -> str:
    """One table: a title row per section, then that section of every attempt side by side."""
    sections = sorted({key for column in columns for key in column})
    width = 100 // max(1, len(columns))
    rows: list[str] = []
    marked = False
    for section in sections:
        cells: list[str] = []
        differs = False
        for i, column in enumerate(columns):
            lines = column.get(section)
            if lines is None:
                differs = True
                cells.append(f'<td width="{width}%" style="color: {colors.dim}"><i>(no {section_title(section).lower()})</i></td>')
                continue
            neighbour = columns[1 if i == 0 else 0] if len(columns) > 1 else column
            changed = differing_lines(lines, neighbour.get(section))
            differs = differs or bool(changed)
            cells.append(f'<td width="{width}%" valign="top">{_render(lines, changed, colors)}</td>')
        anchor = ""
        if differs and not marked:  # the view opens here: where the attempts part ways
            anchor, marked = f'<a name="{FIRST_DIFFERENCE}"></a>', True
        rows.append(
            f'<tr><td colspan="{len(columns)}" style="border-top: 1px solid {colors.rule}; color: {colors.dim}">'
            f"{anchor}<small><b>{section_title(section)}</b>{' · differs' if differs else ''}</small></td></tr>"
        )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<body style="color: {colors.text}"><table width="100%" cellspacing="0" cellpadding="4">'
        + "".join(rows)
        + "</table></body>"
    )


def _render(lines: Sequence[Line], changed: set[int], colors: AlignedColors) -> str:
    parts: list[str] = []
    for index, line in enumerate(lines):
        style = ["margin: 0", "white-space: pre-wrap"]
        if line.kind in colors.kinds:
            style.append(f"color: {colors.kinds[line.kind]}")
        if line.kind in ("call", "result", "rejected"):
            style.append("font-family: monospace")
        if index in changed:
            style.append(f"background-color: {colors.differs}")
        text = html.escape(line.text, quote=False) or "&nbsp;"
        if line.kind in ("user", "outcome"):
            text = f"<b>{text}</b>"
        parts.append(f'<p style="{"; ".join(style)}">{text}</p>')
    return "".join(parts)
