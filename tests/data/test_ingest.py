"""Real-catalogue ingestion: formats, column maps, units, and every kind of bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redclump.data import ingest, schema

from redclump import cli

MAPS = Path(ingest.__file__).parent / "maps"


@pytest.fixture(scope="module")
def sample(small_input: pd.DataFrame) -> pd.DataFrame:
    return small_input[list(schema.INPUT_COLUMNS)].head(200).reset_index(drop=True)


def _identity_map(columns: list[str], kind: str = "input") -> ingest.ColumnMap:
    return ingest.ColumnMap({c: (c, None) for c in columns}, kind=kind)


FORMATS = (".parquet", ".csv", ".fits", ".vot")


def _write(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` in the format its suffix names."""
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        Table.from_pandas(frame).write(path, format="fits" if path.suffix == ".fits" else "votable")


@pytest.mark.parametrize("suffix", FORMATS)
def test_round_trip_in_every_format(sample: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"in{suffix}"
    _write(sample, path)
    frame, report = ingest.ingest(path, ingest.ColumnMap.read(MAPS / "gaia_dr2_crossmatch.toml"), "input")
    assert report["rows_kept"] == len(sample) and report["rows_dropped"] == {}
    np.testing.assert_allclose(frame["parallax"], sample["parallax"], rtol=1e-6)
    assert frame["source_id"].tolist() == sample["source_id"].tolist()


def test_declared_units_are_converted(sample: pd.DataFrame, tmp_path: Path) -> None:
    table = Table.from_pandas(sample)
    table["parallax"] = table["parallax"] / 1000.0
    table["parallax"].unit = "arcsec"
    path = tmp_path / "arcsec.fits"
    table.write(path)
    frame, _ = ingest.ingest(path, ingest.ColumnMap.read(MAPS / "gaia_dr2_crossmatch.toml"), "input")
    np.testing.assert_allclose(frame["parallax"], sample["parallax"], rtol=1e-5)


def test_map_units_for_files_without_units(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Source": [1, 2],
            "GLON": [10.0, 20.0],
            "GLAT": [5.0, -5.0],
            "Teff_phot": [4800.0, 4700.0],
            "logg_phot": [2.4, 2.5],
            "Deltap_phot": [250.0, 80.0],
            "Deltanu_phot": [4.0, 9.0],
            "e_Teff_phot": [100.0, 90.0],
            "e_logg_phot": [0.2, 0.2],
            "e_Deltap_phot": [50.0, 30.0],
            "e_Deltanu_phot": [1.0, 1.0],
            "Dist": [3000.0, 5000.0],
        }
    )
    path = tmp_path / "lucey.csv"
    frame.to_csv(path, index=False)
    out, _ = ingest.ingest(path, ingest.ColumnMap.read(MAPS / "lucey2020_vizier.toml"), "catalogue")
    np.testing.assert_allclose(out["dist"], [3.0, 5.0])  # pc → kpc


