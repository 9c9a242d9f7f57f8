"""Write a selected sample with its units, descriptions, UCDs and provenance, in the formats
astronomers' tools read: Parquet, FITS, VOTable, ECSV and CSV.

The one export module (`redclump select`, the app's download, the notebook API and SAMP all
write through :func:`write_table`). Every column named in :data:`redclump.data.schema.COLUMNS`
carries its unit, one-line description and UCD; the provenance (cut, drawn region, metrics,
software, catalogue) travels as the file's metadata:

========  =====================================================================================
format    where the column metadata and the provenance go
========  =====================================================================================
Parquet   astropy's ``table_meta_yaml`` header (``QTable.read`` gives Quantities), and the
          provenance also as JSON under the schema key ``redclump``
FITS      ``TUNITn``, ``TCOMMn`` (description) and ``TUCDn`` (UCD, as TOPCAT/STILTS write it);
          provenance as ``HIERARCH RC_<KEY>`` header cards
VOTable   FIELD ``unit``, ``ucd`` and DESCRIPTION; the cut, region and metrics as PARAMs, the
          software and catalogue as INFOs; BINARY2 serialisation (compact, streamed by TOPCAT)
ECSV      astropy's YAML header (units, descriptions, ``ucd`` in each column's meta; provenance
          in the table's meta)
CSV       the same file as ECSV with a comma delimiter: any CSV reader that skips ``#`` lines
          reads the rows; ``QTable.read(path, format="ascii.ecsv")`` gets the units back
========  =====================================================================================

Read any of them back with :func:`read_table`.
"""

from __future__ import annotations

import io
import json
import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.io import fits
from astropy.io.votable import from_table, parse
from astropy.io.votable.tree import Field, Info, Param
from astropy.table import QTable, Table

from .schema import column_info

__all__ = ["FORMATS", "ExportError", "read_table", "to_qtable", "votable_bytes", "write_table"]

Format = Literal["parquet", "fits", "votable", "ecsv", "csv"]

#: File suffix → format.
FORMATS: dict[str, Format] = {
    ".parquet": "parquet",
    ".fits": "fits",
    ".vot": "votable",
    ".xml": "votable",
    ".ecsv": "ecsv",
    ".csv": "csv",
}
#: Provenance keys written as VOTable PARAMs (the selection's definition and its numbers); every
#: other key is an INFO.
_PARAM_KEYS = ("cut", "region", "region_json", "n_rows")


class ExportError(ValueError):
    """A sample cannot be written: unknown format, a file in the way."""


def format_of(path: Path) -> Format:
    """The format a path's suffix asks for.

    >>> format_of(Path("sample.vot"))
    'votable'
    >>> format_of(Path("sample.txt"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    redclump.data.export.ExportError: sample.txt: unknown output format '.txt' (use .parquet, .fits, ...)
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        names = ", ".join(FORMATS)
        names = names[: names.rfind(", ")] + " or" + names[names.rfind(", ") + 1 :]
        msg = f"{path}: unknown output format '{suffix}' (use {names})"
        raise ExportError(msg)
    return FORMATS[suffix]


def _plain(value: Any) -> Any:
    """A metadata value every format can hold: numpy scalars to Python, NaN kept as float."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_qtable(frame: pd.DataFrame, meta: Mapping[str, Any]) -> Any:
    """The rows of ``frame`` as an astropy ``QTable``: schema columns become Quantities with their
    unit, each column gets its description and ``meta["ucd"]``, and ``meta`` (the provenance)
    becomes the table's meta.

    Parameters
    ----------
    frame
        The sample; columns outside the schema are kept, without unit or UCD. Categorical
        columns become strings.
    meta
        Provenance: the cut text, region, metrics, software, catalogue (JSON-able scalars).

    Returns
    -------
    astropy.table.QTable
        One row per row of ``frame``; the data are shared with ``frame`` where the dtype allows.

    Examples
    --------
    >>> import pandas as pd
    >>> table = to_qtable(pd.DataFrame({"dist": [1.5, 3.0], "flag": [1, 2]}), {"cut": "dist > 1"})
    >>> table["dist"].unit, table["dist"].info.meta["ucd"], table.meta["cut"]
    (Unit("kpc"), 'pos.distance', 'dist > 1')
    """
    table = QTable(meta={key: _plain(value) for key, value in meta.items()})
    for name in frame.columns:
        series = frame[name]
        values = series.to_numpy()
        if isinstance(series.dtype, pd.CategoricalDtype) or values.dtype == object:
            values = series.astype(str).to_numpy().astype(str)
        info = column_info(str(name))
        if info is not None and info.unit:
            table[str(name)] = u.Quantity(values, info.unit, copy=False)
        else:
            table[str(name)] = values
        if info is not None:
            table[str(name)].info.description = info.description
            table[str(name)].info.meta = {"ucd": info.ucd}
    return table


