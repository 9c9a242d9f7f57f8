"""Real giants per simulated giant (data/census.py)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from redclump.data import census, galaxy, mock


def test_doctests() -> None:
    assert doctest.testmod(census, raise_on_error=False).failed == 0


def test_one_solar_mass_formed_is_one_solar_mass_of_kroupa_stars() -> None:
    grid = np.geomspace(*census.IMF_MASS_RANGE, 20_000)
    formed = census.imf_normalisation() * np.trapezoid(grid * census._kroupa(grid), grid)
    assert formed == pytest.approx(1.0, rel=1e-3)
    # Above 0.5 M☉ the IMF is the evolution module's M^-2.3, continuous at the break.
    assert census._kroupa(np.array([0.5 - 1e-9]))[0] == pytest.approx(census._kroupa(np.array([0.5]))[0], rel=1e-6)


def test_surviving_fraction_falls_with_age_to_the_published_returned_fraction() -> None:
    ages = [(t, t + 0.01) for t in (0.2, 1.0, 3.0, 10.0)]
    fractions = [census.surviving_fraction(a, 0.0) for a in ages]
    assert all(np.diff(fractions) < 0)
    # A Kroupa/Chabrier population returns 40-45 % of its mass after ~10 Gyr (Leitner & Kravtsov
    # 2011, ApJ 734, 48, Fig. 1), i.e. 55-60 % remains.
    assert 0.52 < fractions[-1] < 0.62


def test_young_populations_make_more_giants_per_unit_mass() -> None:
    young = next(c for c in galaxy.COMPONENTS if c.name == "thin_1-2")
    old = next(c for c in galaxy.COMPONENTS if c.name == "thin_7-10")
    masses = galaxy.component_masses()
    assert census.component_giants(young) / masses[young.name] > 1.5 * census.component_giants(old) / masses[old.name]


def test_scales_follow_the_simulated_numbers_and_sum_to_the_galaxy() -> None:
    scales = census.giant_scales(1_000_000, 0.2)
    half = census.giant_scales(2_000_000, 0.2)
    assert all(half[name] == pytest.approx(scale / 2) for name, scale in scales.items())
    weights = mock.giant_weights()
    simulated = 800_000 * weights / weights.sum()
    assert sum(s * n for s, n in zip(scales.values(), simulated, strict=True)) == pytest.approx(census.galaxy_giants())
    with pytest.raises(ValueError, match="simulates no giants"):
        census.giant_scales(0, 0.2)
