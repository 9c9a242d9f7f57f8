"""The infer step: every input star through a network set's stages and the distances.

Writes the catalogue (``catalogue/`` or ``catalogue_paper/``) partition by partition, in this
process or on a dask cluster, and the scored truth set beside it; for our networks it then
builds the catalogue estimate's files (:mod:`redclump.estimation`). Skipped when the models'
manifest and the input partitions are unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from redclump.core.inference import predict_catalogue
from redclump.data import workdir as work_folder
from redclump.data.schema import FEATURES, SchemaError
from redclump.data.storage import write_parquet
from redclump.data.workdir import MANIFEST, WorkFolder, file_sha256

from .model_files import load_model_dir, network_paths
from .step_errors import PipelineError
from .truthset_file import read_truthset

__all__ = ["infer"]

log = logging.getLogger("redclump")


def _infer_partition(model_dir: str, in_path: str, out_path: str) -> dict[str, int]:
    torch.set_num_threads(1)
    models = load_model_dir(Path(model_dir))
    frame = pd.read_parquet(in_path)
    wrong = [c for c in FEATURES if c in frame and not pd.api.types.is_numeric_dtype(frame[c])]
    if wrong:
        msg = (
            f"{in_path}: column '{wrong[0]}' is {frame[wrong[0]].dtype}, expected numbers "
            f"(a partition written with another schema?)"
        )
        raise PipelineError(msg)
    try:
        catalogue = predict_catalogue(models, frame, source=in_path)
    except SchemaError as exc:
        raise PipelineError(str(exc)) from None
    write_parquet(catalogue, out_path)
    bad = int((~np.isfinite(frame[list(FEATURES)].to_numpy(np.float64)).all(axis=1)).sum())
    return {
        "rows": len(frame),
        "giants": len(catalogue),
        "bad_input": bad,
        "tier1": int(catalogue["tier1"].sum()),
        "tier2": int(catalogue["tier2"].sum()),
    }


def infer(
    workdir: Path,
    *,
    networks: str = "redclump",
    client: Any = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run every stage and the distances over ``workdir/input/`` into ``workdir/catalogue/``,
    and score the truth set into ``workdir/truthset_scored.parquet``; with
    ``networks="paper"``, the authors' networks from ``models_paper/`` into
    ``catalogue_paper/`` and ``truthset_scored_paper.parquet`` (:func:`redclump.model_files.network_paths`).

    It then builds ``workdir/estimates/`` (``estimates_<set>/`` for another set), the degraded
    twins behind the catalogue-level contamination and completeness (:mod:`redclump.estimation`);
    its summary is the result's ``"estimates"``."""
    from redclump import estimation

    summary = _infer_catalogue(workdir, networks=networks, client=client, force=force, progress=progress)
    models = load_model_dir(WorkFolder(workdir).networks(networks).models)
    estimated = estimation.build_calibration(Path(workdir), models, networks=networks, force=force)
    return {**summary, "estimates": estimated}


def _infer_catalogue(
    workdir: Path,
    *,
    networks: str,
    client: Any,
    force: bool,
    progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    workdir = Path(workdir)
    paths = network_paths(workdir, networks)
    folder = WorkFolder(workdir)
    inputs = work_folder.partitions(folder.input)
    if not inputs:
        msg = f"no input partitions in {folder.input}: run `redclump mock` first"
        raise PipelineError(msg)
    model_dir = paths.models
    models = load_model_dir(model_dir)  # fail early on missing or corrupt models
    settings = {
        "models": file_sha256(model_dir / MANIFEST) if (model_dir / MANIFEST).exists() else None,
        "input": [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in inputs],
    }
    manifest = work_folder.read_manifest(paths.catalogue)
    if not force and manifest is not None and manifest.get("settings") == settings:
        log.info("catalogue in %s is up to date (use --force to rebuild)", paths.catalogue)
        return manifest["summary"]
    start = time.perf_counter()
    results: list[dict[str, int]] = []
    with work_folder.staged_dir(paths.catalogue) as tmp_dir, work_folder.staged_file(paths.scored) as scored_tmp:
        jobs = [(str(model_dir), str(p), str(tmp_dir / p.name)) for p in inputs]
        if client is None:
            for job in jobs:
                results.append(_infer_partition(*job))
                if progress:
                    progress(1)
        else:
            from distributed import as_completed

            futures = [client.submit(_infer_partition, *job, pure=False) for job in jobs]
            for future in as_completed(futures):
                results.append(future.result())
                if progress:
                    progress(1)
        truth = read_truthset(workdir)
        scored = predict_catalogue(models, truth, giants_only=False, source=str(folder.truthset))
        write_parquet(scored, scored_tmp)
        summary = {key: sum(r[key] for r in results) for key in results[0]}
        summary["seconds"] = time.perf_counter() - start
        summary["stars_per_second"] = summary["rows"] / summary["seconds"]
        work_folder.write_manifest(tmp_dir, {"settings": settings, "summary": summary})
    return summary
