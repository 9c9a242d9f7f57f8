"""Stellar populations of the mock: evolutionary state, Teff, log g, mass, [C/N], seismology and
absolute magnitudes in the 13 bands.

One self-consistent set of relations, each from ``shared/reference/physics.md`` (section quoted):

* Giant masses: the main-sequence turn-off mass of the population age, M ≈ (t / 10 Gyr)^-0.4,
  with 0.1 M☉ of RGB mass loss for core-helium burners below 1.8 M☉ [suggested]. Core-helium
  burners above a helium-flash threshold drawn in 1.8–2.1 M☉ are secondary clump (2CL; Girardi
  1999, §1.4), the rest are red clump (RC).
* Luminosities: RC M_Ks ~ N(−1.62, 0.09) (Chan & Bovy 2020, §1.1–1.2); 2CL 0.4 mag fainter
  (Girardi 1999); RGB bump 0.71 mag below the clump with 12.7 % of the RC counts (Nataf et al.
  2011, §1.4); the rest of the RGB follows the luminosity function dN/dM ∝ 10^{0.3 M}, i.e.
  dN/dlog g ∝ 10^{0.75 log g} on 1.0 < log g < 3.5 [derived from §1.4's ×2 per mag].
  Volume-limited, 2.5 RGB stars per core-helium burner [suggested, from the Kepler census of
  Elsworth et al. 2017, §9, corrected for its log g window]. log g then follows from L, Teff, M.
* Bolometric correction BC_Ks = 2.1 − 7e-4 (Teff − 4750 K) [derived from (V−K) and BC_V].
* Colours: GHB09 giant relations for (J−Ks)₀ and (V−Ks)₀ − (V−H)₀ = (H−Ks)₀ (§3.1);
  Casagrande et al. 2021 DR2 polynomials with log g and [Fe/H] terms for G−Ks, BP−Ks, RP−Ks
  (§3.2), inverted by Newton iteration; (Ks−W1)₀ = 0.07 and (W1−W2)₀ = 0.01 at the clump
  (Hawkins et al. 2017, §1.3) with a CO-driven Teff slope [suggested]; Pan-STARRS g r i z y from
  the Vega SED interpolated in log λ between BP, G, RP and J, plus AB offsets [suggested: no
  published PS1 RC relation was found, §1.3].
* [C/N] (§7): post-dredge-up RGB −0.15 − 0.30 (M − 1), extra mixing for metal-poor upper RGB,
  RC 0.30 dex lower; photometric term per −0.3 dex: Δy = ΔJ = +0.02, ΔH = +0.01, ΔW2 = −0.02 mag.
* Seismology (§2): Δν = 135.1 µHz (M/M☉)^-1/4 (g/g☉)^3/4; ΔP: RGB 60 + 1.7 Δν + N(0, 5) s,
  RC N(300, 25) s clipped to 240–360 s, 2CL U(150, 280) s.
* Dwarfs: main sequence (Kroupa-slope masses below the turn-off, Teff ≈ 5772 M^0.55 K,
  R ≈ M^0.9 growing with age) and subgiants (turn-off mass, 3.6 < log g < 4.1) [suggested].
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .schema import BANDS

__all__ = [
    "CN_MAG_PER_DEX",
    "absolute_magnitudes",
    "bc_ks",
    "delta_nu",
    "draw_dwarfs",
    "draw_giants",
    "turnoff_mass",
]

FloatArray = npt.NDArray[np.float64]

TEFF_SUN, LOGG_SUN, MBOL_SUN = 5772.0, 4.438, 4.74
M_KS_RC, SIGMA_KS_RC = -1.62, 0.09
RGB_PER_CHEB = 2.2
BUMP_PER_RC = 0.127
#: Extra [C/N] depletion of the clump relative to the RGB of the same mass (dex). physics.md §7
#: suggests 0.10; 0.30 gives the 0.01–0.03 mag RC–RGB differences in y, J, W2 that Lucey et al.
#: describe (Fig. 1), while 0.10 gives < 0.01 mag.
RC_EXTRA_MIXING_DEX = 0.30

#: Magnitude change per dex of [C/N] (mag/dex): physics.md §7, "per −0.3 dex" values / −0.3.
CN_MAG_PER_DEX: dict[str, float] = {
    "y_mean_psf_mag": -0.02 / 0.3,
    "j_m": -0.02 / 0.3,
    "h_m": -0.01 / 0.3,
    "w2mpro": 0.02 / 0.3,
}

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
    """Main-sequence turn-off mass (M☉) of a population, ≈ 1 M☉ at 10 Gyr and solar [Fe/H]."""
    return np.clip((age_gyr / 10.0) ** -0.4 * (1.0 + 0.1 * feh), 0.75, 3.5)


def delta_nu(mass: FloatArray, logg: FloatArray) -> FloatArray:
    """Large frequency separation (µHz) from the scaling relation (physics.md §2).

    Examples
    --------
    >>> round(float(delta_nu(np.array(1.2), np.array(2.4))), 2)
    3.82
    """
    return 135.1 * mass**-0.25 * (10.0 ** (logg - LOGG_SUN)) ** 0.75


def bc_ks(teff: FloatArray) -> FloatArray:
    """Ks-band bolometric correction (mag), linear in Teff for 3500–6500 K."""
    return 2.1 - 7e-4 * (teff - 4750.0)


def _logg_from_mks(m_ks: FloatArray, teff: FloatArray, mass: FloatArray) -> FloatArray:
    log_l = (MBOL_SUN - (m_ks + bc_ks(teff))) / 2.5
    log_r2 = log_l - 4 * np.log10(teff / TEFF_SUN)
    return np.log10(mass) - log_r2 + LOGG_SUN


def _mks_from_logg(logg: FloatArray, teff: FloatArray, mass: FloatArray) -> FloatArray:
    log_l = np.log10(mass) + 4 * np.log10(teff / TEFF_SUN) - (logg - LOGG_SUN)
    return MBOL_SUN - 2.5 * log_l - bc_ks(teff)


def _cn_rgb(mass: FloatArray, feh: FloatArray, logg: FloatArray, rng: np.random.Generator) -> FloatArray:
    cn = np.clip(-0.15 - 0.30 * (mass - 1.0), -0.7, 0.1) + rng.normal(0, 0.05, mass.shape)
    extra = np.where(feh < -0.4, 0.3 * np.maximum(0.0, 2.7 - logg), 0.0)
    pre_dredge = logg > 3.3
    return np.where(pre_dredge, rng.normal(0, 0.05, mass.shape), cn - extra)


def draw_giants(age_gyr: FloatArray, feh: FloatArray, rng: np.random.Generator) -> dict[str, npt.NDArray[np.generic]]:
    """Evolutionary state and true parameters for red giants drawn from given populations.

    Returns a dict of arrays: ``state`` (RGB/RC/2CL), ``teff``, ``logg``, ``mass``, ``cn``,
    ``dnu``, ``dp`` and ``m_ks`` (absolute Ks magnitude).
    """
    n = age_gyr.size
    mass = turnoff_mass(age_gyr, feh) * np.exp(rng.normal(0, 0.04, n))
    core_he = rng.random(n) < 1.0 / (1.0 + RGB_PER_CHEB)
    flash_threshold = rng.uniform(1.8, 2.1, n)
    secondary = core_he & (mass > flash_threshold)
    clump = core_he & ~secondary
    mass = np.where(clump & (mass < 1.8), mass - 0.1, mass)
    bump_fraction = BUMP_PER_RC * (1.0 / (1.0 + RGB_PER_CHEB)) / (RGB_PER_CHEB / (1.0 + RGB_PER_CHEB))
    bump = ~core_he & (rng.random(n) < bump_fraction)
    rgb = ~core_he & ~bump

    # RGB log g from dN/dlog g ∝ 10^{0.75 log g} on [1.0, 3.5] by inverse CDF.
    k = 0.75 * np.log(10.0)
    u = rng.random(n)
    logg_rgb = np.log(np.exp(k * 1.0) + u * (np.exp(k * 3.5) - np.exp(k * 1.0))) / k

    teff_rc = 4750 - 300 * feh + 50 * (mass - 1.2) + rng.normal(0, 100, n)
    teff_2cl = 4950 - 250 * feh + 100 * (mass - 2.2) + rng.normal(0, 100, n)
    m_ks = np.where(
        clump,
        M_KS_RC + rng.normal(0, SIGMA_KS_RC, n),
        np.where(
            secondary,
            M_KS_RC + 0.4 - 0.3 * (mass - 2.2) + rng.normal(0, 0.15, n),
            M_KS_RC + 0.71 + 0.2 * feh + rng.normal(0, 0.07, n),  # bump (unused for plain RGB)
        ),
    )
    # The bump and core-helium stars take log g from their luminosity; plain RGB the reverse.
    teff_bump = 4630 + 330 * (2.7 - 2.45) - 250 * feh + 80 * (mass - 1.2) + rng.normal(0, 60, n)
    teff_rgb = 4630 + 330 * (logg_rgb - 2.45) - 250 * feh + 80 * (mass - 1.2) + rng.normal(0, 60, n)
    teff = np.select([clump, secondary, bump], [teff_rc, teff_2cl, teff_bump], teff_rgb)
    teff = np.clip(teff, 3600.0, 5600.0)
    logg = np.where(rgb, logg_rgb, _logg_from_mks(m_ks, teff, mass))
    m_ks = np.where(rgb, _mks_from_logg(logg, teff, mass), m_ks)

    cn_rgb = _cn_rgb(mass, feh, logg, rng)
    cn = np.where(clump, cn_rgb - RC_EXTRA_MIXING_DEX - np.where(feh < -0.4, 0.3 * 0.7, 0.0), cn_rgb)
    cn = np.where(secondary, np.clip(-0.15 - 0.30 * (mass - 1.0), -0.7, 0.1) + rng.normal(0, 0.05, n), cn)

    dnu = delta_nu(mass, logg)
    dp = np.select(
        [clump, secondary],
        [np.clip(rng.normal(300, 25, n), 240, 360), rng.uniform(150, 280, n)],
        np.clip(60 + 1.7 * dnu + rng.normal(0, 5, n), 40, 130),
    )
    state = np.select([clump, secondary], ["RC", "2CL"], "RGB").astype(object)
    return {"state": state, "teff": teff, "logg": logg, "mass": mass, "cn": cn, "dnu": dnu, "dp": dp, "m_ks": m_ks}


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
