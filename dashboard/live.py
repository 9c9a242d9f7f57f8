"""Cut changes of one session, served off the server's event loop, coalesced and drawn in place.

A slider release used to run entirely on the event loop that every session shares: the mask, the
numbers and a re-render of each visible HoloViews overlay (~350 ms of one core on the default
catalogue), during which no other session was served. Here:

- :class:`CutScheduler` takes the slider releases. What the new cut needs (the mask, the numbers,
  the aggregate images of the views on screen) is computed in a thread pool shared by the
  process's sessions, on a twin of the state (:meth:`ExplorerState.derive`); numpy and datashader's
  numba kernels release the GIL, so the loop keeps serving other sessions meanwhile. Releases
  that arrive while a cut is being computed are merged: only the latest values are computed and
  applied.
- The loop then sets the cut on the state. Its watchers find every result computed, and each
  density view patches its Bokeh image source (:class:`LiveImage`) rather than re-rendering its
  HoloViews overlay (which also made Bokeh re-walk the whole document's models).
- A zoom, pan or resize of a density view is served the same way (:meth:`LiveImage.move`, its own
  :class:`LatestWins`): HoloViews re-renders a view only when the colour choice changes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import param
from bokeh.document import without_document_lock

from .state import MEMO_SIZE, ExplorerState, Memo

__all__ = [
    "CutScheduler",
    "LatestWins",
    "LiveImage",
    "executor",
    "send_stylesheets",
    "served_document",
    "with_document_lock",
]

log = logging.getLogger("redclump")

_EXECUTOR: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    """The process's pool for cut computations: one thread per core."""
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="redclump-cut")
    return _EXECUTOR


class LiveImage:
    """The aggregate image of one density view, memoised by cut and request, and redrawn in place.

    ``compute(state, request)`` returns the view's aggregate (an ``xarray.DataArray`` with pixel
    centre coordinates ``x`` and ``y``, rows along y) for ``state``'s cut; ``request`` is what the
    view's last render asked for (ranges, size, colour), as a hashable tuple.
    """

    def __init__(self, compute: Callable[[ExplorerState, tuple[Any, ...]], Any]) -> None:
        self._compute = compute
        self._memo = Memo(MEMO_SIZE)
        self.request: tuple[Any, ...] | None = None
        self._plot: Any = None
        self._mover: LatestWins | None = None

    def aggregate(self, state: ExplorerState, request: tuple[Any, ...]) -> Any:
        return self._memo.get((state._key(), request), lambda: self._compute(state, request))

    def render(self, state: ExplorerState, request: tuple[Any, ...]) -> Any:
        """The aggregate for a HoloViews render (which is what the view now shows)."""
        self.request = request
        return self.aggregate(state, request)

    @property
    def hook(self) -> Callable[[Any, Any], None]:
        """HoloViews plot hook that remembers the plot drawing the image.

        HoloViews keeps an element's options, hooks included, in its process-wide ``Store`` until
        the element is collected. A bound method there would keep this view, its state and so the
        whole closed session alive (each closed page left ~3.6 MB), so the hook refers to the view
        only weakly.
        """
        return _WeakHook(self._remember_plot)

    def _remember_plot(self, plot: Any, _element: Any) -> None:
        self._plot = plot
        mapper = plot.handles.get("color_mapper")
        if mapper is not None:
            # BokehJS takes the colour range from the image itself when it has none. HoloViews
            # gives one, which a redraw had to patch after the image: the browser then mapped
            # the image's colours twice per cut change (~160 ms each under eq_hist, no GPU).
            mapper.update(low=None, high=None)

    @property
    def shown(self) -> bool:
        """Whether the image is drawn on a page now (its Bokeh source is in a document)."""
        source = None if self._plot is None else self._plot.handles.get("source")
        return self.request is not None and source is not None and source.document is not None

    def prepare(self, twin: ExplorerState) -> None:
        """Compute the image for ``twin``'s cut (in a worker thread), if the view is shown."""
        if self.shown:
            self.aggregate(twin, self.request)  # type: ignore[arg-type]

    def move(self, state: ExplorerState, request: tuple[Any, ...]) -> None:
        """The view was zoomed, panned or resized: draw ``request`` (computed off the loop, the
        latest of quick successive moves only), without a HoloViews re-render."""
        if request == self.request or not self.shown:
            return
        if self._mover is None:

            def job(values: dict[str, Any]) -> Callable[[], Any]:
                return partial(self.aggregate, state.derive(), values["request"])

            def show(values: dict[str, Any]) -> None:
                self.request = values["request"]
                self.redraw(state)

            self._mover = LatestWins(job, show)
            self._mover.what = "view"
        self._mover.request(request=request)

    def redraw(self, state: ExplorerState) -> bool:
        """Patch the shown image's data for ``state``'s cut (the browser takes the colour range
        from it); False if not shown."""
        if not self.shown:
            return False
        agg = self.aggregate(state, self.request)  # type: ignore[arg-type]
        self._plot.handles["source"].data = image_data(agg)
        return True


