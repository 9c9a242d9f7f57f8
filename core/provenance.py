"""A selection's provenance: the metadata a written sample carries.

One function builds it for ``redclump select``, the app's download and SAMP button, the notebook's
``explore(...).selection()`` and the report's samples, so that the same cut gives the same keys,
the same test-split numbers (the same bootstrap) and the same catalogue identity everywhere. It is
pure: the caller reads the files (:func:`redclump.data.workdir.catalogue_identity`) and passes
the frames and the manifest's digest in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

import redclump

from . import metrics
from .selection import Cut

__all__ = [
    "METRIC_KEYS",
    "N_BOOT",
    "SEED",
    "STRATA_COLUMNS",
    "selection_numbers",
    "selection_provenance",
]

#: Bootstrap draws and seed of the reweighted contamination in every written sample (the app's
#: live numbers use fewer draws so that a slider stays responsive; its download does not).
N_BOOT = 200
SEED = 0
#: Columns :func:`redclump.core.metrics.contamination_strata` reads; without them in both the
#: selection and the test split, the reweighted contamination is NaN.
STRATA_COLUMNS = frozenset({"l", "b", "phot_g_mean_mag", "teff_phot"})
#: Contamination and completeness with their 68 % interval: the test split's, and a
#: catalogue-level estimate's (docs/estimates.md) carried as ``catalogue_<key>``.
METRIC_KEYS = (
    "contamination",
    "contamination_lo",
    "contamination_hi",
    "completeness",
    "completeness_lo",
    "completeness_hi",
)

BoolArray = npt.NDArray[np.bool_]


def selection_numbers(
    test_selected: BoolArray,
    test_is_rc: BoolArray,
    test_strata: npt.NDArray[np.integer] | None,
    selected_counts: npt.NDArray[np.integer] | None,
    n_strata: int,
) -> dict[str, Any]:
    """A selection's contamination and completeness on the truth set's test split, plain and
    reweighted to the selected catalogue stars' strata.

    Parameters
    ----------
    test_selected, test_is_rc
        Per test star: selected, and a true RC star; shape (n_test,).
    test_strata
        Per test star, its :func:`~redclump.core.metrics.contamination_strata` index, or None when
        the strata cannot be formed (the reweighted numbers are then NaN).
    selected_counts
        Selected catalogue stars per stratum, shape (n_strata,), or None as above.
    n_strata
        Number of strata.

    Returns
    -------
    dict
        :func:`~redclump.core.metrics.selection_metrics`'s keys plus ``reweighted`` (its
        ``contamination``, ``lo`` and ``hi`` from :data:`N_BOOT` draws seeded with :data:`SEED`).

    Examples
    --------
    >>> selected = np.array([True, True, False, False])
    >>> numbers = selection_numbers(selected, np.array([True, False, True, False]), None, None, 1)
    >>> numbers["contamination"], numbers["completeness"]
    (0.5, 0.5)
    """
    stats = metrics.selection_metrics(test_selected, test_is_rc)
    if test_strata is None or selected_counts is None:
        nan = float("nan")
        stats["reweighted"] = {"contamination": nan, "lo": nan, "hi": nan, "note": "no strata to reweight with"}
        return stats
    stats["reweighted"] = metrics.reweighted_contamination(
        test_selected, test_is_rc, test_strata, selected_counts, n_strata, n_boot=N_BOOT, seed=SEED
    )
    return stats


def selection_provenance(
    cut: Cut,
    chosen: pd.DataFrame,
    test: pd.DataFrame,
    test_is_rc: BoolArray,
    *,
    catalogue: str,
    manifest_sha256: str | None,
    test_selected: BoolArray | None = None,
    region: str = "none",
    region_json: str = "",
    catalogue_estimate: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The metadata of a written selection: what was cut, from which catalogue, and how good it is.

    Parameters
    ----------
    cut
        The cut that selected ``chosen``.
    chosen
        The selected catalogue rows (any columns; ``l``, ``b``, ``phot_g_mean_mag`` and
        ``teff_phot`` for the reweighted contamination).
    test, test_is_rc
        The truth set's test split with a seismic class, and which of its stars are RC
        (:func:`redclump.core.metrics.test_split_truth`).
    catalogue
        The catalogue's identity (its folder, resolved).
    manifest_sha256
        SHA-256 of the catalogue's ``_manifest.json``; None for a catalogue without one (a frame
        given to ``explore``), written as an empty string.
    test_selected
        Which test stars the selection keeps, shape (n_test,); by default ``cut.mask(test)`` (the
        app passes its mask, which also applies a drawn region).
    region, region_json
        A drawn region's text and JSON (``"none"`` and ``""`` without one).
    catalogue_estimate
        The catalogue-level estimate over ``chosen`` (:data:`METRIC_KEYS` and
        ``outside_truth``, docs/estimates.md), or None when no calibration is built.

    Returns
    -------
    dict
        ``cut``, ``region``, ``region_json``, ``n_rows``, ``software``, ``catalogue``,
        ``catalogue_manifest_sha256``, the test split's ``contamination``/``completeness`` with
        ``_lo``/``_hi`` (Wilson 68 %), ``contamination_reweighted`` with ``_lo``/``_hi``,
        ``metrics_on``, and with an estimate ``catalogue_<key>``, ``catalogue_beyond_truth`` and
        ``catalogue_metrics_on``. Values are plain Python numbers and strings, which every export
        format holds.

    Examples
    --------
    >>> from redclump.core.selection import TIER2
    >>> test = pd.DataFrame({"dp_phot": [300.0, 100.0], "dnu_phot": [4.0, 4.0]})
    >>> meta = selection_provenance(TIER2, test.head(0), test, np.array([True, False]),
    ...                             catalogue="/cat", manifest_sha256="ab")
    >>> meta["n_rows"], meta["catalogue_manifest_sha256"], meta["region"]
    (0, 'ab', 'none')
    """
    if test_selected is None:
        test_selected = cut.mask(test)
    if set(chosen.columns) >= STRATA_COLUMNS and set(test.columns) >= STRATA_COLUMNS:
        test_strata, n_strata = metrics.contamination_strata(test)
        counts = np.bincount(metrics.contamination_strata(chosen)[0], minlength=n_strata)
        numbers = selection_numbers(test_selected, test_is_rc, test_strata, counts, n_strata)
    else:
        numbers = selection_numbers(test_selected, test_is_rc, None, None, 1)
    reweighted = numbers["reweighted"]
    metrics_on = (
        f"truth-set test split, {numbers['n_total']} stars with seismic class, Wilson 68% intervals; "
        f"reweighted to the selection's strata: {N_BOOT} bootstrap draws, seed {SEED}"
    )
    if numbers.get("note"):
        metrics_on += f"; {numbers['note']}"
    meta: dict[str, Any] = {
        "cut": cut.text(),
        "region": region,
        "region_json": region_json,
        "n_rows": len(chosen),
        "software": f"redclump {redclump.__version__}",
        "catalogue": catalogue,
        "catalogue_manifest_sha256": manifest_sha256 or "",
        **{key: float(numbers[key]) for key in METRIC_KEYS},
        "contamination_reweighted": float(reweighted["contamination"]),
        "contamination_reweighted_lo": float(reweighted["lo"]),
        "contamination_reweighted_hi": float(reweighted["hi"]),
        "metrics_on": metrics_on,
    }
    if catalogue_estimate is not None:
        meta.update({f"catalogue_{key}": float(catalogue_estimate[key]) for key in METRIC_KEYS})
        meta["catalogue_beyond_truth"] = float(catalogue_estimate["outside_truth"])
        meta["catalogue_metrics_on"] = (
            "selected catalogue stars: degraded twins of the test split and the catalogue's RC share per cell, "
            "68% intervals (docs/estimates.md)"
        )
    return meta
