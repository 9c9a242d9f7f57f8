"""A star's card: click a view, see the nearest candidate star and why the cut keeps or drops it.

The click finds the star through :func:`redclump.dashboard.star_lookup.nearest_star`; this
module says what the card shows (facts, the cut's terms, the SED and the ΔP and Δν mixtures) and
places it on the page.
"""

from __future__ import annotations

import functools
import html
import logging
import math
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import param
from redclump.core.selection import Cut
from redclump.data.schema import BAND_LABELS, BANDS, STATES, stored_components

from .app_data import TRUE_STATE_COLUMN
from .live import executor, served_document, with_document_lock
from .star_lookup import MAX_PIXELS, nearest_star
from .state import ExplorerState

__all__ = [
    "EFFECTIVE_WAVELENGTHS",
    "MAX_PIXELS",
    "StarCard",
    "card_facts",
    "cut_terms",
    "mixture_curve",
    "nearest_star",
]

log = logging.getLogger("redclump")

#: Effective wavelengths (µm) of the 13 bands, for the SED: Gaia DR2 G, BP, RP (Evans et al.
#: 2018 passbands, SVO filter service λ_eff); Pan-STARRS1 g, r, i, z, y (Tonry et al. 2012);
#: 2MASS J, H, Ks (Cohen et al. 2003); WISE W1, W2 (Wright et al. 2010).
EFFECTIVE_WAVELENGTHS: dict[str, float] = {
    "phot_g_mean_mag": 0.623,
    "phot_bp_mean_mag": 0.505,
    "phot_rp_mean_mag": 0.773,
    "g_mean_psf_mag": 0.481,
    "r_mean_psf_mag": 0.616,
    "i_mean_psf_mag": 0.750,
    "z_mean_psf_mag": 0.867,
    "y_mean_psf_mag": 0.961,
    "j_m": 1.235,
    "h_m": 1.662,
    "ks_m": 2.159,
    "w1mpro": 3.353,
    "w2mpro": 4.603,
}


def cut_terms(cut: Cut, star: pd.DataFrame) -> list[tuple[str, bool]]:
    """Each term of ``cut`` as text, and whether the one-row ``star`` passes it.

    Examples
    --------
    >>> star = pd.DataFrame({"dp_phot": [240.0], "dnu_phot": [4.0], "teff_phot": [4600.0]})
    >>> cut_terms(Cut(dp_min=225, dnu_max=5.5, teff_min=4700), star)
    [('dp_phot > 225', True), ('dnu_phot < 5.5', True), ('teff_phot > 4700', False)]
    """
    terms = []
    for spec in fields(cut):
        value = getattr(cut, spec.name)
        if value is None:
            continue
        term = Cut(**{spec.name: value})
        passes = bool(term.mask(star)[0]) if set(term.required_columns()) <= set(star.columns) else False
        terms.append((term.text(), passes))
    return terms


def _value(star: pd.DataFrame, column: str) -> float:
    return float(star[column].iloc[0]) if column in star.columns else float("nan")


