"""The dashboard's state: cuts, view choices and everything derived from them.

A pure :class:`param.Parameterized` (no Panel import) so that it can be tested without a browser:
set parameters, read the derived mask, counts and metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import param
from redclump.core import estimates, metrics
from redclump.core.selection import PRESETS, Cut

from .data import DP_FLOOR, AppData
from .region import Region, RegionError

__all__ = ["COLOUR_COLUMNS", "ExplorerState"]

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
#: The cut's sliders; with the drawn region they define the selection; with the view choices the URL.
SLIDER_PARAMS = ("dp_min", "dnu_max", "teff_min", "abs_b_min", "dp_frac_err_max", "p_rc_min")
CUT_PARAMS = (*SLIDER_PARAMS, "region")
URL_PARAMS = (*SLIDER_PARAMS, "colour_by", "cnorm", "sky_projection")
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


class ExplorerState(param.Parameterized):
    """Cuts and view choices of one session, over data shared by every session."""

    dp_min = param.Number(225.0, label="ΔP min (s)", bounds=(DP_FLOOR, 400.0), step=1.0, doc="ΔP_phot lower limit (s)")
    dnu_max = param.Number(5.5, label="Δν max (µHz)", bounds=(1.0, 20.0), step=0.05, doc="Δν_phot upper limit (µHz)")
    teff_min = param.Number(
        3500.0, label="Teff min (K)", bounds=(3500.0, 5500.0), step=10.0, doc="Teff_phot lower limit (K); 3500 = off"
    )
    abs_b_min = param.Number(0.0, label="|b| min (deg)", bounds=(0.0, 90.0), step=1.0, doc="|b| lower limit (deg)")
    dp_frac_err_max = param.Number(
        2.0, label="max σ(ΔP)/ΔP", bounds=(0.05, 2.0), step=0.01, doc="σ(ΔP)/ΔP upper limit; 2 = off"
    )
    p_rc_min = param.Number(0.0, label="P(RC) min", bounds=(0.0, 1.0), step=0.01, doc="P(RC) lower limit; 0 = off")
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
        if not data.available.get("p_rc", True):
            self.param.p_rc_min.constant = True
        if not data.available.get("dp_phot_err", True):
            self.param.dp_frac_err_max.constant = True

    # ---- the cut -------------------------------------------------------------------------
    @param.depends("dp_min", "dnu_max", "teff_min", "abs_b_min", "dp_frac_err_max", "p_rc_min")
    def cut(self) -> Cut:
        """The current cut; thresholds at their 'off' end are left out."""
        return Cut(
            dp_min=self.dp_min,
            dnu_max=self.dnu_max,
            teff_min=None if self.teff_min <= self.param.teff_min.bounds[0] else self.teff_min,
            abs_b_min=None if self.abs_b_min <= 0 else self.abs_b_min,
            dp_frac_err_max=None
            if self.dp_frac_err_max >= self.param.dp_frac_err_max.bounds[1]
            else self.dp_frac_err_max,
            p_rc_min=None if self.p_rc_min <= 0 else self.p_rc_min,
        )

    def apply_preset(self, name: str) -> None:
        """Set the sliders to a published cut (tier1, tier2, highlat)."""
        self.param.update(**self.preset_values(name))

    def preset_values(self, name: str) -> dict[str, float]:
        """The slider values of a published cut (tier1, tier2, highlat)."""
        cut = PRESETS[name]
        return dict(
            dp_min=cut.dp_min,
            dnu_max=cut.dnu_max,
            teff_min=cut.teff_min if cut.teff_min is not None else self.param.teff_min.bounds[0],
            abs_b_min=cut.abs_b_min or 0.0,
            dp_frac_err_max=self.param.dp_frac_err_max.bounds[1],
            p_rc_min=0.0,
        )

    def _region_mask(self, frame: Any) -> np.ndarray | None:
        if self.region is None:
            return None
        if frame is self.data.catalogue and self.region.kind == "lasso" and self.region.y in frame:
            return self.region.mask(frame, sorted_by_y=self.data.sorted_by_y(self.region.x, self.region.y))
        return self.region.mask(frame)

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in CUT_PARAMS)

    def derive(self, **values: Any) -> ExplorerState:
        """A twin of this state with the cut ``values`` set, sharing its data and computed
        results: what a cut change will need is computed on the twin (in a worker thread) before
        the change is applied here, where it is then found ready."""
        current = {name: getattr(self, name) for name in CUT_PARAMS}
        twin = ExplorerState(self.data, **{**current, **values})
        twin._masks = self._masks
        return twin

    @param.depends("dp_min", "dnu_max", "teff_min", "abs_b_min", "dp_frac_err_max", "p_rc_min", "region")
    def mask(self) -> np.ndarray:
        """Selected catalogue candidates (cut and linked region), computed once per cut."""

        def compute() -> np.ndarray:
            keep = self.cut().mask(self.data.catalogue)
            region = self._region_mask(self.data.catalogue)
            return keep if region is None else keep & region

        return self._masks.get(("catalogue", self._key()), compute)

    @param.depends("dp_min", "dnu_max", "teff_min", "abs_b_min", "dp_frac_err_max", "p_rc_min", "region")
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
    @param.depends("dp_min", "dnu_max", "teff_min", "abs_b_min", "dp_frac_err_max", "p_rc_min", "region")
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
        region = self._region_mask(self.data.catalogue)
        if region is not None:
            # The parent histogram knows no drawn region: scale each cell's parent by the share
            # of its candidates (in the cut's position terms) that the region keeps.
            domain = estimates.domain_cut(cut).mask(self.data.catalogue)
            inside = np.bincount(cells[domain & region & (cells >= 0)], minlength=estimates.N_MIX_CELLS)
            total = np.bincount(cells[domain & (cells >= 0)], minlength=estimates.N_MIX_CELLS)
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = np.where(total > 0, inside / np.maximum(total, 1), 0.0)
        result = calibration.estimate(cut, cells[mask], parent_scale=scale)
        result["available"] = True
        result["outside_truth"] = float(self.data.outside_truth[mask].mean()) if mask.any() else float("nan")
        return result

    def region_text(self) -> str:
        return "none" if self.region is None else self.region.text()

    @param.depends("dp_min", "dnu_max", "teff_min", "abs_b_min", "dp_frac_err_max", "p_rc_min", "region")
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

    @param.depends("dnu_max", "teff_min", "abs_b_min", "dp_frac_err_max", "p_rc_min")
    def tradeoff(self) -> dict[str, np.ndarray]:
        """Completeness vs contamination as ΔP_min varies, other cuts fixed."""
        base = self.cut()
        return metrics.tradeoff_curve(
            base, "dp_min", np.linspace(DP_FLOOR, 350, 81), self.data.test, self.data.test_is_rc
        )

    def command(self, out: str = "sample.parquet") -> str:
        """The equivalent `redclump select` command line."""
        flags = {
            "dp_min": "--dp-min",
            "dnu_max": "--dnu-max",
            "teff_min": "--teff-min",
            "abs_b_min": "--abs-b-min",
            "dp_frac_err_max": "--dp-frac-err-max",
            "p_rc_min": "--p-rc-min",
        }
        parts = ["redclump select"]
        for name, value in self.cut().to_dict().items():
            if value is not None and name in flags:
                parts.append(f"{flags[name]} {value:g}")
        parts.append(f"--out {out}")
        line = " ".join(parts)
        if self.region is not None:
            line += f"   # plus the drawn region: {self.region_text()}"
        return line

    def url_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in URL_PARAMS}
