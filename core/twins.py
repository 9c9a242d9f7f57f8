"""Degraded twins: truth-set stars moved to where the catalogue's stars are.

The truth set (spectroscopic labels, LAMOST × Ting et al. 2018 in the paper) is bright and nearby;
the catalogue is not. A *degraded twin* of a truth-set star is the same star seen fainter and
behind more dust: its magnitudes are shifted by a distance-modulus change Δμ and an extinction
change ΔE(B−V) so that its Gaia G and its estimated W1 extinction equal those of a catalogue
star (the *target*); each band's noise is then raised to the survey's error at the new magnitude
and the parallax is scaled by 10^(−Δμ/5) and given Gaia's error at the new G. Run through the
same networks, twins measure how a cut treats RC and non-RC stars where no faint truth exists.
This is, at catalogue level, what synthetic source injection is at pixel level (DES's Balrog,
Everett et al. 2022, ApJS 258, 15).

Noise can be added but not removed: a twin moved *brighter* (Δμ < 0) keeps its own noise, which
is then larger than a real star's at that magnitude (a small effect: such targets are bright,
where the errors sit at their floors). See docs/estimates.md.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from redclump.data import surveys
from redclump.data.schema import BAND_ERRORS, BANDS

__all__ = ["TWIN_TARGET_COLUMNS", "degrade", "draw_twins"]

FloatArray = npt.NDArray[np.float64]

#: What a twin copies from its target: where it is (G, the W1 extinction estimate) and the sky
#: position, so that cuts on |b| treat twins as they treat the target.
TWIN_TARGET_COLUMNS = ("phot_g_mean_mag", "a_w1", "l", "b")


def degrade(
    stars: pd.DataFrame,
    *,
    delta_mu: FloatArray,
    delta_ebv: FloatArray,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, npt.NDArray[np.bool_]]:
    """The stars seen ``delta_mu`` mag farther and behind ``delta_ebv`` more E(B−V).

    Parameters
    ----------
    stars
        Input-schema rows (the 13 bands with their errors, ``parallax``, ``parallax_error``).
    delta_mu
        Change of distance modulus (mag), one per row.
    delta_ebv
        Change of E(B−V) on the SFD scale (mag), one per row; negative values de-redden.
    rng
        Source of the added noise.

    Returns
    -------
    twins : pandas.DataFrame
        A copy of ``stars`` with shifted, re-noised magnitudes, errors and parallax.
    measured : numpy.ndarray of bool
        Whether every band is still measured (not saturated, above the survey limit), as the
        input requires.

    Notes
    -----
    m' = m + Δμ + R_band ΔE(B−V), with R_band from :data:`redclump.data.surveys.EXTINCTION_R`;
    σ' = σ_survey(m'), and the noise added is N(0, √max(σ'² − σ², 0)).
    ϖ' = (ϖ − ϖ_0) 10^(−Δμ/5) + ϖ_0 + N(0, √max(σ_ϖ(G')² − (σ_ϖ 10^(−Δμ/5))², 0)), with ϖ_0
    Gaia DR2's zero point.

    Examples
    --------
    >>> from redclump.data.schema import INPUT_COLUMNS
    >>> star = pd.DataFrame({c: [0.01] for c in INPUT_COLUMNS if c.endswith(("error", "sigmpro", "msigcom"))})
    >>> for band in BANDS:
    ...     star[band] = 14.0
    >>> star["parallax"], star["parallax_error"] = 0.5, 0.02
    >>> twin, ok = degrade(star, delta_mu=np.array([5.0]), delta_ebv=np.array([0.0]),
    ...                    rng=np.random.default_rng(0))
    >>> round(float(twin["parallax"].iloc[0]), 2) != 0.5, bool(ok[0])
    (True, False)
    """
    delta_mu = np.asarray(delta_mu, dtype=np.float64)
    delta_ebv = np.asarray(delta_ebv, dtype=np.float64)
    twins = stars.copy()
    measured = np.ones(len(stars), dtype=bool)
    new_g = (
        stars["phot_g_mean_mag"].to_numpy(np.float64) + delta_mu + surveys.EXTINCTION_R["phot_g_mean_mag"] * delta_ebv
    )
    for band in BANDS:
        mag = stars[band].to_numpy(np.float64) + delta_mu + surveys.EXTINCTION_R[band] * delta_ebv
        old_sigma = stars[BAND_ERRORS[band]].to_numpy(np.float64)
        new_sigma = surveys.photometric_sigma(band, mag, new_g)
        extra = np.sqrt(np.maximum(new_sigma**2 - old_sigma**2, 0.0))
        twins[band] = (mag + extra * rng.standard_normal(mag.shape)).astype(np.float32)
        twins[BAND_ERRORS[band]] = np.maximum(new_sigma, old_sigma).astype(np.float32)
        measured &= surveys.detected(band, mag)
    scale = 10 ** (-delta_mu / 5)
    zero_point = surveys.PARALLAX_ZERO_POINT_MAS
    parallax = (stars["parallax"].to_numpy(np.float64) - zero_point) * scale + zero_point
    scaled_error = stars["parallax_error"].to_numpy(np.float64) * scale
    new_error = surveys.parallax_sigma(new_g)
    extra = np.sqrt(np.maximum(new_error**2 - scaled_error**2, 0.0))
    twins["parallax"] = (parallax + extra * rng.standard_normal(parallax.shape)).astype(np.float32)
    twins["parallax_error"] = np.maximum(new_error, scaled_error).astype(np.float32)
    return twins, measured


def draw_twins(
    truth: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    per_star: int,
    seed: int,
) -> pd.DataFrame:
    """``per_star`` degraded twins of every truth-set star, each at a random target's G and
    W1 extinction.

    Parameters
    ----------
    truth
        Scored truth-set stars (input columns plus ``a_w1`` from the same inference as the
        catalogue) with their labels; rows with a non-finite G or ``a_w1`` are skipped.
    targets
        Catalogue stars to copy :data:`TWIN_TARGET_COLUMNS` from, drawn uniformly, so twins land
        where the catalogue's stars are.
    per_star
        Twins per truth-set star.
    seed
        Seed of the target draw and the added noise.

    Returns
    -------
    pandas.DataFrame
        Input-schema rows of the measurable twins (every band measured), with ``truth_row``
        (the truth-set row it copies), ``target_g`` and ``target_a_w1``, ``l`` and ``b`` from
        the target, and the truth set's label columns.
    """
    rng = np.random.default_rng(seed)
    usable = np.isfinite(truth["phot_g_mean_mag"].to_numpy(np.float64)) & np.isfinite(
        truth["a_w1"].to_numpy(np.float64)
    )
    rows = np.repeat(np.flatnonzero(usable), per_star)
    picks = rng.integers(0, len(targets), rows.size)
    target = {c: targets[c].to_numpy(np.float64)[picks] for c in TWIN_TARGET_COLUMNS}
    base = truth.iloc[rows].reset_index(drop=True)
    r_w1 = surveys.EXTINCTION_R["w1mpro"]
    delta_ebv = (target["a_w1"] - base["a_w1"].to_numpy(np.float64)) / r_w1
    delta_mu = target["phot_g_mean_mag"] - base["phot_g_mean_mag"].to_numpy(np.float64)
    delta_mu -= surveys.EXTINCTION_R["phot_g_mean_mag"] * delta_ebv
    twins, measured = degrade(base, delta_mu=delta_mu, delta_ebv=delta_ebv, rng=rng)
    twins["truth_row"] = rows
    twins["target_g"] = target["phot_g_mean_mag"].astype(np.float32)
    twins["target_a_w1"] = target["a_w1"].astype(np.float32)
    twins["l"], twins["b"] = target["l"], target["b"]
    return twins[measured].reset_index(drop=True)
