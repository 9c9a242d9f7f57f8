"""The canonical columns of redclump's tables: names, units, dtypes and validation.

Column names are the archives' own (Gaia DR2, Pan-STARRS1, 2MASS, AllWISE), so that a real
crossmatch drops in unchanged. Units are fixed here, one column → one unit, and every other module
uses plain float arrays in these units.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "BANDS",
    "BAND_ERRORS",
    "CATALOGUE_PREDICTIONS",
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
    "SchemaError",
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

#: One column → one unit (astropy unit strings). Columns not listed are dimensionless.
UNITS: dict[str, str] = {
    "ra": "deg",
    "dec": "deg",
    "l": "deg",
    "b": "deg",
    "parallax": "mas",
    "parallax_error": "mas",
    **{band: "mag" for band in BANDS},
    **{err: "mag" for err in BAND_ERRORS.values()},
    "teff": "K",
    "logg": "dex",
    "feh": "dex",
    "deltap": "s",
    "deltanu": "uHz",
    "teff_phot": "K",
    "teff_phot_err": "K",
    "logg_phot": "dex",
    "logg_phot_err": "dex",
    "dp_phot": "s",
    "dp_phot_err": "s",
    "dnu_phot": "uHz",
    "dnu_phot_err": "uHz",
    "a_w1": "mag",
    "dist": "kpc",
    "dist_err": "kpc",
    "x_gc": "kpc",
    "y_gc": "kpc",
    "z_gc": "kpc",
    "r_gc": "kpc",
    **{f"dp_mix_{part}{k}": "s" for k in range(8) for part in ("mu", "sigma")},
    **{f"dnu_mix_{part}{k}": "uHz" for k in range(8) for part in ("mu", "sigma")},
    "true_teff": "K",
    "true_logg": "dex",
    "true_feh": "dex",
    "true_mass": "solMass",
    "true_age": "Gyr",
    "true_dp": "s",
    "true_dnu": "uHz",
    "true_dist": "kpc",
    "true_av": "mag",
}


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