def image_data(agg: Any) -> dict[str, list[Any]]:
    """Bokeh image-glyph columns for a datashader aggregate (dimensions y, x; pixel-centre
    coordinates), as HoloViews writes them for an Image: rows from the bottom, (x, y) the
    lower-left corner, (dw, dh) the extent.

    >>> import numpy as np, xarray as xr
    >>> agg = xr.DataArray(np.ones((2, 4)), coords={"y": [0.5, 1.5], "x": [1, 3, 5, 7]}, dims=["y", "x"])
    >>> {k: v[0] for k, v in image_data(agg).items() if k != "image"}
    {'x': 0.0, 'y': 0.0, 'dw': 8.0, 'dh': 2.0}
    """
    y_dim, x_dim = agg.dims  # datashader: (y column, x column)
    x, y = np.asarray(agg.coords[x_dim], np.float64), np.asarray(agg.coords[y_dim], np.float64)
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1) if len(x) > 1 else 1.0
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1) if len(y) > 1 else 1.0
    left, bottom = x[0] - dx / 2, y[0] - dy / 2
    return {
        "image": [np.asarray(agg.values, dtype=np.float32)],
        "x": [float(left)],
        "y": [float(bottom)],
        "dw": [float(dx * len(x))],
        "dh": [float(dy * len(y))],
    }


