"""Stellar relations against the published numbers they come from (physics.md §1–3)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from redclump.data import stellar, surveys


@pytest.fixture(scope="module")
def giants() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 100_000
    feh = np.zeros(n)
    params = stellar.draw_giants(rng.uniform(2, 8, n), feh, rng)
    params["feh"] = feh
    params.update(stellar.absolute_magnitudes(params["teff"], params["logg"], feh, params["cn"], params["m_ks"]))
    return params


@pytest.mark.parametrize(
    ("band", "literature", "tolerance"),
    [
        ("ks_m", -1.622, 0.03),  # Chan & Bovy 2020
        ("h_m", -1.516, 0.06),  # Chan & Bovy 2020; Hawkins+2017 −1.46
        ("j_m", -1.019, 0.08),  # Chan & Bovy 2020; Hawkins+2017 −0.93
        ("w1mpro", -1.68, 0.04),  # Hawkins+2017
        ("phot_g_mean_mag", 0.517, 0.08),  # Chan & Bovy 2020; Hawkins +0.44, Hall 0.546
    ],
)
def test_red_clump_absolute_magnitudes(giants: dict, band: str, literature: float, tolerance: float) -> None:
    rc = giants["state"] == "RC"
    assert abs(np.median(giants[band][rc]) - literature) < tolerance


def test_red_clump_sits_at_4750_K_and_log_g_2_4() -> None:
    rng = np.random.default_rng(2)
    params = stellar.draw_giants(rng.uniform(2, 8, 50_000), np.zeros(50_000), rng)
    rc = params["state"] == "RC"
    assert abs(np.median(params["teff"][rc]) - 4750) < 100
    assert abs(np.median(params["logg"][rc]) - 2.45) < 0.1


def test_rc_colours_match_the_colour_teff_relations(giants: dict) -> None:
    rc = giants["state"] == "RC"
    bp_rp = giants["phot_bp_mean_mag"] - giants["phot_rp_mean_mag"]
    j_ks = giants["j_m"] - giants["ks_m"]
    assert abs(np.median(bp_rp[rc]) - 1.2) < 0.06  # physics.md §1.3: (BP−RP)₀ ≈ 1.2
    assert 0.58 < np.median(j_ks[rc]) < 0.70  # Hawkins 0.68, Chan & Bovy 0.603


def test_ghb09_inversion_reproduces_published_table() -> None:
    # physics.md §3.1: (J−Ks)₀ = 0.55, 0.60, 0.65, 0.70 ↔ 5020, 4863, 4714, 4574 K at [Fe/H] = 0.
    teff = np.array([5020.0, 4863.0, 4714.0, 4574.0])
    colour = stellar._ghb_colour(stellar._GHB_JK, teff, np.zeros(4))
    assert np.allclose(colour, [0.55, 0.60, 0.65, 0.70], atol=0.003)


def test_casagrande_inversion_reproduces_published_table() -> None:
    # physics.md §3.2 at log g = 2.4, [Fe/H] = 0: (BP−RP)₀ = 1.0…1.4 ↔ 5181…4411 K via
    # G−Ks: 1.9…2.3 ↔ 5023…4587 K.
    teff = np.array([5023.0, 4906.0, 4794.0, 4688.0, 4587.0])
    g_ks = stellar._invert_casagrande("phot_g_mean_mag", teff, np.full(5, 2.4), np.zeros(5))
    assert np.allclose(g_ks, [1.9, 2.0, 2.1, 2.2, 2.3], atol=0.01)


def _alonso_1999_bc_v(teff: np.ndarray, feh: np.ndarray) -> np.ndarray:
    """BC_V of giants, Alonso, Arribas & Martínez-Roger 1999 (A&AS 140, 261), eqs. 17 (cool) and 18."""
    x = np.log10(teff) - 3.52
    cool = -5.531e-2 / x - 0.6177 + 4.420 * x - 2.669 * x**2 + 0.6943 * x * feh - 0.1071 * feh - 8.612e-3 * feh**2
    warm = -9.930e-2 / x + 2.887e-2 + 2.275 * x - 4.425 * x**2 + 0.3505 * x * feh - 5.558e-2 * feh - 5.375e-3 * feh**2
    return np.where(np.log10(teff) > 3.66, warm, cool)


@pytest.mark.parametrize("feh", [-0.5, 0.0])
def test_bc_ks_matches_alonso_1999_with_ghb09_colours(feh: float) -> None:
    # BC_Ks = BC_V + (V − Ks): BC_V from Alonso et al. 1999 and (V − Ks) of giants from GHB09
    # (physics.md §3.1) give 2.06 mag at 4750 K and −7.0e-4 mag/K over 4000–5250 K.
    teff = np.linspace(4000.0, 5250.0, 6)
    fehs = np.full(teff.shape, feh)
    published = _alonso_1999_bc_v(teff, fehs) + stellar._ghb_colour(stellar._GHB_VK, teff, fehs)
    assert np.allclose(stellar.bc_ks(teff), published, atol=0.05)


@pytest.mark.parametrize(
    ("logg", "mass", "dnu"),
    [(2.4, 1.0, 4.00), (2.4, 1.6, 3.56), (3.0, 1.2, 10.8), (3.3, 1.2, 18.1)],  # physics.md §2
)
def test_delta_nu_scaling_relation(logg: float, mass: float, dnu: float) -> None:
    assert np.isclose(stellar.delta_nu(np.array(mass), np.array(logg)), dnu, atol=0.06)


def test_period_spacings_match_vrard_2016(giants: dict) -> None:
    # Vrard, Mosser & Samadi 2016 (table 2, e_ΔΠ1 < 10 s): clump ΔΠ1 median 301 s, 16–84 % 268–325 s;
    # first-ascent giants ΔΠ1 = 56.8 + 1.93 Δν ± 2.5 s for 6 < Δν < 15 µHz.
    dp, state, dnu = giants["dp"], giants["state"], giants["dnu"]
    rc = state == "RC"
    assert abs(np.median(dp[rc]) - 301) < 8
    lo, hi = np.percentile(dp[rc], [16, 84])
    assert abs(lo - 268) < 10 and abs(hi - 325) < 10
    rgb = (state == "RGB") & (dnu > 6) & (dnu < 15)
    slope, intercept = np.polyfit(dnu[rgb], dp[rgb], 1)
    assert abs(slope - 1.93) < 0.1 and abs(intercept - 56.8) < 1.5
    assert np.percentile(dp[state == "RGB"], 99) < 110  # the gap the ΔP cut relies on


def test_core_he_delta_nu_against_mass_matches_apokasc2() -> None:
    # APOKASC-2 core-He burners (Pinsonneault et al. 2018, table 5), median Δν per mass bin.
    rng = np.random.default_rng(8)
    ages = rng.uniform(0.5, 11.0, 400_000)
    params = stellar.draw_giants(ages, rng.normal(0.0, 0.15, ages.size), rng)
    core_he = np.isin(params["state"], ["RC", "2CL"])
    for (lo, hi), published in {(1.0, 1.2): 3.98, (1.2, 1.5): 4.18, (1.5, 1.8): 4.57, (2.2, 3.0): 6.68}.items():
        in_bin = core_he & (params["mass"] > lo) & (params["mass"] < hi)
        assert abs(np.median(params["dnu"][in_bin]) - published) < 0.35, (lo, hi)


def test_cn_signature_is_below_photometric_noise(giants: dict) -> None:
    # Near the clump the RC has lower [C/N] than the RGB (thermohaline mixing and higher masses),
    # and its SED imprint is smaller than the ~0.02–0.03 mag errors (Lucey et al. 2020, Fig. 1).
    state, logg = giants["state"], giants["logg"]
    near = (logg > 2.3) & (logg < 2.6)
    delta_cn = np.median(giants["cn"][near & (state == "RC")]) - np.median(giants["cn"][near & (state == "RGB")])
    assert delta_cn < -0.05
    for band, per_dex in stellar.CN_MAG_PER_DEX.items():
        assert 0.0005 < abs(per_dex * delta_cn) < 0.02, band


@pytest.mark.parametrize("distance_kpc", [1.0, 3.0, 5.0])
def test_cn_response_to_the_papers_example_pair(distance_kpc: float) -> None:
    # Lucey et al. 2020, Fig. 1: an RGB star with [C/N] = 0 and an RC star with [C/N] = −0.79 at
    # 4875 K, log g 2.32, Z = 0.004. No magnitude difference is published (physics.md §7); the
    # figure shows CN bands in y and J, a CO band in W2, and differences "of the same order as the
    # photometric uncertainties". Asserted: (1) lowering [C/N] converts C into N, strengthening CN
    # absorption (the RC is fainter in y and J) and weakening CO (brighter in W2); (2) bands with
    # no C- or N-bearing molecular band in the model do not move; (3) each difference is within a
    # factor of three of the survey's own error at that magnitude, for clump stars at 1–5 kpc.
    args = (np.array([4875.0]), np.array([2.32]), np.array([np.log10(0.004 / 0.0152)]))
    rgb = stellar.absolute_magnitudes(*args, np.array([0.0]), np.array([-1.6]))
    rc = stellar.absolute_magnitudes(*args, np.array([-0.79]), np.array([-1.6]))
    delta = {band: float(rc[band][0] - rgb[band][0]) for band in rgb}
    assert delta["y_mean_psf_mag"] > 0 and delta["j_m"] > 0 and delta["w2mpro"] < 0
    for band in ("phot_g_mean_mag", "phot_bp_mean_mag", "phot_rp_mean_mag", "ks_m", "w1mpro"):
        assert delta[band] == 0.0, band
    modulus = 5 * np.log10(distance_kpc * 100.0)
    g_mag = rgb["phot_g_mean_mag"] + modulus
    for band in ("y_mean_psf_mag", "j_m", "w2mpro"):
        sigma = float(surveys.photometric_sigma(band, rgb[band] + modulus, g_mag)[0])
        assert sigma / 3 < abs(delta[band]) < 3 * sigma, (band, delta[band], sigma)


def test_secondary_clump_is_a_minority_of_core_helium_burners() -> None:
    rng = np.random.default_rng(5)
    ages = np.concatenate([rng.uniform(0.15, 1, 5_000), rng.uniform(1, 10, 95_000)])
    state = stellar.draw_giants(ages, np.zeros(ages.size), rng)["state"]
    frac = np.mean(state == "2CL") / np.mean(np.isin(state, ["RC", "2CL"]))
    assert 0.02 < frac < 0.25  # Elsworth+2017 Kepler census: 17 %


def test_doctests() -> None:
    assert doctest.testmod(stellar, raise_on_error=False).failed == 0
