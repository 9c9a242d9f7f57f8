"""Contamination and completeness of the *selected catalogue stars*, where the truth set does not
reach.

The truth set's test split is bright and nearby; the catalogue is not, so rates measured on the
test split do not describe the catalogue (docs/estimates.md). The estimate works cell by cell
(:mod:`redclump.core.cells`):

* **Degraded twins** (:mod:`redclump.core.twins`) of the labelled test-split stars, moved to the
  catalogue's G and extinction and run through the same networks, give each truth-set class c
  (RC and every other class, dwarfs included) in each rate cell (a) its distribution over the
  feature bins (ΔP_phot × Δν_phot), L_c, and (b) for any cut its pass rate T_c, the
  share of the class's twins in the catalogue that the cut keeps. A cell with fewer than
  :data:`MIN_TWINS` twins of a class borrows that class's counts from all extinctions at its G
  and distance, or, short there too, from its whole G row.
* **The class mix of the catalogue itself**, π_c in each mix cell (a rate cell split by |b|), by
  maximum likelihood: the catalogue's counts over the feature bins are a mixture Σ_c π_c L_c,
  solved by expectation–maximisation. This is the EM prior adjustment of Saerens, Latinne &
  Decaestecker (2002, Neural Computation 14, 21), with the class likelihoods from the twins.
  Several non-RC classes matter because they mix differently across the Galaxy: the secondary
  clump passes ΔP cuts like RC stars but lives in the young disc, so the truth set (nearby) holds
  more of it than the catalogue's distant cells.

Then in each mix cell the contamination of a cut is c = 1 − π_RC T_RC / Σ_c π_c T_c; over a
selection, the contamination is Σ n_sel c / Σ n_sel and the completeness Σ n_sel (1 − c) /
Σ π_RC n_parent (the selected RC stars over the domain's RC stars). Intervals: draws of every
T_c from its Beta posterior (Jeffreys prior), with π from EM on Poisson-bootstrapped twins;
the estimate is the draws' median, the interval their 16th–84th percentiles.

Nothing here reads a ``true_*`` column: the same code runs on real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .cells import N_A as _N_A
from .cells import N_B as _N_B
from .cells import N_D as _N_D
from .cells import N_FEATURE_BINS, N_MIX_CELLS, N_RATE_CELLS, ParentHistogram, rate_cell
from .cells import N_G as _N_G
from .selection import CUT_TERMS

__all__ = [
    "DOMAIN_TERMS",
    "MIN_TWINS",
    "N_DRAWS",
    "TWIN_COLUMNS",
    "Calibration",
    "ClassRates",
    "catalogue_estimate",
    "class_likelihoods",
    "class_rates",
    "class_shares",
    "domain_cut",
    "twin_rates",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Twins of one class a rate cell needs before its counts stand on their own (binomial standard
#: error ≤ 9 points).
MIN_TWINS = 30
#: Draws behind each interval.
N_DRAWS = 200
#: Pseudo-counts with which a rate cell's feature distribution leans on its G row's: a cell with
#: a few dozen twins of a class has most feature bins empty.
SMOOTHING_TWINS = 20.0
#: Columns that say *where* a star is (and how bright) rather than what the networks say of it.
POSITION_COLUMNS = frozenset({"b", "phot_g_mean_mag", "dist"})
#: The cut terms on them (from the cut-term table): they restrict the domain (the parent
#: catalogue and the twins' denominators) as well as the selection.
DOMAIN_TERMS = tuple(term.name for term in CUT_TERMS if set(term.columns) <= POSITION_COLUMNS)
#: Cut terms on the direction alone, which the twins' rates ignore (:func:`twin_rates`).
SKY_TERMS = tuple(term.name for term in CUT_TERMS if set(term.columns) == {"b"})
#: Columns a twin table carries for the estimate; ``twin_class`` indexes the calibration's
#: class names (RC first).
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
    "twin_class",
)


def _borrow(counts: FloatArray, sizes: FloatArray) -> FloatArray:
    """Per class, rate cells with fewer than MIN_TWINS twins (``sizes``, (classes, rate cells))
    take the totals over all extinctions at their G and distance, or, short there too, over
    their whole G row. ``counts`` is (classes, rate cells, …): whatever is counted per cell."""
    k = counts.shape[0]
    shaped = counts.reshape(k, _N_G, _N_D, _N_A, -1)
    size = sizes.reshape(k, _N_G, _N_D, _N_A, 1)
    gd, gd_size = shaped.sum(axis=3, keepdims=True), size.sum(axis=3, keepdims=True)
    g = shaped.sum(axis=(2, 3), keepdims=True)
    gd = np.where(gd_size < MIN_TWINS, g, gd)
    out = np.where(size < MIN_TWINS, np.broadcast_to(gd, shaped.shape), shaped)
    return out.reshape(counts.shape)


@dataclass(frozen=True)
class ClassRates:
    """A cut's twin counts per class and rate cell after borrowing: ``k`` selected of ``n``
    (both (classes, rate cells))."""

    k: FloatArray
    n: FloatArray

    @property
    def rates(self) -> FloatArray:
        """T_c per rate cell; NaN where a class has no twins at that G."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self.k / self.n, np.nan)

    def draws(self, rng: np.random.Generator, n_draws: int = N_DRAWS) -> FloatArray:
        """(draws, classes, rate cells) from Beta(k + ½, n − k + ½)."""
        out = rng.beta(self.k + 0.5, np.maximum(self.n - self.k, 0.0) + 0.5, size=(n_draws, *self.k.shape))
        return np.where(self.n > 0, out, np.nan)


