"""Assemble the explorer: controls, views, numbers, export. `redclump serve` serves :func:`create_app`."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import holoviews as hv
import panel as pn
from redclump.dashboard import sample
from redclump.dashboard.card import StarCard
from redclump.dashboard.compare import Comparison
from redclump.dashboard.completeness import CompletenessView
from redclump.dashboard.data import AppData, load_app_data
from redclump.dashboard.layout import PAGE_CSS, bottom_row, compare_controls, view_tabs
from redclump.dashboard.live import CutScheduler, send_stylesheets
from redclump.dashboard.samp import marked_overlay, samp_controls, session_link
from redclump.dashboard.state import CUT_PARAMS, SLIDER_PARAMS, URL_PARAMS, ExplorerState
from redclump.dashboard.urlparams import sync_with_url
from redclump.dashboard.views import SelectionCache, render_png

__all__ = ["create_app"]

hv.extension("bokeh", logo=False)


def _frozen(function: Any, *args: Any) -> None:
    """Run ``function`` with the page's Bokeh model graph frozen: a cut change updates several
    plots, and Bokeh otherwise recomputes the document's model references after each (about a
    quarter of a slider change's server time)."""
    doc = pn.state.curdoc
    if doc is None:
        function(*args)
        return
    with doc.models.freeze():
        function(*args)


def cut_slider(state: ExplorerState, name: str, scheduler: CutScheduler | None = None) -> pn.widgets.FloatSlider:
    """A slider for one cut parameter, applied on release (``value_throttled``) through
    ``scheduler`` (off the event loop, see :mod:`.live`) if given, kept in step with the state
    (presets, the URL)."""
    spec = state.param[name]
    slider = pn.widgets.FloatSlider(
        label=spec.label,
        start=spec.bounds[0],
        end=spec.bounds[1],
        step=spec.step,
        value=getattr(state, name),
        disabled=spec.constant,
        sizing_mode="stretch_width",
        css_classes=[f"slider-{name}"],
    )
    if scheduler is None:
        slider.param.watch(lambda event: _frozen(setattr, state, name, event.new), "value_throttled")
    else:
        slider.param.watch(lambda event: scheduler.request(**{name: event.new}), "value_throttled")
    state.param.watch(lambda event: setattr(slider, "value", event.new), name)
    return slider


