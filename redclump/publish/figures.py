"""Paper-ready figures (matplotlib): the method's diagnostics and the sample in the Galaxy.

Each ``figure_*`` function takes tables and returns ``(figure, numbers)``: the numbers are what
the figure shows (binned values, medians, counts), so tests check them against the core
functions rather than pixels. :func:`write_figures` draws every figure the tables support and
writes one file each; `redclump figures` and the app's figure zip both call it. Colours are
colour-blind safe (viridis/cividis and the Okabe–Ito palette); widths are a journal column
(3.35 in) or page (7.0 in).

Importing this module changes no matplotlib state: the figures are
:class:`matplotlib.figure.Figure` objects (no pyplot, no backend chosen), drawn and saved inside
``matplotlib.rc_context(STYLE)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from redclump.core import distances, metrics, saliency
from redclump.core.inference import StagedModels
from redclump.core.projection import hammer_aitoff
from redclump.core.selection import TIER1, TIER2, Cut
from redclump.data.schema import BAND_ERRORS, BANDS, FEATURES

from .figure_style import COLUMN, OKABE_ITO, PAGE, SHORT, STYLE, binned_median, styled, subplots

__all__ = ["FIGURES", "STYLE", "binned_median", "make_all", "write_figures"]


@styled
def figure_predictions(scored: pd.DataFrame) -> tuple[Figure, dict[str, Any]]:
    """Fig. 3 of the paper: photometric against spectroscopic Teff, log g, ΔP, Δν (test split)."""
    test = scored[(scored["split"].astype(str) == "test") & scored["giant"].astype(bool)]
    pairs = [
        ("teff", "teff_phot", "Teff (K)"),
        ("logg", "logg_phot", "log g"),
        ("deltap", "dp_phot", "ΔP (s)"),
        ("deltanu", "dnu_phot", "Δν (µHz)"),
    ]
    fig, axes = subplots(1, 4, figsize=(PAGE, 1.9))
    numbers = {}
    for ax, (spec, phot, label) in zip(axes, pairs, strict=True):
        ok = test[spec].notna() & test[phot].notna()
        x, y = test.loc[ok, spec].to_numpy(float), test.loc[ok, phot].to_numpy(float)
        residual = y - x
        numbers[spec] = {
            "n": int(ok.sum()),
            "bias": float(np.median(residual)) if ok.any() else np.nan,
            "scatter": float(np.std(residual)) if ok.any() else np.nan,
        }
        if ok.any():
            lo, hi = np.percentile(np.r_[x, y], [0.5, 99.5])
            ax.hist2d(x, y, bins=60, range=[[lo, hi], [lo, hi]], cmap="viridis", cmin=1, norm=LogNorm())
            ax.plot([lo, hi], [lo, hi], color="#D55E00", lw=0.7)
        ax.set(xlabel=f"spectroscopic {label}", ylabel=f"photometric {label}")
        ax.text(
            0.04,
            0.96,
            f"bias {numbers[spec]['bias']:.3g}\nscatter {numbers[spec]['scatter']:.3g}",
            transform=ax.transAxes,
            va="top",
            fontsize=6,
            color="white",
            bbox={"facecolor": "black", "alpha": 0.5, "lw": 0},
        )
    fig.tight_layout()
    return fig, numbers


@styled
def figure_kiel_rates(scored: pd.DataFrame, *, min_count: int = 10) -> tuple[Figure, dict[str, Any]]:
    """Fig. 4: contamination and true-positive rate across the photometric Kiel plane."""
    test, is_rc = metrics.test_split_truth(scored)
    x_edges, y_edges = np.linspace(4200, 5400, 13), np.linspace(1.5, 3.5, 11)
    fig, axes = subplots(2, 2, figsize=(PAGE * 0.7, 4.2), sharex=True, sharey=True)
    numbers = {}
    for col, (name, cut) in enumerate((("tier1", TIER1), ("tier2", TIER2))):
        grid = metrics.binned_metrics_2d(
            cut.mask(test),
            is_rc,
            test["teff_phot"].to_numpy(),
            test["logg_phot"].to_numpy(),
            x_edges,
            y_edges,
            min_count=min_count,
        )
        numbers[name] = grid
        for row, key in enumerate(("completeness", "contamination")):
            ax = axes[row, col]
            mesh = ax.pcolormesh(x_edges, y_edges, grid[key].T, cmap="cividis", vmin=0, vmax=1)
            ax.set_title(f"{name}: {'true-positive rate' if key == 'completeness' else 'contamination'}")
            ax.invert_xaxis()
            ax.invert_yaxis()
            fig.colorbar(mesh, ax=ax)
    for ax in axes[-1]:
        ax.set_xlabel("Teff_phot (K)")
    for ax in axes[:, 0]:
        ax.set_ylabel("log g_phot")
    fig.tight_layout()
    return fig, numbers


@styled
def figure_contamination_trends(scored: pd.DataFrame, cut: Cut = TIER2) -> tuple[Figure, dict[str, Any]]:
    """Contamination against |b| and against the Ks photometric error, with Wilson intervals.

    (Ks rather than W1: the truth set's W1 errors sit at the AllWISE floor, so they cannot rank stars.)"""
    test, is_rc = metrics.test_split_truth(scored)
    selected = cut.mask(test)
    by_b = metrics.binned_metrics(selected, is_rc, np.abs(test["b"].to_numpy()), [0, 5, 10, 20, 30, 45, 90])
    by_err = metrics.binned_metrics(
        selected, is_rc, test["ks_msigcom"].to_numpy(), [0.02, 0.022, 0.025, 0.03, 0.04, 0.06, 0.1]
    )
    fig, axes = subplots(1, 2, figsize=(PAGE * 0.7, 2.0))
    for ax, binned, label in ((axes[0], by_b, "|b| (deg)"), (axes[1], by_err, "σ(Ks) (mag)")):
        centres = 0.5 * (binned["edges"][1:] + binned["edges"][:-1])
        c, lo, hi = binned["contamination"], binned["contamination_lo"], binned["contamination_hi"]
        # Clip: the Wilson bounds can sit a rounding error beyond the estimate at 0 or 1.
        yerr = [np.clip(np.nan_to_num(c - lo), 0, None), np.clip(np.nan_to_num(hi - c), 0, None)]
        ax.errorbar(centres, c, yerr=yerr, fmt="o", color=OKABE_ITO[5], ms=3, capsize=2)
        ax.set(xlabel=label, ylabel=f"contamination ({cut.text()})" if ax is axes[0] else "", ylim=(0, 1))
    axes[1].set_xscale("log")
    fig.tight_layout()
    return fig, {"abs_b": by_b, "ks_error": by_err}


@styled
def figure_galaxy(catalogue: pd.DataFrame, cut: Cut = TIER2) -> tuple[Figure, dict[str, Any]]:
    """The sample in the Galaxy: face-on X–Y, edge-on R–Z, and the all-sky equal-area map."""
    sample = catalogue[cut.mask(catalogue)]
    fig = Figure(figsize=(PAGE, 2.3))
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.8])
    ax_xy, ax_rz, ax_sky = (fig.add_subplot(grid[i]) for i in range(3))
    numbers = {"n": len(sample)}
    xy, *_ = ax_xy.hist2d(
        sample["x_gc"],
        sample["y_gc"],
        bins=120,
        range=[[-20, 20], [-20, 20]],
        cmap="viridis",
        cmin=1,
        norm=LogNorm(),
    )
    ax_xy.set(xlabel="X (kpc)", ylabel="Y (kpc)", aspect="equal")
    rz, *_ = ax_rz.hist2d(
        sample["r_gc"],
        sample["z_gc"],
        bins=120,
        range=[[0, 25], [-10, 10]],
        cmap="viridis",
        cmin=1,
        norm=LogNorm(),
    )
    ax_rz.set(xlabel="R (kpc)", ylabel="Z (kpc)")
    x, y = hammer_aitoff(sample["l"].to_numpy(), sample["b"].to_numpy())
    sky, *_ = ax_sky.hist2d(
        x,
        y,
        bins=[240, 120],
        range=[[-2.83, 2.83], [-1.42, 1.42]],
        cmap="viridis",
        cmin=1,
        norm=LogNorm(),
    )
    ax_sky.set(aspect="equal", xticks=[], yticks=[], title="Galactic (l = 0 at centre, increasing left)")
    numbers.update(xy_counts=np.nan_to_num(xy), rz_counts=np.nan_to_num(rz), sky_counts=np.nan_to_num(sky))
    fig.tight_layout()
    return fig, numbers


