"""Reads (and the few non-event writes) of the store: runs, plans, attempts, transcripts.

Aggregates are computed in SQL so history views stay instant with many attempts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, case, delete, distinct, func, insert, select, update
from sqlalchemy.orm import Session

from app import __version__
from app.core.events import Event, event_from_dict
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome
from app.core.plan import AttemptSettings, AttemptSpec, RunPlan
from app.core.providers.base import ProviderKind
from app.core.serialization import build_dataclass
from app.core.store.browsing import BrowsingQueries
from app.core.store.database import Database
from app.core.store.models import AttemptRow, EventRow, ModelRow, RunRow, TaskRow
from app.core.store.records import AttemptRecord, _record
from app.core.tasks.loader import Task

_UNSCORED = (Outcome.INFRA_ERROR.value, Outcome.CANCELLED.value)


@dataclass(frozen=True, slots=True)
class RunSummary:
    id: str
    name: str
    created_at: float
    finished_at: float | None
    status: str
    models: tuple[str, ...]
    suites: tuple[str, ...]
    attempts_total: int
    attempts_done: int
    passed: int
    scored: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    @property
    def resumable(self) -> bool:
        return self.attempts_done < self.attempts_total and self.status != "running"


class Repository(BrowsingQueries):
    def __init__(self, database: Database) -> None:
        self._db = database

    @property
    def database(self) -> Database:
        return self._db

    # ---- writing the plan -------------------------------------------------------

    def create_run(self, plan: RunPlan, tasks: Mapping[str, Task]) -> None:
        """Store the run and every attempt as pending, in one transaction, before running."""
        with self._db.sessions.begin() as session:
            session.add(
                RunRow(
                    id=plan.run_id,
                    name=plan.name,
                    created_at=plan.created_at,
                    status="planned",
                    app_version=__version__,
                    notes_json=json.dumps(plan.notes),
                )
            )
            model_ids = {
                (a.model, a.model_digest): self._model_id(session, a.model, a.model_digest)
                for a in plan.attempts
            }
            task_ids = {tid: self._task_id(session, tasks[tid]) for tid in {a.task_id for a in plan.attempts}}
            session.execute(
                insert(AttemptRow),
                [
                    {
                        "id": a.attempt_id,
                        "run_id": a.run_id,
                        "seq": a.seq,
                        "model_id": model_ids[(a.model, a.model_digest)],
                        "task_row_id": task_ids[a.task_id],
                        "repeat": a.repeat,
                        "settings_key": a.settings.key(),
                        "settings_label": a.settings.label,
                        "settings_json": json.dumps(asdict(a.settings), default=str),
                        "status": "pending",
                        "detail": "",
                        "final_answer": "",
                        "infra_retries": 0,
                        "turns": 0,
                        "calls_valid": 0,
                        "calls_recovered": 0,
                        "calls_malformed": 0,
                        "calls_rejected": 0,
                        "prompt_tokens": 0,
                        "completion_tokens": 0,
                        "checks_json": "[]",
                    }
                    for a in plan.attempts
                ],
            )

    def _model_id(self, session: Session, ref: ModelRef, digest: str | None) -> int:
        digest_match = ModelRow.digest.is_(None) if digest is None else ModelRow.digest == digest
        found = session.scalar(
            select(ModelRow.id).where(
                ModelRow.provider == ref.provider.value,
                ModelRow.host == ref.host,
                ModelRow.name == ref.name,
                digest_match,
            )
        )
        if found is not None:
            return found
        row = ModelRow(provider=ref.provider.value, host=ref.host, name=ref.name, digest=digest, label=ref.label)
        session.add(row)
        session.flush()
        return row.id

    def _task_id(self, session: Session, task: Task) -> int:
        found = session.scalar(
            select(TaskRow.id).where(TaskRow.task_id == task.id, TaskRow.content_hash == task.content_hash)
        )
        if found is not None:
            return found
        row = TaskRow(
            suite=task.suite, task_id=task.id, tier=task.tier, content_hash=task.content_hash, title=task.spec.title
        )
        session.add(row)
        session.flush()
        return row.id

    # ---- plans and resume -------------------------------------------------------

    def _specs(self, session: Session, *conditions: Any) -> list[AttemptSpec]:
        rows = session.execute(
            select(AttemptRow, ModelRow, TaskRow)
            .join(ModelRow, AttemptRow.model_id == ModelRow.id)
            .join(TaskRow, AttemptRow.task_row_id == TaskRow.id)
            .where(*conditions)
            .order_by(AttemptRow.seq)
        ).all()
        return [
            AttemptSpec(
                attempt_id=a.id,
                run_id=a.run_id,
                seq=a.seq,
                model=ModelRef(ProviderKind(m.provider), m.host, m.name),
                task_id=t.task_id,
                suite=t.suite,
                tier=t.tier,
                task_hash=t.content_hash,
                repeat=a.repeat,
                settings=build_dataclass(AttemptSettings, json.loads(a.settings_json)),
                model_digest=m.digest,
            )
            for a, m, t in rows
        ]

    def load_plan(self, run_id: str) -> RunPlan:
        with self._db.sessions() as session:
            run = session.get(RunRow, run_id)
            if run is None:
                raise KeyError(run_id)
            attempts = self._specs(session, AttemptRow.run_id == run_id)
            return RunPlan(run.id, run.name, run.created_at, tuple(attempts), json.loads(run.notes_json))

    def unfinished_attempts(self, run_id: str) -> list[AttemptSpec]:
        with self._db.sessions() as session:
            return self._specs(session, AttemptRow.run_id == run_id, AttemptRow.status != "done")

    def mark_interrupted(self) -> list[str]:
        """Runs left "running" by a crash become "interrupted"; returns their ids."""
        with self._db.sessions.begin() as session:
            ids = list(session.scalars(select(RunRow.id).where(RunRow.status.in_(("running",)))))
            if ids:
                session.execute(update(RunRow).where(RunRow.id.in_(ids)).values(status="interrupted"))
                session.execute(
                    update(AttemptRow)
                    .where(AttemptRow.run_id.in_(ids), AttemptRow.status == "running")
                    .values(status="pending")
                )
            return ids

    def interrupted_runs(self) -> list[RunSummary]:
        return [r for r in self.list_runs(limit=1000) if r.status in ("interrupted", "cancelled") and r.resumable]

    # ---- history ----------------------------------------------------------------

    def list_runs(self, limit: int = 200, offset: int = 0, search: str | None = None) -> list[RunSummary]:
        with self._db.sessions() as session:
            runs = select(RunRow).order_by(RunRow.created_at.desc())
            if search:
                runs = runs.where(RunRow.name.ilike(f"%{search}%") | RunRow.id.ilike(f"{search}%"))
            page = list(session.scalars(runs.limit(limit).offset(offset)))
            return self._summaries(session, page)

    def run_summaries(self, run_ids: list[str] | tuple[str, ...] | Any) -> list[RunSummary]:
        """Summaries of several runs in three queries, in the order asked."""
        with self._db.sessions() as session:
            runs = {r.id: r for r in session.scalars(select(RunRow).where(RunRow.id.in_(list(run_ids))))}
            missing = [i for i in run_ids if i not in runs]
            if missing:
                raise KeyError(missing[0])
            return self._summaries(session, [runs[i] for i in run_ids])

    def run_summary(self, run_id: str) -> RunSummary:
        with self._db.sessions() as session:
            run = session.get(RunRow, run_id)
            if run is None:
                raise KeyError(run_id)
            return self._summaries(session, [run])[0]

    def _summaries(self, session: Session, runs: list[RunRow]) -> list[RunSummary]:
        if not runs:
            return []
        ids = [r.id for r in runs]
        counts = {
            row.run_id: row
            for row in session.execute(
                select(
                    AttemptRow.run_id,
                    func.count().label("total"),
                    func.sum(case((AttemptRow.status == "done", 1), else_=0)).label("done"),
                    func.sum(case((AttemptRow.outcome == Outcome.PASSED.value, 1), else_=0)).label("passed"),
                    func.sum(
                        case((and_(AttemptRow.outcome.is_not(None), AttemptRow.outcome.not_in(_UNSCORED)), 1), else_=0)
                    ).label("scored"),
                )
                .where(AttemptRow.run_id.in_(ids))
                .group_by(AttemptRow.run_id)
            )
        }
        models: dict[str, list[str]] = {}
        for run_id, label in session.execute(
            select(AttemptRow.run_id, ModelRow.label)
            .join(ModelRow, AttemptRow.model_id == ModelRow.id)
            .where(AttemptRow.run_id.in_(ids))
            .group_by(AttemptRow.run_id, ModelRow.label)
        ):
            models.setdefault(run_id, []).append(label)
        suites: dict[str, list[str]] = {}
        for run_id, suite in session.execute(
            select(AttemptRow.run_id, TaskRow.suite)
            .join(TaskRow, AttemptRow.task_row_id == TaskRow.id)
            .where(AttemptRow.run_id.in_(ids))
            .group_by(AttemptRow.run_id, TaskRow.suite)
        ):
            suites.setdefault(run_id, []).append(suite)
        result = []
        for run in runs:
            c = counts.get(run.id)
            result.append(
                RunSummary(
                    id=run.id,
                    name=run.name,
                    created_at=run.created_at,
                    finished_at=run.finished_at,
                    status=run.status,
                    models=tuple(sorted(models.get(run.id, []))),
                    suites=tuple(sorted(suites.get(run.id, []))),
                    attempts_total=int(c.total) if c else 0,
                    attempts_done=int(c.done or 0) if c else 0,
                    passed=int(c.passed or 0) if c else 0,
                    scored=int(c.scored or 0) if c else 0,
                )
            )
        return result

    def attempts(self, run_id: str) -> list[AttemptRecord]:
        with self._db.sessions() as session:
            rows = session.execute(
                select(AttemptRow, ModelRow.label, TaskRow.task_id, TaskRow.suite, TaskRow.tier)
                .join(ModelRow, AttemptRow.model_id == ModelRow.id)
                .join(TaskRow, AttemptRow.task_row_id == TaskRow.id)
                .where(AttemptRow.run_id == run_id)
                .order_by(AttemptRow.seq)
            ).all()
            return [_record(a, label, task_id, suite, tier) for a, label, task_id, suite, tier in rows]

    def transcript(self, attempt_id: str) -> list[Event]:
        """The attempt's stored events, in order: enough to replay it exactly."""
        with self._db.sessions() as session:
            payloads = session.scalars(
                select(EventRow.payload_json).where(EventRow.attempt_id == attempt_id).order_by(EventRow.seq)
            )
            return [event_from_dict(json.loads(p)) for p in payloads]

    def delete_run(self, run_id: str) -> None:
        with self._db.sessions.begin() as session:
            if session.get(RunRow, run_id) is None:
                raise KeyError(run_id)
            attempt_ids = select(AttemptRow.id).where(AttemptRow.run_id == run_id)
            session.execute(delete(EventRow).where(EventRow.attempt_id.in_(attempt_ids)))
            session.execute(delete(AttemptRow).where(AttemptRow.run_id == run_id))
            session.execute(delete(RunRow).where(RunRow.id == run_id))

    def counts(self) -> dict[str, int]:
        """Row counts, for diagnostics and tests."""
        with self._db.sessions() as session:
            return {
                "runs": session.scalar(select(func.count()).select_from(RunRow)) or 0,
                "attempts": session.scalar(select(func.count()).select_from(AttemptRow)) or 0,
                "done": session.scalar(select(func.count()).where(AttemptRow.status == "done")) or 0,
                "events": session.scalar(select(func.count()).select_from(EventRow)) or 0,
                "distinct_attempts_with_events": session.scalar(select(func.count(distinct(EventRow.attempt_id)))) or 0,
            }
