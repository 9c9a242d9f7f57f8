"""The mock catalogue reproduces what it was built from (issue: a realistic mock Milky Way)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from redclump.data import mock, schema, surveys


def test_input_has_the_archive_columns_and_finite_values(small_input: pd.DataFrame) -> None:
    schema.validate_columns(small_input, schema.INPUT_COLUMNS, source="mock", finite=schema.FEATURES)
    assert small_input["source_id"].is_unique


def test_red_clump_absolute_magnitude_recovered_from_true_distance_and_extinction(small_input: pd.DataFrame) -> None:
    # The zero point is set at 1.2 M☉, the median mass of the Kepler clump (Elsworth et al. 2019 in
    # APOKASC-2), where the parallax calibrations apply; the mock's clump is lighter on average.
    rc = small_input[(small_input["true_state"] == "RC") & small_input["true_mass"].between(1.1, 1.3)]
    a_v = rc["true_av"].to_numpy(np.float64)
    dm = 5 * np.log10(rc["true_dist"].to_numpy(np.float64) * 100)
    for band, literature in (("ks_m", -1.622), ("w1mpro", -1.68)):  # Chan & Bovy 2020; Hawkins+2017
        absolute = rc[band] - dm - surveys.EXTINCTION_R[band] * a_v / surveys.R_V
        assert abs(np.median(absolute) - literature) < 0.04, band
        assert 0.06 < np.std(absolute) < 0.2  # intrinsic spread ~0.09 plus noise (§1.2)


def test_extinction_ratio_is_close_to_lucey_a_g_over_a_w1() -> None:
    ratio = surveys.EXTINCTION_R["phot_g_mean_mag"] / surveys.EXTINCTION_R["w1mpro"]
    assert 14.5 < ratio < 16.5  # A_G/A_W1 = 16 (Hawkins+2017, used by Lucey+2020)


def test_delta_p_delta_nu_plane_puts_rc_where_the_paper_does(small_input: pd.DataFrame) -> None:
    giants = small_input[small_input["true_state"].isin(["RC", "RGB", "2CL"])]
    in_rc_region = (giants["true_dp"] > 225) & (giants["true_dnu"] < 5.5)
    rc = giants["true_state"] == "RC"
    assert in_rc_region[rc].mean() > 0.85
    assert in_rc_region[giants["true_state"] == "RGB"].mean() < 0.01


def test_rc_fractions_within_literature_ranges(small_input: pd.DataFrame) -> None:
    giants = small_input[small_input["true_logg"] < 3.5]
    giants = giants[giants["true_state"].isin(["RC", "RGB", "2CL"])]
    frac = (giants["true_state"] == "RC").mean()
    assert 0.15 < frac < 0.40  # physics.md §9: 14 % (LAMOST) to 41 % (Kepler core-He)
    box = giants["true_teff"].between(4500, 5100) & giants["true_logg"].between(2.2, 2.8)
    box_frac = (giants.loc[box, "true_state"] == "RC").mean()
    # physics.md §9 suggests 70–80 %; the locus studies quote 20–50 % RGB (50–80 % RC).
    assert 0.5 < box_frac < 0.85


def test_noise_models_and_survey_limits(small_input: pd.DataFrame) -> None:
    ks_err = small_input["ks_msigcom"].to_numpy()
    ks = small_input["ks_m"].to_numpy()
    near_10_sigma = np.abs(ks - 14.3) < 0.05
    # 2MASS: σ at the 10σ magnitude 14.3 is √(0.02² + 0.1086²) ≈ 0.110 mag.
    assert np.isclose(np.median(ks_err[near_10_sigma]), 0.110, atol=0.01)
    assert np.nanmax(ks) < 15.3 + 5 * 0.3  # nothing far past the 3σ limit
    assert small_input["dec"].min() > -30  # PS1 footprint
    assert small_input["g_mean_psf_mag"].min() > 13.5 - 0.1  # PS1 saturation
    assert small_input["w1mpro"].min() > 8.0 - 0.1  # WISE saturation


def test_parallax_zero_point_and_errors(small_input: pd.DataFrame) -> None:
    bright = small_input[small_input["phot_g_mean_mag"] < 14]
    offset = bright["parallax"] - 1 / bright["true_dist"]
    # Lindegren et al. 2018 (A&A 616, A2): global parallax offset −29 µas.
    assert np.isclose(np.median(offset), -0.029, atol=0.005)
    pulls = offset + 0.029
    assert np.isclose(np.std(pulls / bright["parallax_error"]), 1.0, atol=0.05)


def test_truth_set_is_lamost_like(small_input: pd.DataFrame, small_truthset: pd.DataFrame) -> None:
    truth = small_truthset
    assert truth["dec"].min() > -10 and truth["phot_g_mean_mag"].between(9, 17).all()
    assert set(truth["source_id"]).issubset(set(small_input["source_id"]))
    # Favouring the anticentre and high latitude relative to the input it is drawn from.
    assert np.median(np.abs(truth["b"])) > np.median(np.abs(small_input["b"]))
    assert np.mean(np.cos(np.radians(truth["l"]))) < np.mean(np.cos(np.radians(small_input["l"])))
    # Label noise like LAMOST: 70–150 K, 0.1–0.25 dex (physics.md §8).
    assert 60 < np.std(truth["teff"] - truth["true_teff"]) < 150
    assert 0.08 < np.std(truth["logg"] - truth["true_logg"]) < 0.25
    assert set(truth["split"].unique()) == {"train", "valid", "test"}


def test_seismic_labels_mostly_right(small_truthset: pd.DataFrame) -> None:
    seismic = small_truthset[small_truthset["class"].notna()]
    assert len(seismic) > 500
    assert seismic["true_state"].isin(["RC", "RGB", "2CL"]).all()
    wrong = (seismic["class"].astype(str) != seismic["true_state"].astype(str)).mean()
    assert 0.01 < wrong < 0.06  # "a few per cent misclassified"


def test_same_seed_same_files_whatever_the_partitioning(tmp_path: Path) -> None:
    config = mock.MockConfig(n_stars=150_000, seed=3)
    mock.write_mock(tmp_path / "a", config, partition_stars=50_000)
    mock.write_mock(tmp_path / "b", config, partition_stars=150_000)
    a = pd.read_parquet(tmp_path / "a" / "input")
    b = pd.read_parquet(tmp_path / "b" / "input")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "a" / "truthset.parquet"), pd.read_parquet(tmp_path / "b" / "truthset.parquet")
    )
    other = mock.write_mock(tmp_path / "c", mock.MockConfig(n_stars=150_000, seed=4))
    assert not a["ks_m"].equals(pd.read_parquet(tmp_path / "c" / "input")["ks_m"])
    assert other["kept"] > 0


def test_split_is_a_fixed_function_of_source_id() -> None:
    ids = np.arange(100_000, dtype=np.int64)
    split = mock.split_of(ids, 1)
    assert np.array_equal(split, mock.split_of(ids, 1))
    fractions = pd.Series(split).value_counts(normalize=True)
    assert abs(fractions["test"] - 0.25) < 0.01


@pytest.mark.parametrize("bad", [0, -5, 2.5, "ten", True])
def test_bad_star_counts_are_refused(bad: object) -> None:
    with pytest.raises(mock.MockError, match="number of stars"):
        mock.MockConfig(n_stars=bad)  # type: ignore[arg-type]


def test_interrupted_run_leaves_no_dataset(tmp_path: Path) -> None:
    def explode(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mock.write_mock(tmp_path, mock.MockConfig(n_stars=100_000, seed=1), partition_stars=50_000, progress=explode)
    assert not (tmp_path / "input").exists()
    assert not (tmp_path / "truthset.parquet").exists()
    assert mock.read_manifest(tmp_path) is None
    assert list(tmp_path.iterdir()) == []
