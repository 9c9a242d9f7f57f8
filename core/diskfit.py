"""A density fit that uses a selection function: the disc's radial scale length from star counts.

The stars are counted in voxels, HEALPix pixels × distance bins (the grid of a selection
function binned in distance, :mod:`redclump.core.selfunc`). The model is a double-exponential
disc,

  ρ(R, z) = A exp(−R / h_R) exp(−|z| / h_z),

so that the surface density is Σ(R) ∝ exp(−R / h_R), and a voxel's expected count is

  λ_v = ∫_v ρ S dV ≈ S_v Σ_sub ρ(R_sub, z_sub) ΔV_sub,

the integral over 16 sub-pixels × 4 sub-shells of the voxel (the disc's vertical profile changes
within a pixel far away), S_v the probability that a star there is in the sample. The counts
(weighted by each star's probability of being a red clump star where contamination is
estimated) are Poisson with mean λ_v; A is profiled out (A = Σ n / Σ λ/A) and (h_R, h_z) maximise
Σ n log λ − λ (L-BFGS on their logarithms). Voxels whose centre lies outside R_min < R < R_max or
|z| < z_max, or where S is below ``min_selection``, are left out.

This is the standard Poisson likelihood of a density fit with an effective selection function
(Bovy et al. 2016, ApJ 818, 130, eq. 5), binned.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from redclump.data.galaxy import R0_KPC, Z_SUN_KPC

__all__ = ["DiskFit", "Voxels", "count_in_voxels", "fit_disk", "fit_mask", "galactocentric_rz", "voxels"]

FloatArray = npt.NDArray[np.float64]


def galactocentric_rz(
    l_deg: npt.ArrayLike, b_deg: npt.ArrayLike, d_kpc: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Galactocentric radius R and height z (kpc) from Galactic (l, b) (deg) and distance (kpc),
    with the Sun at R0 = 8.178 kpc and z☉ = 17 pc (:mod:`redclump.data.galaxy`).

    Examples
    --------
    >>> r, z = galactocentric_rz([0.0, 180.0], [0.0, 0.0], [8.178, 2.0])
    >>> np.round(r, 3).tolist(), np.round(z, 3).tolist()
    ([0.0, 10.178], [0.017, 0.017])
    """
    lr, br = np.deg2rad(np.asarray(l_deg, dtype=np.float64)), np.deg2rad(np.asarray(b_deg, dtype=np.float64))
    d = np.asarray(d_kpc, dtype=np.float64)
    x = -R0_KPC + d * np.cos(br) * np.cos(lr)
    y = d * np.cos(br) * np.sin(lr)
    return np.hypot(x, y), Z_SUN_KPC + d * np.sin(br)


@dataclass(frozen=True)
class Voxels:
    """Pixels × distance bins, flattened as ``bin * pixels + pixel`` (the maps' (bins, pixels)
    order): each voxel's centre R and z, and its sub-volumes' R, |z| and volume (voxels, 64)."""

    order: int
    edges: FloatArray
    r_centre: FloatArray
    z_centre: FloatArray
    r_sub: FloatArray
    z_sub: FloatArray
    volume_sub: FloatArray


def voxels(order: int, edges: npt.ArrayLike) -> Voxels:
    """The voxel grid of HEALPix ``order`` (NESTED, Galactic) and distance bin ``edges`` (kpc)."""
    import astropy.units as u
    from astropy_healpix import healpix_to_lonlat

    edges = np.asarray(edges, dtype=np.float64)
    n_pix = 12 * 4**order
    lon, lat = healpix_to_lonlat(np.arange(n_pix), 2**order, order="nested")
    sub_lon, sub_lat = healpix_to_lonlat(np.arange(16 * n_pix), 2 ** (order + 2), order="nested")
    omega_sub = 4 * np.pi / (16 * n_pix)
    fractions = (np.arange(4) + 0.5) / 4
    r_c, z_c, r_s, z_s, v_s = [], [], [], [], []
    for lo, hi in itertools.pairwise(edges):
        mid = 0.75 * (hi**4 - lo**4) / (hi**3 - lo**3)
        r, z = galactocentric_rz(lon.to_value(u.deg), lat.to_value(u.deg), np.full(n_pix, mid))
        r_c.append(r)
        z_c.append(z)
        shells = np.cbrt(lo**3 + (hi**3 - lo**3) * fractions)  # equal-volume sub-shells
        l_sub = np.repeat(sub_lon.to_value(u.deg)[:, None], 4, axis=1)
        b_sub = np.repeat(sub_lat.to_value(u.deg)[:, None], 4, axis=1)
        r, z = galactocentric_rz(l_sub, b_sub, np.broadcast_to(shells, l_sub.shape))
        r_s.append(r.reshape(n_pix, 64))
        z_s.append(np.abs(z).reshape(n_pix, 64))
        v_s.append(np.full((n_pix, 64), omega_sub * (hi**3 - lo**3) / 3 / 4))
    return Voxels(order, edges, *(np.concatenate(x) for x in (r_c, z_c, r_s, z_s, v_s)))


