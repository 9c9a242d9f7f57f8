"""Exports: every format carries the schema's units, descriptions and UCDs and the provenance, as
astropy reads them back and as STILTS (TOPCAT's engine) sees them."""

from __future__ import annotations

import doctest
import json
import math
import shutil
import subprocess
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from redclump.data import export
from redclump.data.schema import BAND_ERRORS, CATALOGUE_PREDICTIONS, COLUMNS, INPUT_COLUMNS, UNITS, mixture_columns

STILTS = shutil.which("stilts")
needs_stilts = pytest.mark.skipif(STILTS is None, reason="Debian's stilts is not installed (.ci/run installs it)")

META = {
    "cut": 'dp_phot > 225 & dnu_phot < 5.5 & "quoted" <b>',
    "region": "10 ≤ l ≤ 20 & -5 ≤ b ≤ 5",
    "region_json": json.dumps({"kind": "box", "x": "l", "y": "b", "bounds": [10, -5, 20, 5]}),
    "n_rows": 40,
    "software": "redclump 0.1.0",
    "catalogue": "/data/run/catalogue",
    "contamination": 0.0625,
    "contamination_lo": 0.03,
    "completeness_hi": float("nan"),
}


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """Every kind of column the catalogue has: schema floats, ints, booleans, categories, strings,
    a mixture column and one column outside the schema."""
    rng = np.random.default_rng(3)
    n = 40
    frame = pd.DataFrame(
        {name: rng.normal(10, 1, n) for name in ("ra", "dec", "l", "b", "parallax", "dist", "dp_phot")}
    )
    frame["source_id"] = rng.integers(0, 2**60, n)
    frame["logg_phot"] = rng.uniform(2, 3, n).astype(np.float32)
    frame["tier1"] = rng.random(n) < 0.5
    frame["true_state"] = pd.Categorical(rng.choice(["RC", "RGB"], n))
    frame["split"] = rng.choice(["train", "test"], n)
    frame["dp_mix_mu0"] = rng.normal(250, 30, n)
    frame["my_flag"] = np.arange(n)
    return frame


def test_every_canonical_column_has_unit_description_and_ucd() -> None:
    canonical = {*INPUT_COLUMNS, *CATALOGUE_PREDICTIONS, *mixture_columns("dp", 3), *mixture_columns("dnu", 3)}
    canonical |= {"teff", "logg", "feh", "snr", "deltap", "deltanu", "class", "split", "true_state", "true_dist"}
    missing = sorted(canonical - set(COLUMNS))
    assert not missing, missing
    for name, info in COLUMNS.items():
        assert info.description and info.ucd, name
        assert len(info.description) <= 68, name  # one line, fits one FITS TCOMMn card
        if info.unit:
            u.Unit(info.unit)  # parses
    assert UNITS["parallax"] == "mas" and UNITS["dist"] == "kpc" and "source_id" not in UNITS
    assert COLUMNS[BAND_ERRORS["w1mpro"]].ucd.startswith("stat.error;phot.mag")


