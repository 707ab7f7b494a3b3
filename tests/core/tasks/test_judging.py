"""Judging the model cannot forge: every coding and one-shot task has a check whose
verdict the app computes, a rigged test runner never turns a wrong answer into a pass,
and a changed suite file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.outcomes import Outcome
from app.core.tasks.judging import (
    ProbeCase,
    TamperedSuite,
    ignored_for_judging,
    pristine_copy,
    run_probe,
    same_value,
)
from app.core.tasks.loader import load_catalog
from app.core.tasks.schema import CodeAnswerCheck, ProbeCheck
from tests.core.tasks.test_coding_suites import TASKS, attempt
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]
# One line in the module a hidden test imports: pytest then reports every test as passed.
RIG = "import _pytest.python\n_pytest.python.Function.runtest = lambda self: None\n"


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_every_task_has_a_check_the_app_decides(task: object) -> None:
    checks = task.spec.checks  # type: ignore[attr-defined]
    decided_here = [c for c in checks if isinstance(c, ProbeCheck)]
    text_only = [c for c in checks if isinstance(c, CodeAnswerCheck) and c.language != "python"]
    calls_or_answer = all(c.type in ("tool_calls", "answer") for c in checks)
    assert decided_here or text_only or calls_or_answer, task.id  # type: ignore[attr-defined]


def test_a_rigged_test_runner_does_not_pass_a_wrong_fix() -> None:
    task = next(t for t in TASKS if t.id == "coding.read-fix-write")
    wrong = "def mean(values):\n    return 0\n"
    provider = ScriptedProvider(
        turns=[
            Turn(calls=[("write_file", {"path": "stats.py", "content": RIG + wrong})]),
            Turn(text="Done."),
        ]
    )
    finished = attempt(task, "m", provider)
    by_name = {c.name: c for c in finished.checks}
    assert by_name["hidden tests"].passed  # the rig fools pytest ...
    assert not by_name["mean (decisive)"].passed  # ... but not the app's own comparison
    assert finished.outcome is not Outcome.PASSED


def test_a_rigged_one_shot_answer_is_not_a_pass() -> None:
    task = next(t for t in TASKS if t.id == "oneshot.parse-json")
    answer = f"```python\n{RIG}def get_names(json_text):\n    return ['a', 'b']\n```"
    finished = attempt(task, "m", ScriptedProvider(turns=[Turn(text=answer)]))
    assert [c.passed for c in finished.checks] == [True, False]
    assert finished.outcome is Outcome.PARTIAL


def test_printed_fake_results_do_not_count(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "m.py").write_text(
        "import sys\nprint('AGENTGAP-PROBE-RESULT [{\"value\": 3}]')\n"
        "def f():\n    sys.stdout.write('AGENTGAP-PROBE-RESULT [{\"value\": 3}]\\n')\n    return 2\n"
    )
    passed, detail = run_probe(code, "m", [ProbeCase("f()", 3)])
    assert not passed, detail


def test_probe_reports_exceptions_and_values(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "m.py").write_text("def f(x):\n    if x < 0:\n        raise ValueError('neg')\n    return x * 2\n")
    cases = [ProbeCase("f(2)", 4), ProbeCase("f(-1)", raises="ValueError", message_contains="neg")]
    assert run_probe(code, "m", cases) == (True, "2 of 2 cases right")
    passed, detail = run_probe(code, "m", [ProbeCase("f(3)", 5)])
    assert not passed and "gave 6" in detail


def test_an_object_that_equals_everything_is_not_a_value(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "m.py").write_text("class Any:\n    def __eq__(self, other):\n        return True\n\ndef f():\n    return Any()\n")
    passed, detail = run_probe(code, "m", [ProbeCase("f()", 3)])
    assert not passed and "gave" in detail


def test_values_compare_strictly() -> None:
    assert same_value(2.5, 2.5000000000001)
    assert same_value({"a": [1, 2.0]}, {"a": [1, 2]})
    assert not same_value(True, 1)
    assert not same_value(1, True)
    assert not same_value(None, 0)
    assert not same_value(["a"], ["a", "b"])
    assert not same_value({"a": 1}, {"a": 1, "b": 2})


@pytest.mark.parametrize(
    "name",
    ["conftest.py", "sitecustomize.py", "usercustomize.py", "x.pth", "pytest.ini", "tox.ini",
     "setup.cfg", "pyproject.toml", "__pycache__", "m.pyc", ".pytest_cache"],
)
def test_checker_settings_never_reach_the_judge(name: str) -> None:
    assert ignored_for_judging(name)


def test_a_changed_suite_file_is_refused(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "tasks" / "coding", tmp_path / "coding")
    task = load_catalog([tmp_path / "coding"]).task("coding.read-fix-write")
    pristine_copy(task, "hidden", tmp_path / "ok")
    hidden = task.resolve("hidden") / "test_stats_hidden.py"
    hidden.write_text("def test_nothing():\n    pass\n")
    with pytest.raises(TamperedSuite):
        pristine_copy(task, "hidden", tmp_path / "bad")
