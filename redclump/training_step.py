"""The train step: a network set's three stages trained on the work folder's truth set.

Our networks (``models/``) or the authors' (``models_paper/``, :mod:`redclump.core.networks`)
learn on the truth set's train split, stop on valid, and are evaluated on test; the intrinsic
colour relation is fitted on the predicted giants. The step is skipped when its manifest's
settings (the truth set's digest, the seed, the limits) are unchanged. The console text (the
evaluation table) is the command line's (:mod:`redclump.cli`).
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

import redclump
from redclump.core import distances
from redclump.core import networks as network_sets
from redclump.core.inference import StagedModels, StageModel, is_giant, predict_catalogue
from redclump.core.mdn import PerTargetMDN
from redclump.core.training import (
    FullBatchSchedule,
    TrainingResult,
    evaluate,
    fingerprint,
    train_full_batch,
    train_mdn,
)
from redclump.data import workdir as work_folder
from redclump.data.schema import FEATURES, SPLITS
from redclump.data.workdir import WorkFolder, file_sha256
from redclump.publish.report import PAPER_PRECISION

from .model_files import STAGES, network_paths, save_model
from .step_errors import PipelineError
from .truthset_file import read_truthset

__all__ = ["PAPER_PRECISION", "PAPER_TIME_BUDGET", "train"]

log = logging.getLogger("redclump")

#: The authors' networks: an optional wall-clock limit in seconds for all six (each network
#: gets the time its predecessors left, shared among those still to train). None by default:
#: the steps come from core.networks.paper_max_steps, a fixed amount of work, so the same data
#: and seed give the same networks on any machine; a clock would make them depend on its load.
PAPER_TIME_BUDGET: float | None = None


def _versions() -> dict[str, str]:
    return {
        "redclump": str(redclump.__version__),
        "torch": str(torch.__version__),
        "numpy": str(np.__version__),
        "pandas": str(pd.__version__),
        "python": platform.python_version(),
    }


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
    truth_path = WorkFolder(workdir).truthset
    model_dir = network_paths(workdir, networks).models
    truth = read_truthset(workdir)
    settings = _settings(
        networks,
        truthset_sha256=file_sha256(truth_path),
        seed=seed,
        epochs=epochs,
        paper_max_steps=paper_max_steps,
        paper_time_budget=paper_time_budget,
        paper_rates=paper_rates,
    )
    evaluation = None if force else _up_to_date_evaluation(model_dir, settings)
    if evaluation is not None:
        return evaluation
    if device == "cuda" and not torch.cuda.is_available():
        msg = "--device cuda requested but no CUDA device is available"
        raise PipelineError(msg)
    start = time.perf_counter()
    evaluation = {"networks": networks, "paper": PAPER_PRECISION, "stages": {}}
    trained: dict[str, StageModel] = {}
    with work_folder.staged_dir(model_dir) as tmp_dir:
        for stage in STAGES:
            x, y, targets = _split_arrays(truth, stage, truth_path)
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
            metadata = _stage_metadata(stage, networks, targets, x, y, record, truth_path)
            save_model(model, tmp_dir / work_folder.STAGE_MODEL.format(stage=stage), metadata)
            evaluation["stages"][stage] = {
                "n_test": len(x["test"]),
                **record,
                "targets": evaluate(model, x["test"], y["test"]),
            }
        models = StagedModels(trained["stage1"], trained["stage2"], trained["stage3"])
        colour = _fit_intrinsic_colour(models, truth, truth_path)
        (tmp_dir / work_folder.INTRINSIC_COLOUR).write_text(json.dumps(colour.__dict__, indent=2))
        evaluation["intrinsic_colour"] = {
            **colour.__dict__,
            "criterion": "predicted giants of the truth set at |b| > 30 deg, 3-sigma clipped",
        }
        evaluation["seconds"] = time.perf_counter() - start
        (tmp_dir / work_folder.EVALUATION).write_text(json.dumps(evaluation, indent=2))
        work_folder.write_manifest(tmp_dir, {"settings": settings})
    return evaluation


def _settings(
    networks: str,
    *,
    truthset_sha256: str,
    seed: int,
    epochs: int,
    paper_max_steps: int | None,
    paper_time_budget: float | None,
    paper_rates: str,
) -> dict[str, Any]:
    """What the models' manifest records: training again is skipped while these are unchanged."""
    settings: dict[str, Any] = {
        "truthset_sha256": truthset_sha256,
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
    return settings


def _up_to_date_evaluation(model_dir: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The stored evaluation when ``model_dir`` was trained with ``settings``, else None."""
    if work_folder.manifest_settings(model_dir) != settings:
        return None
    try:
        evaluation = json.loads((model_dir / work_folder.EVALUATION).read_text())
    except (OSError, ValueError):
        log.warning("%s is unreadable: training again", model_dir / work_folder.EVALUATION)
        return None
    log.info("models in %s are up to date (use --force to retrain)", model_dir)
    return evaluation


def _split_arrays(
    truth: pd.DataFrame, stage: str, truth_path: Path
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], tuple[str, ...]]:
    """A stage's features and targets per split, and its target names."""
    rows, targets = _stage_data(truth, stage)
    split = rows["split"].astype(str)
    parts = {s: rows[split == s] for s in SPLITS}
    if min(len(p) for p in parts.values()) == 0:
        msg = f"{truth_path}: {stage} has an empty split ({', '.join(f'{k} {len(v)}' for k, v in parts.items())})"
        raise PipelineError(msg)
    x = {s: p[list(FEATURES)].to_numpy(np.float32) for s, p in parts.items()}
    y = {s: p[list(targets)].to_numpy(np.float32) for s, p in parts.items()}
    return x, y, targets


def _stage_metadata(
    stage: str,
    networks: str,
    targets: tuple[str, ...],
    x: dict[str, np.ndarray],
    y: dict[str, np.ndarray],
    record: dict[str, Any],
    truth_path: Path,
) -> dict[str, Any]:
    """What a stage's file records besides its weights: data, training record, versions."""
    return {
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


def _fit_intrinsic_colour(models: StagedModels, truth: pd.DataFrame, truth_path: Path) -> distances.IntrinsicColour:
    """The Teff → intrinsic (G − W1) relation on the truth set's predicted giants at |b| > 30°."""
    scored = predict_catalogue(models, truth, giants_only=True, source=str(truth_path))
    low_ext = scored[scored["b"].abs() > 30]
    return distances.fit_intrinsic_colour(
        low_ext["teff_phot"].to_numpy(), (low_ext["phot_g_mean_mag"] - low_ext["w1mpro"]).to_numpy()
    )


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


def _paper_network_record(
    net: network_sets.PaperNetwork,
    result: TrainingResult,
    n_train: int,
    schedule: FullBatchSchedule | None,
    most: int,
    rates: str,
) -> dict[str, Any]:
    """One authors' network's metadata: its script, optimiser and schedule (``None``: minibatch,
    at most ``most`` epochs; else at most ``most`` full-batch steps), steps, best step, why it
    stopped and its loss curve."""
    if schedule is None:
        settings: dict[str, Any] = {"max_epochs": most, "best_epoch": result.best_epoch}
    else:
        settings = {
            "rates": rates,
            "learning_rate": schedule.learning_rate,
            "decay_rate": schedule.decay_rate,
            "decay_steps": schedule.decay_steps,
            "eval_every": schedule.eval_every,
            "patience": schedule.patience,
            "max_steps": most,
        }
    return {
        "script": net.script,
        "n_components": net.n_components,
        "optimiser": "minibatch Adam, cosine decay (train_mdn)" if schedule is None else "full-batch Adam",
        **settings,
        "script_learning_rate": net.learning_rate,
        "n_train": n_train,
        "steps": result.steps,
        # The optimiser step of the best validation loss (the weights kept).
        "best_step": result.eval_steps[result.best_epoch] if schedule is None else result.best_epoch,
        "stop_reason": result.stop_reason,
        "curve": result.curve(),
    }


def _paper_training_set(
    net: network_sets.PaperNetwork, j: int, x: dict[str, np.ndarray], y: dict[str, np.ndarray], seed: int
) -> tuple[Any, ...]:
    """The config, training and validation arrays of the stage's ``j``-th authors' network: their
    ``num_train``, a seeded random draw of the train split (all of it if smaller)."""
    pick = np.sort(np.random.default_rng(seed + j).permutation(len(x["train"]))[: net.n_train])
    config = network_sets.paper_config(net)
    return config, x["train"][pick], y["train"][pick, j : j + 1], x["valid"], y["valid"][:, j : j + 1]


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
        data = _paper_training_set(net, j, x, y, seed)
        drawn.append(len(data[1]))
        schedule = None
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
        else:
            steps[net.target] = max_steps or network_sets.paper_max_steps(len(data[1]))
            # Each network may use the time really left, shared among those still to train.
            left = None if time_left is None else max(time_left - (time.perf_counter() - stage_start), 1.0)
            budget = None if left is None else left / (still_to_train - j)
            schedule = network_sets.paper_schedule(net, rates=rates, max_steps=steps[net.target], time_budget=budget)  # type: ignore[arg-type]
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
            net.target: _paper_network_record(net, result, n_train, schedule, steps[net.target], rates)
            for net, result, n_train, schedule in zip(papers, results, drawn, schedules, strict=True)
        },
        "steps": sum(result.steps for result in results),
    }
    return PerTargetMDN([result.model for result in results]), record
