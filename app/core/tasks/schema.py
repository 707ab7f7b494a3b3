"""The declarative task format: what a task file under ``tasks/<suite>/`` may say.

Validated with pydantic so that a broken file is reported by file and field.
"""

from __future__ import annotations

import json
import re
from difflib import get_close_matches
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.chat import ToolChoice

_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Fields added in format version 2. Left at their defaults they stay out of a task's
    # content hash, so a version-1 file keeps the hash its stored results carry.
    _V2_FIELDS: ClassVar[frozenset[str]] = frozenset()

    def hash_dump(self) -> dict[str, Any]:
        """The fields that define this model, as JSON data, for content hashing."""
        pruned = _prune(self, self.model_dump(mode="json"))
        assert isinstance(pruned, dict)
        return pruned


def _prune(value: Any, data: Any) -> Any:
    """``data`` (the JSON dump of ``value``) without version-2 fields left at their default."""
    if isinstance(value, _Strict) and isinstance(data, dict):
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            if name in value._V2_FIELDS and item == info.get_default(call_default_factory=True):
                data.pop(name, None)
            elif name in data:
                data[name] = _prune(item, data[name])
        return data
    if isinstance(value, list | tuple) and isinstance(data, list):
        return [_prune(v, d) for v, d in zip(value, data, strict=True)]
    if isinstance(value, dict) and isinstance(data, dict):
        return {k: _prune(value[k], d) if k in value else d for k, d in data.items()}
    return data


# ---- argument matchers ----------------------------------------------------------------


class Matcher(_Strict):
    """How one expected argument is compared. Exactly one comparison may be given,
    with options that say how strictly."""

    _V2_FIELDS = frozenset({"ignore_case", "normalize_space", "strict_type", "order", "from_result"})

    equals: Any = None
    iequals: str | None = None
    one_of: list[Any] | None = None
    regex: str | None = None
    approx: float | None = None
    tol: float = 1e-6
    contains: str | None = None
    any: bool | None = None  # present, any value
    optional: bool = False  # may be absent; if present it must match
    ignore_case: bool = False  # strings compare case-insensitively (equals, one_of)
    normalize_space: bool = False  # runs of whitespace count as one space (equals, one_of)
    strict_type: bool = False  # 10 is not 10.0 nor "10"; an integer must be an integer
    order: Literal["exact", "any"] = "exact"  # lists: same order, or the same items any order
    from_result: bool = False  # the value must appear in a tool result the model read earlier

    @model_validator(mode="after")
    def _one_comparison(self) -> Matcher:
        given = [
            k
            for k in ("iequals", "one_of", "regex", "approx", "contains", "any")
            if getattr(self, k) is not None
        ]
        if self.equals is not None:
            given.append("equals")
        if len(given) != 1:
            raise ValueError(
                "give exactly one of equals, iequals, one_of, regex, approx, contains, any"
            )
        _compiled(self.regex)
        return self


def _compiled(pattern: str | None) -> str | None:
    """The pattern, once it is known to compile; a bad one is an error naming why."""
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
    return pattern


MATCHER_KEYS = frozenset(Matcher.model_fields)


def _as_matcher(value: Any) -> Any:
    """A bare value in a task file means ``equals``; a mapping that uses any matcher key,
    or one that looks misspelt (``one_off``), is a matcher, so a typo is an error instead
    of a literal that can never match. A literal mapping is written ``{equals: {...}}``."""
    if isinstance(value, dict) and value:
        keys = {str(k) for k in value}
        if keys & MATCHER_KEYS:
            return value
        for key in sorted(keys):
            near = get_close_matches(key, MATCHER_KEYS, n=1, cutoff=0.8)
            if near:
                raise ValueError(
                    f"{key!r} is not a matcher key (did you mean {near[0]!r}?); "
                    "write a literal mapping as {equals: {...}}"
                )
    return {"equals": value}


ArgMatcher = Annotated[Matcher, Field()]


class ExpectedCall(_Strict):
    """One call a ``tool_calls`` check expects: the tool's name and its arguments' matchers."""

    name: str
    args: dict[str, ArgMatcher] = Field(default_factory=dict)
    exact_args: bool = False  # no arguments beyond those listed

    @field_validator("args", mode="before")
    @classmethod
    def _bare_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _as_matcher(v) for k, v in value.items()}
        return value


# ---- tools ----------------------------------------------------------------------------


