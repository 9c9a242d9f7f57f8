"""Training and held-out evaluation of mixture density networks.

Minibatch Adam on the negative log-likelihood, early stopping on a validation set, seeded so
that the same data and seed give the same weights.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch

from .mdn import MDNConfig, MixtureDensityNetwork, mixture_summary

__all__ = ["TrainingResult", "evaluate", "fingerprint", "train_mdn"]

FloatArray = npt.NDArray[np.floating]


@dataclass
class TrainingResult:
    """The trained network (best validation epoch) and its loss history."""

    model: MixtureDensityNetwork
    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0


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
    for name, array in (("training", x_train), ("validation", x_valid)):
        if len(array) == 0:
            msg = f"the {name} set is empty"
            raise ValueError(msg)
    for name, array in (("x_train", x_train), ("y_train", y_train), ("x_valid", x_valid), ("y_valid", y_valid)):
        if not np.all(np.isfinite(array)):
            msg = f"{name} has {int(np.sum(~np.isfinite(array)))} non-finite value(s)"
            raise ValueError(msg)
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
            total += float(loss.detach()) * len(batch)
        model.eval()
        with torch.no_grad():
            valid = float(_nll(model, xv, yv))
        result.train_loss.append(total / len(xt))
        result.valid_loss.append(valid)
        if progress:
            progress(epoch, result.train_loss[-1], valid)
        if valid < best_loss - 1e-4:
            best_loss, stale, result.best_epoch = valid, 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if stale >= patience:
                break
    model.load_state_dict(best_state)
    result.model = model.cpu().eval()
    return result


def evaluate(model: MixtureDensityNetwork, x: FloatArray, y: FloatArray) -> dict[str, dict[str, float]]:
    """Bias, scatter and sigma coverage of the predictions against labels, per target.

    Returns, for each target: ``bias`` (median residual), ``scatter`` (standard deviation of
    the residual), ``robust_scatter`` (1.4826 × median absolute deviation), ``coverage_1sigma``
    and ``coverage_2sigma`` (fraction of |residual| below 1 and 2 predicted sigmas; 0.683 and
    0.954 for calibrated Gaussian uncertainties) and ``n``.
    """
    with torch.no_grad():
        logits, means, sigmas = model.mixture_parameters(torch.tensor(x, dtype=torch.float32))
    mean, std = mixture_summary(logits, means, sigmas)
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
