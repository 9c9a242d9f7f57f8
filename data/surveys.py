"""Survey properties of the mock: extinction coefficients, noise models, saturation and depth
limits, footprints, the Gaia parallax, and the LAMOST-like spectroscopic truth-set selection.

Sources are sections of ``shared/reference/physics.md``:

* Extinction, one set on the SFD E(B−V) scale with A_V = 3.1 E(B−V) (§4.1): Gaia G/BP/RP from
  Casagrande & VandenBerg 2018 (2.740, 3.374, 2.035); PS1 grizy from Green et al. 2019
  (3.518, 2.617, 1.971, 1.549, 1.263); 2MASS J/H/Ks and WISE W1/W2 from Yuan et al. 2013
  (0.72, 0.46, 0.306, 0.18, 0.16). This gives A_G/A_W1 = 15.2, close to the 16 that Lucey et al.
  adopt from Hawkins et al. 2017.
* Gaia DR2 errors σ(G) = c0 + c1 exp(G/c2) for G, BP/RP and parallax (py-ananke fit to DR2,
  §6.1), with 3 mmag (G) and 6 mmag (BP/RP) calibration floors; parallax zero point −0.029 mas
  (Lindegren et al. 2018, A&A 616, A2, §6.1); 3 < G < 20.7.
* Pan-STARRS1 (§6.2): σ = √(0.01² + (0.217·10^{0.4(m − m5)})²) with m5 one magnitude deeper
  than the single-epoch 5σ limits (mean of many epochs); saturation g, r, i < 13.5, z < 13.0,
  y < 12.0; sources fainter than m5 are missing; footprint δ > −30°.
* 2MASS (§6.3): σ = √(0.02² + (0.1086·10^{0.4(m − m10)})²), m10 = 15.8, 15.1, 14.3, missing
  beyond the 3σ limits 17.1, 16.4, 15.3.
* AllWISE (§6.4): floor 0.025 mag, m5 = 16.9 (W1), 15.9 (W2); saturated W1 < 8, W2 < 7.
* Truth set (§8): LAMOST-like, δ > −10°, 9 < G < 17, selection probability rising towards the
  anticentre and high latitude; S/N falls with G; label noise σ_Teff = √(60² + (2500/S/N)²) K
  (≈ 70–150 K), σ_log g = √(0.08² + (4/S/N)²) (≈ 0.1–0.25 dex), σ_[Fe/H] = 0.05 + 2/S/N; seismic
  labels (Ting et al. 2018-like) for giants with S/N > 20: σ_Δν = 0.3 µHz, σ_ΔP 10 s (RGB) and
  30 s (core-He), 3 % catastrophic ΔP outliers, 3 % of classes wrong.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .schema import BAND_ERRORS, BANDS

__all__ = [
    "EXTINCTION_R",
    "PARALLAX_ZERO_POINT_MAS",
    "SPLIT_FRACTIONS",
    "detected",
    "observe",
    "parallax_sigma",
    "photometric_sigma",
    "spectroscopic_labels",
    "truthset_probability",
]

FloatArray = npt.NDArray[np.float64]

#: A_band / E(B−V)_SFD for each band (see module docstring).
EXTINCTION_R: dict[str, float] = {
    "phot_g_mean_mag": 2.740,
    "phot_bp_mean_mag": 3.374,
    "phot_rp_mean_mag": 2.035,
    "g_mean_psf_mag": 3.518,
    "r_mean_psf_mag": 2.617,
    "i_mean_psf_mag": 1.971,
    "z_mean_psf_mag": 1.549,
    "y_mean_psf_mag": 1.263,
    "j_m": 0.72,
    "h_m": 0.46,
    "ks_m": 0.306,
    "w1mpro": 0.18,
    "w2mpro": 0.16,
}
R_V = 3.1
PARALLAX_ZERO_POINT_MAS = -0.029
SPLIT_FRACTIONS = {"train": 0.6, "valid": 0.15, "test": 0.25}

_GAIA_ERR = {
    "phot_g_mean_mag": ((0.000214143, 1.07523e-7, 1.75147), 0.003),
    "phot_bp_mean_mag": ((0.00162729, 2.52848e-8, 1.25981), 0.006),
    "phot_rp_mean_mag": ((0.00162729, 2.52848e-8, 1.25981), 0.006),
}
_PARALLAX_ERR = (0.0426028, 2.583e-10, 0.923162)
# band: (floor, coefficient, reference magnitude, bright limit, faint limit)
_GROUND = {
    "g_mean_psf_mag": (0.01, 0.217, 23.0, 13.5, 23.0),
    "r_mean_psf_mag": (0.01, 0.217, 22.8, 13.5, 22.8),
    "i_mean_psf_mag": (0.01, 0.217, 22.5, 13.5, 22.5),
    "z_mean_psf_mag": (0.01, 0.217, 21.9, 13.0, 21.9),
    "y_mean_psf_mag": (0.01, 0.217, 20.7, 12.0, 20.7),
    "j_m": (0.02, 0.1086, 15.8, 5.0, 17.1),
    "h_m": (0.02, 0.1086, 15.1, 4.8, 16.4),
    "ks_m": (0.02, 0.1086, 14.3, 4.2, 15.3),
    "w1mpro": (0.025, 0.217, 16.9, 8.0, 16.9),
    "w2mpro": (0.025, 0.217, 15.9, 7.0, 15.9),
}


def _gaia_sigma(coeffs: tuple[float, float, float], g_mag: FloatArray) -> FloatArray:
    c0, c1, c2 = coeffs
    return c0 + c1 * np.exp(np.clip(g_mag, 3.0, 21.0) / c2)


def photometric_sigma(band: str, mag: FloatArray, g_mag: FloatArray) -> FloatArray:
    """A band's magnitude error (mag) at magnitude ``mag`` (Gaia bands: at Gaia G ``g_mag``),
    from the published error-versus-magnitude relations in the module docstring.

    Examples
    --------
    >>> float(np.round(photometric_sigma("j_m", np.array([15.8]), np.array([18.0]))[0], 4))
    0.1104
    """
    if band in _GAIA_ERR:
        coeffs, floor = _GAIA_ERR[band]
        return np.hypot(_gaia_sigma(coeffs, g_mag), floor)
    floor, coeff, ref, _, _ = _GROUND[band]
    # Clip the exponent: stars behind tens of magnitudes of dust are dropped anyway.
    return np.hypot(floor, coeff * 10 ** (0.4 * np.minimum(mag - ref, 10.0)))


def detected(band: str, mag: FloatArray) -> npt.NDArray[np.bool_]:
    """Whether a star of (true) magnitude ``mag`` is measured in ``band``: not saturated and
    above the survey's detection limit (module docstring)."""
    if band in _GAIA_ERR:
        return (mag > 3.0) & (mag < 20.7)
    _, _, _, bright, faint = _GROUND[band]
    return (mag > bright) & (mag < faint)


