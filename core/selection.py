"""Selection cuts on the catalogue's predicted columns, and the paper's presets.

A :class:`Cut` is a small immutable value: it turns into a boolean mask over any frame with the
catalogue's columns and into a readable text form that is stored with every export. Rows with a
NaN in a cut column are never selected.

Every threshold a cut can have is one :class:`CutTerm` of the table :data:`CUT_TERMS`: its column,
comparison, unit, slider range and URL key. :class:`Cut` (text, columns, mask), the command line's
flags, the dashboard's sliders, its URL parameters and its equivalent command are all generated
from that table, so a new term is one entry there and one field of :class:`Cut`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, make_dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CUT_TERMS",
    "HIGH_LATITUDE",
    "PRESETS",
    "PRESET_LABELS",
    "TIER1",
    "TIER2",
    "Cut",
    "CutTerm",
    "SliderRange",
    "cut_class",
    "cut_term",
]

CutOp = Literal[">", "<", ">="]
#: Reads one column of the frame being cut as an array.
ColumnReader = Callable[[str], npt.NDArray[np.floating]]

_COMPARE: dict[str, Callable[[Any, float], npt.NDArray[np.bool_]]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
}


@dataclass(frozen=True)
class SliderRange:
    """The dashboard slider of a cut term.

    Attributes
    ----------
    lo, hi
        The slider's range, in the term's unit.
    step
        The slider's step.
    off
        The slider value at which the term is left out of the cut: the range's low end for a
        lower limit, its high end for an upper limit; None for a term that is always on.
    """

    lo: float
    hi: float
    step: float
    off: float | None


@dataclass(frozen=True)
class CutTerm:
    """One threshold a :class:`Cut` can set: what it compares, and how people set it.

    Attributes
    ----------
    name
        The :class:`Cut` field; also the command-line flag (``dp_min`` → ``--dp-min``).
    expression
        What is compared, as the cut's text writes it (``dp_phot``, ``abs(b)``).
    columns
        The catalogue columns the comparison reads (names as in ``data/schema.py``).
    op
        The comparison: ``expression op threshold`` keeps a row.
    unit
        The threshold's unit ("" for a pure number).
    symbol
        The quantity as a person writes it, for help texts (``ΔP_phot``).
    label
        The slider's label.
    slider
        The dashboard slider, or None for a term that only the command line sets.
    url_key
        The page URL's query key for the slider.
    passes
        ``passes(column, threshold)`` → rows kept, for a comparison that is not
        ``columns[0] op threshold``; None for that plain comparison.

    Examples
    --------
    >>> term = cut_term("dnu_max")
    >>> term.flag, term.help
    ('--dnu-max', 'Δν_phot < this (µHz)')
    >>> term.threshold(term.slider.hi), term.threshold(5.5)
    (20.0, 5.5)
    """

    name: str
    expression: str
    columns: tuple[str, ...]
    op: CutOp
    unit: str
    symbol: str
    label: str
    slider: SliderRange | None
    url_key: str
    passes: Callable[[ColumnReader, float], npt.NDArray[np.bool_]] | None = field(default=None, compare=False)

    @property
    def flag(self) -> str:
        """The command-line option, e.g. ``--dp-min``."""
        return "--" + self.name.replace("_", "-")

    @property
    def is_lower_limit(self) -> bool:
        """True for a lower limit (``>``, ``>=``), False for an upper one."""
        return self.op in (">", ">=")

    @property
    def help(self) -> str:
        """One line for ``--help``, e.g. ``ΔP_phot > this (s)``."""
        return f"{self.symbol} {self.op} this" + (f" ({self.unit})" if self.unit else "")

    @property
    def doc(self) -> str:
        """The slider's description, e.g. ``Teff_phot lower limit (K); 3500 = off``."""
        text = f"{self.symbol} {'lower' if self.is_lower_limit else 'upper'} limit"
        text += f" ({self.unit})" if self.unit else ""
        if self.slider is not None and self.slider.off is not None:
            text += f"; {self.slider.off:g} = off"
        return text

    def keep(self, column: ColumnReader, threshold: float) -> npt.NDArray[np.bool_]:
        """Rows that pass ``threshold``; ``column(name)`` reads a column as an array."""
        if self.passes is not None:
            return self.passes(column, threshold)
        return _COMPARE[self.op](column(self.columns[0]), threshold)

    def threshold(self, slider_value: float) -> float | None:
        """The cut's threshold for a slider at ``slider_value`` (None at or beyond 'off')."""
        off = None if self.slider is None else self.slider.off
        if off is None:
            return float(slider_value)
        at_off = slider_value <= off if self.is_lower_limit else slider_value >= off
        return None if at_off else float(slider_value)

    def slider_value(self, threshold: float | None) -> float:
        """Where the slider stands for a cut ``threshold`` (None: at 'off', or at the range's
        loose end for a term that is always on)."""
        if threshold is not None:
            return float(threshold)
        if self.slider is None:
            msg = f"cut term '{self.name}' has no slider"
            raise ValueError(msg)
        if self.slider.off is not None:
            return self.slider.off
        return self.slider.lo if self.is_lower_limit else self.slider.hi


