"""The maps behind a selection function: hierarchical borrowing against hand-computed values,
contamination taken out, star counts per pixel, bin and cell, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from redclump.core import selfunc_maps
from redclump.core.cells import N_MIX_CELLS, N_RATE_CELLS, mix_cell
from redclump.core.estimates import ClassRates
from redclump.core.selfunc_maps import PSEUDO_STARS, SkyCounts, completeness_maps

EDGES = np.array([13.0, 14.0])


def _two_class_rates(t_rc: float, t_other: float) -> ClassRates:
    k = np.zeros((2, N_RATE_CELLS))
    n = np.full((2, N_RATE_CELLS), 10_000.0)
    k[0], k[1] = t_rc * 10_000, t_other * 10_000
    return ClassRates(k, n)


def _counts(order: int, pixels: dict[int, tuple[float, float]], cell: int = 0) -> SkyCounts:
    """Stars in mix cell ``cell`` of bin 0: pixel → (catalogue stars, selected stars)."""
    keys = np.array([(p * 1 + 0) * N_MIX_CELLS + cell for p in sorted(pixels)], dtype=np.int64)
    n = np.array([pixels[p][0] for p in sorted(pixels)])
    n_sel = np.array([pixels[p][1] for p in sorted(pixels)])
    return SkyCounts(order, "g", EDGES, keys, n, n_sel)


def test_sparse_pixels_borrow_from_their_parents_as_documented() -> None:
    # RC share 1/2 everywhere and no other class passes: every selected star is RC (c = 0), so a
    # pixel's raw completeness is n_sel / (n / 2).
    shares = np.full((N_MIX_CELLS, 2), 0.5)
    counts = _counts(1, {0: (1000.0, 200.0), 1: (20.0, 10.0)})
    maps = completeness_maps(counts, _two_class_rates(0.5, 0.0), shares, shares[None], n_draws=8)
    alpha = PSEUDO_STARS
    sky = (200.0 + 10.0) / (500.0 + 10.0)
    order0 = (210.0 + alpha * sky) / (510.0 + alpha)
    expected = {
        0: (200.0 + alpha * order0) / (500.0 + alpha),  # well-filled: close to its own 0.4
        1: (10.0 + alpha * order0) / (10.0 + alpha),  # sparse: pulled from 1.0 towards its parent
        2: order0,  # empty, same parent: the parent's value
        20: sky,  # empty, under an empty order-0 pixel: the whole sky's
    }
    for pixel, value in expected.items():
        assert maps["completeness"][0, pixel] == pytest.approx(value, rel=1e-12), pixel
    assert maps["n_rc"][0, 0] == 500.0 and maps["n_rc"][0, 2] == 0.0
    # A sparse pixel is less certain than a full one, an empty one no more certain than its parent.
    assert maps["variance"][0, 1] > maps["variance"][0, 0] > 0


def test_contamination_takes_the_other_classes_selected_stars_out() -> None:
    # π_RC = 0.25, T_RC = 0.8, T_other = 0.1: c = 1 − 0.2 / (0.2 + 0.075); a pixel whose selected
    # count is the expected one gets completeness T_RC back.
    shares = np.tile([0.25, 0.75], (N_MIX_CELLS, 1))
    n = 1e6
    n_sel = n * (0.25 * 0.8 + 0.75 * 0.1)
    counts = _counts(0, {5: (n, n_sel)})
    maps = completeness_maps(counts, _two_class_rates(0.8, 0.1), shares, shares[None], n_draws=8)
    assert maps["completeness"][0, 5] == pytest.approx(0.8, abs=1e-4)


def test_maps_are_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(3)
    shares = rng.dirichlet([2.0, 5.0], N_MIX_CELLS)
    draws = np.stack([rng.dirichlet([2.0, 5.0], N_MIX_CELLS) for _ in range(3)])
    counts = _counts(2, {p: (float(rng.integers(1, 500)), float(rng.integers(0, 50))) for p in range(0, 192, 7)})
    rates = ClassRates(rng.integers(0, 30, (2, N_RATE_CELLS)).astype(float), np.full((2, N_RATE_CELLS), 40.0))
    first = completeness_maps(counts, rates, shares, draws, seed=4, n_draws=16)
    again = completeness_maps(counts, rates, shares, draws, seed=4, n_draws=16)
    other = completeness_maps(counts, rates, shares, draws, seed=5, n_draws=16)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    np.testing.assert_array_equal(first["completeness"], other["completeness"])
    assert not np.array_equal(first["variance"], other["variance"])


def test_count_stars_places_stars_in_pixel_bin_and_mix_cell() -> None:
    l_deg, b_deg = np.array([10.0, 10.0, 200.0, 10.0]), np.array([5.0, 5.0, -40.0, 5.0])
    g = np.array([13.5, 13.6, 13.2, 25.0])  # the last one is outside the bins
    a_w1, dist = np.zeros(4), np.array([3.0, 3.0, 1.0, 3.0])
    counts = selfunc_maps.count_stars(
        l_deg, b_deg, g, a_w1, dist, order=1, edges=EDGES, selected=[True, False, True, True]
    )
    pixel = selfunc_maps.healpix_index(l_deg, b_deg, 1)
    cells = mix_cell(g, a_w1, dist, b_deg)
    expected_keys = sorted({int(pixel[i] * N_MIX_CELLS + cells[i]) for i in range(3)})
    assert counts.keys.tolist() == expected_keys
    assert counts.n.sum() == 3 and counts.n_sel.sum() == 2


def test_doctests() -> None:
    import doctest

    assert doctest.testmod(selfunc_maps, raise_on_error=False).failed == 0
