"""Tool-call recovery: real model outputs per format, malformed calls, negatives, properties."""

from __future__ import annotations

import keyword
import logging
import string
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.chat import CallSource
from app.core.toolcalls import Recovery, recover_tool_calls, render_call

TOOLS = ("get_weather", "get_time", "search_files", "brave_search")
Calls = list[tuple[str, dict[str, Any]]]

PARIS: Calls = [("get_weather", {"city": "Paris"})]
TWO: Calls = [("get_weather", {"city": "Oslo"}), ("get_time", {"tz": "CET"})]

# (model family, reply, expected calls, source)
EXAMPLES: list[tuple[str, str, Calls, CallSource]] = [
    (
        "qwen2.5",
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        PARIS,
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "qwen2.5 two blocks",
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_time", "arguments": {"tz": "CET"}}\n</tool_call>',
        TWO,
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "hermes-2-pro single quotes, arguments first",
        "<tool_call>\n{'arguments': {'city': 'Paris'}, 'name': 'get_weather'}\n</tool_call>",
        PARIS,
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "smollm2 list in one tag",
        '<tool_call>[{"name": "get_weather", "arguments": {"city": "Oslo"}}, '
        '{"name": "get_time", "arguments": {"tz": "CET"}}]</tool_call>',
        TWO,
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "closing tag cut off, prose after",
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\nI will wait.',
        PARIS,
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "second tag opens before the first closes",
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}\n'
        '<tool_call>{"name": "get_time", "arguments": {"tz": "CET"}}</tool_call>',
        TWO,
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "stray closing brace, trailing commas, Python True",
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "hourly": True,},}}'
        "</tool_call>",
        [("get_weather", {"city": "Paris", "hourly": True})],
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "fence inside the tag",
        '<tool_call>\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\n</tool_call>',
        PARIS,
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "raw newline inside a string",
        '<tool_call>{"name": "search_files", "arguments": {"pattern": "a\nb"}}</tool_call>',
        [("search_files", {"pattern": "a\nb"})],
        CallSource.TOOL_CALL_TAG,
    ),
    (
        "phi / smollm json fence",
        'Calling the tool:\n```json\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n```',
        PARIS,
        CallSource.JSON_FENCE,
    ),
    (
        "json fence with a list",
        '```json\n[{"name": "get_weather", "arguments": {"city": "Oslo"}},\n'
        ' {"name": "get_time", "arguments": {"tz": "CET"}}]\n```',
        TWO,
        CallSource.JSON_FENCE,
    ),
    (
        "tool_call fence, arguments as a JSON string",
        '```tool_call\n{"name": "search_files", "arguments": "{\\"pattern\\": \\"*.py\\"}"}\n```',
        [("search_files", {"pattern": "*.py"})],
        CallSource.JSON_FENCE,
    ),
    (
        "gemma tool_code fence",
        '```tool_code\nget_weather(city="Paris")\n```',
        PARIS,
        CallSource.PYTHONIC,
    ),
    (
        "llama 3.2 json in prose",
        'I will now call {"name": "get_weather", "parameters": {"city": "Paris"}} for you.',
        PARIS,
        CallSource.BARE_JSON,
    ),
    (
        "llama 3.x type function",
        '{"type": "function", "name": "get_weather", "parameters": {"city": "Paris"}}',
        PARIS,
        CallSource.BARE_JSON,
    ),
    (
        "openai wrapper, arguments string",
        '{"id": "call_1", "type": "function", "function": {"name": "get_time", '
        '"arguments": "{\\"tz\\": \\"UTC\\"}"}}',
        [("get_time", {"tz": "UTC"})],
        CallSource.BARE_JSON,
    ),
    (
        "python dict literal",
        "{'name': 'get_weather', 'arguments': {'city': 'Paris', 'days': None}}",
        [("get_weather", {"city": "Paris", "days": None})],
        CallSource.BARE_JSON,
    ),
    (
        "list of objects in prose",
        'Both: [{"name": "get_weather", "arguments": {"city": "Oslo"}}, '
        '{"name": "get_time", "arguments": {"tz": "CET"}}]',
        TWO,
        CallSource.BARE_JSON,
    ),
    (
        "llama 3.1 python_tag",
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>',
        PARIS,
        CallSource.PYTHON_TAG,
    ),
    (
        "llama 3.1 python_tag, two calls split by ;",
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Oslo"}}; '
        '{"name": "get_time", "parameters": {"tz": "CET"}}<|eot_id|>',
        TWO,
        CallSource.PYTHON_TAG,
    ),
    (
        "llama 3.1 built-in tool",
        '<|python_tag|>brave_search.call(query="weather in Paris")<|eom_id|>',
        [("brave_search", {"query": "weather in Paris"})],
        CallSource.PYTHON_TAG,
    ),
    (
        "llama 3.1 custom function tag",
        '<function=get_weather>{"city": "Paris"}</function>',
        PARIS,
        CallSource.FUNCTION_TAG,
    ),
    (
        "llama 3.2 pythonic list",
        "[get_weather(city=\"Oslo\"), get_time(tz='CET')]",
        TWO,
        CallSource.PYTHONIC,
    ),
    (
        "bare pythonic line with JSON words",
        "Sure.\nget_weather(city='Paris', days=3, hourly=true, unit=null)",
        [("get_weather", {"city": "Paris", "days": 3, "hourly": True, "unit": None})],
        CallSource.PYTHONIC,
    ),
    (
        "bare pythonic as inline code in a list item",
        '- `get_weather(city="Paris")`',
        PARIS,
        CallSource.PYTHONIC,
    ),
    (
        "mistral 7b v0.3",
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "a1b2c3d4e"}]',
        PARIS,
        CallSource.MISTRAL,
    ),
    (
        "mistral small 3.2 / devstral",
        '[TOOL_CALLS]get_weather[ARGS]{"city": "Oslo"}[TOOL_CALLS]get_time[ARGS]{"tz": "CET"}',
        TWO,
        CallSource.MISTRAL,
    ),
    (
        "magistral with call id",
        '[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{"city": "Paris"}',
        PARIS,
        CallSource.MISTRAL,
    ),
    (
        "qwen3-coder xml",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>",
        [("get_weather", {"city": "Paris", "days": 3})],
        CallSource.XML_FUNCTION,
    ),
    (
        "qwen3-coder xml, two functions, no wrapper",
        "<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n</function>\n"
        "<function=get_time>\n<parameter=tz>\nCET\n</parameter>\n</function>",
        TWO,
        CallSource.XML_FUNCTION,
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "source"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES]
)
def test_recognises_real_formats(text: str, expected: Calls, source: CallSource) -> None:
    result = recover_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == expected
    assert {c.source for c in result.calls} == {source}
    assert not result.malformed
    assert [c.id for c in result.calls] == [f"rc_{i}" for i in range(len(expected))]
    assert all(c.raw and c.raw in text for c in result.calls)