@pytest.mark.parametrize("suffix", list(export.FORMATS))
def test_astropy_reads_back_quantities_and_metadata(sample: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    out = export.write_table(sample, tmp_path / f"sample{suffix}", META)
    table = export.read_table(out)
    assert len(table) == len(sample)
    assert isinstance(table["parallax"], u.Quantity) and table["parallax"].unit == u.mas
    assert table["dist"].unit == u.kpc and table["dp_phot"].unit == u.s and table["dp_mix_mu0"].unit == u.s
    assert table["logg_phot"].unit == u.dex
    np.testing.assert_allclose(table["dist"].to_value(u.kpc), sample["dist"])
    np.testing.assert_allclose(table["dist"].to_value(u.pc), 1000 * sample["dist"])
    assert not isinstance(table["my_flag"], u.Quantity)
    assert list(np.asarray(table["source_id"])) == list(sample["source_id"])
    assert list(np.asarray(table["tier1"], dtype=bool)) == list(sample["tier1"])
    assert [str(s) if isinstance(s, str) else s.decode() for s in table["true_state"]] == list(sample["true_state"])
    assert table.meta["cut"] == META["cut"]
    # FITS headers are ASCII: the region's symbols are spelled out there.
    assert table.meta["region"] == ("10 <= l <= 20 & -5 <= b <= 5" if suffix == ".fits" else META["region"])
    assert json.loads(table.meta["region_json"]) == json.loads(META["region_json"])
    assert table.meta["n_rows"] == 40 and table.meta["software"] == META["software"]
    assert math.isclose(float(table.meta["contamination"]), 0.0625)
    assert math.isnan(float(table.meta["completeness_hi"]))
    if suffix != ".fits":  # astropy's FITS reader does not read TCOMMn/TUCDn (STILTS does: below)
        assert table["dist"].info.description == COLUMNS["dist"].description
        assert table["dist"].info.meta["ucd"] == "pos.distance"


def test_plain_astropy_read_gives_units(sample: pd.DataFrame, tmp_path: Path) -> None:
    """Without our reader: QTable.read as a user would call it."""
    from astropy.table import QTable

    for suffix, fmt in ((".parquet", None), (".ecsv", None), (".vot", None), (".csv", "ascii.ecsv")):
        path = export.write_table(sample, tmp_path / f"s{suffix}", META)
        table = QTable.read(path, format=fmt) if fmt else QTable.read(path)
        assert table["parallax"].unit == u.mas, suffix
        if suffix != ".vot":
            assert table.meta["cut"] == META["cut"], suffix


def test_parquet_keeps_the_json_provenance_and_plain_readers_work(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = export.write_table(sample, tmp_path / "s.parquet", META)
    stored = json.loads(pq.read_schema(path).metadata[b"redclump"])
    assert stored["cut"] == META["cut"]
    pd.testing.assert_series_equal(pd.read_parquet(path)["dist"], sample["dist"])
    csv = export.write_table(sample, tmp_path / "s.csv", META)
    plain = pd.read_csv(csv, comment="#")
    np.testing.assert_allclose(plain["dist"], sample["dist"])


def test_fits_header_has_units_comments_and_ucds(sample: pd.DataFrame, tmp_path: Path) -> None:
    from astropy.io import fits

    path = export.write_table(sample, tmp_path / "s.fits", META)
    header = fits.getheader(path, 1)
    index = {header[f"TTYPE{i}"]: i for i in range(1, header["TFIELDS"] + 1)}
    assert header[f"TUNIT{index['parallax']}"] == "mas"
    assert header[f"TUNIT{index['logg_phot']}"] == "dex"
    assert header[f"TCOMM{index['dist']}"] == COLUMNS["dist"].description
    assert header[f"TUCD{index['dist']}"] == "pos.distance"
    assert header["RC_CUT"] == META["cut"]


def test_bad_suffix_and_existing_file_are_clear_errors(sample: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(export.ExportError, match=r"s\.txt: unknown output format '\.txt'"):
        export.write_table(sample, tmp_path / "s.txt", META)
    path = export.write_table(sample, tmp_path / "s.ecsv", META)
    before = path.read_bytes()
    with pytest.raises(export.ExportError, match="exists; pass --overwrite"):
        export.write_table(sample.head(3), path, META)
    assert path.read_bytes() == before
    export.write_table(sample.head(3), path, META, overwrite=True)
    assert len(export.read_table(path)) == 3
    assert not list(tmp_path.glob(".*tmp*"))


def test_doctests() -> None:
    assert doctest.testmod(export, raise_on_error=False).failed == 0


# ---- STILTS, the engine of TOPCAT -------------------------------------------------------------


def _stilts(*args: str) -> str:
    assert STILTS is not None
    result = subprocess.run([STILTS, *args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _stilts_columns(path: Path) -> dict[str, dict[str, str]]:
    """Column name → unit, UCD, description, as STILTS reads them."""
    text = _stilts("tpipe", f"in={path}", "cmd=meta Name Units UCD Description", "omode=out", "ofmt=csv")
    frame = pd.read_csv(pd.io.common.StringIO(text), keep_default_na=False)
    return {
        row["Name"]: {"unit": row["Units"], "ucd": row["UCD"], "description": row["Description"]}
        for _, row in frame.iterrows()
    }


@needs_stilts
@pytest.mark.parametrize("suffix", [".vot", ".fits"])
def test_stilts_reads_rows_units_ucds_and_the_cut(sample: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    path = export.write_table(sample, tmp_path / f"s{suffix}", META)
    count = _stilts("tpipe", f"in={path}", "omode=count")
    assert f"rows: {len(sample)}" in count
    columns = _stilts_columns(path)
    for name in ("parallax", "dist", "dp_phot", "logg_phot", "ra", "tier1"):
        info = COLUMNS[name]
        assert columns[name]["unit"] == info.unit, name
        assert columns[name]["ucd"] == info.ucd, name
        assert columns[name]["description"] == info.description, name
    meta = _stilts("tpipe", f"in={path}", "omode=meta")
    key = "cut:" if suffix == ".vot" else "RC_CUT:"
    assert key in meta and META["cut"] in meta
    if suffix == ".vot":
        # The rows themselves, through STILTS: its mean distance equals ours.
        stats = _stilts("tpipe", f"in={path}", "cmd=stats Name Mean", "omode=out", "ofmt=csv")
        means = pd.read_csv(pd.io.common.StringIO(stats)).set_index("Name")["Mean"]
        assert math.isclose(means["dist"], sample["dist"].mean(), rel_tol=1e-6)  # STILTS prints 7 digits


@needs_stilts
def test_stilts_votlint_finds_no_errors(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = export.write_table(sample, tmp_path / "s.vot", META)
    report = _stilts("votlint", "ucd=true", "unit=true", f"votable={path}")
    assert "ERROR" not in report.upper(), report
    assert report.strip() == "", report  # not even a warning
