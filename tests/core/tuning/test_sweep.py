"""The sweep builder: cells, N ≥ 3 refused with a reason, values parsed as users type them."""

from __future__ import annotations

import pytest

from app.core.chat import GenerationSettings
from app.core.outcomes import ToolMode
from app.core.plan import AttemptSettings
from app.core.tuning.factors import COMPLETENESS_DIRECTIVE, Factor
from app.core.tuning.sweep import (
    ALL_WINNERS_LABEL,
    BASELINE_LABEL,
    SweepError,
    SweepSpec,
    all_winners,
    parse_factor_option,
)

BASE = AttemptSettings(generation=GenerationSettings(temperature=0.8))


def test_cells_are_the_baseline_then_each_factor_alone() -> None:
    spec = SweepSpec(
        BASE,
        {
            Factor.THINKING: [True, False],
            Factor.TEMPERATURE: [0.0, 0.8, 0.4],  # 0.8 is the baseline's: not a new cell
            Factor.TOOL_MODE: ["native"],
        },
        repeats=3,
    )
    cells = spec.cells()
    assert [c.label for c in cells] == [
        BASELINE_LABEL,
        "temperature 0",
        "temperature 0.4",
        "thinking on",
        "thinking off",
        "tool calls native",
    ]
    assert len({c.settings.key() for c in cells}) == len(cells)
    for cell in cells[1:]:
        assert cell.factor is not None
        changed = [f for f in Factor if f.read(cell.settings) != f.read(BASE)]
        assert changed == [cell.factor], f"{cell.label} must differ from the baseline in one factor only"


@pytest.mark.parametrize("repeats", [0, 1, 2])
def test_fewer_than_three_runs_per_cell_is_refused_with_the_reason(repeats: int) -> None:
    with pytest.raises(SweepError, match="at least 3 runs per cell") as error:
        SweepSpec(BASE, {Factor.TEMPERATURE: [0.2]}, repeats=repeats).cells()
    assert "intervals" in str(error.value)


def test_a_sweep_without_a_new_value_is_refused() -> None:
    with pytest.raises(SweepError, match="nothing to compare"):
        SweepSpec(BASE, {Factor.TEMPERATURE: [0.8]}, repeats=3).cells()


def test_budget_factors_scale_the_budgets_and_keep_old_keys() -> None:
    doubled = Factor.TURN_BUDGET.apply(AttemptSettings(), 2.0)
    assert doubled.turn_scale == 2.0 and doubled.token_scale == 1.0
    assert doubled.key() != AttemptSettings().key()
    # an unscaled key is the same hash a store made before scales existed
    import hashlib
    import json
    from dataclasses import asdict

    legacy = asdict(AttemptSettings())
    for name in ("label", "turn_scale", "token_scale"):
        legacy.pop(name)
    assert AttemptSettings().key() == hashlib.sha256(json.dumps(legacy, sort_keys=True, default=str).encode()).hexdigest()[:12]


def test_parse_factor_option() -> None:
    assert parse_factor_option("temperature=0, 0.4,0.8") == (Factor.TEMPERATURE, [0.0, 0.4, 0.8])
    assert parse_factor_option("think=on,off,default") == (Factor.THINKING, [True, False, None])
    assert parse_factor_option("num_ctx=8192,16k") == (Factor.CONTEXT, [8192, 16384])
    assert parse_factor_option("tool_mode=native,prompted") == (Factor.TOOL_MODE, ["native", "prompted"])
    assert parse_factor_option("turns=×2,x4,1") == (Factor.TURN_BUDGET, [2.0, 4.0, 1.0])
    assert parse_factor_option("directive=completeness,none") == (Factor.DIRECTIVE, [COMPLETENESS_DIRECTIVE, None])
    with pytest.raises(SweepError, match="unknown factor 'colour'"):
        parse_factor_option("colour=red")
    with pytest.raises(SweepError, match="temperature: '9' is not a valid value"):
        parse_factor_option("temperature=9")
    with pytest.raises(SweepError, match="FACTOR=VALUE"):
        parse_factor_option("temperature")


def test_all_winners_applies_every_winner_at_once() -> None:
    combined = all_winners(BASE, {Factor.TEMPERATURE: 0.2, Factor.TOOL_MODE: "prompted", Factor.DIRECTIVE: COMPLETENESS_DIRECTIVE})
    assert combined.label == ALL_WINNERS_LABEL
    assert combined.generation.temperature == 0.2
    assert combined.tool_mode is ToolMode.PROMPTED
    assert combined.directive == COMPLETENESS_DIRECTIVE
    assert combined.generation.think is None  # untouched factors stay at the baseline
