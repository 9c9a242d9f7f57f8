"""Stellar populations of the mock: evolutionary state, Teff, log g, mass, [C/N], seismology and
absolute magnitudes in the 13 bands.

One self-consistent set of relations, each from ``shared/reference/physics.md`` (section quoted):

* Populations (:mod:`redclump.data.evolution`): a giant's initial mass is the turn-off mass of its
  age (Hurley et al. 2000); it is a core-He burner with probability τ_He / (τ_He + τ_RGB) from the
  phase lifetimes (Girardi & Salaris 2001; fuel consumption with the Boothroyd & Sackmann 1988
  core mass–luminosity relation); core-He burners above the helium-flash mass M_HeF(Z) are
  secondary clump (2CL; Girardi 1999), the rest red clump (RC), which lose 0.1 M☉ on the RGB
  below 1.2 M☉, none above 1.6 M☉ (Miglio et al. 2012).
* Luminosities and Teff of core-He burners: M_Ks = −1.622 at 1.2 M☉ (Chan & Bovy 2020, §1.1) with
  the mass slopes and scatters of the APOKASC-2 core-He burners (Pinsonneault et al. 2018), RC and
  2CL separately (constants below); RGB bump 0.71 mag below the clump with 12.7 % of the RC counts
  (Nataf et al. 2011, §1.4); the rest of the RGB follows the fuel-consumption luminosity function
  dN/dlog g ∝ 10^{(5/6) log g} on 1.0 < log g < 3.5, ending at ignition above M_HeF.
  log g then follows from L, Teff, M.
* Bolometric correction BC_Ks = 2.1 − 7e-4 (Teff − 4750 K) [derived: BC_V of giants from Alonso,
  Arribas & Martínez-Roger 1999 (A&AS 140, 261, eqs. 17–18) plus GHB09's (V−Ks) give 2.06 mag at
  4750 K and −7.0e-4 mag/K over 4000–5250 K; the relation is within 0.05 mag of that sum].
* Colours: GHB09 giant relations for (J−Ks)₀ and (V−Ks)₀ − (V−H)₀ = (H−Ks)₀ (§3.1);
  Casagrande et al. 2021 DR2 polynomials with log g and [Fe/H] terms for G−Ks, BP−Ks, RP−Ks
  (§3.2), inverted by Newton iteration; (Ks−W1)₀ = 0.07 and (W1−W2)₀ = 0.01 at the clump
  (Hawkins et al. 2017, §1.3) with a CO-driven Teff slope [suggested]; Pan-STARRS g r i z y from
  the Vega SED interpolated in log λ between BP, G, RP and J, plus AB offsets [suggested: no
  published PS1 RC relation was found, §1.3].
* [C/N] (§7): post-dredge-up RGB −0.15 − 0.30 (M − 1), extra mixing for metal-poor upper RGB,
  clump 0.10 dex lower than the RGB of its mass up to 1.5 M☉, none by 2 M☉ (thermohaline mixing,
  Lagarde et al. 2012); photometric response scaled to Lucey et al.'s Fig. 1 pair (Δ[C/N] = 0.79 dex
  → ~0.02 mag in y and J, 0.01 in H, −0.02 in W2).
* Seismology (§2): Δν = 135.1 µHz (M/M☉)^-1/4 (g/g☉)^3/4; ΔΠ1 against mass (RC, 2CL) and Δν (RGB)
  fitted to Vrard et al. 2016 (constants below).
* Dwarfs: main sequence (Kroupa-slope masses below the turn-off, Teff ≈ 5772 M^0.55 K,
  R ≈ M^0.9 growing with age) and subgiants (turn-off mass, 3.6 < log g < 4.1) [suggested].
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import evolution
from .schema import BANDS

__all__ = [
    "CN_MAG_PER_DEX",
    "CN_REFERENCE_DEX",
    "absolute_magnitudes",
    "bc_ks",
    "cn_after_dredge_up",
    "delta_nu",
    "draw_dwarfs",
    "draw_giants",
    "rc_extra_mixing",
    "rc_period_spacing",
    "rgb_period_spacing",
    "secondary_period_spacing",
    "turnoff_mass",
]

FloatArray = npt.NDArray[np.float64]

TEFF_SUN, LOGG_SUN, MBOL_SUN = 5772.0, 4.438, 4.74
#: Core-He burners: absolute Ks magnitude and Teff against mass (and [Fe/H]). The zero point is the
#: parallax calibration of the clump, M_Ks = −1.622 (Chan & Bovy 2020); the slopes and scatters are
#: fitted to the APOKASC-2 core-He burners (Pinsonneault et al. 2018, ApJS 239, 32, table 5:
#: luminosity from the seismic M, Δν and Teff): below 1.8 M☉ M_Ks = a − 0.295 (M − 1.2) ± 0.098,
#: Teff = 4761 + 208 (M − 1.2) − 465 [Fe/H] ± 51 K (1,939 stars); above 2.0 M☉ (secondary clump)
#: M_Ks = −1.458 − 0.497 (M − 2.0) ± 0.31 and Teff = 4970 + 102 (M − 2.0) (349 stars), shifted by
#: the +0.098 mag between the APOKASC and Chan & Bovy zero points at 1.2 M☉.
M_KS_RC, RC_MKS_PER_MSUN, SIGMA_KS_RC = -1.62, -0.295, 0.098
SCL_MKS, SCL_MKS_PER_MSUN, SIGMA_KS_2CL = -1.36, -0.497, 0.31
RC_TEFF, RC_TEFF_PER_MSUN, RC_TEFF_PER_DEX, RC_TEFF_SCATTER = 4761.0, 208.0, -465.0, 51.0
SCL_TEFF, SCL_TEFF_PER_MSUN = 4970.0, 102.0
BUMP_PER_RC = 0.127
#: RGB mass loss (M☉) of ~1.2 M☉ stars before the clump (Miglio et al. 2012: 0.09 ± 0.07).
RGB_MASS_LOSS = 0.1
#: Extra [C/N] depletion of low-mass clump stars relative to the RGB of the same mass (dex):
#: physics.md §7 (thermohaline mixing, Charbonnel & Lagarde 2010; Lagarde et al. 2012).
RC_EXTRA_MIXING_DEX = 0.10

#: Magnitude change per dex of [C/N] (mag/dex). Lucey et al. (2020, Fig. 1) synthesise an RGB star
#: with [C/N] = 0 and an RC star with [C/N] = −0.79 at the same Teff, log g and Z and find CN bands
#: in y and J and a CO band in W2 whose magnitude differences are "of the same order as the
#: photometric uncertainties" (seed summary), i.e. ~0.02 mag: 0.02 mag / 0.79 dex in y and J, half
#: that in H, and the opposite sign in W2 (physics.md §7's band pattern).
CN_REFERENCE_DEX = 0.79
CN_MAG_PER_DEX: dict[str, float] = {
    "y_mean_psf_mag": -0.02 / CN_REFERENCE_DEX,
    "j_m": -0.02 / CN_REFERENCE_DEX,
    "h_m": -0.01 / CN_REFERENCE_DEX,
    "w2mpro": 0.02 / CN_REFERENCE_DEX,
}

#: Period spacings ΔΠ1 (s), fitted to Vrard, Mosser & Samadi 2016 (A&A 588, A87, table 2; stars with
#: e_ΔΠ1 < 10 s and seismic masses; states from the same catalogue's consensus). Clump (1,919 stars):
#: ΔΠ1 = 311.5 − 10.4 M ± 27.1 s, i.e. 299 s at 1.2 M☉; secondary clump (399 stars):
#: ΔΠ1 = 321.5 − 21.1 M ± 38.4 s, 279 s at 2.0 M☉; first-ascent giants (988 stars, 6 < Δν < 15 µHz):
#: ΔΠ1 = 56.8 + 1.93 Δν ± 2.5 s (physics.md §2's 60 + 1.7 Δν is within 1 s of it). No [Fe/H] term:
#: the table has no metallicities, so none is imposed.
RC_DP_MEAN, RC_DP_PER_MSUN, RC_DP_PER_DEX, RC_DP_SCATTER = 299.0, -10.4, 0.0, 27.1
SCL_DP_AT_2MSUN, SCL_DP_PER_MSUN, SCL_DP_SCATTER = 279.3, -21.1, 38.4
RGB_DP_INTERCEPT, RGB_DP_PER_DNU, RGB_DP_SCATTER = 56.8, 1.93, 2.5

# Effective wavelengths (µm) for the SED interpolation, and PS1 AB − Vega offsets [recalled].
_LAMBDA = {"phot_bp_mean_mag": 0.511, "phot_g_mean_mag": 0.623, "phot_rp_mean_mag": 0.777, "j_m": 1.235}
_PS1 = {
    "g_mean_psf_mag": (0.481, -0.09),
    "r_mean_psf_mag": (0.617, 0.15),
    "i_mean_psf_mag": (0.752, 0.37),
    "z_mean_psf_mag": (0.866, 0.52),
    "y_mean_psf_mag": (0.962, 0.55),
}

# GHB09 giants (θ = 5040/Teff), physics.md §3.1.
_GHB_JK = (0.6517, 0.6312, 0.0168, -0.0381, 0.0256, 0.0013)
_GHB_VK = (0.5293, 0.2489, -0.0119, -0.0042, 0.0135, 0.0010)
_GHB_VH = (0.5321, 0.2649, -0.0146, -0.0069, 0.0211, 0.0009)

# Casagrande et al. 2021 DR2 (a0…a14), physics.md §3.2, with validity ranges for giants.
_CAS = {
    "phot_g_mean_mag": (
        (
            8103.2039,
            -1857.7194,
            0,
            73.1834,
            -1.7576,
            236.0335,
            -345.9070,
            170.4915,
            -28.8549,
            0,
            -131.4548,
            49.6232,
            0,
            0,
            10.0777,
        ),
        (0.20, 3.90),
    ),
    "phot_bp_mean_mag": (
        (
            8404.4760,
            -2265.1355,
            403.4693,
            -27.9056,
            0,
            193.5820,
            -145.3724,
            47.7998,
            -6.4572,
            0,
            -34.5438,
            -130.2559,
            52.6470,
            -4.4777,
            15.8249,
        ),
        (0.30, 5.30),
    ),
    "phot_rp_mean_mag": (
        (8940.4628, -4450.6138, 1138.6816, 0, -10.5749, 0, -42.3037, 33.3365, 0, -3.2535, 0, 41.0402, 0, 0, -21.9922),
        (0.20, 2.70),
    ),
}


def turnoff_mass(age_gyr: FloatArray, feh: FloatArray) -> FloatArray:
    """Initial mass (M☉) of stars reaching the giant branch at ``age_gyr`` (Hurley et al. 2000;
    see :mod:`redclump.data.evolution`)."""
    return evolution.turnoff_mass(age_gyr, feh)


def delta_nu(mass: FloatArray, logg: FloatArray) -> FloatArray:
    """Large frequency separation (µHz) from the scaling relation (physics.md §2).

    Examples
    --------
    >>> round(float(delta_nu(np.array(1.2), np.array(2.4))), 2)
    3.82
    """
    return 135.1 * mass**-0.25 * (10.0 ** (logg - LOGG_SUN)) ** 0.75


def bc_ks(teff: FloatArray) -> FloatArray:
    """Ks-band bolometric correction (mag), linear in Teff for 3500–6500 K.

    BC_V of giants (Alonso et al. 1999, A&AS 140, 261, eqs. 17–18) plus GHB09's (V − Ks) of
    giants gives 2.06 mag at 4750 K and −7.0e-4 mag/K over 4000–5250 K at [Fe/H] = 0 or −0.5; this
    line is 0.04 mag above it (tested to 0.05 mag).
    """
    return 2.1 - 7e-4 * (teff - 4750.0)


def _logg_from_mks(m_ks: FloatArray, teff: FloatArray, mass: FloatArray) -> FloatArray:
    log_l = (MBOL_SUN - (m_ks + bc_ks(teff))) / 2.5
    log_r2 = log_l - 4 * np.log10(teff / TEFF_SUN)
    return np.log10(mass) - log_r2 + LOGG_SUN


def _mks_from_logg(logg: FloatArray, teff: FloatArray, mass: FloatArray) -> FloatArray:
    log_l = np.log10(mass) + 4 * np.log10(teff / TEFF_SUN) - (logg - LOGG_SUN)
    return MBOL_SUN - 2.5 * log_l - bc_ks(teff)


def cn_after_dredge_up(mass: FloatArray, feh: FloatArray) -> FloatArray:
    """Surface [C/N] after the first dredge-up (dex), before any extra mixing.

    −0.15 − 0.30 (M − 1), clipped to [−0.7, 0.1] (physics.md §7 [suggested], consistent with
    the APOKASC [C/N]–mass trend used by Martig et al. 2016, whose validity box spans
    −0.6 < [C/N] < 0.2). Metallicity-independent above [Fe/H] ≈ −1 (Shetrone et al. 2019).
    """
    return np.clip(-0.15 - 0.30 * (mass - 1.0), -0.7, 0.1) + 0.0 * feh


def rc_extra_mixing(mass: FloatArray) -> FloatArray:
    """Extra [C/N] depletion (dex, ≥ 0) of a clump star relative to the RGB star of the same mass.

    Thermohaline mixing above the bump (Charbonnel & Lagarde 2010; Lagarde et al. 2012) lowers
    [C/N] by ~0.1 dex in low-mass stars by the clump (physics.md §7: RC ≈ RGB − 0.10) and becomes
    inefficient with mass: taken as 0.10 dex up to 1.5 M☉, falling linearly to 0 at 2 M☉ [recalled
    shape of Lagarde et al. 2012's mass dependence]. Stars that ignite helium without a flash (2CL)
    never reach the bump's extra mixing on the upper RGB, so they get none.
    """
    return RC_EXTRA_MIXING_DEX * np.clip((2.0 - mass) / 0.5, 0.0, 1.0)


def _cn_rgb(mass: FloatArray, feh: FloatArray, logg: FloatArray, rng: np.random.Generator) -> FloatArray:
    cn = cn_after_dredge_up(mass, feh) + rng.normal(0, 0.05, mass.shape)
    # Metal-poor upper RGB: 0.3 dex per dex of log g above the bump (Shetrone et al. 2019, §7).
    extra = np.where(feh < -0.4, 0.3 * np.maximum(0.0, 2.7 - logg), 0.0)
    pre_dredge = logg > 3.3
    return np.where(pre_dredge, rng.normal(0, 0.05, mass.shape), cn - extra)


def _rgb_logg(low: FloatArray, high: float, rng: np.random.Generator) -> FloatArray:
    """log g on [low, high] from dN/dlog g ∝ 10^{s log g}, s = 5/6 (evolution module), by inverse CDF."""
    k = evolution.LUMINOSITY_FUNCTION_SLOPE * np.log(10.0)
    u = rng.random(low.shape)
    return np.log(np.exp(k * low) + u * (np.exp(k * high) - np.exp(k * low))) / k


def rc_period_spacing(mass: FloatArray, feh: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Asymptotic ΔΠ1 (s) of red-clump stars against mass, with the measured spread, which includes
    the growth of ΔΠ1 during core-He burning (Vrard et al. 2016 fit; constants above)."""
    mean = RC_DP_MEAN + RC_DP_PER_MSUN * (mass - 1.2) + RC_DP_PER_DEX * feh
    return np.clip(mean + rng.normal(0.0, RC_DP_SCATTER, mass.shape), 150.0, 450.0)


def draw_giants(age_gyr: FloatArray, feh: FloatArray, rng: np.random.Generator) -> dict[str, npt.NDArray[np.generic]]:
    """Evolutionary state and true parameters for red giants drawn from given populations.

    ``age_gyr`` should be drawn as giants are distributed (:func:`evolution.draw_giant_ages`):
    the initial mass is the turn-off mass of that age, and the star is a core-He burner with
    probability τ_He / (τ_He + τ_RGB) (lifetimes from :mod:`redclump.data.evolution`).

    Returns a dict of arrays: ``state`` (RGB/RC/2CL), ``teff``, ``logg``, ``mass``, ``cn``,
    ``dnu``, ``dp`` and ``m_ks`` (absolute Ks magnitude).
    """
    n = age_gyr.size
    initial_mass = evolution.turnoff_mass(age_gyr, feh)
    flash_mass = evolution.helium_flash_mass(feh)
    tau_he = evolution.core_he_lifetime(initial_mass, feh)
    tau_rgb = evolution.rgb_window_lifetime(initial_mass, feh)
    core_he = rng.random(n) < tau_he / (tau_he + tau_rgb)
    secondary = core_he & (initial_mass > flash_mass)
    clump = core_he & ~secondary
    # RGB mass loss before the clump: 0.09 ± 0.07 M☉ in NGC 6791 (~1.2 M☉ giants), none
    # detectable in NGC 6819 (~1.6 M☉) (Miglio et al. 2012, MNRAS 419, 2077).
    mass_loss = RGB_MASS_LOSS * np.clip((1.6 - initial_mass) / 0.4, 0.0, 1.0)
    mass = np.where(clump, initial_mass - mass_loss, initial_mass)
    below_flash = initial_mass <= flash_mass
    bump_fraction = np.where(below_flash, BUMP_PER_RC * tau_he / tau_rgb, 0.0)
    bump = ~core_he & (rng.random(n) < bump_fraction)
    rgb = ~core_he & ~bump

    teff_rc = RC_TEFF + RC_TEFF_PER_MSUN * (mass - 1.2) + RC_TEFF_PER_DEX * feh + rng.normal(0, RC_TEFF_SCATTER, n)
    # The secondary clump reuses the RC's [Fe/H] slope: an assumption (docs/mock.md, Assumptions).
    teff_2cl = SCL_TEFF + SCL_TEFF_PER_MSUN * (mass - 2.0) + RC_TEFF_PER_DEX * feh + rng.normal(0, RC_TEFF_SCATTER, n)
    m_ks_rc = M_KS_RC + RC_MKS_PER_MSUN * (mass - 1.2) + rng.normal(0, SIGMA_KS_RC, n)
    m_ks_2cl = SCL_MKS + SCL_MKS_PER_MSUN * (mass - 2.0) + rng.normal(0, SIGMA_KS_2CL, n)
    # The bump's 0.71 mag below the clump is Nataf et al. 2011's (I band, bulge). Its +0.2 mag per
    # dex of [Fe/H] and 0.07 mag scatter are assumptions (docs/mock.md, Assumptions): globular
    # clusters' bumps grow fainter in K with metallicity (Ferraro et al. 2000; Valenti, Ferraro &
    # Origlia 2004), but no published slope of the bump–clump difference in Ks was found.
    m_ks_bump = M_KS_RC + 0.71 + 0.2 * feh + rng.normal(0, 0.07, n)
    m_ks = np.select([clump, secondary], [m_ks_rc, m_ks_2cl], m_ks_bump)
    # Stars above M_HeF leave the RGB at their (secondary-clump) ignition luminosity.
    logg_ignition = np.clip(_logg_from_mks(m_ks_2cl, teff_2cl, mass), evolution.LOGG_RGB_MIN, 3.3)
    low = np.where(below_flash, evolution.LOGG_RGB_MIN, logg_ignition)
    logg_rgb = _rgb_logg(low, evolution.LOGG_RGB_MAX, rng)

    # The bump and core-helium stars take log g from their luminosity; plain RGB the reverse.
    teff_bump = evolution.rgb_teff(2.7, feh, mass) + rng.normal(0, 60, n)
    teff_rgb = evolution.rgb_teff(logg_rgb, feh, mass) + rng.normal(0, 60, n)
    teff = np.select([clump, secondary, bump], [teff_rc, teff_2cl, teff_bump], teff_rgb)
    teff = np.clip(teff, 3600.0, 5600.0)
    logg = np.where(rgb, logg_rgb, _logg_from_mks(m_ks, teff, mass))
    m_ks = np.where(rgb, _mks_from_logg(logg, teff, mass), m_ks)

    cn_rgb = _cn_rgb(mass, feh, logg, rng)
    # Metal-poor clump stars keep the upper-RGB extra mixing of 0.3 dex per dex of log g over the
    # 0.7 dex above the bump, 0.21 dex in all: an assumption (docs/mock.md, Assumptions). Shetrone
    # et al. 2019 measure 0.38 dex per dex for [Fe/H] < −1 and find the RC's [C/N] above the tip's.
    metal_poor_upper_rgb = np.where(feh < -0.4, 0.3 * 0.7, 0.0)
    cn = np.where(clump, cn_rgb - rc_extra_mixing(initial_mass) - metal_poor_upper_rgb, cn_rgb)
    cn = np.where(secondary, cn_after_dredge_up(mass, feh) + rng.normal(0, 0.05, n), cn)

    dnu = delta_nu(mass, logg)
    dp = np.select(
        [clump, secondary],
        [rc_period_spacing(mass, feh, rng), secondary_period_spacing(mass, rng)],
        rgb_period_spacing(dnu, rng),
    )
    state = np.select([clump, secondary], ["RC", "2CL"], "RGB").astype(object)
    return {
        "state": state,
        "teff": teff,
        "logg": logg,
        "mass": mass,
        "cn": cn,
        "dnu": dnu,
        "dp": dp,
        "m_ks": m_ks,
    }


def secondary_period_spacing(mass: FloatArray, rng: np.random.Generator) -> FloatArray:
    """ΔΠ1 (s) of secondary-clump stars against mass (Vrard et al. 2016 fit; constants above)."""
    mean = SCL_DP_AT_2MSUN + SCL_DP_PER_MSUN * (mass - 2.0)
    return np.clip(mean + rng.normal(0.0, SCL_DP_SCATTER, mass.shape), 100.0, 400.0)


def rgb_period_spacing(dnu: FloatArray, rng: np.random.Generator) -> FloatArray:
    """ΔΠ1 (s) of first-ascent giants against Δν (constants: module notes)."""
    return np.clip(RGB_DP_INTERCEPT + RGB_DP_PER_DNU * dnu + rng.normal(0.0, RGB_DP_SCATTER, dnu.shape), 40, 130)


def draw_dwarfs(
    age_gyr: FloatArray, feh: FloatArray, rng: np.random.Generator, *, subgiant_fraction: float = 0.1
) -> dict[str, npt.NDArray[np.generic]]:
    """Main-sequence and subgiant stars (the contaminants stage 1 must reject)."""
    n = age_gyr.size
    m_to = np.minimum(turnoff_mass(age_gyr, feh), 1.6)
    subgiant = rng.random(n) < subgiant_fraction
    # Kroupa slope α = 2.3 between 0.6 M☉ and the turn-off, by inverse CDF.
    lo, hi = 0.6**-1.3, np.maximum(m_to, 0.61) ** -1.3
    mass_ms = (lo + rng.random(n) * (hi - lo)) ** (-1 / 1.3)
    mass = np.where(subgiant, m_to, mass_ms)
    frac_life = rng.random(n)
    teff_ms = TEFF_SUN * mass**0.55 - 150 * feh + rng.normal(0, 60, n)
    logg_ms = LOGG_SUN - 0.8 * np.log10(mass) - 0.2 * frac_life * (mass / m_to) ** 3
    teff_sg = rng.uniform(5000, 6000, n) - 150 * feh
    logg_sg = rng.uniform(3.6, 4.1, n)
    teff = np.clip(np.where(subgiant, teff_sg, teff_ms), 3600.0, 7000.0)
    logg = np.where(subgiant, logg_sg, logg_ms)
    return {
        "state": np.where(subgiant, "SGB", "MS").astype(object),
        "teff": teff,
        "logg": logg,
        "mass": mass,
        "cn": rng.normal(0, 0.05, n),
        "dnu": delta_nu(mass, logg),
        "dp": np.full(n, np.nan),
        "m_ks": _mks_from_logg(logg, teff, mass),
    }


def _ghb_colour(coeffs: tuple[float, ...], teff: FloatArray, feh: FloatArray) -> FloatArray:
    b0, b1, b2, b3, b4, b5 = coeffs
    theta = 5040.0 / teff
    quad_b = b1 + b3 * feh
    quad_c = b0 + b4 * feh + b5 * feh**2 - theta
    disc = np.sqrt(np.maximum(quad_b**2 - 4 * b2 * quad_c, 0.0))
    # Numerically stable root of b2 X² + B X + C = 0 that tends to -C/B as b2 → 0.
    return -2 * quad_c / (quad_b + np.sign(quad_b) * disc)


def _casagrande_teff(
    a: tuple[float, ...], x: FloatArray, g: FloatArray, f: FloatArray
) -> tuple[FloatArray, FloatArray]:
    poly = a[0] + a[1] * x + a[2] * x**2 + a[3] * x**3 + a[4] * x**5
    poly += g * (a[5] + a[6] * x + a[7] * x**2 + a[8] * x**3 + a[9] * x**5)
    poly += f * (a[10] + a[11] * x + a[12] * x**2 + a[13] * x**3) + a[14] * f * g * x
    slope = a[1] + 2 * a[2] * x + 3 * a[3] * x**2 + 5 * a[4] * x**4
    slope += g * (a[6] + 2 * a[7] * x + 3 * a[8] * x**2 + 5 * a[9] * x**4)
    slope += f * (a[11] + 2 * a[12] * x + 3 * a[13] * x**2) + a[14] * f * g
    return poly, slope


def _invert_casagrande(band: str, teff: FloatArray, logg: FloatArray, feh: FloatArray) -> FloatArray:
    coeffs, (lo, hi) = _CAS[band]
    g = np.clip(logg, 0.5, 5.0)
    f = np.clip(feh, -2.5, 0.5)
    x = np.full_like(teff, 0.5 * (lo + hi))
    for _ in range(12):
        value, slope = _casagrande_teff(coeffs, x, g, f)
        slope = np.where(np.abs(slope) < 50.0, -50.0, slope)
        x = np.clip(x - (value - teff) / slope, lo, hi)
    return x


def absolute_magnitudes(
    teff: FloatArray, logg: FloatArray, feh: FloatArray, cn: FloatArray, m_ks: FloatArray
) -> dict[str, FloatArray]:
    """Absolute magnitudes in the 13 bands (archive column names) from Teff, log g, [Fe/H],
    [C/N] and M_Ks, including the [C/N] photometric signature.
    """
    mags: dict[str, FloatArray] = {"ks_m": m_ks}
    mags["j_m"] = m_ks + _ghb_colour(_GHB_JK, teff, feh)
    mags["h_m"] = m_ks + _ghb_colour(_GHB_VK, teff, feh) - _ghb_colour(_GHB_VH, teff, feh)
    for band in _CAS:
        mags[band] = m_ks + _invert_casagrande(band, teff, logg, feh)
    cool = 4750.0 - teff
    mags["w1mpro"] = m_ks - (0.07 + 1e-4 * cool)
    mags["w2mpro"] = mags["w1mpro"] - (0.01 - 1e-4 * cool)
    anchors = ("phot_bp_mean_mag", "phot_g_mean_mag", "phot_rp_mean_mag", "j_m")
    log_lam = np.log10([_LAMBDA[b] for b in anchors])
    sed = np.stack([mags[b] for b in anchors])
    for band, (lam, ab_offset) in _PS1.items():
        x = np.log10(lam)
        i = int(np.clip(np.searchsorted(log_lam, x) - 1, 0, len(anchors) - 2))
        weight = (x - log_lam[i]) / (log_lam[i + 1] - log_lam[i])
        mags[band] = sed[i] + weight * (sed[i + 1] - sed[i]) + ab_offset
    for band, per_dex in CN_MAG_PER_DEX.items():
        mags[band] = mags[band] + per_dex * cn
    return {band: mags[band] for band in BANDS}
