"""Selection cuts on the catalogue's predicted columns, and the paper's presets.

A :class:`Cut` is a small immutable value: it turns into a boolean mask over any frame with the
catalogue's columns and into a readable text form that is stored with every export. Rows with a
NaN in a cut column are never selected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["HIGH_LATITUDE", "PRESETS", "TIER1", "TIER2", "Cut"]


@dataclass(frozen=True)
class Cut:
    """Thresholds on the photometric predictions (None = no cut on that quantity).

    Attributes
    ----------
    dp_min
        ΔP_phot strictly above this (s).
    dnu_max
        Δν_phot strictly below this (µHz).
    teff_min
        Teff_phot strictly above this (K).
    logg_min, logg_max
        log g_phot inside this open interval (dex).
    abs_b_min
        |b| strictly above this (deg).
    dp_frac_err_max
        σ(ΔP)/ΔP strictly below this.
    p_rc_min
        P(RC) at or above this.

    Examples
    --------
    >>> TIER1.text()
    'dp_phot > 265 & dnu_phot < 5.25 & teff_phot > 4700'
    """

    dp_min: float | None = None
    dnu_max: float | None = None
    teff_min: float | None = None
    logg_min: float | None = None
    logg_max: float | None = None
    abs_b_min: float | None = None
    dp_frac_err_max: float | None = None
    p_rc_min: float | None = None
    g_min: float | None = None
    g_max: float | None = None
    dist_min: float | None = None
    dist_max: float | None = None

    def _terms(self) -> list[tuple[str, str, float]]:
        terms = []
        for attr, column, op in (
            ("dp_min", "dp_phot", ">"),
            ("dnu_max", "dnu_phot", "<"),
            ("teff_min", "teff_phot", ">"),
            ("logg_min", "logg_phot", ">"),
            ("logg_max", "logg_phot", "<"),
            ("abs_b_min", "abs(b)", ">"),
            ("dp_frac_err_max", "dp_phot_err / dp_phot", "<"),
            ("p_rc_min", "p_rc", ">="),
            ("g_min", "phot_g_mean_mag", ">"),
            ("g_max", "phot_g_mean_mag", "<"),
            ("dist_min", "dist", ">"),
            ("dist_max", "dist", "<"),
        ):
            value = getattr(self, attr)
            if value is not None:
                terms.append((column, op, float(value)))
        return terms

    def text(self) -> str:
        """The cut as a readable expression, e.g. ``dp_phot > 265 & dnu_phot < 5.25``."""
        if not self._terms():
            return "all"
        return " & ".join(f"{col} {op} {value:g}" for col, op, value in self._terms())

    def required_columns(self) -> list[str]:
        needed = {
            "dp_min": ["dp_phot"],
            "dnu_max": ["dnu_phot"],
            "teff_min": ["teff_phot"],
            "logg_min": ["logg_phot"],
            "logg_max": ["logg_phot"],
            "abs_b_min": ["b"],
            "dp_frac_err_max": ["dp_phot", "dp_phot_err"],
            "p_rc_min": ["p_rc"],
            "g_min": ["phot_g_mean_mag"],
            "g_max": ["phot_g_mean_mag"],
            "dist_min": ["dist"],
            "dist_max": ["dist"],
        }
        return sorted({c for f in fields(self) if getattr(self, f.name) is not None for c in needed[f.name]})

    def mask(self, frame: pd.DataFrame | dict[str, Any]) -> npt.NDArray[np.bool_]:
        """Boolean mask of the rows that pass every threshold (NaN never passes)."""
        columns = self.required_columns()
        missing = [c for c in columns if c not in frame]
        if missing:
            msg = f"cut '{self.text()}' needs column(s) {', '.join(missing)}"
            raise KeyError(msg)
        if isinstance(frame, pd.DataFrame):
            n = len(frame)
        else:
            n = len(frame["dp_phot"]) if "dp_phot" in frame else len(next(iter(frame.values())))
        keep = np.ones(n, dtype=bool)

        def col(name: str) -> npt.NDArray[np.floating]:
            values = frame[name]
            return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)

        with np.errstate(invalid="ignore", divide="ignore"):
            if self.dp_min is not None:
                keep &= col("dp_phot") > self.dp_min
            if self.dnu_max is not None:
                keep &= col("dnu_phot") < self.dnu_max
            if self.teff_min is not None:
                keep &= col("teff_phot") > self.teff_min
            if self.logg_min is not None:
                keep &= col("logg_phot") > self.logg_min
            if self.logg_max is not None:
                keep &= col("logg_phot") < self.logg_max
            if self.abs_b_min is not None:
                keep &= np.abs(col("b")) > self.abs_b_min
            if self.dp_frac_err_max is not None:
                keep &= col("dp_phot_err") < self.dp_frac_err_max * col("dp_phot")
            if self.p_rc_min is not None:
                keep &= col("p_rc") >= self.p_rc_min
            for attr, column, above in (
                ("g_min", "phot_g_mean_mag", True),
                ("g_max", "phot_g_mean_mag", False),
                ("dist_min", "dist", True),
                ("dist_max", "dist", False),
            ):
                value = getattr(self, attr)
                if value is not None:
                    keep &= (col(column) > value) if above else (col(column) < value)
        return keep

    def replace(self, **changes: float | None) -> Cut:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)


#: Lucey et al. 2020: 405k stars, ~20 % contamination.
TIER1 = Cut(dp_min=265.0, dnu_max=5.25, teff_min=4700.0)
#: Lucey et al. 2020: 2.6M stars, ~33 % contamination.
TIER2 = Cut(dp_min=225.0, dnu_max=5.5)
#: Lucey et al. 2020: Tier 1 at |b| > 30°, 15k stars, ~9 % contamination.
HIGH_LATITUDE = Cut(dp_min=265.0, dnu_max=5.25, teff_min=4700.0, abs_b_min=30.0)
PRESETS: dict[str, Cut] = {"tier1": TIER1, "tier2": TIER2, "highlat": HIGH_LATITUDE}
