"""Pin and compare: keep the current cut as A, move the sliders to define B, see both.

:class:`Comparison` is Panel-free state, like :class:`~redclump.dashboard.state.ExplorerState`:
cut A lives in a second ``ExplorerState`` over the same shared data (so A's masks and numbers
are computed once, with the same code as B's), kept on the current drawn region so that A and B
differ only by their cuts. ``pinned`` is A's slider values as text, the form the page URL carries
(``pin=dp_min:265,dnu_max:5.25,…``), so a link reproduces the comparison.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import param

from .state import SLIDER_PARAMS, ExplorerState

__all__ = ["DIFFERENCE_COLOURS", "Comparison", "decode_pin", "encode_pin"]

#: Colours of the difference mode: stars only cut A keeps, stars only cut B keeps (Okabe–Ito).
DIFFERENCE_COLOURS = {"A only": "#0072B2", "B only": "#D55E00"}


class PinError(ValueError):
    """A ``pin`` text that does not name the cut's sliders with numbers."""


def encode_pin(values: dict[str, float]) -> str:
    """Slider values as the URL's ``pin`` text.

    >>> encode_pin({"dp_min": 265.0, "dnu_max": 5.25})
    'dp_min:265,dnu_max:5.25'
    """
    return ",".join(f"{name}:{value:g}" for name, value in values.items())


def decode_pin(text: str) -> dict[str, float]:
    """The inverse of :func:`encode_pin`; raises :class:`PinError` naming a bad part.

    >>> decode_pin("dp_min:265,dnu_max:5.25")
    {'dp_min': 265.0, 'dnu_max': 5.25}
    """
    values = {}
    for part in filter(None, text.split(",")):
        name, _, value = part.partition(":")
        if name not in SLIDER_PARAMS:
            msg = f"pin '{text}': '{name}' is not one of {', '.join(SLIDER_PARAMS)}"
            raise PinError(msg)
        try:
            values[name] = float(value)
        except ValueError:
            msg = f"pin '{text}': '{value}' for {name} is not a number"
            raise PinError(msg) from None
    return values


class Comparison(param.Parameterized):
    """Cut A (pinned) beside the state's current cut B."""

    pinned = param.String(default="", doc="Cut A's slider values (encode_pin), or '' when no cut is pinned")
    difference = param.Boolean(
        False,
        label="Difference colours (A only / B only)",
        doc="Show, on the sky and Kiel views, the stars only cut A keeps and those only cut B keeps",
    )

    b_changes = param.Integer(
        0, precedence=-1, doc="Counts cut B's changes while the difference colours are shown (redraws that layer)"
    )

    def __init__(self, state: ExplorerState, **params: Any) -> None:
        self.state = state
        self.a = ExplorerState(state.data)
        super().__init__(**params)
        state.param.watch(lambda event: setattr(self.a, "region", event.new), "region")
        state.param.watch(self.view_changed, [*SLIDER_PARAMS, "region"])
        self.a.region = state.region
        self._apply(self.pinned)

    def view_changed(self, *_: Any) -> None:
        """Cut B, or the view under the difference layer, changed: redraw the layer if shown
        (only then: otherwise each change would re-render the view's overlay for a transparent
        layer)."""
        if self.difference and self.active:
            self.b_changes += 1

    @param.depends("pinned", watch=True)
    def _pinned_changed(self) -> None:
        self._apply(self.pinned)

    def _apply(self, text: str) -> None:
        if text:
            values = decode_pin(text)
            bounded = {}
            for name, value in values.items():
                lo, hi = self.a.param[name].bounds
                bounded[name] = float(np.clip(value, lo, hi))
            self.a.param.update(**bounded)

    def pin(self) -> None:
        """Keep the current cut as A."""
        self.pinned = encode_pin({name: getattr(self.state, name) for name in SLIDER_PARAMS})

    def unpin(self) -> None:
        self.param.update(pinned="", difference=False)

    @property
    def active(self) -> bool:
        return bool(self.pinned)

    def numbers_a(self) -> dict[str, Any] | None:
        """A's numbers, or None when nothing is pinned."""
        return self.a.numbers() if self.active else None

    def difference_masks(self) -> tuple[np.ndarray, np.ndarray]:
        """Catalogue candidates only A keeps, and only B keeps."""
        a, b = self.a.mask(), self.state.mask()
        return a & ~b, b & ~a


