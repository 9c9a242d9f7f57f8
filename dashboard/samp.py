"""The app's "Send to TOPCAT / Aladin" button, and the rows TOPCAT sends back marked on the views.

Sending goes through :func:`redclump.data.samp.send_table` (a VOTable with units, UCDs, the cut
and metrics). After the first send, the session stays registered with the hub as a SAMP client
that answers ``table.highlight.row`` (a row clicked in TOPCAT) and ``table.select.rowList`` (a
subset made in TOPCAT) about a table it sent: those stars are marked (ringed) on the sky and
seismic views. The hub is the one on the machine that runs the server: the common case is
``redclump serve`` on the user's own computer, next to TOPCAT (README).
"""

from __future__ import annotations

import html
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from redclump.dashboard.sample import selected_rows, selection_meta
from redclump.dashboard.state import ExplorerState

__all__ = ["HIGHLIGHT_ROW", "SELECT_ROWS", "SampLink", "marked_overlay", "samp_controls"]

log = logging.getLogger("redclump")

HIGHLIGHT_ROW = "table.highlight.row"
SELECT_ROWS = "table.select.rowList"


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
        self._listener: Any = None
        self._lock = threading.Lock()

    # ---- sending ---------------------------------------------------------------------------
    def send(self) -> None:
        """Send the current selection to every table-loading SAMP client; never raises."""
        from redclump.data import samp  # astropy's VOTable writer and pyvo: loaded on first use

        rows = np.flatnonzero(self.state.mask())
        table_id = f"redclump-{uuid.uuid4().hex[:12]}"
        frame = selected_rows(self.state)
        meta = selection_meta(self.state)
        try:
            self._listen()
            names = samp.send_table(frame, meta, name=f"redclump {meta['cut']}", table_id=table_id)
        except samp.SampError as exc:
            self.status = f"Not sent: {exc}"
            return
        self.sent[table_id] = rows
        self.status = f"Sent {len(frame):,} stars ({meta['cut']}) to {', '.join(names)}."

    # ---- receiving -------------------------------------------------------------------------
    def _listen(self) -> None:
        """Register a callable client for row messages, once per session (best effort: the send
        itself reports a missing hub)."""
        if self._listener is not None:
            return
        from pyvo.samp import SAMPIntegratedClient

        client = SAMPIntegratedClient(name="redclump explorer", description="redclump: marks rows sent back")
        try:
            client.connect()
        except Exception:  # no hub: send_table says so in words
            return
        for mtype in (HIGHLIGHT_ROW, SELECT_ROWS):
            client.bind_receive_notification(mtype, self._on_notification)
            client.bind_receive_call(mtype, self._on_call)
        self._listener = client

    def _on_call(self, _key: str, _sender: str, msg_id: str, mtype: str, params: dict[str, Any], _extra: Any) -> None:
        self._on_notification(_key, _sender, mtype, params, _extra)
        self._listener.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})

    def _on_notification(self, _key: str, _sender: str, mtype: str, params: dict[str, Any], _extra: Any) -> None:
        rows = self.rows_for(mtype, params)
        if rows is not None:
            self._schedule(lambda: self._mark(rows, mtype))

    def rows_for(self, mtype: str, params: dict[str, Any]) -> np.ndarray | None:
        """The catalogue rows a ``table.highlight.row`` / ``table.select.rowList`` message names,
        or None when it is about a table this session did not send."""
        sent = self.sent.get(str(params.get("table-id", "")))
        if sent is None:
            return None
        if mtype == HIGHLIGHT_ROW:
            indices = np.array([int(params["row"])], dtype=np.int64)
        else:
            indices = np.array([int(i) for i in params.get("row-list", [])], dtype=np.int64)
        indices = indices[(indices >= 0) & (indices < len(sent))]
        return sent[indices]

    def _mark(self, rows: np.ndarray, mtype: str) -> None:
        self.marked = rows
        what = "highlighted" if mtype == HIGHLIGHT_ROW else "selected"
        self.status = f"{len(rows):,} star(s) {what} in TOPCAT/Aladin, ringed on the sky and seismic views."

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.disconnect()
            except Exception as exc:  # the hub may be gone already
                log.debug("SAMP disconnect: %s", exc)
            self._listener = None


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
