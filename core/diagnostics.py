"""Where a ΔP/Δν cut loses its true red clump stars: the completeness budget.

For the true-RC stars of a scored truth-set split, a cut ΔP_phot > ΔP_min and Δν_phot < Δν_max
misses a star when either prediction falls on the wrong side. The budget puts numbers on the
three explanations one can test separately:

* **the labels' spread**: the spectroscopic labels themselves fall on the wrong side
  (``deltap``, ``deltanu``); a network trained on them cannot beat that;
* **the estimator**: the point value Σ w μ of a bimodal ΔP mixture averages across the gap between
  the RC and RGB modes; the authors' "peak" estimator (the component with the highest density)
  or P(ΔP > ΔP_min) > 0.5 do not;
* **the stars' seismology** (mock only): the true values ``true_dp``, ``true_dnu`` already fall on
  the wrong side.

Every number is a fraction of the true-RC stars given.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .mdn import mixture_from_columns, mixture_peak, prob_above

__all__ = ["completeness_budget"]


def _fraction(mask: npt.NDArray[np.bool_]) -> float:
    return float(np.mean(mask)) if mask.size else float("nan")


def completeness_budget(true_rc: pd.DataFrame, *, dp_min: float, dnu_max: float) -> dict[str, Any]:
    """Fractions of ``true_rc`` stars lost by the cut ΔP_phot > ``dp_min``, Δν_phot < ``dnu_max``,
    and by each explanation (module notes).

    Parameters
    ----------
    true_rc
        Scored truth-set rows whose class is RC, with ``dp_phot``, ``dnu_phot`` and the labels
        ``deltap``, ``deltanu``; optionally the ΔP mixture (``dp_mix_*``) and, on a mock,
        ``true_dp`` and ``true_dnu``.
    dp_min, dnu_max
        The cut (s, µHz).

    Returns
    -------
    dict
        ``n``; ``missed``; ``dp_phot_low``, ``dnu_phot_high`` (the two terms, overlapping);
        ``label_dp_low``, ``label_dnu_high``; if the mixture is there ``dp_peak_low`` and
        ``p_rc_below_half``; on a mock ``true_dp_low`` and ``true_dnu_high``.

    Examples
    --------
    >>> rc = pd.DataFrame({"dp_phot": [300.0, 200.0, 260.0, 280.0], "dnu_phot": [4.0, 4.0, 6.0, 4.0],
    ...                    "deltap": [310.0, 290.0, 200.0, 300.0], "deltanu": [4.0, 4.1, 4.2, 4.0]})
    >>> budget = completeness_budget(rc, dp_min=225.0, dnu_max=5.5)
    >>> budget["missed"], budget["dp_phot_low"], budget["dnu_phot_high"], budget["label_dp_low"]
    (0.5, 0.25, 0.25, 0.25)
    """
    dp = true_rc["dp_phot"].to_numpy(np.float64)
    dnu = true_rc["dnu_phot"].to_numpy(np.float64)
    out: dict[str, Any] = {
        "n": len(true_rc),
        "missed": _fraction(~((dp > dp_min) & (dnu < dnu_max))),
        "dp_phot_low": _fraction(~(dp > dp_min)),
        "dnu_phot_high": _fraction(~(dnu < dnu_max)),
        "label_dp_low": _fraction(~(true_rc["deltap"].to_numpy(np.float64) > dp_min)),
        "label_dnu_high": _fraction(~(true_rc["deltanu"].to_numpy(np.float64) < dnu_max)),
    }
    if "dp_mix_w0" in true_rc.columns:
        mixture = mixture_from_columns(true_rc, "dp")
        out["dp_peak_low"] = _fraction(~(mixture_peak(*mixture)[:, 0] > dp_min))
        out["p_rc_below_half"] = _fraction(~(prob_above(*mixture, dp_min)[:, 0] > 0.5))
    if {"true_dp", "true_dnu"} <= set(true_rc.columns):
        out["true_dp_low"] = _fraction(~(true_rc["true_dp"].to_numpy(np.float64) > dp_min))
        out["true_dnu_high"] = _fraction(~(true_rc["true_dnu"].to_numpy(np.float64) < dnu_max))
    return out
