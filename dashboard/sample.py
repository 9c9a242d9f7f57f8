"""The explorer's current selection as a sample: its rows, its provenance, a file, a QTable.

Used by the app's download, its SAMP button and the notebook API, so that each carries the same
columns and metadata as ``redclump select`` writes (through :mod:`redclump.data.export`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

import redclump

from .data import STRATUM_COLUMN
from .state import ExplorerState

__all__ = ["EXPORT_SUFFIXES", "export_bytes", "selected_rows", "selection_meta", "selection_table"]

#: The file formats the app offers, in the order shown.
EXPORT_SUFFIXES: tuple[str, ...] = (".parquet", ".fits", ".vot", ".ecsv", ".csv")
#: Metric keys of :meth:`ExplorerState.numbers` carried into the metadata.
_METRICS = (
    "contamination",
    "contamination_lo",
    "contamination_hi",
    "completeness",
    "completeness_lo",
    "completeness_hi",
)


def selected_rows(state: ExplorerState) -> pd.DataFrame:
    """The selected candidates (cut and drawn region), with the app's columns; the projected sky
    coordinates stay (a drawn sky region is defined in them), the internal stratum column goes."""
    catalogue = state.data.catalogue
    chosen = catalogue[state.mask()]
    return chosen.drop(columns=[STRATUM_COLUMN], errors="ignore").reset_index(drop=True)


def selection_meta(state: ExplorerState) -> dict[str, Any]:
    """The selection's provenance: cut text, drawn region (text and JSON), row count, metrics on
    the truth set's test split (plain and reweighted), software and catalogue."""
    numbers = state.numbers()
    reweighted = numbers["reweighted"]
    return {
        "cut": state.cut().text(),
        "region": state.region_text(),
        "region_json": "" if state.region is None else state.region.to_json(),
        "n_rows": int(numbers["n_catalogue"]),
        "software": f"redclump {redclump.__version__}",
        "catalogue": state.data.source,
        **{key: float(numbers[key]) for key in _METRICS},
        "contamination_reweighted": float(reweighted["contamination"]),
        "contamination_reweighted_lo": float(reweighted["lo"]),
        "contamination_reweighted_hi": float(reweighted["hi"]),
        "metrics_on": "truth-set test split, Wilson 68% intervals; reweighted: bootstrap",
    }


def selection_table(state: ExplorerState) -> Any:
    """The selection as an astropy ``QTable``: Quantities with the schema's units, descriptions
    and UCDs, and :func:`selection_meta` as ``meta``."""
    from redclump.data import export  # astropy's table and I/O: loaded on the first export

    return export.to_qtable(selected_rows(state), selection_meta(state))


def export_bytes(state: ExplorerState, suffix: str) -> bytes:
    """The selection written as a file of the format ``suffix`` names (:data:`EXPORT_SUFFIXES`)."""
    from redclump.data import export

    with tempfile.TemporaryDirectory(prefix="redclump-export-") as tmp:
        path = Path(tmp) / f"sample{suffix}"
        export.write_table(selected_rows(state), path, selection_meta(state))
        return path.read_bytes()
