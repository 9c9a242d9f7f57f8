"""`redclump report`'s "the catalogue by G and by distance": for each published sample, the
estimated contamination and completeness of the selected catalogue stars (docs/estimates.md)
beside the truth set's test-split value and, on a mock, the true value.

True values come from the mock's ``true_state``; they are printed, never used by the estimate,
and never written to the JSON.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from redclump.core import cells, estimates, metrics
from redclump.core.provenance import METRIC_KEYS
from redclump.core.selection import HIGH_LATITUDE, TIER1, TIER2, Cut
from redclump.data import calibration_files
from redclump.data.calibration_files import CalibrationFileError
from redclump.data.workdir import WorkFolder, partitions

__all__ = [
    "DIST_BINS",
    "G_BINS",
    "SAMPLES",
    "catalogue_rows",
    "catalogue_tables",
    "load_calibration",
    "truth_scores",
    "write_json",
]

#: The samples of the tables: the paper's two tiers, its high-latitude sample, and P(RC) ≥ 0.5.
SAMPLES: dict[str, Cut] = {
    "tier1": TIER1,
    "tier2": TIER2,
    "highlat": HIGH_LATITUDE,
    "p_rc_0.5": Cut(p_rc_min=0.5),
}
G_BINS = (13.0, 15.0, 17.0, 18.0, 19.0, 20.0)
DIST_BINS = (0.0, 5.0, 10.0, 20.0, 50.0)
JSON_KEYS = ("n_selected", *METRIC_KEYS)


def _bins() -> list[tuple[str, float | None, float | None]]:
    rows: list[tuple[str, float | None, float | None]] = [("all", None, None)]
    rows += [("G", lo, hi) for lo, hi in itertools.pairwise(G_BINS)]
    rows += [("dist", lo, hi) for lo, hi in itertools.pairwise(DIST_BINS)]
    return rows


def _in_bin(cut: Cut, by: str, lo: float | None, hi: float | None) -> Cut:
    if by == "G":
        return cut.replace(g_min=lo, g_max=hi)
    if by == "dist":
        return cut.replace(dist_min=lo, dist_max=hi)
    return cut


def load_calibration(workdir: Path, networks: str = "redclump") -> estimates.Calibration | None:
    """A network set's catalogue-estimate calibration in ``workdir``, or None when it was not
    built (:func:`redclump.estimation.load_calibration` returns the same)."""
    parts = calibration_files.read_calibration(Path(workdir), networks)
    return None if parts is None else estimates.Calibration.from_parts(parts)


def catalogue_rows(workdir: Path, *, samples: dict[str, Cut] | None = None) -> list[dict[str, Any]]:
    """One row per sample and bin: the catalogue estimate with its 68 % interval, the test-split
    value, and (on a mock) the true value in ``true_contamination`` / ``true_completeness``.

    Completeness is relative to the catalogue's RC stars inside the sample's position terms
    (|b|, G, RC distance) and the bin: for Tier 1 and Tier 2 in a G bin, the RC giants of the
    catalogue in that G bin.
    """
    workdir = Path(workdir)
    calibration = load_calibration(workdir)
    if calibration is None:
        msg = f"no estimate calibration in {WorkFolder(workdir).estimates}: run `redclump infer`"
        raise CalibrationFileError(msg)
    samples = SAMPLES if samples is None else samples
    columns = sorted(
        {c for cut in samples.values() for c in cut.required_columns()} | {"phot_g_mean_mag", "a_w1", "b", "dist"}
    )
    catalogue_dir = WorkFolder(workdir).catalogue
    names = pd.read_parquet(partitions(catalogue_dir)[0]).columns
    truth_column = ["true_state"] if "true_state" in names else []
    catalogue = pd.read_parquet(catalogue_dir, columns=[*columns, *truth_column])
    star_cells = cells.frame_cells(catalogue)
    test, test_is_rc = metrics.test_split_truth(pd.read_parquet(WorkFolder(workdir).scored))
    true_rc = (catalogue["true_state"].astype(str) == "RC").to_numpy() if truth_column else None
    rows = []
    for name, cut in samples.items():
        for by, lo, hi in _bins():
            binned = _in_bin(cut, by, lo, hi)
            selected = binned.mask(catalogue)
            estimate = calibration.estimate(binned, star_cells[selected])
            bin_only = _in_bin(Cut(), by, lo, hi)
            in_test_bin = bin_only.mask(test)
            test_stats = metrics.selection_metrics(binned.mask(test)[in_test_bin], test_is_rc[in_test_bin])
            row = {
                "sample": name,
                "by": by,
                "lo": lo,
                "hi": hi,
                **{k: estimate[k] for k in JSON_KEYS},
                "uncovered": estimate["uncovered"],
                "outside_truth": float(
                    calibration.outside_truth(
                        catalogue["phot_g_mean_mag"].to_numpy()[selected],
                        catalogue["a_w1"].to_numpy()[selected],
                        catalogue["dist"].to_numpy()[selected],
                    ).mean()
                )
                if selected.any()
                else math.nan,
                "test_contamination": test_stats["contamination"],
                "test_completeness": test_stats["completeness"],
            }
            if true_rc is not None:
                domain = estimates.domain_cut(binned).mask(catalogue)
                n_rc = np.count_nonzero(true_rc & domain)
                row["true_contamination"] = float(1 - true_rc[selected].mean()) if selected.any() else math.nan
                row["true_completeness"] = float(np.count_nonzero(true_rc & selected) / n_rc) if n_rc else math.nan
            rows.append(row)
    return rows


def write_json(rows: list[dict[str, Any]], path: Path) -> None:
    """``rows`` as a JSON list of estimates only (no true or test-split values), fractions 0–1."""

    def clean(value: Any) -> Any:
        return None if isinstance(value, float) and not math.isfinite(value) else value

    out = [
        {"sample": r["sample"], "by": r["by"], "lo": r["lo"], "hi": r["hi"], **{k: clean(r[k]) for k in JSON_KEYS}}
        for r in rows
    ]
    Path(path).write_text(json.dumps(out, indent=1) + "\n")


def _pct(value: float, lo: float | None = None, hi: float | None = None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{100 * value:.1f}"
    return f"{100 * value:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


#: The bins the scores judge: enough selected stars for the truth to be sharp, and inside
#: G ≤ 19 and 20 kpc (issue #18's targets).
SCORED_MIN_SELECTED = 2000


def truth_scores(rows: list[dict[str, Any]], samples: tuple[str, ...] = ("tier1", "tier2")) -> dict[str, Any]:
    """On a mock, how the estimate fares against the truth over the scored bins (G and distance
    bins of ``samples`` with ≥ 2,000 selected stars, G ≤ 19, distance ≤ 20 kpc): the largest
    misses, how many bins are within 3 points (contamination) and 5 points (completeness), how
    often the 68 % intervals cover the truth, and their median width."""
    scored = [
        r
        for r in rows
        if r["sample"] in samples
        and r["by"] in ("G", "dist")
        and r["n_selected"] >= SCORED_MIN_SELECTED
        and (r["hi"] <= 19 if r["by"] == "G" else r["hi"] <= 20)
        and "true_contamination" in r
    ]
    out: dict[str, Any] = {"bins": len(scored)}
    for key, limit in (("contamination", 0.03), ("completeness", 0.05)):
        errors = np.array([r[key] - r[f"true_{key}"] for r in scored])
        covered = [r[f"{key}_lo"] <= r[f"true_{key}"] <= r[f"{key}_hi"] for r in scored]
        widths = [r[f"{key}_hi"] - r[f"{key}_lo"] for r in scored]
        out[key] = {
            "within": int(np.sum(np.abs(errors) <= limit)),
            "limit": limit,
            "largest_miss": float(errors[np.argmax(np.abs(errors))]) if len(errors) else math.nan,
            "covered": int(np.sum(covered)),
            "median_width": float(np.median(widths)) if widths else math.nan,
        }
    return out


def _scores_lines(rows: list[dict[str, Any]]) -> list[str]:
    scores = truth_scores(rows)
    if not scores["bins"]:
        return []
    lines = [
        f"Against the mock's truth, over the {scores['bins']} Tier 1 and Tier 2 bins with ≥ "
        f"{SCORED_MIN_SELECTED:,} selected stars, G ≤ 19 and distance ≤ 20 kpc:",
        "",
    ]
    for key in ("contamination", "completeness"):
        s = scores[key]
        lines.append(
            f"- {key}: {s['within']} of {scores['bins']} within ±{100 * s['limit']:.0f} points (largest miss "
            f"{100 * s['largest_miss']:+.1f}); the 68 % interval covers the truth in {s['covered']}; "
            f"median width {100 * s['median_width']:.1f} points."
        )
    return [*lines, ""]


def p_rc_calibration(workdir: Path) -> list[dict[str, Any]]:
    """Is P(RC) calibrated where the catalogue's stars are? Per G bin, over the degraded twins in
    the catalogue: their number, their mean P(RC), and the share of them labelled RC."""
    calibration = load_calibration(Path(workdir))
    if calibration is None:
        return []
    twins = calibration.twins
    g = np.asarray(twins["phot_g_mean_mag"], dtype=np.float64)
    p_rc = np.asarray(twins["p_rc"], dtype=np.float64)
    is_rc = np.asarray(twins["twin_class"]) == calibration.class_names.index("RC")
    rows = []
    for lo, hi in itertools.pairwise((-np.inf, *G_BINS)):
        inside = (g > lo) & (g < hi) & np.isfinite(p_rc)
        if inside.any():
            rows.append(
                {
                    "lo": lo,
                    "hi": hi,
                    "n": int(inside.sum()),
                    "mean_p_rc": float(p_rc[inside].mean()),
                    "rc_share": float(is_rc[inside].mean()),
                }
            )
    return rows


def p_rc_table(rows: list[dict[str, Any]]) -> str:
    """Markdown of :func:`p_rc_calibration`."""
    if not rows:
        return ""
    lines = [
        "**Is P(RC) calibrated where the catalogue is?** Degraded twins in the catalogue, by G: mean "
        "P(RC) against the share labelled RC. Where they differ, P(RC) ≥ x does not mean what it says "
        "for faint stars; the catalogue estimate does not use P(RC) itself (only cuts on it).",
        "",
        "| G | twins | mean P(RC) | labelled RC |",
        "|---|---|---|---|",
    ]
    for r in rows:
        label = f"< {r['hi']:g}" if not math.isfinite(r["lo"]) else f"{r['lo']:g}–{r['hi']:g}"
        lines.append(f"| {label} | {r['n']:,} | {100 * r['mean_p_rc']:.1f} % | {100 * r['rc_share']:.1f} % |")
    return "\n".join([*lines, ""])


def catalogue_tables(rows: list[dict[str, Any]]) -> str:
    """Markdown tables, one per sample, of :func:`catalogue_rows`."""
    has_truth = any("true_contamination" in r for r in rows)
    out = [
        "### The catalogue by G and by distance",
        "",
        "Contamination and completeness (%) of the **selected catalogue stars**, estimated from degraded "
        "twins of the truth set's test split and the catalogue's own class mix per cell "
        "([docs/estimates.md](docs/estimates.md)), with 68 % intervals; beside them the truth set's "
        "test-split value" + (" and the mock's true value (`true_state`)." if has_truth else "."),
        "Completeness is relative to the catalogue's RC stars in the row's bin (and the sample's "
        "|b| limit). *beyond truth*: the share of the selected stars beyond the truth set's 99th "
        "percentile of G, extinction or RC distance.",
        "",
        *_scores_lines(rows),
    ]
    for sample in dict.fromkeys(r["sample"] for r in rows):
        out += [f"**{sample}**", ""]
        head = "| bin | selected | contamination est. | test | "
        head += "true | " if has_truth else ""
        head += "completeness est. | test | " + ("true | " if has_truth else "") + "beyond truth |"
        out.append(head)
        out.append("|" + "---|" * (head.count("|") - 1))
        for r in (r for r in rows if r["sample"] == sample):
            label = (
                "all"
                if r["by"] == "all"
                else (f"G {r['lo']:g}–{r['hi']:g}" if r["by"] == "G" else f"{r['lo']:g}–{r['hi']:g} kpc")
            )
            row_cells = [
                label,
                f"{r['n_selected']:,}",
                _pct(r["contamination"], r["contamination_lo"], r["contamination_hi"]),
                _pct(r["test_contamination"]),
            ]
            if has_truth:
                row_cells.append(_pct(r["true_contamination"]))
            row_cells.append(_pct(r["completeness"], r["completeness_lo"], r["completeness_hi"]))
            row_cells.append(_pct(r["test_completeness"]))
            if has_truth:
                row_cells.append(_pct(r["true_completeness"]))
            row_cells.append(_pct(r["outside_truth"]))
            out.append("| " + " | ".join(row_cells) + " |")
        out.append("")
    return "\n".join(out)
