"""The verdict: models ranked by agent score with their intervals, why each fails, and a
recommendation that admits a tie when the intervals overlap too much to name a winner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.metrics import Rate
from app.core.outcomes import Outcome
from app.core.reports.data import ModelReport


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """One model (in one configuration) as the verdict shows it."""

    name: str  # model and, when settings differ, its configuration
    model: str  # the model alone, as attempts record it
    settings_keys: tuple[str, ...]
    agent: Rate
    code: Rate
    main_failure: Outcome | None
    main_failure_count: int
    failed: int  # scored attempts that did not pass
    pass_hat_k: float | None
    k: int
    simulated: bool

    @property
    def gap(self) -> float | None:
        """Code score minus agent score: how much a one-shot benchmark flatters the model."""
        if self.agent.value is None or self.code.value is None:
            return None
        return self.code.value - self.agent.value

    @property
    def main_failure_share(self) -> float | None:
        """The main failure mode's share of all scored attempts of the model."""
        scored = self.agent.scored + self.code.scored
        return self.main_failure_count / scored if scored and self.main_failure else None


@dataclass(frozen=True, slots=True)
class Verdict:
    rows: list[VerdictRow]
    recommendation: str
    tied: tuple[str, ...] = ()  # names whose intervals overlap the leader's, leader included


def _row(report: ModelReport) -> VerdictRow:
    failures = {o: n for o, n in report.failures.items() if not o.is_pass}
    main = max(failures, key=lambda o: failures[o]) if failures else None
    return VerdictRow(
        name=report.model,
        model=report.model_label or report.model,
        settings_keys=report.settings_keys,
        agent=report.agent,
        code=report.code,
        main_failure=main,
        main_failure_count=failures.get(main, 0) if main else 0,
        failed=report.agent.scored + report.code.scored - report.agent.passed - report.code.passed,
        pass_hat_k=report.pass_hat_k,
        k=report.k,
        simulated=report.simulated,
    )


def _rank_key(row: VerdictRow) -> tuple[int, float, float, float, str]:
    """Scored first; then agent score, its lower bound (more evidence wins), code score, name."""
    agent = row.agent
    return (
        0 if agent.scored else 1,
        -(agent.value or 0.0),
        -agent.interval[0] if agent.scored else 0.0,
        -(row.code.value or 0.0),
        row.name,
    )


def _overlaps(a: Rate, b: Rate) -> bool:
    return a.interval[0] <= b.interval[1] and b.interval[0] <= a.interval[1]


def build_verdict(models: Sequence[ModelReport]) -> Verdict:
    """Rank by agent score; the recommendation names a winner only when its interval is clear."""
    rows = sorted((_row(m) for m in models), key=_rank_key)
    scored = [r for r in rows if r.agent.scored]
    if not scored:
        return Verdict(rows, "No agent task has been scored yet: run at least one agent suite.")
    leader = scored[0]
    tied = tuple(r.name for r in scored if r is leader or _overlaps(r.agent, leader.agent))
    low, high = (round(100 * x) for x in leader.agent.interval)
    score = f"{100 * (leader.agent.value or 0):.0f}% (95% CI {low}–{high}%)"
    if len(scored) == 1:
        text = f"Only {leader.name} was scored: agent score {score}."
    elif len(tied) > 1:
        others = ", ".join(tied[1:])
        text = (
            f"Too close to call: {leader.name} leads with {score}, but the intervals of {others} "
            f"overlap it. Run more attempts to separate them."
        )
    else:
        text = f"Use {leader.name}: agent score {score}, clearly ahead of {scored[1].name}."
    if (leader.agent.value or 0) < 0.5:
        text += " Even the best model fails most agent tasks."
    return Verdict(rows, text, tied if len(tied) > 1 else ())
