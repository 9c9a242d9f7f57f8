"""Cut changes off the event loop: the in-place redraw, the scheduler's coalescing, shared memos."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any

import numpy as np
import pytest
from redclump.dashboard.app_data import frames_to_app_data
from redclump.dashboard.live import CutScheduler, image_data
from redclump.dashboard.state import ExplorerState
from redclump.data.synthetic import synthetic_frames


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return frames_to_app_data(*synthetic_frames(20_000, 4000, seed=7), source="live")


def _rendered_image(state: ExplorerState, name: str) -> tuple[Any, Any]:
    """A density view rendered by HoloViews into a Bokeh document: (its image source, its view)."""
    import bokeh.models
    import holoviews as hv
    import panel as pn
    from bokeh.document import Document
    from redclump.dashboard.views import SelectionCache, density_view

    hv.extension("bokeh", logo=False)
    cache = SelectionCache(state)
    view = density_view(state, cache, name)
    doc = Document()
    root = pn.pane.HoloViews(view).get_root(doc)
    doc.add_root(root)
    (source,) = (
        r.data_source for r in root.select({"type": bokeh.models.GlyphRenderer}) if "image" in r.data_source.data
    )
    return source, cache, view


def test_a_cut_change_redraws_the_image_in_place_as_holoviews_would_draw_it(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    source, _cache, _view = _rendered_image(state, "sky_lb")
    before = np.array(source.data["image"][0])
    state.dp_min = 280.0  # no HoloViews stream follows the cut: the source is patched
    after = np.array(source.data["image"][0])
    assert np.nansum(after) < np.nansum(before)  # a tighter cut: fewer stars drawn
    fresh_source, *_ = _rendered_image(ExplorerState(data, dp_min=280.0), "sky_lb")
    np.testing.assert_array_equal(after, np.asarray(fresh_source.data["image"][0]))
    for key in ("x", "y", "dw", "dh"):
        assert source.data[key] == pytest.approx(list(fresh_source.data[key]))
    counts = np.nansum(after)
    assert counts == np.count_nonzero(state.mask())  # every selected star, once (full-sky view)


def test_the_browser_maps_each_redrawn_image_once_on_a_canvas(data) -> None:  # type: ignore[no-untyped-def]
    """What the browser does per cut change: no WebGL layer to copy (none of these views draws
    with WebGL), and no colour range patched after the image (which made it map colours twice)."""
    import bokeh.models

    state = ExplorerState(data)
    source, _cache, _view = _rendered_image(state, "sky_lb")
    (figure,) = source.document.select({"type": bokeh.models.Plot})
    (mapper,) = source.document.select({"type": bokeh.models.ColorMapper})
    assert figure.output_backend == "canvas"
    state.dp_min = 280.0
    assert (mapper.low, mapper.high) == (None, None)  # BokehJS takes them from the new image


def test_a_zoom_redraws_the_image_in_place_for_the_new_range(data) -> None:  # type: ignore[no-untyped-def]
    import holoviews as hv

    state = ExplorerState(data)
    source, _cache, view = _rendered_image(state, "sky_lb")
    chain, todo = [], [view]  # the view and the DynamicMaps it was derived from
    while todo:
        chain.append(todo.pop())
        todo += [i for i in getattr(chain[-1].callback, "inputs", []) if isinstance(i, hv.DynamicMap)]
    (ranges,) = [
        s for source in chain for s in hv.streams.Stream.registry.get(source, []) if isinstance(s, hv.streams.RangeXY)
    ]
    ranges.event(x_range=(90.0, 0.0), y_range=(0.0, 45.0))  # what the browser sends on a zoom
    assert source.data["x"] == [0.0] and source.data["y"] == [0.0]
    assert source.data["dw"] == [pytest.approx(90.0)] and source.data["dh"] == [pytest.approx(45.0)]
    catalogue = data.catalogue
    inside = (
        state.mask()
        & catalogue["l_wrapped"].between(0.0, 90.0).to_numpy()
        & catalogue["b"].between(0.0, 45.0).to_numpy()
    )
    assert np.nansum(source.data["image"][0]) == np.count_nonzero(inside)
    state.dp_min = 280.0  # a cut change keeps the zoomed range
    assert source.data["dw"] == [pytest.approx(90.0)]
    assert np.nansum(source.data["image"][0]) == np.count_nonzero(inside & state.mask())


def test_a_closed_view_does_not_keep_its_session_alive(data) -> None:  # type: ignore[no-untyped-def]
    """HoloViews keeps an element's options (its plot hooks too) in a process-wide store: the
    view's hook must not keep the state, and with it a closed page's whole session, in memory."""
    import gc
    import weakref

    import holoviews as hv
    from redclump.dashboard.views import SelectionCache, density_view

    hv.extension("bokeh", logo=False)
    state = ExplorerState(data)
    plot = hv.renderer("bokeh").get_plot(density_view(state, SelectionCache(state), "sky_lb"))
    state.dp_min = 280.0  # the view has drawn a cut change in place
    plot.cleanup()  # what Panel has HoloViews do when the page's session ends
    alive = weakref.ref(state)
    del state, plot
    gc.collect()
    assert alive() is None


def test_the_seismic_view_does_not_redraw_on_a_cut_change(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    source, *_ = _rendered_image(state, "seismic")
    data_before = source.data
    state.dp_min = 280.0
    assert source.data is data_before  # it shows every candidate; only its cut lines move


def test_image_data_matches_holoviews_for_a_datashader_aggregate() -> None:
    import datashader as ds
    import holoviews as hv
    import pandas as pd

    hv.extension("bokeh", logo=False)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.uniform(-1, 3, 500), "b": rng.uniform(10, 20, 500)})
    agg = ds.Canvas(plot_width=7, plot_height=5, x_range=(-1, 3), y_range=(10, 20)).points(frame, "a", "b")
    agg = agg.astype(np.float32)
    plot = hv.renderer("bokeh").get_plot(hv.Image(agg, kdims=["a", "b"]))
    expected = plot.handles["source"].data
    ours = image_data(agg)
    np.testing.assert_array_equal(ours["image"][0], expected["image"][0])
    for key in ("x", "y", "dw", "dh"):
        assert ours[key][0] == pytest.approx(float(expected[key][0]))


class _ServedDocument:
    """Enough of a served Bokeh document for the scheduler: next-tick callbacks on an asyncio loop."""

    session_context = object()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def add_next_tick_callback(self, callback: Any) -> None:
        def run() -> None:
            result = callback()
            if inspect.isawaitable(result):
                self.loop.create_task(result)

        self.loop.call_soon(run)


def _serve(data: Any, prepare: Any, requests: Any) -> tuple[ExplorerState, CutScheduler, list[dict[str, Any]]]:
    from panel.io.state import set_curdoc

    state = ExplorerState(data)
    applied: list[dict[str, Any]] = []

    def apply(values: dict[str, Any]) -> None:
        applied.append(values)
        state.param.update(**values)

    scheduler = CutScheduler(state, prepare=prepare, apply=apply)

    async def main() -> None:
        doc = _ServedDocument(asyncio.get_running_loop())
        with set_curdoc(doc):
            await requests(scheduler)
        for _ in range(500):
            if not scheduler.busy:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the scheduler never finished")

    _run_in_own_thread(main())
    return state, scheduler, applied


def _run_in_own_thread(coroutine: Any) -> None:
    """asyncio.run in a thread of its own: the session's sync Playwright keeps a loop running here."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the test's thread
            failures.append(error)

    thread = threading.Thread(target=run, name="test-loop")
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the served loop did not finish in 30 s"
    if failures:
        raise failures[0]


