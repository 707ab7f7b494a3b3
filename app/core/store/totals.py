"""The summary tables ``cell_totals`` and ``outcome_totals``, kept exact by every write.

A write that changes attempts shifts the totals by the rows it touches twice, in its
own transaction: with ``-1`` before the change (their old contribution leaves) and
with ``+1`` after it (the new one comes in). New attempts need only the ``+1``; a
deleted run takes its totals with it (ON DELETE CASCADE). Both steps are one
``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`` per table: nothing is read back.
``rebuild_totals`` recomputes both tables from every attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Integer,
    Select,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.sqlite import insert as upsert

from app.core.outcomes import Outcome
from app.core.store.models import AttemptRow, CellTotalRow, OutcomeTotalRow

__all__ = ["rebuild_totals", "shift_attempts", "shift_run"]

_ATTEMPTS = cast(Table, AttemptRow.__table__)
_CELLS = cast(Table, CellTotalRow.__table__)
_OUTCOMES = cast(Table, OutcomeTotalRow.__table__)

_CELL_KEY = ("run_id", "model_id", "task_row_id", "settings_key")
_OUTCOME_KEY = ("run_id", "model_id", "outcome")
_UNSCORED = tuple(o.value for o in Outcome if not o.counts_in_score)
_BUDGET = tuple(o.value for o in Outcome if o.is_budget)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _cell_counters() -> dict[str, ColumnElement[Any]]:
    """Each counter of ``cell_totals`` as an aggregate over the cell's attempts."""
    a = _ATTEMPTS.c
    passed = a.outcome == Outcome.PASSED.value
    return {
        "total": func.count(),
        "done": _count_if(a.status == "done"),
        "passed": _count_if(passed),
        "partial": _count_if(a.outcome == Outcome.PARTIAL.value),
        "scored": _count_if(a.outcome.is_not(None) & a.outcome.not_in(_UNSCORED)),
        "infra": _count_if(a.outcome == Outcome.INFRA_ERROR.value),
        "budget_exceeded": _count_if(a.outcome.in_(_BUDGET)),
        "malformed_calls": func.coalesce(func.sum(a.calls_malformed), 0),
        "turns_on_pass": func.coalesce(func.sum(case((passed, a.turns), else_=0)), 0),
        "tokens_per_s_sum": func.total(a.tokens_per_s),
        "tokens_per_s_count": func.count(a.tokens_per_s),
        "wall_s_sum": func.total(a.wall_s),
        "wall_s_count": func.count(a.wall_s),
    }


def _cell_contributions(
    where: ColumnElement[bool], sign: ColumnElement[int] | int, *, finishing: bool = False
) -> tuple[list[str], Select[Any]]:
    a = _ATTEMPTS.c
    counters = _cell_counters()
    if finishing:  # the row was already counted, as an unfinished one: only in ``total``
        counters["total"] = literal(0)
    columns = [*_CELL_KEY, "settings_label", *counters]
    query = (
        select(
            *(a[k] for k in _CELL_KEY),
            func.max(a.settings_label),
            *(counter * sign for counter in counters.values()),
        )
        .where(where)
        .group_by(*(a[k] for k in _CELL_KEY))
    )
    return columns, query


def _outcome_contributions(
    where: ColumnElement[bool], sign: ColumnElement[int] | int
) -> tuple[list[str], Select[Any]]:
    a = _ATTEMPTS.c
    query = (
        select(a.run_id, a.model_id, a.outcome, func.count() * sign)
        .where(where, a.outcome.is_not(None))
        .group_by(a.run_id, a.model_id, a.outcome)
    )
    return [*_OUTCOME_KEY, "total"], query


_SCOPES: dict[str, ColumnElement[bool]] = {
    "attempts": _ATTEMPTS.c.id.in_(bindparam("attempt_ids", expanding=True)),
    "run": _ATTEMPTS.c.run_id == bindparam("run_id"),
}


@cache
def _shifts(scope: str, finishing: bool = False) -> tuple[Executable, Executable]:
    """The two upserts that move the totals by the attempts in ``scope``, built once.

    They run on the writer's hot path: building these statements costs far more than
    running them, so they are kept and only their parameters change.
    """
    sign = bindparam("sign", type_=Integer)
    columns, query = _cell_contributions(_SCOPES[scope], sign, finishing=finishing)
    cells = upsert(_CELLS).from_select(columns, query)
    add = {name: _CELLS.c[name] + cells.excluded[name] for name in columns if name not in (*_CELL_KEY, "settings_label")}
    add["settings_label"] = func.max(_CELLS.c.settings_label, cells.excluded.settings_label)
    columns, query = _outcome_contributions(_SCOPES[scope], sign)
    outcomes = upsert(_OUTCOMES).from_select(columns, query)
    return (
        cells.on_conflict_do_update(index_elements=list(_CELL_KEY), set_=add),
        outcomes.on_conflict_do_update(
            index_elements=list(_OUTCOME_KEY), set_={"total": _OUTCOMES.c.total + outcomes.excluded.total}
        ),
    )


def shift_attempts(connection: Connection, attempt_ids: Sequence[str], sign: int) -> None:
    """Add (``sign=1``) or take away (``sign=-1``) what these attempts count."""
    for statement in _shifts("attempts"):
        connection.execute(statement, {"attempt_ids": list(attempt_ids), "sign": sign})


def count_finished(connection: Connection, attempt_ids: Sequence[str]) -> None:
    """Add what these attempts count now that they are done, when until now they counted
    as unfinished rows do (in ``total`` only: no outcome, no measures).

    Half the work of ``shift_attempts`` out and back in, for the writer's common case.
    """
    for statement in _shifts("attempts", True):
        connection.execute(statement, {"attempt_ids": list(attempt_ids), "sign": 1})


def shift_run(connection: Connection, run_id: str, sign: int) -> None:
    """Add (``sign=1``) or take away (``sign=-1``) what the run's attempts count."""
    for statement in _shifts("run"):
        connection.execute(statement, {"run_id": run_id, "sign": sign})


def rebuild_totals(connection: Connection) -> None:
    """Recompute both summary tables from every attempt (after a bulk load that skipped them)."""
    connection.execute(delete(_CELLS))
    connection.execute(delete(_OUTCOMES))
    columns, query = _cell_contributions(true(), 1)
    connection.execute(insert(_CELLS).from_select(columns, query))
    columns, query = _outcome_contributions(true(), 1)
    connection.execute(insert(_OUTCOMES).from_select(columns, query))
