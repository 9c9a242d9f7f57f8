"""Contamination and completeness of the *selected catalogue stars*, where the truth set does not
reach.

The truth set's test split is bright and nearby; the catalogue is not, so rates measured on the
test split do not describe the catalogue (docs/estimates.md). This module combines two standard
tools, stratum by stratum:

* **Rates from degraded twins** (:mod:`redclump.core.twins`): in each *rate cell* (Gaia G × RC
  distance × estimated extinction A_G = 16 a_w1) a cut's true-positive rate T (the share of RC twins in the
  catalogue that it selects) and false-positive rate F (the same for non-RC twins). Cells with
  fewer than :data:`MIN_TWINS` twins of a class borrow that class's rates from all extinctions
  at the same G and distance (or, short there too, from the whole G row).
* **The population mix from the catalogue itself**: the RC share π of each *mix cell* (a rate
  cell split by |b|) by the Rogan–Gladen inversion (Rogan & Gladen 1978, Am. J. Epidemiol. 107,
  71) q = F + π (T − F), solved by least squares over a fixed family of reference cuts
  (ΔP_phot above :data:`REFERENCE_DP_MIN`), q being the selected share of the cell's catalogue
  stars.

Then in each mix cell contamination c = F (1 − π) / (T π + F (1 − π)); over a selection, the
contamination is Σ n_sel c / Σ n_sel and the completeness Σ n_sel (1 − c) / Σ π n_parent (the
selected RC stars over the domain's RC stars). Intervals: :data:`N_DRAWS` draws of every rate
from its Beta posterior (Jeffreys prior) propagated through π and c; the estimate is their
median, the interval their 16th and 84th percentiles.

Nothing here reads a ``true_*`` column: the same code runs on real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .distances import A_G_OVER_A_W1
from .selection import CUT_TERMS

__all__ = [
    "ABS_B_EDGES",
    "A_G_EDGES",
    "DIST_EDGES",
    "DOMAIN_TERMS",
    "G_EDGES",
    "MIN_TWINS",
    "N_DRAWS",
    "REFERENCE_DP_MIN",
    "TWIN_COLUMNS",
    "Calibration",
    "CellRates",
    "ParentHistogram",
    "catalogue_estimate",
    "cell_rates",
    "domain_cut",
    "frame_cells",
    "mix_cell",
    "rate_cell",
    "rc_share",
    "reference_shares",
    "twin_rates",
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
#: Twins of one class a rate cell needs before its rates stand on their own (binomial standard
#: error ≤ 9 points).
MIN_TWINS = 30
#: The reference cuts ΔP_phot > t (s) whose selected shares fix each mix cell's RC share.
REFERENCE_DP_MIN = (175.0, 200.0, 225.0, 250.0, 275.0, 300.0)
#: Posterior draws behind each interval.
N_DRAWS = 200

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


@dataclass(frozen=True)
class CellRates:
    """A cut's rates per rate cell: selected and total twins of each class (after borrowing
    for sparse cells), and the point rates (NaN where a class has no twins at that G)."""

    k_rc: FloatArray
    n_rc: FloatArray
    k_non: FloatArray
    n_non: FloatArray

    @property
    def tpr(self) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_rc > 0, self.k_rc / self.n_rc, np.nan)

    @property
    def fpr(self) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_non > 0, self.k_non / self.n_non, np.nan)

    def draws(self, rng: np.random.Generator, n_draws: int = N_DRAWS) -> tuple[FloatArray, FloatArray]:
        """(T, F) draws, each (n_draws, rate cells), from Beta(k + ½, n − k + ½)."""

        def beta(k: FloatArray, n: FloatArray) -> FloatArray:
            out = rng.beta(k + 0.5, np.maximum(n - k, 0.0) + 0.5, size=(n_draws, k.size))
            return np.where(n > 0, out, np.nan)

        return beta(self.k_rc, self.n_rc), beta(self.k_non, self.n_non)


def _borrow(k: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Cells with fewer than MIN_TWINS take the totals over all extinctions at their G and RC
    distance; where those are short too, the totals over their whole G row."""
    k3, n3 = k.reshape(N_G, N_D, N_A), n.reshape(N_G, N_D, N_A)
    k_gd, n_gd = k3.sum(axis=2, keepdims=True), n3.sum(axis=2, keepdims=True)
    k_g, n_g = k3.sum(axis=(1, 2), keepdims=True), n3.sum(axis=(1, 2), keepdims=True)
    k_gd, n_gd = np.where(n_gd < MIN_TWINS, k_g, k_gd), np.where(n_gd < MIN_TWINS, n_g, n_gd)
    sparse = n3 < MIN_TWINS
    k_out = np.where(sparse, np.broadcast_to(k_gd, k3.shape), k3)
    n_out = np.where(sparse, np.broadcast_to(n_gd, n3.shape), n3)
    return k_out.ravel(), n_out.ravel()