class MockResponse(_Strict):
    """A scripted tool result; the first response whose ``when`` matches (and is not used up) wins."""

    when: dict[str, ArgMatcher] = Field(default_factory=dict)
    result: str | dict[str, Any] | list[Any]
    is_error: bool = False
    times: int | None = None  # usable this many times, then skipped

    @field_validator("when", mode="before")
    @classmethod
    def _bare_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _as_matcher(v) for k, v in value.items()}
        return value


class MockTool(_Strict):
    """A tool whose results are scripted in the task file (readiness, api-chain)."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    responses: list[MockResponse] = Field(default_factory=list)
    stateful: bool = False  # answered by the task's tool_class method of the same name

    _V2_FIELDS = frozenset({"stateful"})

    @model_validator(mode="after")
    def _stateful_or_scripted(self) -> MockTool:
        if self.stateful and self.responses:
            raise ValueError("a stateful tool is answered by its class: remove its responses")
        if self.stateful and not self.name.isidentifier():
            raise ValueError("a stateful tool's name must be a Python method name")
        return self

    @field_validator("parameters")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_parameters_schema(value)


def check_parameters_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's parameters must be a valid JSON Schema (2020-12) describing an object."""
    problem = _schema_problem(json.dumps(schema, sort_keys=True, default=str))
    if problem is not None:
        raise ValueError(problem)
    if schema.get("type", "object") != "object":
        raise ValueError("a tool's parameters must be a JSON Schema of type 'object'")
    return schema


@lru_cache(maxsize=4096)
def _schema_problem(schema_json: str) -> str | None:
    """Why a schema breaks the JSON Schema meta-schema, or None (suites repeat tools)."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_meta_validator().iter_errors(json.loads(schema_json)))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"not a valid JSON Schema{' at ' + where if where else ''}: {error.message}"


@lru_cache(maxsize=1)
def _meta_validator() -> Any:
    import jsonschema

    meta = jsonschema.Draft202012Validator.META_SCHEMA
    return jsonschema.Draft202012Validator(meta)


BuiltinToolName = Literal["read_file", "write_file", "run_command", "search_code", "list_files"]


class BuiltinTool(_Strict):
    """A real tool working on the attempt's sandboxed workspace."""

    builtin: BuiltinToolName


ToolEntry = MockTool | BuiltinTool


# ---- checks ---------------------------------------------------------------------------


class _Check(_Strict):
    weight: float = 1.0
    label: str | None = None


class ToolCallsCheck(_Check):
    """The model made these calls (by name and arguments)."""

    _V2_FIELDS = frozenset({"same_turn"})

    type: Literal["tool_calls"]
    calls: list[ExpectedCall]
    order: Literal["sequence", "any"] = "any"
    allow_extra: bool = True  # other valid calls are fine
    same_turn: bool = False  # the expected calls must all come in one model turn


class NoToolCallsCheck(_Check):
    """The model made no call at all, not even a malformed or invented one."""

    type: Literal["no_tool_calls"]


class AnswerCheck(_Check):
    """The final answer text contains / matches what is expected."""

    type: Literal["answer"]
    contains: list[str] = Field(default_factory=list)  # all, case-insensitive
    contains_any: list[str] = Field(default_factory=list)
    regex: str | None = None
    not_contains: list[str] = Field(default_factory=list)

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return _compiled(value)


class FileCheck(_Check):
    """A file in the final workspace exists / contains / matches."""

    type: Literal["file"]
    path: str
    exists: bool = True
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return _compiled(value)


class CommandCheck(_Check):
    """Run a hidden check (e.g. pytest) on the final workspace; exit 0 passes."""

    type: Literal["command"]
    argv: list[str] = Field(min_length=1)
    hidden: str | None = None  # folder next to the task file, copied in only for the check
    timeout_s: float = Field(default=60.0, gt=0, le=3600)


class CodeAnswerCheck(_Check):
    """Extract the code from the answer and run hidden tests against it (one-shot suite)."""

    type: Literal["code_answer"]
    language: Literal["python", "shell", "text"] = "python"
    test: str  # Python test code; the answer's code is importable as module ``answer``


Check = Annotated[
    ToolCallsCheck | NoToolCallsCheck | AnswerCheck | FileCheck | CommandCheck | CodeAnswerCheck,
    Field(discriminator="type"),
]


# ---- reference solution ---------------------------------------------------------------


class RefCall(_Strict):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class RefStep(_Strict):
    """One turn of the reference solution: calls to make, or the final answer."""

    calls: list[RefCall] = Field(default_factory=list)
    answer: str | None = None

    @model_validator(mode="after")
    def _calls_or_answer(self) -> RefStep:
        if bool(self.calls) == (self.answer is not None):
            raise ValueError("a reference step has either calls or an answer")
        return self


