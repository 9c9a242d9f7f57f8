"""Pipeline steps that touch files: train, infer, select.

This layer joins :mod:`redclump.data` (files, schema) and :mod:`redclump.core` (science on
arrays); the command line calls it. Outputs are written under temporary names and renamed when
complete, and each step records a manifest of its inputs so that unchanged work is skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

import redclump
from redclump.core import distances, metrics
from redclump.core.inference import StagedModels, is_giant, predict_catalogue
from redclump.core.mdn import MDNConfig, MixtureDensityNetwork
from redclump.core.selection import Cut
from redclump.core.training import evaluate, fingerprint, train_mdn
from redclump.data import atomic, export
from redclump.data.schema import FEATURES, SPLITS, SchemaError, validate_columns

__all__ = ["PAPER_PRECISION", "ModelError", "PipelineError", "infer", "load_models", "select", "selection", "train"]

log = logging.getLogger("redclump")

#: Held-out precision reported by Lucey et al. (2020).
PAPER_PRECISION = {"teff": 153.0, "logg": 0.32, "deltap": 80.0, "deltanu": 1.64}
STAGES = ("stage1", "stage2", "stage3")
STAGE_TARGETS = (("teff", "logg"), ("teff", "logg"), ("deltap", "deltanu"))


class PipelineError(RuntimeError):
    """A step cannot run: missing inputs, a bad table, an inconsistent work folder."""


class ModelError(PipelineError):
    """A model file is missing, corrupt or does not fit the data."""


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    return {
        "redclump": str(redclump.__version__),
        "torch": str(torch.__version__),
        "numpy": str(np.__version__),
        "pandas": str(pd.__version__),
        "python": platform.python_version(),
    }


def _read_truthset(workdir: Path) -> pd.DataFrame:
    path = workdir / "truthset.parquet"
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


def save_model(model: MixtureDensityNetwork, path: Path, metadata: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "format": "redclump-mdn-1",
            "config": model.config.to_dict(),
            "state_dict": model.state_dict(),
            "metadata": metadata,
        },
        tmp,
    )
    os.replace(tmp, path)


def load_model(path: Path) -> MixtureDensityNetwork:
    if not path.exists():
        msg = f"model file {path} is missing: run `redclump train`"
        raise ModelError(msg)
    try:
        bundle = torch.load(path, map_location="cpu", weights_only=True)
        if bundle.get("format") != "redclump-mdn-1":
            raise KeyError("format")
        model = MixtureDensityNetwork(MDNConfig.from_dict(bundle["config"]))
        model.load_state_dict(bundle["state_dict"])
    except Exception as exc:  # any failure to read is the same problem for the user
        msg = f"model file {path} is corrupt or not a redclump model ({type(exc).__name__}); rerun `redclump train`"
        raise ModelError(msg) from None
    return model.eval()


def load_models(workdir: Path | str) -> StagedModels:
    model_dir = Path(workdir) / "models"
    stages = [load_model(model_dir / f"{stage}.pt") for stage in STAGES]
    colour_path = model_dir / "intrinsic_colour.json"
    for stage, model, targets in zip(STAGES, stages, STAGE_TARGETS, strict=True):
        if tuple(model.config.targets) != targets:
            msg = (
                f"model file {model_dir / f'{stage}.pt'} predicts {', '.join(model.config.targets)}, but {stage} "
                f"must predict {', '.join(targets)} (a file copied into the wrong place?); rerun `redclump train`"
            )
            raise ModelError(msg)
    colour = None
    if colour_path.exists():
        try:
            colour = distances.IntrinsicColour(**json.loads(colour_path.read_text()))
        except (ValueError, TypeError):
            msg = f"{colour_path} is corrupt (expected the fitted intrinsic colour as JSON); rerun `redclump train`"
            raise ModelError(msg) from None
    return StagedModels(*stages, intrinsic_colour=colour)


def _manifest_settings(path: Path) -> Any:
    """The ``settings`` a step's manifest recorded, or None if it is missing or unreadable (the
    step is then redone rather than trusted)."""
    try:
        return json.loads(path.read_text()).get("settings")
    except (OSError, ValueError, AttributeError):
        return None


def _stage_data(truth: pd.DataFrame, stage: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    if stage == "stage1":
        rows, targets = truth, ("teff", "logg")
    elif stage == "stage2":
        rows = truth[is_giant(truth["teff"].to_numpy(), truth["logg"].to_numpy())]
        targets = ("teff", "logg")
    else:
        rows, targets = truth[truth["deltap"].notna() & truth["deltanu"].notna()], ("deltap", "deltanu")
    finite = np.isfinite(rows[list(FEATURES)].to_numpy(np.float64)).all(axis=1)
    finite &= np.isfinite(rows[list(targets)].to_numpy(np.float64)).all(axis=1)
    return rows[finite], targets


def train(
    workdir: Path,
    *,
    device: str = "cpu",
    seed: int = 0,
    epochs: int = 200,
    force: bool = False,
    progress_factory: Callable[[str, int], Any] | None = None,
) -> dict[str, Any]:
    """Train the three stages on the truth set's train split (early stopping on valid), fit the
    intrinsic-colour relation, and evaluate on the test split. Returns the evaluation."""
    workdir = Path(workdir)
    truth_path = workdir / "truthset.parquet"
    truth = _read_truthset(workdir)
    model_dir = workdir / "models"
    settings = {
        "truthset_sha256": _file_digest(truth_path),
        "seed": seed,
        "epochs": epochs,
        "version": redclump.__version__,
    }
    manifest_path = model_dir / "_manifest.json"
    if not force and _manifest_settings(manifest_path) == settings:
        try:
            evaluation = json.loads((model_dir / "evaluation.json").read_text())
        except (OSError, ValueError):
            log.warning("%s is unreadable: training again", model_dir / "evaluation.json")
        else:
            log.info("models in %s are up to date (use --force to retrain)", model_dir)
            return evaluation
    if device == "cuda" and not torch.cuda.is_available():
        msg = "--device cuda requested but no CUDA device is available"
        raise PipelineError(msg)
    tmp_dir = workdir / f".models.tmp-{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    start = time.perf_counter()
    evaluation: dict[str, Any] = {"paper": PAPER_PRECISION, "stages": {}}
    trained: dict[str, MixtureDensityNetwork] = {}
    components = {"stage1": 2, "stage2": 2, "stage3": 3}
    try:
        for stage in STAGES:
            rows, targets = _stage_data(truth, stage)
            split = rows["split"].astype(str)
            parts = {s: rows[split == s] for s in SPLITS}
            if min(len(p) for p in parts.values()) == 0:
                msg = (
                    f"{truth_path}: {stage} has an empty split ({', '.join(f'{k} {len(v)}' for k, v in parts.items())})"
                )
                raise PipelineError(msg)
            config = MDNConfig(features=FEATURES, targets=targets, n_components=components[stage])
            x = {s: p[list(FEATURES)].to_numpy(np.float32) for s, p in parts.items()}
            y = {s: p[list(targets)].to_numpy(np.float32) for s, p in parts.items()}
            bar = progress_factory(f"train {stage} ({', '.join(targets)})", epochs) if progress_factory else None

            def report(epoch: int, train_loss: float, valid_loss: float, bar: Any = bar) -> None:
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(train=f"{train_loss:.3f}", valid=f"{valid_loss:.3f}")

            result = train_mdn(
                config,
                x["train"],
                y["train"],
                x["valid"],
                y["valid"],
                seed=seed,
                epochs=epochs,
                device=device,
                progress=report,
            )
            if bar is not None:
                bar.close()
            trained[stage] = result.model
            metadata = {
                "stage": stage,
                "features": list(FEATURES),
                "targets": list(targets),
                "train_sha256": fingerprint(x["train"], y["train"]),
                "n_train": len(x["train"]),
                "n_valid": len(x["valid"]),
                "best_epoch": result.best_epoch,
                "versions": _versions(),
                "truthset": str(truth_path),
            }
            save_model(result.model, tmp_dir / f"{stage}.pt", metadata)
            evaluation["stages"][stage] = {
                "n_test": len(x["test"]),
                "best_epoch": result.best_epoch,
                "targets": evaluate(result.model, x["test"], y["test"]),
            }
        models = StagedModels(trained["stage1"], trained["stage2"], trained["stage3"])
        scored = predict_catalogue(models, truth, giants_only=True, source=str(truth_path))
        low_ext = scored[scored["b"].abs() > 30]
        colour = distances.fit_intrinsic_colour(
            low_ext["teff_phot"].to_numpy(), (low_ext["phot_g_mean_mag"] - low_ext["w1mpro"]).to_numpy()
        )
        (tmp_dir / "intrinsic_colour.json").write_text(json.dumps(colour.__dict__, indent=2))
        evaluation["intrinsic_colour"] = {
            **colour.__dict__,
            "criterion": "predicted giants of the truth set at |b| > 30 deg, 3-sigma clipped",
        }
        evaluation["seconds"] = time.perf_counter() - start
        (tmp_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2))
        (tmp_dir / "_manifest.json").write_text(json.dumps({"settings": settings}, indent=2))
        atomic.replace_dir(tmp_dir, model_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return evaluation


def format_evaluation(evaluation: dict[str, Any]) -> str:
    lines = ["held-out test split: bias, scatter (robust), 1σ/2σ coverage; paper's scatter beside"]
    for stage, info in evaluation["stages"].items():
        for target, m in info["targets"].items():
            paper = PAPER_PRECISION.get(target)
            lines.append(
                f"  {stage} {target:8s} n={m['n']:7d} bias {m['bias']:+9.3f} scatter {m['scatter']:8.3f} "
                f"({m['robust_scatter']:.3f}) cover {m['coverage_1sigma']:.2f}/{m['coverage_2sigma']:.2f}"
                + (f"   paper ±{paper:g}" if paper and stage != "stage1" else "")
            )
    return "\n".join(lines)


def _infer_partition(model_dir: str, in_path: str, out_path: str) -> dict[str, int]:
    torch.set_num_threads(1)
    models = load_models(Path(model_dir).parent)
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
    catalogue.to_parquet(out_path, index=False)
    bad = int((~np.isfinite(frame[list(FEATURES)].to_numpy(np.float64)).all(axis=1)).sum())
    return {
        "rows": len(frame),
        "giants": len(catalogue),
        "bad_input": bad,
        "tier1": int(catalogue["tier1"].sum()),
        "tier2": int(catalogue["tier2"].sum()),
    }


def infer(
    workdir: Path, *, client: Any = None, force: bool = False, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Run every stage and the distances over ``workdir/input/`` into ``workdir/catalogue/``,
    and score the truth set into ``workdir/truthset_scored.parquet``."""
    workdir = Path(workdir)
    inputs = sorted((workdir / "input").glob("*.parquet"))
    if not inputs:
        msg = f"no input partitions in {workdir / 'input'}: run `redclump mock` first"
        raise PipelineError(msg)
    model_dir = workdir / "models"
    models = load_models(workdir)  # fail early on missing or corrupt models
    settings = {
        "models": _file_digest(model_dir / "_manifest.json") if (model_dir / "_manifest.json").exists() else None,
        "input": [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in inputs],
    }
    manifest_path = workdir / "catalogue" / "_manifest.json"
    if not force and _manifest_settings(manifest_path) == settings:
        log.info("catalogue in %s is up to date (use --force to rebuild)", workdir / "catalogue")
        return json.loads(manifest_path.read_text())["summary"]
    start = time.perf_counter()
    tmp_dir = workdir / f".catalogue.tmp-{os.getpid()}"
    scored_tmp = workdir / f".truthset_scored.tmp-{os.getpid()}.parquet"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir()
    jobs = [(str(model_dir), str(p), str(tmp_dir / p.name)) for p in inputs]
    results: list[dict[str, int]] = []
    try:
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
        truth = _read_truthset(workdir)
        scored = predict_catalogue(models, truth, giants_only=False, source=str(workdir / "truthset.parquet"))
        scored.to_parquet(scored_tmp, index=False)
        summary = {key: sum(r[key] for r in results) for key in results[0]}
        summary["seconds"] = time.perf_counter() - start
        summary["stars_per_second"] = summary["rows"] / summary["seconds"]
        (tmp_dir / "_manifest.json").write_text(json.dumps({"settings": settings, "summary": summary}, indent=2))
        os.replace(scored_tmp, workdir / "truthset_scored.parquet")
        atomic.replace_dir(tmp_dir, workdir / "catalogue")
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        scored_tmp.unlink(missing_ok=True)
        raise
    return summary


