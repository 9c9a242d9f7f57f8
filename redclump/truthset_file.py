"""The work folder's spectroscopic truth set, read and checked before a step trains or scores on it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from redclump.data.schema import FEATURES, SPLITS, SchemaError, validate_columns
from redclump.data.workdir import WorkFolder

from .step_errors import PipelineError

__all__ = ["read_truthset"]


def read_truthset(workdir: Path) -> pd.DataFrame:
    """The truth set of ``workdir`` with its features, labels and all three splits.

    Raises
    ------
    PipelineError
        The file is missing, lacks a column, or a split has no rows.
    """
    path = WorkFolder(workdir).truthset
    if not path.exists():
        msg = f"no truth set at {path}: run `redclump mock` (or ingest one) first"
        raise PipelineError(msg)
    truth = pd.read_parquet(path)
    try:
        validate_columns(truth, [*FEATURES, "teff", "logg", "deltap", "deltanu", "class", "split"], source=str(path))
    except SchemaError as exc:
        raise PipelineError(str(exc)) from None
    present = set(truth["split"].astype(str).unique())
    missing = [s for s in SPLITS if s not in present]
    if missing:
        msg = f"{path}: column 'split' has no {', '.join(repr(m) for m in missing)} rows"
        raise PipelineError(msg)
    return truth
