"""Build step: the calibration behind the catalogue-level contamination and completeness.

After inference, ``workdir/estimates/`` gets the degraded twins of the truth set's test split run
through the same networks (``twins.parquet``) and the catalogue's counts and RC shares per
cell (``cells.npz``); :func:`load_calibration` gives the :class:`redclump.core.estimates.
Calibration` that `select`, `report` and the app estimate from. Method: docs/estimates.md.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from redclump.core import estimates, metrics
from redclump.core.selection import Cut
from redclump.data import calibration_files
from redclump.data.calibration_files import ESTIMATES_DIR
from redclump.data.calibration_files import CalibrationFileError as EstimationError

__all__ = ["ESTIMATES_DIR", "TWINS_PER_STAR", "EstimationError", "build_calibration", "load_calibration"]

log = logging.getLogger("redclump")

#: Twins per truth-set test star: ~40k labelled giants and dwarfs × 8 ≈ the catalogue's
#: faint-end cells each get hundreds of twins of each class.
TWINS_PER_STAR = 8
#: Spectroscopic log g above which an unlabelled truth-set star is a dwarf, so not RC (the
#: paper's giant limit, core.inference.GIANT_LOGG_MAX).
DWARF_LOGG_MIN = 3.5
CELL_COLUMNS = ["phot_g_mean_mag", "a_w1", "b", "dist", "dp_phot"]


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def twin_sources(scored: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The test split's stars that have a class: seismic giants (RC if ``class == "RC"``) and
    unlabelled dwarfs (spectroscopic log g ≥ 3.5, not RC)."""
    test = scored[scored["split"].astype(str) == "test"]
    seismic = test["class"].notna().to_numpy()
    dwarf = ~seismic & (test["logg"].to_numpy(np.float64) >= DWARF_LOGG_MIN)
    chosen = test[seismic | dwarf].reset_index(drop=True)
    is_rc = (chosen["class"].astype(str) == "RC").to_numpy()
    return chosen, is_rc


def _scan_catalogue(catalogue_dir: Path) -> tuple[estimates.ParentHistogram, np.ndarray, pd.DataFrame]:
    """The parent histogram, each reference cut's selected count per mix cell, and a 1-in-10
    sample of (G, a_w1, l, b) for the twins' targets; one pass over the catalogue."""
    hist = estimates.ParentHistogram.empty()
    selected = np.zeros((len(estimates.REFERENCE_DP_MIN), estimates.N_MIX_CELLS))
    targets = []
    rng = np.random.default_rng(0)
    for path in sorted(catalogue_dir.glob("*.parquet")):
        part = pq.read_table(path, columns=[*CELL_COLUMNS, "l"]).to_pandas()
        g, a_w1, b = (part[c].to_numpy(np.float64) for c in ("phot_g_mean_mag", "a_w1", "b"))
        hist.add(g, a_w1, b, part["dist"].to_numpy(np.float64))
        cells = estimates.mix_cell(g, a_w1, part["dist"].to_numpy(np.float64), b)
        dp = part["dp_phot"].to_numpy(np.float64)
        for i, t in enumerate(estimates.REFERENCE_DP_MIN):
            keep = (cells >= 0) & (dp > t)
            selected[i] += np.bincount(cells[keep], minlength=estimates.N_MIX_CELLS)
        pick = rng.random(len(part)) < 0.1
        targets.append(part.loc[pick, ["phot_g_mean_mag", "a_w1", "l", "b"]])
    target_frame = pd.concat(targets, ignore_index=True)
    target_frame = target_frame[np.isfinite(target_frame[["phot_g_mean_mag", "a_w1"]]).all(axis=1)]
    return hist, selected, target_frame.reset_index(drop=True)


def build_calibration(
    workdir: Path, models: Any, *, force: bool = False, seed: int = 0, per_star: int = TWINS_PER_STAR
) -> dict[str, Any]:
    """Write ``workdir/estimates/``: the twins and the cell counts (skipped when the catalogue,
    the scored truth set and the settings are unchanged)."""
    from redclump.core.inference import predict_catalogue
    from redclump.core.twins import draw_twins

    workdir = Path(workdir)
    catalogue_dir = workdir / "catalogue"
    scored_path = workdir / "truthset_scored.parquet"
    settings = {
        "catalogue": _digest(catalogue_dir / "_manifest.json"),
        "scored": [scored_path.stat().st_size, scored_path.stat().st_mtime_ns] if scored_path.exists() else None,
        "seed": seed,
        "per_star": per_star,
        "version": 2,
    }
    manifest = calibration_files.read_manifest(workdir)
    if not force and manifest is not None and manifest.get("settings") == settings:
        log.info("estimates in %s are up to date", workdir / ESTIMATES_DIR)
        return manifest["summary"]
    start = time.perf_counter()
    scored = pd.read_parquet(scored_path)
    hist, reference_selected, targets = _scan_catalogue(catalogue_dir)
    sources, is_rc = twin_sources(scored)
    sources = sources.assign(is_rc=is_rc)
    twins = draw_twins(sources, targets, per_star=per_star, seed=seed)
    predicted = predict_catalogue(models, twins, giants_only=False, source="degraded twins")
    predicted["is_rc"] = twins["is_rc"].to_numpy(bool)
    table = predicted[list(estimates.TWIN_COLUMNS)].copy()
    rng = np.random.default_rng(seed)
    tpr, fpr, t_draws, f_draws = [], [], [], []
    for t in estimates.REFERENCE_DP_MIN:
        rates = estimates.twin_rates(table, Cut(dp_min=t))
        tpr.append(rates.tpr)
        fpr.append(rates.fpr)
        td, fd = rates.draws(rng)
        t_draws.append(td)
        f_draws.append(fd)
    parent_all = hist.parent()
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(parent_all > 0, reference_selected / np.maximum(parent_all, 1), np.nan)
    share, share_draws = estimates.reference_shares(
        q, np.array(tpr), np.array(fpr), np.array(t_draws), np.array(f_draws)
    )
    test, _ = metrics.test_split_truth(scored)
    truth_range = {
        "g": float(np.nanpercentile(test["phot_g_mean_mag"], 99)),
        "a_w1": float(np.nanpercentile(test["a_w1"], 99)),
        "dist": float(np.nanpercentile(test["dist"], 99)),
    }
    summary = {
        "twins": len(table),
        "twins_in_catalogue": int(table["giant"].sum()),
        "truth_stars": len(sources),
        "seconds": time.perf_counter() - start,
    }
    calibration_files.write_calibration(
        workdir,
        table,
        {"parent": hist.counts.astype(np.int32), "share": share, "share_draws": share_draws.astype(np.float32)},
        truth_range,
        {"settings": settings, "summary": summary},
    )
    return summary


def load_calibration(workdir: Path) -> estimates.Calibration | None:
    """The calibration in ``workdir/estimates/``, or None when it has not been built."""
    parts = calibration_files.read_calibration(Path(workdir))
    return None if parts is None else estimates.Calibration.from_parts(parts)
