"""The authors' six networks' validation loss against optimiser step (issue #19), one panel per
training (full batch as they trained, and their design minibatch-trained), from each set's
``evaluation.json``. Drawn on a :class:`matplotlib.figure.Figure`, so no global matplotlib state
is touched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from redclump.data.workdir import EVALUATION, WorkFolder

__all__ = ["AUTHORS_SETS", "curves", "plot_loss_curves"]

AUTHORS_SETS = {"paper": "full-batch Adam (their optimiser)", "paper_minibatch": "minibatch Adam (ours)"}


def curves(workdir: Path | str) -> dict[str, dict[str, dict[str, Any]]]:
    """Per built authors' set, per "stage target", its record (``curve``, ``best_step``,
    ``stop_reason``); sets without recorded curves are left out."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in AUTHORS_SETS:
        path = WorkFolder(workdir).networks(name).models / EVALUATION
        if not path.exists():
            continue
        stages = json.loads(path.read_text())["stages"]
        records = {
            f"{stage} {target}": record
            for stage, info in stages.items()
            for target, record in info.get("per_target", {}).items()
            if "curve" in record
        }
        if records:
            out[name] = records
    return out


def plot_loss_curves(workdir: Path | str, out: Path | str) -> Path:
    """Write the figure to ``out`` (PNG or PDF by its suffix); returns the path.

    Raises
    ------
    FileNotFoundError
        If no authors' set with recorded loss curves is built in ``workdir``.
    """
    from matplotlib.figure import Figure

    found = curves(workdir)
    if not found:
        msg = f"no loss curves in {workdir}: train `--networks paper` or `paper_minibatch` first"
        raise FileNotFoundError(msg)
    figure = Figure(figsize=(5.0 * len(found), 4.0), layout="constrained")
    axes = figure.subplots(1, len(found), squeeze=False)[0]
    for ax, (name, records) in zip(axes, found.items(), strict=True):
        for label, record in records.items():
            curve = record["curve"]
            # Each network's own scale: show the loss above its best value, on a log axis.
            best = min(curve["valid"])
            excess = [max(v - best, 1e-4) for v in curve["valid"]]
            (line,) = ax.plot(curve["step"], excess, lw=1.2, label=f"{label} ({record['stop_reason']})")
            ax.axvline(record["best_step"], color=line.get_color(), lw=0.6, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("validation loss − its minimum (nats per star)")
        ax.set_title(f"authors' design, {AUTHORS_SETS[name]}", fontsize=10)
        ax.legend(fontsize=7)
    out = Path(out)
    figure.savefig(out, dpi=120)
    return out
