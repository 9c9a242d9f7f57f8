"""Degraded twins: shifted magnitudes, survey noise at the new magnitude, scaled parallax."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from redclump.core.twins import degrade, draw_twins
from redclump.data import surveys
from redclump.data.schema import BAND_ERRORS, BANDS


def _stars(n: int) -> pd.DataFrame:
    frame = {band: np.full(n, 13.0 if band in ("j_m", "h_m", "ks_m", "w1mpro", "w2mpro") else 14.5) for band in BANDS}
    frame.update({BAND_ERRORS[band]: np.full(n, 0.01) for band in BANDS})
    frame["parallax"], frame["parallax_error"] = np.full(n, 0.5), np.full(n, 0.02)
    return pd.DataFrame(frame)


def test_a_twin_is_fainter_noisier_and_its_parallax_shrinks() -> None:
    n = 20_000
    twins, measured = degrade(
        _stars(n), delta_mu=np.full(n, 1.5), delta_ebv=np.full(n, 0.1), rng=np.random.default_rng(0)
    )
    shift = 1.5 + surveys.EXTINCTION_R["phot_g_mean_mag"] * 0.1
    assert twins["phot_g_mean_mag"].mean() == pytest.approx(14.5 + shift, abs=0.01)
    new_g = np.full(n, 14.5 + shift)
    # Each band's error is the survey's at the new magnitude, and the scatter matches it.
    expected_ks = surveys.photometric_sigma("ks_m", np.full(1, 13.0 + 1.5 + 0.306 * 0.1), new_g[:1])[0]
    assert twins["ks_msigcom"].iloc[0] == pytest.approx(expected_ks, rel=1e-5)
    assert twins["ks_m"].std() == pytest.approx(np.sqrt(expected_ks**2 - 0.01**2), rel=0.05)
    # ϖ' = (ϖ − ϖ0) 10^(−Δμ/5) + ϖ0 on average.
    zp = surveys.PARALLAX_ZERO_POINT_MAS
    assert twins["parallax"].mean() == pytest.approx((0.5 - zp) * 10 ** (-0.3) + zp, abs=0.002)
    assert twins["parallax_error"].iloc[0] == pytest.approx(surveys.parallax_sigma(new_g[:1])[0], rel=1e-5)
    assert measured.all()


def test_twins_beyond_a_survey_limit_are_dropped() -> None:
    _twins, measured = degrade(
        _stars(3), delta_mu=np.array([0.0, 3.0, 5.0]), delta_ebv=np.zeros(3), rng=np.random.default_rng(0)
    )
    # Ks 13 + 3 = 16 is past 2MASS's 15.3 limit.
    assert measured.tolist() == [True, False, False]


def test_draw_twins_lands_on_the_targets_g() -> None:
    stars = _stars(50).assign(a_w1=0.02, is_rc=True)
    targets = pd.DataFrame({"phot_g_mean_mag": [15.5, 16.0], "a_w1": [0.02, 0.05], "l": [10.0, 20.0], "b": [5.0, -5.0]})
    twins = draw_twins(stars, targets, per_star=4, seed=1)
    assert len(twins) == 200
    # The twin's true G is the target's; the observed one differs by the added noise only.
    assert np.abs(twins["phot_g_mean_mag"] - twins["target_g"]).max() < 0.05
    assert set(twins["b"]) <= {5.0, -5.0}
    again = draw_twins(stars, targets, per_star=4, seed=1)
    pd.testing.assert_frame_equal(twins, again)
