"""Stellar-evolution ingredients of the mock's populations against the physics they come from."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from redclump.data import evolution

SOLAR_HURLEY = np.log10(0.02 / 0.0152)  # [Fe/H] at which Hurley et al.'s Z = 0.02


def test_turnoff_mass_inverts_t_bgb() -> None:
    mass = np.array([0.9, 1.0, 1.2, 1.5, 2.0, 3.0])
    feh = np.array([-1.0, -0.5, 0.0, 0.0, 0.2, 0.0])
    ages = evolution.t_bgb(mass, feh) / 1e3
    assert np.allclose(evolution.turnoff_mass(ages, feh), mass, rtol=1e-6)


def test_turnoff_mass_falls_with_age_and_metallicity() -> None:
    ages = np.linspace(0.5, 13.0, 50)
    mass = evolution.turnoff_mass(ages, np.zeros(50))
    assert np.all(np.diff(mass) < 0)
    # Metal-poor stars live shorter at fixed mass: a lower turn-off mass at the same age.
    assert evolution.turnoff_mass(np.array(8.0), np.array(-1.0)) < evolution.turnoff_mass(np.array(8.0), np.array(0.0))


def test_helium_flash_mass_is_hurleys() -> None:
    # Hurley et al. (2000) eq. 2: M_HeF = 1.995 at Z = 0.02, lower at low Z.
    assert evolution.helium_flash_mass(np.array(SOLAR_HURLEY)) == pytest.approx(1.995)
    assert evolution.helium_flash_mass(np.array(-1.0)) < 1.9


def test_rgb_lifetime_equals_direct_fuel_consumption_integral() -> None:
    # dt = X Q dMc / L with L = 2.3e5 Mc^6, integrated numerically between the window's edges.
    mass, feh = np.array(1.3), np.array(-0.2)
    teff_hi = evolution.rgb_teff(np.array(3.5), feh, mass)
    teff_lo = evolution.rgb_teff(np.array(1.0), feh, mass)
    l_faint = evolution.luminosity(mass, np.array(3.5), teff_hi)
    l_bright = evolution.luminosity(mass, np.array(1.0), teff_lo)
    core = np.linspace((l_faint / 2.3e5) ** (1 / 6), (l_bright / 2.3e5) ** (1 / 6), 200_001)
    lum = 2.3e5 * core**6
    integrand = 0.70 * 6.4e18 * 1.989e33 / (lum * 3.828e33)
    seconds = np.sum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(core))
    assert float(evolution.rgb_window_lifetime(mass, feh)) == pytest.approx(seconds / 3.156e13, rel=1e-4)


def test_core_helium_burning_is_longer_just_above_the_flash_mass() -> None:
    feh = np.zeros(3)
    flash = float(evolution.helium_flash_mass(np.array(0.0)))
    tau = evolution.core_he_lifetime(np.array([flash - 0.2, flash + 0.01, flash + 1.5]), feh)
    assert tau[0] == pytest.approx(100.0)  # Girardi & Salaris 2001: ~100 Myr for degenerate ignition
    assert tau[1] > 1.8 * tau[0]  # secondary clump: smaller core, longer phase (Girardi 1999)
    assert tau[2] < tau[1]


def test_young_populations_make_more_giants_per_unit_mass() -> None:
    per_mass = [evolution.giants_per_unit_mass((a, a + 1.0), 0.0) for a in (1.0, 3.0, 6.0, 9.0)]
    assert np.all(np.diff(per_mass) < 0)


def test_constant_rate_disk_clump_is_dominated_by_young_stars() -> None:
    # Girardi & Salaris 2001; Girardi 2016: at constant star formation the clump's ages pile up at
    # 1–4 Gyr although every Gyr formed the same mass.
    ages = np.linspace(0.15, 10.0, 2000)
    _, n_he = evolution.age_pdf(ages, 0.0)
    cdf = np.cumsum(n_he) / n_he.sum()
    median_age = np.interp(0.5, cdf, ages)
    assert median_age < 4.5
    assert np.interp(4.0, ages, cdf) > 0.45


def test_drawn_ages_follow_the_tabulated_distribution() -> None:
    rng = np.random.default_rng(3)
    ages = evolution.draw_giant_ages((1.0, 10.0), -0.1, 200_000, rng)
    assert ages.min() >= 1.0 and ages.max() <= 10.0
    grid = np.linspace(1.0, 10.0, 1000)
    n_rgb, n_he = evolution.age_pdf(grid, -0.1)
    pdf = n_rgb + n_he
    expected = np.trapezoid(pdf[grid < 3.0], grid[grid < 3.0]) / np.trapezoid(pdf, grid)
    assert np.mean(ages < 3.0) == pytest.approx(expected, abs=0.005)


def test_doctests() -> None:
    assert doctest.testmod(evolution, raise_on_error=False).failed == 0


def test_r_parameter_of_old_populations() -> None:
    # R = N(core-He) / N(RGB brighter than the core-He burners) ≈ 1.4 in globular clusters (Iben 1968;
    # Salaris et al. 2004, A&A 420, 911): τ_He over the RGB time from the clump's ~50 L☉ to the
    # ~2500 L☉ tip, by the same fuel-consumption relation as the mock's RGB window.
    mass, feh = np.array(1.0), np.array(-1.0)
    a, power = 2.3e5, -5.0 / 6.0
    rgb_above = evolution._RGB_TIME_UNIT_MYR * ((50.0 / a) ** power - (2500.0 / a) ** power)
    r = float(evolution.core_he_lifetime(mass, feh)) / rgb_above
    assert 1.2 < r < 1.7
