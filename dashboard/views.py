"""Views of the explorer: thin functions of the state, rasterised on the server with datashader.

Every density view is a :class:`holoviews.DynamicMap` that aggregates the *selected* stars into
an image of at most ``WIDTH × HEIGHT`` pixels (the browser never receives points). Colour map
and normalisation are plot options applied on the client-side colour mapper, so changing them
never re-aggregates.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
import param
from redclump.core.projection import hammer_aitoff

from .app_data import DP_FLOOR
from .live import LiveImage, with_document_lock
from .region import Region, RegionError, compile_kernel
from .state import COLOUR_COLUMNS, MEMO_SIZE, ExplorerState, Memo
from .state import CUT_PARAMS as STATE_CUT_PARAMS

__all__ = [
    "VIEWS",
    "VIEW_HELP",
    "SelectionCache",
    "compile_kernels",
    "density_view",
    "graticule",
    "overlay",
    "render_png",
]

log = logging.getLogger("redclump")

WIDTH, HEIGHT = 480, 280
CUT_PARAMS = list(STATE_CUT_PARAMS)
CMAP = "viridis"

#: name: (x column, y column, full x range, full y range, invert x, invert y, x label, y label)
VIEWS: dict[str, tuple[str, str, tuple[float, float], tuple[float, float], bool, bool, str, str]] = {
    "sky": ("sky_x", "sky_y", (-2.9, 2.9), (-1.45, 1.45), False, False, "", ""),
    "sky_lb": ("l_wrapped", "b", (-180.0, 180.0), (-90.0, 90.0), True, False, "l (deg)", "b (deg)"),
    "seismic": ("dnu_phot", "dp_phot", (0.0, 12.0), (DP_FLOOR, 400.0), False, False, "Δν_phot (µHz)", "ΔP_phot (s)"),
    "kiel": ("teff_phot", "logg_phot", (3800.0, 5600.0), (1.0, 3.6), True, True, "Teff_phot (K)", "log g_phot"),
    "galaxy_xy": ("x_gc", "y_gc", (-20.0, 20.0), (-20.0, 20.0), False, False, "X (kpc)", "Y (kpc)"),
    "galaxy_rz": ("r_gc", "z_gc", (0.0, 25.0), (-8.0, 8.0), False, False, "R (kpc)", "Z (kpc)"),
}


#: One-line definition of each view (its "?" tooltip and help line).
VIEW_HELP: dict[str, str] = {
    "sky": "Sky: selected stars in Galactic coordinates (Hammer–Aitoff equal-area, l = 0 at the centre, "
    "l increasing to the left). Click a star for its card.",
    "sky_lb": "Sky in plain Galactic l–b. Click a star for its card.",
    "seismic": "Every candidate in the predicted ΔP–Δν plane, with the cut lines (red): the RC lie at high ΔP, "
    "low Δν. Click a star for its card.",
    "kiel": "Kiel diagram: predicted Teff against log g of the selected stars; the RC sits near 4800 K, "
    "log g 2.4. Click a star for its card.",
    "galaxy_xy": "The Galaxy face-on: Galactocentric X, Y (kpc) from the RC distances, Sun at X = −8.1 kpc.",
    "galaxy_rz": "The Galaxy edge-on: Galactocentric radius R and height Z (kpc) from the RC distances.",
}
#: Largest image a view aggregates (px); a larger plot shows it stretched.
MAX_AGGREGATE = (1600, 1000)
#: Screen pixels per aggregate pixel, along each axis. At 1 a full-width view was a 2 MB image per
#: cut change, and the browser's eq_hist colour mapping of it took most of a slider step's time
#: (~1 s of it on the 2-core machine, BENCHMARKS.md); at 2 the image is a quarter of that.
SCREEN_PER_PIXEL = 2
#: Colour-bar labels rounded to 2 significant figures (the eq_hist ticks fall on bin edges such
#: as 132.031); BokehJS code, for a CustomJSTickFormatter.
TWO_SIGNIFICANT_FIGURES = """
if (tick === 0) { return "0"; }
const rounded = Number(tick.toPrecision(2));
const size = Math.abs(rounded);
return (size >= 1e5 || size < 1e-3) ? rounded.toExponential(1) : String(rounded);
"""


def _colorbar_opts() -> dict[str, Any]:
    from bokeh.models import CustomJSTickFormatter

    return {"formatter": CustomJSTickFormatter(code=TWO_SIGNIFICANT_FIGURES)}


class SelectionCache:
    """Indices of the selected stars, computed once per cut and shared by a session's views, and
    the session's density views (:class:`LiveImage`), which a cut change redraws in place.

    ``state`` defaults to the session's state; a twin from :meth:`ExplorerState.derive` computes
    a cut before it is applied.
    """

    def __init__(self, state: ExplorerState) -> None:
        self.state = state
        self._index = Memo(MEMO_SIZE)
        self.images: list[LiveImage] = []

    def index(self, state: ExplorerState | None = None) -> np.ndarray:
        state = state or self.state
        # int32: half the memory of numpy's default, and the catalogue has fewer than 2**31 rows
        return self._index.get(state._key(), lambda: np.flatnonzero(state.mask()).astype(np.int32))

    def columns(self, names: list[str], state: ExplorerState | None = None) -> pd.DataFrame:
        index = self.index(state)
        cat = self.state.data.catalogue
        return pd.DataFrame({name: cat[name].to_numpy()[index] for name in names})

    def prepare(self, twin: ExplorerState) -> None:
        """Everything a cut change needs, computed for ``twin``'s cut (in a worker thread)."""
        twin.numbers()
        for image in self.images:
            image.prepare(twin)


