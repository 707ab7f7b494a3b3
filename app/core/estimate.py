"""How long a run will take: before it starts (from stored attempt durations of the same models
and tasks, else a default) and while it runs (from the durations measured so far and how many
attempts run at once)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_ATTEMPT_S = 45.0  # a local model on a task never run before: deliberately generous
SIMULATED_ATTEMPT_S = 0.6  # a demo model at pace 1 (measured: 0.2–0.7 s an attempt on readiness)
PRIOR_WEIGHT = 2.0  # the prior counts as this many measured attempts until real ones arrive


@dataclass(frozen=True, slots=True)
class DurationHistory:
    """Mean seconds per attempt from stored runs, by (model, task) and by model."""

    by_task: Mapping[tuple[str, str], float] = field(default_factory=dict)
    by_model: Mapping[str, float] = field(default_factory=dict)

    def seconds(self, model: str, task_id: str) -> float | None:
        return self.by_task.get((model, task_id), self.by_model.get(model))


@dataclass(frozen=True, slots=True)
class PlannedAttempt:
    model: str
    task_id: str
    simulated: bool


@dataclass(frozen=True, slots=True)
class RunEstimate:
    seconds: float
    from_history: int  # attempts whose duration came from stored runs
    total: int

    @property
    def basis(self) -> str:
        if self.total and self.from_history == self.total:
            return "from earlier runs of these models and tasks"
        if self.from_history:
            return f"{self.from_history} of {self.total} attempts from earlier runs, the rest guessed"
        return "a rough guess: these models have not run these tasks before (demo models: at their set pace)"


def estimate_run(
    attempts: Sequence[PlannedAttempt],
    history: DurationHistory,
    *,
    parallel: int = 1,
    simulated_parallel: int = 4,
    simulated_pace: float = 1.0,
    repeats: int = 1,
) -> RunEstimate:
    """Seconds the planned attempts (each run ``repeats`` times) should take: real models
    ``parallel`` at a time, demo models ``simulated_parallel`` at a time, side by side."""
    real = simulated = 0.0
    known = 0
    for a in attempts:
        # a demo model's stored durations reflect the pace of that run, not of this one
        seconds = None if a.simulated else history.seconds(a.model, a.task_id)
        if seconds is not None:
            known += 1
        elif a.simulated:
            seconds = SIMULATED_ATTEMPT_S * simulated_pace
        else:
            seconds = DEFAULT_ATTEMPT_S
        if a.simulated:
            simulated += seconds
        else:
            real += seconds
    wall = max(real / max(1, parallel), simulated / max(1, simulated_parallel))
    return RunEstimate(wall * repeats, known * repeats, len(attempts) * repeats)


def prior_attempt_seconds(attempts: Sequence[PlannedAttempt], history: DurationHistory) -> float | None:
    """Mean stored duration of the planned attempts, when at least half of them have one."""
    known = [s for a in attempts if not a.simulated and (s := history.seconds(a.model, a.task_id)) is not None]
    return sum(known) / len(known) if known and 2 * len(known) >= len(attempts) else None


class RemainingTime:
    """Time left in a run, from the attempts measured so far.

    Each finished attempt's duration joins a running mean (seeded by ``prior_s`` when known);
    the work left is that mean for every attempt not started plus what is left of those
    running; it is divided by how many attempts have been seen running at once.
    """

    def __init__(self, total: int, done: int = 0, *, prior_s: float | None = None) -> None:
        self.total = total
        self.done = done
        self._prior = prior_s
        self._running: dict[str, float] = {}
        self._durations: list[float] = []
        self._peak = 0

    def started(self, attempt_id: str, at: float) -> None:
        self._running[attempt_id] = at
        self._peak = max(self._peak, len(self._running))

    def finished(self, attempt_id: str, at: float, *, counted: bool = True) -> None:
        """``counted`` False: the attempt goes back to pending (cancelled), not done."""
        start = self._running.pop(attempt_id, None)
        if not counted:
            return
        self.done += 1
        if start is not None:
            self._durations.append(max(0.0, at - start))

    @property
    def mean_s(self) -> float | None:
        if not self._durations:
            return self._prior
        weight = PRIOR_WEIGHT if self._prior is not None else 0.0
        return (sum(self._durations) + weight * (self._prior or 0.0)) / (len(self._durations) + weight)

    def remaining_s(self, now: float) -> float | None:
        """None until a duration is known (measured, or from history)."""
        mean = self.mean_s
        if mean is None:
            return None
        left = self.total - self.done
        if left <= 0:
            return 0.0
        waiting = max(0, left - len(self._running))
        in_flight = sum(max(0.0, mean - (now - start)) for start in self._running.values())
        parallel = max(1, min(self._peak, left))
        return (waiting * mean + in_flight) / parallel
