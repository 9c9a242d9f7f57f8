"""Which bands carry the signal: gradients of a predicted quantity with respect to each input.

Lucey et al. (2020, Fig. 8 in the seed summary) find the H-band sensitivity of ΔP peaking in the
red clump region, the trace of the [C/N] signature. Here the gradient of the mixture mean of a
target with respect to every input magnitude is computed with autograd and averaged in bins.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

from .mdn import MixtureDensityNetwork

__all__ = ["binned_mean", "input_gradients"]


def input_gradients(
    model: MixtureDensityNetwork, features: npt.NDArray[np.floating], target: str, *, batch_size: int = 65_536
) -> npt.NDArray[np.float32]:
    """∂⟨target⟩/∂feature for every row, shape (N, n_features), in target units per feature unit.

    Examples
    --------
    >>> from redclump.core.mdn import MDNConfig
    >>> net = MixtureDensityNetwork(MDNConfig(features=("a", "b"), targets=("y",), n_components=1, hidden=(4,)))
    >>> input_gradients(net, np.zeros((3, 2), np.float32), "y").shape
    (3, 2)
    """
    j = list(model.config.targets).index(target)
    out = []
    for start in range(0, len(features), batch_size):
        x = torch.tensor(features[start : start + batch_size], dtype=torch.float32, requires_grad=True)
        logits, means, _ = model.mixture_parameters(x)
        mean = (torch.softmax(logits, -1) * means).sum(-1)[:, j]
        (grad,) = torch.autograd.grad(mean.sum(), x)
        out.append(grad.numpy().astype(np.float32))
    return np.concatenate(out) if out else np.zeros((0, len(model.config.features)), np.float32)


def binned_mean(
    values: npt.NDArray[np.floating],
    x: npt.NDArray[np.floating],
    y: npt.NDArray[np.floating],
    x_edges: npt.NDArray[np.floating],
    y_edges: npt.NDArray[np.floating],
    *,
    min_count: int = 10,
) -> npt.NDArray[np.float64]:
    """Mean of ``values`` in 2-D bins (NaN where fewer than ``min_count`` stars), shape (nx, ny)."""
    nx, ny = len(x_edges) - 1, len(y_edges) - 1
    ix, iy = np.digitize(x, x_edges) - 1, np.digitize(y, y_edges) - 1
    ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny) & np.isfinite(values)
    flat = ix[ok] * ny + iy[ok]
    total = np.bincount(flat, weights=values[ok], minlength=nx * ny)
    count = np.bincount(flat, minlength=nx * ny)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count >= min_count, total / np.maximum(count, 1), np.nan)
    return mean.reshape(nx, ny)
