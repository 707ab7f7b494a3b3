"""The one writer: a thread that turns engine events into rows, in batches.

``submit`` is cheap and thread-safe (workers call it while streaming: it only puts the
event on a queue). The thread commits a batch at least every ``BATCH_SECONDS`` or every
``BATCH_EVENTS`` events, and at once when an attempt or the run finishes; ``flush``
waits until everything submitted before it is on disk.

What each event does:

* ``RunStarted``: the run is "running".
* ``AttemptStarted``: earlier events of the attempt are deleted (a retry after an infra
  error, or a resume, restarts its transcript), the attempt is "running"; the event is
  stored as the first of the new transcript.
* other attempt events, except ``TRANSIENT_KINDS``: one ``EventRow`` each, numbered per
  attempt.
* ``AttemptFinished``: stored as the last event, and its results fill the attempt row
  ("done"). A *cancelled* attempt did not happen: its events are dropped and it goes
  back to "pending", so resuming the run runs it again.
* ``RunFinished``: the run is "finished" or "cancelled".

Every change to an attempt row moves the summary totals with it (``totals.py``), in
the same transaction.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import asdict
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.exc import OperationalError

from app.core.events import (
    TRANSIENT_KINDS,
    AttemptEvent,
    AttemptFinished,
    AttemptStarted,
    Event,
    RunFinished,
    RunStarted,
    event_to_dict,
)
from app.core.outcomes import Outcome
from app.core.store.database import Database
from app.core.store.models import AttemptRow, EventRow, RunRow
from app.core.store.totals import shift_attempts

log = logging.getLogger(__name__)

BATCH_SECONDS = 0.1
BATCH_EVENTS = 200
FILE_RETRIES = 3
_URGENT = (AttemptFinished, RunFinished, RunStarted)

# the writer speaks Core to the tables: no ORM unit of work on the hot path
_RUNS = cast(Table, RunRow.__table__)
_ATTEMPTS = cast(Table, AttemptRow.__table__)
_EVENTS = cast(Table, EventRow.__table__)


class _Barrier:
    def __init__(self) -> None:
        self.done = threading.Event()


class StoreWriter:
    """Owns every write of events to the database; readers use their own sessions.

    A failed write never stops the thread: the error is logged and kept in
    ``last_error`` (``errors`` counts them); see ``_write`` for what is retried.
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        self._queue: queue.SimpleQueue[Event | _Barrier | None] = queue.SimpleQueue()
        self._seq: dict[str, int] = {}  # next event number per attempt (writer thread only)
        self._closed = False
        self._lock = threading.Lock()  # orders submits against close
        self.last_error: str | None = None
        self.errors = 0
        self._thread = threading.Thread(target=self._work, name="store-writer", daemon=True)
        self._thread.start()

    def submit(self, event: Event) -> None:
        """Queue an event for storage; returns at once. Transient events are ignored."""
        if event.kind in TRANSIENT_KINDS:
            return
        with self._lock:
            if not self._closed:
                self._queue.put(event)
                return
        log.warning("store writer is closed; %s of run %s not stored", event.kind, event.run_id)

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything submitted so far is committed; False on timeout."""
        if self._closed:
            return not self._thread.is_alive()
        if not self._thread.is_alive():
            return False
        barrier = _Barrier()
        self._queue.put(barrier)
        return barrier.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Store what is queued, then stop the thread. Later submits are dropped (logged)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("store writer did not stop within %.0f s", timeout)

    # ---- the writer thread ------------------------------------------------------

    def _work(self) -> None:
        stop = False
        while not stop:
            batch: list[Event] = []
            barriers: list[_Barrier] = []
            item = self._queue.get()
            deadline = time.monotonic() + BATCH_SECONDS
            while True:
                if item is None:
                    stop = True
                    break
                if isinstance(item, _Barrier):
                    barriers.append(item)
                    break
                batch.append(item)
                if isinstance(item, _URGENT) or len(batch) >= BATCH_EVENTS:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            for barrier in barriers:
                barrier.done.set()

    def _write(self, batch: list[Event]) -> None:
        """Commit the batch; on failure, tell a busy or broken file from a bad event.

        The file (locked past the busy timeout, disk full, I/O): the whole batch is
        tried again a few times. An event the database refuses (an attempt that was
        never stored, …): the batch is replayed one event at a time so only that one
        is lost.
        """
        for attempt in range(1, FILE_RETRIES + 1):
            seq_before = dict(self._seq)
            try:
                self._commit(batch)
                return
            except OperationalError as error:
                self._seq = seq_before
                self._report(error, f"a batch of {len(batch)} event(s) (try {attempt} of {FILE_RETRIES})")
            except Exception as error:
                self._seq = seq_before
                self._report(error, f"a batch of {len(batch)} event(s); storing them one by one")
                break
        else:
            return
        for event in batch:
            seq_before = dict(self._seq)
            try:
                self._commit([event])
            except Exception as error:
                self._seq = seq_before
                self._report(error, f"{event.kind} of attempt {getattr(event, 'attempt_id', '-')}")

    def _report(self, error: Exception, what: str) -> None:
        self.errors += 1
        self.last_error = f"{type(error).__name__}: {error}"
        log.error("could not store %s", what, exc_info=error)

    def _commit(self, batch: list[Event]) -> None:
        with self._db.engine.begin() as connection:
            rows: list[dict[str, Any]] = []  # event rows, inserted together
            for event in batch:
                self._apply(connection, event, rows)
            _insert_events(connection, rows)

    def _apply(self, connection: Connection, event: Event, rows: list[dict[str, Any]]) -> None:
        if isinstance(event, RunStarted):
            connection.execute(update(_RUNS).where(_RUNS.c.id == event.run_id).values(status="running"))
        elif isinstance(event, RunFinished):
            status = "cancelled" if event.cancelled else "finished"
            connection.execute(
                update(_RUNS).where(_RUNS.c.id == event.run_id).values(status=status, finished_at=event.at)
            )
        elif isinstance(event, AttemptStarted):
            _insert_events(connection, rows)  # what came before is deleted, not kept
            self._restart(connection, event.attempt_id, status="running", started_at=event.at)
            rows.append(self._row(connection, event))
        elif isinstance(event, AttemptFinished) and event.outcome is Outcome.CANCELLED:
            _insert_events(connection, rows)
            self._restart(connection, event.attempt_id, status="pending", started_at=None)
            self._seq.pop(event.attempt_id, None)
        elif isinstance(event, AttemptFinished):
            rows.append(self._row(connection, event))
            self._seq.pop(event.attempt_id, None)
            _update_attempt(connection, event.attempt_id, _results(event))
        elif isinstance(event, AttemptEvent):
            rows.append(self._row(connection, event))

    def _restart(self, connection: Connection, attempt_id: str, **values: Any) -> None:
        connection.execute(delete(_EVENTS).where(_EVENTS.c.attempt_id == attempt_id))
        if _update_attempt(connection, attempt_id, values) == 0:
            raise LookupError(f"attempt {attempt_id} is not in the database (was its run stored?)")
        self._seq[attempt_id] = 0

    def _row(self, connection: Connection, event: AttemptEvent) -> dict[str, Any]:
        seq = self._seq.get(event.attempt_id)
        if seq is None:  # first event of this attempt since the writer started
            seq = connection.scalar(
                select(func.coalesce(func.max(_EVENTS.c.seq) + 1, 0)).where(_EVENTS.c.attempt_id == event.attempt_id)
            ) or 0
        self._seq[event.attempt_id] = seq + 1
        return {
            "attempt_id": event.attempt_id,
            "seq": seq,
            "kind": event.kind,
            "at": event.at,
            "payload_json": json.dumps(event_to_dict(event), default=str),
        }


def _insert_events(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(_EVENTS), rows)
        rows.clear()


def _update_attempt(connection: Connection, attempt_id: str, values: dict[str, Any]) -> int:
    """Update one attempt and its share of the summary totals; how many rows changed."""
    shift_attempts(connection, [attempt_id], -1)
    updated = connection.execute(update(_ATTEMPTS).where(_ATTEMPTS.c.id == attempt_id).values(**values)).rowcount
    shift_attempts(connection, [attempt_id], 1)
    return updated


def _results(event: AttemptFinished) -> dict[str, Any]:
    """The attempt row's result columns from its ``AttemptFinished``."""
    stats = event.stats
    return {
        "status": "done",
        "outcome": event.outcome.value,
        "score": event.score,
        "detail": event.detail,
        "final_answer": event.final_answer,
        "infra_retries": event.infra_retries,
        "turns": stats.turns,
        "calls_valid": stats.calls_valid,
        "calls_recovered": stats.calls_recovered,
        "calls_malformed": stats.calls_malformed,
        "calls_rejected": stats.calls_rejected,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "ttft_s": stats.time_to_first_token_s,
        "tokens_per_s": stats.tokens_per_s,
        "load_s": stats.load_s,
        "wall_s": stats.wall_s,
        "harness_s": stats.harness_s,
        "context_window": stats.context_window,
        "finished_at": event.at,
        "checks_json": json.dumps([asdict(c) for c in event.checks]),
    }
