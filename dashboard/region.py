"""Linked selection: a box or a lasso drawn on one view, kept in that view's own columns.

A region drawn on the sky is kept in the projected ``sky_x``/``sky_y`` columns, one drawn on the
seismic plane in ``dnu_phot``/``dp_phot``, and so on, so it selects exactly what was drawn and
applies to every view and to the truth-set test stars alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import pandas as pd

__all__ = ["Region", "RegionError", "compile_kernel"]


class RegionError(ValueError):
    """A drawn region that cannot select anything (too few vertices, non-finite coordinates)."""


@numba.njit(cache=True, nogil=True)
def _inside_polygon(x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray, out: np.ndarray) -> None:
    """Even–odd rule (ray casting to +x) for points sorted by y: out[i] is True where (x[i], y[i])
    is inside the polygon. An edge can only toggle the points within its y-span, a contiguous
    slice of the sorted points, so the work is the number of edge crossings, not points × edges."""
    n = len(px)
    j = n - 1
    for k in range(n):
        if py[k] != py[j]:
            # The points with min ≤ y < max: exactly one end of the edge lies above them.
            first = np.searchsorted(y, min(py[k], py[j]))
            last = np.searchsorted(y, max(py[k], py[j]))
            for i in range(first, last):
                if x[i] < (px[j] - px[k]) * (y[i] - py[k]) / (py[j] - py[k]) + px[k]:
                    out[i] = not out[i]
        j = k


@dataclass(frozen=True)
class Region:
    """A box or a lasso polygon in the columns ``x`` and ``y``.

    ``vertices`` are (x, y) pairs: the corners (x0, y0), (x1, y1) for a box, the polygon's
    vertices in drawing order for a lasso (closed implicitly). Hashable, so it can be part of a
    cache key.
    """

    x: str
    y: str
    kind: str
    vertices: tuple[tuple[float, float], ...]

    @classmethod
    def box(cls, x: str, y: str, x0: float, x1: float, y0: float, y1: float) -> Region:
        corners = np.array([x0, x1, y0, y1], dtype=np.float64)
        if not np.isfinite(corners).all():
            raise RegionError(f"box on {x}, {y} has a non-finite corner: {corners.tolist()}")
        return cls(x, y, "box", ((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))))

    @classmethod
    def lasso(cls, x: str, y: str, xs: Any, ys: Any) -> Region:
        """A lasso polygon; consecutive vertices closer than 1e-4 of its size are merged (the
        browser sends one per mouse move), which changes the outline by far less than a pixel."""
        px, py = np.asarray(xs, dtype=np.float64).ravel(), np.asarray(ys, dtype=np.float64).ravel()
        if px.shape != py.shape:
            raise RegionError(f"lasso on {x}, {y}: {len(px)} x but {len(py)} y coordinates")
        finite = np.isfinite(px) & np.isfinite(py)
        px, py = px[finite], py[finite]
        if len(px):
            size = max(np.ptp(px), np.ptp(py))
            keep = [0]
            for i in range(1, len(px)):
                if max(abs(px[i] - px[keep[-1]]), abs(py[i] - py[keep[-1]])) > 1e-4 * size:
                    keep.append(i)
            px, py = px[keep], py[keep]
        if len(px) < 3:
            raise RegionError(f"lasso on {x}, {y} has {len(px)} distinct finite vertices; it needs at least 3")
        return cls(x, y, "lasso", tuple(zip(px.tolist(), py.tolist(), strict=True)))

    def mask(
        self, frame: pd.DataFrame, *, sorted_by_y: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """Which rows of ``frame`` fall inside (boundary included for a box).

        ``sorted_by_y`` = (argsort of ``frame[self.y]``, ``x`` and ``y`` in that order) saves
        sorting the rows for a lasso (the app keeps them per view).
        """
        missing = [c for c in (self.x, self.y) if c not in frame.columns]
        if missing:
            raise RegionError(f"region drawn on {self.x}, {self.y}: no column {', '.join(missing)} here")
        x, y = frame[self.x].to_numpy(), frame[self.y].to_numpy()
        if self.kind == "box":
            (x_lo, y_lo), (x_hi, y_hi) = self.bounds()
            return (x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi)
        if sorted_by_y is None:
            order = np.argsort(y, kind="stable")
            sorted_by_y = (order, x[order], y[order])
        order, x_sorted, y_sorted = sorted_by_y
        vertices = np.array(self.vertices, dtype=np.float64)
        inside_sorted = np.zeros(len(order), dtype=np.bool_)
        _inside_polygon(x_sorted, y_sorted, vertices[:, 0], vertices[:, 1], inside_sorted)
        inside = np.empty(len(order), dtype=np.bool_)
        inside[order] = inside_sorted
        return inside

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        v = np.array(self.vertices)
        return (float(v[:, 0].min()), float(v[:, 1].min())), (float(v[:, 0].max()), float(v[:, 1].max()))

    def text(self) -> str:
        (x_lo, y_lo), (x_hi, y_hi) = self.bounds()
        within = f"{x_lo:.4g} ≤ {self.x} ≤ {x_hi:.4g} & {y_lo:.4g} ≤ {self.y} ≤ {y_hi:.4g}"
        if self.kind == "box":
            return within
        return f"lasso of {len(self.vertices)} vertices in {self.x}, {self.y} within {within}"

    def to_json(self) -> str:
        """The full region (every lasso vertex), for the metadata of an exported sample."""
        return json.dumps({"x": self.x, "y": self.y, "kind": self.kind, "vertices": self.vertices})


def compile_kernel() -> None:
    """Compile (or load from numba's on-disk cache) the polygon test for float32 points, as the
    app's columns, on a tiny input."""
    out = np.zeros(1, dtype=np.bool_)
    square_x, square_y = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0])
    point = np.array([0.5], dtype=np.float32)
    _inside_polygon(point, point, square_x, square_y, out)
