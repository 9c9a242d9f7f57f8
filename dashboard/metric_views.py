"""The metric plots under the view: the contamination map in the Kiel diagram and the
completeness–contamination trade-off, both on the truth set's test split.

Plain Bokeh rather than HoloViews: a cut change updates one data source (~1 ms) instead of
re-rendering an overlay (~65 ms of each slider change).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .state import CUT_PARAMS as STATE_CUT_PARAMS
from .state import ExplorerState

__all__ = ["kiel_map_view", "tradeoff_view"]

CUT_PARAMS = list(STATE_CUT_PARAMS)


def kiel_map_view(state: ExplorerState, *, height: int = 300) -> Any:
    """Contamination of the cut in Teff–log g bins of the truth set's test stars (blank: fewer
    than 5 stars selected in the bin).

    Plain Bokeh (an image glyph, stretched to the plot's width) rather than HoloViews, for the
    reason given in :func:`tradeoff_view`: a cut change updates one data source.
    """
    from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper
    from bokeh.palettes import Cividis256
    from bokeh.plotting import figure

    def grid_data() -> dict[str, list[Any]]:
        grid = state.kiel_contamination()
        x_edges, y_edges = grid["x_edges"], grid["y_edges"]
        return {
            "image": [np.asarray(grid["contamination"].T, dtype=np.float32)],  # rows along log g
            "x": [float(x_edges[0])],
            "y": [float(y_edges[0])],
            "dw": [float(x_edges[-1] - x_edges[0])],
            "dh": [float(y_edges[-1] - y_edges[0])],
        }

    data = grid_data()
    x0, y0 = data["x"][0], data["y"][0]
    x1, y1 = x0 + data["dw"][0], y0 + data["dh"][0]
    fig = figure(
        height=height,
        min_width=300,
        max_width=640,  # a 14 × 10 grid; wrapped under the numbers on a narrow window it would
        sizing_mode="stretch_width",  # otherwise outgrow the view above it
        x_range=(x1, x0),  # Teff increasing to the left, log g downwards, as a Kiel diagram
        y_range=(y1, y0),
        # Short: Bokeh does not wrap a title, and at the figure's narrowest (compare on, at
        # 1600 px) a longer one was cut off; the line above the plot says what it shows.
        title="contamination (test split)",
        x_axis_label="Teff_phot (K)",
        y_axis_label="log g_phot",
        toolbar_location=None,
    )
    fig.xaxis.ticker.desired_num_ticks = 4
    mapper = LinearColorMapper(palette=Cividis256, low=0.0, high=1.0, nan_color=(0, 0, 0, 0))
    source = ColumnDataSource(data)
    renderer = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=source, color_mapper=mapper)
    fig.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
    fig.add_tools(HoverTool(renderers=[renderer], tooltips=[("contamination", "@image{0.00}")]))
    state.param.watch(lambda *_: setattr(source, "data", grid_data()), CUT_PARAMS)
    return fig


def tradeoff_view(state: ExplorerState) -> Any:
    """Completeness against contamination as ΔP_min varies (other cuts fixed), the Tier 1 and
    Tier 2 presets, and the current cut as a red point.

    Plain Bokeh rather than HoloViews: the point moves on every cut change, and updating a data
    source costs ~1 ms where re-rendering a HoloViews overlay cost ~65 ms of each slider change.
    """
    from bokeh.models import ColumnDataSource, LabelSet
    from bokeh.plotting import figure
    from redclump.core import metrics
    from redclump.core.selection import PRESETS

    presets = {"x": [], "y": [], "name": []}
    for name in ("tier1", "tier2"):
        m = metrics.selection_metrics(PRESETS[name].mask(state.data.test), state.data.test_is_rc)
        presets["x"].append(m["contamination"])
        presets["y"].append(m["completeness"])
        presets["name"].append(name)
    fig = figure(
        width=360,
        height=260,
        x_range=(0, 0.8),
        y_range=(0, 1.05),
        title="trade-off (ΔP_min varies)",
        x_axis_label="contamination",
        y_axis_label="completeness",
        toolbar_location=None,
    )
    curve = ColumnDataSource({"x": np.zeros(0), "y": np.zeros(0)})
    current = ColumnDataSource({"x": np.zeros(1), "y": np.zeros(1)})
    preset_source = ColumnDataSource({key: np.asarray(values) for key, values in presets.items()})
    fig.line("x", "y", source=curve, color="grey")
    fig.scatter("x", "y", source=preset_source, marker="square", size=8, color="black")
    fig.add_layout(LabelSet(x="x", y="y", text="name", source=preset_source, y_offset=6, text_font_size="8pt"))
    fig.scatter("x", "y", source=current, color="red", size=10)

    def fit_x_range() -> None:
        # The curve, the presets and the current cut, with a margin: a fixed 0–0.8 left three
        # quarters of the plot empty where the curve ends near 0.3.
        shown = np.concatenate([curve.data["x"], preset_source.data["x"], current.data["x"]]).astype(float)
        shown = shown[np.isfinite(shown)]
        if len(shown) == 0:
            return
        lo, hi = float(shown.min()), float(shown.max())
        margin = max(0.1 * (hi - lo), 0.02)
        fig.x_range.update(start=max(0.0, lo - margin), end=min(1.0, hi + margin))

    def update_curve(*_: Any) -> None:
        values = state.tradeoff()
        curve.data = {"x": np.asarray(values["contamination"]), "y": np.asarray(values["completeness"])}
        fit_x_range()

    def update_point(*_: Any) -> None:
        now = state.numbers()
        current.data = {"x": np.array([now["contamination"]]), "y": np.array([now["completeness"]])}
        fit_x_range()

    # The curve does not depend on ΔP_min (it varies it), so a ΔP slider move only moves the point.
    state.param.watch(update_curve, [p for p in CUT_PARAMS if p != "dp_min"])
    state.param.watch(update_point, list(CUT_PARAMS))
    update_curve()
    update_point()
    return fig
