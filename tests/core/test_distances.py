from __future__ import annotations

import doctest

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from redclump.core import distances


def test_published_constants() -> None:
    assert distances.M_W1_RC == -1.68  # Hawkins et al. 2017
    assert distances.A_G_OVER_A_W1 == 16.0


def test_extinction_recovers_injected_reddening() -> None:
    rng = np.random.default_rng(0)
    teff = rng.uniform(4300, 5200, 2000)
    relation = distances.IntrinsicColour(intercept=9.0, slope=-1.4e-3, scatter=0.0, n_stars=0)
    a_w1 = rng.uniform(0, 0.5, 2000)
    w1 = rng.uniform(8, 14, 2000)
    g = w1 + relation(teff) + a_w1 * (distances.A_G_OVER_A_W1 - 1)
    assert np.allclose(distances.extinction_w1(g, w1, teff, relation), a_w1)


def test_distance_uncertainty_is_about_five_percent_from_the_rc_spread() -> None:
    d, e = distances.rc_distance(np.array([10.0]), np.array([0.0]))
    assert np.isclose(e[0] / d[0], np.log(10) / 5 * np.hypot(0.09, 0.02), rtol=1e-6)


def test_non_positive_parallax_gives_nan() -> None:
    d, e = distances.parallax_distance(np.array([-0.1, 0.0, 0.5]), np.array([0.1, 0.1, 0.1]))
    assert np.isnan(d[:2]).all() and np.isnan(e[:2]).all() and np.isclose(d[2], 2.0)


@given(st.floats(min_value=0.05, max_value=50.0))
def test_parallax_distance_round_trip(dist_kpc: float) -> None:
    d, _ = distances.parallax_distance(np.array([1.0 / dist_kpc]), np.array([0.01]))
    assert np.isclose(d[0], dist_kpc)


def test_galactocentric_sun_and_centre() -> None:
    out = distances.galactocentric(np.array([0.0, 180.0]), np.array([0.0, 0.0]), np.array([8.178, 1.0]))
    assert abs(out["x_gc"][0]) < 0.01 and abs(out["r_gc"][0]) < 0.01  # the Galactic centre
    assert np.isclose(out["r_gc"][1], 9.178, atol=0.01)  # 1 kpc towards the anticentre


def test_doctests() -> None:
    assert doctest.testmod(distances, raise_on_error=False).failed == 0