def _abs_b_above(column: ColumnReader, threshold: float) -> npt.NDArray[np.bool_]:
    return np.abs(column("b")) > threshold


def _dp_frac_err_below(column: ColumnReader, threshold: float) -> npt.NDArray[np.bool_]:
    # Multiplied out rather than divided, so a star with ΔP_phot ≤ 0 never passes.
    return column("dp_phot_err") < threshold * column("dp_phot")


#: Every threshold a :class:`Cut` can set, in the order of its fields, its text, the command
#: line's flags and the dashboard's sliders. URL keys are the names, as links made before the
#: table read them.
CUT_TERMS: tuple[CutTerm, ...] = (
    CutTerm("dp_min", "dp_phot", ("dp_phot",), ">", "s", "ΔP_phot", "ΔP min (s)",
            SliderRange(150.0, 400.0, 1.0, None), "dp_min"),
    CutTerm("dnu_max", "dnu_phot", ("dnu_phot",), "<", "µHz", "Δν_phot", "Δν max (µHz)",
            SliderRange(1.0, 20.0, 0.05, None), "dnu_max"),
    CutTerm("teff_min", "teff_phot", ("teff_phot",), ">", "K", "Teff_phot", "Teff min (K)",
            SliderRange(3500.0, 5500.0, 10.0, 3500.0), "teff_min"),
    CutTerm("logg_min", "logg_phot", ("logg_phot",), ">", "dex", "log g_phot", "log g min", None, "logg_min"),
    CutTerm("logg_max", "logg_phot", ("logg_phot",), "<", "dex", "log g_phot", "log g max", None, "logg_max"),
    CutTerm("abs_b_min", "abs(b)", ("b",), ">", "deg", "|b|", "|b| min (deg)",
            SliderRange(0.0, 90.0, 1.0, 0.0), "abs_b_min", _abs_b_above),
    CutTerm("dp_frac_err_max", "dp_phot_err / dp_phot", ("dp_phot", "dp_phot_err"), "<", "", "σ(ΔP)/ΔP",
            "max σ(ΔP)/ΔP", SliderRange(0.05, 2.0, 0.01, 2.0), "dp_frac_err_max", _dp_frac_err_below),
    CutTerm("p_rc_min", "p_rc", ("p_rc",), ">=", "", "P(RC)", "P(RC) min",
            SliderRange(0.0, 1.0, 0.01, 0.0), "p_rc_min"),
    CutTerm("g_min", "phot_g_mean_mag", ("phot_g_mean_mag",), ">", "mag", "G", "G min (mag)",
            SliderRange(5.0, 21.0, 0.1, 5.0), "g_min"),
    CutTerm("g_max", "phot_g_mean_mag", ("phot_g_mean_mag",), "<", "mag", "G", "G max (mag)",
            SliderRange(5.0, 21.0, 0.1, 21.0), "g_max"),
    CutTerm("dist_min", "dist", ("dist",), ">", "kpc", "RC distance", "RC distance min (kpc)",
            SliderRange(0.0, 50.0, 0.5, 0.0), "dist_min"),
    CutTerm("dist_max", "dist", ("dist",), "<", "kpc", "RC distance", "RC distance max (kpc)",
            SliderRange(0.0, 50.0, 0.5, 50.0), "dist_max"),
)  # fmt: skip


def cut_term(name: str, terms: Sequence[CutTerm] = CUT_TERMS) -> CutTerm:
    """The term of ``terms`` called ``name``.

    Raises
    ------
    KeyError
        If no term has that name.
    """
    for term in terms:
        if term.name == name:
            return term
    msg = f"no cut term '{name}' (expected one of {', '.join(t.name for t in terms)})"
    raise KeyError(msg)


