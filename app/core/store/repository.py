"""Reads (and the few non-event writes) of the store: runs, plans, attempts, transcripts.

Everything the history and compare views show is counted in SQL, never by loading
attempts: mostly from the summary totals (``totals.py``) that each write keeps, so views
stay instant with many runs.
Each method opens its own short session: call them from any thread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import delete, distinct, func, insert, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from app import __version__
from app.core.events import Event, event_from_dict
from app.core.modelref import ModelRef
from app.core.plan import AttemptSettings, AttemptSpec, RunPlan
from app.core.providers.base import ProviderKind
from app.core.serialization import build_dataclass
from app.core.store.aggregates import ContextLimits, TaskPassRow, context_limits, task_pass_table
from app.core.store.browsing import BrowsingQueries
from app.core.store.database import Database
from app.core.store.models import AttemptRow, CellTotalRow, EventRow, ModelRow, RunRow, TaskRow
from app.core.store.records import AttemptRecord, select_records, to_record
from app.core.store.summaries import RunSummary, run_summaries_of
from app.core.store.totals import shift_attempts, shift_run
from app.core.tasks.loader import Task

__all__ = ["AttemptRecord", "Repository", "RunSummary", "TaskInfo", "TaskPassRow"]

_UNFINISHED = ("pending", "running")


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What the store keeps of a task besides its id, suite, tier and hash (from the plan)."""

    title: str = ""


