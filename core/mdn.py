"""Mixture density networks (Bishop 1994) as used by Lucey et al. (2020).

:class:`MixtureDensityNetwork` maps raw features (13 magnitudes and the parallax) to an
independent Gaussian mixture per target. Its ``forward`` returns a
:class:`torch.distributions.MixtureSameFamily` in physical units; training minimises
``-log_prob(y).sum(-1).mean()``. Feature and target scaling live in buffers, so a saved state dict
is self-contained.

Notes
-----
Per star and target the mixture is p(y|x) = Σ_k w_k N(y | μ_k, σ_k). From it:

* mean  ȳ = Σ_k w_k μ_k (the paper's point estimate);
* sigma s = √(Σ_k w_k (σ_k² + μ_k²) − ȳ²), the mixture's full standard deviation (the paper
  quotes Σ_k w_k σ_k, which ignores the spread between components and so understates the
  uncertainty of a bimodal ΔP);
* peak: the mean of the component with the highest density peak (:func:`mixture_peak`, the
  authors' alternative estimator);
* P(y > t) = Σ_k w_k [1 − Φ((t − μ_k)/σ_k)], e.g. P(RC) = P(ΔP > 225 s).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.distributions import Categorical, MixtureSameFamily, Normal

__all__ = [
    "MDNConfig",
    "MixtureDensityNetwork",
    "mixture_from_columns",
    "mixture_peak",
    "mixture_summary",
    "mixture_weights",
    "prob_above",
]


@dataclass(frozen=True)
class MDNConfig:
    """Shape of a network: its input columns, target names, mixture size and hidden widths."""

    features: tuple[str, ...]
    targets: tuple[str, ...]
    n_components: int = 2
    hidden: tuple[int, ...] = (64, 64)
    sigma_floor: float = 1e-3

    def __post_init__(self) -> None:
        if self.n_components < 1:
            msg = f"n_components must be at least 1, got {self.n_components}"
            raise ValueError(msg)
        if not self.features or not self.targets:
            msg = "an MDN needs at least one feature and one target"
            raise ValueError(msg)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> MDNConfig:
        return cls(
            features=tuple(data["features"]),  # type: ignore[arg-type]
            targets=tuple(data["targets"]),  # type: ignore[arg-type]
            n_components=int(data["n_components"]),  # type: ignore[arg-type]
            hidden=tuple(data["hidden"]),  # type: ignore[arg-type]
            sigma_floor=float(data["sigma_floor"]),  # type: ignore[arg-type]
        )


class MixtureDensityNetwork(nn.Module):
    """A Gaussian mixture per target, conditioned on the features.

    Parameters
    ----------
    config
        Input columns, targets, number of mixture components and hidden layer widths.

    Examples
    --------
    >>> net = MixtureDensityNetwork(MDNConfig(features=("a", "b"), targets=("y",), n_components=2))
    >>> dist = net(torch.zeros(5, 2))
    >>> tuple(dist.batch_shape)
    (5, 1)
    """

    def __init__(self, config: MDNConfig) -> None:
        super().__init__()
        self.config = config
        n_in, n_out = len(config.features), len(config.targets)
        layers: list[nn.Module] = []
        width = n_in
        for hidden in config.hidden:
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 3 * n_out * config.n_components)
        self.register_buffer("x_mean", torch.zeros(n_in))
        self.register_buffer("x_scale", torch.ones(n_in))
        self.register_buffer("y_mean", torch.zeros(n_out))
        self.register_buffer("y_scale", torch.ones(n_out))

    def set_scaling(self, features: torch.Tensor, targets: torch.Tensor) -> None:
        """Store the mean and standard deviation of the training features and targets."""
        self.x_mean.copy_(features.mean(0))
        self.x_scale.copy_(features.std(0).clamp_min(1e-6))
        self.y_mean.copy_(torch.nanmean(targets, 0))
        centred = targets - self.y_mean
        self.y_scale.copy_(torch.sqrt(torch.nanmean(centred**2, 0)).clamp_min(1e-6))

    def mixture_parameters(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits, means and sigmas in physical units, each of shape (N, targets, components)."""
        hidden = self.body((x - self.x_mean) / self.x_scale)
        n_out, k = len(self.config.targets), self.config.n_components
        # (N, targets, 3, k) → (3, N, targets, k), contiguous: the element-wise functions below
        # run several times faster on contiguous tensors than on strided views.
        raw = self.head(hidden).view(-1, n_out, 3, k).permute(2, 0, 1, 3).contiguous()
        logits = raw[0]
        means = raw[1] * self.y_scale[:, None] + self.y_mean[:, None]
        sigmas = (nn.functional.softplus(raw[2]) + self.config.sigma_floor) * self.y_scale[:, None]
        return logits, means, sigmas

    def forward(self, x: torch.Tensor) -> MixtureSameFamily:
        logits, means, sigmas = self.mixture_parameters(x)
        return MixtureSameFamily(Categorical(logits=logits), Normal(means, sigmas))


