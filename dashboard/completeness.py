"""The "Completeness" view: the current cut's selection function on the sky at a chosen G, and
its HEALPix FITS export (:mod:`redclump.core.selfunc`, docs/selection-function.md).

The catalogue's stars per HEALPix pixel, G bin and estimate cell are counted once per process
(the whole catalogue, not only the app's candidates: a pass over the catalogue files the first
time the tab is shown); a cut change counts its selected candidates and recombines them with the
calibration's rates, as ``redclump selfunc`` does. A drawn region is not applied to the maps.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
from redclump.core import selfunc_maps
from redclump.core.selfunc import SelectionFunction
from redclump.core.selfunc_maps import DEFINITION, PARENT_UNKNOWN, SkyCounts
from redclump.data.workdir import MANIFEST

from .app_data import AppData
from .state import CUT_PARAMS, ExplorerState

__all__ = ["APP_ORDER", "CompletenessView", "parent_counts", "selection_function"]

#: HEALPix order of the app's maps (NSIDE 16, 3.7° pixels): a map a slider step can redo.
APP_ORDER = 4
#: The sky image's resolution (deg).
IMAGE_STEP = 1.0

_PARENTS: dict[tuple[str, int], SkyCounts] = {}
_PARENTS_LOCK = threading.Lock()


def parent_counts(data: AppData, *, order: int = APP_ORDER) -> SkyCounts:
    """The catalogue's stars per pixel, G bin and mix cell (``n``; ``n_sel`` = 0), once per
    process: from the catalogue files when the app serves a built work folder, else from the
    frame it was given."""
    key = (data.source, order)
    with _PARENTS_LOCK:
        if key not in _PARENTS:
            folder = Path(data.source)
            if (folder / MANIFEST).exists():
                from redclump.data import selfunc_files

                columns = ("l", "b", "phot_g_mean_mag", "a_w1", "dist")
                parts = [
                    selfunc_maps.count_stars(
                        *(f[c] for c in columns), order=order, selected=np.zeros(len(f["l"]), bool)
                    )
                    for f in selfunc_files.iter_catalogue(folder.parent)
                ]
                counts = SkyCounts.merge(parts)
            else:
                frame = data.catalogue
                counts = selfunc_maps.count_stars(
                    *(frame[c].to_numpy() for c in ("l", "b", "phot_g_mean_mag", "a_w1", "dist")),
                    order=order,
                    selected=np.zeros(len(frame), bool),
                )
            _PARENTS[key] = counts
        return _PARENTS[key]


def selection_function(state: ExplorerState, *, order: int = APP_ORDER) -> SelectionFunction | None:
    """The current cut's selection function over G bins, or None without a calibration."""
    data = state.data
    calibration = data.calibration
    if calibration is None or not {"l", "b", "phot_g_mean_mag", "a_w1", "dist"} <= set(data.catalogue.columns):
        return None
    parent = parent_counts(data, order=order)
    chosen = data.catalogue[state.cut().mask(data.catalogue)]
    selected = selfunc_maps.count_stars(
        *(chosen[c].to_numpy() for c in ("l", "b", "phot_g_mean_mag", "a_w1", "dist")), order=order
    )
    counts = SkyCounts.merge([parent, SkyCounts(order, "g", selected.edges, selected.keys, selected.n * 0, selected.n)])
    cut = state.cut()
    meta = {"cut": cut.text(), "definition": DEFINITION["g"], "parent_definition": PARENT_UNKNOWN}
    rates = calibration.rates(cut)
    return SelectionFunction.from_counts(counts, rates, calibration.shares, calibration.share_draws, meta=meta)


def selfunc_fits(state: ExplorerState) -> bytes:
    """The current cut's maps over all G bins as a HEALPix FITS file (what ``redclump selfunc``
    writes): the page's "Download completeness (FITS)" (``dashboard/downloads.py``)."""
    sf = selection_function(state)
    if sf is None:
        msg = "no catalogue estimate in this work folder: run `redclump infer`"
        raise RuntimeError(msg)
    from redclump.data import selfunc_files

    return selfunc_files.selfunc_bytes(sf.parts())


class CompletenessView(pn.viewable.Viewer):
    """The cut's completeness on the sky at G = ``g_mag`` (plain Galactic l–b, l increasing to
    the left); its FITS download is in the page's download row."""

    g_mag = param.Number(15.5, bounds=(12.0, 19.9), step=0.1, doc="Gaia G of the RC stars the map is for (mag)")

    def __init__(self, state: ExplorerState, **params: Any) -> None:
        super().__init__(**params)
        self.state = state
        self._cache: dict[Any, SelectionFunction | None] = {}
        lon = np.arange(180.0 - IMAGE_STEP / 2, -180.0, -IMAGE_STEP)
        lat = np.arange(90.0 - IMAGE_STEP / 2, -90.0, -IMAGE_STEP)
        self._grid = np.meshgrid(lon, lat)

    def current(self) -> SelectionFunction | None:
        """The selection function of the state's cut (kept for the last few cuts)."""
        key = tuple(getattr(self.state, name) for name in CUT_PARAMS if name != "region")
        if key not in self._cache:
            self._cache[key] = selection_function(self.state)
            while len(self._cache) > 4:
                del self._cache[next(iter(self._cache))]
        return self._cache[key]

    def image(self, g_mag: float, **_cut: Any) -> Any:
        """The map at ``g_mag`` as an l–b image."""
        sf = self.current()
        if sf is None:
            return hv.Text(0, 0, "No catalogue estimate: run `redclump infer`.")
        import astropy.units as u
        import holoviews.plotting.bokeh  # noqa: F401  (styling options need the renderer loaded)
        from astropy.coordinates import SkyCoord

        lon, lat = self._grid

        where = SkyCoord(l=lon.ravel() * u.deg, b=lat.ravel() * u.deg, frame="galactic")
        values = sf.query(where, np.full(lon.size, g_mag)).reshape(lon.shape)
        bounds = (-180.0, -90.0, 180.0, 90.0)
        image = hv.Image(values[:, ::-1], bounds=bounds, kdims=["l", "b"], vdims=["completeness"])
        title = f"P(selected | RC star of the catalogue), G = {g_mag:.1f} (HEALPix order {sf.order})"
        return image.opts(
            cmap="viridis", clim=(0.0, 1.0), colorbar=True, invert_xaxis=True, responsive=True, min_height=300,
            title=title, tools=["hover"], xlabel="l (deg)", ylabel="b (deg)",
        )  # fmt: skip

    def __panel__(self) -> pn.viewable.Viewable:
        slider = pn.widgets.FloatSlider.from_param(self.param.g_mag, throttled=True, name="G (mag)")
        cut = {name: self.state.param[name] for name in CUT_PARAMS if name != "region"}
        plot = pn.pane.HoloViews(
            pn.bind(self.image, g_mag=slider.param.value_throttled, **cut),  # type: ignore[call-overload]
            sizing_mode="stretch_both",
            css_classes=["view-completeness"],
        )
        help_line = pn.pane.HTML(
            "<div class='view-help'>The cut's completeness: the probability that an RC star of the catalogue "
            "at (l, b) and this G is selected, from the catalogue estimate per HEALPix pixel (sparse pixels "
            "lean on coarser ones; docs/selection-function.md). Relative to the input catalogue; a drawn "
            "region is not applied.</div>",
            sizing_mode="stretch_width",
        )
        return pn.Column(help_line, slider, plot, sizing_mode="stretch_both")