def card_facts(star: pd.DataFrame, cut: Cut) -> dict[str, Any]:
    """What the card shows for the one-row ``star`` under ``cut`` (numbers, no widgets)."""
    parallax, parallax_error = _value(star, "parallax"), _value(star, "parallax_error")
    facts: dict[str, Any] = {
        "source_id": int(star["source_id"].iloc[0]) if "source_id" in star.columns else None,
        "l": _value(star, "l"),
        "b": _value(star, "b"),
        "g": _value(star, "phot_g_mean_mag"),
        "parallax": parallax,
        "parallax_error": parallax_error,
        "teff": _value(star, "teff_phot"),
        "teff_err": _value(star, "teff_phot_err"),
        "logg": _value(star, "logg_phot"),
        "logg_err": _value(star, "logg_phot_err"),
        "dp": _value(star, "dp_phot"),
        "dnu": _value(star, "dnu_phot"),
        "p_rc": _value(star, "p_rc"),
        "dist": _value(star, "dist"),
        "dist_err": _value(star, "dist_err"),
        # 1/parallax (mas → kpc); a non-positive parallax has no such distance.
        "inverse_parallax": 1.0 / parallax if parallax > 0 else float("nan"),
        "terms": cut_terms(cut, star),
        "passes": bool(cut.mask(star)[0]),
        "true_state": None,
    }
    if TRUE_STATE_COLUMN in star.columns:
        code = int(star[TRUE_STATE_COLUMN].iloc[0])
        facts["true_state"] = STATES[code] if 0 <= code < len(STATES) else "unknown"
    facts["p_above_cut"] = float("nan")
    if cut.dp_min is not None and "dp_mix_w0" in star.columns:
        weights, mu, sigma = star_mixture(star, "dp")
        upper = [0.5 * math.erfc((cut.dp_min - m) / (s * math.sqrt(2.0))) for m, s in zip(mu, sigma, strict=True)]
        facts["p_above_cut"] = float(np.dot(weights, upper))
    return facts


def _fmt(value: float, digits: int) -> str:
    return "–" if not np.isfinite(value) else f"{value:.{digits}f}"


def facts_html(facts: dict[str, Any]) -> str:
    """The card's text: identity, astrometry, parameters, distances and the cut's verdict."""
    snr = facts["parallax"] / facts["parallax_error"] if facts["parallax_error"] > 0 else float("nan")
    rows = [
        ("source_id", f"<span id='card-source-id'>{facts['source_id']}</span>"),
        ("l, b (deg)", f"{_fmt(facts['l'], 4)}, {_fmt(facts['b'], 4)}"),
        ("G (mag)", f"<span id='card-g'>{_fmt(facts['g'], 3)}</span>"),
        ("parallax (mas)", f"{_fmt(facts['parallax'], 4)} ± {_fmt(facts['parallax_error'], 4)}"),
        ("Teff_phot (K)", f"<span id='card-teff'>{_fmt(facts['teff'], 0)}</span> ± {_fmt(facts['teff_err'], 0)}"),
        ("log g_phot", f"{_fmt(facts['logg'], 2)} ± {_fmt(facts['logg_err'], 2)}"),
        ("ΔP_phot (s), Δν_phot (µHz)", f"{_fmt(facts['dp'], 1)}, {_fmt(facts['dnu'], 2)}"),
        ("P(RC) = P(ΔP > 225 s)", _fmt(facts["p_rc"], 3)),
        ("RC distance (kpc)", f"{_fmt(facts['dist'], 3)} ± {_fmt(facts['dist_err'], 3)}"),
        ("1 / parallax (kpc)", f"{_fmt(facts['inverse_parallax'], 3)} (parallax S/N {_fmt(snr, 1)})"),
    ]
    if facts["true_state"] is not None:
        rows.append(("true state (mock)", f"<span id='card-true-state'>{facts['true_state']}</span>"))
    verdict = "selected" if facts["passes"] else "rejected"
    terms = "".join(
        f"<li class='{'pass' if ok else 'fail'}'>{'✓' if ok else '✗'} <code>{html.escape(text)}</code></li>"
        for text, ok in facts["terms"]
    )
    table = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return (
        f"<table class='card-facts'>{table}</table>"
        f"<div id='card-verdict'>The current cut: <b>{verdict}</b></div><ul class='card-terms'>{terms}</ul>"
    )


