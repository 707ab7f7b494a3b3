"""Aggregates computed in SQL (GROUP BY over indexed columns), never by loading attempts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select

from app.core.outcomes import Outcome
from app.core.store.database import Database
from app.core.store.models import AttemptRow, ModelRow, TaskRow

_UNSCORED = (Outcome.INFRA_ERROR.value, Outcome.CANCELLED.value)
_BUDGET = (Outcome.TURN_BUDGET.value, Outcome.TOKEN_BUDGET.value, Outcome.TIME_BUDGET.value)


@dataclass(frozen=True, slots=True)
class CellStats:
    """One model on one task (and one settings cell): counts and means."""

    model: str
    task_id: str
    suite: str
    tier: str
    settings_key: str
    settings_label: str
    total: int
    done: int
    passed: int
    partial: int
    scored: int
    infra: int
    budget_exceeded: int
    malformed_calls: int
    mean_turns_on_pass: float | None
    mean_tokens_per_s: float | None
    mean_wall_s: float | None


@dataclass(frozen=True, slots=True)
class TaskPassRow:
    """One model (by label, any digest) on one task (by id, any version) over some runs."""

    model: str
    task_id: str
    passed: int
    scored: int  # finished attempts that count: not infra errors, not cancelled
    total: int  # every attempt planned, finished or not


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    model: str
    outcome: Outcome
    count: int


def cell_stats(db: Database, run_ids: Sequence[str]) -> list[CellStats]:
    """Aggregate attempts by their own columns first, then attach model and task names."""
    passed = AttemptRow.outcome == Outcome.PASSED.value
    grouped = (
        select(
            AttemptRow.model_id.label("model_id"),
            AttemptRow.task_row_id.label("task_row_id"),
            AttemptRow.settings_key.label("settings_key"),
            func.max(AttemptRow.settings_label).label("settings_label"),
            func.count().label("total"),
            func.sum(case((AttemptRow.status == "done", 1), else_=0)).label("done"),
            func.sum(case((passed, 1), else_=0)).label("passed"),
            func.sum(case((AttemptRow.outcome == Outcome.PARTIAL.value, 1), else_=0)).label("partial"),
            func.sum(case((AttemptRow.outcome.is_not(None) & AttemptRow.outcome.not_in(_UNSCORED), 1), else_=0)).label("scored"),
            func.sum(case((AttemptRow.outcome == Outcome.INFRA_ERROR.value, 1), else_=0)).label("infra"),
            func.sum(case((AttemptRow.outcome.in_(_BUDGET), 1), else_=0)).label("budget"),
            func.sum(AttemptRow.calls_malformed).label("malformed"),
            func.avg(case((passed, AttemptRow.turns), else_=None)).label("turns"),
            func.avg(AttemptRow.tokens_per_s).label("rate"),
            func.avg(AttemptRow.wall_s).label("wall"),
        )
        .where(AttemptRow.run_id.in_(list(run_ids)))
        .group_by(AttemptRow.model_id, AttemptRow.task_row_id, AttemptRow.settings_key)
        .subquery()
    )
    query = (
        select(ModelRow.label, TaskRow.task_id, TaskRow.suite, TaskRow.tier, grouped)
        .join(ModelRow, grouped.c.model_id == ModelRow.id)
        .join(TaskRow, grouped.c.task_row_id == TaskRow.id)
    )
    with db.sessions() as session:
        rows = session.execute(query).mappings().all()
    stats = [
        CellStats(
            model=r["label"], task_id=r["task_id"], suite=r["suite"], tier=r["tier"],
            settings_key=r["settings_key"], settings_label=r["settings_label"] or "",
            total=int(r["total"]), done=int(r["done"] or 0), passed=int(r["passed"] or 0),
            partial=int(r["partial"] or 0), scored=int(r["scored"] or 0), infra=int(r["infra"] or 0),
            budget_exceeded=int(r["budget"] or 0), malformed_calls=int(r["malformed"] or 0),
            mean_turns_on_pass=r["turns"], mean_tokens_per_s=r["rate"], mean_wall_s=r["wall"],
        )
        for r in rows
    ]
    return sorted(stats, key=lambda s: (s.model, s.suite, s.tier, s.task_id, s.settings_key))


def outcome_counts(db: Database, run_ids: Sequence[str]) -> list[OutcomeCount]:
    grouped = (
        select(AttemptRow.model_id.label("model_id"), AttemptRow.outcome.label("outcome"), func.count().label("n"))
        .where(AttemptRow.run_id.in_(list(run_ids)), AttemptRow.outcome.is_not(None))
        .group_by(AttemptRow.model_id, AttemptRow.outcome)
        .subquery()
    )
    query = select(ModelRow.label, grouped.c.outcome, grouped.c.n).join(ModelRow, grouped.c.model_id == ModelRow.id)
    with db.sessions() as session:
        return sorted(
            (OutcomeCount(label, Outcome(str(outcome)), int(n)) for label, outcome, n in session.execute(query)),
            key=lambda c: c.model,
        )


def task_pass_table(db: Database, run_ids: Sequence[str]) -> list[TaskPassRow]:
    """Passed / scored / total per model label × task id, sorted by model then task.

    The inner GROUP BY follows the ``ix_attempts_run_cell`` index order (run, model,
    task), so it streams without sorting and never reads the table; labels and task
    ids are joined on the few grouped rows and summed again (across runs, and because
    one label may cover several digests and one task id several content hashes).
    """
    grouped = (
        select(
            AttemptRow.model_id.label("model_id"),
            AttemptRow.task_row_id.label("task_row_id"),
            func.sum(case((AttemptRow.outcome == Outcome.PASSED.value, 1), else_=0)).label("passed"),
            func.sum(case((AttemptRow.outcome.is_not(None) & AttemptRow.outcome.not_in(_UNSCORED), 1), else_=0)).label("scored"),
            func.count().label("total"),
        )
        .where(AttemptRow.run_id.in_(list(run_ids)))
        .group_by(AttemptRow.run_id, AttemptRow.model_id, AttemptRow.task_row_id)
        .subquery()
    )
    query = (
        select(
            ModelRow.label,
            TaskRow.task_id,
            func.sum(grouped.c.passed),
            func.sum(grouped.c.scored),
            func.sum(grouped.c.total),
        )
        .join(ModelRow, grouped.c.model_id == ModelRow.id)
        .join(TaskRow, grouped.c.task_row_id == TaskRow.id)
        .group_by(ModelRow.label, TaskRow.task_id)
        .order_by(ModelRow.label, TaskRow.task_id)
    )
    with db.sessions() as session:
        return [
            TaskPassRow(label, task_id, int(passed or 0), int(scored or 0), int(total))
            for label, task_id, passed, scored, total in session.execute(query)
        ]
