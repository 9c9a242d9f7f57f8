"""Send a sample to TOPCAT, Aladin or any other SAMP client through a running SAMP hub.

SAMP (the IVOA's Simple Application Messaging Protocol) lets desktop tools pass tables to each
other through a *hub*, which TOPCAT and Aladin start when none is running. :func:`send_table`
writes the sample as a VOTable (:func:`redclump.data.export.votable_bytes`: units, UCDs,
descriptions, the cut and metrics as PARAMs) to a temporary file and asks every client that
subscribes to ``table.load.votable`` to load it from its ``file://`` URL, waiting for each to
answer before the file is removed.

The hub is found as every SAMP client finds it: ``$SAMP_HUB`` (``std-lockurl:<url>``) or the
lock file ``~/.samp``. The file URL only works where the receiving tool sees this machine's
files: the common case of the tool, the hub and redclump on one machine (see README).

Uses :mod:`pyvo.samp` (astropy's SAMP package moved there; ``astropy.samp`` is deprecated).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .export import to_qtable, votable_bytes

__all__ = ["LOAD_VOTABLE", "SampError", "send_table"]

LOAD_VOTABLE = "table.load.votable"
#: Seconds each receiving client has to load the table before it counts as failed.
DEFAULT_TIMEOUT = 60


class SampError(RuntimeError):
    """No hub, no client that loads tables, or every client failed: a message for the user."""


def _connect(name: str) -> Any:
    import warnings

    from pyvo.samp import SAMPHubError, SAMPIntegratedClient

    # Not callable: it only sends (call-and-wait is answered through the hub), so no server starts.
    client = SAMPIntegratedClient(name=name, description="redclump: red clump sample selection", callable=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyvo warns before raising when no hub answers
            client.connect()
    except (SAMPHubError, OSError) as exc:
        msg = (
            "no SAMP hub is running: start TOPCAT or Aladin (each starts a hub) on this machine, then "
            f"send again ({exc})"
        )
        raise SampError(msg) from None
    return client


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

    client = _connect("redclump")
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
        client.disconnect()