def _parquet_header(table: Any, scratch: Path) -> dict[bytes, bytes]:
    """astropy's Parquet metadata for ``table`` (``table_meta_yaml``: units, descriptions, meta;
    ``table::len::<name>``: string widths): made by astropy's own writer on the table's first
    zero rows (at ``scratch``), so that the rows themselves go through pyarrow from pandas, fast."""
    try:
        table[:0].write(scratch, format="parquet", overwrite=True)
        return dict(pq.read_schema(scratch).metadata)
    finally:
        scratch.unlink(missing_ok=True)


def _write_parquet(frame: pd.DataFrame, table: Any, tmp: Path, meta: Mapping[str, Any]) -> None:
    plain = frame.reset_index(drop=True)
    for name in plain.columns:
        if isinstance(plain[name].dtype, pd.CategoricalDtype):
            plain[name] = plain[name].astype(str)
    arrow = pa.Table.from_pandas(plain, preserve_index=False)
    header = {
        **(arrow.schema.metadata or {}),
        **_parquet_header(table, tmp.with_name(tmp.name + ".header")),
        b"redclump": json.dumps({k: _plain(v) for k, v in meta.items()}).encode(),
    }
    pq.write_table(arrow.replace_schema_metadata(header), tmp)


#: FITS headers are ASCII: the symbols redclump's texts use (cut, region), spelled out.
_ASCII = str.maketrans({"≤": "<=", "≥": ">=", "×": "x", "°": " deg", "Δ": "Delta", "ν": "nu", "µ": "u", "−": "-"})


