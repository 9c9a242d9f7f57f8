"""Catalogue-level estimates on synthetic cells where the answer is known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
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
            "is_rc": is_rc,
        }
    )


def _calibration(twins: pd.DataFrame, catalogue: pd.DataFrame, share: float) -> est.Calibration:
    parent = est.ParentHistogram.empty()
    parent.add(*(catalogue[c].to_numpy() for c in ("phot_g_mean_mag", "a_w1", "b", "dist")))
    pi = np.full(est.N_MIX_CELLS, share)
    return est.Calibration(twins, parent, pi, np.tile(pi, (est.N_DRAWS, 1)), {"g": 17.0, "a_w1": 0.2, "dist": 8.0})


def test_estimate_recovers_a_known_contamination_and_completeness() -> None:
    rng = np.random.default_rng(1)
    # Twins: a bright truth set's mix (half RC); the catalogue cell: 20 % RC, faint-star rates.
    twins = _population(20_000, 0.5, tpr=0.4, fpr=0.1, rng=rng)
    catalogue = _population(200_000, 0.2, tpr=0.4, fpr=0.1, rng=rng)
    selected = Cut(dp_min=225).mask(catalogue)
    truth_contamination = 1 - catalogue["is_rc"][selected].mean()
    truth_completeness = selected[catalogue["is_rc"]].mean()
    calibration = _calibration(twins, catalogue, 0.2)
    result = calibration.estimate(Cut(dp_min=225), est.frame_cells(catalogue)[selected])
    assert result["contamination"] == pytest.approx(truth_contamination, abs=0.02)
    assert result["completeness"] == pytest.approx(truth_completeness, abs=0.02)
    assert result["contamination_lo"] < truth_contamination < result["contamination_hi"] + 0.01
    # The twins' own mix (half RC) says ~20 %: the catalogue's mix makes it ~50 %.
    naive = 1 - twins["is_rc"][Cut(dp_min=225).mask(twins)].mean()
    assert naive < 0.25 and truth_contamination > 0.45


def test_rc_share_from_reference_cuts_matches_the_catalogue() -> None:
    rng = np.random.default_rng(2)
    twins = _population(20_000, 0.5, tpr=0.4, fpr=0.1, rng=rng)
    catalogue = _population(200_000, 0.3, tpr=0.4, fpr=0.1, rng=rng)
    cells = est.frame_cells(catalogue)
    rates = est.twin_rates(twins, Cut(dp_min=225))
    parent = np.bincount(cells, minlength=est.N_MIX_CELLS).astype(float)
    selected = np.bincount(cells[Cut(dp_min=225).mask(catalogue)], minlength=est.N_MIX_CELLS)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(parent > 0, selected / np.maximum(parent, 1), np.nan)
    share = est.rc_share(q[None], rates.tpr[None], rates.fpr[None])
    assert share[cells[0]] == pytest.approx(0.3, abs=0.03)


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
    hist = est.ParentHistogram.empty()
    hist.add(*(frame[c].to_numpy() for c in ("phot_g_mean_mag", "a_w1", "b", "dist")))
    cut = Cut(g_min=17.0, g_max=19.0, dist_min=10.0, abs_b_min=30.0)
    inside = cut.mask(frame)
    expected = np.bincount(est.frame_cells(frame)[inside], minlength=est.N_MIX_CELLS)
    np.testing.assert_array_equal(hist.parent(g_min=17.0, g_max=19.0, dist_min=10.0, abs_b_min=30.0), expected)
    assert est.domain_cut(cut.replace(dp_min=225.0)) == cut


def test_sparse_cells_borrow_from_their_g_row() -> None:
    cells = np.array([est.rate_cell([18.2], [0.0], [10.0])[0]] * 5 + [est.rate_cell([18.2], [0.3], [10.0])[0]] * 100)
    is_rc = np.ones(cells.size, bool)
    selected = np.r_[np.ones(5, bool), np.zeros(100, bool)]
    rates = est.cell_rates(selected, np.ones(cells.size, bool), is_rc, cells)
    # The 5-twin cell takes the row's 5 / 105, not its own 5 / 5.
    assert rates.tpr[cells[0]] == pytest.approx(5 / 105)
    assert rates.tpr[cells[-1]] == pytest.approx(0.0)
