"""The completeness budget counts each explanation on hand-made stars."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from redclump.core import diagnostics


def _stars() -> pd.DataFrame:
    # Star 0 kept; 1 lost by its ΔP label and prediction; 2 by Δν; 3 by a mean that falls into the
    # gap between two well-separated components (the peak estimator keeps it).
    return pd.DataFrame(
        {
            "dp_phot": [300.0, 100.0, 300.0, 190.0],
            "dnu_phot": [4.0, 4.0, 6.0, 4.0],
            "deltap": [300.0, 100.0, 300.0, 300.0],
            "deltanu": [4.0, 4.0, 6.0, 4.0],
            "true_dp": [300.0, 210.0, 300.0, 300.0],
            "true_dnu": [4.0, 4.0, 5.8, 4.0],
            "dp_mix_w0": [0.0, 1.0, 0.0, 0.45],
            "dp_mix_mu0": [80.0, 100.0, 80.0, 60.0],
            "dp_mix_sigma0": [5.0, 5.0, 5.0, 40.0],
            "dp_mix_w1": [1.0, 0.0, 1.0, 0.55],
            "dp_mix_mu1": [300.0, 300.0, 300.0, 296.0],
            "dp_mix_sigma1": [5.0, 5.0, 5.0, 10.0],
        }
    )


def test_budget_counts_each_cause() -> None:
    budget = diagnostics.completeness_budget(_stars(), dp_min=225.0, dnu_max=5.5)
    assert budget["n"] == 4
    assert budget["missed"] == pytest.approx(0.75)
    assert budget["dp_phot_low"] == pytest.approx(0.5)
    assert budget["dnu_phot_high"] == pytest.approx(0.25)
    assert budget["label_dp_low"] == pytest.approx(0.25)
    assert budget["label_dnu_high"] == pytest.approx(0.25)
    assert budget["dp_peak_low"] == pytest.approx(0.25)  # star 3 recovered by the peak
    assert budget["p_rc_below_half"] == pytest.approx(0.25)
    assert budget["true_dp_low"] == pytest.approx(0.25)
    assert budget["true_dnu_high"] == pytest.approx(0.25)


def test_budget_without_mixture_or_truth_columns() -> None:
    stars = _stars()[["dp_phot", "dnu_phot", "deltap", "deltanu"]]
    budget = diagnostics.completeness_budget(stars, dp_min=225.0, dnu_max=5.5)
    assert "dp_peak_low" not in budget and "true_dp_low" not in budget
    empty = diagnostics.completeness_budget(stars.iloc[:0], dp_min=225.0, dnu_max=5.5)
    assert empty["n"] == 0 and np.isnan(empty["missed"])


def test_doctests() -> None:
    assert doctest.testmod(diagnostics, raise_on_error=False).failed == 0
