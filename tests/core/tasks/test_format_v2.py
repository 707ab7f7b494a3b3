"""Task format version 2: strict matchers and their options, several user turns with
checks per turn, stateful tools in the sandbox, same_turn, from_result, system: none.
Every feature driven through the real loop with scripted models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.events import AttemptFinished, AttemptStarted, Event, TurnStarted
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings
from app.core.providers.base import Provider, ProviderKind
from app.core.providers.simulated import SimulatedProvider
from app.core.runner import plan_run
from app.core.tasks.loader import Task, load_catalog
from app.core.tasks.matching import value_matches
from app.core.tasks.schema import Matcher, TaskSpec
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]

FS_CLASS = '''
class Shell:
    """A tiny file system: cd changes what ls shows."""

    def __init__(self, tree):
        self.tree = tree
        self.cwd = "/"

    def cd(self, folder):
        if folder not in self.tree.get(self.cwd, {}):
            raise ValueError("no such folder: " + folder)
        self.cwd = folder
        return {"cwd": self.cwd}

    def ls(self):
        return {"cwd": self.cwd, "entries": sorted(self.tree.get(self.cwd, {}))}
'''


def write_suite(root: Path, tasks: dict[str, dict[str, Any]], files: dict[str, str] | None = None) -> Path:
    suite = root / "mine"
    suite.mkdir(parents=True, exist_ok=True)
    (suite / "suite.yaml").write_text(yaml.safe_dump({"id": "mine", "title": "Mine", "tiers": ["basic"]}))
    for name, body in tasks.items():
        (suite / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    for name, text in (files or {}).items():
        (suite / name).write_text(text)
    return suite


def load_one(root: Path, body: dict[str, Any], files: dict[str, str] | None = None) -> Task:
    write_suite(root, {"task": body}, files)
    catalog = load_catalog([root])
    assert catalog.errors == [], catalog.errors
    return catalog.suites["mine"].tasks[0]


def attempt(task: Task, provider: Provider, *, mode: ToolMode = ToolMode.RECOVERY,
            events: list[Event] | None = None, model: str = "scripted") -> AttemptFinished:
    plan = plan_run([ModelRef(ProviderKind.SIMULATED, "sim", model)], [task], repeats=1,
                    settings=[AttemptSettings(tool_mode=mode)])
    sink = events if events is not None else []
    return run_attempt(plan.attempts[0], task, provider, sink.append, CancelToken())


def call(name: str, **arguments: Any) -> Turn:
    return Turn(calls=[(name, arguments)])


def answer(text: str) -> Turn:
    return Turn(text=text)


def tool(name: str, properties: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": f"The {name} tool.",
            "parameters": {"type": "object", "properties": properties or {}}, **extra}


def base(**fields: Any) -> dict[str, Any]:
    return {"id": "mine.t", "title": "t", "tier": "basic", **fields}


# ---- strict matchers ----------------------------------------------------------------


def expected(args: dict[str, Any]) -> dict[str, Any]:
    return base(prompt="go", tools=[tool("f", {"x": {}})],
                checks=[{"type": "tool_calls", "calls": [{"name": "f", "args": args}]}],
                reference=[{"calls": [{"name": "f", "arguments": {"x": 1}}]}, {"answer": "ok"}])


@pytest.mark.parametrize("args", [
    {"x": {"one_off": [1, 2]}},          # misspelt matcher key
    {"x": {"regx": "a.*"}},
    {"x": {"one_of": [1], "ignore_cas": True}},  # a matcher key with a misspelt option
    {"x": {"equals": 1, "regex": "1"}},  # two comparisons
    {"x": {"regex": "("}},               # a regex that does not compile
])
def test_a_broken_matcher_is_an_error_not_a_literal(args: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as error:
        TaskSpec.model_validate(expected(args))
    assert "checks.0.calls.0.args" in str(error.value).replace(" ", "").replace("\n", ".") or \
        "args" in str(error.value)


def test_a_literal_mapping_is_still_a_literal() -> None:
    spec = TaskSpec.model_validate(expected({"x": {"street": "Main", "number": 3}}))
    matcher = spec.checks[0].calls[0].args["x"]  # type: ignore[union-attr]
    assert matcher.equals == {"street": "Main", "number": 3}


@pytest.mark.parametrize(("matcher", "value", "passes"), [
    ({"one_of": ["Paris", "Lyon"]}, "paris", False),            # case-sensitive by default
    ({"one_of": ["Paris", "Lyon"], "ignore_case": True}, "paris", True),
    ({"equals": "New York"}, "New  York", False),
    ({"equals": "New York", "normalize_space": True}, " New \n York ", True),
    ({"equals": 10}, 10.0, True),                                 # version-1 equality forgives
    ({"equals": 10, "strict_type": True}, 10.0, False),          # an integer must be an integer
    ({"equals": 10, "strict_type": True}, "10", False),
    ({"equals": 10, "strict_type": True}, 10, True),
    ({"equals": 0.5, "strict_type": True}, 0.5, True),
    ({"equals": [1, 2, 3]}, [3, 2, 1], False),                    # lists: ordered by default
    ({"equals": [1, 2, 3], "order": "any"}, [3, 2, 1], True),
    ({"equals": [1, 2, 2], "order": "any"}, [1, 1, 2], False),
    ({"equals": ["A", "b"], "order": "any", "ignore_case": True}, ["B", "a"], True),
    ({"one_of": ["", "x"]}, "", True),                           # "" is the empty string
])
def test_matcher_options(matcher: dict[str, Any], value: Any, passes: bool) -> None:
    assert value_matches(Matcher.model_validate(matcher), value) is passes


# ---- tool schemas ---------------------------------------------------------------------


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"d": {"type": "dict"}}},
    {"type": "object", "properties": {"n": {"type": "float"}}},
    {"type": "dict", "properties": {}},
    {"type": "object", "required": "city"},
])
def test_an_invalid_tool_schema_is_refused_at_load(tmp_path: Path, schema: dict[str, Any]) -> None:
    body = expected({"x": 1})
    body["tools"] = [{"name": "f", "description": "f", "parameters": schema}]
    write_suite(tmp_path, {"task": body})
    catalog = load_catalog([tmp_path])
    assert catalog.suites["mine"].tasks == ()
    [error] = catalog.errors
    assert error.path.name == "task.yaml"
    assert any(p.startswith("tools.0") and "JSON Schema" in p for p in error.problems), error.problems


def test_unknown_keys_are_errors_naming_the_field(tmp_path: Path) -> None:
    body = expected({"x": 1})
    body["checks"][0]["calls"][0]["argz"] = {}
    body["budget"] = {"max_turns": 3}
    write_suite(tmp_path, {"task": body})
    [error] = load_catalog([tmp_path]).errors
    assert any("budget" in p for p in error.problems) and any("argz" in p for p in error.problems)


# ---- several user turns -------------------------------------------------------------------

CONVERSATION = base(
    tools=[tool("get_weather", {"city": {"type": "string"}}, responses=[
        {"when": {"city": "Oslo"}, "result": {"temp_c": 4}},
        {"when": {"city": "Rome"}, "result": {"temp_c": 19}},
    ])],
    turns=[
        {"prompt": "Weather in Oslo?",
         "checks": [{"type": "tool_calls", "calls": [{"name": "get_weather", "args": {"city": "Oslo"}}]},
                    {"type": "answer", "contains": ["4"]}],
         "reference": [{"calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
                       {"answer": "4 °C in Oslo."}]},
        {"prompt": "And in Rome?",
         "checks": [{"type": "tool_calls", "allow_extra": False,
                     "calls": [{"name": "get_weather", "args": {"city": "Rome"}}]},
                    {"type": "answer", "contains": ["19"]}],
         "reference": [{"calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}]},
                       {"answer": "19 °C in Rome."}]},
    ],
)


def test_a_conversation_reference_passes_and_doing_nothing_fails(tmp_path: Path) -> None:
    task = load_one(tmp_path, CONVERSATION)
    events: list[Event] = []
    passed = attempt(task, SimulatedProvider(), model="reference", events=events)
    assert passed.outcome is Outcome.PASSED, passed.detail
    announced = [e.user_message for e in events if isinstance(e, TurnStarted) and e.user_message]
    assert announced == ["And in Rome?"]
    assert [c.name for c in passed.checks] == [
        "turn 1: tool_calls", "turn 1: answer", "turn 2: tool_calls", "turn 2: answer"]
    idle = attempt(task, SimulatedProvider(), model="idle")
    assert idle.outcome is Outcome.NO_TOOL_CALL


def test_each_turn_is_judged_on_its_own_reply(tmp_path: Path) -> None:
    task = load_one(tmp_path, CONVERSATION)
    # Rome asked for in the first reply, nothing in the second: turn 2 misses its call
    provider = ScriptedProvider([call("get_weather", city="Oslo"), answer("4 degrees"),
                                 answer("19 degrees, I think")])
    finished = attempt(task, provider)
    assert finished.outcome is Outcome.NO_TOOL_CALL
    failed = [c.name for c in finished.checks if not c.passed]
    assert failed == ["turn 2: tool_calls"]
    assert [m.content for m in provider.requests[-1].messages if m.role == "user"] == [
        "Weather in Oslo?", "And in Rome?"]


def test_a_conversation_cut_short_fails_the_turns_never_sent(tmp_path: Path) -> None:
    body = dict(CONVERSATION, budgets={"max_turns": 2})
    task = load_one(tmp_path, body)
    finished = attempt(task, ScriptedProvider([call("get_weather", city="Oslo")]))
    assert finished.outcome is Outcome.TURN_BUDGET
    assert any("ended before this message" in c.detail for c in finished.checks)


def test_turns_and_a_top_level_prompt_do_not_mix() -> None:
    with pytest.raises(ValidationError, match="remove the top-level prompt"):
        TaskSpec.model_validate(dict(CONVERSATION, prompt="hello"))


# ---- stateful tools -----------------------------------------------------------------------

SHELL = base(
    tool_class={"file": "shell.py", "name": "Shell",
                "init": {"tree": {"/": {"src": 1, "docs": 1}, "src": {"main.py": 1}}}},
    tools=[tool("cd", {"folder": {"type": "string"}}, stateful=True), tool("ls", stateful=True)],
    turns=[
        {"prompt": "Go into src.",
         "checks": [{"type": "tool_calls", "calls": [{"name": "cd", "args": {"folder": "src"}}]}],
         "reference": [{"calls": [{"name": "cd", "arguments": {"folder": "src"}}]}, {"answer": "Done."}]},
        {"prompt": "What files are here?",
         "checks": [{"type": "answer", "contains": ["main.py"]}],
         "reference": [{"calls": [{"name": "ls", "arguments": {}}]}, {"answer": "Only main.py."}]},
    ],
)


def test_stateful_tools_carry_state_across_turns(tmp_path: Path) -> None:
    task = load_one(tmp_path, SHELL, {"shell.py": FS_CLASS})
    events: list[Event] = []
    finished = attempt(task, SimulatedProvider(), model="reference", events=events)
    assert finished.outcome is Outcome.PASSED, finished.detail
    results = [e.content for e in events if type(e).__name__ == "ToolResult"]  # type: ignore[attr-defined]
    assert json.loads(results[-1]) == {"cwd": "src", "entries": ["main.py"]}
    assert attempt(task, SimulatedProvider(), model="idle").outcome is not Outcome.PASSED


def test_a_stateful_tool_error_goes_back_to_the_model(tmp_path: Path) -> None:
    task = load_one(tmp_path, SHELL, {"shell.py": FS_CLASS})
    events: list[Event] = []
    attempt(task, ScriptedProvider([call("cd", folder="nowhere"), answer("failed")]), events=events)
    [result] = [e for e in events if type(e).__name__ == "ToolResult"]
    assert result.is_error and "no such folder: nowhere" in result.content  # type: ignore[attr-defined]


def test_a_stateful_tool_needs_its_class(tmp_path: Path) -> None:
    body = dict(SHELL)
    body.pop("tool_class")
    with pytest.raises(ValidationError, match="name their class in tool_class"):
        TaskSpec.model_validate(body)
    write_suite(tmp_path, {"task": SHELL})  # the class file is missing
    [error] = load_catalog([tmp_path]).errors
    assert any(p.startswith("tool_class.file") for p in error.problems)


# ---- same_turn and from_result ---------------------------------------------------------------

PAIR = base(
    prompt="Weather and time in Rome, both at once.",
    tools=[tool("get_weather", {"city": {"type": "string"}}, responses=[{"result": "sunny"}]),
           tool("get_time", {"tz": {"type": "string"}}, responses=[{"result": "16:45"}])],
    checks=[{"type": "tool_calls", "same_turn": True, "calls": [
        {"name": "get_weather", "args": {"city": "Rome"}},
        {"name": "get_time", "args": {"tz": "Europe/Rome"}}]}],
    reference=[{"calls": [{"name": "get_weather", "arguments": {"city": "Rome"}},
                          {"name": "get_time", "arguments": {"tz": "Europe/Rome"}}]},
               {"answer": "Sunny, 16:45."}],
)


def test_same_turn_calls_must_come_together(tmp_path: Path) -> None:
    task = load_one(tmp_path, PAIR)
    together = ScriptedProvider([Turn(calls=[("get_weather", {"city": "Rome"}),
                                             ("get_time", {"tz": "Europe/Rome"})]), answer("ok")])
    assert attempt(task, together).outcome is Outcome.PASSED
    apart = ScriptedProvider([call("get_weather", city="Rome"), call("get_time", tz="Europe/Rome"),
                              answer("ok")])
    finished = attempt(task, apart)
    assert finished.outcome is Outcome.WRONG_RESULT
    assert "not made together in one turn" in finished.detail


ORDER = base(
    prompt="Cancel my latest order.",
    tools=[tool("list_orders", responses=[{"result": {"orders": [{"id": "ord-7731"}]}}]),
           tool("cancel_order", {"order_id": {"type": "string"}}, responses=[{"result": "cancelled"}])],
    checks=[{"type": "tool_calls", "calls": [
        {"name": "cancel_order", "args": {"order_id": {"any": True, "from_result": True}}}]}],
    reference=[{"calls": [{"name": "list_orders", "arguments": {}}]},
               {"calls": [{"name": "cancel_order", "arguments": {"order_id": "ord-7731"}}]},
               {"answer": "Cancelled ord-7731."}],
)


def test_from_result_refuses_a_guessed_value(tmp_path: Path) -> None:
    task = load_one(tmp_path, ORDER)
    assert attempt(task, SimulatedProvider(), model="reference").outcome is Outcome.PASSED
    guessed = ScriptedProvider([Turn(calls=[("list_orders", {}), ("cancel_order", {"order_id": "ord-7731"})]),
                                answer("done")])
    finished = attempt(task, guessed)  # right value, but made before the result was read
    assert finished.outcome is Outcome.BAD_ARGUMENTS
    assert "did not come from an earlier tool result" in finished.detail
    invented = ScriptedProvider([call("list_orders"), call("cancel_order", order_id="ord-1"), answer("x")])
    assert attempt(task, invented).outcome is Outcome.BAD_ARGUMENTS


# ---- system: none ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [ToolMode.NATIVE, ToolMode.PROMPTED])
def test_system_none_sends_no_system_message(tmp_path: Path, mode: ToolMode) -> None:
    task = load_one(tmp_path, dict(PAIR, system="none"))
    events: list[Event] = []
    provider = ScriptedProvider([answer("no")])
    attempt(task, provider, mode=mode, events=events)
    [started] = [e for e in events if isinstance(e, AttemptStarted)]
    assert [m.role for m in started.messages] == ["user"]
    first = provider.requests[0].messages[0].content
    assert first.endswith("Weather and time in Rome, both at once.")
    assert ("<tools>" in first) is (mode is ToolMode.PROMPTED)


# ---- version 1 unchanged ----------------------------------------------------------------------


# Content hashes computed by the version-1 loader; stored results carry them.
VERSION_ONE_HASHES = {
    "readiness.silence.no-fit": "2704859a23ea0123",
    "readiness.parallel.two-tools": "41cb9089a3923114",
    "readiness.chain.order-status": "5ed117dfcd0cd4c8",
    "readiness.arguments.flight-search": "a34d35cbde4c63e6",
    "api-chain.clean.assign-oncall": "c3ee5c40f332fb74",
}


def test_version_one_files_keep_their_hashes() -> None:
    catalog = load_catalog([REPO / "tasks"])
    assert {k: catalog.task(k).content_hash for k in VERSION_ONE_HASHES} == VERSION_ONE_HASHES


def test_a_version_two_field_changes_the_hash(tmp_path: Path) -> None:
    body = json.loads(json.dumps(PAIR))
    del body["checks"][0]["same_turn"]
    plain = load_one(tmp_path / "a", body)
    body["checks"][0]["same_turn"] = False  # the default: same hash
    same = load_one(tmp_path / "b", body)
    body["checks"][0]["same_turn"] = True
    other = load_one(tmp_path / "c", body)
    assert plain.content_hash == same.content_hash != other.content_hash


def test_the_format_reference_examples_are_valid_yaml_and_cover_every_feature() -> None:
    text = (REPO / "docs" / "tasks.md").read_text()
    blocks = [b.split("\n", 1)[1] for b in text.split("```yaml")[1:]]
    blocks = [b.split("```", 1)[0] for b in blocks]
    assert len(blocks) >= 12
    for block in blocks:
        yaml.safe_load(block)
    for feature in ("same_turn", "from_result", "turns:", "system: none", "stateful: true",
                    "ignore_case", "normalize_space", "strict_type", "order: any", "optional: true"):
        assert feature in text, feature
