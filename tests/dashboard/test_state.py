"""The dashboard state without a browser: cuts change the mask, counts and metrics exactly as the
core functions say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from redclump.core import metrics
from redclump.core.selection import CUT_TERMS, TIER1, TIER2, CutTerm, SliderRange
from redclump.dashboard.app_data import DP_FLOOR, frames_to_app_data
from redclump.dashboard.region import Region
from redclump.dashboard.state import SLIDER_PARAMS, URL_PARAMS, ExplorerState, slider_names, state_class, url_keys
from redclump.dashboard.urlparams import read_url
from redclump.data.synthetic import synthetic_frames


def _tables(n: int = 5000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_frames(n, 2000, seed=seed)


@pytest.fixture
def state() -> ExplorerState:
    catalogue, scored = _tables()
    return ExplorerState(frames_to_app_data(catalogue, scored, source="fixture"))


def test_default_cut_is_tier2_and_numbers_match_the_core(state: ExplorerState) -> None:
    assert state.cut() == TIER2
    expected_mask = TIER2.mask(state.data.catalogue)
    assert np.array_equal(state.mask(), expected_mask)
    numbers = state.numbers()
    core = metrics.selection_metrics(TIER2.mask(state.data.test), state.data.test_is_rc)
    assert numbers["n_catalogue"] == int(expected_mask.sum())
    assert numbers["contamination"] == core["contamination"] and numbers["completeness"] == core["completeness"]
    assert numbers["beyond_10kpc"] == int((state.data.catalogue["dist"][expected_mask] > 10).sum())


def test_moving_dp_min_changes_mask_and_metrics(state: ExplorerState) -> None:
    before = state.numbers()
    state.dp_min = 300
    after = state.numbers()
    assert after["n_catalogue"] < before["n_catalogue"]
    assert after["cut_text"] == "dp_phot > 300 & dnu_phot < 5.5"


def test_presets_set_the_paper_values(state: ExplorerState) -> None:
    state.apply_preset("tier1")
    assert state.cut() == TIER1
    state.apply_preset("highlat")
    assert state.cut().abs_b_min == 30 and state.cut().teff_min == 4700
    state.apply_preset("tier2")
    assert state.cut() == TIER2


def test_region_restricts_the_selection(state: ExplorerState) -> None:
    total = state.numbers()["n_catalogue"]
    state.region = Region.box("dnu_phot", "dp_phot", 1.0, 3.0, 200.0, 400.0)
    inside = state.numbers()["n_catalogue"]
    assert 0 < inside < total
    assert "dnu_phot" in state.region_text()
    state.region = None
    assert state.numbers()["n_catalogue"] == total


def test_url_state_round_trip(state: ExplorerState) -> None:
    state.param.update(dp_min=260, cnorm="log", colour_by="mean distance (kpc)")
    other = ExplorerState(state.data)
    other.param.update(**state.url_state())
    assert other.cut() == state.cut() and other.cnorm == "log" and other.colour_by == state.colour_by


def test_command_line_reproduces_the_cut(state: ExplorerState) -> None:
    state.param.update(dp_min=250, teff_min=4700, p_rc_min=0.5)
    assert (
        state.command()
        == "redclump select --dp-min 250 --dnu-max 5.5 --teff-min 4700 --p-rc-min 0.5 --out sample.parquet"
    )


def test_missing_optional_columns_disable_their_controls() -> None:
    catalogue, scored = _tables()
    data = frames_to_app_data(catalogue.drop(columns=["p_rc"]), scored.drop(columns=["p_rc"]), source="no p_rc")
    state = ExplorerState(data)
    assert state.param.p_rc_min.constant
    assert state.numbers()["n_catalogue"] == int(TIER2.mask(data.catalogue).sum())


def test_only_candidates_above_the_floor_are_loaded() -> None:
    catalogue, scored = _tables()
    data = frames_to_app_data(catalogue, scored, source="x")
    assert (data.catalogue["dp_phot"] > DP_FLOOR).all()
    assert data.n_catalogue_total == len(catalogue)


def test_lasso_restricts_every_number_to_the_polygon(state: ExplorerState) -> None:
    """A lasso on the sky: the catalogue count and the test-split metrics are those of the stars
    inside the polygon (checked with matplotlib's independent point-in-polygon test)."""
    from matplotlib.path import Path

    triangle = np.array([[-2.0, -1.0], [2.0, -1.0], [0.0, 1.2]])
    state.region = Region.lasso("sky_x", "sky_y", triangle[:, 0], triangle[:, 1])
    cat, test = state.data.catalogue, state.data.test
    inside = Path(triangle).contains_points(cat[["sky_x", "sky_y"]].to_numpy())
    assert state.numbers()["n_catalogue"] == int((state.cut().mask(cat) & inside).sum()) > 0
    test_inside = Path(triangle).contains_points(test[["sky_x", "sky_y"]].to_numpy())
    expected = metrics.selection_metrics(state.cut().mask(test) & test_inside, state.data.test_is_rc)
    assert state.numbers()["contamination"] == expected["contamination"]
    assert state.numbers()["n_selected"] == expected["n_selected"]
    assert state.region_text().startswith("lasso of 3 vertices in sky_x, sky_y")
    assert "lasso" in state.command()


def test_a_dask_catalogue_gives_the_same_app_data() -> None:
    import dask.dataframe as dd

    catalogue, scored = _tables()
    from_pandas = frames_to_app_data(catalogue, scored, source="pandas")
    from_dask = frames_to_app_data(dd.from_pandas(catalogue, npartitions=4), scored, source="dask")
    pd.testing.assert_frame_equal(from_dask.catalogue, from_pandas.catalogue)
    assert from_dask.n_catalogue_total == from_pandas.n_catalogue_total == len(catalogue)
    assert np.array_equal(from_dask.catalogue_strata, from_pandas.catalogue_strata)


def test_far_star_counts_match_the_distances(state: ExplorerState) -> None:
    dist = state.data.catalogue["dist"].to_numpy()[state.mask()]
    numbers = state.numbers()
    assert numbers["beyond_10kpc"] == int((dist > 10).sum()) > numbers["beyond_20kpc"] == int((dist > 20).sum()) > 0


#: A term no shipped table has: everything generated from the table must pick it up.
PARALLAX_MIN = CutTerm(
    "parallax_min", "parallax", ("parallax",), ">", "mas", "ϖ", "ϖ min (mas)", SliderRange(0.0, 5.0, 0.1, 0.0), "plx"
)


def test_the_sliders_are_the_table_s_terms_with_a_slider() -> None:
    assert tuple(term.name for term in CUT_TERMS if term.slider is not None) == SLIDER_PARAMS
    for term in CUT_TERMS:
        if term.slider is not None:
            spec = ExplorerState.param[term.name]
            assert (spec.bounds, spec.step, spec.label) == (
                (term.slider.lo, term.slider.hi),
                term.slider.step,
                term.label,
            )
            assert URL_PARAMS[term.name] == term.url_key


def test_a_term_added_to_a_copy_of_the_table_is_a_slider_a_url_key_and_a_flag() -> None:
    terms = (*CUT_TERMS, PARALLAX_MIN)
    assert slider_names(terms)[-1] == "parallax_min" and url_keys(terms)["parallax_min"] == "plx"
    catalogue, scored = _tables()
    catalogue["parallax"] = np.linspace(0.0, 2.0, len(catalogue))
    scored["parallax"] = np.linspace(0.0, 2.0, len(scored))
    state = state_class(terms)(frames_to_app_data(catalogue, scored, source="fixture"))
    spec = state.param["parallax_min"]
    assert (spec.bounds, spec.step, spec.label, spec.default) == ((0.0, 5.0), 0.1, "ϖ min (mas)", 0.0)
    # At 'off' the default cut is unchanged; moved, it cuts, and the command and URL carry it.
    assert state.cut().text() == TIER2.text()
    total = int(state.mask().sum())
    state.parallax_min = 1.0
    assert state.cut().text() == "dp_phot > 225 & dnu_phot < 5.5 & parallax > 1"
    assert 0 < int(state.mask().sum()) < total
    assert "--parallax-min 1 --out" in state.command()
    assert read_url("?plx=1.5", state, {**url_keys(terms)}).values == {"parallax_min": 1.5}
    assert state.url_state()["parallax_min"] == 1.0
    state.apply_preset("tier1")
    assert state.parallax_min == 0.0 and state.cut().text() == TIER1.text()


def test_g_and_distance_sliders_start_off_and_cut_when_moved(state: ExplorerState) -> None:
    assert state.cut() == TIER2
    total = state.numbers()["n_catalogue"]
    state.g_max = 15.0
    assert state.cut() == TIER2.replace(g_max=15.0)
    fainter_cut = state.numbers()["n_catalogue"]
    assert 0 < fainter_cut < total
    assert fainter_cut == int((TIER2.mask(state.data.catalogue) & (state.data.catalogue["phot_g_mean_mag"] < 15)).sum())
    state.dist_min = 10.0
    assert 0 < state.numbers()["n_catalogue"] < fainter_cut
    assert "--g-max 15 --dist-min 10 --out" in state.command()
    assert state.url_state()["g_max"] == 15.0 and URL_PARAMS["dist_min"] == "dist_min"
    state.apply_preset("tier2")
    assert (state.g_max, state.dist_min) == (21.0, 0.0) and state.cut() == TIER2


def test_no_distance_column_disables_the_distance_sliders() -> None:
    catalogue, scored = _tables()
    state = ExplorerState(frames_to_app_data(catalogue.drop(columns=["dist"]), scored, source="no dist"))
    assert state.param.dist_min.constant and state.param.dist_max.constant
    assert not state.param.g_max.constant
