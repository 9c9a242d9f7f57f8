"""Real catalogues in: read Parquet, FITS, CSV or VOTable files, map their columns to the
canonical ones of :mod:`redclump.data.schema` with unit conversion, validate, and write the
canonical Parquet into the work folder.

A column map is a small TOML file::

    kind = "input"                        # optional: input, catalogue or truthset
    [columns]
    source_id = "SOURCE_ID"               # canonical = file column
    parallax = { column = "plx", unit = "arcsec" }   # unit of the file column if it declares none
    [defaults]
    split = "test"                        # optional constant columns

Units declared by the file itself (FITS/VOTable) win over the map's; a column whose canonical
unit (``schema.UNITS``) differs is converted with astropy, and an incompatible unit is an error.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import workdir as work_folder
from .schema import FEATURES, INPUT_COLUMNS, UNITS, SchemaError
from .storage import write_parquet
from .workdir import committed_parts, uncommitted_partitions

__all__ = [
    "REQUIRED",
    "ColumnMap",
    "IngestError",
    "MapError",
    "ingest",
    "read_table",
    "uncommitted_partitions",
    "write_ingested",
]

Kind = Literal["input", "catalogue", "truthset"]

#: Columns each kind of table must end up with.
REQUIRED: dict[str, tuple[str, ...]] = {
    "input": INPUT_COLUMNS,
    "catalogue": ("source_id", "l", "b", "teff_phot", "logg_phot", "dp_phot", "dnu_phot"),
    "truthset": (*FEATURES, "source_id", "l", "b", "teff", "logg", "deltap", "deltanu", "class"),
}
ANGLE_RANGES = {"ra": (0.0, 360.0), "l": (0.0, 360.0), "dec": (-90.0, 90.0), "b": (-90.0, 90.0)}


class IngestError(SchemaError):
    """A file cannot be ingested: unreadable, empty, or its columns do not fit."""


class MapError(IngestError):
    """A column map is not valid TOML or names things that do not exist."""


@dataclass(frozen=True)
class ColumnMap:
    """Canonical column → (file column, unit of the file column or None), plus constants."""

    columns: dict[str, tuple[str, str | None]]
    defaults: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None
    source: str = "<map>"

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<map>") -> ColumnMap:
        """Parse a map; every problem is a :class:`MapError` naming ``source``."""
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, TypeError) as exc:
            msg = f"{source}: not valid TOML ({exc})"
            raise MapError(msg) from None
        unknown = set(data) - {"kind", "columns", "defaults", "description"}
        if unknown:
            msg = (
                f"{source}: unknown key(s) {', '.join(sorted(unknown))} (expected kind, columns, defaults, description)"
            )
            raise MapError(msg)
        kind = data.get("kind")
        if kind is not None and kind not in REQUIRED:
            msg = f"{source}: kind must be one of {', '.join(REQUIRED)}, got {kind!r}"
            raise MapError(msg)
        raw = data.get("columns", {})
        if not isinstance(raw, dict) or not raw:
            msg = f"{source}: needs a [columns] table mapping canonical names to file columns"
            raise MapError(msg)
        columns: dict[str, tuple[str, str | None]] = {}
        for canonical, spec in raw.items():
            if isinstance(spec, str):
                columns[canonical] = (spec, None)
            elif isinstance(spec, dict) and isinstance(spec.get("column"), str) and set(spec) <= {"column", "unit"}:
                unit = spec.get("unit")
                if unit is not None and not isinstance(unit, str):
                    msg = f"{source}: unit of '{canonical}' must be a string"
                    raise MapError(msg)
                if unit is not None:
                    _parse_unit(unit, where=f"{source}: unit of '{canonical}'")
                columns[canonical] = (spec["column"], unit)
            else:
                msg = f"{source}: column '{canonical}' must be a name or {{ column = ..., unit = ... }}"
                raise MapError(msg)
        defaults = data.get("defaults", {})
        if not isinstance(defaults, dict):
            msg = f"{source}: [defaults] must be a table"
            raise MapError(msg)
        return cls(columns, defaults, kind, source)

    @classmethod
    def read(cls, path: Path) -> ColumnMap:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            msg = f"{path}: cannot read column map ({exc.strerror})"
            raise MapError(msg) from None
        return cls.from_toml(text, source=str(path))


def _parse_unit(text: str, *, where: str) -> Any:
    import astropy.units as u

    try:
        return u.Unit(text)
    except (ValueError, TypeError):
        msg = f"{where}: unknown unit {text!r}"
        raise MapError(msg) from None


def read_table(path: Path) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """Read a Parquet, FITS, CSV or VOTable file; returns the frame and each column's declared unit."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file"
        raise IngestError(msg)
    if path.stat().st_size == 0:
        msg = f"{path}: the file is empty"
        raise IngestError(msg)
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
            units: dict[str, str | None] = {}
        elif name.endswith(".csv"):
            frame = pd.read_csv(path, comment="#")
            units = {}
        elif name.endswith((".fits", ".fit", ".fits.gz", ".vot", ".votable", ".xml")):
            import warnings

            from astropy.table import Table

            fmt = "fits" if ".fit" in name else "votable"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = Table.read(path, format=fmt)
            units = {c: (str(table[c].unit) if table[c].unit is not None else None) for c in table.colnames}
            frame = table.to_pandas()
        else:
            msg = f"{path}: unknown format (use .parquet, .fits, .csv or .vot)"
            raise IngestError(msg)
    except IngestError:
        raise
    except Exception as exc:  # any reader failure means a corrupt or truncated file
        msg = f"{path}: cannot be read as {path.suffix or 'this format'}; corrupt or truncated? ({type(exc).__name__})"
        raise IngestError(msg) from None
    if len(frame) == 0:
        msg = f"{path}: the table has no rows"
        raise IngestError(msg)
    return frame, units


