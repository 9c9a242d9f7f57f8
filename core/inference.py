"""Staged inference (Lucey et al. 2020): stage 1 Teff/log g for every star, stage 2 Teff/log g
for the stars stage 1 calls giants, stage 3 ΔP and Δν for those giants; then P(RC), distances
and the paper's tiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from redclump.data.schema import (
    FEATURES,
    MDN_PREDICTIONS,
    MIXTURE_TARGETS,
    SchemaError,
    mixture_columns,
    validate_columns,
)

from . import distances
from .mdn import MixtureDensityNetwork, PerTargetMDN, mixture_summary, mixture_weights, prob_above

__all__ = [
    "GIANT_LOGG_MAX",
    "GIANT_TEFF_RANGE",
    "RC_DP_THRESHOLD",
    "StageModel",
    "StagedModels",
    "Summary",
    "is_giant",
    "predict_catalogue",
    "predict_mixture",
    "predict_summary",
]

GIANT_LOGG_MAX = 3.5
GIANT_TEFF_RANGE = (2500.0, 5500.0)
RC_DP_THRESHOLD = 225.0


def is_giant(teff: npt.NDArray[np.floating], logg: npt.NDArray[np.floating]) -> npt.NDArray[np.bool_]:
    """The paper's giant selection: log g < 3.5 and 2500 < Teff < 5500 K."""
    return (logg < GIANT_LOGG_MAX) & (teff > GIANT_TEFF_RANGE[0]) & (teff < GIANT_TEFF_RANGE[1])


#: A stage's model: one network for all its targets (ours) or one per target (the authors').
StageModel = MixtureDensityNetwork | PerTargetMDN


@dataclass
class StagedModels:
    """The three trained stages and the intrinsic-colour relation used for extinction."""

    stage1: StageModel
    stage2: StageModel
    stage3: StageModel
    intrinsic_colour: distances.IntrinsicColour | None = None

    def check_features(self, frame: pd.DataFrame, *, source: str) -> None:
        """Raise :class:`SchemaError` unless ``frame`` has every stage's input columns."""
        for name, model in (("stage 1", self.stage1), ("stage 2", self.stage2), ("stage 3", self.stage3)):
            if tuple(model.config.features) != FEATURES:
                msg = f"{name} model expects inputs {model.config.features}, not this schema's {FEATURES}"
                raise SchemaError(msg)
        validate_columns(frame, FEATURES, source=source)


#: Rows per forward pass. Small batches keep each layer's activations in the CPU caches: on the
#: 2-core machine 16k rows ran a stage ~2x faster than 262k (BENCHMARKS.md).
BATCH_ROWS = 16_384


