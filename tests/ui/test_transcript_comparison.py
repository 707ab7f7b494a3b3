"""Attempts of one task side by side: full height, turns aligned row by row, differing lines
highlighted, a header naming model, configuration, run and outcome, search, j/k."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from app.core.cancel import CancelToken
from app.core.chat import Message, ToolCall, Usage
from app.core.config import AppSettings
from app.core.engine import Engine
from app.core.events import (
    AssistantTurn,
    AttemptStarted,
    Event,
    ToolCallParsed,
    ToolResult,
    TurnStarted,
)
from app.ui.transcripts.aligned_turns import (
    FIRST_DIFFERENCE,
    AlignedColors,
    aligned_html,
    differing_lines,
    turn_sections,
)
from app.ui.transcripts.transcript_view import TranscriptView
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import wait_until

COLORS = AlignedColors(text="#000000", dim="#777777", differs="#ffee99", rule="#777777", kinds={})


def _attempt(attempt_id: str, calls: list[str], *, later_user: str | None = None) -> list[Event]:
    ids = {"run_id": "r", "attempt_id": attempt_id}
    events: list[Event] = [
        AttemptStarted(**ids, model="m", task_id="t", repeat=0, try_number=1, tool_mode="native",
                       messages=(Message(role="user", content="Find the file."),), tools=("read_file",)),
    ]
    for turn, path in enumerate(calls, start=1):
        message = later_user if turn == 2 else None
        events += [
            TurnStarted(**ids, turn=turn, user_message=message),
            AssistantTurn(**ids, turn=turn, content=f"Looking at {path}", thinking=None, native_calls=1, usage=Usage()),
            ToolCallParsed(**ids, turn=turn, call=ToolCall(id=f"c{turn}", name="read_file", arguments={"path": path})),
            ToolResult(**ids, turn=turn, call_id=f"c{turn}", name="read_file", content=f"contents of {path}"),
        ]
    return events


def _table_rows(html: str) -> list[list[str]]:
    """The cells of the aligned table as plain text, row by row."""
    document = QTextDocument()
    document.setHtml(html)
    frame = document.rootFrame()
    table = next(f for f in frame.childFrames())
    rows: list[list[str]] = []
    from PySide6.QtGui import QTextTable

    assert isinstance(table, QTextTable)
    for r in range(table.rows()):
        cells = []
        for c in range(table.columns()):
            cell = table.cellAt(r, c)
            cursor = cell.firstCursorPosition()
            cursor.setPosition(cell.lastCursorPosition().position(), cursor.MoveMode.KeepAnchor)
            cells.append(cursor.selectedText().replace("\u2029", "\n"))
        rows.append(cells)
    return rows


def test_turn_n_of_each_attempt_sits_in_one_row_and_differences_are_marked(qtbot: QtBot) -> None:
    left = turn_sections(_attempt("a", ["a.txt", "b.txt", "c.txt"]))
    right = turn_sections(_attempt("b", ["a.txt", "z.txt"]))
    assert sorted(left) == [0, 1, 2, 3] and sorted(right) == [0, 1, 2]
    # turn 1 is the same; in turn 2 only the lines naming the other file differ
    assert differing_lines(left[1], right[1]) == set()
    changed = differing_lines(left[2], right[2])
    assert changed and all("b.txt" in left[2][i].text for i in changed)
    html = aligned_html([left, right], COLORS)
    rows = _table_rows(html)
    titles = [rows[i][0].strip() for i in range(0, len(rows) - 1, 2)]
    assert titles == ["Task", "Turn 1", "Turn 2 · differs", "Turn 3 · differs"]
    by_title = {t.split(" · ")[0]: rows[i + 1] for i, t in zip(range(0, len(rows) - 1, 2), titles, strict=True)}
    # the view opens at the first turn where the attempts part ways
    assert html.index("Turn 1") < html.index(FIRST_DIFFERENCE) < html.index("Turn 2")
    assert "b.txt" in by_title["Turn 2"][0] and "z.txt" in by_title["Turn 2"][1]
    assert "c.txt" in by_title["Turn 3"][0] and "no turn 3" in by_title["Turn 3"][1]
    assert html.count("#ffee99") >= 2 * len(changed)  # highlighted on both sides


def test_later_user_turns_are_drawn(qtbot: QtBot) -> None:
    events = _attempt("a", ["a.txt", "b.txt"], later_user="Now open the second one.")
    view = TranscriptView()
    qtbot.addWidget(view)
    view.show_attempt("a", events)
    assert "Now open the second one." in view.toPlainText()
    assert any(line.text.endswith("Now open the second one.") for line in turn_sections(events)[2])


def test_same_task_of_every_model_side_by_side_at_full_height(open_window: WindowFactory, tmp_path: Path,
                                                             settings: AppSettings, qtbot: QtBot) -> None:
    engine = Engine(db_path=tmp_path / "t.db", settings=settings, simulated_pace=0.0)
    tasks = engine.catalog.tasks("readiness", "basic")[:2]
    models = [engine.parse_model(m) for m in ("sim:competent", "sim:looper", "sim:prose-only")]
    plan = engine.plan(models, tasks, repeats=2, name="three demo models")
    engine.execute(plan, CancelToken())
    window = open_window(engine=engine)
    window.resize(1280, 720)
    window.compare_runs([plan.run_id])
    page = window.compare_page
    wait_until(lambda: page.data is not None, qtbot)
    browser = page.browser
    page.show_failures("sim:looper")
    # the folded verdict keeps one line: the attempts get (nearly) all the height
    assert page.verdict.height() <= page.verdict.folded_height(page.right_split.width()) + 2
    assert page.tabs.height() >= page.right_split.height() - page.verdict.height() - 12

    browser.compare_same_task()
    comparison = browser.comparison
    assert len(comparison.shown_ids) == 3 and comparison.shown_ids[0] == browser.records[browser.table.currentRow()].id
    assert comparison.stack.currentWidget() is comparison.aligned
    headers = [h.text() for h in comparison.headers[:3]]
    assert "sim:looper" in headers[0] and "loop" in headers[0] and "three demo models" in headers[0]
    assert any("sim:competent" in h and "passed" in h for h in headers)
    text = comparison.aligned.toPlainText()
    assert text.count("Turn 1") == 1 and "Outcome" in text
    # j moves to the next attempt; the selected row and the first column agree
    browser.table.setFocus()
    qtbot.keyClick(browser.table, Qt.Key.Key_J)
    assert comparison.shown_ids[0] == browser.records[browser.table.currentRow()].id
    comparison.search.setText("Outcome")
    assert comparison.matches.text() and not comparison.matches.text().startswith("0 ")
    browser.clear_beside()
    assert comparison.stack.currentWidget() is comparison.single and len(comparison.shown_ids) == 1
