"""Matching a cut to a completeness, and comparing two network sets at equal completeness."""

from __future__ import annotations

import numpy as np
import pytest
from redclump.core import metrics
from redclump.core.selection import TIER2


def _columns(dp: list[float], dnu: float = 4.0) -> dict[str, np.ndarray]:
    return {"dp_phot": np.asarray(dp, dtype=np.float64), "dnu_phot": np.full(len(dp), dnu)}


def test_completeness_solver_is_hand_checkable() -> None:
    # RC at 300, 280, 260, 240; non-RC at 270 and 100. Completeness 0.5 needs the two highest
    # RC: threshold half-way between 280 and the next star, the non-RC at 270.
    columns = _columns([300, 280, 260, 240, 270, 100])
    is_rc = np.array([True, True, True, True, False, False])
    cut, stats = metrics.solve_for_completeness(TIER2, "dp_min", columns, is_rc, 0.5)
    assert cut is not None and cut.dp_min == 275.0 and cut.dnu_max == 5.5
    assert (stats["tp"], stats["fp"], stats["completeness"]) == (2, 0, 0.5)
    # 0.51 needs three RC, so the non-RC at 270 comes along: contamination 1/4.
    cut, stats = metrics.solve_for_completeness(TIER2, "dp_min", columns, is_rc, 0.51)
    assert cut.dp_min == 250.0 and (stats["tp"], stats["fp"]) == (3, 1)
    # The other thresholds stay: with Δν too high for every star nothing can be matched.
    cut, stats = metrics.solve_for_completeness(TIER2, "dp_min", _columns([300, 100], dnu=9.0), is_rc[:2], 0.5)
    assert cut is None and "keeps less than" in stats["note"]
    with pytest.raises(ValueError, match="cannot solve for"):
        metrics.solve_for_completeness(TIER2, "abs_b_min", columns, is_rc, 0.5)


@pytest.mark.parametrize("target", [0.0, 0.1, 0.37, 0.5])
def test_solved_completeness_is_the_smallest_reachable_above_the_target(target: float) -> None:
    rng = np.random.default_rng(1)
    is_rc = rng.random(2000) < 0.3
    dp = np.where(is_rc, rng.normal(280, 40, 2000), rng.normal(120, 60, 2000))
    columns = {"dp_phot": dp, "dnu_phot": rng.uniform(3, 7, 2000)}
    cut, stats = metrics.solve_for_completeness(TIER2, "dp_min", columns, is_rc, target)
    n_rc = int(is_rc.sum())
    assert stats["completeness"] >= target
    assert stats["tp"] - 1 < target * n_rc or stats["tp"] == 0  # one RC fewer would miss the target
    # Nothing non-RC sits between the threshold and the weakest RC kept.
    kept = cut.mask(columns)
    if target > 0:
        # Strictest: no star the Δν cut keeps sits between the threshold and the weakest RC kept.
        weakest = dp[kept & is_rc].min()
        between = (columns["dnu_phot"] < 5.5) & (dp > cut.dp_min) & (dp < weakest)
        assert not between.any()
        assert weakest > cut.dp_min
    # About 60 % of the RC have Δν < 5.5: more completeness than that cannot be matched.
    assert metrics.solve_for_completeness(TIER2, "dp_min", columns, is_rc, 0.9)[0] is None
