"""The sky as the app and the paper figures draw it: an equal-area projection of Galactic (l, b)."""

from __future__ import annotations

import numpy as np

__all__ = ["hammer_aitoff"]


def hammer_aitoff(l_deg: np.ndarray, b_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hammer–Aitoff equal-area projection with l = 0 at the centre and l increasing to the left.

    Returns x in [−2√2, 2√2] and y in [−√2, √2], as float32.

    Examples
    --------
    >>> x, y = hammer_aitoff(np.array([0.0, 90.0]), np.array([90.0, 0.0]))
    >>> [round(float(v), 3) + 0.0 for v in (*x, *y)]
    [0.0, -1.531, 1.414, 0.0]
    """
    lam = np.radians(((np.asarray(l_deg, np.float64) + 180.0) % 360.0) - 180.0)
    phi = np.radians(np.asarray(b_deg, np.float64))
    denom = np.sqrt(1.0 + np.cos(phi) * np.cos(lam / 2.0))
    x = -2.0 * np.sqrt(2.0) * np.cos(phi) * np.sin(lam / 2.0) / denom
    y = np.sqrt(2.0) * np.sin(phi) / denom
    return x.astype(np.float32), y.astype(np.float32)