@styled
def figure_distance_cdf(catalogue: pd.DataFrame, cut: Cut = TIER2) -> tuple[Figure, dict[str, Any]]:
    """Fig. 7: cumulative distance distribution, W1 of an unreddened RC on the top axis."""
    dist = np.sort(catalogue.loc[cut.mask(catalogue), "dist"].dropna().to_numpy())
    numbers = {
        "n": int(dist.size),
        "beyond_10kpc": int(np.count_nonzero(dist > 10)),
        "beyond_20kpc": int(np.count_nonzero(dist > 20)),
        "median_kpc": float(np.median(dist)) if dist.size else np.nan,
    }
    fig, ax = subplots(figsize=(COLUMN, 2.4))
    ax.plot(dist, np.arange(1, dist.size + 1), color=OKABE_ITO[5])
    ax.set(xlabel="RC distance (kpc)", ylabel="cumulative stars", xlim=(0, 25))
    top = ax.secondary_xaxis(
        "top",
        functions=(
            lambda d: distances.M_W1_RC + 5 * np.log10(np.maximum(d, 1e-3) * 100),
            lambda w1: 10 ** ((w1 - distances.M_W1_RC) / 5) / 100,
        ),
    )
    top.set_xlabel("W1 of an RC star without extinction (mag)")
    ax.text(
        0.95,
        0.05,
        f"> 10 kpc: {numbers['beyond_10kpc']:,}\n> 20 kpc: {numbers['beyond_20kpc']:,}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
    )
    fig.tight_layout()
    return fig, numbers


