"""SAMP: send a sample to TOPCAT, Aladin or any other SAMP client, and hear which rows they point at.

SAMP (the IVOA's Simple Application Messaging Protocol) lets desktop tools pass tables to each
other through a *hub*, which TOPCAT and Aladin start when none is running. :func:`send_table`
writes the sample as a VOTable (:func:`redclump.data.export.votable_bytes`: units, UCDs,
descriptions, the cut and metrics as PARAMs) to a temporary file and asks every client that
subscribes to ``table.load.votable`` to load it from its ``file://`` URL, waiting for each to
answer before the file is removed. The receivers may later send ``table.highlight.row`` (a row
clicked) or ``table.select.rowList`` (a subset) about a table; :func:`watch_rows` routes those
to whoever sent the table (an app session), by the table's id.

One client per process (:func:`process_client`): `select --samp` and every session of a server
share it. It connects on first use to the hub that is current then and again whenever that hub
changes or stops answering, and leaves the hub when the process exits.

The hub is found as every SAMP client finds it: ``$SAMP_HUB`` (``std-lockurl:<url>``) or the
lock file ``~/.samp``. The file URL only works where the receiving tool sees this machine's
files: the common case of the tool, the hub and redclump on one machine (see README).

Uses :mod:`pyvo.samp` (astropy's SAMP package moved there; ``astropy.samp`` is deprecated).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .export import to_qtable, votable_bytes

__all__ = [
    "HIGHLIGHT_ROW",
    "LOAD_VOTABLE",
    "SELECT_ROWS",
    "SampError",
    "forget_rows",
    "process_client",
    "row_indices",
    "send_table",
    "watch_rows",
]

LOAD_VOTABLE = "table.load.votable"
HIGHLIGHT_ROW = "table.highlight.row"
SELECT_ROWS = "table.select.rowList"
#: Seconds each receiving client has to load the table before it counts as failed.
DEFAULT_TIMEOUT = 60
#: What a watcher gets: the message type and the row numbers (in the sent table) it names.
RowWatcher = Callable[[str, np.ndarray], None]


class SampError(RuntimeError):
    """No hub, no client that loads tables, or every client failed: a message for the user."""


def row_indices(mtype: str, params: Mapping[str, Any]) -> np.ndarray:
    """The row numbers a ``table.highlight.row`` or ``table.select.rowList`` message names."""
    if mtype == HIGHLIGHT_ROW:
        return np.array([int(params["row"])], dtype=np.int64)
    return np.array([int(i) for i in params.get("row-list", [])], dtype=np.int64)


class _ProcessClient:
    """The process's one SAMP client: callable (it hears row messages), connected lazily."""

    def __init__(self) -> None:
        self._client: Any = None
        self._hub_url = ""
        self._lock = threading.RLock()
        self._watchers: dict[str, RowWatcher] = {}

    def connected(self) -> Any:
        """The client, connected to the current hub.

        Raises
        ------
        SampError
            No hub is running.
        """
        from pyvo.samp import SAMPHubError, SAMPIntegratedClient
        from pyvo.samp.lockfile_helpers import get_main_running_hub

        with self._lock:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # pyvo warns before raising when no hub answers
                    hub = get_main_running_hub()
                    if self._client is not None and hub["samp.hub.xmlrpc.url"] == self._hub_url:
                        try:
                            self._client.ping()
                            return self._client
                        except Exception:  # the hub under that address went away: connect again
                            pass
                    self.disconnect()
                    client = SAMPIntegratedClient(name="redclump", description="redclump: red clump sample selection")
                    client.connect(hub_params=hub)
            except (SAMPHubError, OSError, KeyError) as exc:
                self.disconnect()
                msg = (
                    "no SAMP hub is running: start TOPCAT or Aladin (each starts a hub) on this machine, then "
                    f"send again ({exc})"
                )
                raise SampError(msg) from None
            for mtype in (HIGHLIGHT_ROW, SELECT_ROWS):
                client.bind_receive_notification(mtype, self._on_notification)
                client.bind_receive_call(mtype, self._on_call)
            self._client, self._hub_url = client, hub["samp.hub.xmlrpc.url"]
            return client

    def disconnect(self) -> None:
        """Leave the hub (quietly: it may be gone already)."""
        with self._lock:
            client, self._client, self._hub_url = self._client, None, ""
        if client is not None:
            with contextlib.suppress(Exception):  # a hub that stopped cannot be told
                client.disconnect()

    def watch(self, table_id: str, watcher: RowWatcher) -> None:
        self._watchers[table_id] = watcher

    def forget(self, table_ids: Any) -> None:
        for table_id in list(table_ids):
            self._watchers.pop(table_id, None)

    def _on_call(self, _key: str, _sender: str, msg_id: str, mtype: str, params: dict[str, Any], _extra: Any) -> None:
        self._on_notification(_key, _sender, mtype, params, _extra)
        client = self._client
        if client is not None:
            client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})

    def _on_notification(self, _key: str, _sender: str, mtype: str, params: dict[str, Any], _extra: Any) -> None:
        watcher = self._watchers.get(str(params.get("table-id", "")))
        if watcher is not None:
            watcher(mtype, row_indices(mtype, params))


