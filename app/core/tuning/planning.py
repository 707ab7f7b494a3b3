"""Plans for tuning runs: a sweep of one model over tasks, a ceiling sweep over failing pairs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace

from app.core.modelref import ModelRef
from app.core.plan import AttemptSettings, RunPlan, new_attempt_id, new_run_id
from app.core.runner import plan_run
from app.core.tasks.loader import Task
from app.core.tuning.sweep import SweepSpec


def plan_sweep(
    model: ModelRef,
    tasks: Sequence[Task],
    spec: SweepSpec,
    *,
    name: str = "",
    digests: Mapping[ModelRef, str | None] | None = None,
) -> RunPlan:
    """Every sweep cell × N × task for one model; refuses N < 3 (``SweepError``)."""
    cells = spec.cells()
    plan = plan_run(
        [model],
        tasks,
        repeats=spec.repeats,
        settings=[c.settings for c in cells],
        name=name or f"sweep · {model.label} · {len(cells)} cells",
        digests=dict(digests or {}),
    )
    return replace(plan, notes={"tuning": "sweep", "cells": json.dumps([c.label for c in cells])})


def plan_pairs(
    pairs: Sequence[tuple[ModelRef, Task]],
    settings: Sequence[AttemptSettings],
    *,
    repeats: int,
    name: str,
    notes: Mapping[str, str] | None = None,
    digests: Mapping[ModelRef, str | None] | None = None,
) -> RunPlan:
    """Like ``plan_run``, but each model runs only its own tasks (e.g. the ones it failed)."""
    if not pairs:
        raise ValueError("nothing to plan: no model × task pairs")
    run_id = new_run_id()
    tasks_of: dict[ModelRef, list[Task]] = {}
    for model, task in pairs:
        tasks_of.setdefault(model, []).append(task)
    parts = [
        plan_run([model], tasks, repeats=repeats, settings=settings, run_id=run_id, digests=dict(digests or {}))
        for model, tasks in tasks_of.items()
    ]
    attempts = tuple(
        replace(a, seq=seq, attempt_id=new_attempt_id(run_id, seq))
        for seq, a in enumerate(itertools.chain.from_iterable(p.attempts for p in parts))
    )
    return RunPlan(run_id, name, parts[0].created_at, attempts, dict(notes or {}))
