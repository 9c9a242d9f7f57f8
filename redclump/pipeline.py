"""Pipeline steps that touch files: train, infer, select.

This layer joins :mod:`redclump.data` (files, schema) and :mod:`redclump.core` (science on
arrays); the command line calls it. Outputs are written under temporary names and renamed when
complete, and each step records a manifest of its inputs so that unchanged work is skipped.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

import redclump
from redclump.core import distances, metrics, provenance
from redclump.core import networks as network_sets
from redclump.core.inference import StagedModels, StageModel, is_giant, predict_catalogue
from redclump.core.mdn import MDNConfig, MixtureDensityNetwork, PerTargetMDN
from redclump.core.selection import Cut
from redclump.core.training import evaluate, fingerprint, train_full_batch, train_mdn
from redclump.data import atomic, export
from redclump.data.manifests import catalogue_identity, file_sha256
from redclump.data.schema import FEATURES, SPLITS, SchemaError, validate_columns
from redclump.data.storage import write_parquet

__all__ = [
    "PAPER_PRECISION",
    "ModelError",
    "NetworkPaths",
    "PipelineError",
    "infer",
    "load_models",
    "network_paths",
    "select",
    "selection",
    "train",
]

log = logging.getLogger("redclump")

#: Held-out precision reported by Lucey et al. (2020).
PAPER_PRECISION = {"teff": 153.0, "logg": 0.32, "deltap": 80.0, "deltanu": 1.64}
STAGES = ("stage1", "stage2", "stage3")
STAGE_TARGETS = (("teff", "logg"), ("teff", "logg"), ("deltap", "deltanu"))
#: The authors' networks: an optional wall-clock limit in seconds for all six (each network
#: gets the time its predecessors left, shared among those still to train). None by default:
#: the steps come from core.networks.paper_max_steps, a fixed amount of work, so the same data
#: and seed give the same networks on any machine; a clock would make them depend on its load.
PAPER_TIME_BUDGET: float | None = None


class NetworkPaths(NamedTuple):
    """Where one network set's models, catalogue and scored truth set live in a work folder."""

    models: Path
    catalogue: Path
    scored: Path


def network_paths(workdir: Path | str, networks: str = "redclump") -> NetworkPaths:
    """``models/``, ``catalogue/`` and ``truthset_scored.parquet`` for our networks (the app's),
    ``models_paper/``, ``catalogue_paper/`` and ``truthset_scored_paper.parquet`` for the authors'."""
    if networks not in network_sets.NETWORK_SETS:
        msg = f"unknown network set {networks!r} (use one of {', '.join(network_sets.NETWORK_SETS)})"
        raise PipelineError(msg)
    workdir = Path(workdir)
    suffix = "" if networks == "redclump" else f"_{networks}"
    return NetworkPaths(
        workdir / f"models{suffix}", workdir / f"catalogue{suffix}", workdir / f"truthset_scored{suffix}.parquet"
    )


class PipelineError(RuntimeError):
    """A step cannot run: missing inputs, a bad table, an inconsistent work folder."""


class ModelError(PipelineError):
    """A model file is missing, corrupt or does not fit the data."""


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


def save_model(model: StageModel, path: Path, metadata: dict[str, Any]) -> None:
    """One file per stage, self-contained: config(s), weights and scaling buffers, metadata.
    A :class:`PerTargetMDN` is stored as its member networks, in target order."""
    tmp = path.with_suffix(".tmp")
    if isinstance(model, PerTargetMDN):
        bundle: dict[str, Any] = {
            "format": "redclump-mdn-set-1",
            "networks": [{"config": net.config.to_dict(), "state_dict": net.state_dict()} for net in model.networks],
        }
    else:
        bundle = {"format": "redclump-mdn-1", "config": model.config.to_dict(), "state_dict": model.state_dict()}
    torch.save({**bundle, "metadata": metadata}, tmp)
    os.replace(tmp, path)


def _network_from(entry: dict[str, Any]) -> MixtureDensityNetwork:
    model = MixtureDensityNetwork(MDNConfig.from_dict(entry["config"]))
    model.load_state_dict(entry["state_dict"])
    return model