MALFORMED: list[tuple[str, CallSource, str]] = [
    (
        '<tool_call>{"name": "get_weather", "arguments": {city: Paris</tool_call>',
        CallSource.TOOL_CALL_TAG,
        "JSON",
    ),
    ("<tool_call></tool_call>", CallSource.TOOL_CALL_TAG, "empty"),
    (
        '<tool_call>{"name": "get_weather", "arguments": ["Paris"]}</tool_call>',
        CallSource.TOOL_CALL_TAG,
        "list",
    ),
    (
        '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Par"}</tool_call>',
        CallSource.TOOL_CALL_TAG,
        "string",
    ),
    ('<tool_call>{"arguments": {"city": "Paris"}}</tool_call>', CallSource.TOOL_CALL_TAG, "name"),
    ("[TOOL_CALLS] not json at all", CallSource.MISTRAL, "JSON"),
    ('[TOOL_CALLS]get_weather[ARGS]{"city": ', CallSource.MISTRAL, "JSON"),
    ('<function=get_weather>{"city": </function>', CallSource.FUNCTION_TAG, "JSON"),
    ('<function=get_weather>{"city": "Par', CallSource.FUNCTION_TAG, "JSON"),
    (
        "<function=get_weather><parameter=city>Paris</function>",
        CallSource.XML_FUNCTION,
        "not closed",
    ),
    ('```tool_call\n{"name": "get_weather", "arguments": \n```', CallSource.JSON_FENCE, "JSON"),
    (
        '```json\n{"name": "get_weather", "arguments": {"city": "Paris"\n```',
        CallSource.JSON_FENCE,
        "JSON",
    ),
    ('Here: {"name": "get_weather", "arguments": {"city": "Paris"', CallSource.BARE_JSON, "JSON"),
    ("<|python_tag|>", CallSource.PYTHON_TAG, "nothing"),
    (
        '<|python_tag|>{"name": "get_weather", "parameters": 7}<|eom_id|>',
        CallSource.PYTHON_TAG,
        "number",
    ),
    ('[get_weather("Paris")]', CallSource.PYTHONIC, "positional"),
    ('get_weather("Paris")', CallSource.PYTHONIC, "positional"),
    ("[get_weather(city=Paris)]", CallSource.PYTHONIC, "'city'"),
]


