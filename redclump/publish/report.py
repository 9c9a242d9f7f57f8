"""`redclump report`: both network sets beside Lucey et al. (2020), as markdown for the README.

Reads a built work folder (:meth:`redclump.data.workdir.WorkFolder.networks`): each set's
``evaluation.json`` (test-split precision), its scored truth set (contamination and completeness
on the test split) and its catalogue (sample sizes, the reweighted contamination and, on a mock,
the true contamination from ``true_state``). The catalogue is read one partition at a time and
only its cut columns, so memory stays flat in the number of stars. The metrics themselves are
:mod:`redclump.core.metrics`'.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from redclump.core import diagnostics, metrics, provenance
from redclump.core.selection import HIGH_LATITUDE, TIER1, TIER2, Cut
from redclump.data.workdir import EVALUATION, MANIFEST, WorkFolder, partitions, staged_file

from . import galaxy_scale, race

__all__ = ["PAPER_PRECISION", "PAPER_TABLE1", "SAMPLES", "ReportError", "build_report", "collect", "write_report"]

#: Held-out precision reported by Lucey et al. (2020).
PAPER_PRECISION = {"teff": 153.0, "logg": 0.32, "deltap": 80.0, "deltanu": 1.64}
#: The samples of the paper's Table 1, and P(RC) ≥ 0.5.
SAMPLES: dict[str, Cut] = {
    "Tier 1": TIER1,
    "Tier 2": TIER2,
    "|b| > 30°": HIGH_LATITUDE,
    "P(RC) ≥ 0.5": Cut(p_rc_min=0.5),
}
#: Lucey et al. 2020 (abstract; the completenesses come from the seed summary, not verified in
#: the literature: shared/reference/method.md §4).
PAPER_TABLE1: dict[str, str] = {
    "Tier 1": "405k, ~20 %, ~25 %",
    "Tier 2": "2.6M, 33 %, 94 %",
    "|b| > 30°": "15k, 9 %",
    "P(RC) ≥ 0.5": "–",
}
NETWORK_LABELS = race.LABELS
PRECISION_ROWS = (
    ("Teff (giants)", "stage2", "teff", "K", "{:+.0f}", "{:.0f}"),
    ("log g (giants)", "stage2", "logg", "dex", "{:+.3f}", "{:.2f}"),
    ("ΔP", "stage3", "deltap", "s", "{:+.1f}", "{:.0f}"),
    ("Δν", "stage3", "deltanu", "µHz", "{:+.2f}", "{:.2f}"),
)
#: Catalogue columns the samples, strata and truth need.
_CATALOGUE_COLUMNS = ("dp_phot", "dnu_phot", "teff_phot", "p_rc", "l", "b", "phot_g_mean_mag", "dist")


class ReportError(RuntimeError):
    """Nothing to report: no network set has been built in the work folder."""


def _catalogue_counts(catalogue_dir: Path, n_strata: int) -> dict[str, dict[str, Any]]:
    """Per sample: stars, stars beyond 10 kpc, selected stars per stratum, and the true
    non-RC count when the catalogue carries ``true_state`` (a mock)."""
    files = partitions(catalogue_dir)
    counts = {
        name: {
            "n": 0,
            "beyond_10kpc": 0,
            "strata": np.zeros(n_strata, dtype=np.int64),
            "true_fp": 0,
            "has_truth": True,
            "by_component": {},
        }
        for name in SAMPLES
    }
    for path in files:
        names = set(pq.read_schema(path).names)
        wanted = [c for c in (*_CATALOGUE_COLUMNS, "true_state", "true_component") if c in names]
        frame = pd.read_parquet(path, columns=wanted)
        strata = metrics.contamination_strata(frame)[0]
        for name, cut in SAMPLES.items():
            mask = cut.mask(frame)
            entry = counts[name]
            entry["n"] += int(mask.sum())
            entry["beyond_10kpc"] += int(np.count_nonzero(mask & (frame["dist"].to_numpy() > 10)))
            entry["strata"] += metrics.stratum_counts(strata, mask, n_strata)
            if "true_state" in frame:
                entry["true_fp"] += int(np.count_nonzero(mask & (frame["true_state"].astype(str).to_numpy() != "RC")))
                galaxy_scale.add_component_counts(entry["by_component"], frame[mask])
            else:
                entry["has_truth"] = False
    return counts


def _network_results(workdir: Path, networks: str) -> dict[str, Any] | None:
    paths = WorkFolder(workdir).networks(networks)
    evaluation_path = paths.models / EVALUATION
    if not evaluation_path.exists():
        return None
    result: dict[str, Any] = {"evaluation": json.loads(evaluation_path.read_text()), "samples": {}}
    if not paths.scored.exists() or not (paths.catalogue / MANIFEST).exists():
        result["note"] = f"no catalogue in {paths.catalogue}: run `redclump infer --networks {networks}`"
        return result
    scored = pd.read_parquet(paths.scored)
    test, is_rc = metrics.test_split_truth(scored)
    test_strata, n_strata = metrics.contamination_strata(test)
    catalogue = _catalogue_counts(paths.catalogue, n_strata)
    result["test"] = test
    result["is_rc"] = is_rc
    for name, cut in SAMPLES.items():
        selected = cut.mask(test)
        entry = catalogue[name]
        # The same numbers, and the same bootstrap, as a file written by `select` carries.
        stats = provenance.selection_numbers(selected, is_rc, test_strata, entry["strata"], n_strata)
        reweighted = stats.pop("reweighted")
        true_test = (
            float(np.mean(test["true_state"].astype(str).to_numpy()[selected] != "RC"))
            if "true_state" in test and selected.any()
            else float("nan")
        )
        result["samples"][name] = {
            **stats,
            "n_catalogue": entry["n"],
            "by_component": entry["by_component"],
            "beyond_10kpc": entry["beyond_10kpc"],
            "reweighted": reweighted,
            "true_catalogue": entry["true_fp"] / entry["n"] if entry["has_truth"] and entry["n"] else float("nan"),
            "true_test": true_test,
        }
    return result


def collect(workdir: Path | str) -> dict[str, dict[str, Any]]:
    """Every built network set's precision and samples, keyed by set name.

    Raises
    ------
    ReportError
        If neither network set has been trained in ``workdir``.
    """
    workdir = Path(workdir)
    results = {name: _network_results(workdir, name) for name in NETWORK_LABELS}
    built = {name: r for name, r in results.items() if r is not None}
    if not built:
        msg = f"no trained networks in {workdir}: run `redclump build --networks both` first"
        raise ReportError(msg)
    return built


def _pct(value: float, lo: float | None = None, hi: float | None = None) -> str:
    if not np.isfinite(value):
        return "–"
    text = f"{100 * value:.1f} %"
    if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
        text += f" [{100 * lo:.1f}, {100 * hi:.1f}]"
    return text


def _precision_table(results: dict[str, dict[str, Any]]) -> list[str]:
    header = "| parameter | networks | bias | scatter (robust) | 1σ / 2σ coverage | Lucey et al. 2020 |"
    lines = [header, "|---|---|---|---|---|---|"]
    for label, stage, target, unit, bias_fmt, scatter_fmt in PRECISION_ROWS:
        for name, result in results.items():
            m = result["evaluation"]["stages"].get(stage, {}).get("targets", {}).get(target)
            if not m or not m.get("n"):
                continue
            paper = PAPER_PRECISION[target]
            lines.append(
                f"| {label} | {NETWORK_LABELS[name]} | {bias_fmt.format(m['bias'])} {unit} | "
                f"{scatter_fmt.format(m['scatter'])} {unit} ({scatter_fmt.format(m['robust_scatter'])}) | "
                f"{m['coverage_1sigma']:.2f} / {m['coverage_2sigma']:.2f} | ±{paper:g} {unit} |"
            )
    return lines


def _paper_network_text(stage: str, target: str, record: dict[str, Any]) -> str:
    """One authors' network: steps, the best one, why it stopped, its rate and stars."""
    unit = "epochs" if "max_epochs" in record else "steps"
    done = len(record["curve"]["step"]) if unit == "epochs" and "curve" in record else record["steps"]
    text = f"{stage} {target} {done:,} {unit} (best at step {record['best_step']:,}, {record['stop_reason']}"
    if "learning_rate" in record:
        text += f", lr {record['learning_rate']:g}"
    if "n_train" in record:
        text += f", {record['n_train']:,} stars"
    return text + ")"