class Repository(BrowsingQueries):
    """Read queries plus storing a plan, interrupting crashed runs and deleting runs."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @property
    def database(self) -> Database:
        return self._db

    # ---- writing the plan -------------------------------------------------------

    def create_run(
        self,
        plan: RunPlan,
        tasks: Mapping[str, Task | TaskInfo] | None = None,
        *,
        model_details: Mapping[ModelRef, Mapping[str, Any]] | None = None,
    ) -> None:
        """Store the run and every attempt as pending, in one transaction, before running.

        ``plan`` is the source of truth: each attempt's model, digest, task id, suite,
        tier and task hash come from its ``AttemptSpec``, so ``load_plan`` rebuilds them
        exactly. ``tasks`` (task id → loaded ``Task`` or ``TaskInfo``) only adds titles.
        ``model_details`` (JSON-ready facts such as family, size, quantization) are kept
        with each model row; newer details replace older ones. Models are keyed by
        provider, host, name and digest; tasks by task id and content hash.
        """
        strays = [a.attempt_id for a in plan.attempts if a.run_id != plan.run_id]
        if strays:
            raise ValueError(f"attempt {strays[0]} does not belong to run {plan.run_id}")
        tasks = tasks or {}
        details = model_details or {}
        with self._db.plan_lock, self._db.sessions.begin() as session:
            session.execute(
                insert(RunRow).values(
                    id=plan.run_id,
                    name=plan.name,
                    created_at=plan.created_at,
                    status="planned",
                    app_version=__version__,
                    notes_json=json.dumps(plan.notes),
                )
            )
            model_ids: dict[tuple[ModelRef, str | None], int] = {}
            task_ids: dict[tuple[str, str], int] = {}
            for a in plan.attempts:
                if (a.model, a.model_digest) not in model_ids:
                    model_ids[(a.model, a.model_digest)] = _model_id(session, a.model, a.model_digest, details.get(a.model))
                if (a.task_id, a.task_hash) not in task_ids:
                    task_ids[(a.task_id, a.task_hash)] = _task_id(session, a, _title(tasks.get(a.task_id)))
            if not plan.attempts:
                return
            stored = {st: (st.key(), json.dumps(asdict(st), default=str)) for st in {a.settings for a in plan.attempts}}
            session.execute(
                insert(AttemptRow),
                [
                    {
                        "id": a.attempt_id,
                        "run_id": plan.run_id,
                        "seq": a.seq,
                        "model_id": model_ids[(a.model, a.model_digest)],
                        "task_row_id": task_ids[(a.task_id, a.task_hash)],
                        "repeat": a.repeat,
                        "settings_key": stored[a.settings][0],
                        "settings_label": a.settings.label,
                        "settings_json": stored[a.settings][1],
                        "status": "pending",
                    }
                    for a in plan.attempts
                ],
            )
            shift_run(session.connection(), plan.run_id, 1)

    # ---- plans and resume -------------------------------------------------------

    def load_plan(self, run_id: str) -> RunPlan:
        """The run's plan as ``create_run`` stored it (every attempt, in seq order)."""
        with self._db.sessions() as session:
            run = session.get(RunRow, run_id)
            if run is None:
                raise KeyError(run_id)
            attempts = _specs(session, AttemptRow.run_id == run_id)
            return RunPlan(run.id, run.name, run.created_at, tuple(attempts), json.loads(run.notes_json))

    def unfinished_attempts(self, run_id: str) -> list[AttemptSpec]:
        """Attempts still pending or running (cut off by a crash or cancel), in seq order."""
        with self._db.sessions() as session:
            return _specs(session, AttemptRow.run_id == run_id, AttemptRow.status.in_(_UNFINISHED))

    def mark_interrupted(self, run_ids: Sequence[str] | None = None) -> list[str]:
        """Runs left "running" by a crash become "interrupted"; returns their ids.

        ``run_ids`` limits it to those runs (the ones whose process is known to be gone);
        None takes every running run. Their attempts that were running go back to
        pending (their partial transcripts are replaced when they run again).
        """
        with self._db.plan_lock, self._db.sessions.begin() as session:
            stale = select(RunRow.id).where(RunRow.status == "running")
            if run_ids is not None:
                stale = stale.where(RunRow.id.in_(list(run_ids)))
            ids = list(session.scalars(stale))
            if ids:
                session.execute(update(RunRow).where(RunRow.id.in_(ids)).values(status="interrupted"))
                cut_off = AttemptRow.run_id.in_(ids), AttemptRow.status == "running"
                running = list(session.scalars(select(AttemptRow.id).where(*cut_off)))
                shift_attempts(session.connection(), running, -1)
                session.execute(
                    update(AttemptRow).where(AttemptRow.id.in_(running)).values(status="pending", started_at=None)
                )
                shift_attempts(session.connection(), running, 1)
            return ids

    def interrupted_runs(self) -> list[RunSummary]:
        """Interrupted or cancelled runs with attempts left to run, newest first."""
        left = (
            select(AttemptRow.id)
            .where(AttemptRow.run_id == RunRow.id, AttemptRow.status.in_(_UNFINISHED))
            .exists()
        )
        with self._db.sessions() as session:
            runs = list(
                session.scalars(
                    select(RunRow)
                    .where(RunRow.status.in_(("interrupted", "cancelled")), left)
                    .order_by(RunRow.created_at.desc())
                )
            )
            return run_summaries_of(session, runs)

    # ---- history ----------------------------------------------------------------

    def list_runs(self, limit: int = 200, offset: int = 0, search: str | None = None) -> list[RunSummary]:
        """A page of runs, newest first. ``search`` matches the name or a model label
        (anywhere, any case) or the start of the run id."""
        with self._db.sessions() as session:
            runs = select(RunRow).order_by(RunRow.created_at.desc(), RunRow.id)
            if search:
                anywhere, prefix = f"%{_escape_like(search)}%", f"{_escape_like(search)}%"
                models = select(ModelRow.id).where(ModelRow.label.ilike(anywhere, escape="\\"))
                # one index seek per run and matching model (ix_attempts_run_cell)
                with_model = (
                    select(AttemptRow.id).where(AttemptRow.run_id == RunRow.id, AttemptRow.model_id.in_(models)).exists()
                )
                runs = runs.where(
                    or_(RunRow.name.ilike(anywhere, escape="\\"), RunRow.id.ilike(prefix, escape="\\"), with_model)
                )
            page = list(session.scalars(runs.limit(limit).offset(offset)))
            return run_summaries_of(session, page)

    def run_summaries(self, run_ids: Sequence[str]) -> list[RunSummary]:
        """Summaries of several runs, in the order asked (KeyError for an unknown id)."""
        with self._db.sessions() as session:
            runs = {r.id: r for r in session.scalars(select(RunRow).where(RunRow.id.in_(list(run_ids))))}
            missing = [i for i in run_ids if i not in runs]
            if missing:
                raise KeyError(missing[0])
            return run_summaries_of(session, [runs[i] for i in run_ids])

    def run_summary(self, run_id: str) -> RunSummary:
        return self.run_summaries([run_id])[0]

    def attempts(self, run_id: str) -> list[AttemptRecord]:
        """Every attempt of the run, in seq order (pending ones have no outcome)."""
        with self._db.sessions() as session:
            rows = session.execute(select_records().where(AttemptRow.run_id == run_id).order_by(AttemptRow.seq))
            return [to_record(row) for row in rows]

    def transcript(self, attempt_id: str) -> list[Event]:
        """The attempt's stored events, in order: enough to replay it exactly."""
        with self._db.sessions() as session:
            payloads = session.scalars(
                select(EventRow.payload_json).where(EventRow.attempt_id == attempt_id).order_by(EventRow.seq)
            )
            return [event_from_dict(json.loads(p)) for p in payloads]

    def task_pass_table(self, run_ids: Sequence[str]) -> list[TaskPassRow]:
        """Per model label × task id over the runs: passed, scored and total attempts."""
        return task_pass_table(self._db, run_ids)

    def context_limits(self, run_ids: Sequence[str]) -> list[ContextLimits]:
        """Per model × task × settings: attempts the server's context cut, and the context they needed."""
        return context_limits(self._db, run_ids)

    def model_details(self, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored details of the runs' models, by model label."""
        with self._db.sessions() as session:
            used = select(CellTotalRow.model_id).where(CellTotalRow.run_id.in_(list(run_ids))).distinct()
            rows = session.execute(select(ModelRow.label, ModelRow.details_json).where(ModelRow.id.in_(used)))
            return {label: json.loads(blob) for label, blob in rows}

    def delete_run(self, run_id: str) -> None:
        """Delete the run; its attempts, their events and its totals go with it (ON DELETE CASCADE)."""
        with self._db.sessions.begin() as session:
            deleted = cast(CursorResult[Any], session.execute(delete(RunRow).where(RunRow.id == run_id)))
            if deleted.rowcount == 0:
                raise KeyError(run_id)

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


# ---- helpers ------------------------------------------------------------------------


def _title(task: Task | TaskInfo | None) -> str:
    if isinstance(task, Task):
        return task.spec.title
    return task.title if task is not None else ""


def _model_id(session: Session, ref: ModelRef, digest: str | None, details: Mapping[str, Any] | None) -> int:
    digest_match = ModelRow.digest.is_(None) if digest is None else ModelRow.digest == digest
    found = session.scalar(
        select(ModelRow.id).where(
            ModelRow.provider == ref.provider.value,
            ModelRow.host == ref.host,
            ModelRow.name == ref.name,
            digest_match,
        )
    )
    blob = json.dumps(dict(details), sort_keys=True, default=str) if details else None
    if found is not None:
        if blob is not None:
            session.execute(update(ModelRow).where(ModelRow.id == found).values(details_json=blob))
        return found
    return int(
        session.execute(
            insert(ModelRow)
            .values(
                provider=ref.provider.value,
                host=ref.host,
                name=ref.name,
                digest=digest,
                label=ref.label,
                details_json=blob or "{}",
            )
            .returning(ModelRow.id)
        ).scalar_one()
    )


def _task_id(session: Session, spec: AttemptSpec, title: str) -> int:
    found = session.scalar(
        select(TaskRow.id).where(TaskRow.task_id == spec.task_id, TaskRow.content_hash == spec.task_hash)
    )
    if found is not None:
        return found
    return int(
        session.execute(
            insert(TaskRow)
            .values(suite=spec.suite, task_id=spec.task_id, tier=spec.tier, content_hash=spec.task_hash, title=title)
            .returning(TaskRow.id)
        ).scalar_one()
    )


def _specs(session: Session, *conditions: Any) -> list[AttemptSpec]:
    """AttemptSpecs of the matching attempts in seq order, rebuilt exactly as planned."""
    rows = session.execute(
        select(
            AttemptRow.id, AttemptRow.run_id, AttemptRow.seq, AttemptRow.repeat, AttemptRow.settings_json,
            ModelRow.provider, ModelRow.host, ModelRow.name, ModelRow.digest,
            TaskRow.task_id, TaskRow.suite, TaskRow.tier, TaskRow.content_hash,
        )
        .join(ModelRow, AttemptRow.model_id == ModelRow.id)
        .join(TaskRow, AttemptRow.task_row_id == TaskRow.id)
        .where(*conditions)
        .order_by(AttemptRow.seq)
    )
    models: dict[tuple[str, str, str], ModelRef] = {}
    settings: dict[str, AttemptSettings] = {}  # a plan has few distinct settings
    specs = []
    for id_, run_id, seq, repeat, blob, provider, host, name, digest, task_id, suite, tier, content_hash in rows:
        model = models.get((provider, host, name))
        if model is None:
            model = models[(provider, host, name)] = ModelRef(ProviderKind(provider), host, name)
        setting = settings.get(blob)
        if setting is None:
            setting = settings[blob] = build_dataclass(AttemptSettings, json.loads(blob))
        specs.append(
            AttemptSpec(
                attempt_id=id_, run_id=run_id, seq=seq, model=model, task_id=task_id, suite=suite, tier=tier,
                task_hash=content_hash, repeat=repeat, settings=setting, model_digest=digest,
            )
        )
    return specs


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
