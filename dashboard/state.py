"""The dashboard's state: cuts, view choices and everything derived from them.

A pure :class:`param.Parameterized` (no Panel import) so that it can be tested without a browser:
set parameters, read the derived mask, counts and metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import param
from redclump.core import cells as cells_module
from redclump.core import estimates, metrics
from redclump.core.selection import CUT_TERMS, PRESETS, Cut, CutTerm, cut_class

from .app_data import DP_FLOOR, AppData
from .region import Region, RegionError

__all__ = [
    "COLOUR_COLUMNS",
    "CUT_PARAMS",
    "SLIDER_PARAMS",
    "URL_PARAMS",
    "ExplorerState",
    "slider_names",
    "slider_params",
    "state_class",
    "url_keys",
]

#: Colour-by choices: label → catalogue column (None = star density).
COLOUR_COLUMNS: dict[str, str | None] = {
    "density": None,
    "mean distance (kpc)": "dist",
    "mean ΔP_phot (s)": "dp_phot",
    "mean Teff_phot (K)": "teff_phot",
    "mean log g_phot": "logg_phot",
    "mean Δν_phot (µHz)": "dnu_phot",
    "mean P(RC)": "p_rc",
    "mean G (mag)": "phot_g_mean_mag",
    "mean Z (kpc)": "z_gc",
}
#: The published cut the sliders start at.
START_PRESET = "tier2"
#: View choices a link carries besides the cut (their URL keys are their names).
VIEW_URL_PARAMS = ("colour_by", "cnorm", "sky_projection")


def slider_names(terms: Sequence[CutTerm]) -> tuple[str, ...]:
    """The parameters of the cut terms among ``terms`` that have a slider, in table order."""
    return tuple(term.name for term in terms if term.slider is not None)


def url_keys(terms: Sequence[CutTerm]) -> dict[str, str]:
    """Slider parameter → URL query key, for the cut terms among ``terms`` that have a slider."""
    return {term.name: term.url_key for term in terms if term.slider is not None}


def slider_params(terms: Sequence[CutTerm], start: Cut = PRESETS[START_PRESET]) -> dict[str, param.Number]:
    """One :class:`param.Number` per cut term of ``terms`` that has a slider.

    Parameters
    ----------
    terms
        A table of cut terms.
    start
        The cut the sliders start at; a term it leaves unset starts at 'off'.

    Returns
    -------
    dict[str, param.Number]
        Parameter name → parameter, with the term's label, range, step and description.
    """
    return {
        term.name: param.Number(
            term.slider_value(getattr(start, term.name, None)),
            label=term.label,
            bounds=(term.slider.lo, term.slider.hi),
            step=term.slider.step,
            doc=term.doc,
        )
        for term in terms
        if term.slider is not None
    }


#: The cut's sliders; with the drawn region they define the selection; with the view choices the URL.
SLIDER_PARAMS = slider_names(CUT_TERMS)
CUT_PARAMS = (*SLIDER_PARAMS, "region")
#: Parameter → URL query key of everything a link carries.
URL_PARAMS: dict[str, str] = {**url_keys(CUT_TERMS), **{name: name for name in VIEW_URL_PARAMS}}
#: Results kept per kind (mask, test mask, numbers, view images): the applied cut and the one being
#: computed. Each catalogue mask or index is megabytes, and every session keeps its own.
MEMO_SIZE = 2


class Memo:
    """Results by key, the newest few, shared by a state and its :meth:`ExplorerState.derive`d
    twins, which fill it from worker threads (see :mod:`.live`)."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._items: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        value = self._items.get(key)
        if value is None:
            value = compute()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    del self._items[next(iter(self._items))]
        return value


class CutSliders(param.Parameterized):
    """The cut's slider parameters: one per term of :data:`CUT_TERMS` that has a slider."""


for _name, _slider in slider_params(CUT_TERMS).items():
    CutSliders.param.add_parameter(_name, _slider)
if CutSliders.param["dp_min"].bounds[0] != DP_FLOOR:
    # The app loads only stars above DP_FLOOR: a slider reaching below it would miss stars.
    msg = f"the dp_min slider starts at {CutSliders.param['dp_min'].bounds[0]:g}, the app's candidates at {DP_FLOOR:g}"
    raise ValueError(msg)


