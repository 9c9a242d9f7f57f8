from __future__ import annotations

import doctest
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redclump.core import metrics, selection

FIELDS = tuple(term.name for term in selection.CUT_TERMS)


def _frame(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "dp_phot": rng.uniform(50, 350, n),
            "dp_phot_err": rng.uniform(5, 100, n),
            "dnu_phot": rng.uniform(1, 15, n),
            "teff_phot": rng.uniform(4000, 5400, n),
            "logg_phot": rng.uniform(1.5, 3.5, n),
            "b": rng.uniform(-90, 90, n),
            "p_rc": rng.uniform(0, 1, n),
            "phot_g_mean_mag": rng.uniform(10, 21, n),
            "dist": rng.uniform(0, 50, n),
        }
    )
    frame.loc[::17, "dp_phot"] = np.nan
    frame.loc[::13, "phot_g_mean_mag"] = np.nan
    frame.loc[::11, "dist"] = np.nan
    return frame


def test_paper_presets() -> None:
    assert selection.Cut(dp_min=265, dnu_max=5.25, teff_min=4700) == selection.TIER1
    assert selection.Cut(dp_min=225, dnu_max=5.5) == selection.TIER2
    assert selection.HIGH_LATITUDE.abs_b_min == 30
    assert selection.TIER2.text() == "dp_phot > 225 & dnu_phot < 5.5"


def test_mask_matches_hand_evaluation_and_nan_never_passes() -> None:
    frame = _frame()
    expected = (frame["dp_phot"] > 225) & (frame["dnu_phot"] < 5.5)
    assert np.array_equal(selection.TIER2.mask(frame), expected.to_numpy())
    assert not selection.Cut(dp_min=0).mask(frame)[::17].any()
    edges = pd.DataFrame({"dp_phot": [224.5, 225.0, 225.5, 300.0], "dnu_phot": [5.0, 5.0, 5.0, 5.5]})
    # Strict inequalities, as the paper's "ΔP > 225 s, Δν < 5.5 µHz".
    assert selection.TIER2.mask(edges).tolist() == [False, False, True, False]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(FIELDS), st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=0.5))
def test_tightening_never_adds_stars(field: str, start: float, step: float) -> None:
    frame = _frame()
    scale = {
        "dp_min": 350,
        "dnu_max": 15,
        "teff_min": 5400,
        "logg_min": 3.5,
        "logg_max": 3.5,
        "abs_b_min": 90,
        "dp_frac_err_max": 2,
        "p_rc_min": 1,
        "g_min": 21,
        "g_max": 21,
        "dist_min": 50,
        "dist_max": 50,
    }[field]
    loose_value = start * scale
    lower_limit = selection.cut_term(field).is_lower_limit
    tight_value = loose_value + step * scale if lower_limit else loose_value - step * scale
    loose = selection.Cut(**{field: loose_value}).mask(frame)
    tight = selection.Cut(**{field: tight_value}).mask(frame)
    assert not np.any(tight & ~loose)


def test_hand_computed_metrics() -> None:
    sel = np.array([1, 1, 1, 0, 0, 1], bool)
    rc = np.array([1, 1, 0, 1, 0, 0], bool)
    m = metrics.selection_metrics(sel, rc)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 2, 1)
    assert m["contamination"] == 0.5 and np.isclose(m["completeness"], 2 / 3)
    assert m["contamination_lo"] < 0.5 < m["contamination_hi"]


def test_all_none_and_no_true_rc() -> None:
    rc = np.array([1, 0, 1, 0], bool)
    every = metrics.selection_metrics(np.ones(4, bool), rc)
    assert every["completeness"] == 1.0 and every["contamination"] == 0.5
    none = metrics.selection_metrics(np.zeros(4, bool), rc)
    assert np.isnan(none["contamination"]) and none["completeness"] == 0.0 and "empty selection" in none["note"]
    no_rc = metrics.selection_metrics(np.ones(4, bool), np.zeros(4, bool))
    assert np.isnan(no_rc["completeness"]) and no_rc["contamination"] == 1.0 and "no true RC" in no_rc["note"]


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=0, max_size=50))
def test_metrics_are_rates(pairs: list[tuple[bool, bool]]) -> None:
    sel = np.array([p[0] for p in pairs], bool)
    rc = np.array([p[1] for p in pairs], bool)
    m = metrics.selection_metrics(sel, rc)
    for key in ("contamination", "completeness"):
        eps = 1e-9
        assert np.isnan(m[key]) or (-eps <= m[f"{key}_lo"] <= m[key] + eps <= m[f"{key}_hi"] + 2 * eps <= 1 + 3 * eps)


