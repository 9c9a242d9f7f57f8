"""The dashboard's data: the catalogue and the scored truth set, loaded once per process and
shared by every session."""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from redclump.core import cells, estimates, metrics
from redclump.core.projection import hammer_aitoff
from redclump.data import calibration_files
from redclump.data.schema import BANDS, STATES
from redclump.data.workdir import WorkFolder, catalogue_identity, read_candidate_cache, write_candidate_cache

__all__ = [
    "APP_COLUMNS",
    "CARD_COLUMNS",
    "DP_FLOOR",
    "TRUE_STATE_COLUMN",
    "AppData",
    "load_app_data",
]

log = logging.getLogger("redclump")

#: The app keeps only candidates with ΔP_phot above this floor (the ΔP slider's lower end), so a
#: catalogue of every giant fits in memory; `redclump select` works on the whole catalogue.
DP_FLOOR = 150.0
APP_COLUMNS = (
    "dist_err",
    "parallax",
    "parallax_error",
    "teff_phot_err",
    "logg_phot_err",
    "phot_g_mean_mag_error",
    "w2sigmpro",
    "source_id",
    "l",
    "b",
    "phot_g_mean_mag",
    "w1mpro",
    "w1sigmpro",
    "teff_phot",
    "logg_phot",
    "dp_phot",
    "dp_phot_err",
    "dnu_phot",
    "p_rc",
    "dist",
    "a_w1",
    "x_gc",
    "y_gc",
    "z_gc",
    "r_gc",
)
#: Columns only a star's card reads (dashboard/card.py): the other 11 bands, Δν's error and the
#: stored ΔP and Δν mixtures (``dp_mix_*``, ``dnu_mix_*``, as many components as the catalogue
#: has). The candidate cache keeps them memory-mapped, so they cost disk, not memory, until read.
CARD_COLUMNS = (*(band for band in BANDS if band not in APP_COLUMNS), "dnu_phot_err")
CARD_MIXTURE_PREFIXES = ("dp_mix_", "dnu_mix_")
#: A mock's ``true_state`` as int8 codes into :data:`redclump.data.schema.STATES` (−1: unknown),
#: so the cache holds a number per star rather than a string.
TRUE_STATE_COLUMN = "_true_state"
#: Truth-set columns the figure export needs besides APP_COLUMNS.
FIGURE_COLUMNS = ("split", "class", "giant", "teff", "logg", "deltap", "deltanu", "ks_msigcom")
#: Columns :func:`_prepare` adds (the sky projections); the candidate cache stores them.
PREPARED_COLUMNS = ("sky_x", "sky_y", "l_wrapped")
#: The candidate cache also stores each star's reweighting stratum
#: (:func:`redclump.core.metrics.contamination_strata`).
STRATUM_COLUMN = "_stratum"
OPTIONAL_COLUMNS = ("p_rc", "dist", "x_gc", "y_gc", "z_gc", "r_gc", "dp_phot_err")