@styled
def figure_distance_precision(catalogue: pd.DataFrame, cut: Cut = TIER2) -> tuple[Figure, dict[str, Any]]:
    """RC against Gaia parallax distance uncertainties, and where the RC becomes more precise."""
    sample = catalogue[cut.mask(catalogue)]
    dist, err = sample["dist"].to_numpy(float), sample["dist_err"].to_numpy(float)
    plx_err = sample["parallax_error"].to_numpy(float) * dist**2  # σ_ϖ-distance at the RC distance
    edges = np.linspace(0, 15, 31)
    centres = 0.5 * (edges[1:] + edges[:-1])
    rc_med = binned_median(err, dist, edges)
    plx_med = binned_median(plx_err, dist, edges)
    comparison = distances.compare_with_parallax(
        dist, err, sample["parallax"].to_numpy(float), sample["parallax_error"].to_numpy(float)
    )
    fig, ax = subplots(figsize=(COLUMN, 2.3))
    ax.plot(centres, rc_med / centres, color=OKABE_ITO[6], label="RC distance")
    ax.plot(centres, plx_med / centres, color=OKABE_ITO[5], label="Gaia parallax")
    if np.isfinite(comparison["rc_more_precise_beyond_kpc"]):
        ax.axvline(comparison["rc_more_precise_beyond_kpc"], color="grey", ls="--", lw=0.7)
    ax.set(xlabel="distance (kpc)", ylabel="median fractional uncertainty", yscale="log")
    ax.legend()
    fig.tight_layout()
    return fig, {"centres": centres, "rc": rc_med, "parallax": plx_med, **comparison}