def test_missing_columns_listed_with_suggestions(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    sample.drop(columns=["h_m", "ks_m"]).rename(columns={"w1mpro": "w1_mpro"}).to_parquet(path)
    with pytest.raises(ingest.IngestError, match=r"x\.parquet.*'h_m'.*'ks_m'.*'w1mpro'.*did you mean 'w1_mpro'"):
        ingest.ingest(path, ingest.ColumnMap.read(MAPS / "gaia_dr2_crossmatch.toml"), "input")


def test_required_columns_missing_after_mapping(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    sample.to_parquet(path)
    cols = [c for c in schema.INPUT_COLUMNS if c not in ("parallax", "b")]
    with pytest.raises(ingest.IngestError, match=r"missing required column\(s\) 'b' \(file has 'b'\), 'parallax'"):
        ingest.ingest(path, _identity_map(cols), "input")


def test_wrong_units_wrong_types_duplicates_angles(sample: pd.DataFrame, tmp_path: Path) -> None:
    table = Table.from_pandas(sample)
    table["parallax"].unit = "K"
    table.write(tmp_path / "units.fits")
    with pytest.raises(ingest.IngestError, match=r"'parallax'.*in K, which cannot convert to mas"):
        ingest.ingest(tmp_path / "units.fits", ingest.ColumnMap.read(MAPS / "gaia_dr2_crossmatch.toml"), "input")
    bad = sample.assign(j_m=sample["j_m"].astype(str) + "x")
    bad.to_parquet(tmp_path / "types.parquet")
    with pytest.raises(ingest.IngestError, match=r"column 'j_m'.*expected numbers"):
        ingest.ingest(tmp_path / "types.parquet", _identity_map(list(schema.INPUT_COLUMNS)), "input")
    dup = sample.copy()
    dup.loc[1, "source_id"] = dup.loc[0, "source_id"]
    dup.to_parquet(tmp_path / "dup.parquet")
    with pytest.raises(ingest.IngestError, match=r"'source_id' has 1 duplicate"):
        ingest.ingest(tmp_path / "dup.parquet", _identity_map(list(schema.INPUT_COLUMNS)), "input")
    far = sample.copy()
    far.loc[:2, "dec"] = 95.0
    far.to_parquet(tmp_path / "angles.parquet")
    with pytest.raises(ingest.IngestError, match=r"column 'dec'.*3 value\(s\) outside \[-90, 90\]"):
        ingest.ingest(tmp_path / "angles.parquet", _identity_map(list(schema.INPUT_COLUMNS)), "input")


def test_non_finite_rows_are_dropped_and_counted(sample: pd.DataFrame, tmp_path: Path) -> None:
    bad = sample.copy()
    bad.loc[:4, "j_m"] = np.nan
    bad.loc[10, "parallax"] = np.inf
    bad.to_parquet(tmp_path / "nan.parquet")
    frame, report = ingest.ingest(tmp_path / "nan.parquet", _identity_map(list(schema.INPUT_COLUMNS)), "input")
    assert report["rows_dropped"] == {"non-finite parallax": 1, "non-finite j_m": 5}
    assert len(frame) == len(sample) - 6


@pytest.mark.parametrize("content", [b"", b"PAR1garbage", b"SIMPLE  = T\x00\x01"])
def test_empty_truncated_corrupt_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / ("bad.parquet" if content.startswith(b"PAR") or not content else "bad.fits")
    path.write_bytes(content)
    with pytest.raises(ingest.IngestError, match=r"bad\.(parquet|fits): (the file is empty|cannot be read)"):
        ingest.read_table(path)


def test_map_naming_absent_columns(sample: pd.DataFrame, tmp_path: Path) -> None:
    sample.to_parquet(tmp_path / "x.parquet")
    column_map = ingest.ColumnMap.from_toml('[columns]\nparallax = "plx"\nsource_id = "source_id"', source="m.toml")
    with pytest.raises(ingest.IngestError, match=r"m\.toml names column\(s\) not in the file: 'plx' \(for parallax\)"):
        ingest.ingest(tmp_path / "x.parquet", column_map, "input")


def test_shipped_maps_parse() -> None:
    maps = sorted(MAPS.glob("*.toml"))
    assert len(maps) >= 5
    for path in maps:
        assert ingest.ColumnMap.read(path).columns


_CANONICAL = st.sampled_from(sorted(set(schema.INPUT_COLUMNS) | {"teff_phot", "dp_phot", "dist"}))
_FILE_COLUMN = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
_UNIT = st.sampled_from([None, "mas", "arcsec", "deg", "K", "mag", "kpc", "pc", "uHz", "s"])


def _result_or_message(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """``(result, None)``, or ``(None, message)`` of the IngestError raised; other errors escape."""
    try:
        return func(*args, **kwargs), None
    except ingest.IngestError as exc:
        return None, str(exc)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_map_parser_fuzz(text: str) -> None:
    # Any text either parses into a usable map or raises MapError naming the map's source; nothing
    # else escapes (an uncaught KeyError or AttributeError fails the test).
    column_map, message = _result_or_message(ingest.ColumnMap.from_toml, text, source="fuzz.toml")
    if message is not None:
        assert message.startswith("fuzz.toml: ")
        return
    assert column_map.columns and column_map.source == "fuzz.toml"
    assert column_map.kind is None or column_map.kind in ingest.REQUIRED
    for file_column, unit in column_map.columns.values():
        assert isinstance(file_column, str) and (unit is None or isinstance(unit, str))


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_CANONICAL, st.tuples(_FILE_COLUMN, _UNIT), min_size=1, max_size=8))
def test_map_parser_round_trips_any_valid_map(columns: dict[str, tuple[str, str | None]]) -> None:
    # A map written in the documented TOML form parses back to the same columns and units.
    lines = ["[columns]"]
    for canonical, (file_column, unit) in columns.items():
        if unit is None:
            lines.append(f"{canonical} = {_toml_string(file_column)}")
        else:
            lines.append(f"{canonical} = {{ column = {_toml_string(file_column)}, unit = {_toml_string(unit)} }}")
    assert ingest.ColumnMap.from_toml("\n".join(lines)).columns == columns


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.sampled_from(FORMATS))
def test_reader_fuzz(tmp_path_factory: pytest.TempPathFactory, content: bytes, suffix: str) -> None:
    # Random bytes either read as a non-empty table whose units name only its own columns, or
    # raise IngestError whose message starts with the file's path.
    path = tmp_path_factory.mktemp("fuzz") / f"f{suffix}"
    path.write_bytes(content)
    table, message = _result_or_message(ingest.read_table, path)
    if message is not None:
        assert message.startswith(f"{path}: ")
        return
    frame, units = table
    assert len(frame) > 0 and set(units) <= set(frame.columns)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FORMATS), st.floats(0.0, 1.0, exclude_max=True))