@dataclass
class AppData:
    """Catalogue candidates and truth-set test stars, with what the views need precomputed."""

    catalogue: pd.DataFrame
    test: pd.DataFrame
    test_is_rc: np.ndarray
    source: str
    n_catalogue_total: int
    available: dict[str, bool] = field(default_factory=dict)
    scored: pd.DataFrame = field(default_factory=pd.DataFrame)
    catalogue_strata: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    test_strata: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: What the catalogue-level estimate needs (docs/estimates.md); None when not built.
    calibration: estimates.Calibration | None = None
    #: SHA-256 of the catalogue's manifest (:mod:`redclump.data.workdir`); empty for frames
    #: given directly, which have none.
    manifest_sha256: str = ""
    #: Candidates beyond 10 and 20 kpc (empty without distances), for the numbers of every cut.
    far: dict[int, np.ndarray] = field(init=False, repr=False, default_factory=dict)
    #: Each candidate's mix cell and whether it lies beyond the truth set's range (with a
    #: calibration).
    estimate_cells: np.ndarray = field(init=False, repr=False, default_factory=lambda: np.zeros(0, np.int64))
    outside_truth: np.ndarray = field(init=False, repr=False, default_factory=lambda: np.zeros(0, bool))
    _sorted: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        init=False, repr=False, default_factory=dict
    )
    #: The page warms the sky's index in a worker thread (the star card) while the loop may ask
    #: for it or for another view's: one sort per view, and no eviction mid-insertion.
    _sorting: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.calibration is not None and {"a_w1", "dist"} <= set(self.catalogue.columns):
            self.estimate_cells = cells.frame_cells(self.catalogue).astype(np.int16)
            self.outside_truth = self.calibration.outside_truth(
                self.catalogue["phot_g_mean_mag"].to_numpy(),
                self.catalogue["a_w1"].to_numpy(),
                self.catalogue["dist"].to_numpy(),
            )
        else:
            self.calibration = None
        if "dist" in self.catalogue:
            dist = self.catalogue["dist"].to_numpy()
            self.far = {kpc: dist > kpc for kpc in (10, 20)}
        needed = {"l", "b", "phot_g_mean_mag", "teff_phot"}
        self.available["reweighting"] = needed <= set(self.catalogue.columns) and needed <= set(self.test.columns)
        if self.available["reweighting"]:
            if STRATUM_COLUMN in self.catalogue:
                self.catalogue_strata = self.catalogue[STRATUM_COLUMN].to_numpy()
            else:
                self.catalogue_strata = self.strata(self.catalogue)
            self.test_strata = self.strata(self.test)

    def strata(self, frame: pd.DataFrame) -> np.ndarray:
        """Reweighting strata (:func:`redclump.core.metrics.contamination_strata`)."""
        return metrics.contamination_strata(frame)[0]

    def sorted_by_y(self, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The candidates' row order by ``y`` and their ``x``, ``y`` in that order, for lasso
        selections drawn on the (x, y) view; computed on the first lasso or click on that view
        (~1 s, once per server process: doing it at start-up delayed the first page by as much;
        a page warms the sky's in a worker thread), the two most recent views kept (~64 MB
        each)."""
        cache = self._sorted
        with self._sorting:
            if (x, y) not in cache:
                if len(cache) >= 2:
                    cache.pop(next(iter(cache)))
                order = np.argsort(self.catalogue[y].to_numpy(), kind="stable").astype(np.int32)
                cache[(x, y)] = (order, self.catalogue[x].to_numpy()[order], self.catalogue[y].to_numpy()[order])
            return cache[(x, y)]

    @property
    def n_strata(self) -> int:
        return metrics.contamination_strata(self.test.head(1))[1]


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    if set(PREPARED_COLUMNS) <= set(frame.columns):  # the candidate cache stores prepared columns
        return frame
    x, y = hammer_aitoff(frame["l"].to_numpy(), frame["b"].to_numpy())
    frame = frame.assign(sky_x=x, sky_y=y, l_wrapped=(((frame["l"] + 180.0) % 360.0) - 180.0).astype(np.float32))
    for column in frame.columns:
        if frame[column].dtype == np.float64:
            frame[column] = frame[column].astype(np.float32)
    return frame


def card_columns(names: Any) -> list[str]:
    """The columns among ``names`` that only a star's card reads (:data:`CARD_COLUMNS`, the
    stored mixtures, a mock's ``true_state``)."""
    return [c for c in names if c in CARD_COLUMNS or c.startswith(CARD_MIXTURE_PREFIXES) or c == "true_state"]


def _encode_true_state(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace a mock's ``true_state`` strings by int8 codes (:data:`TRUE_STATE_COLUMN`)."""
    if "true_state" not in frame.columns:
        return frame
    states = frame["true_state"].astype(str).to_numpy()
    codes = np.full(len(frame), -1, dtype=np.int8)
    for code, state in enumerate(STATES):
        codes[states == state] = code
    return frame.drop(columns=["true_state"]).assign(**{TRUE_STATE_COLUMN: codes})


def frames_to_app_data(
    catalogue: pd.DataFrame,
    scored: pd.DataFrame | None,
    *,
    source: str,
    calibration: estimates.Calibration | None = None,
) -> AppData:
    """Build the app's data from a catalogue and a scored truth set (any canonical columns).

    ``catalogue`` may be a pandas or a dask dataframe (the candidates, ΔP_phot > DP_FLOOR, are
    selected by dask and only they are brought into memory). Without a scored truth set (e.g. an
    ingested published catalogue) the app still shows the catalogue; contamination and
    completeness are reported as unavailable.
    """
    own = (*APP_COLUMNS, *PREPARED_COLUMNS, STRATUM_COLUMN, TRUE_STATE_COLUMN)
    present = [c for c in own if c in catalogue.columns]
    present += card_columns(catalogue.columns)
    if hasattr(catalogue, "dask"):  # a dask dataframe: select the candidates there, then compute
        n_total = int(catalogue.shape[0].compute())
        catalogue = catalogue.loc[catalogue["dp_phot"] > DP_FLOOR, present].compute().reset_index(drop=True)
    else:
        n_total = len(catalogue)
    keep = catalogue["dp_phot"].to_numpy() > DP_FLOOR
    if keep.all():  # e.g. the candidate cache: no copy
        cat = _prepare(catalogue[present] if len(present) < catalogue.shape[1] else catalogue)
    else:
        cat = _prepare(catalogue.loc[keep, present].reset_index(drop=True))
    cat = _encode_true_state(cat)
    if scored is None:
        scored = pd.DataFrame(
            {c: pd.Series(dtype=np.float32) for c in ("l", "b", "dp_phot", "dnu_phot", "teff_phot", "logg_phot")}
        )
        scored["split"] = pd.Series(dtype=str)
        scored["class"] = pd.Series(dtype=str)
    test, is_rc = metrics.test_split_truth(scored)
    test = _prepare(test[[c for c in APP_COLUMNS if c in test.columns] + ["class"]].reset_index(drop=True))
    available = {c: c in catalogue.columns for c in OPTIONAL_COLUMNS}
    figure_columns = [*FIGURE_COLUMNS, "teff_phot", "logg_phot", "dp_phot", "dnu_phot", "b"]
    kept = scored[[c for c in figure_columns if c in scored.columns]].reset_index(drop=True)
    return AppData(cat, test, is_rc, source, n_total, available, scored=kept, calibration=calibration)


#: Bump when the candidate cache's layout changes, so that old cache files are rebuilt.
CACHE_FORMAT = 3


@functools.lru_cache(maxsize=4)
def load_app_data(workdir: str) -> AppData:
    """Read ``workdir/catalogue`` and ``workdir/truthset_scored.parquet`` once per process."""
    folder = WorkFolder(workdir)
    path, catalogue_dir = folder.root, folder.catalogue
    if not folder.has_catalogue():
        msg = f"no catalogue in {catalogue_dir}: run `redclump build` first"
        raise FileNotFoundError(msg)
    import pyarrow as pa
    import pyarrow.dataset as pds
    import pyarrow.parquet as pq

    # A compact copy of the candidates' columns, made once per catalogue, makes later starts fast.
    definition = [",".join(APP_COLUMNS), ",".join(CARD_COLUMNS), DP_FLOOR, metrics.STRATA_BINS, CACHE_FORMAT]
    cache = folder.candidate_cache(definition)
    cached = read_candidate_cache(cache)
    if cached is None:
        dataset = pds.dataset(catalogue_dir, format="parquet")
        names = dataset.schema.names
        columns = [c for c in APP_COLUMNS if c in names] + card_columns(names)
        table = dataset.to_table(columns=columns, filter=pds.field("dp_phot") > DP_FLOOR)
        n_total = dataset.count_rows()
        catalogue = _encode_true_state(_prepare(table.to_pandas()))
        del table
        if {"l", "b", "phot_g_mean_mag", "teff_phot"} <= set(catalogue.columns):
            catalogue[STRATUM_COLUMN] = metrics.contamination_strata(catalogue)[0].astype(np.int16)
        prepared = pa.Table.from_pandas(catalogue, preserve_index=False).combine_chunks()
        write_candidate_cache(prepared, n_total, cache)
        del prepared
        # Read back memory-mapped, so the card's columns stay on disk; a folder the cache could
        # not be written to serves the frame in memory.
        cached = read_candidate_cache(cache) if cache.exists() else (catalogue, n_total)
        del catalogue
    catalogue, n_total = cached
    scored_path = folder.scored
    scored = None
    if scored_path.exists():
        wanted = {*APP_COLUMNS, *FIGURE_COLUMNS}
        names = pq.read_schema(scored_path).names
        scored = pd.read_parquet(scored_path, columns=[c for c in names if c in wanted])
    if scored is None:
        log.warning("no scored truth set in %s: contamination and completeness are unavailable", path)
    try:
        parts = calibration_files.read_calibration(path)
    except calibration_files.CalibrationFileError as exc:
        # The page still serves the catalogue and the test-split numbers; the numbers panel
        # says the catalogue estimate is missing.
        log.error("%s", exc)
        parts = None
    if parts is None:
        log.warning("no estimate calibration in %s: catalogue-level numbers are unavailable", path)
    calibration = None if parts is None else estimates.Calibration.from_parts(parts)
    identity = catalogue_identity(catalogue_dir)
    data = frames_to_app_data(catalogue, scored, source=identity.path, calibration=calibration)
    data.n_catalogue_total = n_total
    data.manifest_sha256 = identity.manifest_sha256
    log.info(
        "loaded %s candidates (ΔP_phot > %g s) of %s catalogue stars",
        f"{len(data.catalogue):,}",
        DP_FLOOR,
        f"{n_total:,}",
    )
    return data