@styled
def figure_uncertainties(catalogue: pd.DataFrame) -> tuple[Figure, dict[str, Any]]:
    """Fig. 9: inferred uncertainty against input uncertainty."""
    colour_err = np.hypot(catalogue["phot_g_mean_mag_error"], catalogue["w2sigmpro"]).to_numpy(float)
    frac_plx = (catalogue["parallax_error"] / np.abs(catalogue["parallax"])).to_numpy(float)
    fig, axes = subplots(1, 2, figsize=(PAGE * 0.7, 2.1))
    numbers = {}
    for ax, x, y, xlabel, ylabel, key, edges in (
        (
            axes[0],
            colour_err,
            catalogue["teff_phot_err"].to_numpy(float),
            "σ(G − W2) (mag)",
            "σ Teff_phot (K)",
            "teff",
            np.geomspace(0.02, 0.3, 12),
        ),
        (
            axes[1],
            frac_plx,
            catalogue["logg_phot_err"].to_numpy(float),
            "σ_ϖ / ϖ",
            "σ log g_phot",
            "logg",
            np.geomspace(0.02, 3, 12),
        ),
    ):
        med = binned_median(y, x, edges, min_count=10)
        centres = np.sqrt(edges[1:] * edges[:-1])
        numbers[key] = {"centres": centres, "median": med}
        ax.plot(centres, med, "o-", color=OKABE_ITO[5], ms=3)
        ax.set(xscale="log", xlabel=xlabel, ylabel=ylabel)
    fig.tight_layout()
    return fig, numbers


@styled
def figure_saliency(
    models: StagedModels, catalogue: pd.DataFrame, *, max_stars: int = 200_000, seed: int = 0
) -> tuple[Figure, dict[str, Any]]:
    """Fig. 8: ∂ΔP/∂m per band, averaged in Teff–log g bins and in the RC and RGB regions."""
    rng = np.random.default_rng(seed)
    rows = (
        catalogue
        if len(catalogue) <= max_stars
        else catalogue.iloc[np.sort(rng.choice(len(catalogue), max_stars, replace=False))]
    )
    grads = saliency.input_gradients(models.stage3, rows[list(FEATURES)].to_numpy(np.float32), "deltap")
    teff, logg = rows["teff_phot"].to_numpy(float), rows["logg_phot"].to_numpy(float)
    rc_box = (teff > 4500) & (teff < 5100) & (logg > 2.2) & (logg < 2.8)
    rgb = (logg > 2.9) & (logg < 3.4)
    table = pd.DataFrame(
        {
            "band": [SHORT[b] for b in BANDS],
            "mean_dP_dm_rc_region": grads[rc_box, : len(BANDS)].mean(0) if rc_box.any() else np.nan,
            "mean_dP_dm_rgb_region": grads[rgb, : len(BANDS)].mean(0) if rgb.any() else np.nan,
            "mean_abs_dP_dm": np.abs(grads[:, : len(BANDS)]).mean(0),
        }
    )
    x_edges, y_edges = np.linspace(4200, 5400, 13), np.linspace(1.5, 3.5, 11)
    h_map = saliency.binned_mean(grads[:, BANDS.index("h_m")], teff, logg, x_edges, y_edges)
    fig, axes = subplots(1, 2, figsize=(PAGE * 0.8, 2.3))
    positions = np.arange(len(BANDS))
    axes[0].bar(positions - 0.2, table["mean_dP_dm_rc_region"], 0.4, color=OKABE_ITO[6], label="RC region")
    axes[0].bar(positions + 0.2, table["mean_dP_dm_rgb_region"], 0.4, color=OKABE_ITO[5], label="upper-RGB region")
    axes[0].set_xticks(positions, table["band"])
    axes[0].set(ylabel="mean ∂ΔP/∂m (s/mag)")
    axes[0].legend()
    mesh = axes[1].pcolormesh(x_edges, y_edges, h_map.T, cmap="cividis")
    axes[1].invert_xaxis()
    axes[1].invert_yaxis()
    axes[1].set(xlabel="Teff_phot (K)", ylabel="log g_phot", title="∂ΔP/∂H (s/mag)")
    fig.colorbar(mesh, ax=axes[1])
    fig.tight_layout()
    return fig, {"table": table, "h_map": h_map, "n": len(rows)}