def star_mixture(
    star: pd.DataFrame, prefix: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The one-row ``star``'s stored mixture of ``prefix`` (``dp`` or ``dnu``; columns as in
    :func:`redclump.data.schema.mixture_columns`) as (weights summing to 1, means, sigmas).

    The same mixture as :func:`redclump.core.mdn.mixture_from_columns` gives, in numpy: the page
    does not import torch (~3 s of the server's start-up) for one star. Raises KeyError without
    the mixture columns.

    Examples
    --------
    >>> star = pd.DataFrame({"dp_mix_w0": [1.0], "dp_mix_mu0": [80.0], "dp_mix_sigma0": [5.0],
    ...                      "dp_mix_w1": [3.0], "dp_mix_mu1": [300.0], "dp_mix_sigma1": [9.0]})
    >>> [v.tolist() for v in star_mixture(star, "dp")]
    [[0.25, 0.75], [80.0, 300.0], [5.0, 9.0]]
    """
    k = stored_components(star.columns, prefix)

    def column(part: str) -> npt.NDArray[np.float64]:
        return np.array([float(star[f"{prefix}_mix_{part}{i}"].iloc[0]) for i in range(k)])

    weights = column("w")
    return weights / weights.sum(), column("mu"), column("sigma")


def mixture_curve(
    star: pd.DataFrame, prefix: str, *, include: float | None = None, n: int = 300
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The one-row ``star``'s stored mixture of ``prefix`` (``dp`` or ``dnu``) as (grid, density)
    over ±4σ of its components, widened to ``include`` (e.g. the cut's threshold). Raises
    KeyError without the mixture columns."""
    weights, mu, sigma = star_mixture(star, prefix)
    lo, hi = float((mu - 4 * sigma).min()), float((mu + 4 * sigma).max())
    if include is not None:
        lo, hi = min(lo, include), max(hi, include)
    grid = np.linspace(lo, hi, n)
    density = (weights / (sigma * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((grid[:, None] - mu) / sigma) ** 2)).sum(-1)
    return grid, density


class _CardPlots:
    """The card's three Bokeh figures, made once per session and refilled for each star (making
    Bokeh figures costs ~0.1 s each; updating their sources costs ~1 ms)."""

    def __init__(self) -> None:
        from bokeh.models import ColumnDataSource, LabelSet, Span
        from bokeh.plotting import figure

        self.sed_source = ColumnDataSource({"wavelength": [], "mag": [], "band": []})
        self.sed = figure(
            width=300,
            height=200,
            title="SED (observed)",
            x_axis_type="log",
            x_axis_label="effective wavelength (µm)",
            y_axis_label="magnitude",
            toolbar_location=None,
            css_classes=["card-sed"],
        )
        self.sed.y_range.flipped = True
        self.sed.scatter("wavelength", "mag", source=self.sed_source, size=6, color="black")
        self.sed.add_layout(
            LabelSet(x="wavelength", y="mag", text="band", source=self.sed_source, x_offset=4, text_font_size="7pt")
        )
        self.mixtures = {}
        for prefix, label in (("dp", "ΔP (s)"), ("dnu", "Δν (µHz)")):
            fig = figure(
                width=280, height=180, x_axis_label=label, toolbar_location=None, css_classes=[f"card-{prefix}"]
            )
            fig.yaxis.visible = False
            source = ColumnDataSource({"x": [], "density": []})
            fig.line("x", "density", source=source, color="#0072B2", line_width=2)
            span = Span(location=0.0, dimension="height", line_color="red", line_dash="dashed", visible=False)
            fig.add_layout(span)
            self.mixtures[prefix] = (fig, source, span)

    def update(self, star: pd.DataFrame, cut: Cut, titles: dict[str, str]) -> None:
        bands = [b for b in BANDS if b in star.columns]
        self.sed_source.data = {
            "wavelength": [EFFECTIVE_WAVELENGTHS[b] for b in bands],
            "mag": [float(star[b].iloc[0]) for b in bands],
            "band": [BAND_LABELS[b] for b in bands],
        }
        for prefix, threshold in (("dp", cut.dp_min), ("dnu", cut.dnu_max)):
            fig, source, span = self.mixtures[prefix]
            try:
                grid, density = mixture_curve(star, prefix, include=threshold)
            except KeyError:
                source.data = {"x": [], "density": []}
                fig.title.text = f"no {prefix} mixture in this catalogue"
                continue
            source.data = {"x": grid, "density": density}
            span.visible = threshold is not None
            span.location = 0.0 if threshold is None else float(threshold)
            fig.title.text = titles[prefix]


#: The card's panel: fixed at the top right of the window, over the view's right side, scrolling
#: if the window is too short for it.
CARD_STYLES = {
    "position": "fixed",
    "top": "64px",
    "right": "16px",
    "z-index": "1000",
    "background": "white",
    "border": "1px solid #ccc",
    "border-radius": "6px",
    "box-shadow": "0 4px 16px rgba(0, 0, 0, 0.25)",
    "padding": "4px 8px",
    "max-height": "calc(100vh - 80px)",
    "overflow-y": "auto",
}


@functools.cache
def _escape_key() -> type:
    """A Panel component counting the page's Esc key presses (made on first use: this module
    imports Panel lazily, as the rest of the card does)."""
    import panel as pn

    class EscapeKey(pn.reactive.ReactiveHTML):
        presses = param.Integer(default=0, doc="Esc key presses on the page so far")

        _template = "<div></div>"
        _scripts = {  # noqa: RUF012 (Panel's class-level declaration)
            "render": (
                "document.addEventListener('keydown', (event) => { if (event.key === 'Escape') data.presses += 1 })"
            )
        }

    return EscapeKey


class StarCard(param.Parameterized):
    """One session's card: the clicked star (``row``), and its panel.

    :meth:`attach` makes a view clickable; a click sets ``row`` and redraws the card.
    """

    row = param.Integer(default=None, allow_None=True, doc="Catalogue row of the star on the card, or None")

    def __init__(self, state: ExplorerState, *, on_show: Callable[[], None] | None = None) -> None:
        import panel as pn

        super().__init__()
        self.state = state
        self.on_show = on_show
        self.facts = pn.pane.HTML("Click a star on any view.", css_classes=["star-card"], width=330)
        self.plots = pn.Column(pn.Spacer(width=0, height=0))  # an empty layout makes Bokeh warn (W-1002)
        self._figures: _CardPlots | None = None
        close = pn.widgets.Button(label="×", width=40, css_classes=["card-close"], description="Close (Esc)")
        close.on_click(lambda _event: self.close())
        self.escape = _escape_key()(width=0, height=0, margin=0)
        self.escape.param.watch(lambda _event: self.close(), "presses")
        # A panel floating over the right of the view, beside where the click was made, rather
        # than the template's modal: that one covers the page and is opened by a script that
        # leaves Bootstrap's fade class (opacity 0) on it.
        self.panel = pn.Column(
            pn.Row(pn.pane.HTML("<h3 style='margin: 4px 0'>Star</h3>"), pn.Spacer(), close),
            pn.Row(self.facts, self.plots),
            self.escape,
            visible=False,
            css_classes=["star-card-panel"],
            styles=CARD_STYLES,
        )
        self._warm()

    def _warm(self) -> None:
        """Pay now, off the event loop, for what a page's first click would: the sky view's
        y-sorted index (~1 s at 5 M candidates, once per process), the lookup's numba kernel, and
        this session's three card figures (made in the pool, filled with the first candidate so
        that BokehJS has ranges to draw them with, and placed in the hidden card on the loop). The
        first click cost ~3 s on the default build, a later one 0.04 s (the facts pane's first
        update is paid at load too: :func:`.live.send_stylesheets`). Outside a served page
        (tests, notebooks) nothing is warmed."""
        doc = served_document()
        if doc is None or self.state.data.catalogue.empty:
            return
        columns = ("sky_x", "sky_y")
        data = self.state.data

        def prepare() -> _CardPlots:
            if set(columns) <= set(data.catalogue.columns):
                nearest_star(data, *columns, (0.0, 0.0), per_pixel=(1e-3, 1e-3))
            star = data.catalogue.iloc[[0]].reset_index(drop=True)
            figures = _CardPlots()
            figures.update(star, self.state.cut(), {"dp": "ΔP mixture", "dnu": "Δν mixture"})
            return figures

        def place(done: Future[_CardPlots]) -> None:
            try:
                figures = done.result()
            except Exception:  # the first click makes them instead
                log.exception("warming the star card failed")
                return
            if self._figures is None:  # (a click may have come first)
                self._place(figures)

        def on_done(done: Future[_CardPlots]) -> None:  # in the pool's thread
            # The one Document method that is safe from another thread.
            doc.add_next_tick_callback(functools.partial(place, done))

        executor().submit(prepare).add_done_callback(on_done)

    def _place(self, figures: _CardPlots) -> None:
        """Put ``figures`` (filled: a figure first drawn with no data has no ranges, and Bokeh
        warns "could not set initial ranges", and for the SED's log axis "could not determine
        minimum data value") in the card."""
        import panel as pn

        self._figures = figures
        self.plots.objects = [
            pn.pane.Bokeh(figures.sed),
            pn.Row(*(pn.pane.Bokeh(fig) for fig, *_ in figures.mixtures.values())),
        ]

    def close(self) -> None:
        """Hide the card (the close button, Esc)."""
        self.panel.visible = False

    def star(self) -> pd.DataFrame:
        """The card's star as a one-row frame (every catalogue column the app keeps)."""
        if self.row is None:
            return self.state.data.catalogue.iloc[0:0]
        return self.state.data.catalogue.iloc[[self.row]].reset_index(drop=True)

    def attach(self, view: Any, x: str, y: str, *, shows_all: bool = False) -> None:
        """A click on ``view`` (a DynamicMap over columns ``x``, ``y``) shows the nearest star it
        shows: every candidate if ``shows_all``, else the selection."""
        import holoviews as hv

        tap = hv.streams.Tap(source=view)
        ranges = hv.streams.RangeXY(source=view)
        size = hv.streams.PlotSize(source=view)

        # The card sets Bokeh sources: it needs the document lock, which HoloViews' subscribers
        # run without (see with_document_lock).
        pick = with_document_lock(self.pick)

        def on_tap(x: float | None = None, y: float | None = None) -> None:
            if x is None or y is None:
                return
            pick(view_columns, (x, y), ranges.x_range, ranges.y_range, size.width, size.height, shows_all)

        view_columns = (x, y)
        tap.add_subscriber(on_tap)

    def pick(
        self,
        columns: tuple[str, str],
        click: tuple[float, float],
        x_range: Any,
        y_range: Any,
        width: int | None,
        height: int | None,
        shows_all: bool,
    ) -> int | None:
        """Find the star nearest ``click`` and show it (None and an unchanged card if none)."""
        from .views import VIEWS

        full = next((v for v in VIEWS.values() if v[:2] == columns), None)
        x_range = x_range or (full[2] if full else (0.0, 1.0))
        y_range = y_range or (full[3] if full else (0.0, 1.0))
        per_pixel = (abs(x_range[1] - x_range[0]) / (width or 480), abs(y_range[1] - y_range[0]) / (height or 280))
        keep = None if shows_all else self.state.mask()
        row = nearest_star(self.state.data, *columns, click, per_pixel=per_pixel, keep=keep)
        if row is not None:
            self.show(row)
        return row

    def show(self, row: int) -> None:

        self.row = row
        star = self.star()
        cut = self.state.cut()
        facts = card_facts(star, cut)
        self.facts.object = facts_html(facts)
        p_cut = facts["p_above_cut"]
        titles = {"dp": f"ΔP: P(RC) {_fmt(facts['p_rc'], 2)}, P(> cut) {_fmt(p_cut, 2)}", "dnu": "Δν mixture"}
        if self._figures is None:  # not warmed (outside a served page, or not yet)
            figures = _CardPlots()
            figures.update(star, cut, titles)
            self._place(figures)
        else:
            self._figures.update(star, cut, titles)
        self.panel.visible = True
        if self.on_show is not None:
            self.on_show()
