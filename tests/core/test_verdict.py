"""The verdict ranks by agent score, names a winner only when its interval is clear, and says
why each model fails."""

from __future__ import annotations

from app.core.metrics import Rate
from app.core.outcomes import Outcome
from app.core.reports.data import ModelReport
from app.core.verdict import build_verdict


def report(name: str, agent: tuple[int, int], code: tuple[int, int] = (0, 0),
           failures: dict[Outcome, int] | None = None) -> ModelReport:
    return ModelReport(
        model=name, agent=Rate(*agent), code=Rate(*code), by_tier={}, by_mode={},
        failures=failures or {}, infra_errors=0, pass_hat_k=None, k=0, mean_turns_on_pass=None,
        tokens_per_s=None, mean_wall_s=None, malformed_calls=0, budget_exceeded=0, simulated=False,
    )


def test_ranks_by_agent_score_then_by_evidence() -> None:
    verdict = build_verdict([
        report("weak", (10, 60)),
        report("strong-few", (9, 10)),
        report("strong-many", (54, 60)),
        report("unscored", (0, 0)),
    ])
    # equal 90% scores: the one with more attempts (a higher lower bound) ranks first
    assert [r.name for r in verdict.rows] == ["strong-many", "strong-few", "weak", "unscored"]


def test_a_clear_winner_is_named() -> None:
    verdict = build_verdict([report("good", (58, 60)), report("bad", (12, 60))])
    assert verdict.recommendation.startswith("Use good:")
    assert "clearly ahead of bad" in verdict.recommendation
    assert verdict.tied == ()


def test_overlapping_intervals_admit_a_tie() -> None:
    verdict = build_verdict([report("a", (8, 10)), report("b", (7, 10)), report("zero", (0, 10))])
    assert verdict.recommendation.startswith("Too close to call")
    assert verdict.tied == ("a", "b")
    assert "zero" not in verdict.recommendation


def test_main_failure_share_and_gap() -> None:
    failures = {Outcome.LOOP: 12, Outcome.NO_TOOL_CALL: 3, Outcome.TURN_BUDGET: 5}
    row = build_verdict([report("m", (10, 30), (9, 10), failures)]).rows[0]
    assert row.main_failure is Outcome.LOOP
    assert row.main_failure_share == 12 / 40  # of every scored attempt of the model
    assert row.gap is not None and abs(row.gap - (0.9 - 10 / 30)) < 1e-9
    assert row.failed == 30 - 10 + 10 - 9


def test_nothing_scored_says_what_to_do() -> None:
    verdict = build_verdict([report("m", (0, 0), (3, 5))])
    assert "No agent task" in verdict.recommendation


def test_a_weak_field_is_called_weak() -> None:
    verdict = build_verdict([report("a", (20, 60)), report("b", (2, 60))])
    assert "fails most agent tasks" in verdict.recommendation