def load_model(path: Path) -> StageModel:
    if not path.exists():
        msg = f"model file {path} is missing: run `redclump train`"
        raise ModelError(msg)
    try:
        bundle = torch.load(path, map_location="cpu", weights_only=True)
        if bundle.get("format") == "redclump-mdn-1":
            model: StageModel = _network_from(bundle)
        elif bundle.get("format") == "redclump-mdn-set-1":
            model = PerTargetMDN([_network_from(entry) for entry in bundle["networks"]])
        else:
            raise KeyError("format")
    except Exception as exc:  # any failure to read is the same problem for the user
        msg = f"model file {path} is corrupt or not a redclump model ({type(exc).__name__}); rerun `redclump train`"
        raise ModelError(msg) from None
    return model.eval()


def load_models(workdir: Path | str, networks: str = "redclump") -> StagedModels:
    """The trained stages of a network set (``networks``: "redclump" or "paper")."""
    return _load_model_dir(network_paths(workdir, networks).models)


def _load_model_dir(model_dir: Path) -> StagedModels:
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
    networks: str = "redclump",
    device: str = "cpu",
    seed: int = 0,
    epochs: int = 200,
    force: bool = False,
    progress_factory: Callable[[str, int], Any] | None = None,
    paper_max_steps: int | None = None,
    paper_time_budget: float | None = PAPER_TIME_BUDGET,
    paper_rates: str = "budget",
) -> dict[str, Any]:
    """Train the three stages of a network set on the truth set's train split (early stopping
    on valid), fit the intrinsic-colour relation, and evaluate on the test split. Returns the
    evaluation.

    ``networks="redclump"`` (ours, into ``models/``; ``epochs`` caps each stage) or ``"paper"``
    (the authors' six full-batch networks, :mod:`redclump.core.networks`, into
    ``models_paper/``; each network takes at most ``paper_max_steps`` full-batch steps, by
    default :func:`redclump.core.networks.paper_max_steps` of its training-set size, all six
    at most ``paper_time_budget`` seconds, and ``paper_rates`` picks the learning-rate schedule,
    :func:`redclump.core.networks.paper_schedule`). The steps each network took are in its
    metadata and in the evaluation."""
    workdir = Path(workdir)
    truth_path = workdir / "truthset.parquet"
    model_dir = network_paths(workdir, networks).models
    truth = _read_truthset(workdir)
    settings: dict[str, Any] = {
        "truthset_sha256": file_sha256(truth_path),
        "seed": seed,
        "epochs": epochs,
        "version": redclump.__version__,
    }
    if networks == "paper":
        # Ours keep the settings they always had, so an existing build stays up to date.
        del settings["epochs"]
        settings.update(
            networks=networks,
            max_steps=paper_max_steps,
            row_steps=network_sets.PAPER_ROW_STEPS,
            time_budget=paper_time_budget,
            rates=paper_rates,
        )
    elif networks == "paper_minibatch":
        settings.update(
            networks=networks,
            epochs=network_sets.PAPER_MINIBATCH_EPOCHS,
            patience=network_sets.PAPER_MINIBATCH_PATIENCE,
        )
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
    tmp_dir = workdir / f".{model_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    start = time.perf_counter()
    evaluation: dict[str, Any] = {"networks": networks, "paper": PAPER_PRECISION, "stages": {}}
    trained: dict[str, StageModel] = {}
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
            x = {s: p[list(FEATURES)].to_numpy(np.float32) for s, p in parts.items()}
            y = {s: p[list(targets)].to_numpy(np.float32) for s, p in parts.items()}
            if networks in ("paper", "paper_minibatch"):
                left = None if paper_time_budget is None else paper_time_budget - (time.perf_counter() - start)
                model, record = _train_paper_stage(
                    stage,
                    x,
                    y,
                    seed=seed,
                    device=device,
                    max_steps=paper_max_steps,
                    time_left=left,
                    rates=paper_rates,
                    progress_factory=progress_factory,
                    minibatch=networks == "paper_minibatch",
                )
            else:
                model, record = _train_redclump_stage(
                    stage, x, y, seed=seed, device=device, epochs=epochs, progress_factory=progress_factory
                )
            trained[stage] = model
            metadata = {
                "stage": stage,
                "networks": networks,
                "features": list(FEATURES),
                "targets": list(targets),
                "train_sha256": fingerprint(x["train"], y["train"]),
                "n_train": len(x["train"]),
                "n_valid": len(x["valid"]),
                **record,
                "versions": _versions(),
                "truthset": str(truth_path),
            }
            save_model(model, tmp_dir / f"{stage}.pt", metadata)
            evaluation["stages"][stage] = {
                "n_test": len(x["test"]),
                **record,
                "targets": evaluate(model, x["test"], y["test"]),
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


def _progress_bar(progress_factory: Callable[[str, int], Any] | None, desc: str, total: int) -> Any:
    return progress_factory(desc, total) if progress_factory else None


def _train_redclump_stage(
    stage: str,
    x: dict[str, np.ndarray],
    y: dict[str, np.ndarray],
    *,
    seed: int,
    device: str,
    epochs: int,
    progress_factory: Callable[[str, int], Any] | None,
) -> tuple[StageModel, dict[str, Any]]:
    config = network_sets.redclump_config(stage)
    bar = _progress_bar(progress_factory, f"train {stage} ({', '.join(config.targets)})", epochs)

    def report(epoch: int, train_loss: float, valid_loss: float) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(train=f"{train_loss:.3f}", valid=f"{valid_loss:.3f}")

    result = train_mdn(
        config, x["train"], y["train"], x["valid"], y["valid"], seed=seed, epochs=epochs, device=device, progress=report
    )
    if bar is not None:
        bar.close()
    record = {
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.valid_loss),
        "steps": result.steps,
        "stop_reason": result.stop_reason,
    }
    return result.model, record


