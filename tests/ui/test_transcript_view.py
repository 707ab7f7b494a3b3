"""The transcript view: streaming text, rejected calls, long results and thinking collapse."""

from __future__ import annotations

import re

from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from app.core.chat import CallSource, Usage
from app.core.events import (
    AssistantTurn,
    AttemptEvent,
    TextDelta,
    ToolCallRejected,
    ToolResult,
    TurnStarted,
)
from app.core.outcomes import Outcome
from app.ui.transcripts.transcript_view import TranscriptView

IDS = {"run_id": "r1", "attempt_id": "r1-000001"}


def _view(qtbot: QtBot) -> TranscriptView:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    return view


def _click(view: TranscriptView, label: str) -> None:
    match = re.search(rf'href="(toggle:[^"]+)"(?:(?!href=).)*?{re.escape(label)}', view.toHtml(), re.S)
    assert match is not None, label
    view.anchorClicked.emit(QUrl(match.group(1)))


def test_streamed_text_is_appended_and_the_full_turn_is_not_repeated(qtbot: QtBot) -> None:
    view = _view(qtbot)
    events: list[AttemptEvent] = [TurnStarted(turn=1, **IDS)]
    view.show_attempt("r1-000001", events)
    for piece in ("The wea", "ther in ", "Paris"):
        delta = TextDelta(turn=1, text=piece, **IDS)
        events.append(delta)
        view.append_events("r1-000001", [delta])
    assert "The weather in Paris" in view.toPlainText()
    done = AssistantTurn(
        turn=1, content="The weather in Paris", thinking=None, native_calls=0,
        usage=Usage(completion_tokens=7), **IDS,
    )
    view.append_events("r1-000001", [done])
    assert view.toPlainText().count("The weather in Paris") == 1
    view.append_events("other-attempt", [TextDelta(turn=1, text="IGNORED", **IDS)])
    assert "IGNORED" not in view.toPlainText()


def test_rejected_call_shows_reason_and_long_results_collapse(qtbot: QtBot) -> None:
    view = _view(qtbot)
    long_output = "\n".join(f"line {i}" for i in range(60))
    events: list[AttemptEvent] = [
        ToolCallRejected(
            turn=1, failure=Outcome.UNKNOWN_TOOL, reason="no tool named 'get_wether' was offered",
            name="get_wether", raw='{"name": "get_wether"}', source=CallSource.BARE_JSON, **IDS,
        ),
        ToolResult(turn=1, call_id="c1", name="run_command", content=long_output, **IDS),
    ]
    view.show_attempt("r1-000001", events)
    text = view.toPlainText()
    assert "Rejected call" in text and "no tool named 'get_wether' was offered" in text
    assert "unknown_tool" in text
    assert "line 3" in text and "line 59" not in text
    assert "show all (60 lines" in text
    _click(view, "show all")
    assert "line 59" in view.toPlainText()
    _click(view, "show less")
    assert "line 59" not in view.toPlainText()


def test_stored_thinking_is_collapsed_until_asked_for(qtbot: QtBot) -> None:
    view = _view(qtbot)
    turn = AssistantTurn(
        turn=1, content="Done.", thinking="First I check the order id.", native_calls=0,
        usage=Usage(completion_tokens=12, tokens_per_s=30.0), **IDS,
    )
    view.show_attempt("r1-000001", [turn])
    assert "First I check" not in view.toPlainText()
    assert "thinking (" in view.toPlainText()
    _click(view, "thinking")
    assert "First I check the order id." in view.toPlainText()


def test_the_outcome_card_says_each_failure_once_in_words(qtbot: QtBot) -> None:
    from app.core.events import AttemptFinished, AttemptStats, CheckOutcome

    view = _view(qtbot)
    failed = CheckOutcome(name="named a flight", passed=False, detail="answer mentions none of “TP669”, “KL1693”")
    passed = CheckOutcome(name="exact search arguments", passed=True, detail="made the 1 expected call(s)")
    finished = AttemptFinished(
        **IDS, outcome=Outcome.LOOP, score=0.0,
        detail=f"same call and result 3 turns in a row; {failed.name}: {failed.detail}",
        checks=(passed, failed), stats=AttemptStats(turns=3),
    )
    view.show_attempt(IDS["attempt_id"], [finished])
    text = view.toPlainText()
    assert text.count("answer mentions none of") == 1
    assert "same call and result 3 turns in a row" in text
    assert "['" not in text
