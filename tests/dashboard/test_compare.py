"""Pin and compare without a browser: the pin text, cut A's numbers, the difference masks."""

from __future__ import annotations

import numpy as np
import pytest
from redclump.dashboard.app_data import frames_to_app_data
from redclump.dashboard.compare import Comparison, PinError, decode_pin, encode_pin
from redclump.dashboard.numbers import HELP, numbers_html
from redclump.dashboard.region import Region
from redclump.dashboard.state import SLIDER_PARAMS, ExplorerState
from redclump.data.synthetic import synthetic_frames


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return frames_to_app_data(*synthetic_frames(20_000, 4000, seed=5), source="compare")


def test_pin_text_round_trips_and_bad_text_is_named() -> None:
    values = {"dp_min": 265.0, "dnu_max": 5.25, "teff_min": 4700.0}
    assert decode_pin(encode_pin(values)) == values
    with pytest.raises(PinError, match="'dp_max' is not one of"):
        decode_pin("dp_max:3")
    with pytest.raises(PinError, match="'abc' for dp_min is not a number"):
        decode_pin("dp_min:abc")


def test_pinned_cut_stays_while_the_sliders_move(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    comparison = Comparison(state)
    assert comparison.numbers_a() is None
    state.dp_min = 240.0
    comparison.pin()
    a_before = comparison.numbers_a()
    state.apply_preset("tier1")
    reference = ExplorerState(data, dp_min=240.0)
    assert comparison.numbers_a() == a_before
    assert comparison.numbers_a()["n_catalogue"] == reference.numbers()["n_catalogue"]
    assert comparison.numbers_a()["contamination"] == reference.numbers()["contamination"]
    assert state.numbers()["n_catalogue"] != a_before["n_catalogue"]
    a_only, b_only = comparison.difference_masks()
    np.testing.assert_array_equal(a_only, reference.mask() & ~state.mask())
    np.testing.assert_array_equal(b_only, state.mask() & ~reference.mask())
    comparison.unpin()
    assert comparison.numbers_a() is None and not comparison.difference


def test_a_pin_from_the_url_sets_cut_a_and_follows_the_drawn_region(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    comparison = Comparison(state, pinned="dp_min:265,dnu_max:5.25,teff_min:4700")
    assert comparison.a.cut().text() == "dp_phot > 265 & dnu_phot < 5.25 & teff_phot > 4700"
    # Every slider of A not in the pin keeps its default.
    others = [name for name in SLIDER_PARAMS if name not in ("dp_min", "dnu_max", "teff_min")]
    assert [getattr(comparison.a, name) for name in others] == [getattr(state, name) for name in others]
    whole = comparison.numbers_a()["n_catalogue"]
    state.region = Region.box("l", "b", 0.0, 90.0, -90.0, 90.0)
    assert 0 < comparison.numbers_a()["n_catalogue"] < whole


def test_numbers_table_shows_a_b_and_the_difference_with_a_definition_per_row(data) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    comparison = Comparison(state)
    comparison.pin()
    state.dp_min = 300.0
    text = numbers_html(state.numbers(), comparison.numbers_a())
    a, b = comparison.numbers_a()["n_catalogue"], state.numbers()["n_catalogue"]
    assert f"<td id='a-n-selected' class='a'>{a:,}</td>" in text
    assert f"<td id='n-selected' class='b'>{b:,}</td>" in text
    assert f"<td id='diff-n-selected'>{b - a:+,}</td>" in text
    for key in ("selected", "contamination", "reweighted", "completeness", "wilson", "cut", "region"):
        assert f"data-help='{key}'" in text, key
    single = numbers_html(state.numbers())
    assert "a-n-selected" not in single and f"<td id='n-selected'>{b:,}</td>" in single
    assert all(len(definition.splitlines()) == 1 for definition in HELP.values())


def test_difference_layer_paints_a_only_and_b_only_stars(data) -> None:  # type: ignore[no-untyped-def]
    import holoviews as hv
    from redclump.dashboard.compare import DIFFERENCE_COLOURS, difference_overlay

    hv.extension("bokeh", logo=False)
    state = ExplorerState(data, dp_min=240.0)
    comparison = Comparison(state)
    layer = difference_overlay(comparison, "l", "b", (0.0, -90.0, 360.0, 90.0))
    assert not np.asarray(layer[()].data)[..., 3].any()  # nothing pinned: transparent
    comparison.pin()
    state.dp_min, state.dnu_max = 280.0, 8.0  # B drops some of A's stars and adds others
    comparison.difference = True
    image = np.asarray(layer[()].data)
    painted = image[image[..., 3] > 0][:, :3]

    def share(colour: str) -> float:
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        return float(np.mean(np.abs(painted.astype(int) - rgb).sum(axis=1) < 60))

    a_only, b_only = comparison.difference_masks()
    assert a_only.any() and b_only.any()
    assert share(DIFFERENCE_COLOURS["A only"]) > 0.1 and share(DIFFERENCE_COLOURS["B only"]) > 0.1
    comparison.difference = False
    assert not np.asarray(layer[()].data)[..., 3].any()
