"""Network sets compared along the completeness–contamination trade-off, not at one point.

Each set's ΔP threshold (at the same Δν limit) is solved on the same test stars for each target
completeness (:func:`redclump.core.metrics.solve_for_completeness`); its contamination follows.
A paired bootstrap over test stars (every set sees the same draw, the thresholds re-solved in
each) gives each contamination's interval and the interval of each set's difference from the
reference set, from which :func:`verdict` says better, equal or worse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .metrics import ONE_SIGMA, selection_metrics, solve_for_completeness
from .selection import Cut

__all__ = ["COMPLETENESS_LEVELS", "TRADEOFF_BASE", "compare_along_tradeoff", "verdict"]

#: The completeness levels of the comparison (issue #19).
COMPLETENESS_LEVELS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
#: The cut family: Tier 2's Δν limit, the ΔP threshold solved.
TRADEOFF_BASE = Cut(dnu_max=5.5)
#: Two-sided confidence of the difference's interval behind :func:`verdict`.
VERDICT_CONFIDENCE = 0.95


def _quantiles(values: list[float], confidence: float) -> tuple[float, float]:
    finite = np.asarray([v for v in values if np.isfinite(v)])
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    return float(np.quantile(finite, tail)), float(np.quantile(finite, 1.0 - tail))


def _solve(base: Cut, parameter: str, columns: Any, is_rc: npt.NDArray[np.bool_], level: float) -> tuple[Any, float]:
    cut, stats = solve_for_completeness(base, parameter, columns, is_rc, level)
    return cut, (stats["contamination"] if cut is not None else float("nan"))


def compare_along_tradeoff(
    sets: Mapping[str, Mapping[str, npt.ArrayLike]],
    is_rc: npt.ArrayLike,
    *,
    levels: Sequence[float] = COMPLETENESS_LEVELS,
    base: Cut = TRADEOFF_BASE,
    parameter: str = "dp_min",
    reference: str | None = None,
    n_boot: int = 200,
    seed: int = 0,
    confidence: float = ONE_SIGMA,
) -> list[dict[str, Any]]:
    """Each set's contamination at each completeness, with paired bootstrap intervals.

    Parameters
    ----------
    sets
        Per network set, the test stars' predicted columns (``dp_phot``, ``dnu_phot``, …), all in
        the same star order.
    is_rc
        The test stars' RC truth (spectroscopic class), one per star.
    levels
        Target completenesses in [0, 1].
    base, parameter
        The cut family (:data:`TRADEOFF_BASE`) and the threshold solved (``dp_min``).
    reference
        The set the others are compared with (default: the first).
    n_boot, seed
        Bootstrap draws over test stars and their seed.
    confidence
        Of the contamination intervals (68 % by default); the difference also gets a 95 %
        interval for :func:`verdict`.

    Returns
    -------
    list of dict
        One per (level, set): ``level``, ``set``, ``cut`` (text), ``threshold``,
        ``completeness`` and ``contamination`` (on all test stars) with ``contamination_lo``/
        ``_hi``; for the other sets ``difference`` (contamination − the reference's at that
        level) with ``difference_lo``/``_hi`` and ``difference_lo95``/``_hi95``. A level a set
        cannot reach gives NaN and a ``note``.

    Examples
    --------
    Two sets on four RC and four other stars; "sharp" orders them perfectly by ΔP:

    >>> is_rc = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    >>> dnu = np.full(8, 4.0)
    >>> sharp = {"dp_phot": np.array([300, 290, 280, 270, 100, 110, 120, 130.0]), "dnu_phot": dnu}
    >>> blurred = {"dp_phot": np.array([300, 120, 280, 100, 290, 110, 270, 130.0]), "dnu_phot": dnu}
    >>> rows = compare_along_tradeoff({"sharp": sharp, "blurred": blurred}, is_rc, levels=[0.5], n_boot=20)
    >>> [(r["set"], r["completeness"], round(r["contamination"], 2)) for r in rows]
    [('sharp', 0.5, 0.0), ('blurred', 0.5, 0.33)]
    """
    is_rc = np.asarray(is_rc, dtype=bool)
    names = list(sets)
    if not names:
        msg = "no network sets to compare"
        raise ValueError(msg)
    reference = names[0] if reference is None else reference
    if reference not in sets:
        msg = f"reference set {reference!r} is not among {names}"
        raise ValueError(msg)
    wanted = {*base.required_columns(), *base.replace(**{parameter: 0.0}).required_columns()}
    columns = {name: {c: np.asarray(cols[c], dtype=np.float64) for c in wanted} for name, cols in sets.items()}
    for name, cols in columns.items():
        if any(len(v) != is_rc.size for v in cols.values()):
            msg = f"set {name!r}: columns must have one value per test star ({is_rc.size})"
            raise ValueError(msg)
    rng = np.random.default_rng(seed)
    picks = [rng.integers(0, is_rc.size, size=is_rc.size) for _ in range(n_boot)]
    rows = []
    for level in levels:
        drawn = {name: [] for name in names}
        for pick in picks:
            sample_rc = is_rc[pick]
            for name in names:
                sample = {c: v[pick] for c, v in columns[name].items()}
                drawn[name].append(_solve(base, parameter, sample, sample_rc, level)[1])
        ref_draws = np.asarray(drawn[reference])
        ref_value = _solve(base, parameter, columns[reference], is_rc, level)[1]
        for name in names:
            cut, value = _solve(base, parameter, columns[name], is_rc, level)
            lo, hi = _quantiles(drawn[name], confidence)
            row: dict[str, Any] = {
                "level": float(level),
                "set": name,
                "cut": cut.text() if cut is not None else None,
                "threshold": getattr(cut, parameter) if cut is not None else float("nan"),
                "completeness": selection_metrics(cut.mask(columns[name]), is_rc)["completeness"]
                if cut is not None
                else float("nan"),
                "contamination": value,
                "contamination_lo": lo,
                "contamination_hi": hi,
            }
            if cut is None:
                row["note"] = f"the cut without {parameter} keeps less than completeness {level:g}"
            if name != reference:
                difference = list(np.asarray(drawn[name]) - ref_draws)
                row["difference"] = value - ref_value
                row["difference_lo"], row["difference_hi"] = _quantiles(difference, confidence)
                row["difference_lo95"], row["difference_hi95"] = _quantiles(difference, VERDICT_CONFIDENCE)
            rows.append(row)
    return rows


def verdict(row: Mapping[str, Any]) -> Literal["lower", "equal", "higher", "n/a"]:
    """Whether a set's contamination is lower than, equal to or higher than the reference's:
    the 95 % paired-bootstrap interval of the difference excludes zero, or does not.

    >>> verdict({"difference_lo95": -0.08, "difference_hi95": -0.02})
    'lower'
    >>> verdict({"difference_lo95": -0.01, "difference_hi95": 0.03})
    'equal'
    """
    lo, hi = row.get("difference_lo95", float("nan")), row.get("difference_hi95", float("nan"))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "n/a"
    if hi < 0:
        return "lower"
    if lo > 0:
        return "higher"
    return "equal"
