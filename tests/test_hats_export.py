"""`redclump export --hats`: a HATS catalogue that lsdb opens lazily and cross-matches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from redclump.core.selection import Cut

from redclump import cli

lsdb = pytest.importorskip("lsdb")
hats_export = pytest.importorskip("redclump.hats_export")

#: The cut the tests export: one catalogue term and one position term.
CUT = Cut(dp_min=250.0, g_max=17.0)
#: Offsets of the other survey's counterparts from the exported stars (arcsec).
OFFSET_ARCSEC = 0.4


def _catalogue(rng: np.random.Generator) -> pd.DataFrame:
    """A 6,000-star catalogue on a 0.05° grid (jittered by at most 0.01°) over 80 × 75 grid
    points: no two stars closer than 100 arcsec, so a 1-arcsec cross-match pairs unambiguously."""
    ra_grid, dec_grid = np.meshgrid(np.arange(80) * 0.05 + 100.0, np.arange(75) * 0.05 - 20.0)
    n = ra_grid.size
    return pd.DataFrame(
        {
            "source_id": np.arange(n, dtype=np.int64) * 7 + 3,
            "ra": ra_grid.ravel() + rng.uniform(-0.01, 0.01, n),
            "dec": dec_grid.ravel() + rng.uniform(-0.01, 0.01, n),
            "phot_g_mean_mag": rng.uniform(12.0, 19.0, n).astype(np.float32),
            "dp_phot": rng.uniform(50.0, 350.0, n).astype(np.float32),
            "dnu_phot": rng.uniform(2.0, 8.0, n).astype(np.float32),
            "true_state": rng.choice(["RC", "RGB"], n),
        }
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work folder with a built catalogue (three Parquet partitions and a manifest)."""
    root = tmp_path_factory.mktemp("hats")
    catalogue = _catalogue(np.random.default_rng(5))
    (root / "catalogue").mkdir()
    for index, part in enumerate(np.array_split(np.arange(len(catalogue)), 3)):
        catalogue.iloc[part].to_parquet(root / "catalogue" / f"part-{index:05d}.parquet", index=False)
    (root / "catalogue" / "_manifest.json").write_text(json.dumps({"settings": {}, "summary": {}}))
    return root


@pytest.fixture(scope="module")
def exported(workdir: Path) -> Path:
    out = workdir / "export" / "rc_hats"
    result = hats_export.export_hats(workdir, out, cut=CUT, pixel_threshold=300, highest_order=8)
    catalogue = pd.read_parquet(workdir / "catalogue")
    assert result["rows"] == int(CUT.mask(catalogue).sum()) > 100
    assert result["catalogue_rows"] == len(catalogue)
    return out


