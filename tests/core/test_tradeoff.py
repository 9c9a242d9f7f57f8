"""Network sets along the completeness–contamination trade-off (core/tradeoff.py)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from redclump.core import tradeoff


def _stars(n: int = 4000, seed: int = 1) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Test stars where one set's ΔP separates RC well and the other's barely."""
    rng = np.random.default_rng(seed)
    is_rc = rng.random(n) < 0.3
    true_dp = np.where(is_rc, 300.0, 80.0)
    dnu = np.where(is_rc, 4.0, rng.uniform(3.0, 8.0, n))
    sharp = {"dp_phot": true_dp + rng.normal(0, 40, n), "dnu_phot": dnu}
    blurred = {"dp_phot": true_dp + rng.normal(0, 200, n), "dnu_phot": dnu}
    return is_rc, sharp, blurred


def test_doctests() -> None:
    assert doctest.testmod(tradeoff, raise_on_error=False).failed == 0


def test_each_level_is_reached_and_the_sharper_set_is_less_contaminated() -> None:
    is_rc, sharp, blurred = _stars()
    rows = tradeoff.compare_along_tradeoff({"blurred": blurred, "sharp": sharp}, is_rc, n_boot=60, seed=3)
    assert [(r["level"], r["set"]) for r in rows] == [
        (level, name) for level in tradeoff.COMPLETENESS_LEVELS for name in ("blurred", "sharp")
    ]
    for row in rows:
        # The smallest reachable completeness at or above the level, never below it.
        assert row["level"] <= row["completeness"] < row["level"] + 0.01
        assert row["contamination_lo"] <= row["contamination"] <= row["contamination_hi"]
    for row in rows[1::2]:
        assert row["difference"] < 0 and row["difference_hi95"] < 0
        assert tradeoff.verdict(row) == "lower"
    # Solved on the sets' own predictions: the thresholds differ.
    assert rows[0]["threshold"] != rows[1]["threshold"]


def test_a_set_against_itself_is_equal_with_a_zero_difference() -> None:
    is_rc, sharp, _ = _stars()
    rows = tradeoff.compare_along_tradeoff({"a": sharp, "b": dict(sharp)}, is_rc, levels=[0.5], n_boot=30)
    assert rows[1]["difference"] == 0 and rows[1]["difference_lo95"] == rows[1]["difference_hi95"] == 0
    assert tradeoff.verdict(rows[1]) == "equal"


def test_an_unreachable_level_is_nan_with_a_note() -> None:
    is_rc, sharp, _ = _stars()
    # Half the RC stars sit beyond the Δν limit: completeness 0.8 cannot be reached.
    sharp = {**sharp, "dnu_phot": np.where(np.arange(is_rc.size) % 2 == 0, 9.0, sharp["dnu_phot"])}
    rows = tradeoff.compare_along_tradeoff({"a": sharp}, is_rc, levels=[0.2, 0.8], n_boot=10)
    assert np.isfinite(rows[0]["contamination"]) and "note" not in rows[0]
    assert np.isnan(rows[1]["contamination"]) and "keeps less than completeness 0.8" in rows[1]["note"]
    assert tradeoff.verdict(rows[1]) == "n/a"


def test_the_bootstrap_is_seeded() -> None:
    is_rc, sharp, blurred = _stars(1000)
    first = tradeoff.compare_along_tradeoff({"a": sharp, "b": blurred}, is_rc, levels=[0.4], n_boot=20, seed=5)
    again = tradeoff.compare_along_tradeoff({"a": sharp, "b": blurred}, is_rc, levels=[0.4], n_boot=20, seed=5)
    other = tradeoff.compare_along_tradeoff({"a": sharp, "b": blurred}, is_rc, levels=[0.4], n_boot=20, seed=6)
    assert first == again and first != other


def test_bad_input_is_named() -> None:
    is_rc, sharp, _ = _stars(100)
    with pytest.raises(ValueError, match="no network sets"):
        tradeoff.compare_along_tradeoff({}, is_rc)
    with pytest.raises(ValueError, match="reference set 'x'"):
        tradeoff.compare_along_tradeoff({"a": sharp}, is_rc, reference="x")
    with pytest.raises(ValueError, match="one value per test star"):
        tradeoff.compare_along_tradeoff({"a": {k: v[:50] for k, v in sharp.items()}}, is_rc)


def test_the_intervals_cover_the_value_and_shrink_with_stars() -> None:
    widths = []
    for n in (2000, 20000):
        is_rc, _, blurred = _stars(n, seed=3)
        rng = np.random.default_rng(4)
        medium = {**blurred, "dp_phot": np.where(is_rc, 300.0, 80.0) + rng.normal(0, 120, n)}
        rows = tradeoff.compare_along_tradeoff({"a": medium, "b": blurred}, is_rc, levels=[0.6], n_boot=100)
        for row in rows:
            assert row["contamination_lo"] < row["contamination"] < row["contamination_hi"]
        assert rows[1]["difference_lo"] < rows[1]["difference"] < rows[1]["difference_hi"]
        widths.append(rows[1]["difference_hi"] - rows[1]["difference_lo"])
    assert widths[1] < 0.5 * widths[0]  # ~1/sqrt(10) expected
