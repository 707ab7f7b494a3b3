"""Ceiling labels from how pass rates move with the turn and the token budget."""

from __future__ import annotations

import pytest

from app.core.metrics import Rate
from app.core.plan import AttemptSettings
from app.core.tuning.ceilings import Ceiling, TaskCell, ceiling_sweep, diagnose, diagnose_cells


def _points(*passes: int, n: int = 3) -> list[tuple[float, Rate]]:
    return [(scale, Rate(k, n)) for scale, k in zip((1.0, 2.0, 4.0), passes, strict=True)]


@pytest.mark.parametrize(
    ("turns", "tokens", "expected"),
    [
        ((0, 2, 3), (0, 0, 0), Ceiling.TURN),
        ((0, 0, 0), (0, 1, 3), Ceiling.TOKEN),
        ((0, 3, 3), (0, 3, 3), Ceiling.TURN_AND_TOKEN),
        ((1, 1, 1), (1, 0, 1), Ceiling.CAPABILITY),
        ((3, 3, 3), (3, 3, 3), Ceiling.NONE),
    ],
)
def test_labels(turns: tuple[int, ...], tokens: tuple[int, ...], expected: Ceiling) -> None:
    base = Rate(turns[0], 3)
    assert diagnose(base, _points(*turns), _points(*tokens)) is expected


def test_one_budget_never_swept_is_not_called_capability() -> None:
    assert diagnose(Rate(0, 3), _points(0, 0, 0), []) is Ceiling.UNKNOWN
    assert diagnose(Rate(0, 0), [], []) is Ceiling.UNKNOWN


def test_diagnose_cells_reads_the_scales_from_the_settings() -> None:
    cells = [
        TaskCell("m", "t", c.settings, Rate(k, 3))
        for c, k in zip(ceiling_sweep(AttemptSettings()).cells(), (0, 1, 3, 0, 0), strict=True)
    ]
    [diagnosis] = diagnose_cells(cells)
    assert [c.label for c in ceiling_sweep(AttemptSettings()).cells()] == [
        "baseline", "turns ×2", "turns ×4", "tokens ×2", "tokens ×4"
    ]
    assert diagnosis.ceiling is Ceiling.TURN
    assert diagnosis.evidence == "turns ×1 0/3, ×2 1/3, ×4 3/3; tokens ×1 0/3, ×2 0/3, ×4 0/3"


def test_context_limited_baseline_is_a_context_ceiling_with_the_context_that_holds_it() -> None:
    assert diagnose(Rate(0, 3), _points(0, 0, 0), _points(0, 0, 0), context_limited=3) is Ceiling.CONTEXT
    assert diagnose(Rate(0, 3), _points(0, 0, 0), _points(0, 0, 0), context_limited=0) is Ceiling.CAPABILITY
    spec = ceiling_sweep(AttemptSettings(), contexts=[20_480])
    cells = [
        TaskCell("m", "t", c.settings, Rate(k, 3), 3 if c.label == "baseline" else 0, 20_480)
        for c, k in zip(spec.cells(), (0, 3, 0, 0, 0, 0), strict=True)
    ]
    assert [c.settings.generation.num_ctx for c in spec.cells()] == [None, 20_480, None, None, None, None]
    [diagnosis] = diagnose_cells(cells)
    assert diagnosis.ceiling is Ceiling.CONTEXT
    assert diagnosis.advice.endswith("raise num_ctx to 20480 (passes rose)")
    assert "3/3 cut by the context" in diagnosis.evidence
