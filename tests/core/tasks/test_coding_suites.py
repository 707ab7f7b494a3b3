"""Every coding and one-shot task is fair: its reference passes under the real loop and
hidden checks, doing nothing fails; the stamina task gives partial credit per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.events import AttemptFinished
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome
from app.core.providers.base import ProviderKind
from app.core.providers.simulated import SimulatedProvider
from app.core.runner import plan_run
from app.core.tasks.loader import Task, load_catalog
from app.core.tasks.workspace_checks import extract_code, imported_names
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]
CATALOG = load_catalog([REPO / "tasks"])
TASKS = [t for s in ("coding", "oneshot") if s in CATALOG.suites for t in CATALOG.suites[s].tasks]


def attempt(task: Task, model: str, provider: object | None = None) -> AttemptFinished:
    plan = plan_run([ModelRef(ProviderKind.SIMULATED, "sim", model)], [task], repeats=1)
    return run_attempt(plan.attempts[0], task, provider or SimulatedProvider(), lambda e: None, CancelToken())  # type: ignore[arg-type]


def test_suites_load_cleanly() -> None:
    assert not [e for e in CATALOG.errors if "coding" in str(e.path) or "oneshot" in str(e.path)]
    tiers = {t.tier for t in CATALOG.suites["coding"].tasks}
    assert tiers == {"lite", "medium", "heavy"}
    assert len(CATALOG.suites["coding"].tasks) >= 11
    assert CATALOG.suites["oneshot"].spec.kind == "oneshot"
    assert len(CATALOG.suites["oneshot"].tasks) >= 10
    for task in CATALOG.suites["oneshot"].tasks:
        assert task.spec.partial_credit and not task.spec.tools, task.id
        assert 2 <= len(task.spec.checks) <= 3, task.id
    for task in CATALOG.suites["coding"].tasks:  # room to spare beyond the reference
        assert task.spec.budgets.max_turns >= len(task.spec.reference) + 4, task.id


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_reference_passes_and_doing_nothing_fails(task: Task) -> None:
    reference = attempt(task, "reference")
    assert reference.outcome is Outcome.PASSED, reference.detail
    idle = attempt(task, "idle")
    assert idle.outcome not in (Outcome.PASSED, Outcome.PARTIAL) and idle.score == 0


def test_hidden_checks_are_never_visible_to_the_model() -> None:
    for task in CATALOG.suites["coding"].tasks:
        workspace = task.base_dir / "workspace"
        assert not any(p.name.endswith("_hidden.py") or "timeout.py" in p.name for p in workspace.rglob("*")), task.id


def test_four_of_five_files_is_partial_credit() -> None:
    task = CATALOG.task("coding.stamina-five-providers")
    steps = [s for s in task.spec.reference if s.calls]
    writes = [c for c in steps[-1].calls][:4]  # the reference writes all five; stop after four
    provider = ScriptedProvider(turns=[Turn(calls=[(c.name, dict(c.arguments)) for c in writes]), Turn(text="Done.")])
    finished = attempt(task, "m", provider)
    assert finished.outcome is Outcome.PARTIAL
    assert finished.score == pytest.approx(0.8)
    assert sum(c.passed for c in finished.checks) == 8  # four hidden tests, four probes


def test_half_right_one_shot_answer_is_partial() -> None:
    task = CATALOG.task("oneshot.traceback-fix")
    answer = "```python\ndef last_item(items):\n    return items[-1]\n```"  # crashes on []
    finished = attempt(task, "m", ScriptedProvider(turns=[Turn(text=answer)]))
    assert finished.outcome is Outcome.PARTIAL and finished.score == pytest.approx(0.5)


def test_code_is_taken_from_the_block_that_defines_what_the_test_imports() -> None:
    test = "from answer import last_item\n"
    answer = (
        "Fix:\n```python\ndef last_item(items):\n    return items[-1] if items else None\n```\n"
        "Usage:\n```python\nprint(last_item([1]))\n```\n"
    )
    code = extract_code(answer, "python", imported_names(test))
    assert code.startswith("def last_item")
    assert extract_code("```py\nx = 1\n", "python") == "x = 1\n"  # unclosed fence
    assert extract_code("just x = 1", "python") == "just x = 1"
    assert extract_code("```bash\nls -la\n```", "shell") == "ls -la\n"
    assert imported_names("from answer import (a,\n b)\nfrom answer import c\n") == ["a", "b", "c"]
