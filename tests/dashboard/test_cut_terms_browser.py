"""The G and RC-distance sliders in the real app (headless Chromium): moving them changes the
selected-star count a person sees, and the link carries them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect
from redclump.core.selection import Cut
from redclump.dashboard.app_data import DP_FLOOR
from redclump.data import mock

from redclump import pipeline

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, serve_app):  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp("cut_terms")
    mock.write_mock(workdir, mock.MockConfig(n_stars=100_000, seed=6, truth_fraction=0.3))
    pipeline.train(workdir, epochs=1)
    pipeline.infer(workdir)
    with serve_app(workdir, workdir / "serve.log") as (url, _proc):
        yield url, workdir


#: The app's loosest ΔP and Δν, so that a quickly trained model still leaves stars to cut.
LOOSE = Cut(dp_min=DP_FLOOR, dnu_max=20.0)


def _candidates(workdir: Path) -> pd.DataFrame:
    cat = pd.read_parquet(workdir / "catalogue", columns=["dp_phot", "dnu_phot", "phot_g_mean_mag", "dist"])
    return cat[cat["dp_phot"] > DP_FLOOR]


def _shown_count(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("#n-selected").first.inner_text(timeout=30_000).replace(",", ""))


def _until(condition, timeout: float = 30) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


def _move_slider(page, name: str, target: float) -> None:  # type: ignore[no-untyped-def]
    """Step the slider of cut parameter ``name`` with the keyboard until its handle shows ``target``."""
    handle = page.locator(f".slider-{name} .noUi-handle").first
    handle.focus()
    key = "ArrowRight" if float(handle.get_attribute("aria-valuenow") or 0) < target else "ArrowLeft"
    # Presses made while the page is busy can be dropped: step until the handle reads the target.
    for _ in range(120):
        if abs(float(handle.get_attribute("aria-valuenow") or 0) - target) < 1e-6:
            break
        page.keyboard.press(key)
        page.wait_for_timeout(60)
    assert float(handle.get_attribute("aria-valuenow") or 0) == pytest.approx(target)


def test_g_max_and_distance_min_sliders_change_the_visible_count_and_the_link(server, browser, seen) -> None:  # type: ignore[no-untyped-def]
    url, workdir = server
    candidates = _candidates(workdir)
    loose = candidates[LOOSE.mask(candidates)]
    # Slider positions that split the loosely cut stars, whatever the quickly trained model gave.
    g_max = round(float(loose["phot_g_mean_mag"].median()), 1)
    dist_min = round(2 * float(loose.loc[loose["phot_g_mean_mag"] < g_max, "dist"].median())) / 2
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}?dp_min={LOOSE.dp_min:g}&dnu_max={LOOSE.dnu_max:g}", timeout=60_000)
    count = page.locator("#n-selected").first
    expect(count).to_be_in_viewport(timeout=60_000)
    assert _until(lambda: _shown_count(page) == len(loose)), f"shows {_shown_count(page)}, expected {len(loose)}"

    _move_slider(page, "g_max", g_max)
    brighter = int(LOOSE.replace(g_max=g_max).mask(candidates).sum())
    assert 0 < brighter < len(loose)
    assert _until(lambda: _shown_count(page) == brighter), f"shows {_shown_count(page)}, expected {brighter}"

    _move_slider(page, "dist_min", dist_min)
    farther = int(LOOSE.replace(g_max=g_max, dist_min=dist_min).mask(candidates).sum())
    assert 0 < farther < brighter
    assert _until(lambda: _shown_count(page) == farther), f"shows {_shown_count(page)}, expected {farther}"
    expect(count).to_be_in_viewport()
    assert f"phot_g_mean_mag < {g_max:g} & dist > {dist_min:g}" in page.locator("#cut-text").first.inner_text()

    def link() -> str:
        return str(page.evaluate("window.location.href"))

    assert _until(lambda: "g_max=" in link() and "dist_min=" in link(), timeout=10), link()
    for key, value in (("g_max", g_max), ("dist_min", dist_min)):
        found = re.search(rf"[?&]{key}=([0-9.]+)", link())
        assert found and float(found.group(1)) == pytest.approx(value), link()
    # The numbers describe the selected catalogue stars too, and say how much of them lies beyond
    # the truth set's reach.
    for ident in ("#contamination-cat", "#completeness-cat", "#coverage"):
        seen.assert_visible(page, page.locator(ident).first)
    assert re.search(r"\d+\.\d% \[", page.locator("#completeness-cat").first.inner_text())
    coverage = page.locator("#coverage").first.inner_text()
    assert re.search(r"^\d+% of the selected stars lie beyond the truth set's range", coverage), coverage
    page.close()
