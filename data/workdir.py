"""The work folder (default ``.redclump/``): where each step's files live and how they come into place.

Layout (:class:`WorkFolder`)::

    input/                      mock or ingest: Parquet partitions, _manifest.json, _summary.json
    truthset.parquet            mock or ingest: the spectroscopic truth set
    models/, models_paper/      train: one network set's stages, evaluation.json, _manifest.json
    catalogue/, catalogue_paper/            infer: the catalogue's partitions, _manifest.json
    truthset_scored.parquet, truthset_scored_paper.parquet    infer: the scored truth set
    estimates/                  infer: the files behind the catalogue estimate
    app_candidates-DIGEST.arrow the app's candidate cache (serve; :func:`write_candidate_cache`)
    figures/                    figures: the default output folder
    .lock                       the writer lock (redclump.locking)

File life cycle. A writer puts a file or folder under a temporary name (``.NAME.tmp-PID``,
:func:`tmp_name`) and moves it into place whole (:func:`staged_dir`, :func:`staged_file`,
:func:`replace_dir`, :func:`write_text`); a folder being replaced is first moved aside
(``.NAME.old-PID``). A process killed at any instant therefore leaves, under a final name, the old
version whole, the new version whole, or nothing, plus temporaries that :func:`clean_stale` removes
on the next run. Each step's output folder ends with a ``_manifest.json`` whose ``settings``
decide whether the step is up to date (:func:`manifest_settings`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "CELLS",
    "EVALUATION",
    "INTRINSIC_COLOUR",
    "LOCK_NAME",
    "MANIFEST",
    "PARTITION",
    "STAGE_MODEL",
    "SUMMARY",
    "TWINS",
    "CatalogueIdentity",
    "NetworkPaths",
    "WorkFolder",
    "catalogue_identity",
    "clean_stale",
    "committed_parts",
    "file_sha256",
    "manifest_settings",
    "partitions",
    "pid_alive",
    "read_candidate_cache",
    "read_manifest",
    "replace_dir",
    "staged_dir",
    "staged_file",
    "tmp_name",
    "uncommitted_partitions",
    "write_candidate_cache",
    "write_manifest",
    "write_text",
]

log = logging.getLogger("redclump")

#: The file each build step writes last into its output folder.
MANIFEST = "_manifest.json"
#: The mock's summary, beside its manifest in ``input/``.
SUMMARY = "_summary.json"
#: Inside a network set's models folder: one file per stage, the test-split evaluation, the
#: fitted intrinsic colour.
STAGE_MODEL = "{stage}.pt"
EVALUATION = "evaluation.json"
INTRINSIC_COLOUR = "intrinsic_colour.json"
#: Inside ``estimates/``: the degraded twins and the cell counts (:mod:`redclump.data.calibration_files`).
TWINS = "twins.parquet"
CELLS = "cells.npz"
#: A dataset's partitions (``input/``, ``catalogue/``), numbered from 0.
PARTITION = "part-{number:05d}.parquet"
#: The writer lock's file (:func:`redclump.locking.workdir_lock`).
LOCK_NAME = ".lock"
#: The network set whose folders carry no suffix (ours, the app's).
DEFAULT_NETWORKS = "redclump"
#: Temporary and set-aside names of writers that rename into place; ``PID`` is the writer's.
_STALE = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)(?:\..*)?$")
_CANDIDATE_CACHE = "app_candidates-{digest}.arrow"


class NetworkPaths(NamedTuple):
    """Where one network set's models, catalogue, scored truth set and catalogue-estimate files
    live in a work folder."""

    models: Path
    catalogue: Path
    scored: Path
    estimates: Path


@dataclass(frozen=True)
class WorkFolder:
    """The paths inside one work folder; the only place that spells them.

    Examples
    --------
    >>> folder = WorkFolder(".redclump")
    >>> folder.truthset.as_posix(), folder.networks("paper").catalogue.as_posix()
    ('.redclump/truthset.parquet', '.redclump/catalogue_paper')
    """

    root: Path

    def __init__(self, root: Path | str) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def input(self) -> Path:
        """The input partitions (``input/``)."""
        return self.root / "input"

    @property
    def input_summary(self) -> Path:
        """The mock's summary beside its partitions."""
        return self.input / SUMMARY

    @property
    def truthset(self) -> Path:
        """The spectroscopic truth set."""
        return self.root / "truthset.parquet"

    @property
    def estimates(self) -> Path:
        """The files behind our networks' catalogue estimate (``estimates/``)."""
        return self.networks().estimates

    @property
    def figures(self) -> Path:
        """The default folder of ``redclump figures``."""
        return self.root / "figures"

    @property
    def lock(self) -> Path:
        """The writer lock's file."""
        return self.root / LOCK_NAME

    def networks(self, name: str = DEFAULT_NETWORKS) -> NetworkPaths:
        """``models/``, ``catalogue/``, ``truthset_scored.parquet`` and ``estimates/`` for our
        networks, the same names with ``_NAME`` for another set (``paper``: the authors' trained
        full-batch; ``paper_minibatch``: their design minibatch-trained)."""
        suffix = "" if name == DEFAULT_NETWORKS else f"_{name}"
        return NetworkPaths(
            self.root / f"models{suffix}",
            self.root / f"catalogue{suffix}",
            self.root / f"truthset_scored{suffix}.parquet",
            self.root / f"estimates{suffix}",
        )

    @property
    def catalogue(self) -> Path:
        """Our networks' catalogue (the app's)."""
        return self.networks().catalogue

    @property
    def scored(self) -> Path:
        """Our networks' scored truth set."""
        return self.networks().scored

    @property
    def models(self) -> Path:
        """Our networks' models."""
        return self.networks().models

    def has_catalogue(self) -> bool:
        """Whether our networks' catalogue was completed (its manifest is there)."""
        return (self.catalogue / MANIFEST).exists()

    def candidate_cache(self, definition: Any) -> Path:
        """The app's candidate cache for the current catalogue and a cache ``definition`` (any
        JSON value: the columns, the floor, the format): a new catalogue or definition names a
        new file."""
        key = (self.catalogue / MANIFEST).read_bytes() + json.dumps(definition).encode()
        return self.root / _CANDIDATE_CACHE.format(digest=hashlib.sha256(key).hexdigest()[:16])


