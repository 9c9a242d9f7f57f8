"""The real app in headless Chromium (Debian's /usr/bin/chromium driven by Playwright)."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import expect
from redclump.core.selection import TIER1, Cut
from redclump.dashboard.app_data import DP_FLOOR
from redclump.data import mock

from redclump import pipeline

# The session's `browser` fixture (tests/conftest.py) skips these where Debian's chromium is absent.
pytestmark = [pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
#: BokehJS snippets the browser tests and the page benchmark run in the page.
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, serve_app) -> tuple[str, Path]:  # type: ignore[no-untyped-def]
    workdir = tmp_path_factory.mktemp("served")
    mock.write_mock(workdir, mock.MockConfig(n_stars=400_000, seed=5, truth_fraction=0.3))
    pipeline.train(workdir, epochs=10)
    pipeline.infer(workdir)
    with serve_app(workdir, workdir / "serve.log") as (url, _proc):
        yield url, workdir


def _expected_count(workdir: Path, cut: Cut) -> int:
    cat = pd.read_parquet(workdir / "catalogue", columns=["dp_phot", "dnu_phot", "teff_phot", "b"])
    cat = cat[cat["dp_phot"] > DP_FLOOR]
    return int(cut.mask(cat).sum())


def _wait_for_count(page, expected: int) -> None:  # type: ignore[no-untyped-def]
    if not _until(lambda: _shown_count(page) == expected):
        cut = page.locator("#cut-text").first.inner_text()
        raise AssertionError(f"expected {expected} selected stars, page shows {_shown_count(page)} for '{cut}'")
    # The count a person reads: on screen, not only in the DOM.
    expect(page.locator("#n-selected").first).to_be_in_viewport()


def _shown_count(page) -> int:  # type: ignore[no-untyped-def]
    text = page.locator("#n-selected").first.inner_text(timeout=30_000)
    return int(text.replace(",", ""))


def _until(condition, timeout: float = 30) -> bool:  # type: ignore[no-untyped-def]
    """Poll ``condition`` (Panel renders inside shadow roots: read through locators) until true."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


