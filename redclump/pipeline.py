"""The pipeline's steps as one import, for notebooks and scripts: train, infer, select.

Each step lives in its own module (docs/architecture.md): the truth set
(:mod:`redclump.truthset_file`), the models on disk (:mod:`redclump.model_files`), training
(:mod:`redclump.training_step`), inference (:mod:`redclump.inference_step`) and selection
(:mod:`redclump.selection_step`); this module only re-exports their public names.
"""

from __future__ import annotations

from redclump.core.metrics import test_split_truth

from .inference_step import infer
from .model_files import STAGE_TARGETS, STAGES, NetworkPaths, load_model, load_models, network_paths, save_model
from .selection_step import select, selection
from .step_errors import ModelError, PipelineError
from .training_step import PAPER_PRECISION, PAPER_TIME_BUDGET, train
from .truthset_file import read_truthset

__all__ = [
    "PAPER_PRECISION",
    "PAPER_TIME_BUDGET",
    "STAGES",
    "STAGE_TARGETS",
    "ModelError",
    "NetworkPaths",
    "PipelineError",
    "infer",
    "load_model",
    "load_models",
    "network_paths",
    "read_truthset",
    "save_model",
    "select",
    "selection",
    "test_split_truth",
    "train",
]
