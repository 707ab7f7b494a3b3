"""The declarative task format: what a task file under ``tasks/<suite>/`` may say.

Validated with pydantic so that a broken file is reported by file and field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.chat import ToolChoice

_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- argument matchers ----------------------------------------------------------------


class Matcher(_Strict):
    """How one expected argument is compared. Exactly one comparison may be given."""

    equals: Any = None
    iequals: str | None = None
    one_of: list[Any] | None = None
    regex: str | None = None
    approx: float | None = None
    tol: float = 1e-6
    contains: str | None = None
    any: bool | None = None  # present, any value
    optional: bool = False  # may be absent; if present it must match

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
        if self.regex is not None:
            re.compile(self.regex)
        return self


def _as_matcher(value: Any) -> Any:
    """A bare value in a task file means ``equals``."""
    if isinstance(value, dict) and value and set(value) <= set(Matcher.model_fields):
        return value
    return {"equals": value}


ArgMatcher = Annotated[Matcher, Field()]


class ExpectedCall(_Strict):
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

    type: Literal["tool_calls"]
    calls: list[ExpectedCall]
    order: Literal["sequence", "any"] = "any"
    allow_extra: bool = True  # other valid calls are fine


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


class FileCheck(_Check):
    """A file in the final workspace exists / contains / matches."""

    type: Literal["file"]
    path: str
    exists: bool = True
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    regex: str | None = None


class CommandCheck(_Check):
    """Run a hidden check (e.g. pytest) on the final workspace; exit 0 passes."""

    type: Literal["command"]
    argv: list[str]
    hidden: str | None = None  # folder next to the task file, copied in only for the check
    timeout_s: float = 60.0


class CodeAnswerCheck(_Check):
    """Extract the code from the answer and run hidden tests against it (one-shot suite)."""

    type: Literal["code_answer"]
    language: Literal["python", "shell", "text"] = "python"
    test: str  # Python test code; the answer's code is importable as module ``answer``


class ProbeCase(_Strict):
    """An expression over the model's code, and the value it must give (or the exception)."""

    expr: str = Field(min_length=1)
    expect: Any = None
    raises: str | None = None  # the exception's class name, e.g. ValueError
    message_contains: str | None = None  # with ``raises``: text its message must hold


class ProbeCheck(_Check):
    """Evaluate expressions over the model's code in the jail; the app compares the results
    with the expected values, which never reach the jail (a verdict the code cannot forge)."""

    type: Literal["probe"]
    module: str | None = None  # a module of the final workspace; none: the answer's code
    imports: list[str] = Field(default_factory=list)  # modules the expressions use, e.g. re
    cases: list[ProbeCase] = Field(min_length=1)
    tol: float = Field(default=1e-9, ge=0)


Check = Annotated[
    ToolCallsCheck
    | NoToolCallsCheck
    | AnswerCheck
    | FileCheck
    | CommandCheck
    | CodeAnswerCheck
    | ProbeCheck,
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


class TaskSpec(_Strict):
    """One task as written in its file."""

    id: str
    title: str
    tier: str
    prompt: str
    system: str | None = None
    dimension: str | None = None
    tags: list[str] = Field(default_factory=list)
    expect: Literal["tool_use", "silence", "answer"] = "tool_use"
    tool_choice: ToolChoice = "auto"
    tools: list[ToolEntry] = Field(default_factory=list)
    workspace: str | None = None  # folder next to the task file
    budgets: Budgets = Budgets()
    partial_credit: bool = False
    checks: list[Check] = Field(min_length=1)
    reference: list[RefStep] = Field(min_length=1)

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
