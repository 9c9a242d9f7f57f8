"""Write the catalogue, or the rows that pass a cut, as a HATS catalogue (`redclump export --hats`).

HATS (Hierarchical Adaptive Tiling Scheme) partitions a catalogue by HEALPix pixel, with pixels
split until each holds at most ``pixel_threshold`` rows, and sorts rows by the order-29 HEALPix
index ``_healpix_29``. ``lsdb.open_catalog(DIR)`` opens such a folder lazily (nothing is read
until ``.compute()``) and cross-matches it pixel by pixel with other HATS catalogues (Gaia,
Rubin, ZTF, …) on a dask cluster, so neither side has to fit in one machine's memory.

The writing is hats-import's map-reduce (``hats_import.catalog.run_import``) on the catalogue's
Parquet partitions, through a reader that drops the rows failing the cut as each chunk is read:
no step holds the whole catalogue or the whole selection in memory.

The catalogue's own columns, with their archive names, go across unchanged; hats-import adds
``_healpix_29``. The cut, the catalogue's manifest digest and the software versions are written
into the catalogue's ``hats.properties`` as ``redclump_*`` keys.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hats_import.catalog import run_import
from hats_import.catalog.arguments import ImportArguments
from hats_import.catalog.file_readers.parquet import ParquetPyarrowReader

import redclump
from redclump.core.selection import Cut
from redclump.data import workdir as work_folder
from redclump.data.workdir import MANIFEST, WorkFolder, catalogue_identity

__all__ = ["CutReader", "HatsExportError", "export_hats"]

log = logging.getLogger(__name__)

#: Rows per HATS pixel at most (hats-import's ``pixel_threshold``): ~75 MB of Parquet per pixel
#: for the catalogue's 84 columns, near dask's preferred partition size.
PIXEL_THRESHOLD = 500_000
#: Rows read at a time from a catalogue partition.
CHUNK_ROWS = 200_000


class HatsExportError(RuntimeError):
    """The HATS catalogue cannot be written: no catalogue, empty selection, a folder in the way."""


class CutReader(ParquetPyarrowReader):
    """hats-import's Parquet reader, keeping only the rows that pass ``cut``.

    hats-import's mapping stage asks only for ``ra`` and ``dec`` (``read_columns``); the cut's
    own columns are read too, to filter, and dropped again.
    """

    def __init__(self, cut: Cut, chunksize: int = CHUNK_ROWS) -> None:
        super().__init__(chunksize=chunksize)
        self.cut = cut

    def read(self, input_file: Any, read_columns: list[str] | None = None) -> Iterator[pa.Table]:
        needed = self.cut.required_columns()
        extra = [c for c in needed if read_columns is not None and c not in read_columns]
        columns = None if read_columns is None else [*read_columns, *extra]
        for table in super().read(input_file, read_columns=columns):
            if not needed:  # no cut: every row
                yield table
                continue
            keep = self.cut.mask({c: table.column(c).to_numpy() for c in needed})
            chosen = table.filter(pa.array(keep))
            if extra:
                chosen = chosen.drop_columns(extra)
            if chosen.num_rows:
                yield chosen


def _count_passing(parts: list[Path], cut: Cut) -> tuple[int, int]:
    """(rows passing ``cut``, rows in all) over the catalogue partitions, reading only the cut's
    columns."""
    needed = cut.required_columns()
    passing = total = 0
    for part in parts:
        if not needed:
            rows = pq.ParquetFile(part).metadata.num_rows
            passing, total = passing + rows, total + rows
            continue
        table = pq.read_table(part, columns=needed)
        passing += int(np.count_nonzero(cut.mask({c: table.column(c).to_numpy() for c in needed})))
        total += table.num_rows
    return passing, total


def _is_hats_catalogue(folder: Path) -> bool:
    return (folder / "hats.properties").exists() or (folder / "properties").exists()


@contextlib.contextmanager
def _dask(client: Any, workers: int) -> Iterator[Any]:
    """``client`` if given, else a local cluster of ``workers`` processes (threads in this process
    for one): hats-import always runs on a distributed client."""
    if client is not None:
        yield client
        return
    import dask
    from distributed import Client, LocalCluster

    with (
        dask.config.set({"distributed.worker.memory.spill": False}),
        LocalCluster(
            n_workers=max(workers, 1),
            threads_per_worker=1,
            processes=workers > 1,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as local,
    ):
        yield local


def export_hats(
    workdir: Path | str,
    out: Path | str,
    *,
    cut: Cut | None = None,
    overwrite: bool = False,
    client: Any = None,
    workers: int = 1,
    pixel_threshold: int = PIXEL_THRESHOLD,
    highest_order: int = 10,
) -> dict[str, Any]:
    """Write the catalogue in ``workdir`` (or its rows passing ``cut``) as a HATS catalogue at ``out``.

    Parameters
    ----------
    workdir
        The work folder; its ``catalogue/`` must be built (``redclump infer``).
    out
        The catalogue folder to write; ``lsdb.open_catalog(out)`` opens it.
    cut
        Keep only the rows passing this cut; None or an empty cut keeps every row.
    overwrite
        Replace an existing HATS catalogue at ``out``. A folder that is not a HATS catalogue is
        never replaced (it may be anything of the user's).
    client
        A dask distributed client to run on (an external cluster); None starts a local one of
        ``workers`` processes.
    workers
        Local worker processes when ``client`` is None.
    pixel_threshold
        Rows per HATS pixel at most.
    highest_order
        The finest HEALPix order a pixel may be split to.

    Returns
    -------
    dict
        ``out``, ``rows`` (written), ``catalogue_rows``, ``cut`` (its text) and ``pixels`` (HATS
        partitions written).

    Raises
    ------
    HatsExportError
        No built catalogue, no row passes ``cut``, ``out`` exists and ``overwrite`` is false (or
        ``out`` is not a HATS catalogue).
    """
    workdir, out = Path(workdir), Path(out)
    cut = cut if cut is not None else Cut()
    catalogue_dir = WorkFolder(workdir).catalogue
    if not (catalogue_dir / MANIFEST).exists():
        msg = f"no catalogue in {catalogue_dir}: run `redclump infer` (or `build`) first"
        raise HatsExportError(msg)
    if out.exists():
        if not overwrite:
            msg = f"{out} exists; pass --overwrite to replace it"
            raise HatsExportError(msg)
        if not out.is_dir() or (any(out.iterdir()) and not _is_hats_catalogue(out)):
            msg = f"{out} exists and is not a HATS catalogue; not replacing it, even with --overwrite"
            raise HatsExportError(msg)
    parts = sorted(catalogue_dir.glob("*.parquet"))
    passing, total = _count_passing(parts, cut)
    if passing == 0:
        msg = f"no catalogue star passes {cut.text()} (of {total:,}); nothing to write"
        raise HatsExportError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = work_folder.tmp_name(out)
    shutil.rmtree(tmp, ignore_errors=True)
    identity = catalogue_identity(catalogue_dir)
    properties = {
        "redclump_cut": cut.text(),
        "redclump_catalogue_manifest_sha256": identity.manifest_sha256,
        "redclump_version": str(redclump.__version__),
    }
    try:
        args = ImportArguments(
            output_path=str(tmp.parent),
            output_artifact_name=tmp.name,
            input_file_list=[str(p) for p in parts],
            file_reader=CutReader(cut),
            ra_column="ra",
            dec_column="dec",
            sort_columns="source_id",
            pixel_threshold=pixel_threshold,
            highest_healpix_order=highest_order,
            expected_total_rows=passing,
            addl_hats_properties=properties,
            resume=False,
            progress_bar=False,
            tmp_dir=str(tmp.with_name(tmp.name + "-work")),
        )
        with _dask(client, workers) as dask_client:
            run_import.run(args, dask_client)
        work_folder.replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp.with_name(tmp.name + "-work"), ignore_errors=True)
    pixels = len(list((out / "dataset").glob("Norder=*/Dir=*/Npix=*")))
    log.info("wrote %s rows in %d HATS pixels to %s", f"{passing:,}", pixels, out)
    return {"out": str(out), "rows": passing, "catalogue_rows": total, "cut": cut.text(), "pixels": pixels}
