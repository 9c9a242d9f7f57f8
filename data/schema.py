"""The canonical columns of redclump's tables: names, units, descriptions, UCDs and validation.

Column names are the archives' own (Gaia DR2, Pan-STARRS1, 2MASS, AllWISE), so that a real
crossmatch drops in unchanged. Units are fixed here, one column → one unit, and every other module
uses plain float arrays in these units. :data:`COLUMNS` gives each canonical column its unit, a
one-line description and an IVOA UCD (UCD1+), which every exported file carries
(:mod:`redclump.data.export`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "BANDS",
    "BAND_ERRORS",
    "BAND_LABELS",
    "CATALOGUE_PREDICTIONS",
    "COLUMNS",
    "FEATURES",
    "GAIA_ASTROMETRY",
    "INPUT_COLUMNS",
    "MDN_PREDICTIONS",
    "MIXTURE_TARGETS",
    "SEISMIC_LABELS",
    "SPECTRO_LABELS",
    "SPLITS",
    "STATES",
    "TRUTH_CLASSES",
    "UNITS",
    "ColumnInfo",
    "SchemaError",
    "column_info",
    "mixture_columns",
    "validate_columns",
]


class SchemaError(ValueError):
    """A table does not have the columns, types or values the schema requires."""


#: The 13 photometric bands, in the order the networks see them (archive column names).
BANDS: tuple[str, ...] = (
    "phot_g_mean_mag",
    "phot_bp_mean_mag",
    "phot_rp_mean_mag",
    "g_mean_psf_mag",
    "r_mean_psf_mag",
    "i_mean_psf_mag",
    "z_mean_psf_mag",
    "y_mean_psf_mag",
    "j_m",
    "h_m",
    "ks_m",
    "w1mpro",
    "w2mpro",
)
#: Each band's short name, as figures and the star card label it.
BAND_LABELS: dict[str, str] = dict(
    zip(BANDS, ("G", "BP", "RP", "g", "r", "i", "z", "y", "J", "H", "Ks", "W1", "W2"), strict=True)
)

#: The uncertainty column of each band, as the archives name it.
BAND_ERRORS: dict[str, str] = {
    "phot_g_mean_mag": "phot_g_mean_mag_error",
    "phot_bp_mean_mag": "phot_bp_mean_mag_error",
    "phot_rp_mean_mag": "phot_rp_mean_mag_error",
    "g_mean_psf_mag": "g_mean_psf_mag_error",
    "r_mean_psf_mag": "r_mean_psf_mag_error",
    "i_mean_psf_mag": "i_mean_psf_mag_error",
    "z_mean_psf_mag": "z_mean_psf_mag_error",
    "y_mean_psf_mag": "y_mean_psf_mag_error",
    "j_m": "j_msigcom",
    "h_m": "h_msigcom",
    "ks_m": "ks_msigcom",
    "w1mpro": "w1sigmpro",
    "w2mpro": "w2sigmpro",
}

GAIA_ASTROMETRY: tuple[str, ...] = ("source_id", "ra", "dec", "l", "b", "parallax", "parallax_error")

#: Network inputs: 13 magnitudes then parallax (Lucey et al. 2020).
FEATURES: tuple[str, ...] = (*BANDS, "parallax")

#: Every column an input table must carry.
INPUT_COLUMNS: tuple[str, ...] = (*GAIA_ASTROMETRY, *BANDS, *BAND_ERRORS.values())

#: Spectroscopic labels every truth-set star has, and the seismic subset's labels.
SPECTRO_LABELS: tuple[str, ...] = ("teff", "logg", "feh", "snr")
SEISMIC_LABELS: tuple[str, ...] = ("deltap", "deltanu", "class")
SPLITS: tuple[str, ...] = ("train", "valid", "test")
TRUTH_CLASSES: tuple[str, ...] = ("RC", "RGB", "2CL")

#: True evolutionary states of mock stars (``true_state``).
STATES: tuple[str, ...] = ("MS", "SGB", "RGB", "RC", "2CL")

#: The networks' outputs: mixture mean and standard deviation per target, and P(RC).
MDN_PREDICTIONS: tuple[str, ...] = (
    "teff_phot",
    "teff_phot_err",
    "logg_phot",
    "logg_phot_err",
    "dp_phot",
    "dp_phot_err",
    "dnu_phot",
    "dnu_phot_err",
    "p_rc",
)

#: Column prefixes of the stage-3 targets (ΔP, Δν, in the network's order) whose full mixtures the
#: catalogue keeps, so that P(ΔP > t) can be derived for any threshold t, not only the 225 s of
#: ``p_rc``.
MIXTURE_TARGETS: tuple[str, ...] = ("dp", "dnu")


def mixture_columns(prefix: str, n_components: int) -> tuple[str, ...]:
    """Columns holding a target's mixture: weight, mean and sigma of each component.

    >>> mixture_columns("dp", 2)
    ('dp_mix_w0', 'dp_mix_mu0', 'dp_mix_sigma0', 'dp_mix_w1', 'dp_mix_mu1', 'dp_mix_sigma1')
    """
    return tuple(f"{prefix}_mix_{part}{k}" for k in range(n_components) for part in ("w", "mu", "sigma"))


def stored_components(columns: Any, prefix: str) -> int:
    """How many mixture components of ``prefix`` (``dp`` or ``dnu``) a table with ``columns``
    keeps (see :func:`mixture_columns`). Raises KeyError when it keeps none.

    >>> stored_components(mixture_columns("dp", 3), "dp")
    3
    """
    k = 0
    while f"{prefix}_mix_w{k}" in columns:
        k += 1
    if k == 0:
        msg = f"no {prefix}_mix_* columns: this catalogue does not keep the {prefix} mixture"
        raise KeyError(msg)
    return k


#: Columns the inference step adds to make the catalogue (plus the mixture columns of
#: :data:`MIXTURE_TARGETS`, as many as the stage-3 network has components).
CATALOGUE_PREDICTIONS: tuple[str, ...] = (
    *MDN_PREDICTIONS,
    "a_w1",
    "dist",
    "dist_err",
    "x_gc",
    "y_gc",
    "z_gc",
    "r_gc",
    "tier1",
    "tier2",
)


class ColumnInfo(NamedTuple):
    """What a canonical column holds: its unit (an astropy unit string, "" when dimensionless),
    a one-line description and its IVOA UCD (Unified Content Descriptor, UCD1+)."""

    unit: str
    description: str
    ucd: str


#: Each band: survey and band name, and the UCD's spectral part.
_BAND_INFO: dict[str, tuple[str, str]] = {
    "phot_g_mean_mag": ("Gaia G", "em.opt"),
    "phot_bp_mean_mag": ("Gaia BP", "em.opt.B"),
    "phot_rp_mean_mag": ("Gaia RP", "em.opt.R"),
    "g_mean_psf_mag": ("Pan-STARRS1 g PSF", "em.opt.B"),
    "r_mean_psf_mag": ("Pan-STARRS1 r PSF", "em.opt.R"),
    "i_mean_psf_mag": ("Pan-STARRS1 i PSF", "em.opt.I"),
    "z_mean_psf_mag": ("Pan-STARRS1 z PSF", "em.opt.I"),
    "y_mean_psf_mag": ("Pan-STARRS1 y PSF", "em.opt.I"),
    "j_m": ("2MASS J", "em.IR.J"),
    "h_m": ("2MASS H", "em.IR.H"),
    "ks_m": ("2MASS Ks", "em.IR.K"),
    "w1mpro": ("AllWISE W1 (3.4 um) profile-fit", "em.IR.3-4um"),
    "w2mpro": ("AllWISE W2 (4.6 um) profile-fit", "em.IR.4-8um"),
}

#: The most mixture components a stage-3 network may have (:func:`mixture_columns`).
MAX_MIXTURE_COMPONENTS = 8

_MIXTURE_INFO: dict[str, tuple[str, str, str]] = {
    "dp": ("s", "DeltaP", "src.var.pulse"),
    "dnu": ("uHz", "Delta nu", "src.var.pulse"),
}


def _mixture_info() -> dict[str, ColumnInfo]:
    info = {}
    for prefix, (unit, what, ucd) in _MIXTURE_INFO.items():
        for k in range(MAX_MIXTURE_COMPONENTS):
            info[f"{prefix}_mix_w{k}"] = ColumnInfo(
                "", f"Weight of component {k} of the predicted {what} mixture", "stat.weight"
            )
            info[f"{prefix}_mix_mu{k}"] = ColumnInfo(
                unit, f"Mean of component {k} of the predicted {what} mixture", f"{ucd};stat.mean"
            )
            info[f"{prefix}_mix_sigma{k}"] = ColumnInfo(
                unit, f"Standard deviation of component {k} of the predicted {what} mixture", "stat.stdev"
            )
    return info


#: Every canonical column: unit, one-line description, UCD. Input columns keep the archives'
#: meanings; ``*_phot`` are the networks' predictions (mixture mean and standard deviation).
COLUMNS: dict[str, ColumnInfo] = {
    "source_id": ColumnInfo("", "Gaia source identifier", "meta.id;meta.main"),
    "ra": ColumnInfo("deg", "Right ascension (ICRS, Gaia epoch)", "pos.eq.ra;meta.main"),
    "dec": ColumnInfo("deg", "Declination (ICRS, Gaia epoch)", "pos.eq.dec;meta.main"),
    "l": ColumnInfo("deg", "Galactic longitude", "pos.galactic.lon"),
    "b": ColumnInfo("deg", "Galactic latitude", "pos.galactic.lat"),
    "parallax": ColumnInfo("mas", "Gaia parallax", "pos.parallax.trig"),
    "parallax_error": ColumnInfo("mas", "Uncertainty of the Gaia parallax", "stat.error;pos.parallax.trig"),
    **{band: ColumnInfo("mag", f"{name} magnitude", f"phot.mag;{em}") for band, (name, em) in _BAND_INFO.items()},
    **{
        BAND_ERRORS[band]: ColumnInfo("mag", f"Uncertainty of the {name} magnitude", f"stat.error;phot.mag;{em}")
        for band, (name, em) in _BAND_INFO.items()
    },
    "teff": ColumnInfo("K", "Spectroscopic effective temperature", "phys.temperature.effective"),
    "logg": ColumnInfo("dex", "Spectroscopic surface gravity, log10(g / (cm s-2))", "phys.gravity"),
    "feh": ColumnInfo("dex", "Spectroscopic metallicity [Fe/H]", "phys.abund.Fe"),
    "snr": ColumnInfo("", "Signal-to-noise ratio of the spectrum", "stat.snr"),
    "deltap": ColumnInfo("s", "Asteroseismic dipole-mode period spacing DeltaP", "src.var.pulse"),
    "deltanu": ColumnInfo("uHz", "Asteroseismic large frequency separation Delta nu", "src.var.pulse"),
    "class": ColumnInfo("", "Asteroseismic evolutionary class: RC, RGB or 2CL", "src.class"),
    "split": ColumnInfo("", "Truth-set split: train, valid or test", "meta.code"),
    "giant": ColumnInfo("", "Stage 1 calls the star a giant (log g < 3.5, 2500 < Teff < 5500 K)", "meta.code"),
    "teff_phot": ColumnInfo(
        "K", "Effective temperature predicted from photometry and parallax", "phys.temperature.effective"
    ),
    "teff_phot_err": ColumnInfo(
        "K", "Uncertainty of teff_phot (mixture standard deviation)", "stat.error;phys.temperature.effective"
    ),
    "logg_phot": ColumnInfo("dex", "Surface gravity log10(g / (cm s-2)) predicted from photometry", "phys.gravity"),
    "logg_phot_err": ColumnInfo(
        "dex", "Uncertainty of logg_phot (mixture standard deviation)", "stat.error;phys.gravity"
    ),
    "dp_phot": ColumnInfo("s", "Period spacing DeltaP predicted from photometry (mixture mean)", "src.var.pulse"),
    "dp_phot_err": ColumnInfo("s", "Uncertainty of dp_phot (mixture standard deviation)", "stat.error;src.var.pulse"),
    "dnu_phot": ColumnInfo("uHz", "Large frequency separation Delta nu predicted from photometry", "src.var.pulse"),
    "dnu_phot_err": ColumnInfo(
        "uHz", "Uncertainty of dnu_phot (mixture standard deviation)", "stat.error;src.var.pulse"
    ),
    "p_rc": ColumnInfo("", "Probability that DeltaP > 225 s (red clump), from the DeltaP mixture", "stat.probability"),
    "a_w1": ColumnInfo(
        "mag", "Extinction in W1 from the Teff_phot to intrinsic G - W1 relation", "phys.absorption;em.IR.3-4um"
    ),
    "dist": ColumnInfo("kpc", "Distance as a red clump standard candle (M_W1 = -1.68)", "pos.distance"),
    "dist_err": ColumnInfo("kpc", "Uncertainty of dist", "stat.error;pos.distance"),
    "x_gc": ColumnInfo("kpc", "Galactocentric X (astropy Galactocentric frame)", "pos.cartesian.x"),
    "y_gc": ColumnInfo("kpc", "Galactocentric Y (astropy Galactocentric frame)", "pos.cartesian.y"),
    "z_gc": ColumnInfo("kpc", "Galactocentric Z (astropy Galactocentric frame)", "pos.cartesian.z"),
    "r_gc": ColumnInfo("kpc", "Galactocentric cylindrical radius", "pos.distance"),
    "tier1": ColumnInfo("", "In Tier 1: DeltaP > 265 s, Delta nu < 5.25 uHz, Teff > 4700 K", "meta.code"),
    "tier2": ColumnInfo("", "In Tier 2: DeltaP > 225 s, Delta nu < 5.5 uHz", "meta.code"),
    **_mixture_info(),
    "true_state": ColumnInfo("", "Mock truth: evolutionary state (MS, SGB, RGB, RC, 2CL)", "src.class"),
    "true_component": ColumnInfo("", "Mock truth: Galactic component", "meta.code"),
    "true_teff": ColumnInfo("K", "Mock truth: effective temperature", "phys.temperature.effective"),
    "true_logg": ColumnInfo("dex", "Mock truth: surface gravity log10(g / (cm s-2))", "phys.gravity"),
    "true_feh": ColumnInfo("dex", "Mock truth: metallicity [Fe/H]", "phys.abund.Fe"),
    "true_mass": ColumnInfo("solMass", "Mock truth: stellar mass", "phys.mass"),
    "true_age": ColumnInfo("Gyr", "Mock truth: stellar age", "time.age"),
    "true_cn": ColumnInfo("dex", "Mock truth: [C/N] abundance ratio", "phys.abund"),
    "true_dp": ColumnInfo("s", "Mock truth: period spacing DeltaP", "src.var.pulse"),
    "true_dnu": ColumnInfo("uHz", "Mock truth: large frequency separation Delta nu", "src.var.pulse"),
    "true_dist": ColumnInfo("kpc", "Mock truth: distance", "pos.distance"),
    "true_av": ColumnInfo("mag", "Mock truth: V-band extinction", "phys.absorption;em.opt.V"),
    "true_m_ks": ColumnInfo("mag", "Mock truth: absolute Ks magnitude", "phys.magAbs;em.IR.K"),
}

#: One column → one unit (astropy unit strings). Columns not listed are dimensionless.
UNITS: dict[str, str] = {name: info.unit for name, info in COLUMNS.items() if info.unit}


def column_info(name: str) -> ColumnInfo | None:
    """The unit, description and UCD of a canonical column, or None for any other column.

    >>> column_info("parallax")
    ColumnInfo(unit='mas', description='Gaia parallax', ucd='pos.parallax.trig')
    >>> column_info("my_flag") is None
    True
    """
    return COLUMNS.get(name)


def validate_columns(
    frame: pd.DataFrame,
    required: Iterable[str],
    *,
    source: str,
    finite: Iterable[str] = (),
) -> None:
    """Check that ``frame`` has every ``required`` column and finite values where demanded.

    Parameters
    ----------
    frame
        The table to check.
    required
        Column names that must be present.
    source
        Where the table came from (a path or a description), quoted in the error.
    finite
        Columns whose values must all be finite.

    Raises
    ------
    SchemaError
        Listing every missing column at once, or the first non-finite column and its row count.

    Examples
    --------
    >>> import pandas as pd
    >>> validate_columns(pd.DataFrame({"ra": [1.0]}), ["ra"], source="example")
    >>> validate_columns(pd.DataFrame({"ra": [1.0]}), ["ra", "dec"], source="example")
    Traceback (most recent call last):
    ...
    redclump.data.schema.SchemaError: example: missing column(s) 'dec'
    """
    missing = [name for name in required if name not in frame.columns]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        msg = f"{source}: missing column(s) {names}"
        raise SchemaError(msg)
    for name in finite:
        values = frame[name].to_numpy()
        bad = int(np.count_nonzero(~np.isfinite(values.astype(np.float64))))
        if bad:
            msg = f"{source}: column '{name}' has {bad} non-finite value(s) of {len(frame)} rows"
            raise SchemaError(msg)
