"""SAMP: a real hub in this process and a receiving client, as TOPCAT would be."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from redclump.dashboard.data import synthetic_frames
from redclump.data import samp

pyvo_samp = pytest.importorskip("pyvo.samp")

META = {"cut": "dp_phot > 225 & dnu_phot < 5.5", "region": "none", "n_rows": 0, "contamination": 0.125}


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A SAMP hub on 127.0.0.1 whose lock file is in tmp_path (never the user's ~/.samp)."""
    monkeypatch.setattr(pyvo_samp.conf, "use_internet", False)
    lockfile = tmp_path / "samp.lock"
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{lockfile.as_uri()}")
    server = pyvo_samp.SAMPHubServer(web_profile=False, lockfile=str(lockfile), addr="127.0.0.1")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Receiver:
    """A client that loads tables as TOPCAT does: it reads the VOTable from the URL while the call
    is open, then answers."""

    def __init__(self) -> None:
        self.client = pyvo_samp.SAMPIntegratedClient(name="receiver", addr="127.0.0.1")
        self.tables: list[Any] = []
        self.params: list[dict[str, Any]] = []
        self.received = threading.Event()

    def __enter__(self) -> Receiver:
        self.client.connect()
        self.client.bind_receive_call(samp.LOAD_VOTABLE, self._load)
        return self

    def __exit__(self, *_: object) -> None:
        self.client.disconnect()

    def _load(self, _key: str, _sender: str, msg_id: str, _mtype: str, params: dict, _extra: dict) -> None:
        from redclump.data.export import read_table

        path = Path(params["url"].removeprefix("file://"))
        copy = path.with_name(path.name + ".copy.vot")
        copy.write_bytes(path.read_bytes())
        try:
            self.tables.append(read_table(copy))
        finally:
            copy.unlink()
        self.params.append(params)
        self.client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})
        self.received.set()


def test_a_receiving_client_gets_the_rows_units_and_cut(hub: Any) -> None:
    catalogue, _ = synthetic_frames(500, 10, seed=4)
    chosen = catalogue[(catalogue["dp_phot"] > 225) & (catalogue["dnu_phot"] < 5.5)].reset_index(drop=True)
    with Receiver() as receiver:
        names = samp.send_table(chosen, {**META, "n_rows": len(chosen)}, name="tier 2")
        assert receiver.received.wait(10)
    assert names == ["receiver"]
    (table,) = receiver.tables
    assert receiver.params[0]["name"] == "tier 2"
    assert len(table) == len(chosen) > 0
    np.testing.assert_array_equal(np.asarray(table["source_id"]), chosen["source_id"].to_numpy())
    assert (table["dp_phot"] > 225 * u.s).all() and (table["dnu_phot"] < 5.5 * u.uHz).all()
    assert table["dist"].unit == u.kpc and table["dist"].info.meta["ucd"] == "pos.distance"
    assert table.meta["cut"] == META["cut"] and table.meta["n_rows"] == len(chosen)
    # The temporary file is gone once every receiver has answered.
    assert not Path(receiver.params[0]["url"].removeprefix("file://")).exists()


def test_no_hub_is_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyvo_samp.conf, "use_internet", False)
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'none.lock').as_uri()}")
    with pytest.raises(samp.SampError, match="no SAMP hub is running: start TOPCAT or Aladin"):
        samp.send_table(pd.DataFrame({"dist": [1.0]}), META)


def test_a_hub_without_table_clients_is_a_clear_message(hub: Any) -> None:
    with pytest.raises(samp.SampError, match="no client that loads tables"):
        samp.send_table(pd.DataFrame({"dist": [1.0]}), META)