def _mapped_columns(
    frame: pd.DataFrame, declared: dict[str, str | None], column_map: ColumnMap, path: Path
) -> pd.DataFrame:
    """The file's columns under their canonical names, converted to the schema's units (the
    file's declared unit first, else the map's).

    Raises
    ------
    IngestError
        The map names a column the file lacks, a column is not numeric, or its unit does not
        convert.
    """
    import astropy.units as u

    missing_in_file = [
        f"'{col}' (for {canonical})" for canonical, (col, _) in column_map.columns.items() if col not in frame.columns
    ]
    if missing_in_file:
        hints = []
        for col, _ in column_map.columns.values():
            if col not in frame.columns:
                close = difflib.get_close_matches(col, list(frame.columns), n=1)
                if close:
                    hints.append(f"'{col}' → did you mean '{close[0]}'?")
        msg = f"{path}: the map {column_map.source} names column(s) not in the file: {', '.join(missing_in_file)}"
        raise IngestError(msg + (f" ({'; '.join(hints)})" if hints else ""))
    out = pd.DataFrame(index=frame.index)
    for canonical, (col, map_unit) in column_map.columns.items():
        values = frame[col]
        file_unit = declared.get(col) or map_unit
        target = UNITS.get(canonical)
        if canonical in ("class", "split"):
            out[canonical] = values.astype(str).str.strip()
            continue
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            msg = f"{path}: column '{col}' (for {canonical}) is {values.dtype}, expected numbers"
            raise IngestError(msg)
        array = values.to_numpy()
        if file_unit and target and canonical != "source_id":
            try:
                array = (
                    np.asarray(array, np.float64) * _parse_unit(file_unit, where=f"{path}: column '{col}'")
                ).to_value(u.Unit(target))
            except u.UnitConversionError:
                msg = f"{path}: column '{col}' (for {canonical}) is in {file_unit}, which cannot convert to {target}"
                raise IngestError(msg) from None
        out[canonical] = array
    return out


