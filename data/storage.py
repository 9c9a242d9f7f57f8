"""How the work folder's Parquet files are written: zstd, floats byte-stream-split, no float
dictionaries.

pyarrow's defaults (snappy, a dictionary for every column) suit columns with few distinct values.
A catalogue's magnitudes, errors, positions and predictions are almost all distinct: the
dictionary overflows, and each float32 value took ~6.1 bytes on disk, more than its 4 bytes in
memory. Written plain with BYTE_STREAM_SPLIT (the float's bytes grouped by significance, so that
the sign/exponent bytes compress well) and zstd, the same values take ~3.3 bytes and read about
ten times faster (one catalogue partition of the default build: 75.2 → 41.5 MB, read in 0.29 s
instead of 4.2 s; an input partition 56.4 → 31.2 MB).

The encoding is lossless: the values read back are bit-identical, and files written before this
(snappy, dictionaries) read the same way, so a work folder built before needs no rebuild.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["parquet_options", "write_parquet"]


def parquet_options(frame: pd.DataFrame) -> dict[str, Any]:
    """pyarrow ``write_table`` options for ``frame``: zstd; BYTE_STREAM_SPLIT and no dictionary
    for its float columns; dictionaries kept for the rest (ids, flags, labels).

    Examples
    --------
    >>> import numpy as np
    >>> options = parquet_options(pd.DataFrame({"ra": [1.0], "true_state": ["RC"], "tier1": [True]}))
    >>> options["compression"], options["use_dictionary"], options["column_encoding"]
    ('zstd', ['true_state', 'tier1'], {'ra': 'BYTE_STREAM_SPLIT'})
    """
    floats = [str(name) for name, dtype in frame.dtypes.items() if pd.api.types.is_float_dtype(dtype)]
    others = [str(name) for name in frame.columns if str(name) not in floats]
    return {
        "compression": "zstd",
        "use_dictionary": others,
        "column_encoding": dict.fromkeys(floats, "BYTE_STREAM_SPLIT"),
    }


def write_parquet(frame: pd.DataFrame, path: Path | str) -> None:
    """Write ``frame`` (without its index) to ``path`` with :func:`parquet_options`."""
    frame.to_parquet(path, index=False, **parquet_options(frame))