_PROCESS_CLIENT = _ProcessClient()
atexit.register(_PROCESS_CLIENT.disconnect)


def process_client() -> _ProcessClient:
    """The process's one SAMP client (see the module's docstring)."""
    return _PROCESS_CLIENT


def watch_rows(table_id: str, watcher: RowWatcher) -> None:
    """Call ``watcher(mtype, rows)`` (from the client's thread) when a receiver highlights or
    selects rows of the table sent as ``table_id``."""
    _PROCESS_CLIENT.watch(table_id, watcher)


def forget_rows(table_ids: Any) -> None:
    """Stop routing messages about these tables (a session that ended)."""
    _PROCESS_CLIENT.forget(table_ids)


def send_table(
    frame: pd.DataFrame,
    meta: Mapping[str, Any],
    *,
    name: str = "redclump sample",
    table_id: str | None = None,
    timeout: int = DEFAULT_TIMEOUT,
) -> list[str]:
    """Send ``frame`` with its provenance ``meta`` to every SAMP client that loads VOTables.

    Parameters
    ----------
    frame
        The sample's rows (schema columns get units, descriptions and UCDs).
    meta
        Provenance: cut text, region, metrics, software, catalogue.
    name
        The table's name in the receiving tools.
    table_id
        Identifier the receivers use when they send rows back (``table.highlight.row``,
        ``table.select.rowList``); a fresh one by default.
    timeout
        Seconds each client has to load the table.

    Returns
    -------
    list of str
        The names (``samp.name``) of the clients that loaded the table.

    Raises
    ------
    SampError
        No hub is running, no client loads tables, or none loaded it.
    """
    from pyvo.samp import SAMPProxyError

    client = _PROCESS_CLIENT.connected()
    handle, path = tempfile.mkstemp(prefix="redclump-", suffix=".vot")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(votable_bytes(to_qtable(frame, meta)))
        url = Path(path).as_uri()
        receivers = client.get_subscribed_clients(LOAD_VOTABLE)
        if not receivers:
            msg = "the SAMP hub has no client that loads tables: start TOPCAT or Aladin, then send again"
            raise SampError(msg)
        params = {"url": url, "name": name, "table-id": table_id or url}
        loaded, failed = [], []
        for client_id in receivers:
            label = client.get_metadata(client_id).get("samp.name", client_id)
            try:
                response = client.ecall_and_wait(client_id, LOAD_VOTABLE, str(timeout), **params)
            except SAMPProxyError as exc:
                failed.append(f"{label}: {exc.faultString}")
                continue
            if response.get("samp.status") == "samp.ok":
                loaded.append(label)
            else:
                error = response.get("samp.error", {}).get("samp.errortxt", "no reason given")
                failed.append(f"{label}: {error}")
        if not loaded:
            msg = "no SAMP client loaded the table: " + "; ".join(failed)
            raise SampError(msg)
        return loaded
    finally:
        Path(path).unlink(missing_ok=True)