class LatestWins(param.Parameterized):
    """Serves a session's requests off the event loop; those that come while one is being
    computed are merged, and only the latest is computed and applied.

    ``job(values)`` runs on the loop and returns what to compute (a callable, run in
    :func:`executor`); ``apply(values)`` then runs on the loop with the document locked. Outside a
    served page (tests, notebooks) ``apply`` runs at once, in the caller's thread.
    """

    busy = param.Boolean(False, doc="A request is being computed or drawn")

    #: What the debug log calls one request ("cut served in … ms").
    what = "request"

    def __init__(
        self,
        job: Callable[[dict[str, Any]], Callable[[], Any]],
        apply: Callable[[dict[str, Any]], None],
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self._job, self._apply = job, apply
        self._pending: dict[str, Any] = {}
        self._running = False
        self._doc: Any = None
        self._asked = 0.0  # when the oldest of the pending requests was made
        self.coalesced = 0  # requests merged into a later one (never computed on their own)

    def request(self, **values: Any) -> None:
        """Ask for ``values``; merged with those not yet started."""
        doc = served_document()
        if doc is None:
            self._apply(values)
            return
        self.coalesced += bool(self._pending)
        if not self._pending:
            self._asked = time.perf_counter()
        self._pending.update(values)
        self.busy = True
        if self._running:
            return
        self._running, self._doc = True, doc
        doc.add_next_tick_callback(self._run)

    @without_document_lock
    async def _run(self) -> None:
        """Compute the pending request in the pool, unlocked; apply it with the document locked."""
        try:
            await self._serve()
        except BaseException:  # never leave the session waiting on a dead task
            self._running = False
            self.busy = False
            raise

    async def _serve(self) -> None:
        doc, loop = self._doc, asyncio.get_running_loop()
        while True:
            values, self._pending, asked = self._pending, {}, self._asked
            computed = 0.0
            try:
                job = self._job(values)
                start = time.perf_counter()
                await loop.run_in_executor(executor(), job)
                computed = time.perf_counter() - start
            except Exception:  # the apply below computes it again on the loop, and reports it
                log.exception("computing %s off the event loop failed", values)
            if self._pending:  # a newer request came meanwhile: compute the merged latest instead
                self._pending, self._asked = {**values, **self._pending}, asked
                self.coalesced += 1
                continue
            done = loop.create_future()
            doc.add_next_tick_callback(partial(self._apply_locked, values, done, asked, computed))
            await done
            if not self._pending:  # (this coroutine and request() both run on the loop's thread)
                self._running, self._doc = False, None
                return

    def _apply_locked(self, values: dict[str, Any], done: asyncio.Future[None], asked: float, computed: float) -> None:
        start = time.perf_counter()
        try:
            self._apply(values)
            end = time.perf_counter()
            # (`redclump -v serve` shows these; tests/benchmarks/test_load.py reads them)
            log.debug(
                "%s served in %.0f ms: computed %.0f ms (in the pool), drawn %.0f ms (on the loop)",
                self.what,
                1e3 * (end - asked),
                1e3 * computed,
                1e3 * (end - start),
            )
        finally:
            if not self._pending:
                self.busy = False
            done.set_result(None)


class CutScheduler(LatestWins):
    """Applies a session's cut changes (slider releases, presets) off the event loop, latest wins.

    ``prepare(twin)`` fills the caches for a cut, on a twin of ``state`` with the new values
    (:meth:`ExplorerState.derive`, made on the loop, computed in :func:`executor`);
    ``apply(values)`` sets the cut on the page.
    """

    what = "cut"

    def __init__(
        self,
        state: ExplorerState,
        prepare: Callable[[ExplorerState], None],
        apply: Callable[[dict[str, Any]], None],
        **params: Any,
    ) -> None:
        self.state = state
        super().__init__(lambda values: partial(prepare, state.derive(**values)), apply, **params)


def with_document_lock(function: Callable[..., None]) -> Callable[..., None]:
    """``function``, called instead on the session's next tick, with its Bokeh document locked.

    HoloViews runs stream subscribers (a tap, a box or lasso drawn) in a coroutine on the event
    loop without the document lock. Panel objects cope (they schedule their own model updates),
    but setting a Bokeh model there (a figure's data source, directly or through a param watcher)
    raises "_pending_writes should be non-None when we have a document lock", inside a task whose
    exception nobody reads: the star card stayed closed and its plots empty that way. Outside a
    served page (tests, notebooks) ``function`` runs at once.
    """

    def call(*args: Any, **kwargs: Any) -> None:
        doc = served_document()
        if doc is None:
            function(*args, **kwargs)
        else:
            doc.add_next_tick_callback(partial(function, *args, **kwargs))

    return call


def send_stylesheets(*roots: Any) -> None:
    """Have Panel send the stylesheets of every HTML pane under ``roots`` now (once the page is
    loaded), with the document's models frozen.

    Panel sends an HTML pane's full stylesheet list on its first update only, and Bokeh then
    re-walks the whole document's models to find the new ones (~50 ms of the loop at the page's
    size): a page's first slider step took twice as long as later ones, and its first click on a
    star ~80 ms more, for that alone. Their text does not change.
    """
    from panel.pane.markup import HTMLBasePane

    doc = served_document()
    if doc is None:  # (notebooks, tests: nothing is sent)
        return
    panes = [pane for root in roots for pane in root.select(HTMLBasePane)]
    with doc.models.freeze():
        for pane in panes:
            pane.param.trigger("object")


def served_document() -> Any:
    """This session's Bokeh document when served by a Bokeh server, else None."""
    import panel as pn

    doc = pn.state.curdoc
    if doc is None or getattr(doc, "session_context", None) is None:
        return None
    return doc


class _WeakHook:
    """A plot hook that calls ``method`` while its object lives, and does not keep it alive."""

    def __init__(self, method: Callable[[Any, Any], None]) -> None:
        self._method = weakref.WeakMethod(method)

    def __call__(self, plot: Any, element: Any) -> None:
        method = self._method()
        if method is not None:
            method(plot, element)