def difference_overlay(comparison: Comparison, x: str, y: str, bounds: tuple[float, float, float, float]) -> Any:
    """A layer for the (x, y) view: A-only and B-only stars in two colours (transparent unless
    the difference mode is on and a cut is pinned); re-aggregated for the visible range."""
    import datashader as ds
    import datashader.transfer_functions as tf
    import holoviews as hv
    import pandas as pd

    from .live import with_document_lock

    state = comparison.state

    ranges, plot_size = hv.streams.RangeXY(), hv.streams.PlotSize()

    def layer(**_: Any) -> hv.RGB:
        x_range, y_range, width, height = ranges.x_range, ranges.y_range, plot_size.width, plot_size.height
        xr = tuple(sorted(x_range)) if x_range else (bounds[0], bounds[2])
        yr = tuple(sorted(y_range)) if y_range else (bounds[1], bounds[3])
        extent = (xr[0], yr[0], xr[1], yr[1])
        if not (comparison.difference and comparison.active):
            return hv.RGB(np.zeros((2, 2, 4), dtype=np.uint8), bounds=extent)
        a_only, b_only = comparison.difference_masks()
        rows = np.flatnonzero(a_only | b_only)
        catalogue = state.data.catalogue
        frame = pd.DataFrame(
            {
                x: catalogue[x].to_numpy()[rows],
                y: catalogue[y].to_numpy()[rows],
                "which": pd.Categorical.from_codes(b_only[rows].astype(np.int8), categories=list(DIFFERENCE_COLOURS)),
            }
        )
        # One pixel per screen pixel (PlotSize), as the density view under it.
        size = (int(np.clip(width or 600, 50, 1600)), int(np.clip(height or 300, 50, 1000)))
        canvas = ds.Canvas(plot_width=size[0], plot_height=size[1], x_range=xr, y_range=yr)
        agg = canvas.points(frame, x, y, agg=ds.count_cat("which"))
        image = tf.spread(tf.shade(agg, color_key=DIFFERENCE_COLOURS, how="eq_hist", min_alpha=120), px=1)
        return hv.RGB(np.array(image.to_pil()), bounds=extent)

    # Zooms and resizes reach the layer through linked streams, which do not re-render the view's
    # overlay by themselves: only while the layer is shown do they count as a change of B.
    dmap = hv.DynamicMap(layer, streams=[hv.streams.Params(comparison, ["pinned", "difference", "b_changes"])])
    for stream in (ranges, plot_size):
        stream.source = dmap
        stream.add_subscriber(with_document_lock(lambda **_: comparison.view_changed()))
    return dmap


def mark_tradeoff(figure: Any, comparison: Comparison) -> None:
    """Mark cut A on the trade-off plot (Bokeh ``figure``) as a labelled blue point."""
    from bokeh.models import ColumnDataSource, LabelSet

    source = ColumnDataSource({"x": np.zeros(0), "y": np.zeros(0), "name": []})
    figure.scatter("x", "y", source=source, color=DIFFERENCE_COLOURS["A only"], size=11, marker="diamond")
    figure.add_layout(LabelSet(x="x", y="y", text="name", source=source, x_offset=6, text_font_size="9pt"))

    def update(*_: Any) -> None:
        a = comparison.numbers_a()
        if a is None:
            source.data = {"x": np.zeros(0), "y": np.zeros(0), "name": []}
        else:
            source.data = {"x": np.array([a["contamination"]]), "y": np.array([a["completeness"]]), "name": ["A"]}

    comparison.param.watch(update, "pinned")
    comparison.a.param.watch(update, "region")
    update()
