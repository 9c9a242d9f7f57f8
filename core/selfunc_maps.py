"""The maps behind a cut's selection function (:mod:`redclump.core.selfunc`): its completeness
resolved on the sky and in G (or RC distance), per HEALPix pixel, with hierarchical borrowing.

A *selection function* S(l, b, G) is the probability that a red clump star of the catalogue at
(l, b) with Gaia G ends up in the sample a :class:`~redclump.core.selection.Cut` selects. It is the
catalogue-level completeness of :mod:`redclump.core.estimates` resolved per HEALPix pixel
(Galactic frame, NESTED ordering) and per G bin (or RC-distance bin):

* Each catalogue star sits in a mix cell m (G × RC distance × extinction × |b| band,
  :mod:`redclump.core.cells`). The cell's RC share π_RC(m) (EM on the catalogue with the twins'
  likelihoods) makes Σ π_RC over a pixel's stars its expected RC stars; the cut's contamination
  in the cell, c(m) = 1 − π_RC T_RC / Σ_c π_c T_c (T_c: the share of class c's degraded twins in
  the rate cell that pass the cut), makes Σ (1 − c) over its selected stars its selected RC
  stars. Over the stars of a pixel p and bin j,

  S_raw(p, j) = Σ_selected (1 − c(m)) / Σ_all π_RC(m),

  the catalogue estimate's completeness (docs/estimates.md) restricted to the pixel and bin:
  summed over the sky, the maps' numerators and denominators give the estimate the numbers
  panel, ``select`` and ``report`` show. Direction enters through the pixel's own selected and
  parent counts; the rates and the class mix per cell are shared (direction-free, by the
  estimate's assumption).

**Borrowing from coarser levels.** A pixel with few stars has a noisy ratio. Each level k
(HEALPix order 0 … K, NESTED: the parent of pixel p is p // 4) is shrunk towards its parent
with :data:`PSEUDO_STARS` pseudo RC stars,

  S_k(p) = (Σ_sel (1 − c) + α S_{k−1}(p // 4)) / (N_k(p) + α),

N_k the pixel's expected RC stars and α = :data:`PSEUDO_STARS`; level −1 is the whole sky in that
bin. An empty pixel takes its parent's value; a pixel with N ≫ α keeps its own. This is the
Beta-prior form of the hierarchical estimate of gaiaunlimited (Cantat-Gaudin et al. 2023): the
prior of a pixel is its parent's value with the weight of α stars.

**Uncertainty.** The variance is the spread of S over :data:`MAP_DRAWS` draws of every T_c from
its Beta posterior and the class mix's bootstrap replicates (as the catalogue estimate's
intervals), plus the counting term Σ_sel (1 − c)² / (N + α)² (the selected stars as a Poisson
draw; a borrowing pixel adds its parent's, weighted by α² / (N + α)²).

The parent catalogue's own completeness (whether an RC star is in the input at all: the surveys'
footprints, saturation and depth) is not part of S; it is carried separately (``parent``) where it
is known (the mock, :mod:`redclump.data.parent_completeness`). On real data S is "relative to the
input catalogue".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .cells import N_B, N_MIX_CELLS, mix_cell
from .estimates import ClassRates

__all__ = [
    "BINNINGS",
    "DEFAULT_ORDER",
    "DEFINITION",
    "DIST_BIN_EDGES",
    "G_BIN_EDGES",
    "MAP_DRAWS",
    "MAX_ORDER",
    "PARENT_MOCK",
    "PARENT_UNKNOWN",
    "PSEUDO_STARS",
    "SelfuncError",
    "SkyCounts",
    "completeness_maps",
    "count_stars",
    "healpix_index",
    "rc_purity",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Binning = Literal["g", "dist"]

#: HEALPix order of the maps unless asked (order 5: NSIDE 32, 12,288 pixels of 1.8°).
DEFAULT_ORDER = 5
#: Gaia G bin edges (mag): 1 mag, over the catalogue's range.
G_BIN_EDGES = tuple(float(g) for g in np.arange(12.0, 20.01, 1.0))
#: RC-distance bin edges (kpc): 1 kpc to 16 kpc, then 2 kpc, then wider.
DIST_BIN_EDGES = (*(float(d) for d in range(0, 16)), 16.0, 18.0, 20.0, 24.0, 28.0, 32.0, 40.0, 50.0)
#: The binning axes: column of the catalogue, unit, FITS name.
BINNINGS: dict[str, tuple[str, str]] = {"g": ("phot_g_mean_mag", "mag"), "dist": ("dist", "kpc")}
#: Pseudo RC stars with which a pixel leans on its parent (α above): a pixel's own stars
#: outweigh its parent's from ~20 expected RC stars on, where a cell mix is known to ~20 %.
PSEUDO_STARS = 20.0
#: Draws behind the maps' variance (the catalogue estimate's intervals use 200; 64 fix a
#: standard deviation to ~9 %, and every draw is a pass over every pixel of every level).
MAP_DRAWS = 64
#: Largest HEALPix order accepted (NSIDE 512, 3.1 M pixels a bin).
MAX_ORDER = 9


class SelfuncError(ValueError):
    """A selection function cannot be built, read or queried as asked."""


def healpix_index(l_deg: npt.ArrayLike, b_deg: npt.ArrayLike, order: int) -> IntArray:
    """NESTED HEALPix pixel of Galactic (l, b) in degrees at ``order`` (NSIDE = 2**order).

    Examples
    --------
    >>> healpix_index([0.0, 180.0], [90.0, -90.0], 0).tolist()
    [0, 10]
    """
    import astropy.units as u
    from astropy_healpix import lonlat_to_healpix

    lon = np.asarray(l_deg, dtype=np.float64) * u.deg
    lat = np.asarray(b_deg, dtype=np.float64) * u.deg
    return np.asarray(lonlat_to_healpix(lon, lat, 2**order, order="nested"), dtype=np.int64)


def _bin_index(values: npt.ArrayLike, edges: FloatArray) -> IntArray:
    """Bin of each value (edges[i] ≤ x < edges[i + 1]); −1 outside or not finite."""
    x = np.asarray(values, dtype=np.float64)
    index = np.searchsorted(edges, x, side="right") - 1
    return np.where(np.isfinite(x) & (index >= 0) & (index < len(edges) - 1), index, -1)


@dataclass(frozen=True)
class SkyCounts:
    """Catalogue stars per (pixel at ``order``, bin, mix cell), sparse.

    ``keys`` are sorted, unique ``(pixel * n_bins + bin) * N_MIX_CELLS + mix cell``; ``n`` counts
    every star there and ``n_sel`` those the cut selects."""

    order: int
    by: Binning
    edges: FloatArray
    keys: IntArray
    n: FloatArray
    n_sel: FloatArray

    @property
    def n_bins(self) -> int:
        return len(self.edges) - 1

    @classmethod
    def merge(cls, parts: Iterable[SkyCounts]) -> SkyCounts:
        """The sum of several counts on the same grid (one per catalogue partition)."""
        parts = list(parts)
        if not parts:
            msg = "no star counts to merge (an empty catalogue?)"
            raise SelfuncError(msg)
        first = parts[0]
        keys = np.concatenate([p.keys for p in parts])
        unique, inverse = np.unique(keys, return_inverse=True)

        def total(arrays: list[FloatArray]) -> FloatArray:
            summed = np.bincount(inverse, weights=np.concatenate(arrays), minlength=unique.size)
            return np.asarray(summed, dtype=np.float64)

        n, n_sel = total([p.n for p in parts]), total([p.n_sel for p in parts])
        return cls(first.order, first.by, first.edges, unique.astype(np.int64), n, n_sel)


def count_stars(
    l_deg: npt.ArrayLike,
    b_deg: npt.ArrayLike,
    g_mag: npt.ArrayLike,
    a_w1: npt.ArrayLike,
    dist: npt.ArrayLike,
    *,
    order: int = DEFAULT_ORDER,
    by: Binning = "g",
    edges: npt.ArrayLike | None = None,
    selected: npt.ArrayLike | None = None,
) -> SkyCounts:
    """Count catalogue stars per pixel, bin and mix cell.

    Parameters
    ----------
    l_deg, b_deg
        Galactic longitude and latitude (deg).
    g_mag, a_w1, dist
        Gaia G (mag), estimated W1 extinction (mag) and RC distance (kpc): they place a star in
        its mix cell, and G or ``dist`` in its bin.
    order
        HEALPix order (NSIDE = 2**order).
    by
        ``"g"`` (bins of G) or ``"dist"`` (bins of RC distance).
    edges
        Bin edges in the unit of ``by``; default :data:`G_BIN_EDGES` or :data:`DIST_BIN_EDGES`.
    selected
        Stars the cut selects (None: all).

    Returns
    -------
    SkyCounts
        Stars outside the bins or without a mix cell are not counted.

    Examples
    --------
    >>> c = count_stars([10.0, 10.0], [5.0, 5.0], [15.5, 15.6], [0.0, 0.0], [3.0, 3.0], order=1)
    >>> c.n.tolist(), c.n_sel.tolist()
    ([2.0], [2.0])
    """
    order = _check_order(order)
    edges_array = _edges(by, edges)
    g = np.asarray(g_mag, dtype=np.float64)
    distance = np.asarray(dist, dtype=np.float64)
    mix = mix_cell(g, a_w1, distance, b_deg)
    binned = _bin_index(g if by == "g" else distance, edges_array)
    pixel = healpix_index(l_deg, b_deg, order)
    ok = (mix >= 0) & (binned >= 0)
    keys = (pixel[ok] * (len(edges_array) - 1) + binned[ok]) * N_MIX_CELLS + mix[ok]
    unique, inverse = np.unique(keys, return_inverse=True)
    n = np.asarray(np.bincount(inverse, minlength=unique.size), dtype=np.float64)
    kept = np.ones(len(g), dtype=bool) if selected is None else np.asarray(selected, dtype=bool)
    n_sel = np.asarray(np.bincount(inverse, weights=kept[ok], minlength=unique.size), dtype=np.float64)
    return SkyCounts(order, by, edges_array, unique.astype(np.int64), n, n_sel)


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 0 <= order <= MAX_ORDER:
        msg = f"HEALPix order must be an integer from 0 to {MAX_ORDER}, got {order!r}"
        raise SelfuncError(msg)
    return int(order)


def _edges(by: str, edges: npt.ArrayLike | None) -> FloatArray:
    if by not in BINNINGS:
        msg = f"bins must be by 'g' or 'dist', got {by!r}"
        raise SelfuncError(msg)
    default = G_BIN_EDGES if by == "g" else DIST_BIN_EDGES
    out = np.asarray(default if edges is None else edges, dtype=np.float64)
    if out.ndim != 1 or out.size < 2 or not np.all(np.isfinite(out)) or np.any(np.diff(out) <= 0):
        msg = f"bin edges must be at least two finite, increasing numbers, got {out.tolist()}"
        raise SelfuncError(msg)
    return out


def rc_purity(rates: FloatArray, shares: FloatArray) -> FloatArray:
    """Per mix cell, the share of a cut's selected stars that are RC, 1 − contamination:
    π_RC T_RC / Σ_c π_c T_c (Bayes' rule, docs/estimates.md); NaN where undefined.

    Parameters
    ----------
    rates
        T_c per class and rate cell, (classes, rate cells).
    shares
        π_c per mix cell, (mix cells, classes).
    """
    t = np.repeat(rates, N_B, axis=-1)  # (classes, mix cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        passing = shares.T * t
        return passing[0] / passing.sum(axis=0)


def _hierarchy(
    num: FloatArray, den: FloatArray, second: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Shrink each level's pixels towards their parents (module docstring).

    ``num``, ``den`` and ``second`` are (…, pixels at order K, bins): Σ n_sel (1 − c),
    Σ n π_RC and Σ n_sel (1 − c)² over a pixel's stars. Returns S, its counting variance and N
    (= ``den``) at order K."""
    order = round(np.log2(num.shape[-2] / 12) / 2)
    levels = [(num, den, second)]
    for _ in range(order):
        n, d, s = levels[-1]
        shape = (*n.shape[:-2], n.shape[-2] // 4, 4, n.shape[-1])
        levels.append((n.reshape(shape).sum(axis=-2), d.reshape(shape).sum(axis=-2), s.reshape(shape).sum(axis=-2)))
    top_n, top_d, top_s = (x.sum(axis=-2, keepdims=True) for x in levels[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(top_d > 0, top_n / top_d, np.nan)
        variance = np.where(top_d > 0, top_s / top_d**2, np.nan)
    for n, d, s in reversed(levels):
        # NESTED: the children of pixel p are 4p … 4p + 3; order 0's parent is the whole sky.
        group = 4 if value.shape[-2] > 1 else n.shape[-2]
        split = (*n.shape[:-2], value.shape[-2], group, n.shape[-1])
        parent_value, parent_variance = value[..., None, :], variance[..., None, :]
        with np.errstate(invalid="ignore", divide="ignore"):  # α = 0 leaves empty pixels undefined
            value = ((n.reshape(split) + alpha * parent_value) / (d.reshape(split) + alpha)).reshape(n.shape)
            denominator = (d.reshape(split) + alpha) ** 2
            variance = ((s.reshape(split) + alpha**2 * parent_variance) / denominator).reshape(n.shape)
    return value, variance, levels[0][1]


def completeness_maps(
    counts: SkyCounts,
    rates: ClassRates,
    shares: FloatArray,
    share_draws: FloatArray,
    *,
    pseudo_stars: float = PSEUDO_STARS,
    n_draws: int = MAP_DRAWS,
    seed: int = 0,
    chunk: int | None = None,
) -> dict[str, FloatArray]:
    """The cut's completeness per pixel and bin, its variance, and the expected RC stars.

    Parameters
    ----------
    counts
        The catalogue's stars per pixel, bin and mix cell, and the cut's selected stars
        (:func:`count_stars`).
    rates
        The cut's twin counts per class and rate cell (:meth:`redclump.core.estimates.
        Calibration.rates`); class 0 is RC.
    shares, share_draws
        Each mix cell's class mix (mix cells, classes) and its bootstrap replicates.
    pseudo_stars
        α, the pseudo RC stars of a pixel's parent (module docstring).
    n_draws
        Draws of the rates and the mix behind the variance.
    seed
        Seed of those draws.
    chunk
        Draws computed at a time (default: ~2·10⁷ floats' worth).

    Returns
    -------
    dict
        ``completeness`` and ``variance`` (bins, pixels) and ``n_rc`` (bins, pixels): the
        expected RC catalogue stars behind each value (before borrowing).

    Notes
    -----
    S_k(p) = (Σ n_sel (1 − c) + α S_{k−1}(p // 4)) / (Σ n π_RC + α) over the pixel's cells
    (module docstring). Mix cells without an RC share add nothing to N; selected stars in cells
    whose contamination is undefined (no class's twins pass the cut there) add nothing to the
    numerator.

    Examples
    --------
    One pixel of order 0 holds stars, the others borrow the whole sky's value:

    >>> from redclump.core.cells import N_RATE_CELLS
    >>> k = np.zeros((2, N_RATE_CELLS)); n = np.full((2, N_RATE_CELLS), 100.0)
    >>> k[0], k[1] = 50.0, 10.0
    >>> pi = np.full((N_MIX_CELLS, 2), 0.5)
    >>> counts = SkyCounts(0, "g", np.array([13.0, 14.0]), np.array([0]), np.array([1000.0]), np.array([300.0]))
    >>> maps = completeness_maps(counts, ClassRates(k, n), pi, pi[None], n_draws=4)
    >>> np.round(maps["completeness"][0, :2], 3).tolist()
    [0.5, 0.5]
    """
    import torch

    n_bins = counts.n_bins
    n_pix = 12 * 4**counts.order
    row = counts.keys // N_MIX_CELLS
    mix = counts.keys % N_MIX_CELLS
    # Each sum over a pixel's stars is a (pixel × bin, mix cell) sparse matrix times a vector per
    # mix cell; the draws are that matrix times a (mix cells, draws) matrix.
    index = torch.from_numpy(np.stack([row, mix]))

    def matrix(values: FloatArray) -> Any:
        shape = (n_pix * n_bins, N_MIX_CELLS)
        tensor = torch.sparse_coo_tensor(index, torch.from_numpy(values), shape, check_invariants=True)
        return tensor.coalesce()

    selected, parent = matrix(counts.n_sel), matrix(counts.n)

    def sums(pi_rc: FloatArray, purity: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Σ n_sel (1 − c), Σ n π_RC and Σ n_sel (1 − c)², (…, pixels, bins) for (…, mix cells)."""
        # A cell without an RC share has no expected RC stars; selected stars in a cell whose
        # contamination is undefined (no class's twins pass there) are left out, as the
        # catalogue estimate leaves them out ("uncovered").
        pi, pure = np.nan_to_num(pi_rc, nan=0.0), np.nan_to_num(purity, nan=0.0)
        out: list[FloatArray] = []
        for m, v in ((selected, pure), (parent, pi), (selected, pure * pure)):
            flat = (m @ torch.from_numpy(np.ascontiguousarray(v.reshape(-1, N_MIX_CELLS).T))).numpy()
            out.append(flat.T.reshape(*pi_rc.shape[:-1], n_pix, n_bins))
        return out[0], out[1], out[2]

    value, count_variance, n_rc = _hierarchy(*sums(shares[:, 0], rc_purity(rates.rates, shares)), pseudo_stars)
    rng = np.random.default_rng(seed)
    t_draws = rates.draws(rng, n_draws)  # (draws, classes, rate cells)
    total = np.zeros_like(value)
    total_sq = np.zeros_like(value)
    chunk = chunk or max(1, int(2e7 // (n_pix * n_bins)))
    for start in range(0, n_draws, chunk):
        draws = range(start, min(start + chunk, n_draws))
        pi_rc = np.stack([share_draws[d % len(share_draws), :, 0] for d in draws])
        purity = np.stack([rc_purity(t_draws[d], share_draws[d % len(share_draws)]) for d in draws])
        drawn, _, _ = _hierarchy(*sums(pi_rc, purity), pseudo_stars)
        total += drawn.sum(axis=0)
        total_sq += (drawn**2).sum(axis=0)
    mean = total / n_draws
    draw_variance = np.maximum(total_sq / n_draws - mean**2, 0.0)
    return {
        "completeness": np.clip(value, 0.0, 1.0).T.copy(),
        "variance": (draw_variance + count_variance).T.copy(),
        "n_rc": n_rc.T.copy(),
    }


#: How the maps' completeness is defined, for the file's header and the docs.
DEFINITION = {
    by: (
        f"P(selected | RC star of the catalogue in this pixel and {what} bin) = sum over the selected stars of "
        "(1 - c) / sum over all stars of pi_RC, c and pi_RC the contamination and RC share of the star's "
        "cell (docs/estimates.md), shrunk towards the parent pixel with PSEUDO RC stars; "
        "docs/selection-function.md"
    )
    for by, what in (("g", "Gaia G"), ("dist", "RC distance"))
}
PARENT_MOCK = (
    "P(RC star in the input catalogue | position): the mock's survey footprint, saturation and depth limits "
    "(data/surveys.py) applied to the mock's RC stars' absolute magnitudes and its dust model"
)
PARENT_UNKNOWN = "relative to the input catalogue: the input surveys' own completeness is not included"