def test_truncated_files_raise_or_read_a_prefix(
    sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory, suffix: str, keep: float
) -> None:
    # A real file cut short anywhere: an IngestError naming it, or (CSV) a table whose rows are a
    # prefix of the original's, never more rows than were written.
    folder = tmp_path_factory.mktemp("cut")
    whole = folder / f"whole{suffix}"
    head = sample.head(20)
    _write(head, whole)
    content = whole.read_bytes()
    path = folder / f"cut{suffix}"
    path.write_bytes(content[: int(keep * len(content))])
    table, message = _result_or_message(ingest.read_table, path)
    if message is not None:
        assert message.startswith(f"{path}: ")
        return
    frame = table[0]
    assert 0 < len(frame) <= len(head)
    # Every row before the last (which the cut may have shortened) is the original's.
    complete = frame["source_id"].iloc[:-1] if "source_id" in frame else []
    assert list(complete) == head["source_id"].head(len(complete)).tolist()


def test_ingested_input_goes_through_the_cli(
    sample: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.csv"
    sample.to_csv(path, index=False)
    assert cli.main(["ingest", str(path), "--map", "gaia_dr2_crossmatch", "--workdir", str(tmp_path / "w")]) == 0
    assert "200 kept as input" in capsys.readouterr().out
    assert len(pd.read_parquet(tmp_path / "w" / "input")) == 200
    assert (
        cli.main(
            ["ingest", str(tmp_path / "none.csv"), "--map", "gaia_dr2_crossmatch", "--workdir", str(tmp_path / "w")]
        )
        == 2
    )


def test_append_adds_partitions_and_refuses_duplicates(sample: pd.DataFrame, tmp_path: Path) -> None:
    work = tmp_path / "w"
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    sample.head(100).to_parquet(first)
    sample.tail(100).to_parquet(second)
    args = ["--map", "gaia_dr2_crossmatch", "--workdir", str(work), "--append"]
    assert cli.main(["ingest", str(first), *args]) == 0
    assert cli.main(["ingest", str(second), *args]) == 0
    assert len(pd.read_parquet(work / "input")) == 200
    assert len(list((work / "input").glob("part-*.parquet"))) == 2
    assert cli.main(["ingest", str(first), *args]) == 2  # the same source_ids again
    assert len(pd.read_parquet(work / "input")) == 200