def class_rates(
    selected: npt.NDArray[np.bool_],
    in_domain: npt.NDArray[np.bool_],
    classes: IntArray,
    cells: IntArray,
    n_classes: int,
) -> ClassRates:
    """A cut's twin counts per class and rate cell.

    Parameters
    ----------
    selected
        Twins in the catalogue that pass the whole cut.
    in_domain
        Twins in the catalogue that pass the cut's position terms: the denominators.
    classes
        Each twin's class index.
    cells
        Each twin's rate cell (:func:`redclump.core.cells.rate_cell` of its own G, distance and
        extinction).
    n_classes
        Number of classes.

    Examples
    --------
    >>> cells = np.zeros(80, int); classes = (np.arange(80) >= 40).astype(int)
    >>> class_rates(np.arange(80) % 2 == 0, np.ones(80, bool), classes, cells, 2).rates[:, 0].tolist()
    [0.5, 0.5]
    """
    ok = in_domain & (cells >= 0)

    def count(mask: npt.NDArray[np.bool_]) -> FloatArray:
        flat = np.bincount(classes[mask] * N_RATE_CELLS + cells[mask], minlength=n_classes * N_RATE_CELLS)
        return flat.reshape(n_classes, N_RATE_CELLS).astype(np.float64)

    n = count(ok)
    both = _borrow(np.stack([count(ok & selected), n], axis=-1), n)
    return ClassRates(both[..., 0], both[..., 1])


def class_likelihoods(
    classes: IntArray, cells: IntArray, features: IntArray, n_classes: int, *, weights: Any = None
) -> FloatArray:
    """Each class's distribution over the feature bins per rate cell, (classes, rate cells,
    feature bins), from the twins in the catalogue; sparse cells borrow (as the rates do) and
    every cell leans on its G row with :data:`SMOOTHING_TWINS` pseudo-counts."""
    ok = (cells >= 0) & (features >= 0)
    index = (classes[ok] * N_RATE_CELLS + cells[ok]) * N_FEATURE_BINS + features[ok]
    w = None if weights is None else np.asarray(weights)[ok]
    counts = np.bincount(index, weights=w, minlength=n_classes * N_RATE_CELLS * N_FEATURE_BINS)
    counts = counts.reshape(n_classes, N_RATE_CELLS, N_FEATURE_BINS).astype(np.float64)
    counts = _borrow(counts, counts.sum(axis=-1))
    rows = counts.reshape(n_classes, _N_G, -1, N_FEATURE_BINS).sum(axis=2, keepdims=True)
    row_shape = rows / np.maximum(rows.sum(axis=-1, keepdims=True), 1e-300)
    shaped = counts.reshape(n_classes, _N_G, -1, N_FEATURE_BINS)
    smoothed = (shaped + SMOOTHING_TWINS * row_shape) / (shaped.sum(axis=-1, keepdims=True) + SMOOTHING_TWINS)
    return smoothed.reshape(n_classes, N_RATE_CELLS, N_FEATURE_BINS)