def test_releases_faster_than_served_are_merged_and_the_latest_wins(data) -> None:  # type: ignore[no-untyped-def]
    threads: list[str] = []
    gate = threading.Event()

    def prepare(twin: ExplorerState) -> None:
        threads.append(threading.current_thread().name)
        gate.wait(5)  # the first computation is still running while more releases arrive
        twin.numbers()

    async def requests(scheduler: CutScheduler) -> None:
        scheduler.request(dp_min=230.0)
        await asyncio.sleep(0.05)  # its computation has started
        scheduler.request(dp_min=240.0)
        scheduler.request(dnu_max=4.0)
        scheduler.request(dp_min=250.0)
        gate.set()

    state, scheduler, applied = _serve(data, prepare, requests)
    assert applied == [{"dp_min": 250.0, "dnu_max": 4.0}]  # 230 was overtaken before it was drawn
    assert (state.dp_min, state.dnu_max) == (250.0, 4.0)
    assert all(name.startswith("redclump-cut") for name in threads)  # never on the loop's thread
    assert len(threads) == 2 and scheduler.coalesced >= 3
    assert not scheduler.busy


def test_a_failing_computation_still_applies_the_cut(data) -> None:  # type: ignore[no-untyped-def]
    def prepare(_twin: ExplorerState) -> None:
        raise RuntimeError("disk gone")

    async def requests(scheduler: CutScheduler) -> None:
        scheduler.request(dp_min=260.0)

    state, _scheduler, applied = _serve(data, prepare, requests)
    assert applied == [{"dp_min": 260.0}] and state.dp_min == 260.0


def test_outside_a_server_a_request_applies_at_once(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    scheduler = CutScheduler(state, prepare=lambda twin: None, apply=lambda values: state.param.update(**values))
    scheduler.request(dp_min=270.0)
    assert state.dp_min == 270.0


def test_a_derived_twin_shares_the_results_it_computed(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    twin = state.derive(dp_min=255.0)
    assert state.dp_min == 225.0 and twin.dp_min == 255.0
    numbers = twin.numbers()
    state.dp_min = 255.0
    assert state.numbers() is numbers  # computed once, on the twin
    assert state.numbers()["n_catalogue"] == int(np.count_nonzero(state.cut().mask(data.catalogue)))


def test_served_pages_link_no_stylesheet_from_panels_cdn(data) -> None:  # type: ignore[no-untyped-def]
    """With several server processes a page's document may be built by a process that never
    rendered its HTML; its stylesheet links must already be this server's."""
    import warnings

    from bokeh.document import Document
    from bokeh.models import ImportedStyleSheet
    from panel.io.resources import CDN_DIST
    from panel.io.state import set_curdoc
    from redclump.dashboard.app import create_app

    from redclump.serving import local_stylesheets

    def cdn_links(template: Any) -> int:
        doc = Document()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            template.server_doc(doc)
            with set_curdoc(doc):
                template.comparison.pin()  # components made after the page (cut A's table)
                template.state.dp_min = 260.0
        sheets = [s for root in doc.roots for s in root.select({"type": ImportedStyleSheet})]
        assert sheets
        return sum(str(s.url).startswith(CDN_DIST) for s in sheets)

    assert cdn_links(create_app(data)) > 0  # what Panel does on its own
    assert cdn_links(local_stylesheets(create_app(data))) == 0
