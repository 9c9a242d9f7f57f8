"""The app's sample: the selected rows and their provenance, in every download format."""

from __future__ import annotations

import json
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from redclump.dashboard.app_data import frames_to_app_data
from redclump.dashboard.region import Region
from redclump.dashboard.sample import EXPORT_SUFFIXES, export_bytes, selected_rows, selection_meta
from redclump.dashboard.state import ExplorerState
from redclump.data.export import read_table
from redclump.data.synthetic import synthetic_frames


@pytest.fixture(scope="module")
def state() -> ExplorerState:
    catalogue, scored = synthetic_frames(8_000, 2_000, seed=9)
    state = ExplorerState(frames_to_app_data(catalogue, scored, source="synthetic"))
    state.apply_preset("tier2")
    state.region = Region.box("l", "b", 0.0, 180.0, -90.0, 90.0)
    return state


def test_rows_are_the_cut_and_the_region(state: ExplorerState) -> None:
    rows = selected_rows(state)
    catalogue = state.data.catalogue
    expected = state.cut().mask(catalogue) & (catalogue["l"] >= 0) & (catalogue["l"] <= 180)
    assert len(rows) == int(expected.sum()) > 0
    assert "_stratum" not in rows.columns
    meta = selection_meta(state)
    assert meta["n_rows"] == len(rows) and meta["cut"] == state.cut().text()
    assert json.loads(meta["region_json"])["kind"] == "box" and meta["region"] != "none"


@pytest.mark.parametrize("suffix", EXPORT_SUFFIXES)
def test_every_download_format_reads_back_with_units_and_the_region(
    state: ExplorerState, suffix: str, tmp_path: Path
) -> None:
    path = tmp_path / f"download{suffix}"
    path.write_bytes(export_bytes(state, suffix))
    table = read_table(path)
    rows = selected_rows(state)
    assert len(table) == len(rows)
    np.testing.assert_array_equal(np.asarray(table["source_id"]), rows["source_id"].to_numpy())
    assert table["dist"].unit == u.kpc and table["dp_phot"].unit == u.s
    assert table.meta["cut"] == state.cut().text()
    assert json.loads(table.meta["region_json"]) == json.loads(state.region.to_json())
    assert np.isclose(float(table.meta["contamination"]), state.numbers()["contamination"], equal_nan=True)
