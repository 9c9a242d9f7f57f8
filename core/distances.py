"""Red clump distances: W1 extinction from the G − W1 colour excess, the standard candle, and
Galactocentric coordinates.

Notes
-----
Following Lucey et al. (2020, §4 of the seed summary):

* intrinsic colour (G − W1)₀ = α + β Teff_phot, a straight line fitted on low-extinction stars
  (here: predicted giants at |b| > 30°, 3σ-clipped);
* E(G − W1) = (G − W1) − (G − W1)₀ and A_W1 = E(G − W1) / (A_G/A_W1 − 1) with A_G/A_W1 = 16
  (Hawkins et al. 2017);
* M_W1 = −1.68 ± 0.02 for the red clump (Hawkins et al. 2017) with an intrinsic spread of
  0.09 mag (Chan & Bovy 2020's infrared value);
* d = 10^{(W1 − A_W1 − M_W1 + 5)/5} pc and σ_d / d = (ln 10 / 5) σ_μ, with
  σ_μ² = σ_W1² + σ_A² + σ_M,int² + σ_M,cal².

A non-positive parallax gives a NaN parallax distance, never an inverted one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import astropy.units as u
import numpy as np
import numpy.typing as npt

__all__ = [
    "A_G_OVER_A_W1",
    "M_W1_RC",
    "IntrinsicColour",
    "compare_with_parallax",
    "extinction_w1",
    "fit_intrinsic_colour",
    "galactocentric",
    "parallax_distance",
    "rc_distance",
]

FloatArray = npt.NDArray[np.floating]

A_G_OVER_A_W1 = 16.0
M_W1_RC = -1.68
M_W1_RC_ERR = 0.02
M_W1_RC_SPREAD = 0.09
R0_KPC, Z_SUN_KPC = 8.178, 0.017


@dataclass(frozen=True)
class IntrinsicColour:
    """(G − W1)₀ = intercept + slope · Teff, with the fit's residual scatter (mag)."""

    intercept: float
    slope: float
    scatter: float
    n_stars: int

    def __call__(self, teff: FloatArray) -> FloatArray:
        return self.intercept + self.slope * np.asarray(teff, dtype=np.float64)


def fit_intrinsic_colour(
    teff: FloatArray, g_minus_w1: FloatArray, *, clip: float = 3.0, iterations: int = 5
) -> IntrinsicColour:
    """Fit (G − W1)₀ against Teff on low-extinction stars, with iterative sigma clipping.

    Raises
    ------
    ValueError
        With fewer than 10 finite stars to fit.

    Examples
    --------
    >>> teff = np.linspace(4000, 5200, 50)
    >>> fit = fit_intrinsic_colour(teff, 9.0 - 1.4e-3 * teff)
    >>> round(fit.slope * 1e3, 3), round(fit.intercept, 3)
    (-1.4, 9.0)
    """
    teff = np.asarray(teff, dtype=np.float64)
    colour = np.asarray(g_minus_w1, dtype=np.float64)
    keep = np.isfinite(teff) & np.isfinite(colour)
    if keep.sum() < 10:
        msg = f"need at least 10 low-extinction stars to fit (G - W1)0 vs Teff, got {int(keep.sum())}"
        raise ValueError(msg)
    for _ in range(iterations):
        slope, intercept = np.polyfit(teff[keep], colour[keep], 1)
        residual = colour - (intercept + slope * teff)
        scatter = float(np.std(residual[keep]))
        new_keep = keep & (np.abs(residual) <= max(clip * scatter, 1e-9))
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return IntrinsicColour(float(intercept), float(slope), scatter, int(keep.sum()))


def extinction_w1(g_mag: FloatArray, w1_mag: FloatArray, teff: FloatArray, relation: IntrinsicColour) -> FloatArray:
    """A_W1 = E(G − W1) / (A_G/A_W1 − 1)."""
    excess = np.asarray(g_mag, np.float64) - np.asarray(w1_mag, np.float64) - relation(teff)
    return excess / (A_G_OVER_A_W1 - 1.0)