def create_app(data: AppData | None = None, workdir: str | None = None) -> pn.template.BaseTemplate:
    """One session's page. ``data`` defaults to the catalogue in ``$REDCLUMP_WORKDIR``."""
    if data is None:
        data = load_app_data(workdir or os.environ.get("REDCLUMP_WORKDIR", ".redclump"))
    state = ExplorerState(data)
    cache = SelectionCache(state)
    scheduler = CutScheduler(state, prepare=cache.prepare, apply=lambda values: state.param.update(**values))

    sliders = [cut_slider(state, name, scheduler) for name in SLIDER_PARAMS]
    controls = pn.Param(
        state,
        parameters=["colour_by", "cnorm", "sky_projection", "show_truth", "hover"],
        show_name=False,
        sizing_mode="stretch_width",
    )
    presets = []
    for label, name in (("Tier 1", "tier1"), ("Tier 2", "tier2"), ("|b| > 30°", "highlat")):
        button = pn.widgets.Button(label=label, color="primary", css_classes=[f"preset-{name}"])
        button.on_click(lambda _event, name=name: scheduler.request(**state.preset_values(name)))
        presets.append(button)
    clear = pn.widgets.Button(label="Clear drawn region", css_classes=["clear-region"])
    clear.on_click(lambda _event: setattr(state, "region", None))
    missing = [name for name, ok in data.available.items() if not ok]
    availability = pn.pane.HTML(
        f"Disabled: this catalogue has no {', '.join(missing)} column(s)." if missing else "",
        sizing_mode="stretch_width",
    )

    template = pn.template.BootstrapTemplate(
        title="redclump: red clump explorer", sidebar_width=320, busy_indicator=None
    )
    comparison = Comparison(state)
    card = StarCard(state)
    link = session_link(state)  # SAMP: send to TOPCAT/Aladin, ring the rows they send back
    views = view_tabs(state, cache, comparison, card, marks=lambda x, y: marked_overlay(link, x, y))
    completeness = CompletenessView(state)  # the cut's selection function, and its FITS download
    views.append(("Completeness", completeness))
    command = pn.widgets.TextAreaInput(
        value=state.command(), label="Equivalent command", disabled=False, height=70, sizing_mode="stretch_width"
    )
    state.param.watch(
        lambda *_events: setattr(command, "value", state.command()),
        list(CUT_PARAMS),
        onlychanged=True,
    )

    fmt = pn.widgets.Select(label="Sample format", options=list(sample.EXPORT_SUFFIXES), value=".parquet", width=120)

    def export_sample() -> io.BytesIO:
        return io.BytesIO(sample.export_bytes(state, fmt.value))

    download = pn.widgets.FileDownload(
        callback=export_sample,
        filename="redclump_sample.parquet",
        color="success",
        label="Download selected sample",
        css_classes=["download-sample"],
    )
    fmt.param.watch(lambda e: setattr(download, "filename", f"redclump_sample{e.new}"), "value")
    view_choice = pn.widgets.Select(
        label="View PNG", options=["sky", "sky_lb", "seismic", "kiel", "galaxy_xy", "galaxy_rz"], width=140
    )
    png = pn.widgets.FileDownload(
        callback=lambda: io.BytesIO(render_png(state, cache, view_choice.value)),
        filename="redclump_sky.png",
        label="Download view PNG",
    )
    view_choice.param.watch(lambda e: setattr(png, "filename", f"redclump_{e.new}.png"), "value")
    table = pn.widgets.FileDownload(
        callback=lambda: io.BytesIO(
            json.dumps({k: v for k, v in state.numbers().items()}, default=float, indent=2).encode()
        ),
        filename="redclump_numbers.json",
        label="Download numbers",
    )

    def export_figures() -> io.BytesIO:
        """The paper figures for the current cut (those the app's columns support), zipped."""
        import zipfile

        import matplotlib.pyplot as plt
        from redclump.dashboard import figures

        cut = state.cut()
        catalogue = data.catalogue
        scored = data.scored
        made = {
            "predictions": figures.figure_predictions(scored),
            "kiel_rates": figures.figure_kiel_rates(scored),
            "contamination_trends": figures.figure_contamination_trends(scored, cut),
            "galaxy": figures.figure_galaxy(catalogue, cut),
            "distance_cdf": figures.figure_distance_cdf(catalogue, cut),
            "distance_precision": figures.figure_distance_precision(catalogue, cut),
            "uncertainties": figures.figure_uncertainties(catalogue[cut.mask(catalogue)]),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, (fig, _numbers) in made.items():
                png = io.BytesIO()
                fig.savefig(png, format="png", dpi=200)
                plt.close(fig)
                archive.writestr(f"{name}.png", png.getvalue())
            archive.writestr("cut.txt", cut.text() + "\n")
        buffer.seek(0)
        return buffer

    figure_zip = pn.widgets.FileDownload(
        callback=export_figures,
        filename="redclump_figures.zip",
        label="Download figures (zip)",
        css_classes=["download-figures"],
    )

    url_notice = sync_with_url(state, URL_PARAMS)
    if pn.state.location is not None:
        pn.state.location.sync(comparison, {"pinned": "pin"})

    # Per session: Panel's own busy indicator is one per page but is updated on every page at
    # each event of any session (pn.state.busy is process-wide), a cost that grows with sessions.
    working = pn.indicators.LoadingSpinner(
        value=scheduler.param.busy, width=18, height=18, margin=(22, 0, 0, 8), css_classes=["cut-busy"]
    )
    sidebar = [
        pn.Row(pn.pane.HTML("<h3>Cuts</h3>"), working),
        pn.Row(*presets),
        *sliders,
        controls,
        clear,
        availability,
        compare_controls(comparison),
    ]
    main = pn.Column(
        url_notice,
        views,
        bottom_row(state, comparison),
        pn.Row(fmt, download, view_choice, png, table, figure_zip, completeness.download),
        samp_controls(link),
        command,
        card.panel,  # floats over the view (position: fixed) once a star is clicked
        sizing_mode="stretch_both",  # as its views (Panel would otherwise override it, with a warning)
    )
    template.sidebar.extend(sidebar)
    template.main.append(main)
    pn.state.onload(lambda: send_stylesheets(main, *sidebar))  # a first step as quick as later ones
    template.config.raw_css.append(PAGE_CSS)
    template.state = state  # for tests and notebooks
    template.scheduler = scheduler
    template.comparison = comparison
    template.card = card
    template.samp = link
    return template


if __name__.startswith("bokeh"):
    create_app().servable()