def count_in_voxels(
    l_deg: npt.ArrayLike,
    b_deg: npt.ArrayLike,
    d_kpc: npt.ArrayLike,
    *,
    order: int,
    edges: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """Stars (or their weights) per (distance bin, pixel)."""
    from .selfunc import _bin_index, healpix_index

    edges = np.asarray(edges, dtype=np.float64)
    n_pix = 12 * 4**order
    binned = _bin_index(d_kpc, edges)
    pixel = healpix_index(l_deg, b_deg, order)
    ok = binned >= 0
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    flat = np.bincount(binned[ok] * n_pix + pixel[ok], weights=w, minlength=(len(edges) - 1) * n_pix)
    return np.asarray(flat, dtype=np.float64).reshape(len(edges) - 1, n_pix)


@dataclass(frozen=True)
class DiskFit:
    """A fitted disc: scale length ``h_r`` and height ``h_z`` (kpc), the voxels and stars used."""

    h_r: float
    h_z: float
    n_voxels: int
    n_stars: float


def fit_disk(
    counts: npt.ArrayLike,
    selection: npt.ArrayLike,
    grid: Voxels,
    *,
    r_range: tuple[float, float] = (6.0, 14.0),
    z_max: float = 2.0,
    min_selection: float = 0.02,
    mask: npt.ArrayLike | None = None,
) -> DiskFit:
    """Fit h_R and h_z of a double-exponential disc to counts per voxel.

    Parameters
    ----------
    counts
        Stars (or weights) per (distance bin, pixel).
    selection
        The probability that a star of the voxel is counted, (distance bin, pixel); 1 everywhere
        for a fit without a selection function.
    grid
        The voxels (:func:`voxels`).
    r_range, z_max
        Voxels whose centre lies outside are left out (kpc).
    min_selection
        Voxels with a smaller ``selection`` are left out.
    mask
        Voxels to use instead of those the limits above give (to fit several samples over the
        same voxels).

    Returns
    -------
    DiskFit

    Examples
    --------
    Counts drawn from the model itself give its scale length back:

    >>> grid = voxels(2, np.arange(0.0, 12.1, 1.0))
    >>> rho = np.exp(-grid.r_sub / 2.6 - grid.z_sub / 0.3)
    >>> expected = (rho * grid.volume_sub).sum(axis=1).reshape(12, -1) * 400
    >>> counts = np.random.default_rng(1).poisson(expected)
    >>> fit = fit_disk(counts, np.ones_like(expected), grid)
    >>> abs(fit.h_r - 2.6) < 0.3, abs(fit.h_z - 0.3) < 0.05
    (True, True)
    """
    import torch

    n = np.asarray(counts, dtype=np.float64).ravel()
    s = np.asarray(selection, dtype=np.float64).ravel()
    if mask is None:
        use = fit_mask(selection, grid, r_range=r_range, z_max=z_max, min_selection=min_selection)
    else:
        use = np.asarray(mask, dtype=bool).ravel()
    r_sub = torch.from_numpy(grid.r_sub[use])
    z_sub = torch.from_numpy(grid.z_sub[use])
    weight = torch.from_numpy(grid.volume_sub[use] * s[use, None])
    n_t = torch.from_numpy(n[use])
    params = torch.tensor([np.log(3.0), np.log(0.3)], dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([params], max_iter=200, tolerance_grad=1e-10, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        h_r, h_z = torch.exp(params)
        shape = (weight * torch.exp(-r_sub / h_r - z_sub / h_z)).sum(dim=1)
        amplitude = n_t.sum() / shape.sum()
        value = -(n_t * torch.log(amplitude * shape + 1e-300) - amplitude * shape).sum() / n_t.sum()
        value.backward()
        return value

    optimiser.step(loss)
    h_r, h_z = np.exp(params.detach().numpy())
    return DiskFit(float(h_r), float(h_z), int(use.sum()), float(n[use].sum()))


def fit_mask(
    selection: npt.ArrayLike,
    grid: Voxels,
    *,
    r_range: tuple[float, float] = (6.0, 14.0),
    z_max: float = 2.0,
    min_selection: float = 0.02,
) -> npt.NDArray[np.bool_]:
    """The voxels :func:`fit_disk` uses: centre inside ``r_range`` and ``|z| < z_max``, and
    ``selection`` at least ``min_selection``."""
    s = np.asarray(selection, dtype=np.float64).ravel()
    return (
        (grid.r_centre > r_range[0])
        & (grid.r_centre < r_range[1])
        & (np.abs(grid.z_centre) < z_max)
        & np.isfinite(s)
        & (s >= min_selection)
    )
