"""The selection function: hierarchical borrowing against hand-computed values, the query's
units, frames and axes, determinism, and a build over a small mock's work folder."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import AltAz, SkyCoord
from redclump.core import selfunc
from redclump.core.cells import N_MIX_CELLS, N_RATE_CELLS, mix_cell
from redclump.core.estimates import ClassRates
from redclump.core.selection import TIER2
from redclump.core.selfunc import PSEUDO_STARS, SelectionFunction, SelfuncError, SkyCounts, completeness_maps

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
    counts = selfunc.count_stars(l_deg, b_deg, g, a_w1, dist, order=1, edges=EDGES, selected=[True, False, True, True])
    pixel = selfunc.healpix_index(l_deg, b_deg, 1)
    cells = mix_cell(g, a_w1, dist, b_deg)
    expected_keys = sorted({int(pixel[i] * N_MIX_CELLS + cells[i]) for i in range(3)})
    assert counts.keys.tolist() == expected_keys
    assert counts.n.sum() == 3 and counts.n_sel.sum() == 2


def _sky_sf(by: str = "g") -> SelectionFunction:
    edges = EDGES if by == "g" else np.array([0.0, 5.0, 10.0])
    values = np.arange(12.0 * 4 * (len(edges) - 1)).reshape(len(edges) - 1, -1) / 100
    return SelectionFunction(1, by, edges, values, values * 0.01, values * 0 + 50)  # type: ignore[arg-type]


def test_query_looks_up_the_pixel_and_bin_in_any_convertible_frame() -> None:
    sf = _sky_sf()
    galactic = SkyCoord(l=[10.0, 200.0, 300.0] * u.deg, b=[5.0, -40.0, 70.0] * u.deg, frame="galactic")
    pixels = selfunc.healpix_index([10.0, 200.0, 300.0], [5.0, -40.0, 70.0], 1)
    np.testing.assert_allclose(sf.query(galactic, 13.5), sf.completeness[0, pixels])
    np.testing.assert_allclose(sf.query(galactic.icrs, 13.5 * u.mag), sf.query(galactic, 13.5))
    np.testing.assert_allclose(sf.query(galactic.transform_to("fk5"), 13.5), sf.query(galactic, 13.5))
    value, variance = sf.query(galactic, [13.0, 13.99, 14.0], return_variance=True)
    assert np.isnan(value[2]) and np.isnan(variance[2])  # 14.0 is past the last (exclusive) edge
    np.testing.assert_allclose(variance[:2], sf.variance[0, pixels[:2]])


def test_query_refuses_bad_units_frames_and_axes() -> None:
    sf = _sky_sf()
    where = SkyCoord(l=[10.0] * u.deg, b=[5.0] * u.deg, frame="galactic")
    with pytest.raises(u.UnitsError, match="must be in mag"):
        sf.query(where, 13.5 * u.kpc)
    with pytest.raises(TypeError, match="SkyCoord"):
        sf.query(np.array([[10.0, 5.0]]), 13.5)
    with pytest.raises(SelfuncError, match="binned in G"):
        sf.query(where, distance=3 * u.kpc)
    with pytest.raises(SelfuncError, match="parent"):
        sf.query(where, 13.5, with_parent=True)
    no_location = SkyCoord(az=[10.0] * u.deg, alt=[40.0] * u.deg, frame=AltAz())
    with pytest.raises(SelfuncError, match="cannot convert coordinates in frame 'altaz' to Galactic"):
        sf.query(no_location, 13.5)
    by_distance = _sky_sf("dist")
    with pytest.raises(TypeError, match="length unit"):
        by_distance.query(where, distance=3.0)
    with pytest.raises(u.UnitsError, match="must be in kpc"):
        by_distance.query(where, distance=3.0 * u.mag)
    with pytest.raises(SelfuncError, match="say the stars' distance"):
        by_distance.query(where)


def test_distance_query_takes_the_coordinates_own_distance_and_the_parent() -> None:
    sf = _sky_sf("dist")
    sf.parent = np.full_like(sf.completeness, 0.5)
    with_distance = SkyCoord(l=[10.0] * u.deg, b=[5.0] * u.deg, distance=[7.0] * u.kpc, frame="galactic")
    plain = SkyCoord(l=[10.0] * u.deg, b=[5.0] * u.deg, frame="galactic")
    assert sf.query(with_distance)[0] == sf.query(plain, distance=7000 * u.pc)[0]
    assert sf.query(with_distance, with_parent=True)[0] == pytest.approx(0.5 * sf.query(with_distance)[0])


def test_a_map_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(SelfuncError, match="shape"):
        SelectionFunction(1, "g", EDGES, np.zeros((1, 12)), np.zeros((1, 48)), np.zeros((1, 48)))
    with pytest.raises(SelfuncError, match="order"):
        SelectionFunction(12, "g", EDGES, np.zeros((1, 12)), np.zeros((1, 12)), np.zeros((1, 12)))


def test_from_workdir_sums_to_the_catalogue_estimate(small_build: Path) -> None:
    """Without borrowing (α = 0), the maps' numerators and denominators summed over the sky are
    the catalogue estimate's: Σ n_sel (1 − c) over the selected stars and Σ π_RC n."""
    from redclump.core import cells
    from redclump.data import selfunc_files

    from redclump import estimation

    sf = SelectionFunction.from_workdir(small_build, TIER2, order=2, edges=[5.0, 21.0], pseudo_stars=0.0)
    assert sf.meta["cut"] == TIER2.text() and sf.parent is None
    calibration = estimation.load_calibration(small_build)
    assert calibration is not None
    columns = ["phot_g_mean_mag", "a_w1", "dist", "b", "l", *TIER2.required_columns()]
    frames = list(selfunc_files.iter_catalogue(small_build, columns=columns))
    catalogue = {k: np.concatenate([f[k] for f in frames]) for k in frames[0]}
    all_cells = cells.frame_cells(catalogue)
    selected_cells = all_cells[TIER2.mask(catalogue)]
    purity = selfunc.rc_purity(calibration.rates(TIER2).rates, calibration.shares)
    numerator = np.nansum(purity[selected_cells[selected_cells >= 0]])
    denominator = np.nansum(calibration.shares[all_cells[all_cells >= 0], 0])
    held = sf.n_rc[0] > 0
    assert sf.n_rc.sum() == pytest.approx(denominator, rel=1e-9)
    assert (sf.completeness[0, held] * sf.n_rc[0, held]).sum() == pytest.approx(numerator, rel=1e-9)
    assert np.isnan(sf.completeness[0, ~held]).all()  # nothing to borrow from with α = 0


def test_from_workdir_is_deterministic(small_build: Path) -> None:
    first = SelectionFunction.from_workdir(small_build, TIER2, order=3, seed=2)
    again = SelectionFunction.from_workdir(small_build, TIER2, order=3, seed=2)
    np.testing.assert_array_equal(first.completeness, again.completeness)
    np.testing.assert_array_equal(first.variance, again.variance)
    held = first.n_rc.sum(axis=1) > 0
    assert np.isfinite(first.completeness[held]).all()  # every pixel borrows where it has no stars
    assert np.isnan(first.completeness[~held]).all()  # a bin without stars says nothing
    assert held.any() and not held.all()


def test_doctests() -> None:
    import doctest

    assert doctest.testmod(selfunc, raise_on_error=False).failed == 0
