"""Shared fixtures: one small seeded mock per test session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from redclump.data import mock

#: Debian's chromium (apt), driven by Playwright; never a downloaded browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SMALL_STARS = 300_000
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_mock_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("mock")
    mock.write_mock(workdir, mock.MockConfig(n_stars=SMALL_STARS, seed=SMALL_SEED, truth_fraction=0.3))
    return workdir


@pytest.fixture(scope="session")
def small_input(small_mock_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(small_mock_dir / "input")


@pytest.fixture(scope="session")
def small_truthset(small_mock_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(small_mock_dir / "truthset.parquet")


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Headless Chromium, skipped where Debian's chromium is not installed (.ci/run installs it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
