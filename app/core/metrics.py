"""Honest aggregates: pass rates with 95% Wilson intervals, pass^k, failure breakdowns."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.outcomes import Outcome

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Rate:
    """k passes out of n scored attempts, with a 95% Wilson score interval."""

    passed: int
    scored: int

    @property
    def value(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.passed, self.scored)

    def __str__(self) -> str:
        if not self.scored:
            return "—"
        low, high = self.interval
        return f"{self.passed}/{self.scored} ({100 * self.passed / self.scored:.0f}%, 95% CI {100 * low:.0f}–{100 * high:.0f}%)"


def wilson_interval(passed: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= passed <= n:
        raise ValueError(f"passed={passed} must lie in 0..{n}")
    p = passed / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if passed == 0 else max(0.0, centre - half)
    high = 1.0 if passed == n else min(1.0, centre + half)
    return (low, high)


def rate_of(outcomes: Iterable[Outcome]) -> Rate:
    """Pass rate over outcomes that count (infra errors and cancellations excluded)."""
    scored = [o for o in outcomes if o.counts_in_score]
    return Rate(sum(1 for o in scored if o.is_pass), len(scored))


def pass_hat_k(runs_per_task: Sequence[Sequence[bool]], k: int) -> float | None:
    """pass^k (τ-bench): the chance that k runs drawn from a task's n all pass, averaged
    over tasks with at least k scored runs. Unbiased estimator C(c, k) / C(n, k)."""
    values = [
        math.comb(sum(runs), k) / math.comb(len(runs), k)
        for runs in runs_per_task
        if len(runs) >= k
    ]
    return sum(values) / len(values) if values else None


def failure_breakdown(outcomes: Iterable[Outcome]) -> Counter[Outcome]:
    """How many attempts ended in each failure mode (passes and infra errors left out)."""
    return Counter(o for o in outcomes if o.counts_in_score and not o.is_pass)
