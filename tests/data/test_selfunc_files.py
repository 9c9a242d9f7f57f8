"""Selection-function files: the HEALPix FITS header (frame, ordering, NSIDE, bins, cut), the map
read back by astropy-healpix, overwrite protection, and the mock's parent completeness against
the survey limits."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Galactic, SkyCoord
from astropy.io import fits
from astropy_healpix import HEALPix
from redclump.core.selfunc import SelectionFunction
from redclump.core.selfunc_maps import healpix_index
from redclump.data import galaxy, selfunc_files
from redclump.data.schema import BANDS

#: An RC star's absolute magnitudes in BANDS order: r saturates (13.5) closer than 3.8 kpc and Ks
#: is lost (15.3) beyond 24 kpc without dust.
RC_ABSOLUTE = np.array([[0.5, 1.0, 0.0, 1.3, 0.6, 0.4, 0.3, 0.2, -0.9, -1.4, -1.6, -1.7, -1.6]])


def _sf(order: int = 2, by: str = "g") -> SelectionFunction:
    rng = np.random.default_rng(0)
    edges = np.array([13.0, 14.0, 15.5]) if by == "g" else np.array([0.0, 4.0, 8.0])
    shape = (len(edges) - 1, 12 * 4**order)
    meta = {"cut": "dp_phot > 225 & dnu_phot < 5.5", "definition": "P(selected | RC star ...)", "seed": 0}
    parent = rng.random(shape) if by == "dist" else None
    return SelectionFunction(order, by, edges, rng.random(shape), rng.random(shape) * 1e-3, rng.random(shape) * 100,  # type: ignore[arg-type]
                             parent, meta)  # fmt: skip


def test_header_states_frame_ordering_resolution_bins_and_cut(tmp_path: Path) -> None:
    path = tmp_path / "sf.fits"
    _sf().write(path)
    with fits.open(path) as hdul:
        assert [hdu.name for hdu in hdul] == ["PRIMARY", "COMPLETENESS", "COMPLETENESS_ERR", "N_RC"]
        for hdu in hdul:
            header = hdu.header
            assert header["PIXTYPE"] == "HEALPIX" and header["ORDERING"] == "NESTED"
            assert header["COORDSYS"] == "G" and header["NSIDE"] == 4 and header["ORDER"] == 2
            assert header["BINAXIS"] == "G" and header["BINUNIT"] == "mag" and header["NBINS"] == 2
            assert (header["BINLO0"], header["BINHI0"], header["BINHI1"]) == (13.0, 14.0, 15.5)
            assert header["CUT"] == "dp_phot > 225 & dnu_phot < 5.5"
            assert header["DEFINE"].startswith("P(selected")
        assert len(hdul["COMPLETENESS"].data) == 192 and hdul["COMPLETENESS"].columns.names == ["BIN0", "BIN1"]


def test_astropy_healpix_reads_the_map_back_where_query_looks(tmp_path: Path) -> None:
    sf = _sf()
    path = tmp_path / "sf.fits"
    sf.write(path)
    pixelisation = HEALPix.from_header(str(path), field=1, hdu_in="COMPLETENESS")
    assert pixelisation.nside == 4 and pixelisation.order == "nested"
    assert isinstance(pixelisation.frame, Galactic)
    stars = SkyCoord(ra=[10.0, 150.0, 266.4] * u.deg, dec=[41.0, -20.0, -29.0] * u.deg, frame="icrs")
    with fits.open(path) as hdul:
        column = np.asarray(hdul["COMPLETENESS"].data["BIN1"], dtype=np.float64)
    from_file = column[pixelisation.skycoord_to_healpix(stars)]
    np.testing.assert_allclose(sf.query(stars, 15.0), from_file, rtol=1e-6)  # float32 in the file


def test_read_gives_back_what_was_written(tmp_path: Path) -> None:
    sf = _sf(by="dist")
    path = tmp_path / "sf.fits"
    sf.write(path)
    back = SelectionFunction.read(path)
    assert (back.order, back.by, back.meta) == (sf.order, sf.by, sf.meta)
    np.testing.assert_array_equal(back.edges, sf.edges)
    for name in ("completeness", "n_rc", "parent"):
        np.testing.assert_allclose(getattr(back, name), getattr(sf, name), rtol=1e-6)
    np.testing.assert_allclose(back.variance, sf.variance, rtol=1e-5)
    with fits.open(path) as hdul:
        assert hdul[0].header["BINAXIS"] == "DIST" and hdul[0].header["BINUNIT"] == "kpc"


def test_an_existing_file_is_kept_without_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "sf.fits"
    path.write_text("mine")
    with pytest.raises(FileExistsError, match="--overwrite"):
        _sf().write(path)
    assert path.read_text() == "mine"
    _sf().write(path, overwrite=True)
    assert SelectionFunction.read(path).order == 2
    assert [p.name for p in tmp_path.iterdir()] == ["sf.fits"]  # no temporary file left


def test_a_file_that_is_not_a_nested_galactic_map_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ring.fits"
    _sf().write(path)
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["ORDERING"] = "RING"
    with pytest.raises(selfunc_files.SelfuncFileError, match="ORDERING is 'RING', expected 'NESTED'"):
        SelectionFunction.read(path)
    other = tmp_path / "table.fits"
    fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=np.zeros(3))]).writeto(other)
    with pytest.raises(selfunc_files.SelfuncFileError, match="PIXTYPE"):
        SelectionFunction.read(other)


def test_detection_table_follows_the_survey_limits() -> None:
    mu = np.array([10.0, 15.0, 18.0])  # 1 kpc (r saturated), 10 kpc, 40 kpc (Ks too faint)
    table = selfunc_files.detection_table(RC_ABSOLUTE, mu, np.array([0.0, 3.0]))
    assert table[:, 0].tolist() == [0.0, 1.0, 0.0]
    assert table[1, 1] == 0.0  # E(B−V) = 3 at 10 kpc: g = 1.3 + 15 + 3.518 × 3 = 26.9, past PS1's 23.0
    assert len(BANDS) == RC_ABSOLUTE.shape[1]


def test_parent_completeness_is_the_footprint_and_depth_without_dust() -> None:
    dust = galaxy.DustModel(patch_table=np.zeros((720, 360), dtype=np.float32))
    parent = selfunc_files.parent_completeness(RC_ABSOLUTE, dust, order=1, edges=[1.0, 2.0, 9.0, 11.0, 30.0, 40.0])
    north = healpix_index([0.0], [90.0], 1)[0]  # the Galactic pole, δ = 27°
    south = healpix_index([302.9], [-27.1], 1)[0]  # the celestial south pole, outside PS1
    assert parent[[0, 2, 4], north].tolist() == [0.0, 1.0, 0.0]  # saturated, seen, too faint
    assert 0.0 < parent[1, north] < 1.0 and 0.0 < parent[3, north] < 1.0  # the limits inside the bin
    assert parent[:, south].tolist() == [0.0] * 5
