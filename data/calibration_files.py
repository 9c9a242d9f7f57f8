"""The files behind the catalogue estimates, ``workdir/estimates/`` (written by
:mod:`redclump.estimation`, read by `select`, `report` and the app): ``twins.parquet`` (the
degraded twins' predictions and classes) and ``cells.npz`` (the parent histogram, each mix cell's
class mix and its bootstrap replicates, the truth set's range and the class names), with a ``_manifest.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import atomic
from .storage import write_parquet

__all__ = [
    "ESTIMATES_DIR",
    "CalibrationFileError",
    "estimates_dir",
    "read_calibration",
    "read_manifest",
    "write_calibration",
]

ESTIMATES_DIR = "estimates"


def estimates_dir(workdir: Path | str, networks: str = "redclump") -> Path:
    """``workdir/estimates/`` for our networks, ``estimates_<set>/`` for another network set
    (the same suffix as its ``models_<set>/`` and ``catalogue_<set>/``)."""
    return Path(workdir) / (ESTIMATES_DIR if networks == "redclump" else f"{ESTIMATES_DIR}_{networks}")


class CalibrationFileError(RuntimeError):
    """The estimate files are missing a part or cannot be read."""


def read_manifest(workdir: Path, networks: str = "redclump") -> dict[str, Any] | None:
    """The manifest of ``workdir/estimates/``, or None when there is none."""
    path = estimates_dir(workdir, networks) / "_manifest.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_calibration(
    workdir: Path,
    twins: pd.DataFrame,
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
    manifest: dict[str, Any],
    networks: str = "redclump",
) -> None:
    """Write the folder under a temporary name and move it into place whole."""
    folder = estimates_dir(workdir, networks)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write_parquet(twins, tmp / "twins.parquet")
        np.savez_compressed(tmp / "cells.npz", meta=json.dumps(meta), **arrays)
        (tmp / "_manifest.json").write_text(json.dumps(manifest, indent=2))
        atomic.replace_dir(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_calibration(workdir: Path, networks: str = "redclump") -> dict[str, Any] | None:
    """``twins``, ``parent``, ``shares``, ``share_draws``, ``truth_range`` and
    ``class_names`` from ``workdir/estimates/`` (or a network set's ``estimates_<set>/``); None
    when it has not been built."""
    folder = estimates_dir(workdir, networks)
    if not (folder / "_manifest.json").exists():
        return None
    try:
        twins = pd.read_parquet(folder / "twins.parquet")
        with (folder / "cells.npz").open("rb") as handle, np.load(handle) as cells:
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
