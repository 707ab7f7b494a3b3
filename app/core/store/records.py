"""Attempt rows as plain frozen records for the engine, the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, cast

from sqlalchemy import Row, Select, Table, select

from app.core.outcomes import Outcome
from app.core.store.models import AttemptRow, ModelRow, TaskRow

_ATTEMPTS = cast(Table, AttemptRow.__table__)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt row with its model label and task identity; ``outcome`` is None until done."""

    id: str
    run_id: str
    seq: int
    model: str
    task_id: str
    suite: str
    tier: str
    repeat: int
    settings_key: str
    settings_label: str
    status: str
    outcome: Outcome | None
    score: float | None
    detail: str
    turns: int
    calls_valid: int
    calls_recovered: int
    calls_malformed: int
    prompt_tokens: int
    completion_tokens: int
    tokens_per_s: float | None
    ttft_s: float | None
    wall_s: float | None
    harness_s: float | None
    infra_retries: int
    finished_at: float | None
    calls_rejected: int = 0
    load_s: float | None = None
    started_at: float | None = None
    final_answer: str = ""
    context_window: int | None = None  # the server's context in force, when it said


# every field is the attempt column of the same name, except these four
_JOINED: dict[str, Any] = {"model": ModelRow.label, "task_id": TaskRow.task_id, "suite": TaskRow.suite, "tier": TaskRow.tier}
_COLUMNS = [_JOINED[f.name] if f.name in _JOINED else _ATTEMPTS.c[f.name] for f in fields(AttemptRecord)]
_OUTCOME = [f.name for f in fields(AttemptRecord)].index("outcome")


def select_records() -> Select[Any]:
    """The columns of ``AttemptRecord``, in field order; add ``where``/``order_by``.

    Plain rows, not ORM objects: a run of thousands of attempts loads several times
    faster. Turn each row into a record with ``to_record``.
    """
    return (
        select(*_COLUMNS)
        .join_from(_ATTEMPTS, ModelRow, _ATTEMPTS.c.model_id == ModelRow.id)
        .join(TaskRow, _ATTEMPTS.c.task_row_id == TaskRow.id)
    )


def to_record(row: Row[Any]) -> AttemptRecord:
    values = list(row)
    values[_OUTCOME] = Outcome(values[_OUTCOME]) if values[_OUTCOME] else None
    return AttemptRecord(*values)