# --- temporary names and atomic replacement -----------------------------------------------------


def tmp_name(final: Path, kind: str = "tmp") -> Path:
    """The temporary (``kind="tmp"``) or set-aside (``"old"``) name of ``final`` for this process."""
    return final.with_name(f".{final.name}.{kind}-{os.getpid()}")


def replace_dir(tmp: Path, final: Path) -> None:
    """Put the complete folder (or file) ``tmp`` in place of ``final``.

    ``final`` is first renamed aside in one atomic step, so that whenever the process is killed
    the name ``final`` holds the old version whole, nothing, or the new version whole, never a
    half-deleted folder; the set-aside copy is deleted last.
    """
    old = tmp_name(final, "old")
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """An empty folder under ``final``'s temporary name for the ``with`` block to fill; put in
    place of ``final`` (:func:`replace_dir`) when the block ends normally, removed otherwise."""
    tmp = tmp_name(Path(final))
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        replace_dir(tmp, Path(final))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def staged_file(final: Path) -> Iterator[Path]:
    """``final``'s temporary name for the ``with`` block to write; renamed to ``final`` when the
    block ends normally, removed otherwise."""
    tmp = tmp_name(Path(final))
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write a small text file (a manifest) atomically: temporary name, fsync, rename."""
    with staged_file(path) as tmp, tmp.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


# --- manifests and up-to-date checks ------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a step's output ``folder``, or None when it is missing or unreadable (the
    step is then redone rather than trusted)."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def manifest_settings(folder: Path) -> Any:
    """The ``settings`` the manifest of ``folder`` recorded, or None (see :func:`read_manifest`)."""
    manifest = read_manifest(folder)
    return None if manifest is None else manifest.get("settings")


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``folder``'s manifest (into a staged folder: the last file written)."""
    (Path(folder) / MANIFEST).write_text(json.dumps(manifest, indent=2))


class CatalogueIdentity(NamedTuple):
    """A catalogue folder (resolved) and the SHA-256 of its manifest."""

    path: str
    manifest_sha256: str


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def catalogue_identity(catalogue_dir: Path | str) -> CatalogueIdentity:
    """The identity of the catalogue in ``catalogue_dir``: its manifest's digest names one build
    (a written selection carries it, :func:`redclump.core.provenance.selection_provenance`).

    Raises
    ------
    FileNotFoundError
        If the folder has no manifest (the catalogue was never completed).
    """
    catalogue_dir = Path(catalogue_dir)
    manifest = catalogue_dir / MANIFEST
    if not manifest.exists():
        msg = f"no {MANIFEST} in {catalogue_dir}: the catalogue was not completed"
        raise FileNotFoundError(msg)
    return CatalogueIdentity(str(catalogue_dir.resolve()), file_sha256(manifest))


