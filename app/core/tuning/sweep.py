"""One-factor-at-a-time sweeps: a baseline, and each factor varied alone, N ≥ 3 per cell."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from app.core.plan import AttemptSettings
from app.core.tuning.factors import Factor, FactorValue

MIN_REPEATS = 3
BASELINE_LABEL = "baseline"
ALL_WINNERS_LABEL = "all winners"
WHY_MIN_REPEATS = (
    f"a sweep needs at least {MIN_REPEATS} runs per cell: with fewer, one lucky or unlucky "
    "attempt decides the comparison, and the 95% intervals are too wide to separate any two cells"
)


class SweepError(ValueError):
    """A sweep that cannot be run as asked; the message says what to change."""


@dataclass(frozen=True, slots=True)
class SweepCell:
    """One column of a sweep: the settings it runs with, and which factor it varies."""

    settings: AttemptSettings
    factor: Factor | None  # None for the baseline and for combinations
    value: FactorValue = None

    @property
    def label(self) -> str:
        return self.settings.label


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A baseline and the values to try for each factor, each on its own."""

    baseline: AttemptSettings
    factors: Mapping[Factor, Sequence[FactorValue]] = field(default_factory=dict)
    repeats: int = MIN_REPEATS

    def validate(self) -> None:
        if self.repeats < MIN_REPEATS:
            raise SweepError(f"{self.repeats} run(s) per cell is too few: {WHY_MIN_REPEATS}")
        if not any(self._new_values(f) for f in self.factors):
            raise SweepError(
                "nothing to compare: pick at least one factor with a value that differs from the baseline"
            )

    def cells(self) -> list[SweepCell]:
        """The baseline first, then one cell per (factor, value) that differs from it."""
        self.validate()
        baseline = replace(self.baseline, label=BASELINE_LABEL)
        cells = [SweepCell(baseline, None)]
        seen = {baseline.key()}
        for factor in Factor:  # a fixed order, whatever order the user picked them in
            for value in self._new_values(factor):
                settings = replace(factor.apply(baseline, value), label=factor.cell_label(value))
                if settings.key() not in seen:
                    seen.add(settings.key())
                    cells.append(SweepCell(settings, factor, value))
        return cells

    def _new_values(self, factor: Factor) -> list[FactorValue]:
        values = self.factors.get(factor, ())
        current = factor.read(self.baseline)
        return [v for v in dict.fromkeys(values) if v != current]


def all_winners(baseline: AttemptSettings, winners: Mapping[Factor, FactorValue]) -> AttemptSettings:
    """The baseline with every winning value applied at once: the combination cell."""
    settings = replace(baseline, label=ALL_WINNERS_LABEL)
    for factor, value in winners.items():
        settings = factor.apply(settings, value)
    return replace(settings, label=ALL_WINNERS_LABEL)


def parse_factor_option(text: str) -> tuple[Factor, list[FactorValue]]:
    """``temperature=0,0.4,0.8`` → (Factor.TEMPERATURE, [0.0, 0.4, 0.8])."""
    name, sep, values = text.partition("=")
    if not sep or not values.strip():
        raise SweepError(f"{text!r}: write FACTOR=VALUE,VALUE,… (factors: {', '.join(f.value for f in Factor)})")
    try:
        factor = Factor(name.strip().lower())
    except ValueError:
        raise SweepError(f"unknown factor {name!r}; choose from {', '.join(f.value for f in Factor)}") from None
    try:
        return factor, [factor.parse(v) for v in values.split(",") if v.strip()]
    except ValueError as error:
        raise SweepError(str(error)) from None
