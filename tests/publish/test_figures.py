"""The numbers behind each figure, checked against the core functions; files for a small mock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from redclump.core import metrics
from redclump.core.selection import TIER1, TIER2
from redclump.data import mock

from redclump import cli, pipeline
from redclump.publish import figures


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("fig")
    mock.write_mock(workdir, mock.MockConfig(n_stars=300_000, seed=9, truth_fraction=0.3))
    pipeline.train(workdir, epochs=6)
    pipeline.infer(workdir)
    return workdir


@pytest.fixture(scope="module")
def tables(built: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(built / "catalogue"), pd.read_parquet(built / "truthset_scored.parquet")


def test_prediction_panel_numbers(tables) -> None:  # type: ignore[no-untyped-def]
    _, scored = tables
    _, numbers = figures.figure_predictions(scored)
    test = scored[(scored["split"] == "test") & scored["giant"]]
    ok = test["teff"].notna()
    assert np.isclose(numbers["teff"]["bias"], np.median(test.loc[ok, "teff_phot"] - test.loc[ok, "teff"]))


def test_kiel_rates_match_binned_metrics(tables) -> None:  # type: ignore[no-untyped-def]
    _, scored = tables
    _, numbers = figures.figure_kiel_rates(scored, min_count=3)
    test, is_rc = pipeline.test_split_truth(scored)
    grid = metrics.binned_metrics_2d(
        TIER1.mask(test),
        is_rc,
        test["teff_phot"].to_numpy(),
        test["logg_phot"].to_numpy(),
        np.linspace(4200, 5400, 13),
        np.linspace(1.5, 3.5, 11),
        min_count=3,
    )
    np.testing.assert_array_equal(numbers["tier1"]["contamination"], grid["contamination"])


def test_distance_counts(tables) -> None:  # type: ignore[no-untyped-def]
    catalogue, _ = tables
    _, numbers = figures.figure_distance_cdf(catalogue, TIER2)
    dist = catalogue.loc[TIER2.mask(catalogue), "dist"]
    assert numbers["beyond_10kpc"] == int((dist > 10).sum()) and numbers["n"] == int(dist.notna().sum())


def test_galaxy_counts_cover_the_sample(tables) -> None:  # type: ignore[no-untyped-def]
    catalogue, _ = tables
    _, numbers = figures.figure_galaxy(catalogue, TIER2)
    assert numbers["sky_counts"].sum() == numbers["n"]  # every star lands on the all-sky map


def test_saliency_table_has_every_band(built: Path, tables) -> None:  # type: ignore[no-untyped-def]
    catalogue, _ = tables
    _, numbers = figures.figure_saliency(pipeline.load_models(built), catalogue, max_stars=5000)
    assert len(numbers["table"]) == 13 and np.isfinite(numbers["table"]["mean_abs_dP_dm"]).all()


def test_cn_signature_is_at_the_noise_level(tables) -> None:  # type: ignore[no-untyped-def]
    catalogue, _ = tables
    _, numbers = figures.figure_cn_signature(catalogue)
    diff = numbers["difference"]
    assert 0.01 < abs(diff["y_mean_psf_mag"]) < 0.04 and abs(diff["phot_g_mean_mag"]) < 1e-9


def test_command_writes_every_figure_and_refuses_to_overwrite(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figs"
    assert cli.main(["figures", "--workdir", str(built), "--out", str(out), "--format", "png"]) == 0
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(figures.FIGURES)
    assert cli.main(["figures", "--workdir", str(built), "--out", str(out), "--format", "png"]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert cli.main(["figures", "--workdir", str(built), "--out", str(out), "--format", "png", "--overwrite"]) == 0


def test_binned_median_by_hand() -> None:
    from redclump.publish.figures import binned_median

    x = np.array([0.5, 0.6, 1.5, 1.6, 1.7, 2.5, 9.0])
    values = np.array([1.0, 3.0, 10.0, np.nan, 30.0, 7.0, 100.0])
    got = binned_median(values, x, np.array([0.0, 1.0, 2.0, 3.0]), min_count=2)
    np.testing.assert_array_equal(got, [2.0, 20.0, np.nan])  # NaN ignored; one star is too few


def test_importing_the_figures_changes_no_matplotlib_state() -> None:
    """No backend chosen and no rcParams set on import: a notebook or app that imports the
    module keeps its own matplotlib settings."""
    code = (
        "import matplotlib\n"
        "before = dict(dict.items(matplotlib.rcParams))\n"
        "import redclump.publish.figures\n"
        "after = dict(dict.items(matplotlib.rcParams))\n"
        "print(sorted(k for k in before if before[k] != after[k]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_figures_are_drawn_in_their_style_and_leave_it(tables) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    catalogue, _ = tables
    size = matplotlib.rcParams["font.size"]
    fig, _ = figures.figure_distance_cdf(catalogue, TIER2)
    assert fig.axes[0].xaxis.label.get_fontsize() == figures.STYLE["axes.labelsize"]
    assert matplotlib.rcParams["font.size"] == size != figures.STYLE["font.size"]


def test_the_app_zip_holds_the_figures_write_figures_draws(built: Path, tmp_path: Path) -> None:
    """One figure writer: the app's zip has, byte for byte, the PNGs `write_figures` makes from
    the app's tables for the same cut (the uncertainties figure over every candidate, as
    `redclump figures` draws it over the catalogue, not over the selected stars only)."""
    import io
    import zipfile

    from redclump.dashboard.app_data import load_app_data
    from redclump.dashboard.downloads import figures_zip
    from redclump.dashboard.state import ExplorerState

    data = load_app_data.__wrapped__(str(built))
    state = ExplorerState(data)
    state.apply_preset("tier2")
    with zipfile.ZipFile(io.BytesIO(figures_zip(state, None, ""))) as archive:  # type: ignore[arg-type]
        zipped = {name: archive.read(name) for name in archive.namelist()}
    made = figures.write_figures(data.catalogue, data.scored, None, state.cut(), tmp_path, fmt="png")
    assert sorted(zipped) == sorted([*(f"{name}.png" for name in made), "cut.txt"])
    assert "uncertainties" in made
    for name in made:
        assert zipped[f"{name}.png"] == (tmp_path / f"{name}.png").read_bytes(), name