def test_binned_metrics_agree_with_the_unbinned_ones() -> None:
    rng = np.random.default_rng(1)
    sel, rc, x = rng.random(1000) < 0.3, rng.random(1000) < 0.4, rng.uniform(0, 10, 1000)
    binned = metrics.binned_metrics(sel, rc, x, [0, 5, 10])
    for i, (lo, hi) in enumerate([(0, 5), (5, 10)]):
        inside = (x >= lo) & (x < hi)
        assert np.isclose(
            binned["contamination"][i], metrics.selection_metrics(sel[inside], rc[inside])["contamination"]
        )
    grid = metrics.binned_metrics_2d(sel, rc, x, x, np.array([0, 5, 10.0]), np.array([0, 10.0]), min_count=1)
    assert np.allclose(grid["contamination"][:, 0], binned["contamination"])


def test_reweighting_corrects_a_biased_truth_set() -> None:
    rng = np.random.default_rng(2)
    # Two strata: contamination 10 % (stratum 0) and 50 % (stratum 1). The truth set is 90 %
    # stratum 0, the catalogue 90 % stratum 1: the truth is 0.1·0.1 + 0.9·0.5 = 0.46.
    strata = np.r_[np.zeros(9000, int), np.ones(1000, int)]
    rc = np.r_[rng.random(9000) > 0.1, rng.random(1000) > 0.5]
    selected = np.ones(strata.size, bool)
    catalogue = np.r_[np.zeros(1000, int), np.ones(9000, int)]
    result = metrics.reweighted_contamination(selected, rc, strata, np.bincount(catalogue, minlength=2), 2, n_boot=100)
    plain = metrics.selection_metrics(selected, rc)["contamination"]
    assert abs(result["contamination"] - 0.46) < 0.03 < abs(plain - 0.46)
    assert result["lo"] < result["contamination"] < result["hi"]


def test_solver_picks_the_most_complete_cut_under_the_target() -> None:
    frame = _frame(4000, 3)
    rc = frame["dp_phot"].fillna(0).to_numpy() + np.random.default_rng(0).normal(0, 60, 4000) > 240
    values = np.linspace(100, 340, 100)
    curve = metrics.tradeoff_curve(selection.Cut(), "dp_min", values, frame, rc)
    cut, stats = metrics.solve_for_contamination(selection.Cut(), "dp_min", values, frame, rc, target=0.2)
    assert cut is not None and stats["contamination"] <= 0.2
    feasible = curve["contamination"] <= 0.2
    assert np.isclose(stats["completeness"], np.nanmax(curve["completeness"][feasible]))
    assert metrics.solve_for_contamination(selection.Cut(), "dp_min", values, frame, rc, target=0.0)[0] is None


def test_doctests() -> None:
    assert doctest.testmod(selection, raise_on_error=False).failed == 0
    assert doctest.testmod(metrics, raise_on_error=False).failed == 0


def test_contamination_strata_separate_latitude_direction_depth_and_teff() -> None:
    base = {"l": [0.0], "b": [2.0], "phot_g_mean_mag": [12.0], "teff_phot": [4500.0]}
    index, n = metrics.contamination_strata(pd.DataFrame(base))
    assert n == 5 * 3 * 3 * 4
    for column, value in (("b", -45.0), ("l", 180.0), ("phot_g_mean_mag", 16.0), ("teff_phot", 5100.0)):
        other = metrics.contamination_strata(pd.DataFrame({**base, column: [value]}))[0]
        assert other[0] != index[0], column
    # Symmetric in l about the centre: l = 350° is the same direction bin as l = 10°.
    a = metrics.contamination_strata(pd.DataFrame({**base, "l": [350.0]}))[0]
    b = metrics.contamination_strata(pd.DataFrame({**base, "l": [10.0]}))[0]
    assert a[0] == b[0]


