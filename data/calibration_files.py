"""The files behind the catalogue estimates, ``workdir/estimates/`` (written by
:mod:`redclump.estimation`, read by `select`, `report` and the app): ``twins.parquet`` (the
degraded twins' predictions and classes) and ``cells.npz`` (the parent histogram, each mix cell's
class mix and its bootstrap replicates, the truth set's range and the class names), with a ``_manifest.json``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .storage import write_parquet
from .workdir import CELLS, MANIFEST, TWINS, WorkFolder, staged_dir, write_manifest
from .workdir import read_manifest as read_folder_manifest

__all__ = ["CalibrationFileError", "read_calibration", "read_manifest", "write_calibration"]


class CalibrationFileError(RuntimeError):
    """The estimate files are missing a part or cannot be read."""


def read_manifest(workdir: Path, networks: str = "redclump") -> dict[str, Any] | None:
    """The manifest of ``workdir/estimates/``, or None when there is none."""
    return read_folder_manifest(WorkFolder(workdir).networks(networks).estimates)


def write_calibration(
    workdir: Path,
    twins: pd.DataFrame,
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
    manifest: dict[str, Any],
    networks: str = "redclump",
) -> None:
    """Write the folder under a temporary name and move it into place whole."""
    with staged_dir(WorkFolder(workdir).networks(networks).estimates) as tmp:
        write_parquet(twins, tmp / TWINS)
        np.savez_compressed(tmp / CELLS, meta=json.dumps(meta), **arrays)
        write_manifest(tmp, manifest)


def read_calibration(workdir: Path, networks: str = "redclump") -> dict[str, Any] | None:
    """``twins``, ``parent``, ``shares``, ``share_draws``, ``truth_range`` and
    ``class_names`` from ``workdir/estimates/`` (or a network set's ``estimates_<set>/``); None
    when it has not been built."""
    folder = WorkFolder(workdir).networks(networks).estimates
    if not (folder / MANIFEST).exists():
        return None
    try:
        twins = pd.read_parquet(folder / TWINS)
        with (folder / CELLS).open("rb") as handle, np.load(handle) as cells:
            return {
                "twins": twins,
                "parent": cells["parent"],
                "shares": cells["shares"].astype(np.float64),
                "share_draws": cells["share_draws"].astype(np.float64),
                **json.loads(str(cells["meta"])),
            }
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        msg = f"cannot read the estimate files in {folder}: {exc}; run `redclump infer --force`"
        raise CalibrationFileError(msg) from None
