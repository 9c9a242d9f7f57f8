"""A selection's provenance: one set of keys whatever the inputs lack, hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from redclump.core import metrics, provenance
from redclump.core.selection import Cut

CUT = Cut(dp_min=225.0)


def _frames(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 400
    frame = pd.DataFrame(
        {
            "l": rng.uniform(0, 360, n),
            "b": rng.uniform(-60, 60, n),
            "phot_g_mean_mag": rng.uniform(11, 16, n),
            "teff_phot": rng.uniform(4400, 5200, n),
            "dp_phot": rng.uniform(50, 350, n),
            "dnu_phot": rng.uniform(2, 8, n),
        }
    )
    is_rc = frame["dp_phot"].to_numpy() + rng.normal(0, 40, n) > 225
    return frame[CUT.mask(frame)], frame, is_rc


def test_numbers_are_hand_computed_ones() -> None:
    """Two of three selected are RC (contamination 1/3); two of four RC are selected."""
    test = pd.DataFrame({"dp_phot": [300.0, 300.0, 300.0, 100.0, 100.0], "dnu_phot": [4.0] * 5})
    is_rc = np.array([True, True, False, True, True])
    meta = provenance.selection_provenance(CUT, test.head(0), test, is_rc, catalogue="c", manifest_sha256=None)
    assert meta["contamination"] == pytest.approx(1 / 3) and meta["completeness"] == pytest.approx(0.5)
    assert meta["catalogue_manifest_sha256"] == "" and np.isnan(meta["contamination_reweighted"])


def test_the_keys_do_not_depend_on_what_the_inputs_carry() -> None:
    chosen, test, is_rc = _frames()
    full = provenance.selection_provenance(CUT, chosen, test, is_rc, catalogue="c", manifest_sha256="ab")
    bare = provenance.selection_provenance(
        CUT, chosen[["dp_phot", "dnu_phot"]], test[["dp_phot", "dnu_phot"]], is_rc, catalogue="c", manifest_sha256="ab"
    )
    assert list(full) == list(bare)
    assert np.isfinite(full["contamination_reweighted"]) and np.isnan(bare["contamination_reweighted"])


def test_reweighting_uses_the_selections_strata_and_the_shared_bootstrap() -> None:
    chosen, test, is_rc = _frames()
    meta = provenance.selection_provenance(CUT, chosen, test, is_rc, catalogue="c", manifest_sha256="ab")
    strata, n_strata = metrics.contamination_strata(test)
    counts = np.bincount(metrics.contamination_strata(chosen)[0], minlength=n_strata)
    expected = metrics.reweighted_contamination(CUT.mask(test), is_rc, strata, counts, n_strata, n_boot=200, seed=0)
    bounds = (meta["contamination_reweighted_lo"], meta["contamination_reweighted_hi"])
    assert bounds == (expected["lo"], expected["hi"])


def test_a_given_test_mask_region_and_estimate_are_carried() -> None:
    chosen, test, is_rc = _frames()
    none_selected = np.zeros(len(test), bool)
    estimate = {key: 0.25 for key in provenance.METRIC_KEYS} | {"outside_truth": 0.1}
    meta = provenance.selection_provenance(
        CUT,
        chosen,
        test,
        is_rc,
        catalogue="c",
        manifest_sha256="ab",
        test_selected=none_selected,
        region="box",
        region_json="{}",
        catalogue_estimate=estimate,
    )
    assert meta["completeness"] == 0.0 and (meta["region"], meta["region_json"]) == ("box", "{}")
    assert meta["catalogue_contamination_hi"] == 0.25 and meta["catalogue_beyond_truth"] == 0.1
    assert meta["n_rows"] == len(chosen)
