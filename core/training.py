"""Training and held-out evaluation of mixture density networks.

Two optimisers on the negative log-likelihood, both with early stopping on a validation set and
seeded so that the same data and seed give the same weights: minibatch Adam with a cosine
schedule (:func:`train_mdn`, our networks) and full-batch Adam with exponential learning-rate
decay (:func:`train_full_batch`, the authors' networks; :func:`train_per_target` trains one such
network per target).
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch

from .mdn import MDNConfig, MixtureDensityNetwork, PerTargetMDN, mixture_summary

__all__ = [
    "FullBatchSchedule",
    "TrainingResult",
    "evaluate",
    "fingerprint",
    "train_full_batch",
    "train_mdn",
    "train_per_target",
]

FloatArray = npt.NDArray[np.floating]


@dataclass
class TrainingResult:
    """The trained network (best validation epoch) and its loss history."""

    model: MixtureDensityNetwork
    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    #: Optimiser steps taken (full-batch training: also the "epochs" of the authors' code).
    steps: int = 0
    #: Why training ended: "converged" (early stopping), "max_steps"/"max_epochs", "time_budget".
    stop_reason: str = ""
    #: Optimiser steps taken at each entry of ``train_loss``/``valid_loss`` (the loss curve's x).
    eval_steps: list[int] = field(default_factory=list)

    def curve(self) -> dict[str, list[float]]:
        """The loss curve as plain lists: ``step``, ``train`` and ``valid`` (mean NLL per star)."""
        return {"step": list(self.eval_steps), "train": list(self.train_loss), "valid": list(self.valid_loss)}


def fingerprint(*arrays: np.ndarray) -> str:
    """A SHA-256 of the arrays' bytes, to tie a model to the data it was trained on."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _nll(model: MixtureDensityNetwork, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return -model(x).log_prob(y).sum(-1).mean()