def parallax_sigma(g_mag: FloatArray) -> FloatArray:
    """Gaia DR2's parallax error (mas) at G = ``g_mag`` (py-ananke fit, module docstring)."""
    return _gaia_sigma(_PARALLAX_ERR, g_mag)


def observe(
    absolute: dict[str, FloatArray],
    dist_kpc: FloatArray,
    a_v: FloatArray,
    dec_deg: FloatArray,
    rng: np.random.Generator,
) -> tuple[dict[str, npt.NDArray[np.float32]], npt.NDArray[np.bool_]]:
    """Apparent magnitudes with noise, their errors and the parallax; and which stars survive.

    A star survives when it is in the PS1 footprint, unsaturated and detected in all 13 bands,
    and within Gaia's range, as the paper requires of its input.
    """
    distance_modulus = 5 * np.log10(dist_kpc * 100.0)
    ebv = a_v / R_V
    columns: dict[str, npt.NDArray[np.float32]] = {}
    keep = dec_deg > -30.0
    true_g = absolute["phot_g_mean_mag"] + distance_modulus + EXTINCTION_R["phot_g_mean_mag"] * ebv
    for band in BANDS:
        true_mag = absolute[band] + distance_modulus + EXTINCTION_R[band] * ebv
        sigma = photometric_sigma(band, true_mag, true_g)
        keep &= detected(band, true_mag)
        columns[band] = (true_mag + sigma * rng.standard_normal(true_mag.shape)).astype(np.float32)
        columns[BAND_ERRORS[band]] = sigma.astype(np.float32)
    parallax_error = parallax_sigma(true_g)
    parallax = 1.0 / dist_kpc + PARALLAX_ZERO_POINT_MAS + parallax_error * rng.standard_normal(dist_kpc.shape)
    columns["parallax"] = parallax.astype(np.float32)
    columns["parallax_error"] = parallax_error.astype(np.float32)
    return columns, keep