@pytest.mark.parametrize(("text", "source", "reason"), MALFORMED)
def test_call_like_garbage_is_malformed(text: str, source: CallSource, reason: str) -> None:
    result = recover_tool_calls(text, TOOLS)
    assert not result.calls
    assert [m.source for m in result.malformed] == [source]
    assert reason in result.malformed[0].reason
    assert result.malformed[0].raw in text


NEGATIVES = [
    "The weather in Paris is mostly sunny with a light breeze.",
    "```python\nprint(get_config())\n```",
    "```python\nimport os\nx = [len(s) for s in os.listdir('.')]\n```",
    'A config looks like {"host": "localhost", "port": 8080}.',
    '```json\n{"name": "my-app", "version": "1.0.0", "private": true}\n```',
    "Use `ls -la` and then [optional] arguments (like this).",
    "See [the docs](https://example.com/get_weather(city)) and [note(1)].",
    "I would call get_weather for Paris, but I cannot.",
    "I would use get_weather(city) here.",
    "```json\n[1, 2, 3]\n```",
    # an echo of the tool's definition is not a call
    '{"name": "get_weather", "description": "Weather for a city", '
    '"parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}',
    "Text with <b>tags</b>, a [link], {braces} and f(x) = x^2.",
    "",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_prose_and_code_are_not_calls(text: str) -> None:
    result = recover_tool_calls(text, TOOLS)
    assert not result.calls and not result.malformed
    assert result.text == text


def test_bare_pythonic_needs_an_offered_name() -> None:
    assert not recover_tool_calls("print(end='')", TOOLS).calls
    assert not recover_tool_calls("get_time(tz='UTC')").calls
    assert recover_tool_calls("get_time(tz='UTC')", TOOLS).calls


def test_bracketed_pythonic_takes_any_name_but_reports_only_offered_ones() -> None:
    assert [c.name for c in recover_tool_calls("[lookup(term='x')]", TOOLS).calls] == ["lookup"]
    unoffered = recover_tool_calls("[lookup('x')]", TOOLS)
    assert not unoffered.calls and not unoffered.malformed


def test_several_formats_in_one_reply_keep_their_order_and_leave_the_prose() -> None:
    text = (
        "First I check the weather.\n"
        '<tool_call>{"name": "get_weather", "arguments": {"city": "A"}}</tool_call>\n'
        "Then the time:\n"
        '```json\n{"name": "get_time", "arguments": {"tz": "B"}}\n```\n'
        "and finally [search_files(pattern='*.md')] is enough."
    )
    result = recover_tool_calls(text, TOOLS)
    assert [(c.id, c.name, c.source) for c in result.calls] == [
        ("rc_0", "get_weather", CallSource.TOOL_CALL_TAG),
        ("rc_1", "get_time", CallSource.JSON_FENCE),
        ("rc_2", "search_files", CallSource.PYTHONIC),
    ]
    assert result.text == "First I check the weather.\nThen the time:\nand finally is enough."


def test_a_malformed_call_keeps_its_place_among_good_ones() -> None:
    text = (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "A"}}</tool_call>\n'
        '<tool_call>{"name": "get_time", "arguments": {"tz": </tool_call>\n'
        '<tool_call>{"name": "get_time", "arguments": {"tz": "B"}}</tool_call>'
    )
    result = recover_tool_calls(text, TOOLS)
    assert [(c.id, c.arguments) for c in result.calls] == [
        ("rc_0", {"city": "A"}),
        ("rc_1", {"tz": "B"}),
    ]
    assert [m.raw for m in result.malformed] == [
        '<tool_call>{"name": "get_time", "arguments": {"tz": </tool_call>'
    ]


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>{"name": "f", "arguments": {"s": "{\\"name\\": \\"g\\", \\"arguments\\": {}}"}}</tool_call>',
        '```json\n{"name": "f", "arguments": {"code": "[g(x=1)]"}}\n```',
        '{"name": "f", "arguments": {"code": "[g(x=1)]", "md": "<b>"}}',
        '<|python_tag|>{"name": "f", "parameters": {"q": "[TOOL_CALLS]"}}<|eom_id|>',
        '[TOOL_CALLS] [{"name": "f", "arguments": {"q": "{\\"name\\": \\"g\\", \\"arguments\\": {}}"}}]',
    ],
)
def test_text_read_by_one_format_is_not_read_again(text: str) -> None:
    result = recover_tool_calls(text, ["f", "g"])
    assert [c.name for c in result.calls] == ["f"] and not result.malformed
    assert result.text == ""


