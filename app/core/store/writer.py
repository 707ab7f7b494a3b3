"""The one writer: a thread that turns engine events into rows, in batches.

``submit`` is cheap and thread-safe (workers call it while streaming). Transactions
commit at least every 100 ms, and at once when an attempt or run finishes; ``flush``
waits until everything submitted before it is on disk.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import asdict

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

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

log = logging.getLogger(__name__)

BATCH_SECONDS = 0.1
BATCH_EVENTS = 200
_URGENT = (AttemptFinished, RunFinished, RunStarted)


class _Barrier:
    def __init__(self) -> None:
        self.done = threading.Event()


class StoreWriter:
    """Owns every write to the database; readers use their own sessions."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._queue: queue.SimpleQueue[Event | _Barrier | None] = queue.SimpleQueue()
        self._seq: dict[str, int] = {}
        self.last_error: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="store-writer", daemon=True)
        self._thread.start()

    def submit(self, event: Event) -> None:
        if event.kind not in TRANSIENT_KINDS and not self._closed:
            self._queue.put(event)

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything submitted so far is committed; False on timeout."""
        if self._closed:
            return True
        barrier = _Barrier()
        self._queue.put(barrier)
        return barrier.done.wait(timeout)

    def close(self) -> None:
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)

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
        try:
            with self._db.sessions.begin() as session:
                for event in batch:
                    self._apply(session, event)
        except Exception as error:  # keep the thread alive; report in the log
            self.last_error = f"{type(error).__name__}: {error}"
            log.exception("could not store %d event(s)", len(batch))

    def _apply(self, session: Session, event: Event) -> None:
        if isinstance(event, RunStarted):
            session.execute(update(RunRow).where(RunRow.id == event.run_id).values(status="running"))
        elif isinstance(event, RunFinished):
            status = "cancelled" if event.cancelled else "finished"
            session.execute(
                update(RunRow)
                .where(RunRow.id == event.run_id)
                .values(status=status, finished_at=event.at)
            )
        elif isinstance(event, AttemptStarted):
            session.execute(delete(EventRow).where(EventRow.attempt_id == event.attempt_id))
            session.execute(
                update(AttemptRow)
                .where(AttemptRow.id == event.attempt_id)
                .values(status="running", started_at=event.at)
            )
            self._seq[event.attempt_id] = 0
            self._insert(session, event)
        elif isinstance(event, AttemptFinished):
            self._finish(session, event)
        elif isinstance(event, AttemptEvent):
            self._insert(session, event)

    def _insert(self, session: Session, event: AttemptEvent) -> None:
        seq = self._seq.get(event.attempt_id)
        if seq is None:
            seq = session.scalar(
                select(func.coalesce(func.max(EventRow.seq) + 1, 0)).where(
                    EventRow.attempt_id == event.attempt_id
                )
            ) or 0
        self._seq[event.attempt_id] = seq + 1
        session.add(
            EventRow(
                attempt_id=event.attempt_id,
                seq=seq,
                kind=event.kind,
                at=event.at,
                payload_json=json.dumps(event_to_dict(event), default=str),
            )
        )

    def _finish(self, session: Session, event: AttemptFinished) -> None:
        if event.outcome is Outcome.CANCELLED:
            # a cancelled attempt did not happen: it stays pending for a resume
            session.execute(delete(EventRow).where(EventRow.attempt_id == event.attempt_id))
            session.execute(
                update(AttemptRow)
                .where(AttemptRow.id == event.attempt_id)
                .values(status="pending", started_at=None)
            )
            self._seq.pop(event.attempt_id, None)
            return
        self._insert(session, event)
        self._seq.pop(event.attempt_id, None)
        stats = event.stats
        session.execute(
            update(AttemptRow)
            .where(AttemptRow.id == event.attempt_id)
            .values(
                status="done",
                outcome=event.outcome.value,
                score=event.score,
                detail=event.detail,
                final_answer=event.final_answer,
                infra_retries=event.infra_retries,
                turns=stats.turns,
                calls_valid=stats.calls_valid,
                calls_recovered=stats.calls_recovered,
                calls_malformed=stats.calls_malformed,
                calls_rejected=stats.calls_rejected,
                prompt_tokens=stats.prompt_tokens,
                completion_tokens=stats.completion_tokens,
                ttft_s=stats.time_to_first_token_s,
                tokens_per_s=stats.tokens_per_s,
                load_s=stats.load_s,
                wall_s=stats.wall_s,
                harness_s=stats.harness_s,
                finished_at=event.at,
                checks_json=json.dumps([asdict(c) for c in event.checks]),
            )
        )