def truthset_probability(l_deg: FloatArray, b_deg: FloatArray, dec_deg: FloatArray, g_mag: FloatArray) -> FloatArray:
    """Probability that a star is in the LAMOST-like spectroscopic truth set.

    Zero outside δ > −10° and 9 < G < 17; otherwise rising from the Galactic centre towards the
    anticentre and from the plane towards high latitude (LAMOST's footprint and target priority),
    and falling towards faint G.
    """
    anticentre = 0.35 + 0.65 * 0.5 * (1.0 - np.cos(np.deg2rad(l_deg)))
    latitude = 0.4 + 0.6 * np.clip(np.abs(b_deg) / 30.0, 0.0, 1.0)
    brightness = np.clip((17.5 - g_mag) / 5.0, 0.1, 1.0)
    inside = (dec_deg > -10.0) & (g_mag > 9.0) & (g_mag < 17.0)
    return np.where(inside, anticentre * latitude * brightness, 0.0)


def spectroscopic_labels(
    truth: dict[str, npt.NDArray[np.generic]], g_mag: FloatArray, rng: np.random.Generator
) -> dict[str, npt.NDArray[np.generic]]:
    """Noisy LAMOST-like labels (teff, logg, feh, snr) and Ting et al.-like seismic labels."""
    n = g_mag.size
    snr = np.clip(10 ** (2.6 - 0.2 * (g_mag - 10.0)) * np.exp(rng.normal(0, 0.3, n)), 5.0, 1000.0)
    sigma_teff = np.sqrt(60.0**2 + (2500.0 / snr) ** 2)
    sigma_logg = np.sqrt(0.08**2 + (4.0 / snr) ** 2)
    labels: dict[str, npt.NDArray[np.generic]] = {
        "teff": (truth["teff"] + sigma_teff * rng.standard_normal(n)).astype(np.float32),
        "logg": (truth["logg"] + sigma_logg * rng.standard_normal(n)).astype(np.float32),
        "feh": (truth["feh"] + (0.05 + 2.0 / snr) * rng.standard_normal(n)).astype(np.float32),
        "snr": snr.astype(np.float32),
    }
    state = truth["state"]
    giant = np.isin(state, ["RGB", "RC", "2CL"])
    seismic = giant & (snr > 20.0)
    core_he = np.isin(state, ["RC", "2CL"])
    sigma_dp = np.where(core_he, 30.0, 10.0)
    deltap = truth["dp"] + sigma_dp * rng.standard_normal(n)
    outlier = rng.random(n) < 0.03
    deltap = np.where(outlier, rng.uniform(40.0, 350.0, n), deltap)
    deltanu = truth["dnu"] + 0.3 * rng.standard_normal(n)
    wrong = rng.random(n) < 0.03
    swapped = np.where(state == "RC", "RGB", "RC")
    klass = np.where(wrong, swapped, state).astype(object)
    labels["deltap"] = np.where(seismic, deltap, np.nan).astype(np.float32)
    labels["deltanu"] = np.where(seismic, deltanu, np.nan).astype(np.float32)
    labels["class"] = np.where(seismic, klass, None).astype(object)
    return labels
