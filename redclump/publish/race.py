"""`redclump report`'s race between the network sets along the trade-off (issue #19).

For each completeness level of :data:`redclump.core.tradeoff.COMPLETENESS_LEVELS`, every built
network set's ΔP threshold (Δν < 5.5 µHz) is solved on the same test stars
(:func:`redclump.core.tradeoff.compare_along_tradeoff`). The solved cut is then applied to that
set's catalogue: its estimated contamination and completeness over the selected catalogue
stars (the set's ``estimates*/``, docs/estimates.md) and, on a mock, the true ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from redclump.core import cells, tradeoff
from redclump.core.selection import Cut
from redclump.data.workdir import MANIFEST, WorkFolder

from .catalogue_report import load_calibration

__all__ = ["LABELS", "catalogue_columns", "tradeoff_lines", "tradeoff_rows"]

#: What each network set is called in the report.
LABELS = {
    "redclump": "ours",
    "paper": "authors' (full-batch)",
    "paper_minibatch": "authors' design, minibatch-trained",
}
_COLUMNS = ("dp_phot", "dnu_phot", "phot_g_mean_mag", "a_w1", "dist", "b")


def catalogue_columns(catalogue_dir: Path) -> pd.DataFrame:
    """The columns the race needs from a catalogue, with ``true_state`` on a mock."""
    first = sorted(catalogue_dir.glob("*.parquet"))[0]
    names = set(pd.read_parquet(first).columns)
    return pd.read_parquet(catalogue_dir, columns=[*_COLUMNS, *(["true_state"] if "true_state" in names else [])])


def _solved_cut(row: dict[str, Any]) -> Cut | None:
    return None if row["cut"] is None else tradeoff.TRADEOFF_BASE.replace(dp_min=row["threshold"])


def _on_catalogue(workdir: Path, name: str, rows: list[dict[str, Any]]) -> None:
    """Add ``catalogue_*`` (estimate) and ``true_*`` (mock truth) to one set's rows."""
    catalogue_dir = WorkFolder(workdir).networks(name).catalogue
    if not (catalogue_dir / MANIFEST).exists():
        return
    catalogue = catalogue_columns(catalogue_dir)
    calibration = load_calibration(workdir, name)
    star_cells = cells.frame_cells(catalogue) if calibration is not None else None
    true_rc = (catalogue["true_state"].astype(str) == "RC").to_numpy() if "true_state" in catalogue else None
    for row in rows:
        cut = _solved_cut(row)
        if cut is None:
            continue
        selected = cut.mask(catalogue)
        row["n_catalogue"] = int(selected.sum())
        if calibration is not None and star_cells is not None:
            estimate = calibration.estimate(cut, star_cells[selected])
            for key in ("contamination", "completeness"):
                for end in ("", "_lo", "_hi"):
                    row[f"catalogue_{key}{end}"] = estimate[f"{key}{end}"]
        if true_rc is not None and selected.any():
            row["true_contamination"] = float(1.0 - true_rc[selected].mean())
            row["true_completeness"] = float(np.count_nonzero(true_rc & selected) / max(true_rc.sum(), 1))


def tradeoff_rows(
    workdir: Path | str, tests: dict[str, tuple[pd.DataFrame, np.ndarray]], *, n_boot: int = 200, seed: int = 0
) -> list[dict[str, Any]] | str:
    """The race's rows (:func:`redclump.core.tradeoff.compare_along_tradeoff`, ours the
    reference) with each set's catalogue numbers; or a sentence saying why there is none.

    ``tests`` maps each built set to its scored test split and RC truth
    (:func:`redclump.core.metrics.test_split_truth`).
    """
    workdir = Path(workdir)
    if "redclump" not in tests or len(tests) < 2:
        return (
            "Needs our networks and at least one of the authors' sets built and inferred "
            "(`redclump build --networks all`)."
        )
    reference_ids = tests["redclump"][0]["source_id"].to_numpy()
    for name, (test, _) in tests.items():
        if not np.array_equal(test["source_id"].to_numpy(), reference_ids):
            return (
                f"The scored truth sets of ours and {LABELS[name]} hold different test stars: "
                "rebuild both from one truth set."
            )
    is_rc = tests["redclump"][1]
    rows = tradeoff.compare_along_tradeoff(
        {name: test for name, (test, _) in tests.items()}, is_rc, reference="redclump", n_boot=n_boot, seed=seed
    )
    for name in tests:
        _on_catalogue(workdir, name, [row for row in rows if row["set"] == name])
    return rows


def _cell(row: dict[str, Any], key: str) -> str:
    return _pct(row.get(key), row.get(f"{key}_lo"), row.get(f"{key}_hi"))


def _pct(value: float | None, lo: float | None = None, hi: float | None = None) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    text = f"{100 * value:.1f} %"
    if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
        text += f" [{100 * lo:.1f}, {100 * hi:.1f}]"
    return text


def _difference(row: dict[str, Any]) -> str:
    if "difference" not in row or not np.isfinite(row["difference"]):
        return "reference" if "difference" not in row else "–"
    word = {"lower": "lower", "higher": "higher", "equal": "equal", "n/a": "–"}[tradeoff.verdict(row)]
    return (
        f"{100 * row['difference']:+.1f} pts [{100 * row['difference_lo']:+.1f}, {100 * row['difference_hi']:+.1f}]: "
        f"{word}"
    )


def tradeoff_lines(rows: list[dict[str, Any]] | str) -> list[str]:
    """The race as markdown: the table and one sentence per level."""
    if isinstance(rows, str):
        return [rows]
    lines = [
        "Each network set's ΔP threshold is solved on the same test stars for each completeness, at Δν < 5.5 µHz "
        "(68 % bootstrap intervals over test stars, thresholds re-solved in each of the draws; the difference from "
        "ours is paired, and called lower or higher only when its 95 % interval excludes zero). The same cut is then "
        "applied to each set's catalogue: the estimated contamination and completeness of the selected catalogue "
        "stars (docs/estimates.md) and, on the mock, their true values.",
        "",
        "| completeness (test) | networks | ΔP > | contamination (test) | vs ours | stars | contamination, "
        "catalogue (est.) | true | completeness, catalogue (est.) | true |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        threshold = f"{row['threshold']:.1f} s" if np.isfinite(row["threshold"]) else "–"
        lines.append(
            f"| {100 * row['level']:.0f} % | {LABELS.get(row['set'], row['set'])} | {threshold} | "
            f"{_cell(row, 'contamination')} | {_difference(row)} | "
            f"{row.get('n_catalogue', 0):,} | "
            f"{_cell(row, 'catalogue_contamination')} | "
            f"{_pct(row.get('true_contamination'))} | "
            f"{_cell(row, 'catalogue_completeness')} | "
            f"{_pct(row.get('true_completeness'))} |"
        )
    lines.append("")
    ours = {"higher": "ours better", "lower": "ours worse", "equal": "equal", "n/a": "not reached"}
    for name in dict.fromkeys(row["set"] for row in rows):
        if name == "redclump":
            continue
        said = [f"{100 * row['level']:.0f} % {ours[tradeoff.verdict(row)]}" for row in rows if row["set"] == name]
        lines.append(f"- Ours against {LABELS.get(name, name)} (test split, contamination): " + "; ".join(said) + ".")
    return lines