@styled
def figure_cn_signature(catalogue: pd.DataFrame) -> tuple[Figure, dict[str, Any]]:
    """Fig. 1 (middle/bottom), on the mock: RC − RGB magnitude differences at fixed Teff, log g
    and [Fe/H] from the mock's stellar model, against the catalogue's median photometric errors."""
    from redclump.data import stellar

    teff, logg, feh = np.array([4875.0]), np.array([2.32]), np.array([-0.6])  # the paper's example, Z ≈ 0.004
    m_ks = np.array([-1.6])
    # The paper's example pair: an RGB star with [C/N] = 0 and an RC star with [C/N] = −0.79.
    cn_rgb = np.array([0.0])
    cn_rc = cn_rgb - stellar.CN_REFERENCE_DEX
    rgb = stellar.absolute_magnitudes(teff, logg, feh, cn_rgb, m_ks)
    rc = stellar.absolute_magnitudes(teff, logg, feh, cn_rc, m_ks)
    diff = np.array([float(rc[b][0] - rgb[b][0]) for b in BANDS])
    noise = np.array(
        [float(np.median(catalogue[BAND_ERRORS[b]])) if BAND_ERRORS[b] in catalogue else np.nan for b in BANDS]
    )
    fig, ax = subplots(figsize=(COLUMN, 2.2))
    positions = np.arange(len(BANDS))
    ax.bar(positions, diff, color=OKABE_ITO[6], label="M(RC) − M(RGB), same Teff, log g, [Fe/H]")
    ax.plot(positions, noise, "k_", ms=10, label="median catalogue error")
    ax.plot(positions, -noise, "k_", ms=10)
    ax.set_xticks(positions, [SHORT[b] for b in BANDS])
    ax.set(ylabel="mag")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig, {
        "difference": dict(zip(BANDS, diff, strict=True)),
        "noise": dict(zip(BANDS, noise, strict=True)),
        "delta_cn": float(cn_rc[0] - cn_rgb[0]),
    }


FIGURES = (
    "predictions",
    "kiel_rates",
    "contamination_trends",
    "galaxy",
    "distance_cdf",
    "distance_precision",
    "uncertainties",
    "saliency",
    "cn_signature",
)


def make_all(
    catalogue: pd.DataFrame, scored: pd.DataFrame, models: StagedModels | None, cut: Cut = TIER2
) -> dict[str, tuple[Figure, dict[str, Any]]]:
    """Every figure for a cut. ``cn_signature`` needs the mock's ``true_*`` columns; ``saliency`` needs models."""
    out = {
        "predictions": figure_predictions(scored),
        "kiel_rates": figure_kiel_rates(scored),
        "contamination_trends": figure_contamination_trends(scored, cut),
        "galaxy": figure_galaxy(catalogue, cut),
        "distance_cdf": figure_distance_cdf(catalogue, cut),
        "distance_precision": figure_distance_precision(catalogue, cut),
        "uncertainties": figure_uncertainties(catalogue),
    }
    if models is not None:
        out["saliency"] = figure_saliency(models, catalogue)
    if "true_state" in catalogue:
        out["cn_signature"] = figure_cn_signature(catalogue)
    return out


def write_figures(
    catalogue: pd.DataFrame,
    truth: pd.DataFrame,
    models: StagedModels | None,
    cut: Cut,
    out: Path,
    *,
    fmt: Literal["pdf", "png", "svg"] = "pdf",
    dpi: int = 200,
) -> dict[str, dict[str, Any]]:
    """Draw every figure the tables support (:func:`make_all`) and write each to ``out/NAME.FMT``.

    Parameters
    ----------
    catalogue
        Catalogue rows (the giants, or the app's candidates).
    truth
        The scored truth set.
    models
        The trained stages, for the saliency figure; None leaves it out.
    cut
        The sample figures' cut.
    out
        The folder; made if missing. Files already there under a figure's name are replaced.
    fmt, dpi
        File format and resolution.

    Returns
    -------
    dict
        Each written figure's numbers (what it shows), by name, in :data:`FIGURES` order.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    made = make_all(catalogue, truth, models, cut)
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        for name, (fig, _numbers) in made.items():
            fig.savefig(out / f"{name}.{fmt}", format=fmt, dpi=dpi)
    return {name: numbers for name, (_fig, numbers) in made.items()}