@dataclass(frozen=True)
class Cut:
    """Thresholds on the photometric predictions (None = no cut on that quantity).

    One field per term of :attr:`terms` (:data:`CUT_TERMS`); text, required columns and mask are
    read from the table.

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
    g_min, g_max
        Gaia G inside this open interval (mag).
    dist_min, dist_max
        The red clump distance ``dist`` inside this open interval (kpc).

    Examples
    --------
    >>> TIER1.text()
    'dp_phot > 265 & dnu_phot < 5.25 & teff_phot > 4700'
    """

    terms: ClassVar[tuple[CutTerm, ...]] = CUT_TERMS

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

    def _set_terms(self) -> list[tuple[CutTerm, float]]:
        return [(term, float(value)) for term in self.terms if (value := getattr(self, term.name)) is not None]

    def text(self) -> str:
        """The cut as a readable expression, e.g. ``dp_phot > 265 & dnu_phot < 5.25``."""
        terms = self._set_terms()
        if not terms:
            return "all"
        return " & ".join(f"{term.expression} {term.op} {value:g}" for term, value in terms)

    def required_columns(self) -> list[str]:
        """The columns the cut reads, sorted."""
        return sorted({column for term, _value in self._set_terms() for column in term.columns})

    def mask(self, frame: pd.DataFrame | Mapping[str, Any]) -> npt.NDArray[np.bool_]:
        """Boolean mask of the rows that pass every threshold (NaN never passes).

        Raises
        ------
        KeyError
            If ``frame`` lacks a column the cut reads.
        """
        columns = self.required_columns()
        missing = [c for c in columns if c not in frame]
        if missing:
            msg = f"cut '{self.text()}' needs column(s) {', '.join(missing)}"
            raise KeyError(msg)
        n = len(frame) if hasattr(frame, "columns") else len(next(iter(frame.values())))
        keep = np.ones(n, dtype=bool)

        def column(name: str) -> npt.NDArray[np.floating]:
            values = frame[name]
            return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)

        with np.errstate(invalid="ignore", divide="ignore"):
            for term, value in self._set_terms():
                keep &= term.keep(column, value)
        return keep

    def replace(self, **changes: float | None) -> Cut:
        """A copy with the thresholds in ``changes`` set (None removes one)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, float | None]:
        """Every threshold by name, None where unset."""
        return asdict(self)


def _check_fields(cut_type: type[Cut]) -> None:
    """Raise TypeError unless ``cut_type``'s fields are exactly its terms' names."""
    names = {spec.name for spec in fields(cut_type)}
    expected = {term.name for term in cut_type.terms}
    if names != expected:
        msg = (
            f"{cut_type.__name__} fields and cut terms differ: fields without a term "
            f"{sorted(names - expected)}, terms without a field {sorted(expected - names)}"
        )
        raise TypeError(msg)


_check_fields(Cut)


def cut_class(terms: Sequence[CutTerm]) -> type[Cut]:
    """A :class:`Cut` for the table ``terms``: :class:`Cut` itself for :data:`CUT_TERMS`, else a
    subclass with a field for each term :class:`Cut` lacks.

    Parameters
    ----------
    terms
        A table of cut terms that holds every term of :data:`CUT_TERMS`.

    Returns
    -------
    type[Cut]
        A frozen dataclass whose text, columns and mask follow ``terms``.

    Raises
    ------
    TypeError
        If ``terms`` drops a term of :data:`CUT_TERMS`.

    Examples
    --------
    >>> parallax = CutTerm("plx_min", "parallax", ("parallax",), ">", "mas", "ϖ", "ϖ min (mas)", None, "plx_min")
    >>> cut_class((*CUT_TERMS, parallax))(dp_min=225.0, plx_min=0.1).text()
    'dp_phot > 225 & parallax > 0.1'
    """
    terms = tuple(terms)
    if terms == Cut.terms:
        return Cut
    known = {spec.name for spec in fields(Cut)}
    extra = [(term.name, float | None, field(default=None)) for term in terms if term.name not in known]
    cut_type = make_dataclass("Cut", extra, bases=(Cut,), frozen=True, namespace={"terms": terms})
    _check_fields(cut_type)
    return cut_type


#: Lucey et al. 2020: 405k stars, ~20 % contamination.
TIER1 = Cut(dp_min=265.0, dnu_max=5.25, teff_min=4700.0)
#: Lucey et al. 2020: 2.6M stars, ~33 % contamination.
TIER2 = Cut(dp_min=225.0, dnu_max=5.5)
#: Lucey et al. 2020: Tier 1 at |b| > 30°, 15k stars, ~9 % contamination.
HIGH_LATITUDE = Cut(dp_min=265.0, dnu_max=5.25, teff_min=4700.0, abs_b_min=30.0)
PRESETS: dict[str, Cut] = {"tier1": TIER1, "tier2": TIER2, "highlat": HIGH_LATITUDE}
#: How the app's buttons name each preset.
PRESET_LABELS: dict[str, str] = {"tier1": "Tier 1", "tier2": "Tier 2", "highlat": "|b| > 30°"}
