"""Random catalogue and truth-set frames with the app's columns, for the notebook, tests and benchmarks.

Not a model of anything (the mock, :mod:`redclump.data.mock`, is the model): a page or a test
needs a catalogue of a chosen size in a second, without a build.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import BANDS

__all__ = ["synthetic_frames"]


def synthetic_frames(n: int, n_truth: int, *, seed: int, card: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A catalogue and a scored truth set with the app's columns and random values.

    For the notebook's explorer, tests and benchmarks. Not a model of anything: positions are uniform on
    the sphere and the truth set's class follows ΔP_phot with noise. ``card=True`` adds what a
    star's card shows (every band, the errors, a two-component ΔP and Δν mixture whose mean is the
    star's ΔP_phot and Δν_phot, and a ``true_state`` that follows ΔP_phot).
    """
    rng = np.random.default_rng(seed)

    def frame(m: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "source_id": np.arange(m),
                "l": rng.uniform(0, 360, m),
                "b": np.degrees(np.arcsin(rng.uniform(-1, 1, m))),
                "phot_g_mean_mag": rng.uniform(10, 17, m),
                "w1mpro": rng.uniform(8, 14, m),
                "w1sigmpro": np.full(m, 0.03),
                "teff_phot": rng.uniform(4000, 5400, m),
                "logg_phot": rng.uniform(1.5, 3.5, m),
                "dp_phot": rng.uniform(50, 350, m),
                "dp_phot_err": rng.uniform(5, 100, m),
                "dnu_phot": rng.uniform(1, 15, m),
                "p_rc": rng.uniform(0, 1, m),
                "dist": rng.uniform(0.5, 25, m),
                "x_gc": rng.normal(0, 8, m),
                "y_gc": rng.normal(0, 8, m),
                "z_gc": rng.normal(0, 1, m),
                "r_gc": rng.uniform(0, 20, m),
            }
        )

    catalogue = frame(n)
    if card:
        for offset, band in enumerate(b for b in BANDS if b not in catalogue.columns):
            catalogue[band] = catalogue["phot_g_mean_mag"] + rng.normal(0.1 * offset - 0.8, 0.05, n)
        catalogue["parallax_error"] = np.full(n, 0.03)
        catalogue["parallax"] = 1.0 / catalogue["dist"] + rng.normal(0, 0.03, n)
        catalogue["teff_phot_err"] = np.full(n, 120.0)
        catalogue["logg_phot_err"] = np.full(n, 0.2)
        catalogue["dist_err"] = 0.05 * catalogue["dist"]
        catalogue["dnu_phot_err"] = np.full(n, 1.5)
        for prefix, column, spread in (("dp", "dp_phot", 40.0), ("dnu", "dnu_phot", 1.0)):
            weight = rng.uniform(0.2, 0.8, n)
            centre = catalogue[column].to_numpy()
            # Two components whose weighted mean is the star's predicted value.
            catalogue[f"{prefix}_mix_w0"], catalogue[f"{prefix}_mix_w1"] = weight, 1 - weight
            catalogue[f"{prefix}_mix_mu0"] = centre - spread * (1 - weight)
            catalogue[f"{prefix}_mix_mu1"] = centre + spread * weight
            catalogue[f"{prefix}_mix_sigma0"] = catalogue[f"{prefix}_mix_sigma1"] = np.full(n, spread / 4)
        catalogue["true_state"] = np.where(catalogue["dp_phot"] > 220, "RC", "RGB")
    scored = frame(n_truth)
    scored["split"] = rng.choice(["train", "valid", "test"], n_truth, p=[0.6, 0.15, 0.25])
    scored["class"] = np.where(scored["dp_phot"] + rng.normal(0, 50, n_truth) > 220, "RC", "RGB")
    return catalogue, scored
