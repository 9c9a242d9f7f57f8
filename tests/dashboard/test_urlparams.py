"""URL parameters: clamped or dropped one by one, and the page says so in one line."""

from __future__ import annotations

import math
import time

import pytest
from playwright.sync_api import expect
from redclump.dashboard.app_data import frames_to_app_data
from redclump.dashboard.state import URL_PARAMS, ExplorerState
from redclump.dashboard.urlparams import notice_html, read_url
from redclump.data.synthetic import synthetic_frames

#: (query, values applied, words of the notice); each row is one bad input of docs/robustness.md.
URL_CASES = [
    ("url-not-a-number", "?dp_min=abc", {}, "dp_min='abc' ignored (not a number)"),
    ("url-overflow", "?dp_min=1e309", {}, "dp_min='1e309' ignored (not a finite number)"),
    ("url-nan", "?dnu_max=NaN", {}, "dnu_max='NaN' ignored (not a finite number)"),
    ("url-minus-inf", "?teff_min=-inf", {}, "teff_min='-inf' ignored (not a finite number)"),
    ("url-below-range", "?dp_min=-5", {"dp_min": 150.0}, "dp_min='-5' below the range: set to 150"),
    ("url-above-range", "?abs_b_min=9999", {"abs_b_min": 90.0}, "abs_b_min='9999' above the range: set to 90"),
    ("url-empty", "?dnu_max=", {}, "dnu_max='' ignored (not a number)"),
    ("url-hex", "?teff_min=0x10", {}, "teff_min='0x10' ignored (not a number)"),
    ("url-script", "?colour_by=<script>alert(1)</script>", {}, "colour_by='<script>alert(1)</script>' ignored"),
    ("url-wrong-case", "?cnorm=LOG", {}, "cnorm='LOG' ignored (not one of the options)"),
    ("url-unknown-choice", "?sky_projection=mollweide", {}, "sky_projection='mollweide' ignored"),
    ("url-repeated", "?dp_min=250&dp_min=260", {"dp_min": 260.0}, "dp_min given more than once: the last kept"),
    ("url-one-bad-one-good", "?dp_min=250&dnu_max=abc", {"dp_min": 250.0}, "dnu_max='abc' ignored"),
    ("url-huge-number", "?p_rc_min=" + "9" * 400, {}, "…' ignored (not a finite number)"),  # quoted back shortened
    ("url-fraction-above-one", "?p_rc_min=1.5", {"p_rc_min": 1.0}, "p_rc_min='1.5' above the range: set to 1"),
]


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return frames_to_app_data(*synthetic_frames(2000, 500, seed=0), source="synthetic")


@pytest.mark.parametrize(("case", "query", "values", "notice"), URL_CASES, ids=[c[0] for c in URL_CASES])
def test_bad_url_values_are_clamped_or_dropped_with_a_notice(
    data, case: str, query: str, values: dict, notice: str
) -> None:  # type: ignore[no-untyped-def]
    state = ExplorerState(data)
    reading = read_url(query, state, URL_PARAMS)
    assert reading.values == values
    assert any(notice in line for line in reading.notices), reading.notices
    state.param.update(**reading.values)  # what is left is always valid for the state
    assert all(math.isfinite(getattr(state, n)) for n in ("dp_min", "dnu_max", "teff_min", "abs_b_min"))
    line = notice_html(reading)
    assert line.count("\n") == 0 and "<script>" not in line


def test_good_url_needs_no_notice(data) -> None:  # type: ignore[no-untyped-def]
    reading = read_url("?dp_min=250&colour_by=mean%20P(RC)&other=1", ExplorerState(data), URL_PARAMS)
    assert reading.values == {"dp_min": 250.0, "colour_by": "mean P(RC)"}
    assert reading.notices == () and notice_html(reading) == ""


def test_unavailable_column_is_not_set_from_the_url() -> None:
    catalogue, scored = synthetic_frames(2000, 500, seed=0)
    data = frames_to_app_data(catalogue.drop(columns=["p_rc"]), scored, source="synthetic")
    reading = read_url("?p_rc_min=0.5", ExplorerState(data), URL_PARAMS)
    assert reading.values == {} and "p_rc_min='0.5' ignored (this catalogue has no column" in reading.notices[0]


# ---- in the page ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, serve_app):  # type: ignore[no-untyped-def]
    from redclump.data import mock

    from redclump import pipeline

    workdir = tmp_path_factory.mktemp("url")
    mock.write_mock(workdir, mock.MockConfig(n_stars=100_000, seed=4, truth_fraction=0.3))
    pipeline.train(workdir, epochs=1)
    pipeline.infer(workdir)
    with serve_app(workdir, workdir / "serve.log") as (url, _proc):
        yield url, workdir


@pytest.mark.browser
@pytest.mark.slow
def test_page_shows_one_line_about_the_adjusted_link(server, browser) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd
    from redclump.core.selection import Cut
    from redclump.dashboard.app_data import DP_FLOOR

    url, workdir = server
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url + "?dp_min=-5&dnu_max=abc&colour_by=<script>window.hacked=1</script>", timeout=60_000)
    page.wait_for_selector("#n-selected", timeout=60_000)
    notice = page.locator(".url-notice").first
    text = notice.inner_text(timeout=30_000)
    assert text.startswith("Link adjusted: dp_min='-5' below the range: set to 150; dnu_max='abc' ignored")
    assert "colour_by='<script>window.hacked=1</script>' ignored" in text  # shown as text, not run
    assert page.evaluate("window.hacked") is None
    cat = pd.read_parquet(workdir / "catalogue", columns=["dp_phot", "dnu_phot"])
    expected = int(Cut(dp_min=DP_FLOOR, dnu_max=5.5).mask(cat[cat["dp_phot"] > DP_FLOOR]).sum())
    deadline = time.time() + 30
    while int(page.locator("#n-selected").first.inner_text().replace(",", "")) != expected and time.time() < deadline:
        time.sleep(0.2)
    assert int(page.locator("#n-selected").first.inner_text().replace(",", "")) == expected
    expect(page.locator("#n-selected").first).to_be_in_viewport()
    assert not errors, errors
    page.close()
