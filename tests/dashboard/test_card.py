"""A star's card without a browser: the nearest-star lookup, the cut's terms, the card's facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redclump.core.mdn import mixture_from_columns, prob_above
from redclump.core.selection import TIER1, Cut
from redclump.dashboard.app_data import TRUE_STATE_COLUMN, AppData, frames_to_app_data
from redclump.dashboard.card import StarCard, card_facts, cut_terms, facts_html, mixture_curve, nearest_star
from redclump.dashboard.state import ExplorerState
from redclump.data.synthetic import synthetic_frames


@pytest.fixture(scope="module")
def data() -> AppData:
    return frames_to_app_data(*synthetic_frames(20_000, 2000, seed=3, card=True), source="card")


def _brute_force(data: AppData, x: str, y: str, click: tuple[float, float], per_pixel, keep, max_px) -> int | None:  # type: ignore[no-untyped-def]
    dx = (data.catalogue[x].to_numpy(np.float64) - click[0]) / per_pixel[0]
    dy = (data.catalogue[y].to_numpy(np.float64) - click[1]) / per_pixel[1]
    d2 = dx**2 + dy**2
    if keep is not None:
        d2[~keep] = np.inf
    best = int(np.argmin(d2))
    return best if d2[best] < max_px**2 else None


@settings(max_examples=60, deadline=None)
@given(
    cx=st.floats(-3.0, 3.0),
    cy=st.floats(-1.6, 1.6),
    scale=st.floats(1e-3, 5e-2),
    aspect=st.floats(0.2, 5.0),
    use_mask=st.booleans(),
)
def test_nearest_star_is_the_brute_force_nearest_in_pixels(data, cx, cy, scale, aspect, use_mask) -> None:  # type: ignore[no-untyped-def]
    keep = (data.catalogue["dp_phot"].to_numpy() > 280) if use_mask else None
    per_pixel = (scale, scale * aspect)
    found = nearest_star(data, "sky_x", "sky_y", (cx, cy), per_pixel=per_pixel, keep=keep, max_px=12.0)
    expected = _brute_force(data, "sky_x", "sky_y", (cx, cy), per_pixel, keep, 12.0)
    if expected is None:
        assert found is None
    else:
        assert found is not None

        # Ties (equal distances) may pick either star: compare distances, not rows.
        def distance(row: int) -> float:
            return float(
                np.hypot(
                    (data.catalogue["sky_x"][row] - cx) / per_pixel[0],
                    (data.catalogue["sky_y"][row] - cy) / per_pixel[1],
                )
            )

        assert distance(found) == pytest.approx(distance(expected), rel=1e-6)
        assert keep is None or keep[found]


def test_a_click_on_a_star_finds_it_and_a_click_in_empty_space_finds_nothing(data) -> None:  # type: ignore[no-untyped-def]
    row = 1234
    click = (float(data.catalogue["teff_phot"][row]), float(data.catalogue["logg_phot"][row]))
    assert nearest_star(data, "teff_phot", "logg_phot", click, per_pixel=(1e-3, 1e-6)) == row
    assert nearest_star(data, "teff_phot", "logg_phot", (9000.0, 9.0), per_pixel=(1.0, 0.01)) is None
    excluded = np.ones(len(data.catalogue), dtype=bool)
    excluded[row] = False
    assert nearest_star(data, "teff_phot", "logg_phot", click, per_pixel=(1e-3, 1e-6), keep=excluded) != row


def test_cut_terms_name_the_term_that_rejects() -> None:
    star = pd.DataFrame({"dp_phot": [270.0], "dnu_phot": [4.0], "teff_phot": [4600.0], "b": [-3.0]})
    terms = cut_terms(TIER1.replace(abs_b_min=10.0), star)
    assert terms == [
        ("dp_phot > 265", True),
        ("dnu_phot < 5.25", True),
        ("teff_phot > 4700", False),
        ("abs(b) > 10", False),
    ]
    assert cut_terms(Cut(), star) == []


def test_card_facts_for_a_star(data) -> None:  # type: ignore[no-untyped-def]
    row = 77
    star = data.catalogue.iloc[[row]].reset_index(drop=True)
    cut = Cut(dp_min=240.0, dnu_max=5.5)
    facts = card_facts(star, cut)
    assert facts["source_id"] == int(data.catalogue["source_id"][row])
    assert facts["passes"] == bool(cut.mask(star)[0]) == all(ok for _, ok in facts["terms"])
    assert facts["inverse_parallax"] == pytest.approx(1.0 / float(star["parallax"][0]))
    expected_state = "RC" if float(star["dp_phot"][0]) > 220 else "RGB"
    assert facts["true_state"] == expected_state
    assert facts["p_above_cut"] == pytest.approx(float(prob_above(*mixture_from_columns(star, "dp"), 240.0)[0, 0]))
    text = facts_html(facts)
    assert f"<span id='card-source-id'>{facts['source_id']}</span>" in text
    assert ("selected" if facts["passes"] else "rejected") in text


def test_true_state_is_stored_as_codes_and_absent_off_the_mock() -> None:
    catalogue, scored = synthetic_frames(500, 100, seed=4, card=True)
    data = frames_to_app_data(catalogue, scored, source="codes")
    assert "true_state" not in data.catalogue and data.catalogue[TRUE_STATE_COLUMN].dtype == np.int8
    plain = frames_to_app_data(*synthetic_frames(500, 100, seed=4), source="plain")
    star = plain.catalogue.iloc[[0]].reset_index(drop=True)
    assert card_facts(star, Cut(dp_min=225.0))["true_state"] is None


def test_star_card_pick_shows_the_clicked_star_with_its_plots(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    shown = []
    card = StarCard(state, on_show=lambda: shown.append(card.row))
    selected = np.flatnonzero(state.mask())
    row = int(selected[5])
    click = (float(data.catalogue["sky_x"][row]), float(data.catalogue["sky_y"][row]))
    found = card.pick(("sky_x", "sky_y"), click, (-2.9, 2.9), (-1.45, 1.45), 4000, 2000, shows_all=False)
    assert found == row and shown == [row]
    assert f"<span id='card-source-id'>{int(data.catalogue['source_id'][row])}</span>" in card.facts.object
    assert len(card.plots.objects) == 2  # the SED, and the ΔP and Δν mixtures
    # A star outside the cut is not on the sky view: a click on it finds another (or none).
    outside = int(np.flatnonzero(~state.mask())[0])
    click = (float(data.catalogue["sky_x"][outside]), float(data.catalogue["sky_y"][outside]))
    assert card.pick(("sky_x", "sky_y"), click, None, None, 4000, 2000, shows_all=False) != outside
    assert card.pick(("sky_x", "sky_y"), click, (-2.9, 2.9), (-1.45, 1.45), 40000, 20000, shows_all=True) == outside


def test_the_cards_mixture_curve_is_the_stored_mixtures_density(data) -> None:  # type: ignore[no-untyped-def]
    import torch
    from redclump.core.mdn import mixture_weights

    star = data.catalogue.iloc[[77]].reset_index(drop=True)
    for prefix in ("dp", "dnu"):
        grid, density = mixture_curve(star, prefix)
        logits, means, sigmas = mixture_from_columns(star, prefix)
        mixture = torch.distributions.MixtureSameFamily(
            torch.distributions.Categorical(probs=mixture_weights(logits)[0, 0]),
            torch.distributions.Normal(means[0, 0], sigmas[0, 0]),
        )
        expected = mixture.log_prob(torch.as_tensor(grid, dtype=torch.float32)).exp().numpy()
        np.testing.assert_allclose(density, expected, rtol=1e-4, atol=1e-9)


def test_doctests() -> None:
    import doctest

    from redclump.dashboard import card

    assert doctest.testmod(card, raise_on_error=False).failed == 0


def test_the_card_opens_on_a_pick_and_closes_on_its_button_or_esc(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    card = StarCard(state)
    assert not card.panel.visible
    rows = np.flatnonzero(state.mask())[:2]
    for row in rows:
        click = (float(data.catalogue["sky_x"][row]), float(data.catalogue["sky_y"][row]))
        assert card.pick(("sky_x", "sky_y"), click, (-2.9, 2.9), (-1.45, 1.45), 4000, 2000, shows_all=False) == row
        assert card.panel.visible and card.row == row  # a second star replaces the first
    # The plots hold the star's data before they are drawn (a figure drawn empty warns).
    assert len(card._figures.sed_source.data["mag"]) > 0
    card.escape.presses += 1
    assert not card.panel.visible
    card.show(int(rows[0]))
    card.close()
    assert not card.panel.visible
