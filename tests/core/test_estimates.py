"""Catalogue-level estimates on synthetic cells where the answer is known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from redclump.core import cells
from redclump.core import estimates as est
from redclump.core.selection import Cut


def _population(n: int, share_rc: float, tpr: float, fpr: float, rng: np.random.Generator) -> pd.DataFrame:
    """Stars in one cell (G 18.2, A_G 0.8, RC distance 10 kpc, b 40°) whose predicted ΔP
    passes 225 s with probability ``tpr`` for RC stars and ``fpr`` for the others."""
    is_rc = rng.random(n) < share_rc
    passes = np.where(is_rc, rng.random(n) < tpr, rng.random(n) < fpr)
    return pd.DataFrame(
        {
            "phot_g_mean_mag": np.full(n, 18.2),
            "a_w1": np.full(n, 0.05),
            "b": np.full(n, 40.0),
            "dist": np.full(n, 10.0),
            "dp_phot": np.where(passes, 260.0, 180.0),
            "dp_phot_err": np.full(n, 10.0),
            "dnu_phot": np.full(n, 4.0),
            "teff_phot": np.full(n, 4800.0),
            "logg_phot": np.full(n, 2.4),
            "p_rc": np.where(passes, 0.9, 0.1),
            "giant": np.ones(n, bool),
            "twin_class": np.where(is_rc, 0, 1),
        }
    )


def _shares_from_features(twins: pd.DataFrame, catalogue: pd.DataFrame) -> np.ndarray:
    """The class mix by EM over ΔP bins, as the build does."""
    twin_cells = cells.rate_cell(*(twins[c] for c in ("phot_g_mean_mag", "a_w1", "dist")))
    like = est.class_likelihoods(twins["twin_class"].to_numpy(), twin_cells, cells.feature_bin(twins), 2)
    counts = np.zeros((cells.N_MIX_CELLS, cells.N_FEATURE_BINS))
    np.add.at(counts, (cells.frame_cells(catalogue), cells.feature_bin(catalogue)), 1)
    return est.class_shares(counts, like)


def _calibration(twins: pd.DataFrame, catalogue: pd.DataFrame) -> est.Calibration:
    parent = cells.ParentHistogram.empty()
    parent.add(*(catalogue[c].to_numpy() for c in ("phot_g_mean_mag", "a_w1", "b", "dist")))
    shares = _shares_from_features(twins, catalogue)
    return est.Calibration(twins, parent, shares, shares[None], {"g": 17.0, "a_w1": 0.2, "dist": 8.0}, ("RC", "RGB"))


def test_estimate_recovers_a_known_contamination_and_completeness() -> None:
    rng = np.random.default_rng(1)
    # Twins: a bright truth set's mix (half RC); the catalogue cell: 20 % RC, faint-star rates.
    twins = _population(20_000, 0.5, tpr=0.4, fpr=0.1, rng=rng)
    catalogue = _population(200_000, 0.2, tpr=0.4, fpr=0.1, rng=rng)
    selected = Cut(dp_min=225).mask(catalogue)
    truth_contamination = 1 - (catalogue["twin_class"][selected] == 0).mean()
    truth_completeness = selected[catalogue["twin_class"] == 0].mean()
    calibration = _calibration(twins, catalogue)
    result = calibration.estimate(Cut(dp_min=225), cells.frame_cells(catalogue)[selected])
    assert result["contamination"] == pytest.approx(truth_contamination, abs=0.02)
    assert result["completeness"] == pytest.approx(truth_completeness, abs=0.02)
    # The interval here carries the rates' noise only (one class mix, no bootstrap).
    assert result["contamination_lo"] - 0.01 < truth_contamination < result["contamination_hi"] + 0.01
    # The twins' own mix (half RC) says ~20 %: the catalogue's mix makes it ~50 %.
    naive = 1 - (twins["twin_class"][Cut(dp_min=225).mask(twins)] == 0).mean()
    assert naive < 0.25 and truth_contamination > 0.45


def test_class_mix_by_em_matches_the_catalogue() -> None:
    rng = np.random.default_rng(2)
    twins = _population(20_000, 0.5, tpr=0.4, fpr=0.1, rng=rng)
    catalogue = _population(200_000, 0.3, tpr=0.4, fpr=0.1, rng=rng)
    shares = _shares_from_features(twins, catalogue)
    cell = cells.frame_cells(catalogue)[0]
    assert shares[cell, 0] == pytest.approx(0.3, abs=0.02)
    assert shares[cell].sum() == pytest.approx(1.0)


def test_position_terms_restrict_parent_and_twins() -> None:
    rng = np.random.default_rng(3)
    n = 50_000
    frame = pd.DataFrame(
        {
            "phot_g_mean_mag": rng.uniform(12, 21, n),
            "a_w1": rng.uniform(0, 0.5, n),
            "b": rng.uniform(-90, 90, n),
            "dist": rng.uniform(0, 60, n),
        }
    )
    hist = cells.ParentHistogram.empty()
    hist.add(*(frame[c].to_numpy() for c in ("phot_g_mean_mag", "a_w1", "b", "dist")))
    cut = Cut(g_min=17.0, g_max=19.0, dist_min=10.0, abs_b_min=30.0)
    inside = cut.mask(frame)
    expected = np.bincount(cells.frame_cells(frame)[inside], minlength=cells.N_MIX_CELLS)
    np.testing.assert_array_equal(hist.parent(g_min=17.0, g_max=19.0, dist_min=10.0, abs_b_min=30.0), expected)
    assert est.domain_cut(cut.replace(dp_min=225.0)) == cut


def test_sparse_cells_borrow_from_their_g_row() -> None:
    sparse_cell = cells.rate_cell([18.2], [0.0], [10.0])[0]
    full_cell = cells.rate_cell([18.2], [0.3], [10.0])[0]
    twin_cells = np.array([sparse_cell] * 5 + [full_cell] * 100)
    selected = np.r_[np.ones(5, bool), np.zeros(100, bool)]
    rates = est.class_rates(selected, np.ones(105, bool), np.zeros(105, int), twin_cells, 1)
    # The 5-twin cell takes its G and distance's 5 / 105, not its own 5 / 5.
    assert rates.rates[0, sparse_cell] == pytest.approx(5 / 105)
    assert rates.rates[0, full_cell] == pytest.approx(0.0)
