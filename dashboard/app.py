"""Assemble the explorer: controls, views, numbers, export. `redclump serve` serves :func:`create_app`."""

from __future__ import annotations

import io
import os
from typing import Any

import holoviews as hv
import panel as pn
from redclump.core.selection import PRESET_LABELS, PRESETS
from redclump.dashboard.app_data import AppData, load_app_data
from redclump.dashboard.card import StarCard
from redclump.dashboard.compare import Comparison
from redclump.dashboard.completeness import CompletenessView
from redclump.dashboard.downloads import DOWNLOADS
from redclump.dashboard.layout import PAGE_CSS, bottom_row, compare_controls, view_tabs
from redclump.dashboard.live import CutScheduler, send_stylesheets
from redclump.dashboard.samp_link import marked_overlay, samp_controls, session_link
from redclump.dashboard.state import CUT_PARAMS, SLIDER_PARAMS, URL_PARAMS, ExplorerState
from redclump.dashboard.urlparams import sync_with_url
from redclump.dashboard.views import SelectionCache

__all__ = ["availability_note", "command_box", "create_app", "download_widgets", "preset_buttons"]

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


def preset_buttons(state: ExplorerState, scheduler: CutScheduler) -> list[pn.widgets.Button]:
    """One button per published cut (:data:`redclump.core.selection.PRESETS`)."""
    buttons = []
    for name in PRESETS:
        button = pn.widgets.Button(label=PRESET_LABELS[name], color="primary", css_classes=[f"preset-{name}"])
        button.on_click(lambda _event, name=name: scheduler.request(**state.preset_values(name)))
        buttons.append(button)
    return buttons


def download_widgets(state: ExplorerState, cache: SelectionCache) -> list[Any]:
    """A choice box (when it has choices) and a button for each entry of
    :data:`~redclump.dashboard.downloads.DOWNLOADS`."""
    widgets: list[Any] = []
    for entry in DOWNLOADS:
        choice = pn.widgets.Select(
            label=entry.choice_label, options=list(entry.choices or ("",)), width=entry.choice_width
        )
        button = pn.widgets.FileDownload(
            callback=lambda entry=entry, choice=choice: io.BytesIO(entry.make(state, cache, choice.value)),
            filename=entry.name_for(choice.value),
            label=entry.label,
            color=entry.color,
            css_classes=[f"download-{entry.key}"],
        )
        choice.param.watch(
            lambda e, entry=entry, button=button: setattr(button, "filename", entry.name_for(e.new)), "value"
        )
        widgets += [choice, button] if entry.choices else [button]
    return widgets


def command_box(state: ExplorerState) -> pn.widgets.TextAreaInput:
    """The `redclump select` command line of the current cut, kept up to date."""
    command = pn.widgets.TextAreaInput(
        value=state.command(), label="Equivalent command", disabled=False, height=70, sizing_mode="stretch_width"
    )
    state.param.watch(lambda *_events: setattr(command, "value", state.command()), list(CUT_PARAMS), onlychanged=True)
    return command


def availability_note(data: AppData) -> pn.pane.HTML:
    """Which optional columns the catalogue lacks (their controls are disabled)."""
    missing = [name for name, ok in data.available.items() if not ok]
    text = f"Disabled: this catalogue has no {', '.join(missing)} column(s)." if missing else ""
    return pn.pane.HTML(text, sizing_mode="stretch_width")


def create_app(data: AppData | None = None, workdir: str | None = None) -> pn.template.BaseTemplate:
    """One session's page. ``data`` defaults to the catalogue in ``$REDCLUMP_WORKDIR``."""
    if data is None:
        data = load_app_data(workdir or os.environ.get("REDCLUMP_WORKDIR", ".redclump"))
    state = ExplorerState(data)
    cache = SelectionCache(state)
    scheduler = CutScheduler(state, prepare=cache.prepare, apply=lambda values: state.param.update(**values))
    # Made in the order the page always made them: the order of the state's watchers decides
    # what a cut change updates first.
    sliders = [cut_slider(state, name, scheduler) for name in SLIDER_PARAMS]
    controls = pn.Param(
        state,
        parameters=["colour_by", "cnorm", "sky_projection", "show_truth", "hover"],
        show_name=False,
        sizing_mode="stretch_width",
    )
    presets = preset_buttons(state, scheduler)
    clear = pn.widgets.Button(label="Clear drawn region", css_classes=["clear-region"])
    clear.on_click(lambda _event: setattr(state, "region", None))
    availability = availability_note(data)
    template = pn.template.BootstrapTemplate(
        title="redclump: red clump explorer", sidebar_width=320, busy_indicator=None
    )
    comparison = Comparison(state)
    card = StarCard(state)
    link = session_link(state)  # SAMP: send to TOPCAT/Aladin, ring the rows they send back
    views = view_tabs(state, cache, comparison, card, marks=lambda x, y: marked_overlay(link, x, y))
    views.append(("Completeness", CompletenessView(state)))  # the cut's selection function on the sky
    command = command_box(state)
    downloads = download_widgets(state, cache)
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
        pn.Row(*downloads),
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