def mixture_weights(logits: torch.Tensor) -> torch.Tensor:
    """Component weights: softmax over the (short) last axis; torch.softmax is several times
    slower here."""
    weights = torch.exp(logits - logits.amax(dim=-1, keepdim=True))
    return weights / weights.sum(dim=-1, keepdim=True)


def mixture_summary(
    logits: torch.Tensor, means: torch.Tensor, sigmas: torch.Tensor
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Mixture mean and full standard deviation, each of shape (N, targets)."""
    weights = mixture_weights(logits)
    mean = (weights * means).sum(-1)
    second = (weights * (sigmas**2 + means**2)).sum(-1)
    std = torch.sqrt(torch.clamp(second - mean**2, min=0.0))
    return mean.numpy().astype(np.float32), std.numpy().astype(np.float32)


def mixture_peak(logits: torch.Tensor, means: torch.Tensor, sigmas: torch.Tensor) -> npt.NDArray[np.float32]:
    """Mean of the component with the highest peak density w_k / (√(2π) σ_k), shape (N, targets).

    This is the "peak" estimator of the authors' code (the default of its RC selection): for a
    bimodal ΔP it picks a mode instead of averaging across the gap between them.
    """
    height = torch.log_softmax(logits, dim=-1) - torch.log(sigmas)
    best = height.argmax(dim=-1, keepdim=True)
    return torch.gather(means, -1, best)[..., 0].numpy().astype(np.float32)


def prob_above(
    logits: torch.Tensor, means: torch.Tensor, sigmas: torch.Tensor, threshold: float
) -> npt.NDArray[np.float32]:
    """P(y > threshold) under each star's mixture, shape (N, targets).

    Examples
    --------
    >>> logits = torch.zeros(1, 1, 2)
    >>> means = torch.tensor([[[0.0, 10.0]]])
    >>> sigmas = torch.ones(1, 1, 2)
    >>> float(prob_above(logits, means, sigmas, 5.0)[0, 0])
    0.5
    """
    weights = mixture_weights(logits)
    upper = 0.5 * torch.erfc((threshold - means) / (sigmas * np.sqrt(2.0)))
    return (weights * upper).sum(-1).numpy().astype(np.float32)


def mixture_from_columns(frame: Any, prefix: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A catalogue's stored mixture of one target (``dp`` or ``dnu``, see
    :func:`redclump.data.schema.mixture_columns`) as (logits, means, sigmas) of shape (N, 1, K),
    ready for :func:`prob_above`, :func:`mixture_summary` or :func:`mixture_peak`.

    Examples
    --------
    >>> import pandas as pd
    >>> cat = pd.DataFrame({"dp_mix_w0": [0.5], "dp_mix_mu0": [80.0], "dp_mix_sigma0": [5.0],
    ...                     "dp_mix_w1": [0.5], "dp_mix_mu1": [300.0], "dp_mix_sigma1": [5.0]})
    >>> float(prob_above(*mixture_from_columns(cat, "dp"), 250.0)[0, 0])
    0.5
    """
    k = 0
    while f"{prefix}_mix_w{k}" in frame.columns:
        k += 1
    if k == 0:
        msg = f"no {prefix}_mix_* columns: this catalogue does not keep the {prefix} mixture"
        raise KeyError(msg)

    def stacked(part: str) -> torch.Tensor:
        values = np.stack([np.asarray(frame[f"{prefix}_mix_{part}{i}"], dtype=np.float32) for i in range(k)], axis=-1)
        return torch.from_numpy(values)[:, None, :]

    return torch.log(stacked("w")), stacked("mu"), stacked("sigma")  # log 0 = −inf: weight 0
