"""The numbers panel: selection statistics as an HTML table, each row with a one-line definition.

With a pinned cut (dashboard/compare.py) the table has three columns: A (pinned), B (the
sliders) and B − A.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

__all__ = ["HELP", "NUMBERS_CSS", "coverage_line", "help_icon", "numbers_html"]

#: One-line definitions shown as the "?" tooltip of each number.
HELP: dict[str, str] = {
    "selected": "Catalogue candidates (ΔP_phot > 150 s) that pass the cut and lie in the drawn region.",
    "catalogue_contamination": (
        "Estimated contamination of the selected catalogue stars: the share that is not RC, from "
        "degraded twins of the truth set moved to each star's G and extinction, and the catalogue's "
        "own RC share per cell (docs/estimates.md); 68% interval."
    ),
    "catalogue_completeness": (
        "Estimated completeness over the catalogue: the selected RC stars over all RC stars in the "
        "catalogue (within the cut's |b|, G and distance limits and the drawn region); 68% interval."
    ),
    "contamination": (
        "Contamination = FP / (TP + FP): the fraction of the selected truth-set test stars whose "
        "spectroscopic class is not RC (held-out test split: bright, G < ~17, and nearby)."
    ),
    "reweighted": (
        "Contamination reweighted: the test stars' per-bin contamination averaged with the selected "
        "catalogue stars' numbers in |b| × |l| × G × Teff_phot bins, since test stars are not a fair "
        "sample of the catalogue (bootstrap 68% interval)."
    ),
    "completeness": "Completeness = TP / (TP + FN): the fraction of the true RC test stars that the cut selects.",
    "wilson": (
        "Brackets: 68% Wilson score interval, the binomial confidence interval for a proportion that "
        "stays inside [0, 1] for small counts."
    ),
    "test_counts": "Truth-set test stars the cut selects, and the true RC stars among all test stars.",
    "far": "Selected catalogue stars whose RC distance is beyond 10 kpc and beyond 20 kpc.",
    "cut": "The cut as an expression on the catalogue's columns (what `redclump select` applies).",
    "region": "The box or lasso drawn on a view, in that view's own columns.",
    "tradeoff": (
        "Completeness against contamination on the test split as ΔP min sweeps 150–350 s with the other "
        "cuts fixed; red: the current cut (B), blue: the pinned cut (A), squares: Tier 1 and Tier 2."
    ),
    "kiel_map": (
        "Contamination of the current cut in Teff_phot–log g_phot bins of the test split (bins with ≥ 5 stars)."
    ),
}

NUMBERS_CSS = """
table.numbers { border-collapse: collapse; font-size: 13px; width: 100%; }
table.numbers th { text-align: left; white-space: nowrap; font-weight: normal; color: #444; padding: 2px 6px 2px 0; }
table.numbers td { padding: 2px 6px; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.numbers td code { white-space: normal; overflow-wrap: anywhere; }
table.numbers thead th { font-weight: bold; color: #000; }
.help { display: inline-block; width: 1.2em; height: 1.2em; line-height: 1.2em; border-radius: 50%;
        background: #e3e7ee; color: #333; text-align: center; font-size: 11px; cursor: help; }
.note { font-size: 11px; color: #666; }
.a { color: #0072B2; } .b { color: #D55E00; }
"""


def help_icon(key: str) -> str:
    """A "?" whose tooltip is the definition ``HELP[key]``."""
    return f"<span class='help' data-help='{key}' title='{html.escape(HELP[key], quote=True)}'>?</span>"


def _fmt_rate(value: float, lo: float, hi: float) -> str:
    if not np.isfinite(value):
        return "undefined"
    return f"{100 * value:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"


def _rate_diff(b: float, a: float) -> str:
    if not (np.isfinite(a) and np.isfinite(b)):
        return "–"
    return f"{100 * (b - a):+.1f} pts"


def _cells(numbers: dict[str, Any]) -> dict[str, str]:
    rw = numbers["reweighted"]
    cat = numbers["catalogue"]
    return {
        "selected": f"{numbers['n_catalogue']:,}",
        "catalogue_contamination": _fmt_rate(
            cat["contamination"], cat.get("contamination_lo", np.nan), cat.get("contamination_hi", np.nan)
        ),
        "catalogue_completeness": _fmt_rate(
            cat["completeness"], cat.get("completeness_lo", np.nan), cat.get("completeness_hi", np.nan)
        ),
        "contamination": _fmt_rate(numbers["contamination"], numbers["contamination_lo"], numbers["contamination_hi"]),
        "reweighted": _fmt_rate(rw["contamination"], rw["lo"], rw["hi"]),
        "completeness": _fmt_rate(numbers["completeness"], numbers["completeness_lo"], numbers["completeness_hi"]),
        "test_counts": f"{numbers['n_selected']:,} / {numbers['n_true_rc']:,}",
        "far": f"{numbers['beyond_10kpc']:,} / {numbers['beyond_20kpc']:,}",
    }


def _differences(b: dict[str, Any], a: dict[str, Any]) -> dict[str, str]:
    return {
        "selected": f"{b['n_catalogue'] - a['n_catalogue']:+,}",
        "catalogue_contamination": _rate_diff(b["catalogue"]["contamination"], a["catalogue"]["contamination"]),
        "catalogue_completeness": _rate_diff(b["catalogue"]["completeness"], a["catalogue"]["completeness"]),
        "contamination": _rate_diff(b["contamination"], a["contamination"]),
        "reweighted": _rate_diff(b["reweighted"]["contamination"], a["reweighted"]["contamination"]),
        "completeness": _rate_diff(b["completeness"], a["completeness"]),
        "test_counts": f"{b['n_selected'] - a['n_selected']:+,}",
        "far": f"{b['beyond_10kpc'] - a['beyond_10kpc']:+,} / {b['beyond_20kpc'] - a['beyond_20kpc']:+,}",
    }


ROWS = (
    ("selected", "selected stars", "n-selected"),
    ("catalogue_contamination", "contamination (catalogue, est.)", "contamination-cat"),
    ("catalogue_completeness", "completeness (catalogue, est.)", "completeness-cat"),
    ("contamination", "contamination (test split)", "contamination"),
    ("reweighted", "contamination, reweighted", "contamination-rw"),
    ("completeness", "completeness (test split)", "completeness"),
    ("test_counts", "test selected / true RC", "test-counts"),
    ("far", "beyond 10 / 20 kpc", "far"),
)


def coverage_line(catalogue: dict[str, Any]) -> str:
    """One line on where the catalogue estimate stands on the truth set and where it does not."""
    if not catalogue.get("available", False):
        return (
            "<div class='note' id='coverage'>No catalogue estimate: its files in estimates/ are missing or "
            "unreadable (the server's log says which); <code>redclump infer --force</code> rebuilds them.</div>"
        )
    share = catalogue["outside_truth"]
    if not np.isfinite(share):
        return ""
    return (
        f"<div class='note' id='coverage'>{100 * share:.0f}% of the selected stars lie beyond the truth set's "
        "range in G, extinction or distance; for them the catalogue estimate rests on degraded twins "
        "and the catalogue's class mix alone.</div>"
    )


def numbers_html(numbers: dict[str, Any], pinned: dict[str, Any] | None = None) -> str:
    """The numbers of the current cut (B), and with ``pinned`` those of cut A and B − A.

    The element ids (``n-selected``, ``contamination``, …) always hold the current cut's values;
    A's and the differences carry ``a-`` and ``diff-`` prefixes.
    """
    b = _cells(numbers)
    if pinned is None:
        head = ""
        body = "".join(
            f"<tr><th>{label} {help_icon(key)}</th><td id='{ident}'>{b[key]}</td></tr>" for key, label, ident in ROWS
        )
        cut_rows = f"<tr><th>cut {help_icon('cut')}</th><td><code id='cut-text'>{numbers['cut_text']}</code></td></tr>"
    else:
        a, diff = _cells(pinned), _differences(numbers, pinned)
        head = (
            "<thead><tr><th></th><th class='a'>A (pinned)</th><th class='b'>B (sliders)</th><th>B − A</th></tr></thead>"
        )
        body = "".join(
            f"<tr><th>{label} {help_icon(key)}</th><td id='a-{ident}' class='a'>{a[key]}</td>"
            f"<td id='{ident}' class='b'>{b[key]}</td><td id='diff-{ident}'>{diff[key]}</td></tr>"
            for key, label, ident in ROWS
        )
        cut_rows = (
            f"<tr><th>cut A {help_icon('cut')}</th>"
            f"<td colspan='3'><code id='a-cut-text'>{pinned['cut_text']}</code></td></tr>"
            f"<tr><th>cut B</th><td colspan='3'><code id='cut-text'>{numbers['cut_text']}</code></td></tr>"
        )
    note = f"<div class='note'>{html.escape(numbers['note'])}</div>" if numbers["note"] else ""
    note += coverage_line(numbers["catalogue"])
    span = "" if pinned is None else " colspan='3'"
    return f"""
<table class="numbers">{head}{body}{cut_rows}
<tr><th>drawn region {help_icon("region")}</th><td id="region-text"{span}>{numbers["region_text"]}</td></tr>
</table>{note}
<div class="note">[…]: 68% Wilson intervals {help_icon("wilson")}; reweighted: bootstrap interval.</div>"""