def _draw_on_sky(page, tool: str, path: list[tuple[float, float]]) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Pick a Bokeh selection tool and drag along ``path`` (fractions of the sky canvas).
    Returns the count before and the region text after."""
    total = _shown_count(page)
    page.locator(f"[title='{tool}']").first.click()
    box = page.locator("canvas").first.bounding_box()
    assert box is not None
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in path]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=8)
    page.mouse.up()
    region = page.locator("#region-text").first
    _until(lambda: region.inner_text() != "none")
    assert _until(lambda: _shown_count(page) != total), "the count did not change"
    return total, region.inner_text()


def _open(browser, url: str, **page_options):  # type: ignore[no-untyped-def]
    """A new page on ``url``, once the numbers are shown; console errors collect in ``page.errors``,
    warnings in ``page.warnings``."""
    page = browser.new_page(**page_options)
    page.errors, page.warnings = [], []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("console", lambda msg: page.warnings.append(msg.text) if msg.type == "warning" else None)
    page.goto(url, timeout=60_000)
    page.wait_for_selector("#n-selected", timeout=60_000)
    return page


def test_page_loads_without_console_errors_and_shows_the_core_count(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, workdir = server
    page = _open(browser, url)
    assert _shown_count(page) == _expected_count(workdir, Cut(dp_min=225, dnu_max=5.5))
    # README's docs/img/app.png is taken the same way by the serve benchmark on the default mock;
    # the tests never overwrite a tracked file.
    page.screenshot(path=str(tmp_path / "app.png"))
    assert (tmp_path / "app.png").stat().st_size > 10_000
    assert not page.errors, page.errors
    page.close()


def test_url_state_and_preset_button(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, workdir = server
    page = _open(browser, f"{url}?dp_min=260")
    expected = _expected_count(workdir, Cut(dp_min=260, dnu_max=5.5))
    _wait_for_count(page, expected)
    page.locator(".preset-tier1 button").click()
    expected_tier1 = _expected_count(workdir, TIER1)
    _wait_for_count(page, expected_tier1)
    assert "teff_phot > 4700" in page.locator("#cut-text").inner_text()
    _until(lambda: "dp_min=265" in page.evaluate("window.location.href"), timeout=10)
    assert re.search(r"dp_min=265", page.evaluate("window.location.href"))
    page.close()


def test_slider_moves_the_numbers(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, workdir = server
    page = _open(browser, url)
    handle = page.locator(".noUi-handle").first
    handle.focus()
    # One key press per step until the handle shows 235 s: presses made while the page is still
    # busy can be dropped, and the count is only checked for the value the handle reached.
    for _ in range(40):
        if float(handle.get_attribute("aria-valuenow") or 0) >= 235:
            break
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(100)
    assert float(handle.get_attribute("aria-valuenow") or 0) == 235
    expected = _expected_count(workdir, Cut(dp_min=235, dnu_max=5.5))
    _wait_for_count(page, expected)
    page.close()


def test_export_downloads_the_selected_rows_with_metadata(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, workdir = server
    page = _open(browser, f"{url}?dp_min=250")
    expected = _expected_count(workdir, Cut(dp_min=250, dnu_max=5.5))
    _wait_for_count(page, expected)
    with page.expect_download(timeout=60_000) as info:
        page.locator(".download-sample a, .download-sample button").first.click()
    path = tmp_path / "sample.parquet"
    info.value.save_as(path)
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"redclump"])
    assert table.num_rows == expected == meta["n_rows"]
    assert meta["cut"] == "dp_phot > 250 & dnu_phot < 5.5"
    page.close()


def test_two_sessions_have_independent_state(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, workdir = server
    first, second = browser.new_page(), browser.new_page()
    first.goto(f"{url}?dp_min=300", timeout=60_000)
    second.goto(url, timeout=60_000)
    for page in (first, second):
        page.wait_for_selector("#n-selected", timeout=60_000)
    assert _shown_count(second) == _expected_count(workdir, Cut(dp_min=225, dnu_max=5.5))
    _wait_for_count(first, _expected_count(workdir, Cut(dp_min=300, dnu_max=5.5)))
    assert _shown_count(second) == _expected_count(workdir, Cut(dp_min=225, dnu_max=5.5))


def test_soak_thirty_sessions_memory_returns(server, browser) -> None:  # type: ignore[no-untyped-def]
    import gc

    import psutil

    url, _ = server
    port = int(url.split(":")[2].split("/")[0])
    pid = next(
        c.pid for c in psutil.net_connections(kind="tcp") if c.laddr and c.laddr.port == port and c.status == "LISTEN"
    )
    server_process = psutil.Process(pid)

    def open_and_close() -> None:
        page = _open(browser, url)
        page.close()

    open_and_close()  # warm caches
    time.sleep(2)
    start = server_process.memory_info().rss
    for _ in range(30):
        open_and_close()
    gc.collect()
    deadline = time.time() + 60  # Panel/Bokeh free a closed session's document after a short delay
    while time.time() < deadline and server_process.memory_info().rss - start > 100 * 1024**2:
        time.sleep(2)
    assert server_process.memory_info().rss - start < 100 * 1024**2


def test_drawing_a_box_on_the_sky_restricts_the_count(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    page = _open(browser, url, viewport={"width": 1400, "height": 900})
    total, region = _draw_on_sky(page, "Box Select", [(0.35, 0.25), (0.5, 0.5), (0.65, 0.75)])
    assert "sky_x" in region and not region.startswith("lasso"), region
    assert 0 < _shown_count(page) < total
    page.locator(".clear-region button").click()
    _wait_for_count(page, total)
    page.close()


def test_lasso_on_the_sky_selects_exactly_the_polygon(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Draw a lasso on the sky: the count drops, and the exported sample is exactly the cut's
    candidates inside the polygon recorded in its metadata (matplotlib's point-in-polygon)."""
    from matplotlib.path import Path as PolygonPath
    from redclump.core.projection import hammer_aitoff

    url, workdir = server
    page = _open(browser, url, viewport={"width": 1400, "height": 900})
    # A triangle over the middle of the map, drawn in small steps as a hand would.
    total, region = _draw_on_sky(page, "Lasso Select", [(0.25, 0.3), (0.75, 0.3), (0.5, 0.8), (0.25, 0.3)])
    assert region.startswith("lasso of"), region
    shown = _shown_count(page)
    assert 0 < shown < total
    with page.expect_download(timeout=60_000) as info:
        page.locator(".download-sample a, .download-sample button").first.click()
    path = tmp_path / "lasso.parquet"
    info.value.save_as(path)
    table = pq.read_table(path)
    region = json.loads(json.loads(table.schema.metadata[b"redclump"])["region_json"])
    assert region["kind"] == "lasso" and region["x"] == "sky_x"
    cat = pd.read_parquet(workdir / "catalogue", columns=["source_id", "l", "b", "dp_phot", "dnu_phot"])
    cat = cat[cat["dp_phot"] > DP_FLOOR]
    x, y = hammer_aitoff(cat["l"].to_numpy(), cat["b"].to_numpy())
    inside = PolygonPath(region["vertices"]).contains_points(pd.DataFrame({"x": x, "y": y}).to_numpy(dtype="float64"))
    expected = set(cat["source_id"][Cut(dp_min=225, dnu_max=5.5).mask(cat) & inside])
    assert set(table.column("source_id").to_pylist()) == expected
    assert len(expected) == shown
    page.close()


