"""Regenerate docs/img/mock_overview.png, the overview figure of docs/mock.md, from a build.

Usage::

    python docs/make_mock_figure.py --workdir .redclump --out docs/img/mock_overview.png

It reads the mock's ``input/`` partitions (true labels included) a few columns at a time and
prints, as JSON, the numbers the caption quotes: the counts per state, and the median and 16–84 %
half-width of the RC's absolute Ks magnitude recovered from observed Ks, true distance and true
extinction, over all RC stars and over the 1.1–1.3 M☉ stars that Chan & Bovy's −1.622 describes.
The scatter panels show a seeded random fraction of the giants; the histogram uses every RC star.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure
from redclump.data import surveys

__all__ = ["mock_overview", "rc_absolute_ks", "read_giants"]

log = logging.getLogger(__name__)

#: Okabe–Ito colours, one per evolutionary state (as in the figure set, docs/figures.md).
STATE_COLOURS = {"RGB": "#0072B2", "RC": "#D55E00", "2CL": "#009E73"}
COLUMNS = ["true_state", "true_teff", "true_logg", "true_dp", "true_dnu", "true_mass", "true_dist", "true_av", "ks_m"]
#: Lucey et al. 2020's Tier 2 cut (ΔP > 225 s, Δν < 5.5 µHz) and Chan & Bovy 2020's RC M_Ks.
TIER2_DP_S, TIER2_DNU_UHZ, M_KS_CHAN_BOVY = 225.0, 5.5, -1.622


def rc_absolute_ks(stars: pd.DataFrame) -> np.ndarray:
    """Absolute Ks (mag) from observed Ks, true distance (kpc) and true A_V, with the mock's A_Ks/A_V."""
    a_ks = stars["true_av"].to_numpy() * surveys.EXTINCTION_R["ks_m"] / surveys.R_V
    return stars["ks_m"].to_numpy() - 5 * np.log10(stars["true_dist"].to_numpy() * 100.0) - a_ks


def read_giants(input_dir: Path, *, scatter_fraction: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every RC star, and a seeded ``scatter_fraction`` of all giants, from a build's ``input/``."""
    parts = sorted(Path(input_dir).glob("part-*.parquet"))
    if not parts:
        msg = f"{input_dir}: no part-*.parquet files (expected a build's input folder)"
        raise FileNotFoundError(msg)
    clump, sample = [], []
    for index, part in enumerate(parts):
        frame = pq.read_table(part, columns=COLUMNS).to_pandas()
        giants = frame[frame["true_state"].isin(list(STATE_COLOURS))]
        clump.append(giants[giants["true_state"] == "RC"])
        rng = np.random.default_rng([seed, index])
        sample.append(giants[rng.random(len(giants)) < scatter_fraction])
        log.info("%s: %d giants", part.name, len(giants))
    return pd.concat(clump, ignore_index=True), pd.concat(sample, ignore_index=True)


def _spread(values: np.ndarray) -> dict[str, float]:
    lo, median, hi = np.percentile(values, [16, 50, 84])
    return {"n": int(values.size), "median": round(float(median), 3), "half_width_16_84": round(float(hi - lo) / 2, 3)}


def mock_overview(clump: pd.DataFrame, sample: pd.DataFrame) -> tuple[Figure, dict[str, Any]]:
    """The three-panel overview and the numbers behind it."""
    m_ks = rc_absolute_ks(clump)
    solar_like = (clump["true_mass"] > 1.1) & (clump["true_mass"] < 1.3)
    stats: dict[str, Any] = {
        "scatter_giants": {state: int((sample["true_state"] == state).sum()) for state in STATE_COLOURS},
        "rc_mass_median": round(float(clump["true_mass"].median()), 3),
        "rc_m_ks_all": _spread(m_ks),
        "rc_m_ks_1.1-1.3_msun": _spread(m_ks[solar_like.to_numpy()]),
    }
    fig = Figure(figsize=(10, 3.1), layout="constrained")
    ax_seis, ax_kiel, ax_mks = fig.subplots(1, 3)
    for state, colour in STATE_COLOURS.items():
        stars = sample[sample["true_state"] == state]
        ax_seis.scatter(stars["true_dnu"], stars["true_dp"], s=1, alpha=0.2, color=colour, label=state, rasterized=True)
        ax_kiel.scatter(stars["true_teff"], stars["true_logg"], s=1, alpha=0.2, color=colour, rasterized=True)
    ax_seis.axhline(TIER2_DP_S, color="k", ls="--", lw=0.8)
    ax_seis.axvline(TIER2_DNU_UHZ, color="k", ls="--", lw=0.8)
    ax_seis.set(xscale="log", xlabel="true Δν (µHz)", ylabel="true ΔP (s)", title="ΔP–Δν plane (giants)")
    ax_seis.legend(markerscale=8, fontsize=8, loc="upper left")
    ax_kiel.set(xlabel="true Teff (K)", ylabel="true log g", title="Kiel diagram")
    ax_kiel.invert_xaxis()
    ax_kiel.invert_yaxis()
    ax_mks.hist(m_ks, bins=np.arange(-2.5, -0.7, 0.02), histtype="step", color=STATE_COLOURS["RC"], label="all RC")
    ax_mks.hist(
        m_ks[solar_like.to_numpy()], bins=np.arange(-2.5, -0.7, 0.02), histtype="step", color="k", label="1.1–1.3 M☉"
    )
    ax_mks.axvline(stats["rc_m_ks_all"]["median"], color=STATE_COLOURS["RC"], ls="--", lw=0.8)
    ax_mks.axvline(M_KS_CHAN_BOVY, color="k", ls=":", lw=0.8)
    ax_mks.set(xlabel="M_Ks of RC (from true d, A)", ylabel="stars", title="RC absolute magnitude")
    ax_mks.legend(fontsize=8, loc="upper left")
    return fig, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(".redclump"), help="a build's work directory (read only)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "img" / "mock_overview.png")
    parser.add_argument("--scatter-fraction", type=float, default=0.02, help="fraction of giants drawn in the scatters")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    clump, sample = read_giants(args.workdir / "input", scatter_fraction=args.scatter_fraction)
    fig, stats = mock_overview(clump, sample)
    manifest = args.workdir / "input" / "_manifest.json"
    if manifest.exists():
        stats["build"] = json.loads(manifest.read_text())["config"]
    fig.savefig(args.out, dpi=110)
    print(json.dumps(stats, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