def test_stratum_counts_equal_the_bincount_of_the_selected_strata() -> None:
    rng = np.random.default_rng(4)
    strata, mask = rng.integers(0, 180, 50_000).astype(np.int16), rng.random(50_000) < 0.4
    counts = metrics.stratum_counts(strata, mask, 180)
    by_star = np.bincount(strata[mask], minlength=180)
    assert np.array_equal(counts, by_star)
    test_strata, selected, is_rc = rng.integers(0, 180, 3000), rng.random(3000) < 0.5, rng.random(3000) < 0.7
    from_star = metrics.reweighted_contamination(selected, is_rc, test_strata, by_star, 180, n_boot=20, seed=1)
    from_count = metrics.reweighted_contamination(selected, is_rc, test_strata, counts, 180, n_boot=20, seed=1)
    assert from_star == from_count


#: A term no shipped table has, for checking that everything generated from the table follows it.
PARALLAX_MIN = selection.CutTerm(
    "parallax_min",
    "parallax",
    ("parallax",),
    ">",
    "mas",
    "ϖ",
    "ϖ min (mas)",
    selection.SliderRange(0.0, 5.0, 0.1, 0.0),
    "plx",
)


def test_cut_fields_are_the_terms_of_the_table() -> None:
    assert [f.name for f in fields(selection.Cut)] == [term.name for term in selection.CUT_TERMS]
    assert selection.cut_class(selection.CUT_TERMS) is selection.Cut


def test_a_term_added_to_a_copy_of_the_table_cuts() -> None:
    extended = selection.cut_class((*selection.CUT_TERMS, PARALLAX_MIN))
    frame = _frame().assign(parallax=np.linspace(-1.0, 3.0, 500))
    cut = extended(dp_min=225.0, parallax_min=0.5)
    assert cut.text() == "dp_phot > 225 & parallax > 0.5"
    assert cut.required_columns() == ["dp_phot", "parallax"]
    expected = (frame["dp_phot"] > 225) & (frame["parallax"] > 0.5)
    assert cut.mask(frame).tolist() == expected.tolist()
    assert cut.replace(parallax_min=None).text() == "dp_phot > 225"
    # The shipped table is untouched.
    assert "parallax_min" not in selection.Cut().to_dict()


def test_a_table_that_drops_a_term_is_refused() -> None:
    with pytest.raises(TypeError, match=r"fields without a term \['dp_min'\]"):
        selection.cut_class(selection.CUT_TERMS[1:])


def test_g_and_distance_cuts_match_hand_evaluation() -> None:
    frame = pd.DataFrame(
        {
            "phot_g_mean_mag": [16.9, 17.0, 17.5, 18.99, 19.0, np.nan, 20.0],
            "dist": [1.0, 12.0, 9.9, 10.1, 30.0, 15.0, np.nan],
        }
    )
    g_17_19 = selection.Cut(g_min=17, g_max=19)
    assert g_17_19.text() == "phot_g_mean_mag > 17 & phot_g_mean_mag < 19"
    assert g_17_19.required_columns() == ["phot_g_mean_mag"]
    assert g_17_19.mask(frame).tolist() == [False, False, True, True, False, False, False]
    beyond_10 = selection.Cut(dist_min=10)
    assert beyond_10.text() == "dist > 10"
    assert beyond_10.mask(frame).tolist() == [False, True, False, True, True, True, False]
    assert selection.Cut(dist_max=10).mask(frame).tolist() == [True, False, True, False, False, False, False]
    assert selection.Cut(g_min=17, g_max=19, dist_min=10).mask(frame).tolist() == [
        False, False, False, True, False, False, False,
    ]  # fmt: skip
