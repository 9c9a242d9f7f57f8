"""The Galaxy model against the literature numbers it was built from (physics.md §4–5)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from redclump.data import galaxy


@pytest.fixture(scope="module")
def bulge_stars() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """400,000 bulge positions and the mass each stands for (M☉), from the sampler and the mass."""
    bulge = next(c for c in galaxy.COMPONENTS if c.name == "bulge")
    n = 400_000
    x, y, z = galaxy.sample_positions(bulge, n, np.random.default_rng(12))
    return x, y, z, galaxy.component_masses()["bulge"] / n


def test_bulge_stellar_mass_in_the_red_clump_box_matches_portail_2015(bulge_stars: tuple) -> None:
    # Portail et al. 2015 (MNRAS 448, 713), made-to-measure models of the VVV red-clump density:
    # stellar mass 1.25–1.6 × 10¹⁰ M☉ inside the (±2.2, ±1.4, ±1.2) kpc box along the bar's axes.
    # The Monte-Carlo integral tests the mass normalisation and the sampled shape together.
    x, y, z, mass_per_star = bulge_stars
    angle = np.deg2rad(galaxy.BAR_ANGLE_DEG)
    x_bar = -x * np.cos(angle) + y * np.sin(angle)
    y_bar = x * np.sin(angle) + y * np.cos(angle)
    in_box = (np.abs(x_bar) < 2.2) & (np.abs(y_bar) < 1.4) & (np.abs(z) < 1.2)
    assert 1.25e10 < in_box.sum() * mass_per_star < 1.6e10


def test_bulge_stellar_mass_towards_the_bulge_matches_valenti_2016(bulge_stars: tuple) -> None:
    # Valenti et al. 2016 (A&A 587, L6), VVV red-clump counts scaled by the bulge luminosity
    # function: (2.0 ± 0.3) × 10¹⁰ M☉ in stars and remnants within |l| < 10°, |b| < 9.5°. The mock
    # holds 1.57 × 10¹⁰ there, 1.4σ low; the test allows 2σ.
    x, y, z, mass_per_star = bulge_stars
    x_sun = x + galaxy.R0_KPC
    z_sun = z - galaxy.Z_SUN_KPC
    l_deg = np.degrees(np.arctan2(y, x_sun))
    b_deg = np.degrees(np.arctan2(z_sun, np.hypot(x_sun, y)))
    towards_bulge = (np.abs(l_deg) < 10.0) & (np.abs(b_deg) < 9.5)
    assert abs(towards_bulge.sum() * mass_per_star - 2.0e10) < 2 * 0.3e10


def test_bar_major_axis_at_27_degrees_from_sun_gc_line() -> None:
    bulge = next(c for c in galaxy.COMPONENTS if c.name == "bulge")
    x, y, _ = galaxy.sample_positions(bulge, 200_000, np.random.default_rng(3))
    # The principal axis of the x–y inertia tensor is the bar's major axis.
    cov = np.cov(np.vstack([x, y]))
    evals, evecs = np.linalg.eigh(cov)
    major = evecs[:, np.argmax(evals)]
    angle = np.degrees(np.arctan2(abs(major[1]), abs(major[0])))
    assert abs(angle - 27.0) < 1.5  # Wegg & Gerhard 2013: (27 ± 2)°


def test_thin_disk_scale_height_at_sun() -> None:
    thin = next(c for c in galaxy.COMPONENTS if c.name == "thin_7-10")
    x, y, z = galaxy.sample_positions(thin, 400_000, np.random.default_rng(4))
    near_sun = np.abs(np.hypot(x, y) - galaxy.R0_KPC) < 0.5
    # sech²(z/h): the median |z| is h · atanh(0.5) = 0.549 h.
    assert np.isclose(np.median(np.abs(z[near_sun])), 0.549 * 0.445, rtol=0.05)


def test_dust_near_sun_and_at_high_latitude() -> None:
    dust = galaxy.DustModel(patch_table=np.ones((720, 360), dtype=np.float32))
    # Mid-plane normalisation ~1 mag/kpc in A_V near the Sun (physics.md §4.2); the Sun sits
    # 17 pc above the dust plane so a 100 pc path along b = 0 gets slightly less.
    near = dust.a_v(np.array([90.0]), np.array([0.0]), np.array([0.1]))[0]
    assert 0.07 < near < 0.1
    # Whole half-layer towards the pole: A_V ≈ 0.12 (Gontcharov et al. 2023).
    pole = dust.a_v(np.array([0.0]), np.array([90.0]), np.array([5.0]))[0]
    assert 0.06 < pole < 0.14
    # Towards the Galactic centre A_V reaches tens of magnitudes.
    assert dust.a_v(np.array([0.0]), np.array([0.0]), np.array([8.0]))[0] > 15


def test_patchiness_is_seeded_and_mean_one() -> None:
    a = galaxy.DustModel.from_seed(1).patch_table
    assert np.array_equal(a, galaxy.DustModel.from_seed(1).patch_table)
    assert not np.array_equal(a, galaxy.DustModel.from_seed(2).patch_table)
    assert abs(float(a.mean()) - 1.0) < 0.02


def test_doctests() -> None:
    assert doctest.testmod(galaxy, raise_on_error=False).failed == 0
