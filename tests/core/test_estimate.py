"""Run time estimates: before a run (history, else defaults) and while it runs (measured)."""

from __future__ import annotations

import pytest

from app.core.estimate import (
    DEFAULT_ATTEMPT_S,
    SIMULATED_ATTEMPT_S,
    DurationHistory,
    PlannedAttempt,
    RemainingTime,
    estimate_run,
)


def test_first_estimate_with_attempts_in_parallel_is_not_a_multiple_of_the_truth() -> None:
    """8 attempts of 2 s, two at a time, finishing at t = 2, 4, 6, 8: the estimate at each
    finish equals the real time left (the old elapsed/done pace said 14 s at t = 2)."""
    clock = RemainingTime(total=8)
    clock.started("a0", 0.0)
    clock.started("a1", 0.0)
    assert clock.remaining_s(1.0) is None  # nothing measured, no history
    for step in range(4):
        t = 2.0 * (step + 1)
        for i in (2 * step, 2 * step + 1):
            clock.finished(f"a{i}", t)
            left = clock.remaining_s(t)
            true_left = 8.0 - t
            assert left is not None and left == pytest.approx(true_left, abs=1.01), (t, i, left)
        for i in (2 * step + 2, 2 * step + 3):
            if i < 8:
                clock.started(f"a{i}", t)
    assert clock.remaining_s(8.0) == 0.0


def test_history_seeds_the_estimate_and_measurements_take_over() -> None:
    clock = RemainingTime(total=10, prior_s=10.0)
    clock.started("a0", 0.0)
    assert clock.remaining_s(0.0) == pytest.approx(100.0)  # 9 waiting + 1 in flight, one at a time
    clock.finished("a0", 4.0)
    clock.started("a1", 4.0)
    clock.finished("a1", 8.0)
    mean = clock.mean_s
    assert mean is not None and 4.0 < mean < 10.0
    for i in range(2, 12):
        clock.started(f"b{i}", 8.0 + i)
        clock.finished(f"b{i}", 12.0 + i, counted=False)  # cancelled: not done, not measured
    assert clock.done == 2


def test_estimate_before_a_run_uses_history_then_defaults() -> None:
    history = DurationHistory(by_task={("m", "t1"): 20.0}, by_model={"m": 30.0})
    planned = [PlannedAttempt("m", "t1", False), PlannedAttempt("m", "t2", False), PlannedAttempt("x", "t1", False)]
    estimate = estimate_run(planned, history)
    assert estimate.seconds == pytest.approx(20.0 + 30.0 + DEFAULT_ATTEMPT_S)
    assert estimate.from_history == 2 and "2 of 3" in estimate.basis
    demo = estimate_run([PlannedAttempt("sim:a", "t", True)] * 8, DurationHistory(), simulated_pace=1.0)
    assert demo.seconds == pytest.approx(8 * SIMULATED_ATTEMPT_S / 4) and "guess" in demo.basis
    assert estimate_run(planned, history, parallel=2).seconds == pytest.approx(estimate.seconds / 2)
