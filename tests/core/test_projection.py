"""The sky projection the app and the paper figures share."""

from __future__ import annotations

import numpy as np
from redclump.core.projection import hammer_aitoff


def test_hammer_aitoff_orientation() -> None:
    x, y = hammer_aitoff(np.array([0.0, 90.0, 270.0, 0.0]), np.array([0.0, 0.0, 0.0, 90.0]))
    assert abs(x[0]) < 1e-6 and x[1] < 0 < x[2]  # l increases to the left
    assert np.isclose(y[3], np.sqrt(2))


def test_hammer_aitoff_is_equal_area() -> None:
    """Uniform points on the sphere fill the ellipse x²/8 + y²/2 ≤ 1 uniformly: the share inside
    the half-size ellipse is a quarter."""
    rng = np.random.default_rng(0)
    l_deg = rng.uniform(0, 360, 200_000)
    b_deg = np.degrees(np.arcsin(rng.uniform(-1, 1, 200_000)))
    x, y = hammer_aitoff(l_deg, b_deg)
    r2 = x.astype(float) ** 2 / 8 + y.astype(float) ** 2 / 2
    assert r2.max() <= 1 + 1e-5
    assert abs(np.mean(r2 <= 0.25) - 0.25) < 0.005
