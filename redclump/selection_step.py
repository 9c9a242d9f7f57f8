"""The select step: the catalogue rows that pass a cut, with their provenance, written to a file.

The provenance (cut, test-split numbers with the bootstrap, the catalogue's manifest digest, the
catalogue estimate) is :func:`redclump.core.provenance.selection_provenance`'s, the same the
app's export and the notebook carry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from redclump.core import metrics, provenance
from redclump.core.selection import Cut
from redclump.data import export
from redclump.data.workdir import WorkFolder, catalogue_identity

from .step_errors import PipelineError

__all__ = ["select", "selection"]


def select(workdir: Path, cut: Cut, out: Path, *, overwrite: bool = False) -> dict[str, Any]:
    """Write the catalogue rows that pass ``cut`` to ``out`` (any format of
    :data:`redclump.data.export.FORMATS`: .parquet, .fits, .vot/.xml, .ecsv, .csv) with the
    schema's units, descriptions and UCDs, and the cut text, its metrics on the truth set's test
    split, the software version and the catalogue's identity in the file's metadata."""
    out = Path(out)
    try:
        export.format_of(out)
    except export.ExportError as exc:
        raise PipelineError(str(exc)) from None
    if out.exists() and not overwrite:
        msg = f"{out} exists; pass --overwrite to replace it"
        raise PipelineError(msg)
    chosen, meta = selection(workdir, cut)
    export.write_table(chosen, out, meta, overwrite=overwrite)
    return meta


def selection(workdir: Path, cut: Cut) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The catalogue rows that pass ``cut`` and their provenance
    (:func:`redclump.core.provenance.selection_provenance`), as :func:`select` writes them."""
    folder = WorkFolder(workdir)
    catalogue_dir = folder.catalogue
    if not folder.has_catalogue():
        msg = f"no catalogue in {catalogue_dir}: run `redclump infer` first"
        raise PipelineError(msg)
    catalogue = pd.read_parquet(catalogue_dir)
    chosen = catalogue[cut.mask(catalogue)]
    if len(chosen) == 0:
        msg = f"no catalogue star passes {cut.text()} (of {len(catalogue):,}); nothing to write"
        raise PipelineError(msg)
    scored = pd.read_parquet(folder.scored)
    test, is_rc = metrics.test_split_truth(scored)
    identity = catalogue_identity(catalogue_dir)
    meta = provenance.selection_provenance(
        cut,
        chosen,
        test,
        is_rc,
        catalogue=identity.path,
        manifest_sha256=identity.manifest_sha256,
        catalogue_estimate=_catalogue_estimate(Path(workdir), cut, chosen),
    )
    return chosen, meta


def _catalogue_estimate(workdir: Path, cut: Cut, chosen: pd.DataFrame) -> dict[str, Any] | None:
    """The selection's contamination and completeness over the selected catalogue stars and the
    share beyond the truth set's range (docs/estimates.md), or None when the calibration has not
    been built."""
    from redclump import estimation
    from redclump.core import cells

    try:
        calibration = estimation.load_calibration(workdir)
    except estimation.EstimationError as exc:
        raise PipelineError(str(exc)) from None
    if calibration is None or not {"a_w1", "dist"} <= set(chosen.columns):
        return None
    result = calibration.estimate(cut, cells.frame_cells(chosen))
    beyond = calibration.outside_truth(chosen["phot_g_mean_mag"], chosen["a_w1"], chosen["dist"])
    result["outside_truth"] = float(np.mean(beyond))
    return result
