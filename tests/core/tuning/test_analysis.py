"""Winners only where the 95% intervals do not overlap the baseline's."""

from __future__ import annotations

from dataclasses import replace

from app.core.chat import GenerationSettings
from app.core.metrics import Rate
from app.core.plan import AttemptSettings
from app.core.tuning.analysis import CellResult, Verdict, analyse_sweep, compare
from app.core.tuning.factors import Factor
from app.core.tuning.sweep import ALL_WINNERS_LABEL, SweepSpec

BASE = AttemptSettings(generation=GenerationSettings(temperature=0.8))


def _cells(rates: dict[str, Rate]) -> list[CellResult]:
    spec = SweepSpec(BASE, {Factor.TEMPERATURE: [0.0, 0.4], Factor.THINKING: [False]}, repeats=3)
    return [CellResult("m", c.settings, rates[c.label]) for c in spec.cells()]


def test_compare_needs_separate_intervals() -> None:
    assert compare(Rate(10, 10), Rate(0, 10)) is Verdict.BETTER
    assert compare(Rate(0, 10), Rate(10, 10)) is Verdict.WORSE
    # 3/3 against 0/3 looks decisive, but the intervals (44–100% and 0–56%) overlap
    assert compare(Rate(3, 3), Rate(0, 3)) is Verdict.UNCLEAR
    assert compare(Rate(5, 5), Rate(0, 5)) is Verdict.BETTER
    assert compare(Rate(0, 0), Rate(0, 5)) is Verdict.UNCLEAR


def test_per_factor_winner_and_the_all_winners_cell() -> None:
    analysis = analyse_sweep(
        _cells({
            "baseline": Rate(2, 10),
            "temperature 0": Rate(10, 10),  # clearly better
            "temperature 0.4": Rate(9, 10),  # better too, but not the best
            "thinking off": Rate(4, 10),  # overlaps the baseline: no claim
        })
    )[0]
    temperature, thinking = analysis.factors
    assert temperature.factor is Factor.TEMPERATURE
    assert [p.label for p in temperature.points] == ["0", "0.4", "0.8"]  # the baseline among them
    assert [p.verdict for p in temperature.points] == [Verdict.BETTER, Verdict.BETTER, Verdict.BASELINE]
    assert temperature.winner is not None and temperature.winner.value == 0.0
    assert thinking.winner is None
    assert analysis.winners == {Factor.TEMPERATURE: 0.0}
    # one winner alone already ran as its own cell: nothing new to combine
    assert analysis.all_winners_settings() is None


def test_two_winners_make_a_combination_to_queue_and_then_it_shows() -> None:
    rates = {"baseline": Rate(1, 10), "temperature 0": Rate(9, 10), "temperature 0.4": Rate(3, 10), "thinking off": Rate(10, 10)}
    analysis = analyse_sweep(_cells(rates))[0]
    combined = analysis.all_winners_settings()
    assert combined is not None and combined.label == ALL_WINNERS_LABEL
    assert combined.generation.temperature == 0.0 and combined.generation.think is False
    # once the combination ran, it is listed (with its verdict) and not offered again
    again = analyse_sweep([*_cells(rates), CellResult("m", combined, Rate(10, 10))])[0]
    assert [(c.settings.label, v) for c, v in again.combinations] == [(ALL_WINNERS_LABEL, Verdict.BETTER)]
    assert again.all_winners_settings() is None


def test_models_without_a_baseline_are_not_sweeps() -> None:
    plain = CellResult("other", replace(BASE, label=""), Rate(1, 3))
    assert [a.model for a in analyse_sweep([plain, *_cells({k: Rate(1, 3) for k in ("baseline", "temperature 0", "temperature 0.4", "thinking off")})])] == ["m"]


def test_each_cell_joins_the_baseline_it_departs_from_least() -> None:
    from app.core.tuning.ceilings import ceiling_sweep

    other = AttemptSettings(tool_mode=BASE.tool_mode, max_turns=5)  # a second baseline: a ceiling run's
    ceiling = [CellResult("m", c.settings, Rate(0, 9)) for c in ceiling_sweep(other).cells()]
    sweep = _cells({"baseline": Rate(1, 10), "temperature 0": Rate(9, 10), "temperature 0.4": Rate(3, 10), "thinking off": Rate(1, 10)})
    analyses = analyse_sweep(sweep + ceiling)
    assert len(analyses) == 2
    by_baseline = {a.baseline.settings.key(): a for a in analyses}
    ofat = by_baseline[replace(BASE, label="baseline").key()]
    assert [f.factor for f in ofat.factors] == [Factor.TEMPERATURE, Factor.THINKING] and not ofat.combinations
    budgets = by_baseline[other.key()]
    assert [f.factor for f in budgets.factors] == [Factor.TURN_BUDGET, Factor.TOKEN_BUDGET]
