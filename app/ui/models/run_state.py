"""What the Live run page knows about one run: attempts, their status, and live transcripts.

Qt-free bookkeeping fed with engine events in batches; the Qt item models read it. Only
the run being watched keeps its events in memory; a stored run loads a transcript from
the repository when one is opened.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from app.core.estimate import RemainingTime
from app.core.events import (
    AssistantTurn,
    AttemptEvent,
    AttemptFinished,
    AttemptStarted,
    Event,
    RunFinished,
    RunStarted,
    TextDelta,
)
from app.core.outcomes import Outcome
from app.core.plan import AttemptSpec

Cell = tuple[str, str]  # (task id, column: the model label, and its settings cell in a sweep)


def column_labels(attempts: Sequence[AttemptSpec]) -> dict[str, str]:
    """Attempt id → grid column: the model, or "model · cell" where a model runs several
    settings cells (a sweep), so each cell fills its own column."""
    names: dict[str, dict[str, str]] = {}  # model → settings key → cell label
    for a in attempts:
        cells = names.setdefault(a.model.label, {})
        cells[a.settings.key()] = max(cells.get(a.settings.key(), ""), a.settings.label)
    columns = {}
    for a in attempts:
        cells = names[a.model.label]
        label = cells[a.settings.key()] or a.settings.key()[:6]
        columns[a.attempt_id] = a.model.label if len(cells) == 1 else f"{a.model.label} · {label}"
    return columns


class AttemptStatus(Enum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass(slots=True)
class AttemptState:
    """One planned attempt as the page shows it."""

    attempt_id: str
    model: str
    task_id: str
    repeat: int
    status: AttemptStatus = AttemptStatus.PENDING
    outcome: Outcome | None = None
    detail: str = ""
    started_seq: int = -1  # order in which attempts started (for "most recent")
    events: list[Event] | None = None  # None: not in memory (load from the store)

    @property
    def cell(self) -> Cell:
        return (self.task_id, self.model)


@dataclass(slots=True)
class RunChanges:
    """What one batch of events changed, so views update only that."""

    cells: set[Cell] = field(default_factory=set)
    attempts: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)
    events: dict[str, list[Event]] = field(default_factory=dict)
    progress: bool = False
    finished: bool = False


class RunState:
    """Attempts of one run by id and by grid cell, progress, and ETA."""

    def __init__(
        self,
        run_id: str,
        name: str,
        attempts: Sequence[AttemptSpec],
        task_titles: dict[str, str],
        *,
        live: bool,
    ) -> None:
        self.run_id = run_id
        self.name = name
        self.live = live
        self.task_titles = task_titles
        columns = column_labels(attempts)
        self.models: list[str] = list(dict.fromkeys(columns[a.attempt_id] for a in attempts))
        self.tasks: list[str] = list(dict.fromkeys(a.task_id for a in attempts))
        self.attempts: dict[str, AttemptState] = {
            a.attempt_id: AttemptState(
                a.attempt_id, columns[a.attempt_id], a.task_id, a.repeat, events=[] if live else None
            )
            for a in attempts
        }
        self.by_cell: dict[Cell, list[str]] = {}
        for state in self.attempts.values():
            self.by_cell.setdefault(state.cell, []).append(state.attempt_id)
        self.order: list[str] = []  # attempts by first start (stored runs: as stored); append-only
        self.total = len(self.attempts)
        self.finished = not live
        self.cancelled = False
        self._seq = 0
        self._latest: str | None = None
        self._clock: RemainingTime | None = None
        self.prior_attempt_s: float | None = None  # mean seconds per attempt from stored runs, if any

    # ---- progress -------------------------------------------------------------------

    @property
    def done(self) -> int:
        return sum(1 for a in self.attempts.values() if a.status is AttemptStatus.FINISHED)

    @property
    def running(self) -> int:
        return sum(1 for a in self.attempts.values() if a.status is AttemptStatus.RUNNING)

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Seconds left from the attempt durations measured in this session (seeded by earlier
        runs' durations when known), or None before any duration is known."""
        if self._clock is None or self.finished:
            return None
        return self._clock.remaining_s(now if now is not None else time.time())

    def cell_outcomes(self, cell: Cell) -> list[AttemptState]:
        return [self.attempts[i] for i in self.by_cell.get(cell, [])]

    def latest_started(self) -> str | None:
        """The attempt that started most recently (retries included)."""
        return self._latest or (self.order[-1] if self.order else None)

    # ---- stored runs ----------------------------------------------------------------

    def mark_stored(self, attempt_id: str, outcome: Outcome | None, detail: str = "") -> None:
        """Fill in an attempt from the store (a run opened from History)."""
        state = self.attempts.get(attempt_id)
        if state is None or outcome is None:
            return
        state.status = AttemptStatus.FINISHED
        state.outcome = outcome
        state.detail = detail
        self.order.append(attempt_id)

    def mark_resuming(self, pending: Iterable[str]) -> None:
        """Turn a stored run live again for a resume: pending attempts get event lists."""
        self.live = True
        self.finished = False
        for attempt_id in pending:
            state = self.attempts.get(attempt_id)
            if state is not None:
                state.status = AttemptStatus.PENDING
                state.outcome = None
                state.events = []

    # ---- live events ----------------------------------------------------------------

    def apply(self, events: Iterable[Event]) -> RunChanges:
        """Fold a batch of events of this run into the state."""
        changes = RunChanges()
        for event in events:
            if event.run_id != self.run_id:
                continue
            if isinstance(event, AttemptEvent):
                self._apply_attempt_event(event, changes)
            elif isinstance(event, RunStarted):
                self._clock = RemainingTime(self.total, self.done, prior_s=self.prior_attempt_s)
                self.finished = False
                changes.progress = True
            elif isinstance(event, RunFinished):
                self.finished = True
                self.cancelled = event.cancelled
                for state in self.attempts.values():
                    if state.status is AttemptStatus.RUNNING:
                        state.status = AttemptStatus.PENDING
                        changes.attempts.add(state.attempt_id)
                        changes.cells.add(state.cell)
                changes.progress = changes.finished = True
        return changes

    def _apply_attempt_event(self, event: AttemptEvent, changes: RunChanges) -> None:
        state = self.attempts.get(event.attempt_id)
        if state is None:
            return
        if isinstance(event, AttemptStarted):
            if state.started_seq < 0 and state.attempt_id not in self.order:
                changes.started.append(state.attempt_id)
                self.order.append(state.attempt_id)
            self._seq += 1
            state.started_seq = self._seq
            self._latest = state.attempt_id
            state.status = AttemptStatus.RUNNING
            if self._clock is not None:
                self._clock.started(state.attempt_id, event.at)
            state.outcome = None
            state.events = []  # a retry voids the earlier try
            changes.events.pop(state.attempt_id, None)
            changes.attempts.add(state.attempt_id)
            changes.cells.add(state.cell)
        elif isinstance(event, AttemptFinished):
            state.outcome = event.outcome
            state.detail = event.detail
            state.status = (
                AttemptStatus.PENDING if event.outcome is Outcome.CANCELLED else AttemptStatus.FINISHED
            )
            if event.outcome is Outcome.CANCELLED:
                state.outcome = Outcome.CANCELLED
            if self._clock is not None:
                self._clock.finished(state.attempt_id, event.at, counted=event.outcome is not Outcome.CANCELLED)
            changes.attempts.add(state.attempt_id)
            changes.cells.add(state.cell)
            changes.progress = True
        if state.events is None:
            return
        if isinstance(event, AssistantTurn):
            # The complete turn replaces its streamed pieces.
            state.events[:] = [
                e for e in state.events if not (isinstance(e, TextDelta) and e.turn == event.turn)
            ]
        state.events.append(event)
        changes.events.setdefault(state.attempt_id, []).append(event)
