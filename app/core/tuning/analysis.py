"""Read a sweep back: each factor's values against the baseline, winners only where the
95% intervals do not overlap, and the combination cell those winners make."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from app.core.metrics import Rate
from app.core.plan import AttemptSettings
from app.core.tuning.factors import Factor, FactorValue, differing_factors
from app.core.tuning.sweep import BASELINE_LABEL, all_winners


@dataclass(frozen=True, slots=True)
class CellResult:
    """One settings cell of one model, pass counts summed over the tasks it ran."""

    model: str
    settings: AttemptSettings
    rate: Rate


class Verdict(StrEnum):
    BETTER = "better"  # the whole interval lies above the baseline's
    WORSE = "worse"  # the whole interval lies below the baseline's
    UNCLEAR = "unclear"  # the intervals overlap: no claim either way
    BASELINE = "baseline"


def compare(rate: Rate, baseline: Rate) -> Verdict:
    """Better or worse only when the 95% Wilson intervals do not overlap."""
    if not rate.scored or not baseline.scored:
        return Verdict.UNCLEAR
    low, high = rate.interval
    base_low, base_high = baseline.interval
    if low > base_high:
        return Verdict.BETTER
    if high < base_low:
        return Verdict.WORSE
    return Verdict.UNCLEAR


@dataclass(frozen=True, slots=True)
class FactorPoint:
    value: FactorValue
    label: str
    rate: Rate
    verdict: Verdict
    settings_key: str


@dataclass(frozen=True, slots=True)
class FactorResult:
    """A factor's values in order, the baseline's among them."""

    factor: Factor
    points: tuple[FactorPoint, ...]

    @property
    def winner(self) -> FactorPoint | None:
        better = [p for p in self.points if p.verdict is Verdict.BETTER]
        return max(better, key=lambda p: p.rate.value or 0.0) if better else None


@dataclass(frozen=True, slots=True)
class SweepAnalysis:
    model: str
    baseline: CellResult
    factors: tuple[FactorResult, ...]
    combinations: tuple[tuple[CellResult, Verdict], ...] = field(default=())

    @property
    def winners(self) -> dict[Factor, FactorValue]:
        return {f.factor: f.winner.value for f in self.factors if f.winner is not None}

    def all_winners_settings(self) -> AttemptSettings | None:
        """The combination to queue next; None with fewer than two winners (one winner is
        its own factor cell) or when it has run already."""
        if len(self.winners) < 2:
            return None
        combined = all_winners(self.baseline.settings, self.winners)
        ran = {c.settings.key() for c, _ in self.combinations}
        return None if combined.key() in ran else combined


def analyse_sweep(cells: Sequence[CellResult]) -> list[SweepAnalysis]:
    """One analysis per model and baseline cell; each other cell joins the baseline it
    departs from least (a factor cell from one, a combination from several)."""
    by_model: dict[str, list[CellResult]] = {}
    for cell in cells:
        by_model.setdefault(cell.model, []).append(cell)
    analyses = []
    for model, model_cells in by_model.items():
        baselines = _baselines(model_cells)
        members: dict[str, list[CellResult]] = {b.settings.key(): [] for b in baselines}
        for cell in model_cells:
            if baselines and cell.settings.label != BASELINE_LABEL:
                nearest = min(baselines, key=lambda b: len(differing_factors(b.settings, cell.settings)))
                members[nearest.settings.key()].append(cell)
        analyses += [_analyse(model, b, members[b.settings.key()]) for b in baselines]
    return analyses


def _baselines(cells: Sequence[CellResult]) -> list[CellResult]:
    """Baseline cells with distinct settings, summed where runs repeated the same one."""
    found: dict[str, CellResult] = {}
    for cell in cells:
        if cell.settings.label == BASELINE_LABEL:
            key = cell.settings.key()
            old = found.get(key)
            rate = cell.rate if old is None else Rate(old.rate.passed + cell.rate.passed, old.rate.scored + cell.rate.scored)
            found[key] = CellResult(cell.model, cell.settings, rate)
    return list(found.values())


def _analyse(model: str, baseline: CellResult, cells: Sequence[CellResult]) -> SweepAnalysis:
    base_key = baseline.settings.key()
    points: dict[Factor, list[FactorPoint]] = {}
    combinations: list[tuple[CellResult, Verdict]] = []
    for cell in cells:
        if cell.settings.key() == base_key:
            continue
        differs = differing_factors(baseline.settings, cell.settings)
        verdict = compare(cell.rate, baseline.rate)
        if len(differs) == 1:
            factor = differs[0]
            value = factor.read(cell.settings)
            points.setdefault(factor, []).append(
                FactorPoint(value, factor.render(value), cell.rate, verdict, cell.settings.key())
            )
        elif len(differs) > 1:
            combinations.append((cell, verdict))
    results = []
    for factor in Factor:
        if factor not in points:
            continue
        base_value = factor.read(baseline.settings)
        base_point = FactorPoint(base_value, factor.render(base_value), baseline.rate, Verdict.BASELINE, base_key)
        ordered = sorted([base_point, *points[factor]], key=lambda p: _order(p.value))
        results.append(FactorResult(factor, tuple(ordered)))
    return SweepAnalysis(model, baseline, tuple(results), tuple(combinations))


def _order(value: FactorValue) -> tuple[int, float, str]:
    """Numbers ascending, then everything else by its text; None (server default) first."""
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, bool):
        return (1, float(value), "")
    if isinstance(value, (int, float)):
        return (1, float(value), "")
    return (2, 0.0, str(value))