def predict_mixture(
    model: StageModel, features: npt.NDArray[np.float32], *, batch_size: int = BATCH_ROWS
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mixture logits, means and sigmas for every row, in batches."""
    parts: list[tuple[torch.Tensor, ...]] = []
    with torch.inference_mode():
        for start in range(0, len(features), batch_size):
            x = torch.from_numpy(np.require(features[start : start + batch_size], np.float32, ["C", "W"]))
            parts.append(model.mixture_parameters(x))
    if not parts:
        k, t = model.config.n_components, len(model.config.targets)
        empty = torch.zeros(0, t, k)
        return empty, empty, empty
    return tuple(torch.cat([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


class Summary(NamedTuple):
    """:func:`predict_summary`'s result: mean and sigma (rows, targets), P(first target >
    threshold) or None, and the weights, means and sigmas (rows, targets, components) or None."""

    mean: npt.NDArray[np.float32]
    std: npt.NDArray[np.float32]
    above: npt.NDArray[np.float32] | None
    mixture: tuple[npt.NDArray[np.float32], ...] | None


def predict_summary(
    model: StageModel,
    features: npt.NDArray[np.float32],
    *,
    threshold: float | None = None,
    keep_mixture: bool = False,
    batch_size: int = BATCH_ROWS,
) -> Summary:
    """Mixture mean and uncertainty (the model's ``config.uncertainty``) per row and target,
    P(first target > threshold) given ``threshold``, and the mixture itself with
    ``keep_mixture``; summarised batch by batch, so the mixtures of all rows are never held at
    once."""
    n, t, k = len(features), len(model.config.targets), model.config.n_components
    mean = np.empty((n, t), dtype=np.float32)
    std = np.empty((n, t), dtype=np.float32)
    above = np.empty(n, dtype=np.float32) if threshold is not None else None
    mixture = tuple(np.empty((n, t, k), dtype=np.float32) for _ in range(3)) if keep_mixture else None
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            x = torch.from_numpy(np.require(features[start:stop], np.float32, ["C", "W"]))
            logits, means, sigmas = model.mixture_parameters(x)
            mean[start:stop], std[start:stop] = mixture_summary(
                logits, means, sigmas, uncertainty=model.config.uncertainty
            )
            if above is not None:
                above[start:stop] = prob_above(logits[:, :1], means[:, :1], sigmas[:, :1], threshold)[:, 0]
            if mixture is not None:
                for target, values in zip(mixture, (mixture_weights(logits), means, sigmas), strict=True):
                    target[start:stop] = values.numpy()
    return Summary(mean, std, above, mixture)


def predict_catalogue(
    models: StagedModels,
    frame: pd.DataFrame,
    *,
    source: str = "input",
    rc_threshold: float = RC_DP_THRESHOLD,
    giants_only: bool = True,
) -> pd.DataFrame:
    """Run all stages, distances and tiers over one table of input stars.

    Rows with a non-finite magnitude or parallax are kept (when ``giants_only`` is False) with
    NaN predictions and ``flag_bad_input`` set; they never reach the catalogue.

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``teff_phot``, ``teff_phot_err``, ``logg_phot``,
        ``logg_phot_err``, ``dp_phot``, ``dp_phot_err``, ``dnu_phot``, ``dnu_phot_err``,
        ``p_rc``, ``a_w1``, ``dist``, ``dist_err``, ``x_gc``, ``y_gc``, ``z_gc``, ``r_gc``,
        ``tier1``, ``tier2``, ``giant`` and ``flag_bad_input``, and the stage-3 mixtures
        (:func:`redclump.data.schema.mixture_columns` of ``dp`` and ``dnu``); giants only by
        default (with a fresh 0..n−1 index; otherwise the input's index).
    """
    from .selection import TIER1, TIER2

    models.check_features(frame, source=source)
    features = frame[list(FEATURES)].to_numpy(np.float32)
    good = np.isfinite(features).all(axis=1)
    n = len(frame)
    out = {name: np.full(n, np.nan, dtype=np.float32) for name in MDN_PREDICTIONS}
    idx = np.flatnonzero(good)
    mean1, std1, _, _ = predict_summary(models.stage1, features[idx])
    giant = np.zeros(n, dtype=bool)
    giant[idx] = is_giant(mean1[:, 0], mean1[:, 1])
    out["teff_phot"][idx], out["logg_phot"][idx] = mean1[:, 0], mean1[:, 1]
    out["teff_phot_err"][idx], out["logg_phot_err"][idx] = std1[:, 0], std1[:, 1]

    gidx = np.flatnonzero(giant)
    giant_features = features[gidx]
    mean2, std2, _, _ = predict_summary(models.stage2, giant_features)
    out["teff_phot"][gidx], out["logg_phot"][gidx] = mean2[:, 0], mean2[:, 1]
    out["teff_phot_err"][gidx], out["logg_phot_err"][gidx] = std2[:, 0], std2[:, 1]
    # The mixture mean, as the paper's catalogue: the "peak" estimator (mixture_peak) jumps
    # between the two modes, so a ΔP threshold between them would select the same stars.
    mean3, std3, p_rc, mixture3 = predict_summary(
        models.stage3, giant_features, threshold=rc_threshold, keep_mixture=True
    )
    out["dp_phot"][gidx], out["dnu_phot"][gidx] = mean3[:, 0], mean3[:, 1]
    out["dp_phot_err"][gidx], out["dnu_phot_err"][gidx] = std3[:, 0], std3[:, 1]
    out["p_rc"][gidx] = p_rc
    # The stage-3 mixtures themselves (DESIGN: each output keeps its mixture), so that any
    # P(ΔP > t) can be derived from the catalogue: core.mdn.mixture_from_columns.
    giant_mixtures: dict[str, npt.NDArray[np.float32]] = {}
    for j, prefix in enumerate(MIXTURE_TARGETS):
        names = mixture_columns(prefix, models.stage3.config.n_components)
        for position, name in enumerate(names):
            component, part = divmod(position, 3)  # names go (w, mu, sigma) per component
            giant_mixtures[name] = mixture3[part][:, j, component]

    # Only the output rows from here on: the giants by default, so distances and the output
    # frame cost nothing for the dwarfs.
    if giants_only:
        base = frame.iloc[gidx].reset_index(drop=True)
        columns: dict[str, npt.NDArray] = {name: values[gidx] for name, values in out.items()}
        columns.update(giant_mixtures)
        columns["giant"] = np.ones(len(gidx), dtype=bool)
        columns["flag_bad_input"] = np.zeros(len(gidx), dtype=bool)
    else:
        base = frame
        columns = dict(out)
        for name, values in giant_mixtures.items():
            columns[name] = np.full(n, np.nan, dtype=np.float32)
            columns[name][gidx] = values
        columns["giant"] = giant
        columns["flag_bad_input"] = ~good
    if models.intrinsic_colour is not None:
        columns.update(_distance_columns(base, columns, models.intrinsic_colour))
    # One new frame: inserting ~20 columns one by one into a copy of the input costs more than
    # the networks (pandas consolidates blocks on each insert).
    result = pd.concat(
        [base.drop(columns=[c for c in columns if c in base.columns]), pd.DataFrame(columns, index=base.index)],
        axis=1,
    )
    result["tier1"] = TIER1.mask(result)
    result["tier2"] = TIER2.mask(result)
    return result


def _distance_columns(
    base: pd.DataFrame, columns: dict[str, npt.NDArray], colour: distances.IntrinsicColour
) -> dict[str, npt.NDArray[np.float32]]:
    """``a_w1``, ``dist``, ``dist_err`` and the Galactocentric coordinates (giants only) of the
    output rows ``base`` with their predictions ``columns``."""
    g_mag = base["phot_g_mean_mag"].to_numpy(np.float64)
    w1 = base["w1mpro"].to_numpy(np.float64)
    teff = columns["teff_phot"].astype(np.float64)
    a_w1 = distances.extinction_w1(g_mag, w1, teff, colour)
    g_err = base["phot_g_mean_mag_error"].to_numpy(np.float64)
    w1_err = base["w1sigmpro"].to_numpy(np.float64)
    teff_err = columns["teff_phot_err"].astype(np.float64)
    a_w1_err = np.sqrt(g_err**2 + w1_err**2 + colour.scatter**2 + (colour.slope * teff_err) ** 2) / (
        distances.A_G_OVER_A_W1 - 1
    )
    dist, dist_err = distances.rc_distance(w1, a_w1, w1_err=w1_err, a_w1_err=a_w1_err)
    out = {
        "a_w1": a_w1.astype(np.float32),
        "dist": dist.astype(np.float32),
        "dist_err": dist_err.astype(np.float32),
    }
    coords = distances.galactocentric(
        base["l"].to_numpy(), base["b"].to_numpy(), np.where(columns["giant"], dist, np.nan)
    )
    out.update({key: values.astype(np.float32) for key, values in coords.items()})
    return out
