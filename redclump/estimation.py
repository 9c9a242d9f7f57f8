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

from redclump.core import cells, estimates, metrics
from redclump.data import calibration_files
from redclump.data.calibration_files import CalibrationFileError as EstimationError
from redclump.data.workdir import MANIFEST, WorkFolder, file_sha256, partitions

__all__ = ["TWINS_PER_STAR", "EstimationError", "build_calibration", "load_calibration"]

log = logging.getLogger("redclump")

#: Twins per truth-set test star: ~40k labelled giants and dwarfs × 8 ≈ the catalogue's
#: faint-end cells each get hundreds of twins of each class.
TWINS_PER_STAR = 8
#: Spectroscopic log g above which an unlabelled truth-set star is a dwarf, so not RC (the
#: paper's giant limit, core.inference.GIANT_LOGG_MAX).
DWARF_LOGG_MIN = 3.5
CELL_COLUMNS = ["phot_g_mean_mag", "a_w1", "b", "dist", "l", "dp_phot", "dnu_phot", "teff_phot"]
#: Bootstrap replicates of the class mix behind the intervals (each one EM run).
BOOTSTRAP = 8


def twin_sources(scored: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The test split's stars that have a class, with ``twin_label``: the seismic giants' class
    (``RC``, ``RGB``, ``2CL``, …) and ``dwarf`` for unlabelled stars with spectroscopic log g ≥
    3.5 (not RC); and the class names, RC first."""
    test = scored[scored["split"].astype(str) == "test"]
    seismic = test["class"].notna().to_numpy()
    dwarf = ~seismic & (test["logg"].to_numpy(np.float64) >= DWARF_LOGG_MIN)
    chosen = test[seismic | dwarf].reset_index(drop=True)
    labels = np.where(chosen["class"].notna(), chosen["class"].astype(object), "dwarf").astype(str)
    names = ["RC", *sorted(str(label) for label in set(labels) - {"RC"})]
    index = {name: i for i, name in enumerate(names)}
    chosen = chosen.assign(twin_class=np.array([index[label] for label in labels], dtype=np.int64))
    return chosen, names


def _scan_catalogue(catalogue_dir: Path) -> tuple[cells.ParentHistogram, np.ndarray, pd.DataFrame]:
    """The parent histogram, the catalogue's counts per mix cell and feature bin, and a 1-in-10
    sample of (G, a_w1, l, b) for the twins' targets; one pass over the catalogue."""
    hist = cells.ParentHistogram.empty()
    features = np.zeros(cells.N_MIX_CELLS * cells.N_FEATURE_BINS)
    targets = []
    rng = np.random.default_rng(0)
    for path in partitions(catalogue_dir):
        part = pq.read_table(path, columns=CELL_COLUMNS).to_pandas()
        hist.add(*(part[c].to_numpy(np.float64) for c in ("phot_g_mean_mag", "a_w1", "b", "dist")))
        mix = cells.frame_cells(part)
        feature = cells.feature_bin(part)
        ok = (mix >= 0) & (feature >= 0)
        features += np.bincount(mix[ok] * cells.N_FEATURE_BINS + feature[ok], minlength=features.size)
        pick = rng.random(len(part)) < 0.1
        targets.append(part.loc[pick, ["phot_g_mean_mag", "a_w1", "l", "b"]])
    target_frame = pd.concat(targets, ignore_index=True)
    target_frame = target_frame[np.isfinite(target_frame[["phot_g_mean_mag", "a_w1"]]).all(axis=1)]
    return hist, features.reshape(cells.N_MIX_CELLS, cells.N_FEATURE_BINS), target_frame.reset_index(drop=True)


def _shares(
    table: pd.DataFrame, truth_rows: np.ndarray, counts: np.ndarray, n_classes: int, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The class mix per mix cell, and :data:`BOOTSTRAP` replicates of it from the twins
    re-weighted by Poisson(1) counts per truth-set star (the twins of one star move together)."""
    in_catalogue = table["giant"].to_numpy(bool)
    twin_cells = cells.rate_cell(*(table[c].to_numpy(np.float64) for c in ("phot_g_mean_mag", "a_w1", "dist")))
    twin_cells = np.where(in_catalogue, twin_cells, -1)
    classes = table["twin_class"].to_numpy(np.int64)
    features = cells.feature_bin(table)
    likelihoods = estimates.class_likelihoods(classes, twin_cells, features, n_classes)
    shares = estimates.class_shares(counts, likelihoods)
    rng = np.random.default_rng(seed)
    replicates = []
    for _ in range(BOOTSTRAP):
        weights = rng.poisson(1.0, truth_rows.max() + 1)[truth_rows]
        like = estimates.class_likelihoods(classes, twin_cells, features, n_classes, weights=weights)
        replicates.append(estimates.class_shares(counts, like, start=shares, max_iterations=300))
    return shares, np.array(replicates)


def build_calibration(
    workdir: Path,
    models: Any,
    *,
    networks: str = "redclump",
    force: bool = False,
    seed: int = 0,
    per_star: int = TWINS_PER_STAR,
) -> dict[str, Any]:
    """Write ``workdir/estimates/`` (``estimates_<set>/`` for another network set): the twins
    run through ``models`` and the cell counts of that set's catalogue (skipped when the
    catalogue, the scored truth set and the settings are unchanged)."""
    from redclump.core.inference import predict_catalogue
    from redclump.core.twins import draw_twins

    paths = WorkFolder(workdir).networks(networks)
    catalogue_dir, scored_path = paths.catalogue, paths.scored
    settings = {
        "catalogue": file_sha256(catalogue_dir / MANIFEST),
        "scored": [scored_path.stat().st_size, scored_path.stat().st_mtime_ns] if scored_path.exists() else None,
        "seed": seed,
        "per_star": per_star,
        "version": 3,
    }
    manifest = calibration_files.read_manifest(workdir, networks)
    if not force and manifest is not None and manifest.get("settings") == settings:
        log.info("estimates in %s are up to date", paths.estimates)
        return manifest["summary"]
    start = time.perf_counter()
    scored = pd.read_parquet(scored_path)
    hist, counts, targets = _scan_catalogue(catalogue_dir)
    sources, class_names = twin_sources(scored)
    twins = draw_twins(sources, targets, per_star=per_star, seed=seed)
    predicted = predict_catalogue(models, twins, giants_only=False, source="degraded twins")
    predicted["twin_class"] = twins["twin_class"].to_numpy(np.int64)
    table = predicted[list(estimates.TWIN_COLUMNS)].copy()
    shares, share_draws = _shares(table, twins["truth_row"].to_numpy(), counts, len(class_names), seed=seed)
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
        "classes": class_names,
        "seconds": time.perf_counter() - start,
    }
    calibration_files.write_calibration(
        workdir,
        table,
        {
            "parent": hist.counts.astype(np.int32),
            "shares": shares,
            "share_draws": share_draws.astype(np.float32),
        },
        {"truth_range": truth_range, "class_names": class_names},
        {"settings": settings, "summary": summary},
        networks,
    )
    return summary


def load_calibration(workdir: Path, networks: str = "redclump") -> estimates.Calibration | None:
    """The calibration in ``workdir/estimates/`` (``estimates_<set>/``), or None when it has
    not been built."""
    from redclump.publish.catalogue_report import load_calibration as load

    return load(workdir, networks)
