"""The views without a browser: what they aggregate and how their Bokeh figures are set up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from redclump.core.saliency import binned_mean
from redclump.dashboard.app_data import APP_COLUMNS, frames_to_app_data
from redclump.dashboard.state import COLOUR_COLUMNS, ExplorerState
from redclump.data.synthetic import synthetic_frames


def test_every_colour_option_is_a_loaded_column() -> None:
    assert all(column in APP_COLUMNS for column in COLOUR_COLUMNS.values() if column is not None)


def test_colour_by_mean_is_the_mean_of_the_stars_in_each_pixel() -> None:
    from redclump.dashboard.views import aggregate

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"x": rng.uniform(0, 1, 5000), "y": rng.uniform(0, 1, 5000), "dist": rng.uniform(0, 20, 5000)}
    ).astype(np.float32)
    agg = aggregate(frame, "x", "y", "dist", (0.0, 1.0), (0.0, 1.0), width=4, height=3)
    edges_x, edges_y = np.linspace(0, 1, 5), np.linspace(0, 1, 4)
    expected = binned_mean(frame["dist"].to_numpy(np.float64), frame["x"], frame["y"], edges_x, edges_y, min_count=1)
    np.testing.assert_allclose(agg.values, expected.T, rtol=1e-5)  # datashader: rows are y
    counts = aggregate(frame, "x", "y", None, (0.0, 1.0), (0.0, 1.0), width=4, height=3)
    assert int(counts.values.sum()) == len(frame)


@pytest.mark.parametrize("name", ["sky", "seismic"])
def test_overlaid_views_report_zooms_promptly(name: str) -> None:
    """Bokeh sends a zoom to the server only after lod_timeout ms without interaction (500 by
    default); the app's views, overlays included, use 150 ms (see BENCHMARKS.md)."""
    import bokeh.models
    import holoviews as hv
    import panel as pn
    from bokeh.document import Document
    from redclump.dashboard.views import SelectionCache, cut_lines, density_view, graticule, overlay

    hv.extension("bokeh", logo=False)
    catalogue, scored = synthetic_frames(2000, 400, seed=0)
    state = ExplorerState(frames_to_app_data(catalogue, scored, source="views"))
    view = density_view(state, SelectionCache(state), name)
    layered = overlay(view, graticule()) if name == "sky" else overlay(view, cut_lines(state))
    root = pn.pane.HoloViews(layered).get_root(Document())
    plots = list(root.select({"type": bokeh.models.Plot}))
    assert plots and all(plot.lod_timeout == 150 for plot in plots)


def test_cut_sliders_and_state_stay_in_step() -> None:
    import param
    from redclump.dashboard.app import cut_slider

    catalogue, scored = synthetic_frames(2000, 400, seed=0)
    state = ExplorerState(frames_to_app_data(catalogue, scored, source="sliders"))
    slider = cut_slider(state, "dp_min")
    assert (slider.start, slider.end, slider.value) == (150.0, 400.0, 225.0)
    with param.edit_constant(slider):
        slider.value_throttled = 260.0  # what the browser sends on release
    assert state.dp_min == 260.0
    state.apply_preset("tier1")
    assert slider.value == 265.0
    no_p_rc = ExplorerState(frames_to_app_data(catalogue.drop(columns=["p_rc"]), scored, source="no p_rc"))
    assert cut_slider(no_p_rc, "p_rc_min").disabled


def test_the_page_builds_without_warnings() -> None:
    """The whole page on synthetic data (pytest turns warnings, deprecations included, into
    errors; an all-NaN contamination map on this tiny truth set is expected and allowed)."""
    import warnings

    from bokeh.document import Document
    from redclump.dashboard.app import create_app

    catalogue, scored = synthetic_frames(2000, 400, seed=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        template = create_app(frames_to_app_data(catalogue, scored, source="page"))
        template.server_doc(Document())
    assert template.state.numbers()["n_catalogue"] > 0


def test_tradeoff_figure_follows_the_cut() -> None:
    import bokeh.models
    from redclump.dashboard.metric_views import tradeoff_view

    catalogue, scored = synthetic_frames(5000, 4000, seed=2)
    state = ExplorerState(frames_to_app_data(catalogue, scored, source="tradeoff"))
    fig = tradeoff_view(state)
    sources = {id(r.data_source): r.data_source for r in fig.renderers if isinstance(r, bokeh.models.GlyphRenderer)}
    curve, _presets, current = sources.values()
    state.dp_min = 260.0
    assert list(current.data["x"]) == [state.numbers()["contamination"]]
    assert list(current.data["y"]) == [state.numbers()["completeness"]]
    before = np.array(curve.data["x"]).copy()
    state.dnu_max = 4.0  # another cut: the curve is recomputed
    np.testing.assert_array_equal(curve.data["x"], state.tradeoff()["contamination"])
    assert not np.array_equal(before, curve.data["x"], equal_nan=True)


def test_tradeoff_x_range_is_the_curves_with_a_margin() -> None:
    """Not a fixed 0–0.8: the curve, the presets and the current cut fill the plot's width."""
    import bokeh.models
    from redclump.dashboard.metric_views import tradeoff_view

    catalogue, scored = synthetic_frames(5000, 4000, seed=2)
    state = ExplorerState(frames_to_app_data(catalogue, scored, source="tradeoff"))
    fig = tradeoff_view(state)
    shown = np.concatenate(
        [np.asarray(r.data_source.data["x"], float) for r in fig.renderers if isinstance(r, bokeh.models.GlyphRenderer)]
    )
    shown = shown[np.isfinite(shown)]
    start, end = fig.x_range.start, fig.x_range.end
    assert start <= shown.min() and shown.max() <= end  # everything in view
    assert end - start <= 1.5 * (shown.max() - shown.min()) + 0.05  # and little empty space
