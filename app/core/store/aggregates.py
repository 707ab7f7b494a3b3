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
class OutcomeCount:
    model: str
    outcome: Outcome
    count: int


def cell_stats(db: Database, run_ids: Sequence[str]) -> list[CellStats]:
    passed = AttemptRow.outcome == Outcome.PASSED.value
    query = (
        select(
            ModelRow.label,
            TaskRow.task_id,
            TaskRow.suite,
            TaskRow.tier,
            AttemptRow.settings_key,
            func.max(AttemptRow.settings_label),
            func.count(),
            func.sum(case((AttemptRow.status == "done", 1), else_=0)),
            func.sum(case((passed, 1), else_=0)),
            func.sum(case((AttemptRow.outcome == Outcome.PARTIAL.value, 1), else_=0)),
            func.sum(case((AttemptRow.outcome.is_not(None) & AttemptRow.outcome.not_in(_UNSCORED), 1), else_=0)),
            func.sum(case((AttemptRow.outcome == Outcome.INFRA_ERROR.value, 1), else_=0)),
            func.sum(case((AttemptRow.outcome.in_(_BUDGET), 1), else_=0)),
            func.sum(AttemptRow.calls_malformed),
            func.avg(case((passed, AttemptRow.turns), else_=None)),
            func.avg(AttemptRow.tokens_per_s),
            func.avg(AttemptRow.wall_s),
        )
        .join(ModelRow, AttemptRow.model_id == ModelRow.id)
        .join(TaskRow, AttemptRow.task_row_id == TaskRow.id)
        .where(AttemptRow.run_id.in_(list(run_ids)))
        .group_by(ModelRow.label, TaskRow.task_id, TaskRow.suite, TaskRow.tier, AttemptRow.settings_key)
        .order_by(ModelRow.label, TaskRow.suite, TaskRow.tier, TaskRow.task_id)
    )
    with db.sessions() as session:
        return [
            CellStats(
                model=row[0], task_id=row[1], suite=row[2], tier=row[3], settings_key=row[4],
                settings_label=row[5] or "", total=int(row[6]), done=int(row[7] or 0), passed=int(row[8] or 0),
                partial=int(row[9] or 0), scored=int(row[10] or 0), infra=int(row[11] or 0),
                budget_exceeded=int(row[12] or 0), malformed_calls=int(row[13] or 0),
                mean_turns_on_pass=row[14], mean_tokens_per_s=row[15], mean_wall_s=row[16],
            )
            for row in session.execute(query)
        ]


def outcome_counts(db: Database, run_ids: Sequence[str]) -> list[OutcomeCount]:
    query = (
        select(ModelRow.label, AttemptRow.outcome, func.count())
        .join(ModelRow, AttemptRow.model_id == ModelRow.id)
        .where(AttemptRow.run_id.in_(list(run_ids)), AttemptRow.outcome.is_not(None))
        .group_by(ModelRow.label, AttemptRow.outcome)
        .order_by(ModelRow.label)
    )
    with db.sessions() as session:
        return [OutcomeCount(label, Outcome(str(outcome)), int(n)) for label, outcome, n in session.execute(query)]


def repeat_passes(db: Database, run_ids: Sequence[str]) -> dict[tuple[str, str], list[bool]]:
    """Per (model, task): the pass/fail of each scored run, for pass^k."""
    query = (
        select(ModelRow.label, TaskRow.task_id, AttemptRow.outcome)
        .join(ModelRow, AttemptRow.model_id == ModelRow.id)
        .join(TaskRow, AttemptRow.task_row_id == TaskRow.id)
        .where(
            AttemptRow.run_id.in_(list(run_ids)),
            AttemptRow.outcome.is_not(None),
            AttemptRow.outcome.not_in(_UNSCORED),
        )
    )
    result: dict[tuple[str, str], list[bool]] = {}
    with db.sessions() as session:
        for label, task_id, outcome in session.execute(query):
            result.setdefault((label, task_id), []).append(outcome == Outcome.PASSED.value)
    return result
