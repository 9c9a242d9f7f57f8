"""How the paper figures look: sizes, palette, band labels and the matplotlib settings, applied
only while a figure is drawn (:func:`styled`), and the small helpers the figures share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from redclump.data.schema import BAND_LABELS

__all__ = ["COLUMN", "OKABE_ITO", "PAGE", "SHORT", "STYLE", "binned_median", "styled", "subplots"]

#: A journal column's and page's width (inches).
COLUMN, PAGE = 3.35, 7.0
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
#: The figures' matplotlib settings, applied only while a figure is drawn or saved.
STYLE = {
    "font.size": 7,
    "axes.labelsize": 7,
    "axes.titlesize": 7,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "legend.fontsize": 6,
    "figure.dpi": 150,
    "savefig.bbox": "tight",
}
_P = ParamSpec("_P")
#: Axis labels of the saliency figure's inputs: the bands' short names and the parallax.
SHORT = {**BAND_LABELS, "parallax": "ϖ"}


def styled(function: Callable[_P, tuple[Figure, dict[str, Any]]]) -> Callable[_P, tuple[Figure, dict[str, Any]]]:
    """Draw the figure with :data:`STYLE` in force, leaving matplotlib's settings as they were."""

    @functools.wraps(function)
    def styled(*args: _P.args, **kwargs: _P.kwargs) -> tuple[Figure, dict[str, Any]]:
        with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
            return function(*args, **kwargs)

    return styled


def subplots(*grid: int, figsize: tuple[float, float], **options: Any) -> tuple[Figure, Any]:
    """A pyplot-free figure and its axes (no figure manager, nothing to close)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **options)


def binned_median(values: np.ndarray, x: np.ndarray, edges: np.ndarray, *, min_count: int = 1) -> np.ndarray:
    """Median of the finite ``values`` in each bin of ``x`` (NaN where fewer than ``min_count``)."""
    index = np.digitize(x, edges) - 1
    medians = np.full(len(edges) - 1, np.nan)
    for i in range(len(edges) - 1):
        inside = values[index == i]
        inside = inside[np.isfinite(inside)]
        if len(inside) >= min_count:
            medians[i] = np.median(inside)
    return medians
