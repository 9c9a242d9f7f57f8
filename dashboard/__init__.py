"""The Panel app: its state object, views, downloads and the notebook explorer.

``from redclump.dashboard import explore`` opens the explorer in a notebook
(:mod:`redclump.dashboard.notebook`); it is imported on first use, so that importing a submodule
(e.g. the state) does not load Panel.
"""

from typing import Any

__all__ = ["explore"]


def __getattr__(name: str) -> Any:
    if name == "explore":
        from redclump.dashboard.notebook import explore

        return explore
    msg = f"module 'redclump.dashboard' has no attribute {name!r}"
    raise AttributeError(msg)
