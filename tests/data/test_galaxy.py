"""The Galaxy model against the literature numbers it was built from (physics.md §4–5)."""

from __future__ import annotations

import doctest

import numpy as np
from redclump.data import galaxy


def test_bulge_mass_is_the_analytic_triaxial_exponential_integral() -> None:
    # ∫ ρ0 exp(-r_s) dV = 8π x0 y0 z0 ρ0 = 1.75e10 M☉ for SynthPop's parameters.
    assert np.isclose(galaxy.component_masses()["bulge"], 8 * np.pi * 0.67 * 0.29 * 0.27 * 1.32585e10)


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
