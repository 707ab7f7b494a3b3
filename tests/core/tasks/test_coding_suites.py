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
    assert len(CATALOG.tasks()) >= 45


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
    assert sum(c.passed for c in finished.checks) == 4
