import json

from app.core.chat import CallSource, Message, ToolCall, Usage
from app.core.events import (
    AssistantTurn,
    AttemptFinished,
    AttemptStarted,
    AttemptStats,
    CheckOutcome,
    ToolCallParsed,
    ToolCallRejected,
    event_from_dict,
    event_to_dict,
)
from app.core.outcomes import Outcome


def _round_trip(event: object) -> object:
    return event_from_dict(json.loads(json.dumps(event_to_dict(event))))  # type: ignore[arg-type]


def test_events_survive_json_round_trip() -> None:
    events = [
        AttemptStarted(
            run_id="r",
            attempt_id="a",
            model="sim:competent",
            task_id="t",
            repeat=1,
            try_number=1,
            tool_mode="recovery",
            messages=(Message(role="system", content="s"), Message(role="user", content="u")),
            tools=("get_weather",),
        ),
        AssistantTurn(
            run_id="r", attempt_id="a", turn=1, content="hi", thinking=None, native_calls=0,
            usage=Usage(prompt_tokens=3, completion_tokens=5, tokens_per_s=42.5),
        ),
        ToolCallParsed(
            run_id="r", attempt_id="a", turn=1,
            call=ToolCall("c1", "get_weather", {"city": "Paris", "n": [1, 2]}, CallSource.PYTHONIC, "get_weather(city='Paris')"),
        ),
        ToolCallRejected(
            run_id="r", attempt_id="a", turn=1, failure=Outcome.MALFORMED_CALL,
            reason="bad json", name=None, raw="<tool_call>{", source=CallSource.TOOL_CALL_TAG,
        ),
        AttemptFinished(
            run_id="r", attempt_id="a", outcome=Outcome.PARTIAL, score=0.8, detail="4/5",
            checks=(CheckOutcome("file a", True), CheckOutcome("file b", False, "missing")),
            stats=AttemptStats(turns=3, wall_s=1.5),
        ),
    ]
    for event in events:
        assert _round_trip(event) == event