def class_shares(
    catalogue_counts: FloatArray,
    likelihoods: FloatArray,
    *,
    start: FloatArray | None = None,
    max_iterations: int = 1000,
    tolerance: float = 1e-6,
) -> FloatArray:
    """Each mix cell's class mix π (mix cells, classes) by EM: the catalogue's counts over the
    feature bins (mix cells, feature bins) as the mixture Σ_c π_c L_c of the twins' class
    likelihoods (classes, rate cells, feature bins).

    Notes
    -----
    π_c ← (1/N) Σ_x n_x π_c L_c(x) / Σ_c' π_c' L_c'(x), the EM update of Saerens et al. (2002)
    with class-conditional likelihoods in place of a classifier's posteriors; it increases the
    mixture's likelihood at every step. Only occupied (cell, bin) pairs are visited.

    Examples
    --------
    >>> like = np.zeros((2, N_RATE_CELLS, N_FEATURE_BINS)); like[0, :, 0] = 0.8; like[0, :, 1] = 0.2
    >>> like[1, :, 0] = 0.1; like[1, :, 1] = 0.9
    >>> counts = np.zeros((N_MIX_CELLS, N_FEATURE_BINS)); counts[:, 0] = 0.3 * 0.8 + 0.7 * 0.1
    >>> counts[:, 1] = 0.3 * 0.2 + 0.7 * 0.9
    >>> np.round(class_shares(counts * 1000, like)[0], 3).tolist()
    [0.3, 0.7]
    """
    n_classes = likelihoods.shape[0]
    mix, feature = np.nonzero(catalogue_counts)
    counts = catalogue_counts[mix, feature]
    like = likelihoods[:, mix // _N_B, feature]  # (classes, occupied pairs)
    total = np.bincount(mix, weights=counts, minlength=N_MIX_CELLS)
    share = (
        np.full((N_MIX_CELLS, n_classes), 1.0 / n_classes)
        if start is None
        else np.nan_to_num(start, nan=1.0 / n_classes)
    )
    for _ in range(max_iterations):
        weighted = share[mix].T * like
        mixture = weighted.sum(axis=0)
        # A (cell, bin) that no class can produce (all likelihoods underflow) carries no
        # information about the mix: it is left out rather than divided by ~0.
        usable = mixture > 1e-200
        responsibility = np.where(usable, counts / np.where(usable, mixture, 1.0), 0.0)
        new = np.stack([np.bincount(mix, weights=w * responsibility, minlength=N_MIX_CELLS) for w in weighted], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            new = np.where(total[:, None] > 0, new / total[:, None], 1.0 / n_classes)
        change = np.abs(new - share).max()
        share = new
        if change < tolerance:
            break
    return np.where(total[:, None] > 0, share, np.nan)


def catalogue_estimate(
    n_selected: FloatArray,
    n_parent: FloatArray,
    rates: ClassRates,
    shares: FloatArray,
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
        The cut's twin counts per class (:func:`class_rates`); class 0 is RC.
    shares, share_draws
        Each mix cell's class mix (mix cells, classes) and bootstrap replicates of it
        (replicates, mix cells, classes), used in turn by the draws.
    seed
        Seed of the rate draws.

    Returns
    -------
    dict
        ``contamination``, ``contamination_lo``, ``contamination_hi``, ``completeness``,
        ``completeness_lo``, ``completeness_hi`` (fractions), ``n_selected``, and ``uncovered``:
        the share of the selected stars in cells where the estimate is undefined (left out).

    Examples
    --------
    One cell, half RC, T_RC = 0.5 and T_other = 0.1: c = 0.05 / 0.30.

    >>> k = np.zeros((2, N_RATE_CELLS)); n = np.zeros((2, N_RATE_CELLS))
    >>> k[:, 0], n[:, 0] = (5000, 1000), (10000, 10000)
    >>> sel = np.zeros(N_MIX_CELLS); par = np.zeros(N_MIX_CELLS); sel[0], par[0] = 30, 100
    >>> pi = np.full((N_MIX_CELLS, 2), 0.5)
    >>> est = catalogue_estimate(sel, par, ClassRates(k, n), pi, pi[None])
    >>> round(est["contamination"], 2), round(est["completeness"], 2)
    (0.17, 0.5)
    """
    n_selected = np.asarray(n_selected, dtype=np.float64)
    n_parent = np.asarray(n_parent, dtype=np.float64)
    rng = np.random.default_rng(seed)
    t_draws = np.repeat(rates.draws(rng), _N_B, axis=-1)  # (draws, classes, mix cells)
    replicate = np.arange(len(t_draws)) % len(share_draws)
    pi = np.moveaxis(share_draws[replicate], -1, 1)  # (draws, classes, mix cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        passing = pi * t_draws
        contamination = 1 - passing[:, 0] / passing.sum(axis=1)
    defined = np.isfinite(contamination)
    covered = defined.all(axis=0) | (n_selected == 0)
    contamination = np.where(defined, contamination, 0.0)
    sel = np.where(covered, n_selected, 0.0)
    total = sel.sum()
    rc_selected = (sel * (1 - contamination)).sum(axis=-1)
    rc_parent = (np.where(covered & np.isfinite(pi[:, 0]), pi[:, 0], 0.0) * n_parent).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cont = np.where(total > 0, 1 - rc_selected / total, np.nan)
        comp = np.where(rc_parent > 0, np.clip(rc_selected / rc_parent, 0.0, 1.0), np.nan)

    def summary(values: FloatArray) -> tuple[float, float, float]:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return float("nan"), float("nan"), float("nan")
        lo, mid, hi = np.percentile(finite, [15.865, 50.0, 84.135])
        return float(mid), float(lo), float(hi)

    c_mid, c_lo, c_hi = summary(cont)
    k_mid, k_lo, k_hi = summary(comp)
    all_selected = n_selected.sum()
    return {
        "n_selected": int(all_selected),
        "contamination": c_mid,
        "contamination_lo": c_lo,
        "contamination_hi": c_hi,
        "completeness": k_mid,
        "completeness_lo": k_lo,
        "completeness_hi": k_hi,
        "uncovered": float(n_selected[~covered].sum() / all_selected) if all_selected > 0 else float("nan"),
    }


def domain_cut(cut: Any) -> Any:
    """The cut's position terms (:data:`DOMAIN_TERMS`) alone, as a cut of the same type."""
    values = cut.to_dict()
    return type(cut)(**{k: values[k] for k in DOMAIN_TERMS if k in values})


def _twin_cells(twins: Any) -> IntArray:
    return rate_cell(*(np.asarray(twins[c], dtype=np.float64) for c in ("phot_g_mean_mag", "a_w1", "dist")))


def twin_rates(twins: Any, cut: Any, n_classes: int, *, cells: IntArray | None = None) -> ClassRates:
    """A cut's rates per class and rate cell over a twin table (:data:`TWIN_COLUMNS`): twins
    outside the catalogue (not predicted giants) or the cut's G and distance limits do not count.

    A |b| limit is left out here: a class's rates are taken to depend on a star's G, extinction
    and colour, not its direction (docs/estimates.md), so twins at every latitude measure them;
    the limit acts through the catalogue's counts and each |b| band's own class mix."""
    cells = _twin_cells(twins) if cells is None else cells
    on_twins = cut.replace(**{name: None for name in SKY_TERMS if hasattr(cut, name)})
    in_domain = np.asarray(twins["giant"], dtype=bool) & domain_cut(on_twins).mask(twins)
    classes = np.asarray(twins["twin_class"], dtype=np.int64)
    return class_rates(in_domain & on_twins.mask(twins), in_domain, classes, cells, n_classes)


@dataclass
class Calibration:
    """What the catalogue estimate needs, computed once at build time: the twins' predictions
    and classes (``class_names``, RC first), the parent histogram, each mix cell's class mix
    with its bootstrap replicates, and the truth set's range.

    ``truth_range`` holds the 99th percentiles of the test split's G (mag), ``a_w1`` (mag) and
    RC distance (kpc): beyond any of them a selected star rests on twins and the mix alone.
    """

    twins: Any
    parent: ParentHistogram
    shares: FloatArray
    share_draws: FloatArray
    truth_range: dict[str, float]
    class_names: tuple[str, ...]

    @classmethod
    def from_parts(cls, parts: dict[str, Any]) -> Calibration:
        """From :func:`redclump.data.calibration_files.read_calibration`'s dict."""
        return cls(
            parts["twins"],
            ParentHistogram(parts["parent"]),
            parts["shares"],
            parts["share_draws"],
            parts["truth_range"],
            tuple(parts["class_names"]),
        )

    def __post_init__(self) -> None:
        # Only twins in the catalogue count, and a slider step reads their columns as arrays:
        # the table is kept as those arrays alone (a server holds one calibration per process).
        in_catalogue = np.asarray(self.twins["giant"], dtype=bool)
        self.twins = {c: np.asarray(self.twins[c])[in_catalogue] for c in TWIN_COLUMNS}
        self._cells = _twin_cells(self.twins)
        self._parents: dict[tuple[Any, ...], FloatArray] = {}

    def rates(self, cut: Any) -> ClassRates:
        """A cut's twin rates per class and rate cell."""
        return twin_rates(self.twins, cut, len(self.class_names), cells=self._cells)

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
            :func:`redclump.core.cells.mix_cell` of each selected catalogue star.
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
        result = catalogue_estimate(n_selected, n_parent, self.rates(cut), self.shares, self.share_draws, seed=seed)
        no_cell = int(np.count_nonzero(cells < 0))
        if cells.size:
            result["uncovered"] = (result["uncovered"] * n_selected.sum() + no_cell) / cells.size
        result["n_selected"] = int(cells.size)
        return result
