"""The cells in which the catalogue estimate (:mod:`redclump.core.estimates`) counts stars.

A *rate cell* is a box in Gaia G × RC distance × estimated extinction: what makes a faint star's
predictions noisier and its neighbours different. A *mix cell* splits a rate cell by |b|. A
*feature bin* is a box in the networks' ΔP and Δν, the outputs that separate RC stars from the rest. The edges are
fixed from where the survey errors change and from the extinction's doubling, not fitted
(docs/estimates.md). :class:`ParentHistogram` counts the catalogue's stars finely enough in G,
distance and |b| that any position cut's parent counts per mix cell are a sum over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .distances import A_G_OVER_A_W1

__all__ = [
    "ABS_B_EDGES",
    "A_G_EDGES",
    "DIST_EDGES",
    "DNU_EDGES",
    "DP_EDGES",
    "G_EDGES",
    "N_FEATURE_BINS",
    "N_MIX_CELLS",
    "N_RATE_CELLS",
    "ParentHistogram",
    "feature_bin",
    "frame_cells",
    "mix_cell",
    "rate_cell",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Gaia G edges of the rate cells (mag): 1 mag where the errors sit at their floors, 0.5 mag
#: fainter than G = 17, where the Gaia, PS1, 2MASS and WISE errors grow exponentially.
G_EDGES = (-np.inf, 13.0, 14.0, 15.0, 16.0, 17.0, 17.5, 18.0, 18.5, 19.0, 19.5, 20.0, np.inf)
#: Estimated G extinction edges (mag), A_G = 16 a_w1 (Lucey et al. 2020's A_G/A_W1), roughly
#: doubling: high-latitude, disc, and three steps into the dusty inner plane.
A_G_EDGES = (-np.inf, 0.5, 1.5, 3.0, 6.0, np.inf)
#: RC-distance edges (kpc), doubling: within a G and extinction cell the RC distance stands for
#: the star's colour (it is W1 with the extinction removed), and RC stars have one colour there.
DIST_EDGES = (0.0, 2.0, 4.0, 8.0, 16.0, 32.0, np.inf)
#: |b| edges of the mix cells (deg): the plane, the thick-disc latitudes and the halo sky.
ABS_B_EDGES = (0.0, 10.0, 30.0, 90.0)

N_G, N_D, N_A, N_B = len(G_EDGES) - 1, len(DIST_EDGES) - 1, len(A_G_EDGES) - 1, len(ABS_B_EDGES) - 1
N_RATE_CELLS = N_G * N_D * N_A
N_MIX_CELLS = N_RATE_CELLS * N_B


def _bin(values: npt.ArrayLike, edges: tuple[float, ...]) -> IntArray:
    values = np.asarray(values, dtype=np.float64)
    index = np.searchsorted(np.asarray(edges[1:-1]), values, side="right")
    return np.where(np.isfinite(values), index, -1)


def rate_cell(g_mag: npt.ArrayLike, a_w1: npt.ArrayLike, dist: npt.ArrayLike) -> IntArray:
    """Rate-cell index (G × RC distance × extinction) of each star from its G, RC distance and
    estimated W1 extinction; −1 where any is not finite.

    Examples
    --------
    >>> rate_cell([12.0, 19.2, np.nan], [0.0, 0.1, 0.0], [1.0, 9.0, 1.0]).tolist()
    [0, 287, -1]
    """
    g = _bin(g_mag, G_EDGES)
    d = _bin(dist, DIST_EDGES)
    a = _bin(A_G_OVER_A_W1 * np.asarray(a_w1, dtype=np.float64), A_G_EDGES)
    return np.where((g >= 0) & (d >= 0) & (a >= 0), (g * N_D + d) * N_A + a, -1)


def mix_cell(g_mag: npt.ArrayLike, a_w1: npt.ArrayLike, dist: npt.ArrayLike, b_deg: npt.ArrayLike) -> IntArray:
    """Mix-cell index (rate cell × |b| band) of each star; −1 where undefined.

    Examples
    --------
    >>> mix_cell([12.0], [0.0], [1.0], [-45.0]).tolist()
    [2]
    """
    rate = rate_cell(g_mag, a_w1, dist)
    band = np.clip(_bin(np.abs(np.asarray(b_deg, dtype=np.float64)), ABS_B_EDGES), 0, N_B - 1)
    return np.where(rate >= 0, rate * N_B + band, -1)


def frame_cells(frame: Any) -> IntArray:
    """:func:`mix_cell` of each row of a catalogue frame (``phot_g_mean_mag``, ``a_w1``,
    ``dist``, ``b``)."""
    return mix_cell(*(np.asarray(frame[c], dtype=np.float64) for c in ("phot_g_mean_mag", "a_w1", "dist", "b")))


#: Feature bins: ΔP_phot in 15 s steps over the RC/RGB divide (the networks' σ(ΔP) is 15–40 s)
#: and Δν_phot in 0.5 µHz steps where RC and secondary-clump stars lie; open ends catch the rest.
#: The networks' seismic outputs are what separates the classes. The bins are few enough
#: (294) that a rate cell's few hundred RC twins fill them (Teff_phot as a third axis would make
#: 1,764 bins, most of them empty for RC twins in a cell).
DP_EDGES = (-np.inf, *np.arange(100.0, 351.0, 15.0), np.inf)
DNU_EDGES = (-np.inf, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 8.0, 10.0, 13.0, 17.0, np.inf)
N_FEATURE_BINS = (len(DP_EDGES) - 1) * (len(DNU_EDGES) - 1)


def feature_bin(frame: Any) -> IntArray:
    """Feature-bin index of each row from ``dp_phot`` and ``dnu_phot``; −1 where either is not
    finite.

    Examples
    --------
    >>> feature_bin({"dp_phot": np.array([260.0, np.nan]), "dnu_phot": np.array([4.2, 4.0])}).tolist()
    [157, -1]
    """
    dp = _bin(frame["dp_phot"], DP_EDGES)
    dnu = _bin(frame["dnu_phot"], DNU_EDGES)
    return np.where((dp >= 0) & (dnu >= 0), dp * (len(DNU_EDGES) - 1) + dnu, -1)


#: Fine bins of the parent histogram, so that position terms (G, distance, |b|) can restrict
#: the parent catalogue without reading it: G in 0.1 mag, RC distance in 0.5 kpc, |b| in 1°.
G_FINE = np.round(np.arange(5.0, 21.0001, 0.1), 1)
DIST_FINE = np.round(np.arange(0.0, 50.0001, 0.5), 1)
B_FINE = np.arange(0.0, 90.0001, 1.0)


@dataclass
class ParentHistogram:
    """Counts of catalogue stars over (A_G cell, |b| degree, G 0.1 mag, RC distance 0.5 kpc), with
    under- and overflow bins in G and distance; sums over boxes of it give any domain's parent
    counts per mix cell."""

    counts: npt.NDArray[np.integer]

    @classmethod
    def empty(cls) -> ParentHistogram:
        shape = (N_A, len(B_FINE) - 1, len(G_FINE) + 1, len(DIST_FINE) + 1)
        return cls(np.zeros(shape, dtype=np.int64))

    @staticmethod
    def _indices(g_mag: FloatArray, a_w1: FloatArray, b_deg: FloatArray, dist: FloatArray) -> tuple[IntArray, ...]:
        a = _bin(A_G_OVER_A_W1 * np.asarray(a_w1, dtype=np.float64), A_G_EDGES)
        b = np.clip(np.floor(np.abs(np.asarray(b_deg, dtype=np.float64))).astype(np.int64), 0, len(B_FINE) - 2)
        g = np.searchsorted(G_FINE, np.asarray(g_mag, dtype=np.float64), side="right")
        d = np.searchsorted(DIST_FINE, np.nan_to_num(np.asarray(dist, dtype=np.float64), nan=np.inf), side="right")
        return a, b, g, d

    def add(self, g_mag: FloatArray, a_w1: FloatArray, b_deg: FloatArray, dist: FloatArray) -> None:
        """Count more catalogue stars (stars with no G or extinction are not counted)."""
        a, b, g, d = self._indices(g_mag, a_w1, b_deg, dist)
        ok = (a >= 0) & np.isfinite(np.asarray(g_mag, dtype=np.float64))
        flat = np.ravel_multi_index((a[ok], b[ok], g[ok], d[ok]), self.counts.shape)
        self.counts += np.bincount(flat, minlength=self.counts.size).reshape(self.counts.shape)

    def parent(
        self,
        *,
        g_min: float | None = None,
        g_max: float | None = None,
        dist_min: float | None = None,
        dist_max: float | None = None,
        abs_b_min: float | None = None,
    ) -> FloatArray:
        """Catalogue stars per mix cell inside a domain; each limit is rounded to the nearest
        fine-bin edge.

        Examples
        --------
        >>> h = ParentHistogram.empty()
        >>> h.add(np.array([16.05, 18.3]), np.zeros(2), np.array([40.0, 5.0]), np.array([3.0, 12.0]))
        >>> int(h.parent().sum()), int(h.parent(g_max=17).sum()), int(h.parent(dist_min=10).sum())
        (2, 1, 1)
        """

        def edge(value: float | None, edges: FloatArray, default: int) -> int:
            return default if value is None else int(np.argmin(np.abs(edges - value))) + 1

        g_lo = edge(g_min, G_FINE, 0)
        g_hi = edge(g_max, G_FINE, len(G_FINE) + 1)
        d_lo = edge(dist_min, DIST_FINE, 0)
        d_hi = edge(dist_max, DIST_FINE, len(DIST_FINE) + 1)
        b_lo = 0 if abs_b_min is None else int(np.clip(round(abs_b_min), 0, len(B_FINE) - 1))
        box = self.counts[:, b_lo:, g_lo:g_hi, d_lo:d_hi]

        def one_hot(coarse: IntArray, n: int) -> FloatArray:
            return (coarse[:, None] == np.arange(n)[None, :]).astype(np.float64)

        def centres(edges: FloatArray, width: float) -> FloatArray:
            return np.concatenate([[edges[0] - width / 2], (edges[:-1] + edges[1:]) / 2, [edges[-1] + width / 2]])

        g_map = one_hot(_bin(centres(G_FINE, 0.1)[g_lo:g_hi], G_EDGES), N_G)
        d_map = one_hot(_bin(centres(DIST_FINE, 0.5)[d_lo:d_hi], DIST_EDGES), N_D)
        b_map = one_hot(np.clip(_bin(B_FINE[b_lo:-1] + 0.5, ABS_B_EDGES), 0, N_B - 1), N_B)
        # (A, b, G, D) fine → (G, D, A, band) coarse, the mix cells' order.
        cells = np.einsum("abgd,gG,dD,bB->GDaB", box, g_map, d_map, b_map, optimize=True)
        return cells.ravel()
