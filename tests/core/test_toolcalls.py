"""Tool-call recovery: realistic outputs per format, malformed calls, negatives, properties."""

from __future__ import annotations

import keyword
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.chat import CallSource
from app.core.toolcalls import recover_tool_calls, render_call

TOOLS = ("get_weather", "get_time", "search_files")

EXAMPLES: list[tuple[str, list[tuple[str, dict[str, Any]]], CallSource]] = [
    # Qwen2.5 / Hermes
    ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', [("get_weather", {"city": "Paris"})], CallSource.TOOL_CALL_TAG),
    ('<tool_call>[{"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "get_time", "arguments": {"tz": "CET"}}]</tool_call>', [("get_weather", {"city": "Oslo"}), ("get_time", {"tz": "CET"})], CallSource.TOOL_CALL_TAG),
    ('<tool_call>\n{"name": "get_time", "arguments": {"tz": "UTC"}}', [("get_time", {"tz": "UTC"})], CallSource.TOOL_CALL_TAG),
    # fenced JSON (SmolLM, Phi)
    ('Calling the tool:\n```json\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n```', [("get_weather", {"city": "Paris"})], CallSource.JSON_FENCE),
    ('```tool_call\n{"name": "search_files", "arguments": "{\\"pattern\\": \\"*.py\\"}"}\n```', [("search_files", {"pattern": "*.py"})], CallSource.JSON_FENCE),
    # bare JSON, incl. OpenAI-style function wrapper and trailing comma
    ('I will now call {"name": "get_weather", "arguments": {"city": "Paris"}} for you.', [("get_weather", {"city": "Paris"})], CallSource.BARE_JSON),
    ('{"type": "function", "function": {"name": "get_time", "arguments": {"tz": "UTC"}}}', [("get_time", {"tz": "UTC"})], CallSource.BARE_JSON),
    ('{"name": "get_weather", "arguments": {"city": "Paris",},}', [("get_weather", {"city": "Paris"})], CallSource.BARE_JSON),
    # Llama 3.x
    ('<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>', [("get_weather", {"city": "Paris"})], CallSource.PYTHON_TAG),
    ('<|python_tag|>{"name": "get_weather", "parameters": {"city": "Rome"}}; {"name": "get_time", "parameters": {"tz": "CET"}}', [("get_weather", {"city": "Rome"}), ("get_time", {"tz": "CET"})], CallSource.PYTHON_TAG),
    ('<function=get_weather>{"city": "Paris"}</function>', [("get_weather", {"city": "Paris"})], CallSource.FUNCTION_TAG),
    # pythonic (Llama 3.2 small models)
    ('[get_weather(city="Paris"), get_time(tz=\'UTC\')]', [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "UTC"})], CallSource.PYTHONIC),
    ("Sure.\nget_weather(city='Paris', units=\"metric\", days=3, detailed=true)", [("get_weather", {"city": "Paris", "units": "metric", "days": 3, "detailed": True})], CallSource.PYTHONIC),
    # Mistral
    ('[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]', [("get_weather", {"city": "Paris"})], CallSource.MISTRAL),
    ('[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}', [("get_weather", {"city": "Paris"})], CallSource.MISTRAL),
    # Qwen3-coder XML
    ('<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>', [("get_weather", {"city": "Paris", "days": 3})], CallSource.XML_FUNCTION),
]


@pytest.mark.parametrize(("text", "expected", "source"), EXAMPLES)
def test_recognises_real_formats(text: str, expected: list[tuple[str, dict[str, Any]]], source: CallSource) -> None:
    result = recover_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == expected
    assert {c.source for c in result.calls} == {source}
    assert not result.malformed
    assert all(c.raw and c.raw in text for c in result.calls)


MALFORMED = [
    ('<tool_call>{"name": "get_weather", "arguments": {city: Paris</tool_call>', CallSource.TOOL_CALL_TAG),
    ("<tool_call></tool_call>", CallSource.TOOL_CALL_TAG),
    ("[TOOL_CALLS] not json at all", CallSource.MISTRAL),
    ('<function=get_weather>{"city": </function>', CallSource.FUNCTION_TAG),
    ('```tool_call\n{"name": "get_weather", "arguments": \n```', CallSource.JSON_FENCE),
    ('Here: {"name": "get_weather", "arguments": {"city": "Paris"', CallSource.BARE_JSON),
    ('<tool_call>{"name": "get_weather", "arguments": ["Paris"]}</tool_call>', CallSource.TOOL_CALL_TAG),
    ("<|python_tag|>", CallSource.PYTHON_TAG),
]


