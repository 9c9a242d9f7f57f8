"""The selection function as a callable: the query's units, frames and axes, map shapes, and a
build over a small mock's work folder (whole-sky sums, determinism)."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import AltAz, SkyCoord
from redclump.core import selfunc, selfunc_maps
from redclump.core.selection import TIER2
from redclump.core.selfunc import SelectionFunction, SelfuncError

EDGES = np.array([13.0, 14.0])


def _sky_sf(by: str = "g") -> SelectionFunction:
    edges = EDGES if by == "g" else np.array([0.0, 5.0, 10.0])
    values = np.arange(12.0 * 4 * (len(edges) - 1)).reshape(len(edges) - 1, -1) / 100
    return SelectionFunction(1, by, edges, values, values * 0.01, values * 0 + 50)  # type: ignore[arg-type]


def test_query_looks_up_the_pixel_and_bin_in_any_convertible_frame() -> None:
    sf = _sky_sf()
    galactic = SkyCoord(l=[10.0, 200.0, 300.0] * u.deg, b=[5.0, -40.0, 70.0] * u.deg, frame="galactic")
    pixels = selfunc_maps.healpix_index([10.0, 200.0, 300.0], [5.0, -40.0, 70.0], 1)
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
    purity = selfunc_maps.rc_purity(calibration.rates(TIER2).rates, calibration.shares)
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
