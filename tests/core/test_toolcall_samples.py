"""Recovery reads calls, not code samples: fenced code and signature lists are text,
while a prompted reply that is one fenced block of prompted-form calls is read."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.chat import CallSource
from app.core.toolcalls import recover_tool_calls, render_call

TOOLS = ["get_weather", "schedule_meeting", "get_time"]

SHOWN_NOT_CALLED = [
    "You could call it like this:\n```python\nget_weather('Antwerp')\n```\nbut no call is needed.",
    "Example:\n```python\nget_weather(city=\"Antwerp\")\n```",
    "```py\nresult = get_weather(city='Oslo')\nprint(result)\n```",
    "```\nget_weather(city='Oslo')\n```",
    "```bash\ncurl 'https://example.com/weather?city=Oslo'\n```",
    "```python\n[get_weather(city='Paris'), get_time(tz='CET')]\n```",
    'A call object looks like\n```python\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
    "Here is how it would look:\n```xml\n<tool_call>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n```',
    "The tools I have:\n- schedule_meeting(title, time, attendees) - books a meeting\n"
    "- get_weather(city) - current weather\n- get_time(tz): the time in a zone",
    "schedule_meeting(title, time, attendees) books a meeting.",
    "* get_weather(city=\"Paris\") - shows the weather for a city",
    "1. get_time(tz='UTC') — the time in a zone",
]


@pytest.mark.parametrize("text", SHOWN_NOT_CALLED)
@pytest.mark.parametrize("prompted", [False, True])
def test_shown_code_is_neither_a_call_nor_malformed(text: str, prompted: bool) -> None:
    result = recover_tool_calls(text, TOOLS, prompted=prompted)
    assert result.calls == ()
    assert result.malformed == ()
    assert result.text.split() == text.split()  # the sample stays as prose to display


CALLED = [
    ('```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```', CallSource.JSON_FENCE),
    ('```tool_call\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```', CallSource.JSON_FENCE),
    ('```tool_code\nget_weather(city="Paris")\n```', CallSource.PYTHONIC),
    ('```\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```', CallSource.JSON_FENCE),
    ('get_weather(city="Paris")', CallSource.PYTHONIC),
    ('[get_weather(city="Paris")]', CallSource.PYTHONIC),
    ('I will check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
     CallSource.TOOL_CALL_TAG),
    ("- get_weather(city='Paris')", CallSource.PYTHONIC),
]


@pytest.mark.parametrize(("text", "source"), CALLED)
@pytest.mark.parametrize("prompted", [False, True])
def test_call_formats_are_still_read(text: str, source: CallSource, prompted: bool) -> None:
    result = recover_tool_calls(text, TOOLS, prompted=prompted)
    assert [(c.name, c.arguments, c.source) for c in result.calls] == [
        ("get_weather", {"city": "Paris"}, source)
    ]


PROMPTED_WHOLE_REPLY = [
    '```xml\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n```',
    '```\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n```',
    '  ```text\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\n',
    '```python\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
]


@pytest.mark.parametrize("text", PROMPTED_WHOLE_REPLY)
def test_a_prompted_reply_may_fence_its_call_when_the_fence_is_the_whole_reply(text: str) -> None:
    prompted = recover_tool_calls(text, TOOLS, prompted=True)
    assert [(c.name, c.arguments) for c in prompted.calls] == [("get_weather", {"city": "Paris"})]
    assert prompted.text == ""
    recovery = recover_tool_calls(text, TOOLS)
    assert recovery.calls == ()  # in recovery mode the same fence is a code sample


NOT_WHOLE_REPLY = [
    # prose around the fence: an example inside an explanation
    'For example:\n```xml\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
    "</tool_call>\n```",
    # not the prompted form: a Python call in the fence
    "```python\nget_weather(city='Paris')\n```",
    # the prompted form plus other code
    '```xml\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
    "print('done')\n```",
]


@pytest.mark.parametrize("text", NOT_WHOLE_REPLY)
def test_a_fenced_call_with_anything_else_is_not_read_in_prompted_mode(text: str) -> None:
    assert recover_tool_calls(text, TOOLS, prompted=True).calls == ()


CODE_LANGUAGES = st.sampled_from(["python", "py", "bash", "sh", "xml", "text", "javascript2", "ruby"])
NAMES = st.sampled_from(TOOLS)
CITIES = st.text(st.characters(codec="utf-8", exclude_characters="`\r"), max_size=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    language=CODE_LANGUAGES,
    name=NAMES,
    city=CITIES,
    source=st.sampled_from([CallSource.PYTHONIC, CallSource.TOOL_CALL_TAG, CallSource.BARE_JSON]),
    before=st.sampled_from(["", "Like this:\n", "You would write:\n\n"]),
    after=st.sampled_from(["", "\nNo call is needed here.", "\n\nThat is all."]),
    prompted=st.booleans(),
)
def test_any_call_inside_a_code_sample_is_not_called(
    language: str,
    name: str,
    city: str,
    source: CallSource,
    before: str,
    after: str,
    prompted: bool,
) -> None:
    body = render_call(name, {"city": city}, source)
    text = f"{before}```{language}\n{body}\n```{after}"
    result = recover_tool_calls(text, TOOLS, prompted=prompted)
    whole_prompted_form = prompted and not before and not after and source is not CallSource.PYTHONIC
    if whole_prompted_form:
        assert [(c.name, c.arguments) for c in result.calls] == [(name, {"city": city})]
    else:
        assert result.calls == ()
        assert result.malformed == ()


@settings(max_examples=100, deadline=None)
@given(
    name=NAMES,
    params=st.lists(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), min_size=1, max_size=4),
    bullet=st.sampled_from(["- ", "* ", "1. ", ""]),
    description=st.sampled_from([" - does a thing", ": does a thing", " — does a thing"]),
)
def test_a_list_of_signatures_is_not_a_call(
    name: str, params: list[str], bullet: str, description: str
) -> None:
    line = f"{bullet}{name}({', '.join(params)}){description}"
    result = recover_tool_calls(f"These tools exist:\n{line}\nNone fits.", TOOLS)
    assert result.calls == () and result.malformed == ()


@settings(max_examples=100, deadline=None)
@given(city=CITIES, language=st.sampled_from(["json", "tool_call", ""]))
def test_call_fences_stay_calls(city: str, language: str) -> None:
    payload = json.dumps({"name": "get_weather", "arguments": {"city": city}})
    result = recover_tool_calls(f"Calling:\n```{language}\n{payload}\n```", TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [("get_weather", {"city": city})]