def _train_paper_stage(
    stage: str,
    x: dict[str, np.ndarray],
    y: dict[str, np.ndarray],
    *,
    seed: int,
    device: str,
    max_steps: int | None,
    time_left: float | None,
    rates: str,
    progress_factory: Callable[[str, int], Any] | None,
    minibatch: bool = False,
) -> tuple[StageModel, dict[str, Any]]:
    """The authors' two networks of a stage: full-batch Adam (their optimiser) or, with
    ``minibatch``, our minibatch Adam with early stopping (``paper_minibatch``). Each network's
    loss curve, stop reason and best step go into the record."""
    papers = network_sets.PAPER_NETWORKS[stage]
    still_to_train = len(network_sets.PAPER_NETWORKS) * 2 - STAGES.index(stage) * 2
    bars: dict[str, Any] = {}

    def report(target: str, step: int, train_loss: float, valid_loss: float) -> None:
        if progress_factory is None:
            return
        if target not in bars:
            for bar in bars.values():
                bar.close()
            how = "minibatch, epochs" if minibatch else "full batch"
            bars[target] = progress_factory(f"train {stage} {target} (paper, {how})", steps[target])
        bar = bars[target]
        bar.update(step - bar.n)
        bar.set_postfix(train=f"{train_loss:.3f}", valid=f"{valid_loss:.3f}")

    results = []
    schedules = []
    drawn = []
    steps: dict[str, int] = {}
    stage_start = time.perf_counter()
    for j, net in enumerate(papers):
        # The authors' num_train: a seeded random draw of the train split (all of it if smaller).
        pick = np.random.default_rng(seed + j).permutation(len(x["train"]))[: net.n_train]
        pick.sort()
        drawn.append(len(pick))
        data = (network_sets.paper_config(net), x["train"][pick], y["train"][pick, j : j + 1])
        data += (x["valid"], y["valid"][:, j : j + 1])
        if minibatch:
            steps[net.target] = network_sets.PAPER_MINIBATCH_EPOCHS
            result = train_mdn(
                *data,
                seed=seed + j,
                epochs=network_sets.PAPER_MINIBATCH_EPOCHS,
                patience=network_sets.PAPER_MINIBATCH_PATIENCE,
                device=device,
                progress=lambda epoch, tl, vl, target=net.target: report(target, epoch + 1, tl, vl),
            )
            results.append(result)
            schedules.append(None)
            continue
        steps[net.target] = max_steps or network_sets.paper_max_steps(len(pick))
        # Each network may use the time really left, shared among those still to train.
        budget = (
            None
            if time_left is None
            else max(time_left - (time.perf_counter() - stage_start), 1.0) / (still_to_train - j)
        )
        schedule = network_sets.paper_schedule(
            net,
            rates=rates,  # type: ignore[arg-type]
            max_steps=steps[net.target],
            time_budget=budget,
        )
        result = train_full_batch(
            *data,
            schedule=schedule,
            seed=seed + j,
            device=device,
            progress=lambda step, tl, vl, target=net.target: report(target, step, tl, vl),
        )
        results.append(result)
        schedules.append(schedule)
    for bar in bars.values():
        bar.close()
    record = {
        "per_target": {
            net.target: {
                "script": net.script,
                "n_components": net.n_components,
                "optimiser": "minibatch Adam, cosine decay (train_mdn)" if minibatch else "full-batch Adam",
                **(
                    {"max_epochs": steps[net.target], "best_epoch": result.best_epoch}
                    if schedule is None
                    else {
                        "rates": rates,
                        "learning_rate": schedule.learning_rate,
                        "decay_rate": schedule.decay_rate,
                        "decay_steps": schedule.decay_steps,
                        "eval_every": schedule.eval_every,
                        "patience": schedule.patience,
                        "max_steps": steps[net.target],
                    }
                ),
                "script_learning_rate": net.learning_rate,
                "n_train": n_train,
                "steps": result.steps,
                # The optimiser step of the best validation loss (the weights kept).
                "best_step": result.eval_steps[result.best_epoch] if schedule is None else result.best_epoch,
                "stop_reason": result.stop_reason,
                "curve": result.curve(),
            }
            for net, result, n_train, schedule in zip(papers, results, drawn, schedules, strict=True)
        },
        "steps": sum(result.steps for result in results),
    }
    return PerTargetMDN([result.model for result in results]), record


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
    models = _load_model_dir(Path(model_dir))
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
    ``catalogue_paper/`` and ``truthset_scored_paper.parquet`` (:func:`network_paths`).

    It then builds ``workdir/estimates/`` (``estimates_<set>/`` for another set), the degraded
    twins behind the catalogue-level contamination and completeness (:mod:`redclump.estimation`);
    its summary is the result's ``"estimates"``."""
    from redclump import estimation

    summary = _infer_catalogue(workdir, networks=networks, client=client, force=force, progress=progress)
    models = _load_model_dir(network_paths(workdir, networks).models)
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
    inputs = sorted((workdir / "input").glob("*.parquet"))
    if not inputs:
        msg = f"no input partitions in {workdir / 'input'}: run `redclump mock` first"
        raise PipelineError(msg)
    model_dir = paths.models
    models = _load_model_dir(model_dir)  # fail early on missing or corrupt models
    settings = {
        "models": file_sha256(model_dir / "_manifest.json") if (model_dir / "_manifest.json").exists() else None,
        "input": [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in inputs],
    }
    manifest_path = paths.catalogue / "_manifest.json"
    if not force and _manifest_settings(manifest_path) == settings:
        log.info("catalogue in %s is up to date (use --force to rebuild)", paths.catalogue)
        return json.loads(manifest_path.read_text())["summary"]
    start = time.perf_counter()
    tmp_dir = workdir / f".{paths.catalogue.name}.tmp-{os.getpid()}"
    scored_tmp = workdir / f".{paths.scored.stem}.tmp-{os.getpid()}.parquet"
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
        write_parquet(scored, scored_tmp)
        summary = {key: sum(r[key] for r in results) for key in results[0]}
        summary["seconds"] = time.perf_counter() - start
        summary["stars_per_second"] = summary["rows"] / summary["seconds"]
        (tmp_dir / "_manifest.json").write_text(json.dumps({"settings": settings, "summary": summary}, indent=2))
        os.replace(scored_tmp, paths.scored)
        atomic.replace_dir(tmp_dir, paths.catalogue)
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
    """The catalogue rows that pass ``cut`` and their provenance
    (:func:`redclump.core.provenance.selection_provenance`), as :func:`select` writes them."""
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
