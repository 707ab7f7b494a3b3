"""Run summaries for the history list: counts, model labels and suites, in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from app.core.plan import AttemptSettings
from app.core.reports.configurations import describe_settings
from app.core.serialization import build_dataclass
from app.core.store.models import AttemptRow, CellTotalRow, ModelRow, RunRow, TaskRow


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as the history lists it. ``scored`` leaves out infra errors and cancels."""

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
    configurations: tuple[str, ...] = ()  # how the attempts were run: "recovery", "native · temp 0"…

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    @property
    def resumable(self) -> bool:
        return self.attempts_done < self.attempts_total and self.status != "running"


def run_summaries_of(session: Session, runs: Sequence[RunRow]) -> list[RunSummary]:
    """Summaries of the runs from their cell totals (a few rows per run).

    One GROUP BY run sums the counts and collects each run's distinct model and task
    row ids (SQLite ``group_concat(DISTINCT …)``); labels and suites then come from
    the small models and tasks tables.
    """
    if not runs:
        return []
    cells = CellTotalRow
    counts = {
        row.run_id: row
        for row in session.execute(
            select(
                cells.run_id,
                func.sum(cells.total).label("total"),
                func.sum(cells.done).label("done"),
                func.sum(cells.passed).label("passed"),
                func.sum(cells.scored).label("scored"),
                func.group_concat(distinct(cells.model_id)).label("model_ids"),
                func.group_concat(distinct(cells.task_row_id)).label("task_row_ids"),
            )
            .where(cells.run_id.in_([r.id for r in runs]), cells.total > 0)
            .group_by(cells.run_id)
        )
    }
    model_ids = {run_id: _ids(row.model_ids) for run_id, row in counts.items()}
    task_ids = {run_id: _ids(row.task_row_ids) for run_id, row in counts.items()}
    wanted_models: set[int] = set().union(*model_ids.values())
    wanted_tasks: set[int] = set().union(*task_ids.values())
    labels = {i: label for i, label in session.execute(select(ModelRow.id, ModelRow.label).where(ModelRow.id.in_(wanted_models)))}
    suites = {i: suite for i, suite in session.execute(select(TaskRow.id, TaskRow.suite).where(TaskRow.id.in_(wanted_tasks)))}
    configurations = _configurations(session, [r.id for r in runs])
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
                models=tuple(sorted({labels[i] for i in model_ids.get(run.id, ())})),
                suites=tuple(sorted({suites[i] for i in task_ids.get(run.id, ())})),
                attempts_total=int(c.total) if c else 0,
                attempts_done=int(c.done or 0) if c else 0,
                passed=int(c.passed or 0) if c else 0,
                scored=int(c.scored or 0) if c else 0,
                configurations=configurations.get(run.id, ()),
            )
        )
    return result


def _configurations(session: Session, run_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """Each run's ways of running attempts, described; one settings row read per distinct key."""
    pairs = session.execute(
        select(CellTotalRow.run_id, CellTotalRow.settings_key)
        .where(CellTotalRow.run_id.in_(run_ids), CellTotalRow.total > 0)
        .distinct()
    ).all()
    described: dict[str, str] = {}
    for key in {key for _, key in pairs}:
        blob = session.scalar(select(AttemptRow.settings_json).where(AttemptRow.settings_key == key).limit(1))
        if blob is not None:
            described[key] = describe_settings(build_dataclass(AttemptSettings, json.loads(blob)))
    by_run: dict[str, set[str]] = {}
    for run_id, key in pairs:
        if key in described:
            by_run.setdefault(run_id, set()).add(described[key])
    return {run_id: tuple(sorted(names)) for run_id, names in by_run.items()}


def _ids(concatenated: str | None) -> set[int]:
    return {int(part) for part in concatenated.split(",")} if concatenated else set()
