"""The candidate star nearest a click on a view, found on the server.

The lookup runs in the clicked view's own columns (projected x, y for the sky), measured in
screen pixels, over the stars that view shows. It walks outwards from the click through the
view's stars sorted by y (the order the lasso already keeps,
:meth:`redclump.dashboard.app_data.AppData.sorted_by_y`), stopping once the y distance alone
exceeds the best match so far: the work is the stars within a few pixels' band of the click, not
all 5 million.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from .app_data import AppData

__all__ = ["MAX_PIXELS", "nearest_star"]

#: A click further than this (screen pixels) from every shown star selects nothing.
MAX_PIXELS = 12.0


@numba.njit(cache=True, nogil=True)
def _nearest_in_sorted(
    x_sorted: np.ndarray,
    y_sorted: np.ndarray,
    order: np.ndarray,
    keep: np.ndarray,
    cx: float,
    cy: float,
    x_per_px: float,
    y_per_px: float,
    max_px: float,
) -> int:
    """Row (original order) of the star nearest (cx, cy) in pixels, or −1 if none is within
    ``max_px``. ``keep`` (by original row; empty = every row) restricts the candidates."""
    n = len(y_sorted)
    use_keep = len(keep) > 0
    best = -1
    best_d2 = max_px * max_px
    start = np.searchsorted(y_sorted, cy)
    for direction in (1, -1):
        i = start if direction == 1 else start - 1
        while 0 <= i < n:
            dy = (y_sorted[i] - cy) / y_per_px
            if not dy * dy <= best_d2:  # beyond the best so far, or NaN (sorted to the end)
                break
            row = order[i]
            if not use_keep or keep[row]:
                dx = (x_sorted[i] - cx) / x_per_px
                d2 = dx * dx + dy * dy
                if d2 < best_d2:
                    best_d2 = d2
                    best = row
            i += direction
    return best


def nearest_star(
    data: AppData,
    x: str,
    y: str,
    click: tuple[float, float],
    *,
    per_pixel: tuple[float, float],
    keep: npt.NDArray[np.bool_] | None = None,
    max_px: float = MAX_PIXELS,
) -> int | None:
    """Catalogue row of the candidate nearest ``click`` in the (``x``, ``y``) view, or None.

    Parameters
    ----------
    data
        The app's data; its y-sorted index of the view is built on first use (~1 s at 5 M
        candidates) and shared with the lasso.
    x, y
        The view's columns.
    click
        The clicked point in those columns.
    per_pixel
        Data units per screen pixel along x and y: distance is measured on the screen.
    keep
        Which candidates the view shows (None: all).
    max_px
        No star further than this many pixels is returned.

    Examples
    --------
    >>> from redclump.dashboard.app_data import frames_to_app_data
    >>> from redclump.data.synthetic import synthetic_frames
    >>> data = frames_to_app_data(*synthetic_frames(1000, 100, seed=1), source="doc")
    >>> row = nearest_star(data, "l", "b", (data.catalogue["l"][7], data.catalogue["b"][7]), per_pixel=(1.0, 1.0))
    >>> int(row)
    7
    """
    order, x_sorted, y_sorted = data.sorted_by_y(x, y)
    mask = np.zeros(0, dtype=np.bool_) if keep is None else np.asarray(keep, dtype=np.bool_)
    cx, cy = float(click[0]), float(click[1])
    row = _nearest_in_sorted(x_sorted, y_sorted, order, mask, cx, cy, float(per_pixel[0]), float(per_pixel[1]), max_px)
    return None if row < 0 else int(row)