class ExplorerState(CutSliders):
    """Cuts and view choices of one session, over data shared by every session.

    The cut's slider parameters come from the cut-term table (:class:`CutSliders`); a state for
    another table is made by :func:`state_class`.
    """

    #: The cut the sliders set; its ``terms`` are the sliders' table.
    cut_type: ClassVar[type[Cut]] = Cut

    colour_by = param.Selector(
        objects=list(COLOUR_COLUMNS), label="Colour by", default="density", doc="What the views' colour shows"
    )
    cnorm = param.Selector(
        objects=["eq_hist", "log", "linear"],
        label="Colour normalisation",
        default="eq_hist",
        doc="Colour normalisation",
    )
    sky_projection = param.Selector(
        objects=["Hammer–Aitoff", "l–b"], label="Sky projection", default="Hammer–Aitoff", doc="Sky view projection"
    )
    hover = param.Boolean(
        False,
        label="Hover: pixel values",
        doc="Show each pixel's count or mean under the cursor (off by default: it ships a hover layer per view)",
    )
    region = param.ClassSelector(
        class_=Region, default=None, allow_None=True, doc="Linked selection drawn on a view (box or lasso), or None"
    )
    show_truth = param.Boolean(
        False,
        label="Overlay truth-set test stars (seismic view)",
        doc="Overlay truth-set test stars on the seismic view",
    )

    def __init__(self, data: AppData, **params: Any) -> None:
        self.data = data
        self._masks = Memo(3 * MEMO_SIZE)
        super().__init__(**params)
        for term in self.slider_terms():
            if not all(data.available.get(column, True) for column in term.columns):
                self.param[term.name].constant = True

    # ---- the cut -------------------------------------------------------------------------
    @classmethod
    def slider_terms(cls) -> tuple[CutTerm, ...]:
        """The cut terms this state has sliders for."""
        return tuple(term for term in cls.cut_type.terms if term.slider is not None)

    def _cut_params(self) -> tuple[str, ...]:
        return (*(term.name for term in self.slider_terms()), "region")

    @param.depends(*SLIDER_PARAMS)
    def cut(self) -> Cut:
        """The current cut; thresholds at their 'off' end are left out."""
        return self.cut_type(**{term.name: term.threshold(getattr(self, term.name)) for term in self.slider_terms()})

    def apply_preset(self, name: str) -> None:
        """Set the sliders to a published cut (tier1, tier2, highlat)."""
        self.param.update(**self.preset_values(name))

    def preset_values(self, name: str) -> dict[str, float]:
        """The slider values of a published cut (tier1, tier2, highlat)."""
        cut = PRESETS[name]
        return {term.name: term.slider_value(getattr(cut, term.name, None)) for term in self.slider_terms()}

    def _region_mask(self, frame: Any) -> np.ndarray | None:
        if self.region is None:
            return None
        if frame is self.data.catalogue and self.region.kind == "lasso" and self.region.y in frame:
            return self.region.mask(frame, sorted_by_y=self.data.sorted_by_y(self.region.x, self.region.y))
        return self.region.mask(frame)

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._cut_params())

    def derive(self, **values: Any) -> ExplorerState:
        """A twin of this state with the cut ``values`` set, sharing its data and computed
        results: what a cut change will need is computed on the twin (in a worker thread) before
        the change is applied here, where it is then found ready."""
        current = {name: getattr(self, name) for name in self._cut_params()}
        twin = type(self)(self.data, **{**current, **values})
        twin._masks = self._masks
        return twin

    @param.depends(*CUT_PARAMS)
    def mask(self) -> np.ndarray:
        """Selected catalogue candidates (cut and linked region), computed once per cut."""

        def compute() -> np.ndarray:
            keep = self.cut().mask(self.data.catalogue)
            region = self._catalogue_region()
            return keep if region is None else keep & region

        return self._masks.get(("catalogue", self._key()), compute)

    def _catalogue_region(self) -> np.ndarray | None:
        """The drawn region's mask over the candidates, computed once per region (the selection
        and the catalogue estimate's parent both need it)."""
        if self.region is None:
            return None
        return self._masks.get(("region", self.region), lambda: self._region_mask(self.data.catalogue))

    @param.depends(*CUT_PARAMS)
    def test_mask(self) -> np.ndarray:
        """Selected truth-set test stars. A region drawn in columns the truth set lacks cannot
        restrict them; the numbers then say so (see :meth:`numbers`)."""

        def compute() -> np.ndarray:
            keep = self.cut().mask(self.data.test)
            try:
                region = self._region_mask(self.data.test)
            except RegionError:
                region = None
            return keep if region is None else keep & region

        return self._masks.get(("test", self._key()), compute)

    # ---- numbers -------------------------------------------------------------------------
    @param.depends(*CUT_PARAMS)
    def numbers(self) -> dict[str, Any]:
        """Selected count, plain and reweighted contamination, completeness, far-star counts."""
        return self._masks.get(("numbers", self._key()), self._numbers)

    def _numbers(self) -> dict[str, Any]:
        mask = self.mask()
        test_mask = self.test_mask()
        stats = metrics.selection_metrics(test_mask, self.data.test_is_rc)
        if self.data.available.get("reweighting", False):
            reweighted = metrics.reweighted_contamination(
                test_mask,
                self.data.test_is_rc,
                self.data.test_strata,
                metrics.stratum_counts(self.data.catalogue_strata, mask, self.data.n_strata),
                self.data.n_strata,
                n_boot=50,
                seed=0,
            )
        else:
            reweighted = {
                "contamination": float("nan"),
                "lo": float("nan"),
                "hi": float("nan"),
                "note": "no G magnitudes or truth set to reweight with",
            }
        far = self.data.far
        region = self.region
        if region is not None and not {region.x, region.y} <= set(self.data.test.columns):
            note = f"the truth set has no {region.x}/{region.y}: contamination and completeness ignore the drawn region"
            stats["note"] = "; ".join(n for n in (stats.get("note"), note) if n)
        return {
            **stats,
            "catalogue": self._catalogue_estimate(mask),
            "n_catalogue": int(mask.sum()),
            "reweighted": reweighted,
            "beyond_10kpc": int(np.count_nonzero(mask & far[10])) if far else 0,
            "beyond_20kpc": int(np.count_nonzero(mask & far[20])) if far else 0,
            "cut_text": self.cut().text(),
            "region_text": self.region_text(),
        }

    def _catalogue_estimate(self, mask: np.ndarray) -> dict[str, Any]:
        """Contamination and completeness of the selected catalogue stars (docs/estimates.md)."""
        calibration = self.data.calibration
        if calibration is None:
            nan = float("nan")
            return {"available": False, "contamination": nan, "completeness": nan, "outside_truth": nan}
        cut = self.cut()
        cells = self.data.estimate_cells
        scale = None
        region = self._catalogue_region()
        if region is not None:
            # The parent histogram knows no drawn region: scale each cell's parent by the share
            # of its candidates (in the cut's position terms) that the region keeps.
            domain = estimates.domain_cut(cut).mask(self.data.catalogue)
            inside = np.bincount(cells[domain & region & (cells >= 0)], minlength=cells_module.N_MIX_CELLS)
            total = np.bincount(cells[domain & (cells >= 0)], minlength=cells_module.N_MIX_CELLS)
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = np.where(total > 0, inside / np.maximum(total, 1), 0.0)
        result = calibration.estimate(cut, cells[mask], parent_scale=scale)
        result["available"] = True
        result["outside_truth"] = float(self.data.outside_truth[mask].mean()) if mask.any() else float("nan")
        return result

    def region_text(self) -> str:
        return "none" if self.region is None else self.region.text()

    @param.depends(*CUT_PARAMS)
    def kiel_contamination(self) -> dict[str, np.ndarray]:
        test = self.data.test
        return metrics.binned_metrics_2d(
            self.test_mask(),
            self.data.test_is_rc,
            test["teff_phot"].to_numpy(),
            test["logg_phot"].to_numpy(),
            np.linspace(4000, 5400, 15),
            np.linspace(1.5, 3.5, 11),
            min_count=5,
        )

    @param.depends(*(name for name in SLIDER_PARAMS if name != "dp_min"))
    def tradeoff(self) -> dict[str, np.ndarray]:
        """Completeness vs contamination as ΔP_min varies, other cuts fixed."""
        base = self.cut()
        return metrics.tradeoff_curve(
            base, "dp_min", np.linspace(DP_FLOOR, 350, 81), self.data.test, self.data.test_is_rc
        )

    def command(self, out: str = "sample.parquet") -> str:
        """The equivalent `redclump select` command line."""
        cut = self.cut()
        parts = ["redclump select"]
        for term in cut.terms:
            value = getattr(cut, term.name)
            if value is not None:
                parts.append(f"{term.flag} {value:g}")
        parts.append(f"--out {out}")
        line = " ".join(parts)
        if self.region is not None:
            line += f"   # plus the drawn region: {self.region_text()}"
        return line

    def url_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*self._cut_params()[:-1], *VIEW_URL_PARAMS)}


def state_class(terms: Sequence[CutTerm]) -> type[ExplorerState]:
    """An :class:`ExplorerState` for the table ``terms``: itself for :data:`CUT_TERMS`, else a
    subclass with a slider for each term it lacks.

    Parameters
    ----------
    terms
        A table of cut terms that holds every term of :data:`CUT_TERMS`.

    Returns
    -------
    type[ExplorerState]
        A state whose cut, presets and command follow ``terms``. Its methods' ``param.depends``
        name the shipped table's sliders only: for tests and scripts, not for a served page.
    """
    cut_type = cut_class(terms)
    if cut_type is Cut:
        return ExplorerState
    added = [term for term in terms if term.name not in ExplorerState.param]

    class ExtendedState(ExplorerState):
        __doc__ = ExplorerState.__doc__

    ExtendedState.cut_type = cut_type
    for name, slider in slider_params(added).items():
        ExtendedState.param.add_parameter(name, slider)
    return ExtendedState