def _training_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for name, result in results.items():
        evaluation = result["evaluation"]
        seconds = evaluation.get("seconds", float("nan"))
        if name != "redclump":
            parts = [
                _paper_network_text(stage, target, record)
                for stage, info in evaluation["stages"].items()
                for target, record in info.get("per_target", {}).items()
            ]
            how = "minibatch Adam with early stopping" if name == "paper_minibatch" else "full-batch Adam"
            lines.append(
                f"- {NETWORK_LABELS[name].capitalize()}: {how}, {seconds:.0f} s in all; " + "; ".join(parts) + ". "
                "The authors ran 10⁶ full-batch steps per network on GPUs."
            )
        else:
            parts = [
                f"{stage} {info['epochs_run']} epochs ({info.get('steps', 0):,} minibatch steps)"
                for stage, info in evaluation["stages"].items()
                if "epochs_run" in info  # models trained before epochs were recorded have none
            ]
            lines.append(
                f"- Our networks: minibatch Adam, {seconds:.0f} s in all" + "".join(f"; {p}" for p in parts) + "."
            )
    return lines


def _table1(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| sample | networks | stars | contamination (test) | reweighted | true, catalogue | true, test stars "
        "| completeness (test) | beyond 10 kpc | paper |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for sample in SAMPLES:
        for name, result in results.items():
            s = result["samples"].get(sample)
            if s is None:
                continue
            rw = s["reweighted"]
            lines.append(
                f"| {sample.replace('|', chr(92) + '|')} | {NETWORK_LABELS[name]} | {s['n_catalogue']:,} | "
                f"{_pct(s['contamination'], s['contamination_lo'], s['contamination_hi'])} | "
                f"{_pct(rw['contamination'], rw['lo'], rw['hi'])} | {_pct(s['true_catalogue'])} | "
                f"{_pct(s['true_test'])} | {_pct(s['completeness'], s['completeness_lo'], s['completeness_hi'])} | "
                f"{s['beyond_10kpc']:,} | {PAPER_TABLE1[sample]} |"
            )
    return lines


def _completeness_budget(results: dict[str, dict[str, Any]]) -> list[str]:
    """Where each network set's Tier 2 loses its true-RC test stars (core.diagnostics)."""
    cut = TIER2
    lines = [
        "| networks | missed | ΔP_phot ≤ cut | Δν_phot ≥ cut | label ΔP ≤ cut | label Δν ≥ cut "
        "| peak estimator ΔP ≤ cut | P(ΔP > cut) < 0.5 | true ΔP ≤ cut (mock) | true Δν ≥ cut (mock) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        if "test" not in result:
            continue
        test = result["test"]
        budget = diagnostics.completeness_budget(test[result["is_rc"]], dp_min=cut.dp_min, dnu_max=cut.dnu_max)
        keys = ("missed", "dp_phot_low", "dnu_phot_high", "label_dp_low", "label_dnu_high")
        keys += ("dp_peak_low", "p_rc_below_half", "true_dp_low", "true_dnu_high")
        cells = [_pct(budget[k]) if k in budget else "–" for k in keys]
        lines.append(f"| {NETWORK_LABELS[name]} | " + " | ".join(cells) + " |")
    return lines


def build_report(workdir: Path | str, *, catalogue_rows: list[dict[str, Any]] | None = None) -> str:
    """The report as markdown: precision, Table 1 per network set, our contamination at the
    authors' networks' Tier 2 completeness, and the catalogue by G and by distance
    (``catalogue_rows``, :func:`redclump.publish.catalogue_report.catalogue_rows`, when given)."""
    from . import catalogue_report

    results = collect(workdir)
    any_test = next((r for r in results.values() if "test" in r), None)
    lines = ["### Held-out test split: precision", ""]
    lines += _precision_table(results)
    lines += ["", *_training_lines(results), ""]
    for name in NETWORK_LABELS:
        if name not in results:
            lines.append(f"- Not built: {NETWORK_LABELS[name]} networks (`redclump build --networks {name}`).")
        elif "note" in results[name]:
            lines.append(f"- {NETWORK_LABELS[name].capitalize()}: {results[name]['note']}.")
    lines += ["", "### Table 1: the paper's samples", ""]
    if any_test is not None:
        n_rc = int(any_test["is_rc"].sum())
        lines.append(
            f"Test split: {len(any_test['is_rc']):,} truth-set stars with a seismic class, {n_rc:,} of them RC. "
            "Contamination and completeness on them with 68 % Wilson intervals; the contamination reweighted to "
            "the selected catalogue stars (post-stratified in |b| × |l| × G × Teff_phot, bootstrap interval); "
            "on a mock, the true contamination (`true_state`) of the selected catalogue stars and test stars. "
            "Paper: stars, contamination, completeness (Lucey et al. 2020)."
        )
        lines += ["", *_table1(results)]
    if "redclump" in results and "samples" in results["redclump"]:
        lines += ["", "### Counts on the Galaxy's scale", "", *galaxy_scale.scaled_lines(workdir, results["redclump"])]
    tests = {name: (r["test"], r["is_rc"]) for name, r in results.items() if "test" in r}
    lines += [
        "",
        "### The network sets along the trade-off",
        "",
        *race.tradeoff_lines(race.tradeoff_rows(workdir, tests)),
        "",
    ]
    if any_test is not None:
        lines += [
            "### Where Tier 2 loses true RC stars",
            "",
            "Fractions of the test split's true-RC stars (class RC) that Tier 2 (ΔP > 225 s, Δν < 5.5 µHz) "
            "misses, and of those whose prediction, spectroscopic label, other estimator or (mock) true value "
            "falls on the wrong side of each cut (`redclump.core.diagnostics`). The terms overlap.",
            "",
            *_completeness_budget(results),
            "",
        ]
    if catalogue_rows is not None:
        lines += [catalogue_report.catalogue_tables(catalogue_rows), ""]
        lines += [catalogue_report.p_rc_table(catalogue_report.p_rc_calibration(Path(workdir))), ""]
    return "\n".join(lines)


def write_report(text: str, out: Path) -> None:
    """Write the markdown atomically (temporary name, then rename)."""
    with staged_file(Path(out)) as tmp:
        tmp.write_text(text)