def test_the_prose_keeps_paragraphs_and_closes_gaps() -> None:
    text = 'Checking.\n\n{"name": "get_time", "arguments": {}}\n\nDone.  '
    assert recover_tool_calls(text, TOOLS).text == "Checking.\n\nDone."
    assert recover_tool_calls("Calling [get_time()] now.", TOOLS).text == "Calling now."


def test_rendering_a_native_call_is_refused() -> None:
    with pytest.raises(ValueError, match="not a text format"):
        render_call("f", {}, CallSource.NATIVE)
    with pytest.raises(ValueError, match="Python name"):
        render_call("f", {"class": 1}, CallSource.PYTHONIC)


HOSTILE = {
    "name keys": '{"name":' * 25_000,
    "tool_call tags": "<tool_call>" * 20_000,
    "open tags with braces": "<tool_call>{" * 20_000,
    "call lists": "[f(" * 60_000,
    "bare calls": "\nf(" * 60_000,
    "mistral tags": "[TOOL_CALLS]" * 20_000,
    "mistral with brackets": "[TOOL_CALLS][{" * 15_000,
    "function tags": "<function=x>" * 20_000,
    "xml parameters": "<function=x><parameter=a>" * 8_000,
    "python tags": "<|python_tag|>[f(" * 12_000,
    "fences": "```json\n{" * 20_000,
    "unclosed call objects": '{"name": "f", "arguments": {\n' * 7_000,
    "nesting": "[" * 100_000 + "{" * 100_000,
    "many good calls": '<tool_call>{"name": "f", "arguments": {}}</tool_call>' * 4_000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_stays_cheap(text: str) -> None:
    started = time.perf_counter()
    result = recover_tool_calls(text, ["f", "x"])
    assert time.perf_counter() - started < 5.0
    assert isinstance(result, Recovery)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


FRAGMENTS = st.sampled_from(
    [
        "<tool_call>", "</tool_call>", "{", "}", "[", "]", '"name"', "'name'", ":", '"arguments"',
        '"parameters"', ",", ";", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "<function=", "<function=f>",
        ">", "</function>", "<parameter=", "<parameter=a>", "</parameter>", "```json\n", "```tool_call\n",
        "```tool_code\n", "```", "<|python_tag|>", "<|eom_id|>", "(", ")", "=", "get_weather", "f",
        ".call", "'", '"', "\\", "\n", " ", "`", "-", "1", "1e999", "true", "None", "null", "x", "é",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.lists(FRAGMENTS, max_size=60).map("".join)))
def test_never_raises_and_every_call_is_well_formed(text: str) -> None:
    errors = _Errors()
    logger = logging.getLogger("app.core.toolcalls")
    logger.addHandler(errors)
    try:
        result = recover_tool_calls(text, ["get_weather", "f"])
    finally:
        logger.removeHandler(errors)
    assert not errors.records, "recovery hit an internal error"
    for call in result.calls:
        assert call.name and isinstance(call.arguments, dict)
        assert call.raw is not None and call.raw in text
    for bad in result.malformed:
        assert bad.reason and bad.raw in text


def _is_name(word: str) -> bool:
    return word.isidentifier() and not keyword.iskeyword(word)


# Keywords cannot be names or keyword arguments in the pythonic format.
IDENTIFIERS = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_letters + "_"),
    st.text(string.ascii_letters + string.digits + "_", max_size=12),
).filter(_is_name)
SCALARS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(['"quoted"', "it's", "line\nbreak", "</parameter>", "```", "naïve ☃", " 3 "]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(IDENTIFIERS, inner, max_size=3),
    max_leaves=8,
)
RENDERED = [s for s in CallSource if s is not CallSource.NATIVE]
PROSE_BEFORE = ["", "Sure, calling it now.\n", "Let me check (quickly). ", "Step 1:\n\n"]
PROSE_AFTER = ["", "\nDone.", " Waiting for the result.", "\n\nThen I will summarise."]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=IDENTIFIERS,
    arguments=st.dictionaries(IDENTIFIERS, VALUES, max_size=4),
    source=st.sampled_from(RENDERED),
    before=st.sampled_from(PROSE_BEFORE),
    after=st.sampled_from(PROSE_AFTER),
)
def test_rendered_calls_read_back(
    name: str, arguments: dict[str, Any], source: CallSource, before: str, after: str
) -> None:
    text = before + render_call(name, arguments, source) + after
    result = recover_tool_calls(text, [name])
    assert not result.malformed, result.malformed
    assert [(c.name, c.arguments, c.source) for c in result.calls] == [(name, arguments, source)]
    assert result.text.split() == (before + after).split()