def train_mdn(
    config: MDNConfig,
    x_train: FloatArray,
    y_train: FloatArray,
    x_valid: FloatArray,
    y_valid: FloatArray,
    *,
    seed: int = 0,
    epochs: int = 200,
    batch_size: int | None = None,
    learning_rate: float = 3e-3,
    patience: int = 10,
    device: str = "cpu",
    progress: Callable[[int, float, float], None] | None = None,
) -> TrainingResult:
    """Fit an MDN by minibatch Adam with early stopping on the validation loss.

    Parameters
    ----------
    config
        Network shape.
    x_train, y_train, x_valid, y_valid
        Features (N, F) and targets (N, T), finite.
    seed
        Seeds the weight initialisation and the minibatch order.
    epochs, batch_size, learning_rate, patience
        Optimisation settings (the default batch size aims at ~300 steps per epoch); training
        stops after ``patience`` epochs without a better validation loss, and the best epoch's
        weights are returned.
    device
        ``"cpu"`` or ``"cuda"``; the returned model is on the CPU.
    progress
        Called after each epoch with (epoch, train loss, valid loss).

    Raises
    ------
    ValueError
        If the training or validation set is empty or not finite.
    """
    _check_sets(x_train, y_train, x_valid, y_valid)
    if batch_size is None:
        # ~300 steps per epoch: small sets get small batches, large sets stay fast.
        batch_size = int(np.clip(2 ** round(np.log2(max(len(x_train), 1) / 300)), 256, 8192))
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = MixtureDensityNetwork(config)
    xt = torch.tensor(x_train, dtype=torch.float32)
    yt = torch.tensor(y_train, dtype=torch.float32)
    xv = torch.tensor(x_valid, dtype=torch.float32).to(device)
    yv = torch.tensor(y_valid, dtype=torch.float32).to(device)
    model.set_scaling(xt, yt)
    model.to(device)
    xt, yt = xt.to(device), yt.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps = math.ceil(len(xt) / batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=epochs * steps, eta_min=learning_rate / 20)
    result = TrainingResult(model=model)
    best_state, best_loss, stale = copy.deepcopy(model.state_dict()), math.inf, 0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(xt), generator=generator).to(device)
        total = 0.0
        for i in range(steps):
            batch = order[i * batch_size : (i + 1) * batch_size]
            loss = _nll(model, xt[batch], yt[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            result.steps += 1
            total += float(loss.detach()) * len(batch)
        model.eval()
        with torch.no_grad():
            valid = float(_nll(model, xv, yv))
        result.train_loss.append(total / len(xt))
        result.valid_loss.append(valid)
        result.eval_steps.append(result.steps)
        if progress:
            progress(epoch, result.train_loss[-1], valid)
        if valid < best_loss - 1e-4:
            best_loss, stale, result.best_epoch = valid, 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if stale >= patience:
                result.stop_reason = "converged"
                break
    else:
        result.stop_reason = "max_epochs"
    model.load_state_dict(best_state)
    result.model = model.cpu().eval()
    return result


def _check_sets(x_train: FloatArray, y_train: FloatArray, x_valid: FloatArray, y_valid: FloatArray) -> None:
    for name, array in (("training", x_train), ("validation", x_valid)):
        if len(array) == 0:
            msg = f"the {name} set is empty"
            raise ValueError(msg)
    for name, array in (("x_train", x_train), ("y_train", y_train), ("x_valid", x_valid), ("y_valid", y_valid)):
        if not np.all(np.isfinite(array)):
            msg = f"{name} has {int(np.sum(~np.isfinite(array)))} non-finite value(s)"
            raise ValueError(msg)


@dataclass(frozen=True)
class FullBatchSchedule:
    """Full-batch Adam with TensorFlow 1's exponential learning-rate decay, and when to stop.

    The rate at step t is ``learning_rate * decay_rate ** (t / decay_steps)`` (the exponent
    floored with ``staircase``). Every ``eval_every`` steps the validation loss is computed;
    training stops after ``patience`` evaluations without improvement, at ``max_steps``, or when
    ``time_budget`` seconds have passed, and the best evaluation's weights are kept.

    Examples
    --------
    >>> schedule = FullBatchSchedule(learning_rate=1e-2, decay_rate=0.5, decay_steps=100, staircase=True)
    >>> [schedule.rate(t) for t in (0, 99, 100, 250)]
    [0.01, 0.01, 0.005, 0.0025]
    """

    learning_rate: float
    decay_rate: float = 1.0
    decay_steps: int = 1000
    staircase: bool = False
    max_steps: int = 4000
    eval_every: int = 20
    patience: int = 10
    time_budget: float | None = None
    #: Rows per chunk of the full-batch gradient (summed over chunks: the same gradient, but
    #: each chunk's activations stay in the CPU caches; see core.inference.BATCH_ROWS).
    chunk_rows: int = 16_384

    def __post_init__(self) -> None:
        if self.learning_rate <= 0 or not 0 < self.decay_rate <= 1 or self.decay_steps < 1:
            msg = f"bad schedule: learning rate {self.learning_rate}, decay {self.decay_rate} per {self.decay_steps}"
            raise ValueError(msg)
        if min(self.max_steps, self.eval_every, self.patience, self.chunk_rows) < 1:
            msg = "max_steps, eval_every, patience and chunk_rows must be positive"
            raise ValueError(msg)

    def rate(self, step: int) -> float:
        """Learning rate at optimiser step ``step`` (0-based)."""
        exponent = step // self.decay_steps if self.staircase else step / self.decay_steps
        return self.learning_rate * self.decay_rate**exponent


def train_full_batch(
    config: MDNConfig,
    x_train: FloatArray,
    y_train: FloatArray,
    x_valid: FloatArray,
    y_valid: FloatArray,
    *,
    schedule: FullBatchSchedule,
    seed: int = 0,
    device: str = "cpu",
    progress: Callable[[int, float, float], None] | None = None,
) -> TrainingResult:
    """Fit an MDN by full-batch Adam (each step sees the whole training set), as the authors did.

    Parameters
    ----------
    config
        Network shape.
    x_train, y_train, x_valid, y_valid
        Features (N, F) and targets (N, T), finite.
    schedule
        Learning rate, its decay, and the stopping rule.
    seed
        Seeds the weight initialisation.
    device
        ``"cpu"`` or ``"cuda"``; the returned model is on the CPU.
    progress
        Called after each evaluation with (step, train loss, valid loss).

    Returns
    -------
    TrainingResult
        The best evaluation's model; ``best_epoch`` is its step, ``steps`` the steps taken,
        ``train_loss``/``valid_loss`` one entry per evaluation.

    Notes
    -----
    The authors' loss is the negative log-likelihood summed over the training set; here it is the
    mean, which gives Adam the same steps (Adam divides out the gradient's scale) and keeps the
    numbers readable. Their code runs a fixed 10⁶ steps without a validation set; here
    training stops on the validation loss (see :class:`FullBatchSchedule`).

    Raises
    ------
    ValueError
        If the training or validation set is empty or not finite.
    """
    _check_sets(x_train, y_train, x_valid, y_valid)
    torch.manual_seed(seed)
    model = MixtureDensityNetwork(config)
    xt = torch.tensor(x_train, dtype=torch.float32)
    yt = torch.tensor(y_train, dtype=torch.float32)
    model.set_scaling(xt, yt)
    model.to(device)
    xt, yt = xt.to(device), yt.to(device)
    xv = torch.tensor(x_valid, dtype=torch.float32).to(device)
    yv = torch.tensor(y_valid, dtype=torch.float32).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=schedule.learning_rate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: schedule.rate(step) / schedule.learning_rate)
    result = TrainingResult(model=model)
    best_state, best_loss, stale = copy.deepcopy(model.state_dict()), math.inf, 0
    started = time.perf_counter()
    model.train()
    n = len(xt)
    chunks = [(first, min(first + schedule.chunk_rows, n)) for first in range(0, n, schedule.chunk_rows)]
    for step in range(1, schedule.max_steps + 1):
        optimiser.zero_grad()
        total = 0.0
        for first, stop in chunks:
            # Each chunk's share of the mean: the gradients add up to the full-batch one.
            part = -model(xt[first:stop]).log_prob(yt[first:stop]).sum() / n
            part.backward()
            total += float(part.detach())
        optimiser.step()
        scheduler.step()
        result.steps = step
        out_of_time = schedule.time_budget is not None and time.perf_counter() - started > schedule.time_budget
        if step % schedule.eval_every and step != schedule.max_steps and not out_of_time:
            continue
        valid = _chunked_nll(model, xv, yv, schedule.chunk_rows)
        result.train_loss.append(total)
        result.valid_loss.append(valid)
        result.eval_steps.append(step)
        if progress:
            progress(step, result.train_loss[-1], valid)
        if valid < best_loss - 1e-4:
            best_loss, stale, result.best_epoch = valid, 0, step
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if stale >= schedule.patience:
                result.stop_reason = "converged"
                break
        if out_of_time:
            result.stop_reason = "time_budget"
            break
    else:
        result.stop_reason = "max_steps"
    model.load_state_dict(best_state)
    result.model = model.cpu().eval()
    return result


def _chunked_nll(model: MixtureDensityNetwork, x: torch.Tensor, y: torch.Tensor, chunk_rows: int) -> float:
    with torch.no_grad():
        total = sum(
            float(-model(x[i : i + chunk_rows]).log_prob(y[i : i + chunk_rows]).sum())
            for i in range(0, len(x), chunk_rows)
        )
    return total / len(x)


def train_per_target(
    configs: list[MDNConfig],
    schedules: list[FullBatchSchedule],
    x_train: FloatArray,
    y_train: FloatArray,
    x_valid: FloatArray,
    y_valid: FloatArray,
    *,
    seed: int = 0,
    device: str = "cpu",
    progress: Callable[[str, int, float, float], None] | None = None,
) -> tuple[PerTargetMDN, list[TrainingResult]]:
    """One full-batch network per target column, joined into a :class:`PerTargetMDN`.

    ``configs[j]`` (one target each) and ``schedules[j]`` train on column j of ``y_train`` and
    ``y_valid``; ``progress`` gets the target name first.
    """
    if not len(configs) == len(schedules) == y_train.shape[1]:
        msg = f"{len(configs)} configs and {len(schedules)} schedules for {y_train.shape[1]} target column(s)"
        raise ValueError(msg)
    results = []
    for j, (config, schedule) in enumerate(zip(configs, schedules, strict=True)):
        if len(config.targets) != 1:
            msg = f"train_per_target needs one target per config, got {config.targets}"
            raise ValueError(msg)
        target = config.targets[0]

        def report(step: int, train_loss: float, valid_loss: float, target: str = target) -> None:
            if progress:
                progress(target, step, train_loss, valid_loss)

        results.append(
            train_full_batch(
                config,
                x_train,
                y_train[:, j : j + 1],
                x_valid,
                y_valid[:, j : j + 1],
                schedule=schedule,
                seed=seed + j,
                device=device,
                progress=report,
            )
        )
    return PerTargetMDN([r.model for r in results]), results


def evaluate(model: MixtureDensityNetwork | PerTargetMDN, x: FloatArray, y: FloatArray) -> dict[str, dict[str, float]]:
    """Bias, scatter and sigma coverage of the predictions against labels, per target.

    The prediction is the mixture mean Σ w_k μ_k and its sigma the model's own uncertainty
    (``config.uncertainty``: the full mixture standard deviation, or Σ w_k σ_k for the
    authors' networks).

    Returns, for each target: ``bias`` (median residual), ``scatter`` (standard deviation of
    the residual), ``robust_scatter`` (1.4826 × median absolute deviation), ``coverage_1sigma``
    and ``coverage_2sigma`` (fraction of |residual| below 1 and 2 predicted sigmas; 0.683 and
    0.954 for calibrated Gaussian uncertainties) and ``n``.
    """
    with torch.no_grad():
        logits, means, sigmas = model.mixture_parameters(torch.tensor(x, dtype=torch.float32))
    mean, std = mixture_summary(logits, means, sigmas, uncertainty=model.config.uncertainty)
    out = {}
    for j, target in enumerate(model.config.targets):
        residual = mean[:, j] - y[:, j]
        ok = np.isfinite(residual)
        residual, sigma = residual[ok], std[ok, j]
        if residual.size == 0:
            out[target] = {"n": 0}
            continue
        out[target] = {
            "n": int(residual.size),
            "bias": float(np.median(residual)),
            "scatter": float(np.std(residual)),
            "robust_scatter": float(1.4826 * np.median(np.abs(residual - np.median(residual)))),
            "coverage_1sigma": float(np.mean(np.abs(residual) < sigma)),
            "coverage_2sigma": float(np.mean(np.abs(residual) < 2 * sigma)),
        }
    return out