def rc_distance(
    w1_mag: FloatArray,
    a_w1: FloatArray,
    *,
    w1_err: FloatArray | float = 0.0,
    a_w1_err: FloatArray | float = 0.0,
    m_w1: float = M_W1_RC,
) -> tuple[FloatArray, FloatArray]:
    """Red clump distance and its uncertainty, both in kpc.

    Examples
    --------
    >>> d, e = rc_distance(np.array([8.32]), np.array([0.0]))
    >>> round(float(d[0]), 3)
    1.0
    """
    mu = np.asarray(w1_mag, np.float64) - np.asarray(a_w1, np.float64) - m_w1
    dist = 10 ** (mu / 5.0 + 1.0) / 1000.0
    sigma_mu = np.sqrt(np.square(w1_err) + np.square(a_w1_err) + M_W1_RC_SPREAD**2 + M_W1_RC_ERR**2)
    return dist, dist * np.log(10) / 5.0 * sigma_mu


def parallax_distance(parallax_mas: FloatArray, parallax_error_mas: FloatArray) -> tuple[FloatArray, FloatArray]:
    """1/ϖ in kpc and its first-order uncertainty; NaN where ϖ ≤ 0."""
    plx = np.asarray(parallax_mas, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.where(plx > 0, 1.0 / plx, np.nan)
        err = np.where(plx > 0, np.asarray(parallax_error_mas, np.float64) / plx**2, np.nan)
    return dist, err


def galactocentric(l_deg: FloatArray, b_deg: FloatArray, dist_kpc: FloatArray) -> dict[str, FloatArray]:
    """Galactocentric x, y, z and cylindrical R (kpc) with astropy (R0 = 8.178 kpc, z☉ = 17 pc)."""
    # Imported here: astropy.coordinates costs ~0.3 s to import, and the app's start-up, which
    # reads this module for the RC absolute magnitude and extinction ratios, never transforms.
    from astropy.coordinates import Galactic, Galactocentric

    dist = np.asarray(dist_kpc, np.float64)
    ok = np.isfinite(dist) & (dist > 0)
    out = {key: np.full(dist.shape, np.nan) for key in ("x_gc", "y_gc", "z_gc", "r_gc")}
    if ok.any():
        coords = Galactic(l=np.asarray(l_deg)[ok] * u.deg, b=np.asarray(b_deg)[ok] * u.deg, distance=dist[ok] * u.kpc)
        frame = Galactocentric(galcen_distance=np.hypot(R0_KPC, Z_SUN_KPC) * u.kpc, z_sun=Z_SUN_KPC * u.kpc)
        gc = coords.transform_to(frame)
        x, y, z = (getattr(gc, axis).to_value(u.kpc) for axis in ("x", "y", "z"))
        out["x_gc"][ok], out["y_gc"][ok], out["z_gc"][ok] = x, y, z
        out["r_gc"][ok] = np.hypot(x, y)
    return out


def compare_with_parallax(
    dist: FloatArray,
    dist_err: FloatArray,
    parallax_mas: FloatArray,
    parallax_error_mas: FloatArray,
    *,
    min_parallax_over_error: float = 20.0,
) -> dict[str, float]:
    """RC against Gaia parallax distances.

    Returns the median and robust scatter of d_RC / d_ϖ for stars with ϖ/σ_ϖ above the limit,
    their count, and the distance beyond which the RC distance is more precise than the
    parallax distance (the median crossing of σ_d,RC and σ_d,ϖ in distance bins).
    """
    plx = np.asarray(parallax_mas, np.float64)
    poe = plx / np.asarray(parallax_error_mas, np.float64)
    d_plx, e_plx = parallax_distance(plx, parallax_error_mas)
    good = (poe > min_parallax_over_error) & np.isfinite(dist)
    ratio = dist[good] / d_plx[good]
    out = {"n_precise_parallax": int(good.sum())}
    if good.any():
        out["ratio_median"] = float(np.median(ratio))
        out["ratio_scatter"] = float(1.4826 * np.median(np.abs(ratio - np.median(ratio))))
    # σ_ϖ-distance grows as d², σ_RC as d: find where their medians cross.
    bins = np.linspace(0.0, 10.0, 41)
    finite = np.isfinite(dist) & np.isfinite(dist_err)
    with np.errstate(invalid="ignore"):
        e_plx_all = np.where(np.isfinite(e_plx), e_plx, np.asarray(parallax_error_mas) * dist**2)
    crossing = float("nan")
    for lo, hi in itertools.pairwise(bins):
        sel = finite & (dist >= lo) & (dist < hi)
        if sel.sum() >= 20 and np.median(dist_err[sel]) < np.median(e_plx_all[sel]):
            crossing = float(0.5 * (lo + hi))
            break
    out["rc_more_precise_beyond_kpc"] = crossing
    return out
