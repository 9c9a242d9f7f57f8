"""Mixture density networks (Bishop 1994) as used by Lucey et al. (2020).

:class:`MixtureDensityNetwork` maps raw features (13 magnitudes and the parallax) to an
independent Gaussian mixture per target. Its ``forward`` returns a
:class:`torch.distributions.MixtureSameFamily` in physical units; training minimises
``-log_prob(y).sum(-1).mean()``. Feature and target scaling live in buffers, so a saved state dict
is self-contained. :class:`MDNConfig` describes both network designs: ours (SiLU, standardised
inputs, softplus sigmas, one network for several targets) and the authors' (sigmoid, min–max
scaling with one global magnitude range, exponential sigmas, one network per target, joined by
:class:`PerTargetMDN`).

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

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from redclump.data.schema import stored_components
from torch import nn
from torch.distributions import Categorical, MixtureSameFamily, Normal

__all__ = [
    "MDNConfig",
    "MixtureDensityNetwork",
    "PerTargetMDN",
    "mixture_from_columns",
    "mixture_peak",
    "mixture_summary",
    "mixture_weights",
    "prob_above",
]


@dataclass(frozen=True)
class MDNConfig:
    """Shape of a network: its input columns, target names, mixture size, hidden widths, and how
    it scales, activates, initialises and summarises.

    The defaults are our design ("redclump" networks). The authors' design (Lucey et al. 2020,
    their public code github.com/mlucey/Kavli) is ``activation="sigmoid"``,
    ``scaling="minmax"`` with ``shared_scale`` the 13 magnitudes, ``sigma_link="exp"``,
    ``init="glorot"`` and ``uncertainty="weighted_sigma"``.

    Attributes
    ----------
    features, targets
        Input columns and target names, in order.
    n_components
        K, the number of Gaussians per target.
    hidden
        Widths of the hidden layers.
    sigma_floor
        Added to every sigma, in units of the target's scale.
    activation
        ``"silu"`` or ``"sigmoid"`` after each hidden layer.
    scaling
        ``"standard"``: (x − mean)/std per feature and target; ``"minmax"``: (x − min)/(max − min),
        targets included, as in the authors' code.
    shared_scale
        Features scaled together, with one min and max over all of them (the authors' 13 bands);
        only with ``scaling="minmax"``.
    sigma_link
        ``"softplus"`` or ``"exp"`` (the authors' ``activation=tf.exp``) from raw output to sigma.
    init
        ``"torch"`` (PyTorch's default) or ``"glorot"`` (Glorot-uniform weights, zero biases: the
        default of TensorFlow's dense layers the authors used).
    uncertainty
        The per-star uncertainty :func:`mixture_summary` reports: ``"std"``, the mixture's full
        standard deviation, or ``"weighted_sigma"``, Σ_k w_k σ_k as in the authors' code.
    """

    features: tuple[str, ...]
    targets: tuple[str, ...]
    n_components: int = 2
    hidden: tuple[int, ...] = (64, 64)
    sigma_floor: float = 1e-3
    activation: Literal["silu", "sigmoid"] = "silu"
    scaling: Literal["standard", "minmax"] = "standard"
    shared_scale: tuple[str, ...] = ()
    sigma_link: Literal["softplus", "exp"] = "softplus"
    init: Literal["torch", "glorot"] = "torch"
    uncertainty: Literal["std", "weighted_sigma"] = "std"

    def __post_init__(self) -> None:
        if self.n_components < 1:
            msg = f"n_components must be at least 1, got {self.n_components}"
            raise ValueError(msg)
        if not self.features or not self.targets:
            msg = "an MDN needs at least one feature and one target"
            raise ValueError(msg)
        choices = {
            "activation": ("silu", "sigmoid"),
            "scaling": ("standard", "minmax"),
            "sigma_link": ("softplus", "exp"),
            "init": ("torch", "glorot"),
            "uncertainty": ("std", "weighted_sigma"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                msg = f"{name} must be one of {allowed}, got {getattr(self, name)!r}"
                raise ValueError(msg)
        unknown = [f for f in self.shared_scale if f not in self.features]
        if unknown:
            msg = f"shared_scale names {unknown}, which are not features"
            raise ValueError(msg)
        if self.shared_scale and self.scaling != "minmax":
            msg = "shared_scale needs scaling='minmax'"
            raise ValueError(msg)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> MDNConfig:
        """The config from :meth:`to_dict`; fields a file written before they existed lacks take
        their defaults (which were the only behaviour then)."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for name in ("features", "targets", "hidden", "shared_scale"):
            if name in values:
                values[name] = tuple(values[name])
        values["n_components"] = int(values["n_components"])
        values["sigma_floor"] = float(values["sigma_floor"])
        return cls(**values)


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
        activation = {"silu": nn.SiLU, "sigmoid": nn.Sigmoid}[config.activation]
        layers: list[nn.Module] = []
        width = n_in
        for hidden in config.hidden:
            layers += [nn.Linear(width, hidden), activation()]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 3 * n_out * config.n_components)
        if config.init == "glorot":
            for layer in (*self.body, self.head):
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_uniform_(layer.weight)
                    nn.init.zeros_(layer.bias)
        # Offset and scale of the inputs and targets: mean and standard deviation ("standard"),
        # or minimum and max − min ("minmax"); the names date from the first.
        self.register_buffer("x_mean", torch.zeros(n_in))
        self.register_buffer("x_scale", torch.ones(n_in))
        self.register_buffer("y_mean", torch.zeros(n_out))
        self.register_buffer("y_scale", torch.ones(n_out))

    def set_scaling(self, features: torch.Tensor, targets: torch.Tensor) -> None:
        """Store the offset and scale of the training features and targets (see
        :class:`MDNConfig`'s ``scaling``)."""
        if self.config.scaling == "minmax":
            self._set_minmax(features, targets)
            return
        self.x_mean.copy_(features.mean(0))
        self.x_scale.copy_(features.std(0).clamp_min(1e-6))
        self.y_mean.copy_(torch.nanmean(targets, 0))
        centred = targets - self.y_mean
        self.y_scale.copy_(torch.sqrt(torch.nanmean(centred**2, 0)).clamp_min(1e-6))

    def _set_minmax(self, features: torch.Tensor, targets: torch.Tensor) -> None:
        low, high = features.amin(0), features.amax(0)
        shared = [self.config.features.index(name) for name in self.config.shared_scale]
        if shared:
            # The authors' scaling: one range over all magnitudes, so that colours keep their
            # size relative to each other after scaling.
            low[shared], high[shared] = low[shared].min(), high[shared].max()
        self.x_mean.copy_(low)
        self.x_scale.copy_((high - low).clamp_min(1e-6))
        finite = torch.where(torch.isnan(targets), torch.inf, targets)
        y_low = finite.amin(0)
        y_high = torch.where(torch.isnan(targets), -torch.inf, targets).amax(0)
        self.y_mean.copy_(y_low)
        self.y_scale.copy_((y_high - y_low).clamp_min(1e-6))

    def mixture_parameters(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits, means and sigmas in physical units, each of shape (N, targets, components)."""
        hidden = self.body((x - self.x_mean) / self.x_scale)
        n_out, k = len(self.config.targets), self.config.n_components
        # (N, targets, 3, k) → (3, N, targets, k), contiguous: the element-wise functions below
        # run several times faster on contiguous tensors than on strided views.
        raw = self.head(hidden).view(-1, n_out, 3, k).permute(2, 0, 1, 3).contiguous()
        logits = raw[0]
        means = raw[1] * self.y_scale[:, None] + self.y_mean[:, None]
        link = torch.exp if self.config.sigma_link == "exp" else nn.functional.softplus
        spread = link(raw[2])
        sigmas = (spread + self.config.sigma_floor) * self.y_scale[:, None]
        return logits, means, sigmas

    def forward(self, x: torch.Tensor) -> MixtureSameFamily:
        logits, means, sigmas = self.mixture_parameters(x)
        return MixtureSameFamily(Categorical(logits=logits), Normal(means, sigmas))


class PerTargetMDN(nn.Module):
    """Several one-target networks on the same features, seen as one multi-target MDN.

    The authors trained a separate network per quantity (ΔP with K = 2, Δν with K = 1); joined
    here, they offer the same ``config``, ``mixture_parameters`` and ``forward`` as a
    :class:`MixtureDensityNetwork`, so staged inference, evaluation and the catalogue's mixture
    columns treat both designs alike. A member with fewer components than the largest is padded
    with copies of its first component at weight zero (logit −∞), which changes no mean, sigma,
    peak or probability.

    Examples
    --------
    >>> make = lambda target, k: MixtureDensityNetwork(
    ...     MDNConfig(features=("a", "b"), targets=(target,), n_components=k))
    >>> joined = PerTargetMDN([make("deltap", 2), make("deltanu", 1)])
    >>> joined.config.targets, joined.config.n_components
    (('deltap', 'deltanu'), 2)
    >>> [tuple(t.shape) for t in joined.mixture_parameters(torch.zeros(3, 2))]
    [(3, 2, 2), (3, 2, 2), (3, 2, 2)]
    """

    def __init__(self, networks: list[MixtureDensityNetwork]) -> None:
        super().__init__()
        if not networks:
            msg = "PerTargetMDN needs at least one network"
            raise ValueError(msg)
        first = networks[0].config
        for net in networks:
            if net.config.features != first.features or net.config.uncertainty != first.uncertainty:
                msg = "every network of a PerTargetMDN must share its features and uncertainty"
                raise ValueError(msg)
        self.networks = nn.ModuleList(networks)
        targets = tuple(t for net in networks for t in net.config.targets)
        if len(set(targets)) != len(targets):
            msg = f"PerTargetMDN targets repeat: {targets}"
            raise ValueError(msg)
        self.config = MDNConfig(
            features=first.features,
            targets=targets,
            n_components=max(net.config.n_components for net in networks),
            hidden=first.hidden,
            sigma_floor=first.sigma_floor,
            activation=first.activation,
            scaling=first.scaling,
            shared_scale=first.shared_scale,
            sigma_link=first.sigma_link,
            init=first.init,
            uncertainty=first.uncertainty,
        )

    def mixture_parameters(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits, means and sigmas of every member, padded to K components and stacked along
        the target axis: each of shape (N, targets, K)."""
        k = self.config.n_components
        parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for net in self.networks:
            logits, means, sigmas = net.mixture_parameters(x)
            pad = k - logits.shape[-1]
            if pad:
                logits = torch.cat([logits, torch.full_like(logits[..., :1], -torch.inf).expand(-1, -1, pad)], -1)
                means = torch.cat([means, means[..., :1].expand(-1, -1, pad)], -1)
                sigmas = torch.cat([sigmas, sigmas[..., :1].expand(-1, -1, pad)], -1)
            parts.append((logits, means, sigmas))
        return tuple(torch.cat([p[i] for p in parts], dim=1) for i in range(3))  # type: ignore[return-value]

    def forward(self, x: torch.Tensor) -> MixtureSameFamily:
        logits, means, sigmas = self.mixture_parameters(x)
        return MixtureSameFamily(Categorical(logits=logits), Normal(means, sigmas))


def mixture_weights(logits: torch.Tensor) -> torch.Tensor:
    """Component weights: softmax over the (short) last axis; torch.softmax is several times
    slower here."""
    weights = torch.exp(logits - logits.amax(dim=-1, keepdim=True))
    return weights / weights.sum(dim=-1, keepdim=True)


def mixture_summary(
    logits: torch.Tensor,
    means: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    uncertainty: Literal["std", "weighted_sigma"] = "std",
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Mixture mean Σ w_k μ_k and its uncertainty, each of shape (N, targets).

    The uncertainty is the mixture's full standard deviation (``"std"``) or, as in the authors'
    code, Σ w_k σ_k (``"weighted_sigma"``), which leaves out the spread between components.

    Examples
    --------
    >>> logits, means, sigmas = torch.zeros(1, 1, 2), torch.tensor([[[0.0, 10.0]]]), torch.ones(1, 1, 2)
    >>> [float(v[0, 0]) for v in mixture_summary(logits, means, sigmas)]
    [5.0, 5.099019527435303]
    >>> float(mixture_summary(logits, means, sigmas, uncertainty="weighted_sigma")[1][0, 0])
    1.0
    """
    weights = mixture_weights(logits)
    mean = (weights * means).sum(-1)
    if uncertainty == "weighted_sigma":
        spread = (weights * sigmas).sum(-1)
    else:
        second = (weights * (sigmas**2 + means**2)).sum(-1)
        spread = torch.sqrt(torch.clamp(second - mean**2, min=0.0))
    return mean.numpy().astype(np.float32), spread.numpy().astype(np.float32)


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
    k = stored_components(frame.columns, prefix)

    def stacked(part: str) -> torch.Tensor:
        values = np.stack([np.asarray(frame[f"{prefix}_mix_{part}{i}"], dtype=np.float32) for i in range(k)], axis=-1)
        return torch.from_numpy(values)[:, None, :]

    return torch.log(stacked("w")), stacked("mu"), stacked("sigma")  # log 0 = −inf: weight 0
