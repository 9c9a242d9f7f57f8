"""A network set's trained stages on disk: one self-contained file per stage, saved and loaded.

A file holds the configuration(s), the weights with the scaling buffers, and metadata; loading
checks that each stage predicts what it must (:data:`STAGE_TARGETS`). Where each set's files live
is :meth:`redclump.data.workdir.WorkFolder.networks`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from redclump.core import distances
from redclump.core import networks as network_sets
from redclump.core.inference import StagedModels, StageModel
from redclump.core.mdn import MDNConfig, MixtureDensityNetwork, PerTargetMDN
from redclump.data import workdir as work_folder
from redclump.data.workdir import NetworkPaths, WorkFolder

from .step_errors import ModelError, PipelineError

__all__ = [
    "STAGES",
    "STAGE_TARGETS",
    "NetworkPaths",
    "load_model",
    "load_model_dir",
    "load_models",
    "network_paths",
    "save_model",
]

STAGES = ("stage1", "stage2", "stage3")
STAGE_TARGETS = (("teff", "logg"), ("teff", "logg"), ("deltap", "deltanu"))


def network_paths(workdir: Path | str, networks: str = "redclump") -> NetworkPaths:
    """``models/``, ``catalogue/`` and ``truthset_scored.parquet`` for our networks (the app's),
    ``models_paper/``, ``catalogue_paper/`` and ``truthset_scored_paper.parquet`` for the authors'."""
    if networks not in network_sets.NETWORK_SETS:
        msg = f"unknown network set {networks!r} (use one of {', '.join(network_sets.NETWORK_SETS)})"
        raise PipelineError(msg)
    return WorkFolder(workdir).networks(networks)


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
    """One stage from its file, in eval mode (:func:`save_model`'s format).

    Raises
    ------
    ModelError
        The file is missing, corrupt or not a redclump model.
    """
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
    return load_model_dir(network_paths(workdir, networks).models)


def load_model_dir(model_dir: Path) -> StagedModels:
    """The three stages and the fitted intrinsic colour in ``model_dir``.

    Raises
    ------
    ModelError
        A file is missing or corrupt, or a stage predicts the wrong targets.
    """
    files = [model_dir / work_folder.STAGE_MODEL.format(stage=stage) for stage in STAGES]
    stages = [load_model(path) for path in files]
    colour_path = model_dir / work_folder.INTRINSIC_COLOUR
    for stage, path, model, targets in zip(STAGES, files, stages, STAGE_TARGETS, strict=True):
        if tuple(model.config.targets) != targets:
            msg = (
                f"model file {path} predicts {', '.join(model.config.targets)}, but {stage} "
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
