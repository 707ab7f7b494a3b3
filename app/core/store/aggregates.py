"""Aggregates for comparing runs, summed in SQL from the totals each write keeps (``totals.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from app.core.outcomes import Outcome
from app.core.store.database import Database
from app.core.store.models import (
    AttemptRow,
    CellTotalRow,
    EventRow,
    ModelRow,
    OutcomeTotalRow,
    TaskRow,
)


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
    """Sum the runs' cell totals by model × task × settings, then attach model and task names."""
    c = CellTotalRow
    grouped = (
        select(
            c.model_id.label("model_id"),
            c.task_row_id.label("task_row_id"),
            c.settings_key.label("settings_key"),
            func.max(c.settings_label).label("settings_label"),
            func.sum(c.total).label("total"),
            func.sum(c.done).label("done"),
            func.sum(c.passed).label("passed"),
            func.sum(c.partial).label("partial"),
            func.sum(c.scored).label("scored"),
            func.sum(c.infra).label("infra"),
            func.sum(c.budget_exceeded).label("budget"),
            func.sum(c.malformed_calls).label("malformed"),
            func.sum(c.turns_on_pass).label("turns"),
            func.sum(c.tokens_per_s_sum).label("rate_sum"),
            func.sum(c.tokens_per_s_count).label("rate_count"),
            func.sum(c.wall_s_sum).label("wall_sum"),
            func.sum(c.wall_s_count).label("wall_count"),
        )
        .where(c.run_id.in_(list(run_ids)))
        .group_by(c.model_id, c.task_row_id, c.settings_key)
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
            total=int(r["total"]), done=int(r["done"]), passed=int(r["passed"]),
            partial=int(r["partial"]), scored=int(r["scored"]), infra=int(r["infra"]),
            budget_exceeded=int(r["budget"]), malformed_calls=int(r["malformed"]),
            mean_turns_on_pass=_mean(r["turns"], r["passed"]),
            mean_tokens_per_s=_mean(r["rate_sum"], r["rate_count"]),
            mean_wall_s=_mean(r["wall_sum"], r["wall_count"]),
        )
        for r in rows
        if r["total"]
    ]
    return sorted(stats, key=lambda s: (s.model, s.suite, s.tier, s.task_id, s.settings_key))


def outcome_counts(db: Database, run_ids: Sequence[str]) -> list[OutcomeCount]:
    """Attempts per model and outcome over the runs (unfinished ones have no outcome)."""
    o = OutcomeTotalRow
    grouped = (
        select(o.model_id.label("model_id"), o.outcome.label("outcome"), func.sum(o.total).label("n"))
        .where(o.run_id.in_(list(run_ids)))
        .group_by(o.model_id, o.outcome)
        .having(func.sum(o.total) > 0)
        .subquery()
    )
    query = select(ModelRow.label, grouped.c.outcome, grouped.c.n).join(ModelRow, grouped.c.model_id == ModelRow.id)
    with db.sessions() as session:
        return sorted(
            (OutcomeCount(label, Outcome(str(outcome)), int(n)) for label, outcome, n in session.execute(query)),
            key=lambda c: c.model,
        )


@dataclass(frozen=True, slots=True)
class ConfiguredOutcomeCount:
    """Attempts of one model run one way (settings key) that ended with one outcome."""

    model: str
    settings_key: str
    outcome: Outcome
    count: int


def outcome_counts_by_settings(db: Database, run_ids: Sequence[str]) -> list[ConfiguredOutcomeCount]:
    """Attempts per model, settings and outcome over the runs, so unlike settings stay apart.

    A run's model that ran one way only (one settings key in its cells, the usual case)
    takes its counts from the outcome totals each write keeps; only a run and model that
    mixed settings count their attempts."""
    ids = list(run_ids)
    keys: dict[tuple[str, int], set[str]] = {}
    with db.sessions() as session:
        labels = dict(session.execute(select(ModelRow.id, ModelRow.label)).all())
        cells = session.execute(
            select(CellTotalRow.run_id, CellTotalRow.model_id, CellTotalRow.settings_key)
            .where(CellTotalRow.run_id.in_(ids), CellTotalRow.total > 0)
            .distinct()
        )
        for run_id, model_id, key in cells:
            keys.setdefault((run_id, model_id), set()).add(key)
        counts: dict[tuple[str, str, str], int] = {}
        o = OutcomeTotalRow
        totals = session.execute(
            select(o.run_id, o.model_id, o.outcome, o.total).where(o.run_id.in_(ids), o.total > 0)
        )
        for run_id, model_id, outcome, n in totals:
            pair_keys = keys.get((run_id, model_id), set())
            if len(pair_keys) == 1:
                (key,) = pair_keys
                counted = (labels[model_id], key, outcome)
                counts[counted] = counts.get(counted, 0) + int(n)
        mixed = [pair for pair, found in keys.items() if len(found) > 1]
        if mixed:
            a = AttemptRow
            grouped = session.execute(
                select(a.run_id, a.model_id, a.settings_key, a.outcome, func.count())
                .where(
                    a.run_id.in_(sorted({run for run, _ in mixed})),
                    a.model_id.in_(sorted({model for _, model in mixed})),
                    a.outcome.is_not(None),
                )
                .group_by(a.run_id, a.model_id, a.settings_key, a.outcome)
            )
            wanted = set(mixed)
            for run_id, model_id, settings_key, ended, n in grouped:
                if (run_id, model_id) in wanted and ended is not None:
                    counted = (labels[model_id], settings_key, ended)
                    counts[counted] = counts.get(counted, 0) + int(n)
    return [
        ConfiguredOutcomeCount(label, key, Outcome(str(outcome)), n)
        for (label, key, outcome), n in sorted(counts.items())
    ]


