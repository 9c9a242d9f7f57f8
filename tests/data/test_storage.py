"""The work folder's Parquet encoding: lossless, zstd, floats byte-stream-split, and smaller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from redclump.data.storage import parquet_options, write_parquet


def _frame(n: int = 100_000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    g = rng.uniform(10.0, 20.0, n).astype(np.float32)
    g[::97] = np.nan
    return pd.DataFrame(
        {
            "source_id": rng.integers(0, 2**62, n),
            "ra": rng.uniform(0.0, 360.0, n),
            "phot_g_mean_mag": g,
            "phot_g_mean_mag_error": (0.001 * np.exp(rng.normal(0.0, 1.0, n))).astype(np.float32),
            "true_state": rng.choice(["RC", "RGB", "2CL"], n),
            "tier2": rng.random(n) < 0.1,
        }
    )


def _encodings(path: Path, column: str) -> tuple[str, tuple[str, ...]]:
    meta = pq.ParquetFile(path).metadata
    index = meta.schema.names.index(column)
    chunk = meta.row_group(0).column(index)
    return chunk.compression, chunk.encodings


def test_values_read_back_bit_identical(tmp_path: Path) -> None:
    frame = _frame()
    write_parquet(frame, tmp_path / "a.parquet")
    back = pd.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert back["phot_g_mean_mag"].dtype == np.float32


def test_floats_are_split_and_zstd_and_labels_keep_their_dictionary(tmp_path: Path) -> None:
    write_parquet(_frame(), tmp_path / "a.parquet")
    compression, encodings = _encodings(tmp_path / "a.parquet", "phot_g_mean_mag")
    assert compression == "ZSTD" and "BYTE_STREAM_SPLIT" in encodings
    assert "RLE_DICTIONARY" in _encodings(tmp_path / "a.parquet", "true_state")[1]
    assert set(parquet_options(_frame())["column_encoding"]) == {"ra", "phot_g_mean_mag", "phot_g_mean_mag_error"}


def test_smaller_than_pyarrows_defaults(tmp_path: Path) -> None:
    """Distinct float values overflow a dictionary: the default file is larger than the values."""
    frame = _frame()
    frame.to_parquet(tmp_path / "default.parquet", index=False)
    write_parquet(frame, tmp_path / "ours.parquet")
    ratio = (tmp_path / "ours.parquet").stat().st_size / (tmp_path / "default.parquet").stat().st_size
    assert ratio < 0.75, ratio


def test_the_mock_writes_its_partitions_so(small_mock_dir: Path) -> None:
    part = sorted((small_mock_dir / "input").glob("part-*.parquet"))[0]
    assert _encodings(part, "phot_g_mean_mag")[0] == "ZSTD"
    assert "BYTE_STREAM_SPLIT" in _encodings(part, "parallax")[1]
    assert _encodings(small_mock_dir / "truthset.parquet", "ks_m")[0] == "ZSTD"