def _fits_value(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # FITS header values cannot be NaN or infinite
    if isinstance(value, str) and not value.isascii():
        return value.translate(_ASCII).encode("ascii", "backslashreplace").decode()
    return value


def _write_fits(table: Any, tmp: Path) -> None:
    data = table.copy(copy_data=False)
    data.meta = {}
    with warnings.catch_warnings():
        # FITS has no logarithmic units: astropy warns and leaves TUNITn out for dex columns,
        # which are given TUNITn = 'dex' below (as TOPCAT and VizieR write them).
        warnings.filterwarnings("ignore", message=".*could not be saved in native FITS format.*")
        hdu = fits.table_to_hdu(data)
    for index, name in enumerate(table.colnames, start=1):
        info = column_info(name)
        if info is not None:
            if info.unit == "dex":
                hdu.header[f"TUNIT{index}"] = "dex"
            hdu.header[f"TCOMM{index}"] = info.description
            hdu.header[f"TUCD{index}"] = info.ucd
    for key, value in table.meta.items():
        hdu.header[f"HIERARCH RC_{key.upper()}"] = _fits_value(value)
    hdu.writeto(tmp)


class _TextParam(Param):
    """A char PARAM whose value is XML-escaped once: astropy's Param escapes a char value for
    TABLEDATA and then again as an attribute ("&amp;gt;" for ">")."""

    def __init__(self, document: Any, *, value: str, **kwargs: Any) -> None:
        datatype = "char" if value.isascii() else "unicodeChar"  # a char PARAM holds ASCII only
        super().__init__(document, datatype=datatype, arraysize="*", value=value, **kwargs)

    def to_xml(self, w: Any, **kwargs: Any) -> None:
        Field.to_xml(self, w, **kwargs)


def votable_bytes(table: Any) -> bytes:
    """``table`` (from :func:`to_qtable`) as a VOTable 1.4 document: FIELDs with unit, UCD and
    DESCRIPTION; the cut, region and row count as PARAMs, the metrics and the rest of the
    provenance as PARAMs (numbers) or INFOs (text). BINARY2 serialisation."""
    with warnings.catch_warnings():
        # 'dex' (log g, [Fe/H]) is not a VOUnit; TOPCAT and STILTS take it as written.
        warnings.filterwarnings("ignore", message=".*Invalid unit string 'dex'.*")
        document = from_table(table.copy(copy_data=False))
    votable_table = document.get_first_table()
    for field in votable_table.fields:
        if field.datatype == "bit" and not field.arraysize:
            # astropy writes a bool column as a scalar 'bit', which STILTS 3.4 cannot read
            # from BINARY2; 'boolean' is the VOTable type for a true/false column.
            field.datatype = "boolean"
        info = column_info(field.name)
        if info is not None:
            field.ucd = info.ucd
            field.description = info.description
    resource = document.resources[0]
    for key, value in table.meta.items():
        value = _plain(value)
        if key in _PARAM_KEYS or isinstance(value, int | float):
            if isinstance(value, bool):
                kwargs = {"datatype": "boolean", "value": value}
            elif isinstance(value, int):
                kwargs = {"datatype": "long", "value": value}
            elif isinstance(value, float):
                kwargs = {"datatype": "double", "value": value}
            else:
                votable_table.params.append(_TextParam(document, name=key, ID=f"rc_{key}", value=str(value)))
                continue
            votable_table.params.append(Param(document, name=key, ID=f"rc_{key}", **kwargs))
        else:
            resource.infos.append(Info(name=key, value=str(value)))
    votable_table.format = "binary2"
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Invalid unit string 'dex'.*")
        document.to_xml(buffer)
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, out: Path, meta: Mapping[str, Any], *, overwrite: bool = False) -> Path:
    """Write ``frame`` with the schema's column metadata and the provenance ``meta`` to ``out``,
    in the format its suffix names (:data:`FORMATS`), atomically (temporary name, then rename).

    Parameters
    ----------
    frame
        The rows to write.
    out
        Target path; its suffix picks the format.
    meta
        Provenance (cut, region, metrics, software, catalogue): JSON-able scalars.
    overwrite
        Replace an existing ``out``; otherwise an existing file is an error.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ExportError
        Unknown suffix, or ``out`` exists and ``overwrite`` is false.
    """
    out = Path(out)
    kind = format_of(out)
    if out.exists() and not overwrite:
        msg = f"{out} exists; pass --overwrite to replace it"
        raise ExportError(msg)
    table = to_qtable(frame, meta)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        if kind == "parquet":
            _write_parquet(frame, table, tmp, meta)
        elif kind == "fits":
            _write_fits(table, tmp)
        elif kind == "votable":
            tmp.write_bytes(votable_bytes(table))
        else:
            table.write(tmp, format="ascii.ecsv", delimiter="," if kind == "csv" else " ")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def _with_dex(table: Any) -> Any:
    """``table`` with its 'dex' units as astropy's ``u.dex``: the FITS reader leaves 'dex'
    unrecognised and the VOUnit parser makes another unit of that name."""
    for column in table.itercols():
        if column.unit is not None and str(column.unit) == "dex":
            column.unit = u.dex
    return table


def read_table(path: Path) -> Any:
    """Read a file written by :func:`write_table` as an astropy ``QTable``: Quantities with the
    schema's units, and the provenance in ``meta`` (for a VOTable: its PARAMs and INFOs; for FITS:
    the ``RC_*`` header cards under their original lower-case keys).

    Raises
    ------
    ExportError
        Unknown suffix.
    """
    path = Path(path)
    kind = format_of(path)
    if kind == "votable":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Invalid unit string 'dex'.*")
            document = parse(str(path))
        votable_table = document.get_first_table()
        table = QTable(_with_dex(votable_table.to_table(use_names_over_ids=True)))
        for param in votable_table.params:
            table.meta[param.name] = _plain(param.value)
        for info in document.resources[0].infos:
            table.meta[info.name] = info.value
        return table
    if kind == "fits":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*'dex' did not parse as fits unit.*")
            table = QTable(_with_dex(Table.read(path, format="fits")))
        for key in list(table.meta):
            if key.upper().startswith("RC_"):
                table.meta[key[3:].lower()] = table.meta.pop(key)
        return table
    if kind in ("ecsv", "csv"):
        return QTable.read(path, format="ascii.ecsv")
    return QTable.read(path, format="parquet")
