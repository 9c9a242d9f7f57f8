"""`redclump report`'s counts on the Galaxy's scale (issue #19): a mock's sample sizes times the
real giants each simulated giant stands for (:mod:`redclump.data.census`), so that they can be
set beside the paper's 405k, 2.6M and 15k.

The scale tests the Galaxy model and the selection together: a count far from the paper's says
that the model holds too many or too few giants where the surveys see them, or that the cut keeps
a different share of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from redclump.data import census, mock

__all__ = ["DWARF_STATES", "PAPER_COUNTS", "add_component_counts", "scaled_counts", "scaled_lines"]

#: Mock states that are not giants: the mock's dwarfs are not drawn at their real density.
DWARF_STATES = ("MS", "SGB")
#: Lucey et al. (2020): sample sizes (abstract and Table 1).
PAPER_COUNTS = {"Tier 1": 405_000, "Tier 2": 2_600_000, "|b| > 30°": 15_000}
DWARF_KEY = "dwarfs"


def add_component_counts(counts: dict[str, int], selected: pd.DataFrame) -> None:
    """Add the selected mock stars to ``counts``: giants by ``true_component``, dwarfs apart."""
    if "true_component" not in selected or "true_state" not in selected:
        return
    dwarf = selected["true_state"].astype(str).isin(DWARF_STATES).to_numpy()
    counts[DWARF_KEY] = counts.get(DWARF_KEY, 0) + int(dwarf.sum())
    names, n = np.unique(selected["true_component"].astype(str).to_numpy()[~dwarf], return_counts=True)
    for name, count in zip(names, n, strict=True):
        counts[str(name)] = counts.get(str(name), 0) + int(count)


def scaled_counts(by_component: dict[str, int], scales: dict[str, float]) -> dict[str, float]:
    """``giants`` (simulated), ``scaled`` (real giants they stand for) and ``dwarfs`` (simulated,
    not scaled) of one sample.

    >>> scaled_counts({"thin": 10, "bulge": 5, "dwarfs": 2}, {"thin": 4.0, "bulge": 5.0})
    {'giants': 15, 'scaled': 65.0, 'dwarfs': 2}

    Raises
    ------
    KeyError
        If a component has no scale (a catalogue from another Galaxy model).
    """
    giants = {name: n for name, n in by_component.items() if name != DWARF_KEY}
    unknown = sorted(set(giants) - set(scales))
    if unknown:
        msg = f"no Galaxy-scale factor for component(s) {', '.join(unknown)}"
        raise KeyError(msg)
    return {
        "giants": sum(giants.values()),
        "scaled": float(sum(scales[name] * n for name, n in giants.items())),
        "dwarfs": by_component.get(DWARF_KEY, 0),
    }


def scaled_lines(workdir: Path | str, result: dict[str, Any]) -> list[str]:
    """The section as markdown for one network set's samples (:func:`redclump.report.collect`)."""
    manifest = mock.read_manifest(Path(workdir))
    if manifest is None or manifest.get("kind") != "redclump-mock":
        return ["The input is not the mock: its counts are real stars and need no scale."]
    config = manifest["config"]
    scales = census.giant_scales(int(config["n_stars"]), float(config["dwarf_fraction"]))
    simulated = round(config["n_stars"] * (1 - config["dwarf_fraction"]))
    lines = [
        f"The Galaxy model holds {census.galaxy_giants() / 1e6:.0f} M giants (RGB at 1 < log g < 3.5 and core-He "
        f"burners: its components' present-day masses, the Kroupa IMF and the evolutionary flux × lifetimes, "
        f"`redclump.data.census`); the mock simulates {simulated / 1e6:.1f} M, so each simulated giant stands for "
        f"{min(scales.values()):.2f}–{max(scales.values()):.2f} real ones (by component). The survey limits act on "
        "each simulated star as on a real one, so a sample's giants scale by the same factors. The mock's dwarfs "
        "are not drawn at their real density and are left unscaled.",
        "",
        "| sample (our networks) | stars in the mock | of them giants | on the Galaxy's scale | dwarfs (unscaled) "
        "| paper | scaled / paper |",
        "|---|---|---|---|---|---|---|",
    ]
    for sample, paper in PAPER_COUNTS.items():
        s = result["samples"].get(sample)
        if s is None or not s.get("by_component"):
            continue
        counts = scaled_counts(s["by_component"], scales)
        total = counts["scaled"] + counts["dwarfs"]
        lines.append(
            f"| {sample.replace('|', chr(92) + '|')} | {s['n_catalogue']:,} | {counts['giants']:,} | "
            f"{total / 1e6:.2f} M | {counts['dwarfs']:,} | {paper / 1e6:.3g} M | {total / paper:.2f} |"
        )
    return lines
