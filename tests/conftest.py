"""Shared fixtures: one small seeded mock per test session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from redclump.data import mock

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
