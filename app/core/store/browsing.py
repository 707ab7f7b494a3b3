"""Read queries for reports and browsing: failures, filtered attempts, settings, method notes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from app.core.estimate import DurationHistory
from app.core.outcomes import Outcome
from app.core.plan import AttemptSettings
from app.core.serialization import build_dataclass
from app.core.store.database import Database
from app.core.store.models import (
    AttemptRow,
    CellTotalRow,
    ModelRow,
    OutcomeTotalRow,
    RunRow,
    TaskRow,
)
from app.core.store.records import AttemptRecord, select_records, to_record
from app.core.unjudged import Unjudged, UnjudgedAttempt


class BrowsingQueries:
    """Mixed into ``Repository``; every query aggregates or limits in SQL."""

    _db: Database

    def settings_by_key(self, run_ids: list[str] | tuple[str, ...] | Any) -> dict[str, AttemptSettings]:
        """The settings behind each settings key used in the runs (one row read per key)."""
        with self._db.sessions() as session:
            blobs = _settings_json_by_key(session, list(run_ids))
        return {key: build_dataclass(AttemptSettings, json.loads(blob)) for key, blob in blobs.items()}

    def attempt_durations(self) -> DurationHistory:
        """Mean wall-clock seconds of the attempts that ran to a verdict, by model × task and by
        model (one grouped read over finished attempts)."""
        not_counted = [o.value for o in Outcome if not o.counts_in_score]
        with self._db.sessions() as session:
            rows = session.execute(
                select(ModelRow.label, TaskRow.task_id, func.sum(AttemptRow.wall_s), func.count())
                .join(ModelRow, ModelRow.id == AttemptRow.model_id)
                .join(TaskRow, TaskRow.id == AttemptRow.task_row_id)
                .where(AttemptRow.status == "done", AttemptRow.wall_s.is_not(None),
                       AttemptRow.outcome.not_in(not_counted))
                .group_by(AttemptRow.model_id, AttemptRow.task_row_id)
            ).all()
        by_task: dict[tuple[str, str], float] = {}
        totals: dict[str, tuple[float, int]] = {}
        for label, task_id, seconds, count in rows:
            by_task[(label, task_id)] = float(seconds or 0.0) / count
            total, n = totals.get(label, (0.0, 0))
            totals[label] = (total + float(seconds or 0.0), n + int(count))
        return DurationHistory(by_task, {label: total / n for label, (total, n) in totals.items() if n})

    def method_notes(self, run_ids: list[str] | tuple[str, ...] | Any) -> dict[str, str]:
        """What a reader needs to judge the numbers: settings, digests, task hashes, versions."""
        ids = list(run_ids)
        with self._db.sessions() as session:
            settings = sorted(_settings_json_by_key(session, ids).values())
            model_ids = select(CellTotalRow.model_id).where(CellTotalRow.run_id.in_(ids)).distinct()
            models = session.execute(
                select(ModelRow.label, ModelRow.digest).where(ModelRow.id.in_(model_ids))
            ).all()
            task_ids = select(CellTotalRow.task_row_id).where(CellTotalRow.run_id.in_(ids)).distinct()
            tasks = session.execute(
                select(TaskRow.task_id, TaskRow.content_hash).where(TaskRow.id.in_(task_ids))
            ).all()
            imported = session.scalars(
                select(TaskRow.title).where(TaskRow.id.in_(task_ids), TaskRow.suite == "bfcl")
            ).all()
            versions = sorted(set(session.scalars(select(RunRow.app_version).where(RunRow.id.in_(ids)))))
            isolation = sorted(set(session.scalars(select(RunRow.isolation).where(RunRow.id.in_(ids)))))
        return {
            "isolation": ", ".join(_isolation_label(level) for level in isolation),
            "settings": "\n".join(settings),
            "model digests": "\n".join(f"{label}: {digest or 'unknown'}" for label, digest in sorted(models, key=lambda m: (m[0], m[1] or ""))),
            "task hashes": "\n".join(f"{task}: {digest}" for task, digest in sorted(tasks)),
            "app versions": ", ".join(versions),
            **_imported_suite_notes(imported),
        }

    def find_attempts(
        self,
        run_ids: list[str] | tuple[str, ...] | Any,
        *,
        model: str | None = None,
        task_id: str | None = None,
        tier: str | None = None,
        outcome: Outcome | None = None,
        failures_only: bool = False,
        limit: int = 500,
        suite: str | None = None,
        settings_keys: Sequence[str] | None = None,
    ) -> list[AttemptRecord]:
        """Finished attempts of the runs matching every filter given (for browsing)."""
        conditions: list[Any] = [AttemptRow.run_id.in_(list(run_ids)), AttemptRow.status == "done"]
        if model is not None:
            conditions.append(ModelRow.label == model)
        if task_id is not None:
            conditions.append(TaskRow.task_id == task_id)
        if tier is not None:
            conditions.append(TaskRow.tier == tier)
        if suite is not None:
            conditions.append(TaskRow.suite == suite)
        if settings_keys is not None:
            conditions.append(AttemptRow.settings_key.in_(list(settings_keys)))
        if outcome is not None:
            conditions.append(AttemptRow.outcome == outcome.value)
        if failures_only:
            conditions.append(AttemptRow.outcome.in_([o.value for o in Outcome if o.counts_in_score and not o.is_pass]))
        with self._db.sessions() as session:
            rows = session.execute(
                select_records().where(*conditions).order_by(TaskRow.task_id, ModelRow.label, AttemptRow.seq).limit(limit)
            )
            return [to_record(row) for row in rows]

    def unjudged_attempts(self, run_ids: list[str] | tuple[str, ...] | Any, limit: int) -> Unjudged | None:
        """The runs' ``harness_error`` attempts: counted from the outcome totals, the first
        ``limit`` stored listed (task, model, what broke), read along the outcome index."""
        ids = list(run_ids)
        a = AttemptRow
        with self._db.sessions() as session:
            found = session.scalar(
                select(func.sum(OutcomeTotalRow.total)).where(
                    OutcomeTotalRow.run_id.in_(ids), OutcomeTotalRow.outcome == Outcome.HARNESS_ERROR.value
                )
            )
            if not found:
                return None
            rows = session.execute(
                select(TaskRow.task_id, ModelRow.label, a.detail)
                .join(ModelRow, a.model_id == ModelRow.id)
                .join(TaskRow, a.task_row_id == TaskRow.id)
                .where(a.run_id.in_(ids), a.status == "done", a.outcome == Outcome.HARNESS_ERROR.value)
                .order_by(literal_column("attempts.rowid"))
                .limit(limit)
            )
            listed = tuple(UnjudgedAttempt(model, task_id, detail) for task_id, model, detail in rows)
        return Unjudged(listed, total=int(found)) if listed else None

    def failed_attempts(self, run_ids: list[str] | tuple[str, ...] | Any, limit: int) -> list[AttemptRecord]:
        """Up to ``limit`` scored failures of the runs, run by run in plan order (for report
        examples): read along the run and sequence index, stopping at ``limit``."""
        if limit <= 0:
            return []
        failures = [o.value for o in Outcome if o.counts_in_score and not o.is_pass]
        a = AttemptRow.__table__.c
        with self._db.sessions() as session:
            rows = session.execute(
                select_records()
                .where(a.run_id.in_(sorted(run_ids)), a.outcome.in_(failures))
                .order_by(a.run_id, a.seq)
                .limit(limit)
            )
            return [to_record(row) for row in rows]

    def example_attempt(
        self, run_ids: list[str] | tuple[str, ...] | Any, model: str, outcome: Outcome
    ) -> AttemptRecord | None:
        """One finished attempt of ``model`` (a label) in the runs that ended as ``outcome``:
        the first along the model, task and outcome index, so no attempt is sorted."""
        a = AttemptRow.__table__.c
        with self._db.sessions() as session:
            model_ids = list(session.scalars(select(ModelRow.id).where(ModelRow.label == model)))
            for model_id in model_ids:
                row = session.execute(
                    select_records()
                    .where(
                        a.model_id == model_id,
                        a.outcome == outcome.value,
                        a.run_id.in_(list(run_ids)),
                        a.status == "done",
                    )
                    .order_by(a.model_id, a.task_row_id)
                    .limit(1)
                ).first()
                if row is not None:
                    return to_record(row)
        return None


def _settings_json_by_key(session: Session, run_ids: list[str]) -> dict[str, str]:
    """Each settings key of the runs with the stored settings of its first attempt.

    The keys and the first run using each come from the cell totals; the attempt is
    then that run's first with the key, in plan order (a short index walk per key).
    """
    first_runs = session.execute(
        select(CellTotalRow.settings_key, func.min(CellTotalRow.run_id))
        .where(CellTotalRow.run_id.in_(run_ids), CellTotalRow.total > 0)
        .group_by(CellTotalRow.settings_key)
    ).all()
    blobs: dict[str, str] = {}
    for key, run_id in first_runs:
        blob = session.scalar(
            select(AttemptRow.settings_json)
            .where(AttemptRow.run_id == run_id, AttemptRow.settings_key == key)
            .order_by(AttemptRow.seq)  # walks ix_attempts_run_seq and stops at the first match
            .limit(1)
        )
        if blob is not None:
            blobs[key] = blob
    return blobs


def _imported_suite_notes(bfcl_titles: Sequence[str]) -> dict[str, str]:
    """The source and verdict-rule differences of an imported BFCL suite, when one was run."""
    if not bfcl_titles:
        return {}
    from app.core.importers.bfcl_suite import VERDICT_DIFFERENCES

    versions = sorted({t.split(" · ")[0].removeprefix("BFCL ").strip() for t in bfcl_titles})
    source = f"Berkeley Function Calling Leaderboard data, bfcl-eval {', '.join(versions)}"
    return {"BFCL": f"{source}.\n{VERDICT_DIFFERENCES}"}


def _isolation_label(level: str) -> str:
    """How commands were kept apart in a run, in words (a report's method section)."""
    return {
        "bubblewrap": "jail (bubblewrap)",
        "sandbox-exec": "jail (sandbox-exec)",
        "process": "process isolation only: commands could reach files, network and processes of this machine",
    }.get(level, "not recorded")
