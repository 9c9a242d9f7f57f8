"""The mock Milky Way: a 13-band + parallax input catalogue and a spectroscopic truth set.

Stars are simulated in fixed blocks of :data:`BLOCK_STARS`, each with its own random stream
derived from ``(seed, block index)``, so the output is identical for a given seed however the
blocks are grouped into partitions or spread over workers. Every block keeps only the stars that a
real 4-survey crossmatch would contain (all 13 bands and a parallax), as Lucey et al. (2020) did.

``n_stars`` counts simulated stars, before the survey selection; the summary reports how many are
kept. Of the simulated stars a fraction ``dwarf_fraction`` (default 0.15) are main-sequence and
subgiant stars within 3 kpc of the Sun, the rest are giants drawn from the whole Galaxy in
proportion to the giants each component makes (its stellar mass times the evolutionary flux and
phase lifetimes of its ages, :mod:`redclump.data.evolution`), with ages distributed as its giants
are. The giants therefore follow the Galaxy model's distribution in shape, but their number is
set by ``n_stars``, not by the model's mass: one simulated giant stands for the number of real
ones that :func:`redclump.data.census.giant_scales` derives from the model's mass, the IMF and
stellar evolution (≈ 4.0–5.0 at the default ``n_stars``), so counts are comparable with the
paper's only after that scaling (`redclump report`'s "Counts on the Galaxy's scale"). The real input is mostly
dwarfs (~200 M stars); the mock keeps only enough dwarfs to train and test the giant/dwarf stage,
so a run takes minutes rather than hours.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import numpy.typing as npt
import pandas as pd
from astropy.coordinates import ICRS, Galactic, Galactocentric

from . import evolution, galaxy, stellar, surveys
from . import workdir as work_folder
from .schema import BANDS, SPLITS
from .storage import write_parquet

__all__ = [
    "BLOCK_STARS",
    "DEFAULT_STARS",
    "MockConfig",
    "MockError",
    "check_workdir",
    "generate_block",
    "giant_weights",
    "read_manifest",
    "split_of",
    "write_mock",
]

log = logging.getLogger(__name__)

BLOCK_STARS = 50_000
#: Default simulated stars. Set, before the mock was recalibrated on stellar evolution, for a
#: Tier 2 of about 2.6 M like the published one; the default build now keeps 15.6 M stars and its
#: Tier 2 holds 0.93 M (926,159 in README's results). Counts scale with ``n_stars``; the real
#: giants each simulated giant stands for come from :func:`redclump.data.census.giant_scales`.
DEFAULT_STARS = 75_000_000
DWARF_RADIUS_KPC = 3.0


class MockError(ValueError):
    """Invalid mock settings or an unusable work folder."""


@dataclass(frozen=True)
class MockConfig:
    """Everything that determines a mock's content (stored in its manifest)."""

    n_stars: int = DEFAULT_STARS
    seed: int = 42
    dwarf_fraction: float = 0.15
    truth_fraction: float = 0.06
    version: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.n_stars, bool) or not isinstance(self.n_stars, int | np.integer):
            msg = f"number of stars must be an integer, got {self.n_stars!r}"
            raise MockError(msg)
        if self.n_stars <= 0:
            msg = f"number of stars must be positive, got {self.n_stars}"
            raise MockError(msg)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) or self.seed < 0:
            msg = f"seed must be a non-negative integer, got {self.seed!r}"
            raise MockError(msg)
        if not 0.0 < self.truth_fraction <= 1.0:
            msg = f"truth fraction must be in (0, 1], got {self.truth_fraction}"
            raise MockError(msg)
        if not 0.0 <= self.dwarf_fraction < 1.0:
            msg = f"dwarf fraction must be in [0, 1), got {self.dwarf_fraction}"
            raise MockError(msg)

    @property
    def n_blocks(self) -> int:
        return -(-self.n_stars // BLOCK_STARS)

    def block_size(self, index: int) -> int:
        return min(BLOCK_STARS, self.n_stars - index * BLOCK_STARS)


def split_of(source_id: npt.NDArray[np.int64], seed: int) -> npt.NDArray[np.object_]:
    """Fixed train/valid/test split from a hash of ``source_id`` (splitmix64), seeded."""
    with np.errstate(over="ignore"):
        z = source_id.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    unit = (z >> np.uint64(11)).astype(np.float64) / float(2**53)
    edges = np.cumsum([surveys.SPLIT_FRACTIONS[s] for s in SPLITS])
    return np.array(SPLITS, dtype=object)[np.searchsorted(edges, unit, side="right").clip(0, 2)]


def _feh(comp: galaxy.Component, n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    weights = np.array([w for w, _, _ in comp.feh])
    which = rng.choice(len(comp.feh), size=n, p=weights / weights.sum())
    means = np.array([m for _, m, _ in comp.feh])[which]
    sigmas = np.array([s for _, _, s in comp.feh])[which]
    return np.clip(means + sigmas * rng.standard_normal(n), -3.0, 0.6)


def _mean_feh(comp: galaxy.Component) -> float:
    return sum(w * m for w, m, _ in comp.feh) / sum(w for w, _, _ in comp.feh)


def giant_weights() -> npt.NDArray[np.float64]:
    """Relative number of red giants each component contributes: its stellar mass times the
    giants a population of its ages and mean [Fe/H] holds per unit mass, from the evolutionary
    flux and phase lifetimes (:func:`evolution.giants_per_unit_mass`; Girardi 2016).
    """
    masses = galaxy.component_masses()
    return np.array(
        [masses[c.name] * evolution.giants_per_unit_mass(c.age_gyr, _mean_feh(c)) for c in galaxy.COMPONENTS]
    )


def _giant_positions(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    weights = giant_weights()
    counts = rng.multinomial(n, weights / weights.sum())
    parts = []
    for comp, count in zip(galaxy.COMPONENTS, counts, strict=True):
        x, y, z = galaxy.sample_positions(comp, int(count), rng)
        age = evolution.draw_giant_ages(comp.age_gyr, _mean_feh(comp), int(count), rng)
        parts.append(
            {
                "x": x,
                "y": y,
                "z": z,
                "age": age,
                "feh": _feh(comp, int(count), rng),
                "component": np.full(int(count), comp.name, dtype=object),
            }
        )
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _dwarf_positions(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    disks = [c for c in galaxy.COMPONENTS if c.geometry in ("thin", "thick")]
    local = np.array([c.rho_sun for c in disks])
    counts = rng.multinomial(n, local / local.sum())
    parts = []
    for comp, count in zip(disks, counts, strict=True):
        count = int(count)
        xs, ys, zs = [], [], []
        have = 0
        while have < count:
            trial = 3 * (count - have) + 16
            x, y, z = galaxy.sample_positions(comp, trial, rng)
            near = (x + galaxy.R0_KPC) ** 2 + y**2 + (z - galaxy.Z_SUN_KPC) ** 2 < DWARF_RADIUS_KPC**2
            # Sampling the whole disk and keeping the local sphere is exact but wasteful for
            # short scale lengths; a uniform cylinder weighted by density would be faster.
            xs.append(x[near])
            ys.append(y[near])
            zs.append(z[near])
            have += int(near.sum())
        parts.append(
            {
                "x": np.concatenate(xs)[:count],
                "y": np.concatenate(ys)[:count],
                "z": np.concatenate(zs)[:count],
                "age": rng.uniform(*comp.age_gyr, count),
                "feh": _feh(comp, count, rng),
                "component": np.full(count, comp.name, dtype=object),
            }
        )
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def generate_block(config: MockConfig, index: int, dust: galaxy.DustModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate block ``index`` and return (kept input rows, truth-set rows)."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, index]))
    n = config.block_size(index)
    n_dwarf = round(n * config.dwarf_fraction)
    giants = _giant_positions(n - n_dwarf, rng)
    dwarfs = _dwarf_positions(n_dwarf, rng)
    pos = {key: np.concatenate([giants[key], dwarfs[key]]) for key in giants}
    giant_params = stellar.draw_giants(giants["age"], giants["feh"], rng)
    dwarf_params = stellar.draw_dwarfs(dwarfs["age"], dwarfs["feh"], rng)
    params = {key: np.concatenate([giant_params[key], dwarf_params[key]]) for key in giant_params}

    frame = Galactocentric(
        x=pos["x"] * u.kpc,
        y=pos["y"] * u.kpc,
        z=pos["z"] * u.kpc,
        galcen_distance=np.hypot(galaxy.R0_KPC, galaxy.Z_SUN_KPC) * u.kpc,
        z_sun=galaxy.Z_SUN_KPC * u.kpc,
    )
    gal = frame.transform_to(Galactic())
    l_deg = gal.l.to_value(u.deg)
    b_deg = gal.b.to_value(u.deg)
    dist = gal.distance.to_value(u.kpc)
    icrs = gal.transform_to(ICRS())
    ra, dec = icrs.ra.to_value(u.deg), icrs.dec.to_value(u.deg)

    a_v = dust.a_v(l_deg, b_deg, dist)
    absolute = stellar.absolute_magnitudes(params["teff"], params["logg"], pos["feh"], params["cn"], params["m_ks"])
    observed, keep = surveys.observe(absolute, dist, a_v, dec, rng)

    source_id = (np.int64(index) << np.int64(22)) + np.arange(n, dtype=np.int64)
    columns: dict[str, Any] = {
        "source_id": source_id,
        "ra": ra,
        "dec": dec,
        "l": l_deg,
        "b": b_deg,
        "parallax": observed["parallax"],
        "parallax_error": observed["parallax_error"],
    }
    for band in BANDS:
        columns[band] = observed[band]
        columns[surveys.BAND_ERRORS[band]] = observed[surveys.BAND_ERRORS[band]]
    truth = {
        "true_state": params["state"],
        "true_component": pos["component"],
        "true_teff": params["teff"],
        "true_logg": params["logg"],
        "true_feh": pos["feh"],
        "true_mass": params["mass"],
        "true_age": pos["age"],
        "true_cn": params["cn"],
        "true_dp": params["dp"],
        "true_dnu": params["dnu"],
        "true_dist": dist,
        "true_av": a_v,
        "true_m_ks": params["m_ks"],
    }
    for key, value in truth.items():
        columns[key] = value.astype(np.float32) if value.dtype == np.float64 else value
    table = pd.DataFrame(columns)[keep].reset_index(drop=True)
    for key in ("true_state", "true_component"):
        table[key] = table[key].astype("category")

    return table, _truth_set(config, table, rng)


def _truth_set(config: MockConfig, table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The block's truth-set stars (a LAMOST-like selection of the kept ``table``) with their
    spectroscopic labels, class and split."""
    g_mag = table["phot_g_mean_mag"].to_numpy(np.float64)
    prob = (
        config.truth_fraction
        * surveys.truthset_probability(table["l"].to_numpy(), table["b"].to_numpy(), table["dec"].to_numpy(), g_mag)
        / 0.1
    )
    chosen = rng.random(len(table)) < np.clip(prob, 0.0, 1.0)
    chosen_rows = table[chosen].reset_index(drop=True)
    state = chosen_rows["true_state"].astype(str).to_numpy()
    labels = surveys.spectroscopic_labels(
        {
            "state": state,
            "teff": chosen_rows["true_teff"].to_numpy(np.float64),
            "logg": chosen_rows["true_logg"].to_numpy(np.float64),
            "feh": chosen_rows["true_feh"].to_numpy(np.float64),
            "dp": chosen_rows["true_dp"].to_numpy(np.float64),
            "dnu": chosen_rows["true_dnu"].to_numpy(np.float64),
        },
        g_mag[chosen],
        rng,
    )
    truthset = chosen_rows.assign(**labels)
    truthset["class"] = truthset["class"].astype(pd.CategoricalDtype(["RC", "RGB", "2CL"]))
    truthset["split"] = pd.Categorical(split_of(truthset["source_id"].to_numpy(), config.seed), categories=list(SPLITS))
    return truthset


def check_workdir(workdir: Path) -> None:
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create work folder {workdir}: {exc.strerror}"
        raise MockError(msg) from exc
    if not os.access(workdir, os.W_OK):
        msg = f"work folder {workdir} is not writable"
        raise MockError(msg)


def _summary(
    config: MockConfig, tables: list[dict[str, Any]], input_dir: Path, truth_path: Path, elapsed: float
) -> dict[str, Any]:
    def total(key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in tables:
            for k, v in t[key].items():
                out[k] = out.get(k, 0) + int(v)
        return dict(sorted(out.items()))

    states = total("states")
    kept = sum(states.values())
    giants = sum(states.get(s, 0) for s in ("RGB", "RC", "2CL"))
    box = total("rc_box")
    size = sum(f.stat().st_size for f in work_folder.partitions(input_dir))
    truth_size = truth_path.stat().st_size
    return {
        "config": asdict(config),
        "simulated": config.n_stars,
        "kept": kept,
        "kept_fraction": kept / config.n_stars,
        "per_state": states,
        "per_component": total("components"),
        "per_footprint": total("footprints"),
        "rc_fraction_of_giants": states.get("RC", 0) / max(giants, 1),
        "rc_fraction_in_rc_box": box.get("RC", 0) / max(sum(box.values()), 1),
        "truthset": total("truth"),
        "input_bytes": size,
        "truthset_bytes": truth_size,
        "seconds": elapsed,
        "simulated_per_second": config.n_stars / elapsed,
    }


def _partition_task(
    config: MockConfig, blocks: list[int], dust: galaxy.DustModel, out_dir: str, part: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    tables, truths = [], []
    for index in blocks:
        table, truth = generate_block(config, index, dust)
        tables.append(table)
        truths.append(truth)
    table = pd.concat(tables, ignore_index=True)
    truth = pd.concat(truths, ignore_index=True)
    for frame in (table, truth):
        for key in ("true_state", "true_component"):
            frame[key] = frame[key].astype(str)
    write_parquet(table, Path(out_dir) / work_folder.PARTITION.format(number=part))
    state = table["true_state"]
    in_box = table["true_teff"].between(4500, 5100) & table["true_logg"].between(2.2, 2.8)
    stats = {
        "states": state.value_counts().to_dict(),
        "components": table["true_component"].value_counts().to_dict(),
        "footprints": {
            "ps1 (dec > -30)": len(table),
            "lamost (dec > -10)": int((table["dec"] > -10).sum()),
            "|b| > 30": int((table["b"].abs() > 30).sum()),
        },
        "rc_box": state[in_box].value_counts().to_dict(),
        "truth": {"stars": len(truth), "seismic": int(truth["deltap"].notna().sum())},
    }
    return truth, stats


def write_mock(
    workdir: Path,
    config: MockConfig,
    *,
    partition_stars: int = 1_000_000,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Generate the mock into ``workdir/input/`` and ``workdir/truthset.parquet``.

    Output is written under temporary names and renamed at the end, so an interrupted run never
    leaves a dataset that looks complete. ``client`` is a dask distributed client; without one
    the partitions are made in this process. ``progress`` is called with each finished
    partition count.
    """
    if partition_stars < BLOCK_STARS or partition_stars % BLOCK_STARS:
        msg = f"partition size must be a positive multiple of {BLOCK_STARS}, got {partition_stars}"
        raise MockError(msg)
    workdir = Path(workdir)
    check_workdir(workdir)
    start = time.perf_counter()
    dust = galaxy.DustModel.from_seed(config.seed)
    per_part = partition_stars // BLOCK_STARS
    groups = [list(range(i, min(i + per_part, config.n_blocks))) for i in range(0, config.n_blocks, per_part)]
    folder = work_folder.WorkFolder(workdir)
    tmp_input = work_folder.tmp_name(folder.input)
    tmp_truth = work_folder.tmp_name(folder.truthset)
    shutil.rmtree(tmp_input, ignore_errors=True)
    tmp_input.mkdir()
    results: list[tuple[pd.DataFrame, dict[str, Any]] | None] = [None] * len(groups)
    try:
        if client is None:
            for part, blocks in enumerate(groups):
                results[part] = _partition_task(config, blocks, dust, str(tmp_input), part)
                if progress:
                    progress(1)
        else:
            from distributed import as_completed

            dust_future = client.scatter(dust, broadcast=True)
            futures = {
                client.submit(_partition_task, config, blocks, dust_future, str(tmp_input), part, pure=False): part
                for part, blocks in enumerate(groups)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                future.release()
                if progress:
                    progress(1)
        truth = pd.concat([r[0] for r in results if r is not None], ignore_index=True)
        for key in ("true_state", "true_component"):
            truth[key] = truth[key].astype("category")
        write_parquet(truth, tmp_truth)
        summary = _summary(
            config, [r[1] for r in results if r is not None], tmp_input, tmp_truth, time.perf_counter() - start
        )
        (tmp_input / work_folder.SUMMARY).write_text(json.dumps(summary, indent=2))
        work_folder.write_manifest(
            tmp_input, {"kind": "redclump-mock", "config": asdict(config), "partitions": len(groups)}
        )
        # Input aside first: until the new input is in place there is no mock manifest, so a run
        # killed between these renames is redone, never taken as up to date with a new truth set.
        old_input = work_folder.tmp_name(folder.input, "old")
        if folder.input.exists():
            os.replace(folder.input, old_input)
        os.replace(tmp_truth, folder.truthset)
        os.replace(tmp_input, folder.input)
        shutil.rmtree(old_input, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp_input, ignore_errors=True)
        tmp_truth.unlink(missing_ok=True)
        raise
    return summary


def read_manifest(workdir: Path) -> dict[str, Any] | None:
    """The manifest of a complete mock in ``workdir``, or None if there is none."""
    folder = work_folder.WorkFolder(workdir)
    if not folder.truthset.exists():
        return None
    return work_folder.read_manifest(folder.input)  # None if damaged by hand: regenerate rather than trust it