def _offset(ra: np.ndarray, dec: np.ndarray, pa_deg: np.ndarray, sep_arcsec: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``sep_arcsec`` away from (ra, dec) at position angles ``pa_deg`` (astropy)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    moved = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(pa_deg * u.deg, sep_arcsec * u.arcsec)
    return moved.ra.deg, moved.dec.deg


def test_lsdb_opens_the_export_lazily_with_the_selected_rows(workdir: Path, exported: Path) -> None:
    catalogue = pd.read_parquet(workdir / "catalogue")
    expected = catalogue[CUT.mask(catalogue)]
    opened = lsdb.open_catalog(exported)
    assert len(opened.get_healpix_pixels()) > 1  # partitioned by sky pixel, read per pixel
    assert opened.hc_structure.catalog_info.total_rows == len(expected)
    assert opened.hc_structure.catalog_info.extra_dict()["redclump_cut"] == CUT.text()
    rows = opened.compute()
    assert sorted(rows["source_id"]) == sorted(expected["source_id"])
    assert {"source_id", "ra", "dec", "dp_phot", "phot_g_mean_mag", "true_state"} <= set(rows.columns)
    back = rows.set_index("source_id").loc[expected["source_id"]]
    np.testing.assert_array_equal(back["dp_phot"].to_numpy(), expected["dp_phot"].to_numpy())
    np.testing.assert_array_equal(back["ra"].to_numpy(), expected["ra"].to_numpy())


def test_crossmatch_with_another_hats_catalogue_finds_the_known_pairs(
    workdir: Path, exported: Path, tmp_path: Path
) -> None:
    """Another survey's HATS catalogue holds counterparts 0.4″ from 40 exported stars and from
    20 stars the cut rejected, and 20 stars far from any: the cross-match pairs exactly the 40,
    each with its own star, at 0.4″."""
    rng = np.random.default_rng(9)
    catalogue = pd.read_parquet(workdir / "catalogue")
    passing = CUT.mask(catalogue)
    chosen = catalogue[passing].sample(40, random_state=1)
    rejected = catalogue[~passing].sample(20, random_state=2)
    near = pd.concat([chosen, rejected])
    ra, dec = _offset(near["ra"].to_numpy(), near["dec"].to_numpy(), rng.uniform(0, 360, len(near)), OFFSET_ARCSEC)
    lonely_ra = np.arange(20) * 0.05 + 100.025  # between grid points: ≥ 60″ from every star
    lonely_dec = np.full(20, -19.975)
    other = pd.DataFrame(
        {
            "other_id": np.arange(len(near) + 20) + 1_000_000,
            "ra": np.concatenate([ra, lonely_ra]),
            "dec": np.concatenate([dec, lonely_dec]),
            "partner": np.concatenate([near["source_id"].to_numpy(), np.full(20, -1)]),
        }
    )
    lsdb.from_dataframe(other, ra_column="ra", dec_column="dec").write_catalog(tmp_path / "other")
    other_hats = lsdb.open_catalog(tmp_path / "other")

    matched = (
        lsdb.open_catalog(exported)
        .crossmatch(other_hats, radius_arcsec=1.0, suffixes=("", "_other"), suffix_method="overlapping_columns")
        .compute()
    )

    assert len(matched) == len(chosen)
    assert sorted(matched["source_id"]) == sorted(chosen["source_id"])
    np.testing.assert_array_equal(matched["partner"].to_numpy(), matched["source_id"].to_numpy())
    np.testing.assert_allclose(matched["_dist_arcsec"].to_numpy(), OFFSET_ARCSEC, atol=1e-6)


def test_an_existing_folder_is_never_replaced_silently(workdir: Path, exported: Path, tmp_path: Path) -> None:
    before = sorted(p.relative_to(exported) for p in exported.rglob("*"))
    with pytest.raises(hats_export.HatsExportError, match="exists; pass --overwrite"):
        hats_export.export_hats(workdir, exported, cut=CUT)
    assert sorted(p.relative_to(exported) for p in exported.rglob("*")) == before
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep me")
    with pytest.raises(hats_export.HatsExportError, match="not a HATS catalogue"):
        hats_export.export_hats(workdir, mine, cut=CUT, overwrite=True)
    assert (mine / "thesis.tex").read_text() == "keep me"


def test_overwrite_replaces_an_export_whole(workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rc"
    hats_export.export_hats(workdir, out, cut=CUT, pixel_threshold=300, highest_order=8)
    tighter = CUT.replace(dp_min=300.0)
    result = hats_export.export_hats(workdir, out, cut=tighter, overwrite=True, pixel_threshold=300, highest_order=8)
    rows = lsdb.open_catalog(out).compute()
    assert len(rows) == result["rows"] and (rows["dp_phot"] > 300.0).all()
    assert not list(tmp_path.glob(".rc.*"))  # no temporaries left beside it


def test_no_cut_exports_every_row(workdir: Path, tmp_path: Path) -> None:
    result = hats_export.export_hats(workdir, tmp_path / "all", pixel_threshold=2000, highest_order=8)
    catalogue = pd.read_parquet(workdir / "catalogue")
    rows = lsdb.open_catalog(tmp_path / "all").compute()
    assert result["rows"] == len(rows) == len(catalogue) and result["cut"] == "all"
    assert sorted(rows["source_id"]) == sorted(catalogue["source_id"])


def test_clear_errors_for_no_catalogue_and_an_empty_selection(workdir: Path, tmp_path: Path) -> None:
    with pytest.raises(hats_export.HatsExportError, match="no catalogue in"):
        hats_export.export_hats(tmp_path, tmp_path / "out")
    with pytest.raises(hats_export.HatsExportError, match="no catalogue star passes dp_phot > 1000"):
        hats_export.export_hats(workdir, tmp_path / "out", cut=Cut(dp_min=1000.0))
    assert not (tmp_path / "out").exists()


def test_the_command_takes_select_s_cut_flags(
    workdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli_hats"
    argv = [
        "export",
        "--workdir",
        str(workdir),
        "--workers",
        "1",
        "--hats",
        str(out),
        "--dp-min",
        "250",
        "--g-max",
        "17",
    ]
    assert cli.main(argv) == 0
    assert "HATS pixels" in capsys.readouterr().out
    assert lsdb.open_catalog(out).hc_structure.catalog_info.extra_dict()["redclump_cut"] == CUT.text()
    assert cli.main(argv) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
