"""RunState: what the Live run page derives from a stream of engine events."""

from __future__ import annotations

from app.core.chat import Usage
from app.core.events import (
    AssistantTurn,
    AttemptFinished,
    AttemptStarted,
    AttemptStats,
    RunFinished,
    RunStarted,
    TextDelta,
)
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome
from app.core.plan import AttemptSettings, AttemptSpec
from app.core.providers.base import ProviderKind
from app.ui.models.run_state import AttemptStatus, RunState

RUN = "run1"
MODEL = ModelRef(ProviderKind.SIMULATED, "sim", "competent")


def _spec(seq: int, task: str, repeat: int = 0) -> AttemptSpec:
    return AttemptSpec(
        attempt_id=f"{RUN}-{seq:06d}", run_id=RUN, seq=seq, model=MODEL, task_id=task,
        suite="readiness", tier="basic", task_hash="h", repeat=repeat, settings=AttemptSettings(),
    )


def _started(attempt_id: str, task: str, try_number: int = 1) -> AttemptStarted:
    return AttemptStarted(
        run_id=RUN, attempt_id=attempt_id, model=MODEL.label, task_id=task, repeat=0,
        try_number=try_number, tool_mode="recovery", messages=(), tools=(),
    )


def _finished(attempt_id: str, outcome: Outcome) -> AttemptFinished:
    return AttemptFinished(
        run_id=RUN, attempt_id=attempt_id, outcome=outcome, score=1.0 if outcome.is_pass else 0.0,
        detail="", checks=(), stats=AttemptStats(),
    )


def _state() -> RunState:
    specs = [_spec(0, "a"), _spec(1, "b"), _spec(2, "a", repeat=1)]
    return RunState(RUN, "demo", specs, {"a": "Task A", "b": "Task B"}, live=True)


def test_progress_cells_and_the_latest_started_attempt() -> None:
    state = _state()
    a0, b0, a1 = (f"{RUN}-{i:06d}" for i in range(3))
    changes = state.apply([RunStarted(run_id=RUN, total_attempts=3, pending_attempts=3),
                           _started(a0, "a"), _started(b0, "b")])
    assert changes.started == [a0, b0] and changes.progress
    assert state.running == 2 and state.latest_started() == b0
    changes = state.apply([_finished(a0, Outcome.PASSED), _started(a1, "a")])
    assert ("a", "sim:competent") in changes.cells
    assert state.done == 1 and state.latest_started() == a1
    assert state.eta_seconds() is not None
    assert [s.outcome for s in state.cell_outcomes(("a", "sim:competent"))] == [Outcome.PASSED, None]
    state.apply([RunStarted(run_id="another run", total_attempts=9, pending_attempts=9),
                 _finished(a1, Outcome.LOOP), RunFinished(run_id=RUN, cancelled=True, completed_attempts=2)])
    assert state.finished and state.cancelled
    assert state.attempts[b0].status is AttemptStatus.PENDING  # in flight when cancelled: not finished


def test_full_turn_replaces_streamed_pieces_and_a_retry_starts_afresh() -> None:
    state = _state()
    a0 = f"{RUN}-000000"
    state.apply([_started(a0, "a"), TextDelta(run_id=RUN, attempt_id=a0, turn=1, text="Hel"),
                 TextDelta(run_id=RUN, attempt_id=a0, turn=1, text="lo")])
    events = state.attempts[a0].events
    assert events is not None and len(events) == 3
    state.apply([AssistantTurn(run_id=RUN, attempt_id=a0, turn=1, content="Hello", thinking=None,
                               native_calls=0, usage=Usage())])
    events = state.attempts[a0].events
    assert events is not None and [e.kind for e in events] == ["attempt_started", "assistant_turn"]
    state.apply([_started(a0, "a", try_number=2)])
    events = state.attempts[a0].events
    assert events is not None and len(events) == 1 and state.order == [a0]


def test_cancelled_attempts_do_not_count_as_done() -> None:
    state = _state()
    a0 = f"{RUN}-000000"
    state.apply([_started(a0, "a"), _finished(a0, Outcome.CANCELLED)])
    assert state.done == 0
    assert state.attempts[a0].outcome is Outcome.CANCELLED


def test_a_sweep_gives_each_settings_cell_its_own_column() -> None:
    from dataclasses import replace

    from app.core.chat import GenerationSettings

    cold = AttemptSettings(generation=GenerationSettings(temperature=0.0), label="temperature 0")
    specs = [_spec(0, "a"), replace(_spec(1, "a"), settings=replace(AttemptSettings(), label="baseline")),
             replace(_spec(2, "a"), settings=cold)]
    state = RunState(RUN, "sweep", specs, {"a": "Task A"}, live=True)
    # plain and baseline settings are equal: one column, named by the cell's label
    assert state.models == ["sim:competent · baseline", "sim:competent · temperature 0"]
    assert len(state.by_cell[("a", "sim:competent · baseline")]) == 2
    assert state.by_cell[("a", "sim:competent · temperature 0")] == [specs[2].attempt_id]
    # one settings cell per model: the column is just the model
    assert RunState(RUN, "plain", specs[:2], {}, live=True).models == ["sim:competent"]


def test_time_left_follows_measured_attempt_durations() -> None:
    """Four attempts of 5 s, running four at once (as demo models do): when the first finishes
    the run is nearly over, and the estimate says so (elapsed/done × left would say 15 s)."""
    specs = [_spec(i, f"t{i}") for i in range(4)]
    state = RunState(RUN, "demo", specs, {}, live=True)
    ids = [s.attempt_id for s in specs]
    started = [RunStarted(run_id=RUN, total_attempts=4, pending_attempts=4, at=100.0)]
    started += [AttemptStarted(run_id=RUN, attempt_id=i, model=MODEL.label, task_id=f"t{n}", repeat=0, try_number=1,
                               tool_mode="recovery", messages=(), tools=(), at=100.0) for n, i in enumerate(ids)]
    state.apply(started)
    assert state.eta_seconds(now=101.0) is None  # nothing measured yet
    first = AttemptFinished(run_id=RUN, attempt_id=ids[0], outcome=Outcome.PASSED, score=1.0, detail="", checks=(),
                            stats=AttemptStats(), at=105.0)
    state.apply([first])
    eta = state.eta_seconds(now=105.0)
    assert eta is not None and eta < 1.0
    seeded = RunState(RUN, "demo", specs, {}, live=True)
    seeded.prior_attempt_s = 5.0  # from stored runs: known before anything finishes
    seeded.apply(started)
    assert seeded.eta_seconds(now=100.0) == 5.0
