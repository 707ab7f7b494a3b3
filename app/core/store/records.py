"""Attempt rows as plain frozen records for the engine, the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.outcomes import Outcome
from app.core.store.models import AttemptRow


@dataclass(frozen=True, slots=True)
class AttemptRecord:
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


def _record(a: AttemptRow, label: str, task_id: str, suite: str, tier: str) -> AttemptRecord:
    return AttemptRecord(
        id=a.id,
        run_id=a.run_id,
        seq=a.seq,
        model=label,
        task_id=task_id,
        suite=suite,
        tier=tier,
        repeat=a.repeat,
        settings_key=a.settings_key,
        settings_label=a.settings_label,
        status=a.status,
        outcome=Outcome(a.outcome) if a.outcome else None,
        score=a.score,
        detail=a.detail,
        turns=a.turns,
        calls_valid=a.calls_valid,
        calls_recovered=a.calls_recovered,
        calls_malformed=a.calls_malformed,
        prompt_tokens=a.prompt_tokens,
        completion_tokens=a.completion_tokens,
        tokens_per_s=a.tokens_per_s,
        ttft_s=a.ttft_s,
        wall_s=a.wall_s,
        harness_s=a.harness_s,
        infra_retries=a.infra_retries,
        finished_at=a.finished_at,
    )


