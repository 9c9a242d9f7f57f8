"""Page layout of the explorer: the active view large, the numbers, trade-off and Kiel
contamination map in one row under it, the compare controls, and the page's style.

Sizes follow the browser window: the view takes the main area's width and the window's height
less the row under it (``VIEW_HEIGHT``), so at 1600×1000 the numbers and the trade-off are on
screen without scrolling, and the view is never shorter than ``MIN_VIEW_HEIGHT``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from .card import StarCard
from .compare import DIFFERENCE_COLOURS, Comparison, difference_overlay
from .metric_views import kiel_map_view, tradeoff_view
from .numbers import NUMBERS_CSS, help_icon, numbers_html
from .state import CUT_PARAMS, ExplorerState
from .views import (
    VIEW_HELP,
    VIEWS,
    SelectionCache,
    cut_lines,
    density_view,
    graticule,
    overlay,
    truth_overlay,
)

__all__ = ["MIN_VIEW_HEIGHT", "ROW_HEIGHT", "bottom_row", "compare_controls", "view_tabs"]

#: Height (px) of the row under the view: numbers, trade-off, Kiel contamination map.
ROW_HEIGHT = 320
MIN_VIEW_HEIGHT = 520
#: The views' (tabs') height: the window less the header (~70 px), the row under it and margins.
VIEW_HEIGHT = f"max({MIN_VIEW_HEIGHT}px, calc(100vh - {ROW_HEIGHT + 100}px))"

PAGE_CSS = """
.view-help { font-size: 13px; color: #444; margin: 2px 0 0 4px; }
.view-help .help, .help { display: inline-block; width: 1.2em; height: 1.2em; line-height: 1.2em;
  border-radius: 50%; background: #e3e7ee; color: #333; text-align: center; font-size: 11px; cursor: help; }
"""


def _view_tab(title: str, name: str, plot: Any) -> tuple[str, pn.Column]:
    help_line = pn.pane.HTML(
        f"<div class='view-help'><span class='help' title='{VIEW_HELP[name]}'>?</span> {VIEW_HELP[name]}</div>",
        stylesheets=[PAGE_CSS],
        sizing_mode="stretch_width",
        margin=(0, 5),
    )
    pane = pn.pane.HoloViews(plot, sizing_mode="stretch_both", css_classes=[f"view-{name}"])
    return title, pn.Column(help_line, pane, sizing_mode="stretch_both")


def view_tabs(
    state: ExplorerState,
    cache: SelectionCache,
    comparison: Comparison,
    card: StarCard,
    *,
    marks: Callable[[str, str], Any] | None = None,
) -> pn.Tabs:
    """The views as tabs; each is clickable for a star's card, the sky and Kiel views also show
    the A/B difference layer. ``marks(x, y)``, if given, is a layer added to the sky and seismic
    views (the rows TOPCAT sends back over SAMP)."""
    density = {name: density_view(state, cache, name) for name in VIEWS}
    for name, dmap in density.items():
        x, y = VIEWS[name][:2]
        if x in state.data.catalogue and y in state.data.catalogue:
            card.attach(dmap, x, y, shows_all=name == "seismic")

    def with_difference(name: str) -> Any:
        x, y, x_full, y_full = VIEWS[name][:4]
        return difference_overlay(comparison, x, y, (x_full[0], y_full[0], x_full[1], y_full[1]))

    sky_marks = [marks("sky_x", "sky_y")] if marks else []
    seismic_marks = [marks("dnu_phot", "dp_phot")] if marks else []
    sky = overlay(density["sky"], with_difference("sky"), graticule(), *sky_marks)
    sky_lb = overlay(density["sky_lb"], with_difference("sky_lb"))
    sky_plot = pn.bind(lambda p: sky if p == "Hammer–Aitoff" else sky_lb, state.param.sky_projection)
    seismic = overlay(density["seismic"], truth_overlay(state), cut_lines(state), *seismic_marks)
    kiel = overlay(density["kiel"], with_difference("kiel"))
    return pn.Tabs(
        _view_tab("Sky", "sky", sky_plot),
        _view_tab("Seismic ΔP–Δν", "seismic", seismic),
        _view_tab("Kiel", "kiel", kiel),
        _view_tab("Galaxy X–Y", "galaxy_xy", density["galaxy_xy"]),
        _view_tab("Galaxy R–Z", "galaxy_rz", density["galaxy_rz"]),
        dynamic=True,  # only the visible view is rendered and re-aggregated
        sizing_mode="stretch_both",
        styles={"height": VIEW_HEIGHT, "flex": "0 0 auto", "max-height": "none"},
        css_classes=["views"],
    )


def bottom_row(state: ExplorerState, comparison: Comparison) -> pn.FlexBox:
    """Numbers (A, B and B − A once a cut is pinned), the trade-off plot and the Kiel
    contamination map, side by side under the view."""
    from .compare import mark_tradeoff

    numbers = pn.pane.HTML(
        pn.bind(
            lambda **_: numbers_html(state.numbers(), comparison.numbers_a()),
            pinned=comparison.param.pinned,
            **{n: state.param[n] for n in CUT_PARAMS},
        ),
        stylesheets=[NUMBERS_CSS],
        sizing_mode="stretch_width",
        css_classes=["numbers-pane"],
    )
    tradeoff = tradeoff_view(state)
    tradeoff.sizing_mode, tradeoff.max_width = "stretch_width", 640
    tradeoff.height = ROW_HEIGHT - 20
    mark_tradeoff(tradeoff, comparison)
    kiel_map = kiel_map_view(state, height=ROW_HEIGHT - 20)

    def titled(key: str, text: str, item: Any) -> pn.Column:
        head = pn.pane.HTML(f"<div class='view-help'>{help_icon(key)} {text}</div>", stylesheets=[PAGE_CSS], margin=0)
        return pn.Column(head, item, sizing_mode="stretch_width", styles={"flex": "1 1 300px"})

    # A wrapping row: on a narrow window the plots move under the numbers rather than widening
    # the page.
    return pn.FlexBox(
        # At least as wide as the table's unbreakable numbers (A, B and B − A once pinned): the
        # plots wrap under it rather than cover its last column.
        pn.Column(numbers, sizing_mode="stretch_width", styles={"flex": "0 1 520px", "min-width": "min-content"}),
        titled("tradeoff", "completeness against contamination as ΔP min varies", pn.pane.Bokeh(tradeoff)),
        titled("kiel_map", "contamination of the cut across the Kiel diagram", pn.pane.Bokeh(kiel_map)),
        flex_wrap="wrap",
        sizing_mode="stretch_width",
        css_classes=["bottom-row"],
    )


def compare_controls(comparison: Comparison) -> pn.Column:
    """Pin this cut / Unpin buttons and the difference-colour switch."""
    pin = pn.widgets.Button(label="Pin this cut (A)", css_classes=["pin-cut"])
    unpin = pn.widgets.Button(label="Unpin", css_classes=["unpin-cut"])
    pin.on_click(lambda _event: comparison.pin())
    unpin.on_click(lambda _event: comparison.unpin())
    difference = pn.widgets.Checkbox.from_param(comparison.param.difference, css_classes=["difference-mode"])
    explain = pn.pane.HTML(
        "<div style='font-size: 12px; color: #555'>Pin keeps the current cut as A; the sliders then set B. "
        f"Difference colours on the sky and Kiel views: <b style='color: {DIFFERENCE_COLOURS['A only']}'>A only</b>, "
        f"<b style='color: {DIFFERENCE_COLOURS['B only']}'>B only</b>.</div>",
        sizing_mode="stretch_width",
    )
    return pn.Column(pn.pane.HTML("<h3>Compare</h3>"), pn.Row(pin, unpin), difference, explain)
