"""The page URL's cut and view choices, checked before they reach the state.

A link (``/redclump?dp_min=250&colour_by=mean%20P(RC)``) reproduces a view. What the URL says is
read here, one parameter at a time: a number out of its slider's range is clamped to the range,
a value that is not a finite number or not one of a choice's options is dropped, and the page
shows one line saying what was changed, so a mistyped or truncated link never silently shows a
different cut. Panel's own URL sync (``pn.state.location.sync``) then keeps the URL in step.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import param

__all__ = ["UrlReading", "notice_html", "read_url", "sync_with_url"]

#: Longest piece of a URL value quoted back in the notice.
SHOWN_CHARS = 40


@dataclass(frozen=True)
class UrlReading:
    """What a URL query sets (``values``, ready for ``state.param.update``) and what was changed."""

    values: dict[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()


def _shown(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…")


def _url_keys(names: Mapping[str, str] | Sequence[str]) -> dict[str, str]:
    """Parameter → URL key; a plain sequence of names uses each name as its key."""
    return dict(names) if isinstance(names, Mapping) else {name: name for name in names}


def _read_one(spec: param.Parameter, name: str, text: str) -> tuple[Any, str | None]:
    """(value or None to drop, notice or None) for one URL parameter."""
    shown = f"{name}={_shown(text)}"
    if spec.constant:
        return None, f"{shown} ignored (this catalogue has no column for it)"
    if isinstance(spec, param.Boolean):
        if text.lower() in ("true", "false"):
            return text.lower() == "true", None
        return None, f"{shown} ignored (expected true or false)"
    if isinstance(spec, param.Number):
        try:
            value = float(text)
        except ValueError:
            return None, f"{shown} ignored (not a number)"
        if not math.isfinite(value):
            return None, f"{shown} ignored (not a finite number)"
        lo, hi = spec.bounds
        if lo is not None and value < lo:
            return float(lo), f"{shown} below the range: set to {lo:g}"
        if hi is not None and value > hi:
            return float(hi), f"{shown} above the range: set to {hi:g}"
        return value, None
    if isinstance(spec, param.Selector):
        if text in spec.objects:
            return text, None
        return None, f"{shown} ignored (not one of the options)"
    return None, f"{shown} ignored"


def read_url(search: str, state: param.Parameterized, names: Mapping[str, str] | Sequence[str]) -> UrlReading:
    """Check the query string ``search`` (``?a=1&b=2``) against ``state``'s parameters ``names``.

    Parameters
    ----------
    search
        The URL's query string, with or without the leading ``?``.
    state
        The object whose parameters the URL sets (bounds and options are read from it).
    names
        The parameters a URL may set, as parameter → URL key (or a sequence of names that are
        their own keys); other query keys are left alone.

    Returns
    -------
    UrlReading
        Values to apply by parameter name (clamped into range) and one notice per value clamped
        or dropped (quoting the URL key).

    Examples
    --------
    >>> class Cut(param.Parameterized):
    ...     dp_min = param.Number(225.0, bounds=(150.0, 400.0))
    >>> read_url("?dp_min=500", Cut(), ["dp_min"])
    UrlReading(values={'dp_min': 400.0}, notices=("dp_min='500' above the range: set to 400",))
    """
    by_key = {key: name for name, key in _url_keys(names).items()}
    values: dict[str, Any] = {}
    notices: list[str] = []
    seen: set[str] = set()
    for key, text in parse_qsl(search.lstrip("?"), keep_blank_values=True):
        if key not in by_key:
            continue
        if key in seen:
            notices.append(f"{key} given more than once: the last kept")
        seen.add(key)
        name = by_key[key]
        value, notice = _read_one(state.param[name], key, text)
        if notice:
            notices.append(notice)
        if value is not None:
            values[name] = value
        else:
            values.pop(name, None)
    return UrlReading(values, tuple(notices))


def notice_html(reading: UrlReading) -> str:
    """One line for the page (HTML-escaped: the URL's text is anyone's)."""
    if not reading.notices:
        return ""
    return "<div class='url-notice'>Link adjusted: " + html.escape("; ".join(reading.notices)) + ".</div>"


def sync_with_url(state: param.Parameterized, names: Mapping[str, str] | Sequence[str]) -> Any:
    """Apply the page URL's checked values to ``state`` and keep the URL in step with it.

    Returns a Panel HTML pane with the notice (hidden when the URL needed no change); outside a
    server session (no ``pn.state.location``) it only returns the hidden pane.
    """
    import panel as pn

    pane = pn.pane.HTML("", visible=False, sizing_mode="stretch_width", css_classes=["url-notice-pane"])
    location = pn.state.location
    if location is None:
        return pane
    keys = _url_keys(names)
    reading = read_url(location.search or "", state, keys)
    before = {name: getattr(state, name) for name in keys}
    # Panel's sync applies the raw URL (all or nothing: one bad value drops the good ones too;
    # "NaN" passes a Number's bounds) and then writes the state back to the URL; resetting to
    # the values before it and applying the checked ones makes the checked ones win.
    location.sync(state, keys)
    state.param.update(**{**before, **reading.values})
    pane.object = notice_html(reading)
    pane.visible = bool(reading.notices)
    return pane
