"""docs/make_mock_figure.py, the script behind docs/mock.md's overview figure, on the small mock."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).parents[2] / "docs" / "make_mock_figure.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_mock_figure", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reads_every_clump_star_and_recovers_its_absolute_magnitude(
    script: ModuleType, small_mock_dir: Path, small_input: pd.DataFrame
) -> None:
    clump, sample = script.read_giants(small_mock_dir / "input", scatter_fraction=0.5)
    assert len(clump) == int((small_input["true_state"] == "RC").sum())
    assert set(sample["true_state"]) <= {"RGB", "RC", "2CL"}
    # Observed Ks minus the true distance modulus and the mock's A_Ks gives back the true M_Ks up
    # to 2MASS noise (≥ 0.02 mag per star), so the median residual is near zero.
    rc = small_input[small_input["true_state"] == "RC"]
    residual = script.rc_absolute_ks(rc) - rc["true_m_ks"].to_numpy()
    assert abs(float(np.median(residual))) < 0.01


def test_figure_numbers_are_the_clumps_own(script: ModuleType, small_mock_dir: Path) -> None:
    clump, sample = script.read_giants(small_mock_dir / "input", scatter_fraction=0.2)
    fig, stats = script.mock_overview(clump, sample)
    assert len(fig.axes) == 3
    assert stats["rc_m_ks_all"]["n"] == len(clump)
    assert stats["rc_m_ks_all"]["median"] == pytest.approx(np.median(script.rc_absolute_ks(clump)), abs=5e-4)
    assert sum(stats["scatter_giants"].values()) == len(sample)
    # Chan & Bovy 2020's −1.622 describes 1.1–1.3 M☉ clump stars; the lighter ones are fainter.
    assert abs(stats["rc_m_ks_1.1-1.3_msun"]["median"] - (-1.622)) < 0.05