def cell_rates(
    selected: npt.NDArray[np.bool_],
    in_domain: npt.NDArray[np.bool_],
    is_rc: npt.NDArray[np.bool_],
    cells: IntArray,
) -> CellRates:
    """A cut's twin counts per rate cell.

    Parameters
    ----------
    selected
        Twins that are in the catalogue and pass the whole cut.
    in_domain
        Twins that are in the catalogue and pass the cut's position terms (|b|, G, distance):
        the rates' denominators.
    is_rc
        The twins' truth-set class.
    cells
        Each twin's rate cell (:func:`rate_cell` of its own G and estimated extinction).

    Examples
    --------
    >>> cells = np.zeros(80, int)
    >>> is_rc = np.arange(80) < 40
    >>> rates = cell_rates(np.arange(80) % 2 == 0, np.ones(80, bool), is_rc, cells)
    >>> float(rates.tpr[0]), float(rates.fpr[0])
    (0.5, 0.5)
    """
    ok = in_domain & (cells >= 0)
    selected = selected & ok

    def count(mask: npt.NDArray[np.bool_]) -> FloatArray:
        return np.bincount(cells[mask], minlength=N_RATE_CELLS).astype(np.float64)

    k_rc, n_rc = _borrow(count(selected & is_rc), count(ok & is_rc))
    k_non, n_non = _borrow(count(selected & ~is_rc), count(ok & ~is_rc))
    return CellRates(k_rc, n_rc, k_non, n_non)


def _to_mix(rate_values: FloatArray) -> FloatArray:
    """Rate-cell values (…, rate cells) repeated over the |b| bands (…, mix cells)."""
    return np.repeat(rate_values, N_B, axis=-1)


def rc_share(q: FloatArray, tpr: FloatArray, fpr: FloatArray) -> FloatArray:
    """Each mix cell's RC share π from reference cuts, by least-squares Rogan–Gladen.

    Parameters
    ----------
    q
        (cuts, …, mix cells): each reference cut's selected share of the cell's catalogue stars.
    tpr, fpr
        (cuts, …, rate cells): each reference cut's twin rates; a middle axis of draws is
        broadcast.

    Returns
    -------
    numpy.ndarray
        π in [0, 1], shape (…, mix cells); NaN where no reference cut separates RC from non-RC.

    Notes
    -----
    π = Σ_k d_k (q_k − F_k) / Σ_k d_k², d_k = T_k − F_k: the least-squares solution of
    q_k = F_k + π d_k over the reference cuts k (Rogan & Gladen 1978 for one cut).

    Examples
    --------
    >>> t = np.full((2, N_RATE_CELLS), 0.8); f = np.full((2, N_RATE_CELLS), 0.1)
    >>> q = 0.1 + 0.3 * (0.8 - 0.1) * np.ones((2, N_MIX_CELLS))
    >>> round(float(rc_share(q, t, f)[0]), 6)
    0.3
    """
    d = _to_mix(np.asarray(tpr) - np.asarray(fpr))
    resid = np.asarray(q) - _to_mix(np.asarray(fpr))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nansum(d * resid, axis=0) / np.nansum(d * d, axis=0)
    valid = np.isfinite(d * resid).any(axis=0)
    return np.where(valid, np.clip(share, 0.0, 1.0), np.nan)


