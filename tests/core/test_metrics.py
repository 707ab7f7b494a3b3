import math

import pytest

from app.core.metrics import failure_breakdown, pass_hat_k, rate_of, wilson_interval
from app.core.outcomes import Outcome


def test_wilson_known_values() -> None:
    # 8/10 at 95%: 0.4902 .. 0.9433 (Wilson score interval, worked by hand)
    low, high = wilson_interval(8, 10)
    assert math.isclose(low, 0.4902, abs_tol=1e-4)
    assert math.isclose(high, 0.9433, abs_tol=1e-4)
    # 0/3: 0 .. 0.5615
    low, high = wilson_interval(0, 3)
    assert low == 0.0 and math.isclose(high, 0.5615, abs_tol=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(4, 3)


def test_rate_excludes_infra_and_cancelled() -> None:
    rate = rate_of(
        [Outcome.PASSED, Outcome.INFRA_ERROR, Outcome.LOOP, Outcome.CANCELLED, Outcome.PASSED]
    )
    assert (rate.passed, rate.scored) == (2, 3)
    assert "2/3" in str(rate)


def test_pass_hat_k() -> None:
    # task A passes 3/3, task B 1/3: pass^2 = (1 + C(1,2)/C(3,2)) / 2 = 0.5
    assert pass_hat_k([[True] * 3, [True, False, False]], 2) == 0.5
    assert pass_hat_k([[True]], 2) is None


def test_failure_breakdown_leaves_out_passes_and_infra() -> None:
    counts = failure_breakdown(
        [Outcome.PASSED, Outcome.LOOP, Outcome.LOOP, Outcome.INFRA_ERROR, Outcome.NO_TOOL_CALL]
    )
    assert counts == {Outcome.LOOP: 2, Outcome.NO_TOOL_CALL: 1}
