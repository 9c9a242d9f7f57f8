"""What a pipeline step raises when it cannot run; the command line prints it as one line."""

from __future__ import annotations

__all__ = ["ModelError", "PipelineError"]


class PipelineError(RuntimeError):
    """A step cannot run: missing inputs, a bad table, an inconsistent work folder."""


class ModelError(PipelineError):
    """A model file is missing, corrupt or does not fit the data."""