def task_titles(db: Database, task_ids: Sequence[str]) -> dict[str, str]:
    """The stored title of each task id (any version with a title)."""
    query = select(TaskRow.task_id, func.max(TaskRow.title)).where(TaskRow.task_id.in_(list(task_ids))).group_by(TaskRow.task_id)
    with db.sessions() as session:
        return {task_id: title or task_id for task_id, title in session.execute(query)}


def task_pass_table(db: Database, run_ids: Sequence[str]) -> list[TaskPassRow]:
    """Passed / scored / total per model label × task id, sorted by model then task.

    Sums the runs' cell totals: across runs, settings, the digests one label may cover
    and the content hashes of one task id.
    """
    c = CellTotalRow
    query = (
        select(ModelRow.label, TaskRow.task_id, func.sum(c.passed), func.sum(c.scored), func.sum(c.total))
        .join(ModelRow, c.model_id == ModelRow.id)
        .join(TaskRow, c.task_row_id == TaskRow.id)
        .where(c.run_id.in_(list(run_ids)))
        .group_by(ModelRow.label, TaskRow.task_id)
        .having(func.sum(c.total) > 0)
        .order_by(ModelRow.label, TaskRow.task_id)
    )
    with db.sessions() as session:
        return [
            TaskPassRow(label, task_id, int(passed), int(scored), int(total))
            for label, task_id, passed, scored, total in session.execute(query)
        ]


@dataclass(frozen=True, slots=True)
class ContextLimits:
    """Attempts of one model × task × settings cell that the server's context cut."""

    model: str
    task_id: str
    settings_key: str
    count: int
    needed: int | None  # the smallest context that would have held every one of them


def context_limits(db: Database, run_ids: Sequence[str]) -> list[ContextLimits]:
    """``context_limit`` attempts per cell, with the context they needed (from each
    attempt's final event: few rows, as only context-limited attempts are read; none when
    the outcome totals count none)."""
    ids = list(run_ids)
    a = AttemptRow
    needed = func.max(func.json_extract(EventRow.payload_json, "$.stats.context_needed"))
    query = (
        select(a.model_id, a.task_row_id, a.settings_key, func.count(func.distinct(a.id)), needed)
        .outerjoin(EventRow, (EventRow.attempt_id == a.id) & (EventRow.kind == "attempt_finished"))
        .where(a.run_id.in_(ids), a.outcome == Outcome.CONTEXT_LIMIT.value)
        .group_by(a.model_id, a.task_row_id, a.settings_key)
    )
    o = OutcomeTotalRow
    cells: dict[tuple[str, str, str], tuple[int, int | None]] = {}
    with db.sessions() as session:
        found = session.scalar(
            select(func.sum(o.total)).where(o.run_id.in_(ids), o.outcome == Outcome.CONTEXT_LIMIT.value)
        )
        if not found:
            return []
        labels = dict(session.execute(select(ModelRow.id, ModelRow.label)).all())
        grouped = session.execute(query).all()
        task_ids = dict(
            session.execute(
                select(TaskRow.id, TaskRow.task_id).where(TaskRow.id.in_({row[1] for row in grouped}))
            ).all()
        )
    for model_id, task_row_id, key, count, most in grouped:
        cell = (labels[model_id], task_ids[task_row_id], key)
        old_count, old_most = cells.get(cell, (0, None))
        most = int(most) if most is not None else None
        cells[cell] = (old_count + int(count), max(old_most or 0, most or 0) or None)
    return [
        ContextLimits(label, task_id, key, count, most)
        for (label, task_id, key), (count, most) in sorted(cells.items())
    ]


def _mean(total: float | None, count: int | None) -> float | None:
    return float(total or 0) / count if count else None
