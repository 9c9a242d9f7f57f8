"""SAMP: a real hub in this process and a receiving client, as TOPCAT would be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from redclump.data import samp
from redclump.data.synthetic import synthetic_frames

pyvo_samp = pytest.importorskip("pyvo.samp")

META = {"cut": "dp_phot > 225 & dnu_phot < 5.5", "region": "none", "n_rows": 0, "contamination": 0.125}


def test_a_receiving_client_gets_the_rows_units_and_cut(samp_receiver: Any) -> None:
    receiver = samp_receiver
    catalogue, _ = synthetic_frames(500, 10, seed=4)
    chosen = catalogue[(catalogue["dp_phot"] > 225) & (catalogue["dnu_phot"] < 5.5)].reset_index(drop=True)
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


def test_a_hub_without_table_clients_is_a_clear_message(samp_hub: Any) -> None:
    with pytest.raises(samp.SampError, match="no client that loads tables"):
        samp.send_table(pd.DataFrame({"dist": [1.0]}), META)
