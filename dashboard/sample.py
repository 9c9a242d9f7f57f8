"""The explorer's current selection as a sample: its rows, its provenance, a file, a QTable.

Used by the app's download, its SAMP button and the notebook API, so that each carries the same
columns and metadata as ``redclump select`` writes (through :mod:`redclump.data.export`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from redclump.core import provenance

from .app_data import STRATUM_COLUMN
from .state import ExplorerState

__all__ = ["EXPORT_SUFFIXES", "export_bytes", "selected_rows", "selection_meta", "selection_table"]

#: The file formats the app offers, in the order shown.
EXPORT_SUFFIXES: tuple[str, ...] = (".parquet", ".fits", ".vot", ".ecsv", ".csv")


def selected_rows(state: ExplorerState) -> pd.DataFrame:
    """The selected candidates (cut and drawn region), with the app's columns; the projected sky
    coordinates stay (a drawn sky region is defined in them), the internal stratum column goes."""
    catalogue = state.data.catalogue
    chosen = catalogue[state.mask()]
    return chosen.drop(columns=[STRATUM_COLUMN], errors="ignore").reset_index(drop=True)


def selection_meta(state: ExplorerState) -> dict[str, Any]:
    """The selection's provenance, as ``redclump select`` writes it
    (:func:`redclump.core.provenance.selection_provenance`): cut text, drawn region (text and
    JSON), row count, metrics on the truth set's test split (plain and reweighted, with the same
    bootstrap as ``select``, not the app's quicker live one), software, the catalogue and its
    manifest's digest, and the catalogue-level estimate when one is built."""
    data = state.data
    chosen = data.catalogue[state.mask()]
    estimate = state.numbers()["catalogue"]
    return provenance.selection_provenance(
        state.cut(),
        chosen,
        data.test,
        data.test_is_rc,
        catalogue=data.source,
        manifest_sha256=data.manifest_sha256,
        test_selected=state.test_mask(),
        region=state.region_text(),
        region_json="" if state.region is None else state.region.to_json(),
        catalogue_estimate=estimate if estimate.get("available") else None,
    )


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