@pytest.mark.parametrize(("text", "source"), MALFORMED)
def test_call_like_garbage_is_malformed(text: str, source: CallSource) -> None:
    result = recover_tool_calls(text, TOOLS)
    assert not result.calls
    assert [m.source for m in result.malformed] == [source]
    assert result.malformed[0].reason


NEGATIVES = [
    "The weather in Paris is mostly sunny with a light breeze.",
    "```python\nprint(get_config())\n```",
    'A config looks like {"host": "localhost", "port": 8080}.',
    "Use `ls -la` and then [optional] arguments (like this).",
    "I would call get_weather for Paris, but I cannot.",
    "```json\n[1, 2, 3]\n```",
    "",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_prose_and_code_are_not_calls(text: str) -> None:
    result = recover_tool_calls(text, TOOLS)
    assert not result.calls and not result.malformed
    assert result.text == text


def test_bare_pythonic_needs_an_offered_name() -> None:
    assert not recover_tool_calls("print(x=1)", TOOLS).calls
    assert recover_tool_calls("get_time(tz='UTC')", TOOLS).calls


def test_positional_arguments_are_not_guessed() -> None:
    result = recover_tool_calls('[get_weather("Paris")]', TOOLS)
    assert not result.calls


def test_several_formats_in_one_reply_keep_their_order() -> None:
    text = (
        'First <tool_call>{"name": "get_weather", "arguments": {"city": "A"}}</tool_call> then\n'
        '```json\n{"name": "get_time", "arguments": {"tz": "B"}}\n```'
    )
    result = recover_tool_calls(text, TOOLS)
    assert [(c.name, c.source) for c in result.calls] == [
        ("get_weather", CallSource.TOOL_CALL_TAG),
        ("get_time", CallSource.JSON_FENCE),
    ]
    assert [c.id for c in result.calls] == ["rc_0", "rc_1"]
    assert result.text.startswith("First") and "then" in result.text


@pytest.mark.parametrize(
    "text",
    ['{"name":' * 25_000, "<tool_call>" * 20_000, "[f(" * 60_000, "f(" * 60_000, "[TOOL_CALLS]" * 20_000,
     "<function=x>" * 20_000, "```json\n" * 20_000, '<tool_call>{"name": "f", "arguments": {}}</tool_call>' * 4_000],
)
def test_hostile_input_stays_cheap(text: str) -> None:
    started = time.perf_counter()
    recover_tool_calls(text, ["f", "x"])
    assert time.perf_counter() - started < 5.0


FRAGMENTS = st.sampled_from(
    ["<tool_call>", "</tool_call>", "{", "}", "[", "]", '"name"', ":", '"arguments"', ",", "[TOOL_CALLS]",
     "[ARGS]", "<function=", ">", "</function>", "<parameter=", "</parameter>", "```json\n", "```", "<|python_tag|>",
     "<|eom_id|>", "(", ")", "=", "get_weather", "'", '"', "\n", " ", "1", "true", "null", "x"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400), st.lists(FRAGMENTS, max_size=60).map("".join)))
def test_never_raises(text: str) -> None:
    result = recover_tool_calls(text, TOOLS)
    for call in result.calls:
        assert isinstance(call.arguments, dict) and call.name


# Python keywords cannot be names or keyword arguments in the pythonic format.
KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda k: not keyword.iskeyword(k) and k not in {"true", "false", "null"})
SCALARS = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)), max_leaves=6)
ARGUMENTS = st.dictionaries(KEYS, VALUES, max_size=4)
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n) and n not in {"true", "false", "null", "print"})
FORMATS = st.sampled_from([s for s in CallSource if s is not CallSource.NATIVE])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, arguments=ARGUMENTS, source=FORMATS, before=st.sampled_from(["", "Sure, calling it now.\n", "Let me check. "]), after=st.sampled_from(["", "\nDone.", " Waiting for the result."]))
def test_rendered_calls_parse_back(name: str, arguments: dict[str, Any], source: CallSource, before: str, after: str) -> None:
    text = before + render_call(name, arguments, source) + after
    result = recover_tool_calls(text, [name])
    assert not result.malformed, result.malformed
    assert [(c.name, c.arguments, c.source) for c in result.calls] == [(name, arguments, source)]
