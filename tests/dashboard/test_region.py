"""Drawn regions: the box and lasso masks against independent implementations, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path
from redclump.dashboard.region import Region, RegionError


@pytest.fixture
def points() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"a": rng.uniform(-1, 1, 20_000).astype(np.float32), "b": rng.uniform(-1, 1, 20_000)})


def test_box_selects_the_closed_rectangle_whatever_the_drawing_direction(points: pd.DataFrame) -> None:
    a, b = points["a"].to_numpy(), points["b"].to_numpy()
    expected = (a >= -0.2) & (a <= 0.5) & (b >= -0.7) & (b <= 0.1)
    assert np.array_equal(Region.box("a", "b", 0.5, -0.2, 0.1, -0.7).mask(points), expected)
    assert Region.box("a", "b", 0.5, -0.2, 0.1, -0.7) == Region.box("a", "b", -0.2, 0.5, -0.7, 0.1)


def test_lasso_matches_matplotlib_for_a_concave_star_shape(points: pd.DataFrame) -> None:
    angle = np.linspace(0, 2 * np.pi, 250, endpoint=False)
    radius = 0.5 + 0.35 * np.sin(5 * angle)  # a concave star: bounding box ≠ polygon
    xs, ys = radius * np.cos(angle), radius * np.sin(angle)
    region = Region.lasso("a", "b", xs, ys)
    expected = Path(np.column_stack([xs, ys])).contains_points(points[["a", "b"]].to_numpy(np.float64))
    got = region.mask(points)
    assert 0.05 < expected.mean() < 0.6
    assert np.array_equal(got, expected)


def test_lasso_merges_repeated_vertices_and_rejects_degenerate_input() -> None:
    region = Region.lasso("a", "b", [0, 0, 1, 1, 0], [0, 0, 0, 1, 1])
    assert region.vertices == ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    with pytest.raises(RegionError, match="at least 3"):
        Region.lasso("a", "b", [0, 1, 1], [0, 0, 0 + 1e-9])
    with pytest.raises(RegionError, match="at least 3"):
        Region.lasso("a", "b", [0, np.nan, 1], [0, 1, np.inf])
    with pytest.raises(RegionError, match="2 x but 3 y"):
        Region.lasso("a", "b", [0, 1], [0, 1, 2])
    with pytest.raises(RegionError, match="non-finite"):
        Region.box("a", "b", 0, np.nan, 0, 1)


def test_region_names_the_missing_column() -> None:
    with pytest.raises(RegionError, match="no column x_gc"):
        Region.box("x_gc", "b", 0, 1, 0, 1).mask(pd.DataFrame({"b": [0.5]}))


def test_region_json_keeps_every_vertex() -> None:
    region = Region.lasso("a", "b", [0, 1, 1, 0.5], [0, 0, 1, 2])
    data = json.loads(region.to_json())
    assert data["kind"] == "lasso" and len(data["vertices"]) == 4 and data["x"] == "a"