def aggregate(
    frame: pd.DataFrame,
    x: str,
    y: str,
    colour: str | None,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Any:
    canvas = ds.Canvas(plot_width=width, plot_height=height, x_range=x_range, y_range=y_range)
    agg = ds.count() if colour is None else ds.mean(colour)
    return canvas.points(frame, x, y, agg=agg)


def compile_kernels(views: tuple[str, ...] = ("sky",)) -> None:
    """Compile datashader's count kernels for ``views`` on tiny frames, and the lasso's polygon
    test.

    Numba compiles on first use, once per column-name pair and type (~0.5 s each here);
    `redclump serve` does the first page's view while the catalogue loads rather than during the
    first visitor's page. The other views compile when first shown.
    """
    for name in views:
        x, y = VIEWS[name][:2]
        tiny = pd.DataFrame({x: np.zeros(4, np.float32), y: np.zeros(4, np.float32)})
        aggregate(tiny, x, y, None, (0.0, 1.0), (0.0, 1.0), width=4, height=4)
    compile_kernel()


def _prompt_range_updates(plot: Any, _element: Any) -> None:
    # Bokeh tells the server about a zoom or pan only once the interaction has paused for
    # lod_timeout ms (default 500), half of a zoom's latency; 150 ms still merges the steps of
    # one wheel gesture.
    plot.state.lod_timeout = 150
    # HoloViews asks for WebGL on every plot. These views draw an image (which WebGL does not
    # draw) and a few lines, so it bought nothing, yet BokehJS copied the WebGL layer onto the
    # canvas at every redraw: ~380 ms per slider step in Chromium without a GPU (software GL),
    # more than all else the page does for a step.
    plot.state.output_backend = "canvas"


#: BokehJS: widen the x or the y range about its centre so that an x unit spans as many screen
#: pixels as a y unit, keeping all that was in view (HoloViews' data_aspect is not kept for a
#: responsive plot with fixed limits).
EQUAL_SCALES_JS = """
const w = fig.inner_width, h = fig.inner_height;
if (!(w > 0 && h > 0)) { return; }
const xr = fig.x_range, yr = fig.y_range;
const xs = Math.abs(xr.end - xr.start), ys = Math.abs(yr.end - yr.start);
const widen = (range, span) => {
  const centre = (range.start + range.end) / 2, sign = range.end >= range.start ? 1 : -1;
  range.setv({start: centre - sign * span / 2, end: centre + sign * span / 2});
};
if (ys * w / h > xs * (1 + 1e-3)) { widen(xr, ys * w / h); }
else if (xs * h / w > ys * (1 + 1e-3)) { widen(yr, xs * h / w); }
"""


def _equal_scales(plot: Any, _element: Any) -> None:
    from bokeh.models import CustomJS

    figure = plot.state
    if getattr(figure, "_equal_scales", False):
        return
    callback = CustomJS(args={"fig": figure}, code=EQUAL_SCALES_JS)
    for name in ("inner_width", "inner_height"):
        figure.js_on_change(name, callback)
    figure._equal_scales = True


def _sized_by_frame(plot: Any, _element: Any) -> None:
    """A plot sized by its frame (frame_width/height) needs no sizing mode: HoloViews marks it
    'fixed', which makes Bokeh warn (W-1005) on every page load that a fixed plot has no width
    and height."""
    if plot.state.frame_width is not None and plot.state.width is None:
        plot.state.sizing_mode = None


def overlay(view: hv.DynamicMap, *layers: Any) -> Any:
    """``view`` with ``layers`` drawn on top, keeping the view's prompt zoom updates."""
    result = view
    for layer in layers:
        result = result * layer
    return result.opts(hv.opts.Overlay(hooks=[_prompt_range_updates, _sized_by_frame]))


def density_view(state: ExplorerState, cache: SelectionCache, name: str) -> hv.DynamicMap:
    """A rasterised view of the selected stars; zoom re-aggregates at full resolution."""
    x, y, x_full, y_full, invert_x, invert_y, x_label, y_label = VIEWS[name]
    needs = [c for c in (x, y) if c not in state.data.catalogue]
    if needs:
        return hv.DynamicMap(lambda: hv.Text(0, 0, f"no {', '.join(needs)} in this catalogue"))

    def compute(st: ExplorerState, request: tuple[Any, ...]) -> Any:
        xr, yr, colour, width, height = request
        names = [x, y] + ([colour] if colour else [])
        if name == "seismic":
            # Every candidate, so the cut lines show what the cut keeps and what it drops.
            frame = pd.DataFrame({c: st.data.catalogue[c].to_numpy() for c in names})
        else:
            frame = cache.columns(names, st)
        agg = aggregate(frame, x, y, colour, xr, yr, width=width, height=height)
        return (agg.where(agg > 0) if colour is None else agg).astype(np.float32)

    live = LiveImage(compute)

    ranges, size = hv.streams.RangeXY(), hv.streams.PlotSize()

    def request() -> tuple[Any, ...]:
        """What the view shows now: ranges, colour column, aggregate size."""
        colour = COLOUR_COLUMNS[state.colour_by]
        if colour is not None and colour not in state.data.catalogue:
            colour = None
        width, height = size.width, size.height
        return (
            tuple(sorted(ranges.x_range)) if ranges.x_range else x_full,
            tuple(sorted(ranges.y_range)) if ranges.y_range else y_full,
            colour,
            # One aggregate pixel per SCREEN_PER_PIXEL² screen pixels of the plot's frame.
            int(np.clip((width or WIDTH * SCREEN_PER_PIXEL) // SCREEN_PER_PIXEL, 50, MAX_AGGREGATE[0])),
            int(np.clip((height or HEIGHT * SCREEN_PER_PIXEL) // SCREEN_PER_PIXEL, 50, MAX_AGGREGATE[1])),
        )

    def image(**_: Any) -> hv.Image:
        now = request()
        label = "stars" if now[2] is None else now[2]
        return hv.Image(live.render(state, now), kdims=[x, y], vdims=[label])

    # HoloViews re-renders the view only when the colour choice changes. A zoom, a pan or a resize
    # (linked streams, which do not refresh the plot) and a cut change redraw the image in place
    # (see .live); the seismic view shows every candidate, so a cut moves only its cut lines.
    dmap = hv.DynamicMap(image, streams=[hv.streams.Params(state, ["colour_by"])])
    for stream in (ranges, size):
        stream.source = dmap
        stream.add_subscriber(lambda **_: live.move(state, request()))
    if name != "seismic":
        cache.images.append(live)
        # (A DynamicMap driven by dimensionless streams never reuses a cached frame: a new page
        # calls image() again, which reads the current cut.)
        state.param.watch(lambda *_: live.redraw(state), CUT_PARAMS)
    _draw_regions(state, dmap, x, y)
    opts = dict(
        cmap=CMAP,
        colorbar=True,
        colorbar_opts=_colorbar_opts(),
        responsive=True,
        min_height=300,
        tools=["box_select", "lasso_select"],
        invert_xaxis=invert_x,
        invert_yaxis=invert_y,
        xlabel=x_label,
        ylabel=y_label,
        xlim=x_full,
        ylim=y_full,
        default_tools=["pan", "wheel_zoom", "reset"],
        active_tools=["wheel_zoom"],
        hooks=[_prompt_range_updates, live.hook],
    )
    if name == "sky":
        # Equal-area map: one data unit as long across as up at any window size (the frame's
        # shape follows the window; its x range follows the frame).
        opts.update(xaxis=None, yaxis=None, hooks=[_prompt_range_updates, _equal_scales, live.hook])

    def tools(hover: bool) -> list[str]:
        return ["box_select", "lasso_select", *(["hover"] if hover else [])]

    return dmap.opts(**opts).apply.opts(cnorm=state.param.cnorm, tools=param.bind(tools, state.param.hover))


def _draw_regions(state: ExplorerState, dmap: hv.DynamicMap, x: str, y: str) -> None:
    """A box or lasso drawn on the view of columns (``x``, ``y``) becomes the state's region.

    The region is kept in the view's own columns (projected x, y for the sky), so it selects
    exactly what was drawn.
    """
    bounds = hv.streams.BoundsXY(source=dmap)
    lasso = hv.streams.Lasso(source=dmap)

    def on_bounds(bounds: Any) -> None:
        if bounds is not None:
            state.region = Region.box(x, y, *bounds[0::2], *bounds[1::2])

    def on_lasso(geometry: Any) -> None:
        if geometry is None or len(geometry) == 0:
            return
        try:
            state.region = Region.lasso(x, y, geometry[:, 0], geometry[:, 1])
        except RegionError as exc:  # e.g. a click with the lasso tool: keep the current region
            log.info("lasso ignored: %s", exc)

    # (the region's watchers redraw Bokeh sources: they need the document lock)
    bounds.add_subscriber(with_document_lock(on_bounds))
    lasso.add_subscriber(with_document_lock(on_lasso))


def graticule() -> hv.Overlay:
    """Meridians every 60° and parallels every 30° in the Hammer–Aitoff projection."""
    paths = []
    b = np.linspace(-90, 90, 91)
    for l_deg in (-179.999, -120, -60, 0, 60, 120, 179.999):
        paths.append(np.column_stack(hammer_aitoff(np.full_like(b, l_deg % 360), b)))
    l_grid = np.linspace(-179.999, 179.999, 181)
    for b_deg in (-60, -30, 0, 30, 60):
        paths.append(np.column_stack(hammer_aitoff(l_grid % 360, np.full_like(l_grid, b_deg))))
    longitudes = np.array([120.0, 60.0, 0.0, 300.0, 240.0])
    x, y = hammer_aitoff(longitudes, np.zeros_like(longitudes))
    latitudes = np.array([-60.0, -30.0, 30.0, 60.0])
    lat_x, lat_y = hammer_aitoff(np.full_like(latitudes, 179.999), latitudes)
    # One Labels element (one glyph) rather than a Text per label: each element is a Bokeh
    # renderer that every new page has to build. Longitudes along the equator, latitudes on the
    # map's left edge; each on a translucent white box so it reads over the densest stars.
    labels = hv.Labels(
        (
            np.concatenate([x, lat_x - 0.08]),
            np.concatenate([y - 0.07, lat_y]),
            [f"{v:.0f}°" for v in longitudes] + [f"{v:+.0f}°" for v in latitudes],
        ),
        ["x", "y"],
        "text",
    ).opts(text_font_size="9pt", text_color="#222", hooks=[_label_halo])
    return hv.Path(paths).opts(color="grey", alpha=0.5, line_width=0.7) * labels


def _label_halo(plot: Any, _element: Any) -> None:
    glyph = plot.handles["glyph"]
    glyph.background_fill_color = "white"
    glyph.background_fill_alpha = 0.75
    glyph.padding = 1


def cut_lines(state: ExplorerState) -> hv.DynamicMap:
    def lines(dp_min: float, dnu_max: float) -> hv.Overlay:
        return hv.HLine(dp_min).opts(color="red", line_dash="dashed") * hv.VLine(dnu_max).opts(
            color="red", line_dash="dashed"
        )

    return hv.DynamicMap(pn_bind(lines, state, ["dp_min", "dnu_max"]))


def pn_bind(function: Any, state: ExplorerState, names: list[str]) -> Any:
    return param.bind(function, **{name: state.param[name] for name in names})


def truth_overlay(state: ExplorerState) -> hv.DynamicMap:
    """Truth-set test stars on the seismic plane, rasterised and coloured by spectroscopic class."""

    def overlay(show_truth: bool) -> hv.Element:
        if not show_truth:
            return hv.RGB(np.zeros((2, 2, 4), dtype=np.uint8), bounds=(0, DP_FLOOR, 12, 400))
        test = state.data.test
        frame = pd.DataFrame(
            {
                "dnu_phot": test["dnu_phot"].to_numpy(),
                "dp_phot": test["dp_phot"].to_numpy(),
                "class": pd.Categorical(test["class"].astype(str), categories=["RC", "RGB", "2CL"]),
            }
        )
        canvas = ds.Canvas(plot_width=WIDTH, plot_height=HEIGHT, x_range=(0, 12), y_range=(DP_FLOOR, 400))
        agg = canvas.points(frame, "dnu_phot", "dp_phot", agg=ds.count_cat("class"))
        import datashader.transfer_functions as tf

        img = tf.spread(
            tf.shade(agg, color_key={"RC": "#D55E00", "RGB": "#0072B2", "2CL": "#009E73"}, how="eq_hist"), px=1
        )
        return hv.RGB(np.array(img.to_pil()), bounds=(0, DP_FLOOR, 12, 400))

    return hv.DynamicMap(pn_bind(overlay, state, ["show_truth"]))


def render_png(
    state: ExplorerState, cache: SelectionCache, name: str, *, width: int = 1600, height: int = 900
) -> bytes:
    """A full-resolution PNG of a view's current selection (server-side datashader shading)."""
    import datashader.transfer_functions as tf

    x, y, x_full, y_full, invert_x, invert_y, *_ = VIEWS[name]
    colour = COLOUR_COLUMNS[state.colour_by]
    frame = cache.columns([x, y] + ([colour] if colour else []))
    agg = aggregate(frame, x, y, colour, x_full, y_full, width=width, height=height)
    if invert_x:
        agg = agg[:, ::-1]
    if invert_y:
        agg = agg[::-1, :]
    image = tf.set_background(tf.shade(agg, cmap=["#440154", "#21918c", "#fde725"], how=state.cnorm), "white")
    buffer = io.BytesIO()
    image.to_pil().save(buffer, format="PNG")
    return buffer.getvalue()
