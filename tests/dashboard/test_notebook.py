"""The notebook API: explore() on a catalogue, the selection as a QTable, and docs/notebook.ipynb
executed headless by nbclient."""

from __future__ import annotations

import math
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from redclump.core.selection import TIER1, Cut
from redclump.dashboard import explore
from redclump.data.synthetic import synthetic_frames

ROOT = Path(__file__).resolve().parents[2]
# HoloViews' range of the contamination map when a bin row is empty.
pytestmark = pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")


def test_selection_is_a_qtable_with_units_cut_and_metrics() -> None:
    catalogue, truthset = synthetic_frames(10_000, 3_000, seed=5)
    app = explore(catalogue, truthset=truthset)
    app.state.apply_preset("tier1")
    assert isinstance(app.cut, Cut) and app.cut == TIER1
    table = app.selection()
    expected = TIER1.mask(catalogue)
    assert len(table) == int(expected.sum()) == table.meta["n_rows"]
    np.testing.assert_array_equal(np.sort(np.asarray(table["source_id"])), np.sort(catalogue["source_id"][expected]))
    assert table["dist"].unit == u.kpc and table["dp_phot"].unit == u.s
    assert (table["dp_phot"] > 265 * u.s).all()
    assert table.meta["cut"] == TIER1.text()
    assert 0 <= table.meta["contamination"] <= 1 and 0 <= table.meta["completeness"] <= 1
    assert math.isfinite(table.meta["contamination_reweighted"])
    mime = app._repr_mimebundle_()
    assert mime  # renders as a Panel layout in a notebook


def test_the_docs_notebook_runs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(ROOT / "docs" / "notebook.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        startup_timeout=300,  # a loaded 2-core machine starts the kernel slowly
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "\n".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "dp_phot > 265 & dnu_phot < 5.25 & teff_phot > 4700" in text
    assert "tier1.vot" in text
    # The explorer cell displayed the Panel layout (not just a repr string).
    displayed = notebook.cells[1].outputs
    assert any("application/vnd.holoviews_exec.v0+json" in out.get("data", {}) for out in displayed), displayed
