"""How many red giants of each evolutionary phase a stellar population makes, from stellar evolution.

The number of stars in a post-main-sequence phase *j* per unit mass formed, for a population of
age *t*, is the evolutionary flux times the phase lifetime (Renzini & Buzzoni 1986; Girardi &
Salaris 2001, MNRAS 323, 109; Girardi 2016, ARA&A 54, 95):

    n_j(t) = φ(M_TO) |dM_TO/dt| τ_j(M_TO, Z)

so a population formed at a constant rate over [t1, t2] holds
N_j ∝ ∫ φ(M) τ_j(M) dM between the turn-off masses of t2 and t1, and its giants have the age
distribution n_RGB(t) + n_He(t). Young populations make many more giants per unit mass than old
ones (steeper flux, longer core-He burning just above M_HeF), which is why the clump of the disk
is dominated by 1–4 Gyr stars.

Ingredients, each from the literature:

* Turn-off: the time to reach the base of the giant branch, t_BGB(M, Z), of Hurley, Pols & Tout
  2000 (MNRAS 315, 543, eq. 4 with the Appendix coefficients), inverted for M.
* Helium-flash mass M_HeF(Z) = 1.995 + 0.25 ζ + 0.087 ζ², ζ = log10(Z/0.02) (Hurley et al. 2000,
  eq. 2). Below it helium ignites in a degenerate core (red clump, RC); above it in a
  non-degenerate one (secondary clump, 2CL; Girardi 1999).
* IMF: Kroupa 2001, dN/dM ∝ M^-2.3 above 0.5 M☉ (only giants' progenitors, > 0.7 M☉, matter).
* Core-He-burning lifetime: τ_He = 100 Myr below M_HeF, where all stars ignite helium at the
  same core mass ≈ 0.47 M☉ (Girardi & Salaris 2001; Girardi 2016, §2). Above M_HeF the core at
  ignition is smaller and the phase lasts longer, then shortens with mass; τ_He = 0.2 t_BGB
  [suggested: the common rule that core-He burning lasts ~20 % of the main sequence of
  intermediate-mass stars]; it gives a 2.3× longer phase just above M_HeF, as Girardi (1999)
  describes for the secondary clump.
* Red-giant-branch time inside the observed window 1.0 < log g < 3.5: the hydrogen shell eats
  into the envelope at dM_c/dt = L / (X Q), X = 0.70, Q = 6.4e18 erg g⁻¹ (H → He), and on a
  degenerate core the luminosity is fixed by the core mass, L = 2.3e5 L☉ (M_c/M☉)^6 (Boothroyd &
  Sackmann 1988, ApJ 328, 671). Integrating, τ_RGB = X Q M☉ / (5 A L☉) [(L1/A)^-5/6 − (L2/A)^-5/6]
  with A = 2.3e5 and L1, L2 the luminosities at the window's edges (L = M g⁻¹ Teff⁴ in solar
  units). The same relation gives the RGB luminosity function dN/dln L ∝ L^-5/6, i.e.
  dN/dlog g ∝ 10^{(5/6) log g} at fixed mass. Stars above M_HeF leave the RGB at the
  luminosity of their (secondary-clump) ignition; their cores are not degenerate, the relation
  does not hold, and their RGB is short: τ_RGB = 0.03 t_BGB above M_HeF [suggested: a few per
  cent of the main sequence, e.g. ~35 Myr at 2 M☉].
* Z = 0.0152 × 10^[Fe/H] (PARSEC's solar metallicity, Bressan et al. 2012).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

__all__ = [
    "LOGG_RGB_MAX",
    "LOGG_RGB_MIN",
    "LUMINOSITY_FUNCTION_SLOPE",
    "TAU_HE_LOW_MASS_MYR",
    "age_pdf",
    "core_he_lifetime",
    "draw_giant_ages",
    "giants_per_unit_mass",
    "helium_flash_mass",
    "luminosity",
    "rgb_teff",
    "rgb_window_lifetime",
    "t_bgb",
    "turnoff_mass",
    "zeta",
]

FloatArray = npt.NDArray[np.float64]

Z_SUN = 0.0152
TAU_HE_LOW_MASS_MYR = 100.0
HE_FRACTION_OF_MS = 0.2
RGB_FRACTION_OF_MS_ABOVE_FLASH = 0.03
IMF_SLOPE = 2.3
#: RGB window in log g: the giants the truth set and the networks deal with (DESIGN: log g < 3.5).
LOGG_RGB_MIN, LOGG_RGB_MAX = 1.0, 3.5
#: dN/dlog g ∝ 10^(slope · log g) on the RGB: (1 − 1/6) from L ∝ M_c^6 and fuel consumption.
LUMINOSITY_FUNCTION_SLOPE = 5.0 / 6.0
_CORE_L_COEFF = 2.3e5  # L☉ per M☉^6, Boothroyd & Sackmann 1988
_X_ENV, _Q_H = 0.70, 6.4e18  # envelope H fraction; erg g⁻¹ released by H → He
_MSUN_G, _LSUN_ERG_S, _MYR_S = 1.989e33, 3.828e33, 3.156e13
#: X Q M☉ / (5 A L☉) in Myr.
_RGB_TIME_UNIT_MYR = _X_ENV * _Q_H * _MSUN_G / (5.0 * _CORE_L_COEFF * _LSUN_ERG_S) / _MYR_S
TEFF_SUN, LOGG_SUN = 5772.0, 4.438


def zeta(feh: FloatArray) -> FloatArray:
    """ζ = log10(Z / 0.02) of Hurley et al. (2000) from [Fe/H], with Z☉ = 0.0152."""
    return np.log10(Z_SUN / 0.02) + np.asarray(feh, dtype=np.float64)


def t_bgb(mass: FloatArray, feh: FloatArray) -> FloatArray:
    """Time (Myr) for a star of initial ``mass`` (M☉) to reach the base of the giant branch.

    Hurley, Pols & Tout (2000), eq. 4: t_BGB = (a1 + a2 M⁴ + a3 M^5.5 + M⁷) / (a4 M² + a5 M⁷),
    with a1…a5 cubic in ζ (their Appendix A).

    Examples
    --------
    >>> round(float(t_bgb(np.array(1.0), np.log10(0.02 / 0.0152))))  # Z = 0.02
    11582
    >>> round(float(t_bgb(np.array(2.0), np.log10(0.02 / 0.0152))))
    1174
    """
    z = zeta(feh)
    a1 = 1.593890e3 + z * (2.053038e3 + z * (1.231226e3 + z * 2.327785e2))
    a2 = 2.706708e3 + z * (1.483131e3 + z * (5.772723e2 + z * 7.411230e1))
    a3 = 1.466143e2 + z * (-1.048442e2 + z * (-6.795374e1 + z * -1.391127e1))
    a4 = 4.141960e-2 + z * (4.564888e-2 + z * (2.958542e-2 + z * 5.571483e-3))
    a5 = 3.426349e-1
    m = np.asarray(mass, dtype=np.float64)
    m2 = m * m
    m4 = m2 * m2
    m7 = m4 * m2 * m
    return (a1 + a2 * m4 + a3 * m4 * m**1.5 + m7) / (a4 * m2 + a5 * m7)


def _invert_t_bgb(age_gyr: FloatArray, feh: FloatArray) -> FloatArray:
    log_t = np.log(np.asarray(age_gyr, dtype=np.float64) * 1e3)
    feh = np.broadcast_to(np.asarray(feh, dtype=np.float64), log_t.shape)
    log_m = np.log(np.clip((np.exp(log_t) / 1e4) ** -0.4, 0.5, 8.0))
    step = 1e-4
    for _ in range(10):
        f = np.log(t_bgb(np.exp(log_m), feh)) - log_t
        slope = (np.log(t_bgb(np.exp(log_m + step), feh)) - np.log(t_bgb(np.exp(log_m), feh))) / step
        log_m = np.clip(log_m - f / np.minimum(slope, -0.5), np.log(0.5), np.log(12.0))
    return np.exp(log_m)


_GRID_LOG_AGE = np.linspace(np.log10(0.05), np.log10(15.0), 601)
_GRID_FEH = np.linspace(-3.0, 0.7, 75)


@cache
def _turnoff_table() -> FloatArray:
    ages, fehs = np.meshgrid(10.0**_GRID_LOG_AGE, _GRID_FEH, indexing="ij")
    return np.log(_invert_t_bgb(ages, fehs))


def turnoff_mass(age_gyr: FloatArray, feh: FloatArray) -> FloatArray:
    """Initial mass (M☉) of the stars reaching the giant branch at ``age_gyr``: t_BGB(M) = age.

    t_BGB is inverted by Newton iteration on a (log age, [Fe/H]) grid once per process, then
    interpolated bilinearly in log M (error < 1e-4 M☉; ages 0.05–15 Gyr, [Fe/H] −3 to 0.7).

    Examples
    --------
    >>> age = np.array([1.0, 3.0, 10.0])
    >>> np.round(turnoff_mass(age, np.zeros(3)), 2).tolist()
    [2.08, 1.44, 1.02]
    """
    log_age = np.log10(np.asarray(age_gyr, dtype=np.float64))
    feh = np.broadcast_to(np.asarray(feh, dtype=np.float64), log_age.shape)
    table = _turnoff_table()

    def index(values: FloatArray, grid: FloatArray) -> tuple[npt.NDArray[np.intp], FloatArray]:
        position = (np.clip(values, grid[0], grid[-1]) - grid[0]) / (grid[1] - grid[0])
        i = np.minimum(position.astype(np.intp), grid.size - 2)
        return i, position - i

    i, wi = index(log_age, _GRID_LOG_AGE)
    j, wj = index(feh, _GRID_FEH)
    low = table[i, j] * (1 - wj) + table[i, j + 1] * wj
    high = table[i + 1, j] * (1 - wj) + table[i + 1, j + 1] * wj
    return np.exp(low * (1 - wi) + high * wi)


def helium_flash_mass(feh: FloatArray) -> FloatArray:
    """Maximum initial mass (M☉) for a degenerate helium ignition (Hurley et al. 2000, eq. 2).

    Examples
    --------
    >>> round(float(helium_flash_mass(np.log10(0.02 / 0.0152))), 3)
    1.995
    """
    z = zeta(feh)
    return 1.995 + z * (0.25 + 0.087 * z)


def core_he_lifetime(mass: FloatArray, feh: FloatArray) -> FloatArray:
    """Core-helium-burning lifetime (Myr): 100 Myr below M_HeF, 0.2 t_BGB above (module notes)."""
    mass = np.asarray(mass, dtype=np.float64)
    above = HE_FRACTION_OF_MS * t_bgb(mass, feh)
    return np.where(mass <= helium_flash_mass(feh), TAU_HE_LOW_MASS_MYR, above)


def rgb_teff(logg: FloatArray, feh: FloatArray, mass: FloatArray) -> FloatArray:
    """Mean RGB Teff (K) along the branch: 4630 + 330 (log g − 2.45) − 250 [Fe/H] + 80 (M − 1.2).

    An assumption with no published source (docs/mock.md, Assumptions): physics.md §10 has no RGB
    relation (its recipe gives only the clump's Teff), and none was found in the literature. For
    scale, stellar models miss the APOKASC red giants' Teff by ~100 K per dex of [Fe/H] (Tayar et
    al. 2017, ApJ 840, 17), so the [Fe/H] slope is uncertain by at least that much.
    """
    return 4630.0 + 330.0 * (logg - 2.45) - 250.0 * feh + 80.0 * (mass - 1.2)


def luminosity(mass: FloatArray, logg: FloatArray, teff: FloatArray) -> FloatArray:
    """L/L☉ = (M/M☉)(g/g☉)⁻¹(Teff/Teff☉)⁴."""
    return mass * 10.0 ** (LOGG_SUN - logg) * (teff / TEFF_SUN) ** 4


def rgb_window_lifetime(
    mass: FloatArray, feh: FloatArray, *, logg_min: FloatArray | float = LOGG_RGB_MIN
) -> FloatArray:
    """Time (Myr) an RGB star spends with ``logg_min`` < log g < 3.5 (fuel consumption, module notes).

    Examples
    --------
    >>> round(float(rgb_window_lifetime(np.array(1.2), np.array(0.0))))
    432
    """
    mass = np.asarray(mass, dtype=np.float64)
    degenerate = _degenerate_rgb_lifetime(mass, feh, logg_min=logg_min)
    short = RGB_FRACTION_OF_MS_ABOVE_FLASH * t_bgb(mass, feh)
    return np.where(mass <= helium_flash_mass(feh), degenerate, short)


def _degenerate_rgb_lifetime(
    mass: FloatArray, feh: FloatArray, *, logg_min: FloatArray | float = LOGG_RGB_MIN
) -> FloatArray:
    mass = np.asarray(mass, dtype=np.float64)
    logg_max = np.full_like(mass, LOGG_RGB_MAX)
    logg_min = np.broadcast_to(np.asarray(logg_min, dtype=np.float64), mass.shape)
    l_faint = luminosity(mass, logg_max, rgb_teff(logg_max, feh, mass))
    l_bright = luminosity(mass, logg_min, rgb_teff(logg_min, feh, mass))
    power = -5.0 / 6.0
    span = (l_faint / _CORE_L_COEFF) ** power - (l_bright / _CORE_L_COEFF) ** power
    return _RGB_TIME_UNIT_MYR * np.maximum(span, 0.0)


def _imf(mass: FloatArray) -> FloatArray:
    return mass**-IMF_SLOPE


def age_pdf(ages_gyr: FloatArray, feh: float) -> tuple[FloatArray, FloatArray]:
    """Giants (RGB window + core-He burners) per unit mass formed per Gyr of age, on ``ages_gyr``.

    Returns ``(n_rgb, n_he)``: φ(M_TO) |dM_TO/dt| τ_j(M_TO) for the RGB window and for core-He
    burning, in arbitrary but common units (Kroupa IMF not normalised), so a component formed at a
    constant rate holds giants in proportion to the mean of ``n_rgb + n_he`` over its ages.
    """
    ages = np.asarray(ages_gyr, dtype=np.float64)
    fehs = np.full_like(ages, feh)
    mass = turnoff_mass(ages, fehs)
    dm_dt = np.abs(np.gradient(mass, ages))
    flux = _imf(mass) * dm_dt
    return flux * rgb_window_lifetime(mass, fehs), flux * core_he_lifetime(mass, fehs)


@cache
def _component_age_grid(age_min: float, age_max: float, feh: float) -> tuple[FloatArray, FloatArray, float]:
    ages = np.linspace(age_min, age_max, 512)
    n_rgb, n_he = age_pdf(ages, feh)
    total = n_rgb + n_he
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (total[1:] + total[:-1]) * np.diff(ages))])
    return ages, cdf / cdf[-1], float(np.mean(total))


def giants_per_unit_mass(age_range_gyr: tuple[float, float], feh: float) -> float:
    """Relative number of giants per unit stellar mass of a population formed at a constant rate
    over ``age_range_gyr`` with metallicity ``feh`` (common arbitrary units)."""
    return _component_age_grid(float(age_range_gyr[0]), float(age_range_gyr[1]), float(feh))[2]


def draw_giant_ages(age_range_gyr: tuple[float, float], feh: float, n: int, rng: np.random.Generator) -> FloatArray:
    """Ages (Gyr) of ``n`` giants of a constant-rate population, distributed as its giants are."""
    ages, cdf, _ = _component_age_grid(float(age_range_gyr[0]), float(age_range_gyr[1]), float(feh))
    return np.interp(rng.random(n), cdf, ages)
