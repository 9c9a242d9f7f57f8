"""The app's "Send to TOPCAT / Aladin" button, and the rows TOPCAT sends back marked on the views.

The protocol is :mod:`redclump.data.samp`'s: the table goes out through the process's one SAMP
client (:func:`~redclump.data.samp.send_table`: a VOTable with units, UCDs, the cut and
metrics), and the ``table.highlight.row`` (a row clicked in TOPCAT) and ``table.select.rowList``
(a subset made in TOPCAT) messages about a table this session sent come back to it
(:func:`~redclump.data.samp.watch_rows`): those stars are marked (ringed) on the sky and seismic
views. This module holds only the session's part: which rows each sent table holds, the marks,
the button. The hub is the one on the machine that runs the server: the common case is
``redclump serve`` on the user's own computer, next to TOPCAT (README).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from redclump.dashboard.sample import selected_rows, selection_meta
from redclump.dashboard.state import ExplorerState

__all__ = ["SampLink", "marked_overlay", "samp_controls", "session_link"]


class SampLink(param.Parameterized):
    """One session's tables sent over SAMP, and the stars the receivers point back at."""

    marked = param.Array(default=np.zeros(0, np.int64), doc="Catalogue rows (candidates) marked from TOPCAT")
    status = param.String(default="", doc="What the last send or message did, for the page")

    def __init__(self, state: ExplorerState, *, schedule: Callable[[Callable[[], None]], None] | None = None) -> None:
        super().__init__()
        self.state = state
        #: table-id → the catalogue rows (positions in state.data.catalogue) of the sent table.
        self.sent: dict[str, np.ndarray] = {}
        self._schedule = schedule or (lambda function: function())

    def send(self) -> None:
        """Send the current selection to every table-loading SAMP client; never raises."""
        from redclump.data import samp  # astropy's VOTable writer and pyvo: loaded on first use

        rows = np.flatnonzero(self.state.mask())
        table_id = f"redclump-{uuid.uuid4().hex[:12]}"
        frame = selected_rows(self.state)
        meta = selection_meta(self.state)
        # Listen before sending: a receiver may point at rows as soon as it has the table.
        self.sent[table_id] = rows
        samp.watch_rows(table_id, lambda mtype, indices: self._on_rows(table_id, mtype, indices))
        try:
            names = samp.send_table(frame, meta, name=f"redclump {meta['cut']}", table_id=table_id)
        except samp.SampError as exc:
            samp.forget_rows([table_id])
            del self.sent[table_id]
            self.status = f"Not sent: {exc}"
            return
        self.status = f"Sent {len(frame):,} stars ({meta['cut']}) to {', '.join(names)}."

    def rows_for(self, table_id: str, indices: np.ndarray) -> np.ndarray | None:
        """The catalogue rows that row numbers ``indices`` of the sent table ``table_id`` are, or
        None when this session did not send that table."""
        sent = self.sent.get(table_id)
        if sent is None:
            return None
        return sent[indices[(indices >= 0) & (indices < len(sent))]]

    def _on_rows(self, table_id: str, mtype: str, indices: np.ndarray) -> None:
        rows = self.rows_for(table_id, indices)
        if rows is not None:
            self._schedule(lambda: self._mark(rows, mtype))

    def _mark(self, rows: np.ndarray, mtype: str) -> None:
        from redclump.data.samp import HIGHLIGHT_ROW

        self.marked = rows
        what = "highlighted" if mtype == HIGHLIGHT_ROW else "selected"
        self.status = f"{len(rows):,} star(s) {what} in TOPCAT/Aladin, ringed on the sky and seismic views."

    def close(self) -> None:
        """Stop hearing about this session's tables (the process's client stays connected)."""
        if self.sent:
            from redclump.data import samp

            samp.forget_rows(self.sent)


def marked_overlay(link: SampLink, x: str, y: str) -> hv.DynamicMap:
    """Rings around the marked stars on the view of columns (``x``, ``y``)."""

    def points(marked: np.ndarray) -> hv.Points:
        catalogue = link.state.data.catalogue
        frame = pd.DataFrame({x: catalogue[x].to_numpy()[marked], y: catalogue[y].to_numpy()[marked]})
        return hv.Points(frame, [x, y]).opts(
            marker="circle", size=14, fill_alpha=0, line_color="#D55E00", line_width=2, tools=[]
        )

    return hv.DynamicMap(pn.bind(points, link.param.marked))


def samp_controls(link: SampLink) -> pn.Column:
    """The button and a line saying what happened (sent to whom, or why not)."""
    button = pn.widgets.Button(label="Send to TOPCAT / Aladin", css_classes=["samp-send"])
    button.on_click(lambda _event: link.send())

    def status_html(text: str) -> str:
        return f"<div class='samp-status'>{html.escape(text)}</div>"

    status = pn.pane.HTML(pn.bind(status_html, link.param.status), sizing_mode="stretch_width")
    return pn.Column(button, status, sizing_mode="stretch_width")


def session_link(state: ExplorerState) -> SampLink:
    """A :class:`SampLink` for the current Panel session: messages from the hub's thread are
    applied on the session's event loop, and the client leaves the hub with the session."""
    doc = pn.state.curdoc
    if doc is None:
        return SampLink(state)

    def schedule(function: Callable[[], None]) -> None:
        doc.add_next_tick_callback(function)

    link = SampLink(state, schedule=schedule)
    pn.state.on_session_destroyed(lambda _context: link.close())
    return link