def test_hover_and_colour_controls_do_not_break_the_page(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    page = _open(browser, url)
    total = _shown_count(page)
    page.get_by_text("Hover: pixel values").click()
    page.get_by_text("Overlay truth-set test stars (seismic view)").click()
    time.sleep(2)
    assert _shown_count(page) == total
    assert not page.errors, page.errors
    page.close()


def test_figure_set_downloads_for_the_current_cut(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    url, _ = server
    page = _open(browser, f"{url}?dp_min=250", viewport={"width": 1400, "height": 900})
    with page.expect_download(timeout=120_000) as info:
        page.locator(".download-figures a, .download-figures button").first.click()
    path = tmp_path / "figures.zip"
    info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"predictions.png", "galaxy.png", "distance_cdf.png", "cut.txt"} <= names
        assert archive.read("cut.txt").decode().strip() == "dp_phot > 250 & dnu_phot < 5.5"
    page.close()


#: BokehJS, run in the page: the widest visible plot's frame (the active view) as
#: [left, top, width, height] in page pixels, and, given data coordinates, their page position.
_ACTIVE_FRAME_JS = (FIXTURES / "active_frame.js").read_text()


def _isolated_selected_star(workdir: Path, cut: Cut, rank: int = 0) -> pd.Series:
    """The selected star farthest (on the sky map) from any other selected star, among the 100
    highest-latitude ones (the ``rank``-th farthest): a click on it cannot land nearer another
    star."""
    import numpy as np
    from redclump.core.projection import hammer_aitoff

    cat = pd.read_parquet(workdir / "catalogue")
    cat = cat[cat["dp_phot"] > DP_FLOOR]
    selected = cat[cut.mask(cat)].reset_index(drop=True)
    x, y = hammer_aitoff(selected["l"].to_numpy(), selected["b"].to_numpy())
    top = np.argsort(-np.abs(selected["b"].to_numpy()))[:100]
    gaps = [np.sort(np.hypot(x - x[i], y - y[i]))[1] for i in top]
    chosen = top[int(np.argsort(gaps)[::-1][rank])]
    star = selected.iloc[chosen].copy()
    star["sky_x"], star["sky_y"] = x[chosen], y[chosen]
    return star


def _click_star(page, star: pd.Series) -> None:  # type: ignore[no-untyped-def]
    at = page.evaluate(_ACTIVE_FRAME_JS, [float(star["sky_x"]), float(star["sky_y"])])["at"]
    page.mouse.click(*at)


def test_clicking_a_star_on_the_sky_shows_its_card(server, browser, seen, screenshot) -> None:  # type: ignore[no-untyped-def]
    """The card appears on screen beside the view with the star's facts and its SED and ΔP/Δν
    mixture plots drawn; a click on another star replaces it; Esc closes it."""
    url, workdir = server
    star = _isolated_selected_star(workdir, Cut(dp_min=225, dnu_max=5.5))
    page = _open(browser, url, viewport={"width": 1600, "height": 1000})
    time.sleep(2)  # the sky's x range settles to the frame's shape
    _click_star(page, star)
    card = page.locator(".star-card").first
    assert _until(card.is_visible, timeout=15), "the card did not appear after a click on a star"
    assert _until(lambda: page.locator("#card-source-id").first.inner_text() == str(int(star["source_id"])))
    time.sleep(0.5)  # the plots' first paint
    seen.assert_visible(page, card)
    assert page.locator("#card-g").first.inner_text() == f"{star['phot_g_mean_mag']:.3f}"
    assert page.locator("#card-teff").first.inner_text() == f"{star['teff_phot']:.0f}"
    assert page.locator("#card-true-state").first.inner_text() == str(star["true_state"])
    assert "selected" in page.locator("#card-verdict").first.inner_text()
    seen.assert_drawn(page, page.locator(".card-sed").first, colour="#000000")  # the bands' points
    for prefix in ("dp", "dnu"):  # the mixture's curve
        seen.assert_drawn(page, page.locator(f".card-{prefix}").first, colour="#0072B2")
    screenshot(page, "card")  # the README's

    # Another star replaces it (the first star is kept aside: the sky's other isolated stars).
    other = _isolated_selected_star(workdir, Cut(dp_min=225, dnu_max=5.5), rank=1)
    page.keyboard.press("Escape")
    assert _until(lambda: not card.is_visible(), timeout=5), "Esc did not close the card"
    _click_star(page, other)
    assert _until(
        lambda: card.is_visible() and page.locator("#card-source-id").first.inner_text() == str(int(other["source_id"]))
    ), "a click on another star did not show its card"
    page.locator(".card-close button").first.click()
    assert _until(lambda: not card.is_visible(), timeout=5), "the close button did not close the card"
    assert not page.errors, page.errors
    assert not page.warnings, page.warnings
    page.close()


def test_pin_and_compare_and_the_two_cut_link(server, browser) -> None:  # type: ignore[no-untyped-def]
    url, workdir = server
    page = _open(browser, url)
    default = _expected_count(workdir, Cut(dp_min=225, dnu_max=5.5))
    page.locator(".pin-cut button").click()
    page.wait_for_selector("#a-n-selected", timeout=30_000)
    page.locator(".preset-tier1 button").click()
    tier1 = _expected_count(workdir, TIER1)
    _wait_for_count(page, tier1)
    for ident in ("#a-n-selected", "#diff-n-selected"):
        expect(page.locator(ident).first).to_be_in_viewport()
    for ident in ("#cut-text", "#a-cut-text"):  # below the counts: on screen once scrolled to
        page.locator(ident).first.scroll_into_view_if_needed()
        expect(page.locator(ident).first).to_be_in_viewport()
    assert page.locator("#a-n-selected").first.inner_text() == f"{default:,}"
    assert page.locator("#diff-n-selected").first.inner_text() == f"{tier1 - default:+,}"
    assert "teff_phot > 4700" in page.locator("#cut-text").first.inner_text()
    assert "teff_phot" not in page.locator("#a-cut-text").first.inner_text()
    page.locator(".difference-mode input").click()
    _until(
        lambda: (
            "pin=" in page.evaluate("window.location.href") and "dp_min=265" in page.evaluate("window.location.href")
        )
    )
    link = page.evaluate("window.location.href")
    time.sleep(1)
    assert not page.errors, page.errors
    page.close()
    # The link reproduces the comparison in a new session.
    again = _open(browser, link)
    _wait_for_count(again, tier1)
    assert _until(lambda: again.locator("#a-n-selected").count() > 0)
    assert again.locator("#a-n-selected").first.inner_text() == f"{default:,}"
    again.locator(".unpin-cut button").click()
    assert _until(lambda: again.locator("#a-n-selected").count() == 0)
    assert _shown_count(again) == tier1
    again.close()


@pytest.mark.parametrize("size", [(1280, 800), (1600, 1000), (2560, 1440)])
def test_layout_gives_the_view_the_page(server, browser, screenshot, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """No horizontal scrollbar, the active view's plot frame wider than 60 % of the window, and at
    1600×1000 the numbers and the trade-off plot on screen without scrolling."""
    url, _ = server
    width, height = size
    page = _open(browser, url, viewport={"width": width, "height": height})
    time.sleep(1)
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client == width
    active = page.evaluate(_ACTIVE_FRAME_JS, None)
    left, _top, frame_width, frame_height = active["frame"]
    assert frame_width > 0.6 * width, (frame_width, width)
    assert left + frame_width <= width
    # The sky keeps equal scales: a unit of x and one of y span the same number of pixels.
    x_span, y_span = active["spans"]
    assert abs(x_span) / frame_width == pytest.approx(abs(y_span) / frame_height, rel=0.02)
    if size == (1600, 1000):
        for selector in ("#completeness", ".bottom-row canvas"):
            box = page.locator(selector).first.bounding_box()
            assert box is not None and box["y"] + box["height"] <= height, (selector, box)
    screenshot(page, f"page-{width}x{height}")
    page.close()


@pytest.mark.parametrize("size", [(1280, 800), (1600, 1000), (2560, 1440)])
def test_compare_numbers_are_not_clipped(server, browser, seen, screenshot, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """With A pinned and B = Tier 1, every numbers cell shows all its text (scroll width ≤ client
    width) and the table does not run under the trade-off plot beside it."""
    url, _ = server
    width, height = size
    page = _open(
        browser,
        f"{url}?pin=dp_min:225,dnu_max:5.5&dp_min=265&teff_min=4700",
        viewport={"width": width, "height": height},
    )
    page.wait_for_selector("#diff-n-selected", timeout=30_000)
    time.sleep(1)
    cells = page.locator("table.numbers td").all()
    assert len(cells) >= 20
    clipped = [(c.inner_text(), c.evaluate("e => [e.scrollWidth, e.clientWidth]")) for c in cells]
    assert not [c for c in clipped if c[1][0] > c[1][1]], clipped
    table = page.locator("table.numbers").first.bounding_box()
    tradeoff = page.locator(".bottom-row .bk-Figure").first.bounding_box()
    beside = tradeoff["y"] < table["y"] + table["height"]  # (wrapped under it on a narrow window)
    assert not beside or table["x"] + table["width"] <= tradeoff["x"], (table, tradeoff)
    page.locator("#diff-n-selected").first.scroll_into_view_if_needed()
    seen.assert_visible(page, page.locator("#diff-n-selected").first)
    if size == (1600, 1000):
        screenshot(page, "compare")  # the README's
    page.close()


def _open_listening(browser, url: str, **page_options):  # type: ignore[no-untyped-def]
    """:func:`_open`, with every console warning and error also kept in order in ``page.console``
    (as "type: text"), and uncaught page exceptions with them."""
    page = browser.new_page(**page_options)
    page.console = []

    def hear(msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type in ("warning", "error"):
            page.console.append(f"{msg.type}: {msg.text}")

    page.on("console", hear)
    page.on("pageerror", lambda exc: page.console.append(f"exception: {exc}"))
    page.goto(url, timeout=60_000)
    page.wait_for_selector("#n-selected", timeout=60_000)
    return page


def _quiet(page, step: str, heard: dict[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    """Let ``step``'s updates arrive and be drawn, then file what the console got meanwhile."""
    page.wait_for_function("() => Bokeh.documents.every((doc) => doc.is_idle)", timeout=30_000)
    time.sleep(1)  # Bokeh logs range warnings on the first paint after an update
    already = sum(len(v) for v in heard.values())
    heard[step] = page.console[already:]


def test_the_console_hears_the_collector(server, browser) -> None:  # type: ignore[no-untyped-def]
    """The collector the tour relies on hears a warning, an error and an uncaught exception
    (without this the tour below could pass by listening to nothing)."""
    url, _ = server
    page = _open_listening(browser, url)
    heard: dict[str, list[str]] = {}
    _quiet(page, "load", heard)
    page.evaluate("console.warn('[bokeh] could not set initial ranges')")
    page.evaluate("console.error('injected')")
    page.evaluate("setTimeout(() => { throw new Error('thrown') }, 0)")
    _quiet(page, "injected", heard)
    assert heard["injected"] == [
        "warning: [bokeh] could not set initial ranges",
        "error: injected",
        "exception: thrown",
    ], heard
    page.close()


def test_a_tour_of_the_page_logs_no_console_warnings_or_errors(server, browser, seen, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Load, a slider step, a preset, a tab change and back, a click on a star (its card drawn),
    pin, and an export: the browser's console gets no warning and no error at any step."""
    url, workdir = server
    star = _isolated_selected_star(workdir, TIER1)
    page = _open_listening(browser, url, viewport={"width": 1600, "height": 1000})
    heard: dict[str, list[str]] = {}
    _quiet(page, "load", heard)

    handle = page.locator(".noUi-handle").first
    before = _shown_count(page)
    handle.focus()
    page.keyboard.press("ArrowRight")
    assert _until(lambda: _shown_count(page) != before), "the slider step did not change the count"
    _quiet(page, "slider step", heard)

    page.locator(".preset-tier1 button").click()
    _wait_for_count(page, _expected_count(workdir, TIER1))
    _quiet(page, "preset Tier 1", heard)

    for tab in ("Kiel", "Sky"):
        page.locator(".bk-tab", has_text=tab).first.click()
        _quiet(page, f"tab {tab}", heard)

    time.sleep(1)  # the sky's x range settles to the frame's shape
    _click_star(page, star)
    card = page.locator(".star-card").first
    assert _until(card.is_visible, timeout=15), "the card did not appear after a click on a star"
    _quiet(page, "click on a star", heard)
    for prefix in ("dp", "dnu"):
        seen.assert_drawn(page, page.locator(f".card-{prefix}").first, colour="#0072B2")
    page.keyboard.press("Escape")
    _quiet(page, "Esc on the card", heard)

    page.locator(".pin-cut button").click()
    page.wait_for_selector("#a-n-selected", timeout=30_000)
    _quiet(page, "pin", heard)

    with page.expect_download(timeout=60_000) as info:
        page.locator(".download-sample a, .download-sample button").first.click()
    info.value.save_as(tmp_path / "sample.parquet")
    _quiet(page, "export", heard)

    spoken = {step: messages for step, messages in heard.items() if messages}
    assert not spoken, f"console warnings or errors, by step: {spoken}"
    page.close()


#: In the page: whether the card shows star ``id``, on screen, with its SED and both mixture
#: plots laid out, holding data and finished drawing (BokehJS views, found by CSS class).
_CARD_DRAWN_JS = (FIXTURES / "card_drawn.js").read_text()


def _click_to_card(page, star: pd.Series) -> float:  # type: ignore[no-untyped-def]
    """Seconds from a click on ``star`` to its card on screen with its plots drawn (the next
    frame painted)."""
    start = time.perf_counter()
    _click_star(page, star)
    # (the id as text: Gaia ids exceed a JavaScript number's exact integers)
    page.wait_for_function(_CARD_DRAWN_JS, arg=str(int(star["source_id"])), polling="raf", timeout=30_000)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return time.perf_counter() - start


def test_the_card_opens_within_a_moment_of_the_first_click(server, browser) -> None:  # type: ignore[no-untyped-def]
    """Click → the card on screen with its plots drawn, for a page's first click and for later
    ones (each after Esc closed the card)."""
    url, workdir = server
    cut = Cut(dp_min=225, dnu_max=5.5)
    stars = [_isolated_selected_star(workdir, cut, rank=rank) for rank in range(6)]
    page = _open(browser, url, viewport={"width": 1600, "height": 1000})
    page.wait_for_function("() => Bokeh.documents.every((doc) => doc.is_idle)", timeout=30_000)
    time.sleep(2)  # the sky's x range settles to the frame's shape
    times = []
    for star in stars:
        times.append(_click_to_card(page, star))
        page.keyboard.press("Escape")
        assert _until(lambda: not page.locator(".star-card").first.is_visible(), timeout=5)
    first, later = times[0], times[1:]
    print(f"click → card drawn: first {1e3 * first:.0f} ms, later {[round(1e3 * t) for t in later]} ms")
    # Before the card was warmed when the page is built, the first click took 3-5× a later one
    # on this mock (0.6-0.9 s against 0.18 s; ~3 s on the default build). Shared cores make
    # single timings noisy: a ratio, with room.
    assert first <= 2 * statistics.median(later), (first, later)
    assert not page.errors, page.errors
    page.close()


def _slider_steps(page, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from each of ``n`` ArrowRight presses on the ΔP slider to the new count shown."""
    handle = page.locator(".noUi-handle").first
    count = page.locator("#n-selected").first
    times = []
    for _ in range(n):
        before = count.inner_text()
        handle.focus()
        start = time.perf_counter()
        page.keyboard.press("ArrowRight")
        while count.inner_text() == before and time.perf_counter() - start < 10:
            time.sleep(0.005)
        times.append(time.perf_counter() - start)
        time.sleep(0.3)  # steps apart, as a person makes them (not merged into one)
    return times


def test_a_page_s_first_slider_step_is_as_quick_as_later_ones(server, browser) -> None:  # type: ignore[no-untyped-def]
    """Slider step → new count shown: a page's first step within 1.5× the median of its next
    seven (the issue's target in the page benchmark is 1.3×), on the best of three pages: the
    server's cleanup of a closed session can land on any one step of a shared machine. Before the
    page sent its HTML panes' stylesheets at load, the first step took 2× a later one on each."""
    url, _ = server
    ratios = []
    for _ in range(3):
        page = _open(browser, url, viewport={"width": 1600, "height": 1000})
        page.wait_for_function("() => Bokeh.documents.every((doc) => doc.is_idle)", timeout=30_000)
        time.sleep(1)
        first, *later = _slider_steps(page, 8)
        print(f"slider step → count: first {1e3 * first:.0f} ms, later {[round(1e3 * t) for t in later]} ms")
        ratios.append(first / statistics.median(later))
        page.close()
    assert min(ratios) <= 1.5, ratios