def ingest(path: Path, column_map: ColumnMap, kind: Kind) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Map, convert and validate one file. Returns the canonical frame and a report of rows kept
    and dropped per reason. Structural problems raise :class:`IngestError`; rows with a non-finite
    required value are dropped and counted."""
    frame, declared = read_table(path)
    out = _mapped_columns(frame, declared, column_map, path)
    for canonical, value in column_map.defaults.items():
        if canonical not in out:
            out[canonical] = value
    if kind == "truthset" and "split" not in out and "source_id" in out:
        from .mock import split_of

        out["split"] = split_of(out["source_id"].to_numpy(np.int64), 0)
    missing = [c for c in REQUIRED[kind] if c not in out.columns]
    if missing:
        suggestions = []
        for name in missing:
            close = difflib.get_close_matches(name, list(frame.columns), n=1, cutoff=0.5)
            suggestions.append(f"'{name}'" + (f" (file has '{close[0]}')" if close else ""))
        msg = f"{path}: after mapping with {column_map.source}, missing required column(s) {', '.join(suggestions)}"
        raise IngestError(msg)
    if "source_id" in out:
        dup = int(out["source_id"].duplicated().sum())
        if dup:
            msg = f"{path}: column 'source_id' has {dup} duplicate value(s)"
            raise IngestError(msg)
    for name, (lo, hi) in ANGLE_RANGES.items():
        if name in out:
            values = out[name].to_numpy(np.float64)
            bad = int(np.count_nonzero(np.isfinite(values) & ((values < lo) | (values > hi))))
            if bad:
                source_column = column_map.columns.get(name, (name,))[0]
                msg = f"{path}: column '{source_column}' (for {name}) has {bad} value(s) outside [{lo:g}, {hi:g}] deg"
                raise IngestError(msg)
    numeric_required = [
        c for c in REQUIRED[kind] if c not in ("class", "split", "source_id", "deltap", "deltanu", "class")
    ]
    keep = np.ones(len(out), dtype=bool)
    dropped: dict[str, int] = {}
    for name in numeric_required:
        finite = np.isfinite(out[name].to_numpy(np.float64))
        newly = int(np.count_nonzero(keep & ~finite))
        if newly:
            dropped[f"non-finite {name}"] = newly
        keep &= finite
    if not keep.any():
        msg = (
            f"{path}: every row has a non-finite required value ({', '.join(f'{k}: {v}' for k, v in dropped.items())})"
        )
        raise IngestError(msg)
    result = out[keep].reset_index(drop=True)
    for name in result.columns:
        if result[name].dtype == np.float64 and name not in ("ra", "dec", "l", "b"):
            result[name] = result[name].astype(np.float32)
    return result, {"file": str(path), "rows_read": len(out), "rows_kept": int(keep.sum()), "rows_dropped": dropped}


def write_ingested(
    frame: pd.DataFrame, workdir: Path, kind: Kind, report: dict[str, Any], *, append: bool = False
) -> Path:
    """Write the canonical table where the pipeline expects it, atomically.

    With ``append`` an input or catalogue file becomes one more partition of an existing ingested
    dataset (refused if a ``source_id`` is already there); otherwise the dataset is replaced.
    """
    folder = work_folder.WorkFolder(workdir)
    folder.root.mkdir(parents=True, exist_ok=True)
    dataset = folder.input if kind == "input" else folder.catalogue
    if append and kind != "truthset":
        return _append_partition(frame, dataset, kind, report)
    manifest = {"kind": f"redclump-ingested-{kind}", "report": report}
    if kind == "truthset":
        with work_folder.staged_file(folder.truthset) as tmp:
            write_parquet(frame, tmp)
        return folder.truthset
    part = work_folder.PARTITION.format(number=0)
    with work_folder.staged_dir(dataset) as tmp_dir:
        write_parquet(frame, tmp_dir / part)
        work_folder.write_manifest(
            tmp_dir, {**manifest, "parts": [part], "settings": {"ingested": report}, "summary": report}
        )
    return dataset


def _append_partition(frame: pd.DataFrame, folder: Path, kind: str, report: dict[str, Any]) -> Path:
    manifest_path = folder / work_folder.MANIFEST
    if not manifest_path.exists():
        return write_ingested(frame, folder.parent, kind, report)  # type: ignore[arg-type]
    manifest = json.loads(manifest_path.read_text())
    if not str(manifest.get("kind", "")).startswith("redclump-ingested"):
        msg = f"{folder} holds a {manifest.get('kind', 'non-ingested')} dataset; append only adds to ingested ones"
        raise IngestError(msg)
    for orphan in uncommitted_partitions(folder):  # left by an append killed before its manifest
        orphan.unlink()
    parts = committed_parts(folder, manifest)
    ids = [pd.read_parquet(folder / p, columns=["source_id"])["source_id"] for p in parts]
    existing = pd.concat(ids, ignore_index=True)
    clash = int(frame["source_id"].isin(existing).sum())
    if clash:
        msg = f"{report['file']}: {clash} source_id value(s) are already in {folder}"
        raise IngestError(msg)
    target = folder / work_folder.PARTITION.format(number=len(parts))
    reports = [*manifest.get("reports", [manifest.get("report")]), report]
    total = {"rows_kept": sum(r["rows_kept"] for r in reports if r), "files": len(reports)}
    new_manifest = {
        **manifest,
        "parts": [*parts, target.name],
        "reports": reports,
        "settings": {"ingested": reports},
        "summary": total,
    }
    # The manifest is the commit: a partition on disk that it does not list is removed by the
    # next append (or the next command's lock, redclump.data.workdir.clean_stale).
    try:
        with work_folder.staged_file(target) as tmp:
            write_parquet(frame, tmp)
        work_folder.write_text(manifest_path, json.dumps(new_manifest, indent=2))
    except BaseException:
        if target.name not in committed_parts(folder, json.loads(manifest_path.read_text())):
            target.unlink(missing_ok=True)
        raise
    return folder