#: Kept here for callers of the pipeline API; the definition lives in core.metrics.
test_split_truth = metrics.test_split_truth


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
    """The catalogue rows that pass ``cut`` and their provenance (cut text, metrics on the truth
    set's test split, software, catalogue identity), as :func:`select` writes them."""
    catalogue_dir = Path(workdir) / "catalogue"
    if not (catalogue_dir / "_manifest.json").exists():
        msg = f"no catalogue in {catalogue_dir}: run `redclump infer` first"
        raise PipelineError(msg)
    catalogue = pd.read_parquet(catalogue_dir)
    chosen = catalogue[cut.mask(catalogue)]
    if len(chosen) == 0:
        msg = f"no catalogue star passes {cut.text()} (of {len(catalogue):,}); nothing to write"
        raise PipelineError(msg)
    scored = pd.read_parquet(Path(workdir) / "truthset_scored.parquet")
    test, is_rc = test_split_truth(scored)
    test_selected = cut.mask(test)
    stats = metrics.selection_metrics(test_selected, is_rc)
    test_strata, n_strata = metrics.contamination_strata(test)
    reweighted = metrics.reweighted_contamination(
        test_selected,
        is_rc,
        test_strata,
        np.bincount(metrics.contamination_strata(chosen)[0], minlength=n_strata),
        n_strata,
        n_boot=200,
        seed=0,
    )
    meta = {
        "cut": cut.text(),
        "n_rows": len(chosen),
        "software": f"redclump {redclump.__version__}",
        "catalogue": str(catalogue_dir.resolve()),
        "catalogue_manifest_sha256": _file_digest(catalogue_dir / "_manifest.json"),
        "contamination": stats["contamination"],
        "contamination_lo": stats["contamination_lo"],
        "contamination_hi": stats["contamination_hi"],
        "completeness": stats["completeness"],
        "completeness_lo": stats["completeness_lo"],
        "completeness_hi": stats["completeness_hi"],
        "contamination_reweighted": reweighted["contamination"],
        "contamination_reweighted_lo": reweighted["lo"],
        "contamination_reweighted_hi": reweighted["hi"],
        "metrics_on": f"truth-set test split, {stats['n_total']} stars with seismic class, Wilson 68% intervals",
    }
    return chosen, meta