def partitions(dataset: Path) -> list[Path]:
    """A dataset folder's Parquet partitions (``input/``, ``catalogue/``), in name order."""
    return sorted(Path(dataset).glob("*.parquet"))


def committed_parts(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The partitions an ingested dataset's manifest records (older manifests: one per report)."""
    if "parts" in manifest:
        return list(manifest["parts"])
    n_reports = len(manifest.get("reports", [manifest.get("report")]))
    return [p.name for p in sorted(Path(folder).glob("part-*.parquet"))[:n_reports]]


def uncommitted_partitions(folder: Path) -> list[Path]:
    """Partitions in an ingested dataset ``folder`` that its manifest does not record: written by
    an ``ingest --append`` that was killed before it committed. Empty for other datasets."""
    manifest = read_manifest(folder)
    if manifest is None or not str(manifest.get("kind", "")).startswith("redclump-ingested"):
        return []
    committed = set(committed_parts(Path(folder), manifest))
    return [p for p in sorted(Path(folder).glob("part-*.parquet")) if p.name not in committed]


# --- stale files --------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _left_by_dead_writer(entry: Path) -> bool:
    match = _STALE.match(entry.name)
    return match is not None and (int(match["pid"]) == os.getpid() or not pid_alive(int(match["pid"])))


def clean_stale(workdir: Path) -> list[Path]:
    """Remove what killed writers left in ``workdir``: ``.NAME.tmp-PID`` and ``.NAME.old-PID``
    files and folders whose process no longer runs, and partitions that an interrupted
    ``ingest --append`` wrote but never recorded in its dataset's manifest.

    Call it only while holding the writer lock (:func:`redclump.locking.workdir_lock`). Returns
    the paths removed.
    """
    folder = WorkFolder(workdir)
    datasets = [d for d in (folder.input, folder.catalogue) if d.is_dir()]  # ingest --append writes inside
    removed = []
    for place in (folder.root, *datasets):
        for entry in place.iterdir():
            if not _left_by_dead_writer(entry):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    for dataset in (folder.input, folder.catalogue):
        for entry in uncommitted_partitions(dataset):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    for entry in removed:
        log.info("removed %s, left by an interrupted run", entry)
    return removed


# --- the app's candidate cache -----------------------------------------------------------------


def read_candidate_cache(cache: Path) -> tuple[pd.DataFrame, int] | None:
    """The candidate cache's frame and the catalogue's size, or None (and a warning) if it is
    missing or corrupt."""
    import pandas as pd
    import pyarrow.feather as pa_feather

    if not cache.exists():
        return None
    try:
        # Uncompressed Arrow IPC in one chunk per column, memory-mapped: the columns are numpy
        # views of the file (read-only, paged in on first use), so loading copies nothing.
        table = pa_feather.read_table(cache, memory_map=True)
        n_total = int(json.loads(table.schema.metadata[b"redclump_n_total"]))
        catalogue = pd.DataFrame({name: table.column(name).to_numpy() for name in table.column_names}, copy=False)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        log.warning("candidate cache %s is unreadable (%s): rebuilding it from the catalogue", cache, exc)
        return None
    return catalogue, n_total


def write_candidate_cache(table: pa.Table, n_total: int, cache: Path) -> None:
    """Write the candidate cache (``table`` and the catalogue's size ``n_total``) under a
    temporary name, rename it and remove older caches; a folder that cannot be written
    (read-only, full) only costs the next start the time to read the catalogue again.

    The server holds no writer lock, so it cleans only its own kind of file: temporaries of
    servers no longer running."""
    import pyarrow.feather as pa_feather

    for old in cache.parent.glob(f".{_CANDIDATE_CACHE.format(digest='*')}.tmp-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            old.unlink(missing_ok=True)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"redclump_n_total": str(n_total).encode()})
    try:
        with staged_file(cache) as tmp:
            pa_feather.write_feather(table, tmp, compression="uncompressed", chunksize=max(1, table.num_rows))
        for old in cache.parent.glob(_CANDIDATE_CACHE.format(digest="*")):
            if old != cache:
                old.unlink()
    except OSError as exc:
        log.warning("cannot write the candidate cache %s (%s): serving without it", cache, exc.strerror or exc)