class Budgets(_Strict):
    max_turns: int = Field(default=10, ge=1, le=200)
    max_tokens: int = Field(default=16_000, ge=16)
    max_seconds: float = Field(default=300.0, gt=0)


class UserTurn(_Strict):
    """One user message of a conversation, with the checks on what the model did in reply
    (its calls and its answer before the next message) and the reference reply."""

    prompt: str
    checks: list[Check] = Field(default_factory=list)
    reference: list[RefStep] = Field(min_length=1)


class ToolClass(_Strict):
    """Stateful tools: a Python class in the suite whose methods are the task's
    ``stateful`` tools. One instance lives through the attempt, inside the sandbox."""

    file: str  # a .py file next to the task file, inside the suite
    name: str  # the class in that file
    init: dict[str, Any] = Field(default_factory=dict)  # keyword arguments for the constructor
    setup: str | None = None  # or: a method called with ``init`` as its one argument

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError("must be a Python class name")
        return value


NO_SYSTEM_PROMPT = "none"


class TaskSpec(_Strict):
    """One task as written in its file."""

    _V2_FIELDS = frozenset({"turns", "tool_class"})

    id: str
    title: str
    tier: str
    prompt: str | None = None  # the user message (or ``turns`` for several)
    system: str | None = None  # ``none``: no system message at all
    dimension: str | None = None
    tags: list[str] = Field(default_factory=list)
    expect: Literal["tool_use", "silence", "answer"] = "tool_use"
    tool_choice: ToolChoice = "auto"
    tools: list[ToolEntry] = Field(default_factory=list)
    workspace: str | None = None  # folder next to the task file
    budgets: Budgets = Budgets()
    partial_credit: bool = False
    checks: list[Check] = Field(default_factory=list)  # on the whole attempt
    reference: list[RefStep] = Field(default_factory=list)
    turns: list[UserTurn] | None = Field(default=None, min_length=1)
    tool_class: ToolClass | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lower-case letters, digits, '.', '_' and '-'")
        return value

    @model_validator(mode="after")
    def _tool_names_unique(self) -> TaskSpec:
        names = [t.name if isinstance(t, MockTool) else t.builtin for t in self.tools]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"tool names repeated: {sorted(dupes)}")
        return self

    @model_validator(mode="after")
    def _one_conversation(self) -> TaskSpec:
        if self.turns is not None:
            if self.prompt is not None or self.reference:
                raise ValueError(
                    "a task with turns gives each turn its prompt and reference; "
                    "remove the top-level prompt and reference"
                )
            if not self.all_checks():
                raise ValueError("checks: give at least one check, on a turn or on the task")
            return self
        missing = [
            name
            for name, given in (("prompt", self.prompt), ("checks", self.checks), ("reference", self.reference))
            if not given
        ]
        if missing:
            raise ValueError(f"missing {', '.join(missing)} (or use turns)")
        return self

    @model_validator(mode="after")
    def _stateful_tools_have_a_class(self) -> TaskSpec:
        stateful = [t.name for t in self.tools if isinstance(t, MockTool) and t.stateful]
        if stateful and self.tool_class is None:
            raise ValueError(f"tools {stateful} are stateful: name their class in tool_class")
        if self.tool_class is not None and not stateful:
            raise ValueError("tool_class is given but no tool is marked stateful")
        return self

    def conversation(self) -> list[UserTurn]:
        """The user messages in order; a single-prompt task is a conversation of one."""
        if self.turns is not None:
            return list(self.turns)
        return [UserTurn(prompt=self.prompt or "", reference=list(self.reference))]

    def all_checks(self) -> list[Check]:
        """Every check of the task: the whole-attempt ones, then each turn's."""
        return [*self.checks, *(c for turn in self.turns or () for c in turn.checks)]

    def all_reference_steps(self) -> list[RefStep]:
        """The reference replies of every turn, in order."""
        return [step for turn in self.conversation() for step in turn.reference]

    @property
    def sends_system_prompt(self) -> bool:
        return (self.system or "").strip().lower() != NO_SYSTEM_PROMPT


class SuiteSpec(_Strict):
    """``suite.yaml`` of a suite folder."""

    id: str
    title: str
    description: str = ""
    tiers: list[str] = Field(min_length=1)
    kind: Literal["agent", "oneshot"] = "agent"

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lower-case letters, digits, '.', '_' and '-'")
        return value