def catalogue_estimate(
    n_selected: FloatArray,
    n_parent: FloatArray,
    rates: CellRates,
    share: FloatArray,
    share_draws: FloatArray,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Contamination and completeness of a selection of catalogue stars, with 68 % intervals.

    Parameters
    ----------
    n_selected
        Selected catalogue stars per mix cell.
    n_parent
        Catalogue stars per mix cell inside the selection's domain (its position terms and
        drawn region): completeness is relative to the RC stars among them.
    rates
        The cut's twin rates (:func:`cell_rates`).
    share, share_draws
        Each mix cell's RC share π (:func:`rc_share`) and its draws (draws, mix cells).
    seed
        Seed of the rate draws.

    Returns
    -------
    dict
        ``contamination``, ``contamination_lo``, ``contamination_hi``, ``completeness``,
        ``completeness_lo``, ``completeness_hi`` (fractions), ``n_selected``, and
        ``uncovered``: the share of the selected stars in cells with no twins of a class at
        their G (left out of the estimate).

    Examples
    --------
    One cell with T = 0.5, F = 0.1 and π = 0.5: c = 0.05 / 0.30.

    >>> k = np.zeros(N_RATE_CELLS); n = np.zeros(N_RATE_CELLS); k[0], n[0] = 5000, 10000
    >>> kn = np.zeros(N_RATE_CELLS); nn = np.zeros(N_RATE_CELLS); kn[0], nn[0] = 1000, 10000
    >>> sel = np.zeros(N_MIX_CELLS); par = np.zeros(N_MIX_CELLS); sel[0], par[0] = 30, 100
    >>> pi = np.full(N_MIX_CELLS, 0.5)
    >>> est = catalogue_estimate(sel, par, CellRates(k, n, kn, nn), pi, np.tile(pi, (200, 1)))
    >>> round(est["contamination"], 2), round(est["completeness"], 2)
    (0.17, 0.5)
    """
    n_selected = np.asarray(n_selected, dtype=np.float64)
    n_parent = np.asarray(n_parent, dtype=np.float64)
    rng = np.random.default_rng(seed)
    t_draws, f_draws = rates.draws(rng, len(share_draws))

    def combine(t: FloatArray, f: FloatArray, pi: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        t, f = _to_mix(t), _to_mix(f)
        with np.errstate(invalid="ignore", divide="ignore"):
            contamination = f * (1 - pi) / (t * pi + f * (1 - pi))
        # A cell that selects nothing of either class, or whose π is 0, contributes no RC.
        contamination = np.where(np.isfinite(t) & np.isfinite(f) & np.isfinite(pi), contamination, np.nan)
        covered = np.isfinite(contamination) | (n_selected == 0)
        contamination = np.where(np.isfinite(contamination), contamination, 0.0)
        sel = np.where(covered, n_selected, 0.0)
        total = sel.sum(axis=-1)
        rc_selected = (sel * (1 - contamination)).sum(axis=-1)
        rc_parent = (np.where(covered & np.isfinite(pi), pi, 0.0) * n_parent).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cont = np.where(total > 0, 1 - rc_selected / total, np.nan)
            comp = np.where(rc_parent > 0, np.clip(rc_selected / rc_parent, 0.0, 1.0), np.nan)
        return cont, comp, covered

    _, _, covered = combine(rates.tpr, rates.fpr, share)
    cont_d, comp_d, _ = combine(t_draws, f_draws, share_draws)
    total = n_selected.sum()

    def summary(values: FloatArray) -> tuple[float, float, float]:
        # The posterior median and its 68 % interval: the point estimate from the point rates
        # sits outside the draws where π is clipped at 0 or 1.
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return float("nan"), float("nan"), float("nan")
        lo, mid, hi = np.percentile(finite, [15.865, 50.0, 84.135])
        return float(mid), float(lo), float(hi)

    contamination = summary(cont_d)
    completeness = summary(comp_d)
    return {
        "n_selected": int(total),
        "contamination": contamination[0],
        "contamination_lo": contamination[1],
        "contamination_hi": contamination[2],
        "completeness": completeness[0],
        "completeness_lo": completeness[1],
        "completeness_hi": completeness[2],
        "uncovered": float(n_selected[~covered].sum() / total) if total > 0 else float("nan"),
    }


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

    counts: npt.NDArray[np.int64]

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


#: Columns that say *where* a star is (and how bright) rather than what the networks say of it.
POSITION_COLUMNS = frozenset({"b", "phot_g_mean_mag", "dist"})
#: The cut terms on them (from the cut-term table): they restrict the domain (the parent
#: catalogue and the twins' denominators) as well as the selection. The parent histogram
#: (:meth:`ParentHistogram.parent`) takes each of them as a keyword.
DOMAIN_TERMS = tuple(term.name for term in CUT_TERMS if set(term.columns) <= POSITION_COLUMNS)
#: Columns a twin table carries for the estimate.
TWIN_COLUMNS = (
    "phot_g_mean_mag",
    "a_w1",
    "b",
    "dist",
    "dp_phot",
    "dp_phot_err",
    "dnu_phot",
    "teff_phot",
    "logg_phot",
    "p_rc",
    "giant",
    "is_rc",
)


@dataclass
class Calibration:
    """What the catalogue estimate needs, computed once at build time: the twins' predictions,
    the parent histogram, each mix cell's RC share with its draws, and the truth set's range.

    ``truth_range`` holds the 99th percentiles of the test split's G (mag), ``a_w1`` (mag) and
    RC distance (kpc): beyond any of them a selected star rests on twins and the mix alone.
    """

    twins: Any
    parent: ParentHistogram
    share: FloatArray
    share_draws: FloatArray
    truth_range: dict[str, float]

    @classmethod
    def from_parts(cls, parts: dict[str, Any]) -> Calibration:
        """From :func:`redclump.data.calibration_files.read_calibration`'s dict."""
        return cls(
            parts["twins"], ParentHistogram(parts["parent"]), parts["share"], parts["share_draws"], parts["truth_range"]
        )

    def __post_init__(self) -> None:
        self._cells = rate_cell(*(self.twins[c].to_numpy() for c in ("phot_g_mean_mag", "a_w1", "dist")))
        self._parents: dict[tuple[Any, ...], FloatArray] = {}

    def rates(self, cut: Any) -> CellRates:
        """A cut's twin rates per rate cell."""
        return twin_rates(self.twins, cut, cells=self._cells)

    def parent_counts(self, cut: Any) -> FloatArray:
        """Catalogue stars per mix cell inside the cut's position terms (the last few domains
        are kept: a slider step that moves no position term reuses its domain's counts)."""
        values = cut.to_dict()
        domain = tuple((k, values.get(k)) for k in DOMAIN_TERMS if k in values)
        cached = self._parents.get(domain)
        if cached is None:
            cached = self.parent.parent(**dict(domain))
            self._parents[domain] = cached
            while len(self._parents) > 8:
                del self._parents[next(iter(self._parents))]
        return cached

    def outside_truth(self, g_mag: npt.ArrayLike, a_w1: npt.ArrayLike, dist: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Stars beyond the truth set's range in G, extinction or RC distance."""
        r = self.truth_range
        with np.errstate(invalid="ignore"):
            return (np.asarray(g_mag) > r["g"]) | (np.asarray(a_w1) > r["a_w1"]) | (np.asarray(dist) > r["dist"])

    def estimate(
        self, cut: Any, selected_cells: IntArray, *, parent_scale: FloatArray | None = None, seed: int = 0
    ) -> dict[str, Any]:
        """The cut's contamination and completeness over the selected catalogue stars.

        Parameters
        ----------
        cut
            The :class:`~redclump.core.selection.Cut` that selected them.
        selected_cells
            :func:`mix_cell` of each selected catalogue star.
        parent_scale
            Per mix cell, the share of the domain's catalogue stars that a drawn region keeps
            (None: no region).
        seed
            Seed of the interval draws.
        """
        cells = np.asarray(selected_cells)
        n_selected = np.bincount(cells[cells >= 0], minlength=N_MIX_CELLS).astype(np.float64)
        n_parent = self.parent_counts(cut)
        if parent_scale is not None:
            n_parent = n_parent * parent_scale
        result = catalogue_estimate(n_selected, n_parent, self.rates(cut), self.share, self.share_draws, seed=seed)
        no_cell = int(np.count_nonzero(cells < 0))
        if cells.size:
            result["uncovered"] = (result["uncovered"] * n_selected.sum() + no_cell) / cells.size
        result["n_selected"] = int(cells.size)
        return result


def twin_rates(twins: Any, cut: Any, *, cells: IntArray | None = None) -> CellRates:
    """A cut's rates per rate cell over a twin table (:data:`TWIN_COLUMNS`): twins outside the
    catalogue (not predicted giants) or outside the cut's position terms do not count."""
    if cells is None:
        cells = rate_cell(*(twins[c].to_numpy() for c in ("phot_g_mean_mag", "a_w1", "dist")))
    in_domain = twins["giant"].to_numpy(bool) & domain_cut(cut).mask(twins)
    return cell_rates(in_domain & cut.mask(twins), in_domain, twins["is_rc"].to_numpy(bool), cells)


def domain_cut(cut: Any) -> Any:
    """The cut's position terms (:data:`DOMAIN_TERMS`) alone, as a cut of the same type."""
    values = cut.to_dict()
    return type(cut)(**{k: values[k] for k in DOMAIN_TERMS if k in values})


def reference_shares(
    q: FloatArray, twins_tpr: FloatArray, twins_fpr: FloatArray, t_draws: FloatArray, f_draws: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """π (mix cells) and its draws (draws, mix cells) from the reference cuts' selected shares
    ``q`` (cuts, mix cells), point rates (cuts, rate cells) and rate draws (cuts, draws, rate
    cells)."""
    share = rc_share(q, twins_tpr, twins_fpr)
    draws = rc_share(q[:, None, :], t_draws, f_draws)
    return share, draws
