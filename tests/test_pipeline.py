"""End to end on a small mock: train → infer → select, bad inputs, dask equality."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from redclump.core import metrics
from redclump.core.selection import TIER2, Cut
from redclump.data import mock
from redclump.data.schema import CATALOGUE_PREDICTIONS

from redclump import pipeline


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("built")
    mock.write_mock(workdir, mock.MockConfig(n_stars=400_000, seed=11, truth_fraction=0.3))
    pipeline.train(workdir, epochs=8, seed=0)
    pipeline.infer(workdir)
    return workdir


def test_models_carry_what_is_needed_to_check_them(built: Path) -> None:
    import torch

    bundle = torch.load(built / "models" / "stage3.pt", weights_only=True)
    meta = bundle["metadata"]
    assert meta["targets"] == ["deltap", "deltanu"] and len(meta["features"]) == 14
    assert len(meta["train_sha256"]) == 64 and meta["versions"]["torch"]
    assert bundle["config"]["n_components"] >= 2
    evaluation = json.loads((built / "models" / "evaluation.json").read_text())
    assert set(evaluation["stages"]["stage2"]["targets"]) == {"teff", "logg"}


def test_catalogue_has_the_documented_columns_and_only_giants(built: Path) -> None:
    cat = pd.read_parquet(built / "catalogue")
    # The documented set (schema.CATALOGUE_PREDICTIONS: predictions, errors, P(RC), extinction,
    # distances, Galactocentric coordinates, tiers).
    missing = [column for column in CATALOGUE_PREDICTIONS if column not in cat]
    assert not missing, missing
    assert (cat["logg_phot"] < 3.5).mean() > 0.95  # stage 2 may move a few just past the edge
    assert cat["tier2"].equals(pd.Series(TIER2.mask(cat), name="tier2"))
    # Stage 1 rejects dwarfs: the catalogue is overwhelmingly true giants.
    assert cat["true_state"].isin(["RGB", "RC", "2CL"]).mean() > 0.95


def test_catalogue_files_are_zstd_with_split_floats(built: Path) -> None:
    """The catalogue, the scored truth set and the estimate's twins are written as the work
    folder's other Parquet files (redclump.data.storage): zstd, floats byte-stream-split."""
    for path in (
        sorted((built / "catalogue").glob("*.parquet"))[0],
        built / "truthset_scored.parquet",
        built / "estimates" / "twins.parquet",
    ):
        meta = pq.ParquetFile(path).metadata
        chunk = meta.row_group(0).column(meta.schema.names.index("dp_phot"))
        assert chunk.compression == "ZSTD" and "BYTE_STREAM_SPLIT" in chunk.encodings, path


def test_catalogue_keeps_the_stage3_mixtures(built: Path) -> None:
    """The stored ΔP and Δν mixtures give back the catalogue's summaries and P(RC), and P(ΔP > t)
    for another t (DESIGN: each output keeps its mixture)."""
    from redclump.core.mdn import mixture_from_columns, mixture_summary, prob_above
    from redclump.data.schema import mixture_columns

    cat = pd.read_parquet(built / "catalogue")
    k = pipeline.load_models(built).stage3.config.n_components
    assert k >= 2 and f"dp_mix_w{k}" not in cat.columns
    assert set(mixture_columns("dp", k)) | set(mixture_columns("dnu", k)) <= set(cat.columns)
    np.testing.assert_allclose(sum(cat[f"dp_mix_w{i}"] for i in range(k)), 1.0, rtol=1e-5)
    dp = mixture_from_columns(cat, "dp")
    mean, std = mixture_summary(*dp)
    np.testing.assert_allclose(mean[:, 0], cat["dp_phot"], rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(std[:, 0], cat["dp_phot_err"], rtol=1e-3, atol=1e-2)
    np.testing.assert_allclose(prob_above(*dp, 225.0)[:, 0], cat["p_rc"], atol=1e-5)
    dnu_mean, _ = mixture_summary(*mixture_from_columns(cat, "dnu"))
    np.testing.assert_allclose(dnu_mean[:, 0], cat["dnu_phot"], rtol=1e-4, atol=1e-3)
    p_250 = prob_above(*dp, 250.0)[:, 0]
    assert (p_250 <= cat["p_rc"].to_numpy() + 1e-6).all() and p_250.mean() < cat["p_rc"].mean()


def test_rc_distances_against_truth(built: Path) -> None:
    cat = pd.read_parquet(built / "catalogue")
    rc = cat[(cat["true_state"] == "RC") & np.isfinite(cat["dist"])]
    ratio = rc["dist"] / rc["true_dist"]
    assert abs(np.median(ratio) - 1) < 0.05
    assert 0.02 < 1.4826 * np.median(np.abs(ratio - np.median(ratio))) < 0.15


def test_dask_cluster_gives_the_same_catalogue(built: Path, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    copy = tmp_path / "w"
    shutil.copytree(built, copy, ignore=shutil.ignore_patterns("catalogue", "truthset_scored.parquet"))
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        pipeline.infer(copy, client=client)
    pd.testing.assert_frame_equal(pd.read_parquet(copy / "catalogue"), pd.read_parquet(built / "catalogue"))


def test_select_writes_rows_and_metadata(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "tier2.parquet"
    meta = pipeline.select(built, TIER2, out)
    table = pq.read_table(out)
    stored = json.loads(table.schema.metadata[b"redclump"])
    assert stored["cut"] == "dp_phot > 225 & dnu_phot < 5.5" and stored["software"].startswith("redclump")
    cat = pd.read_parquet(built / "catalogue")
    assert table.num_rows == int(TIER2.mask(cat).sum()) == meta["n_rows"]
    scored = pd.read_parquet(built / "truthset_scored.parquet")
    test, is_rc = pipeline.test_split_truth(scored)
    expected = metrics.selection_metrics(TIER2.mask(test), is_rc)
    assert np.isclose(stored["contamination"], expected["contamination"], equal_nan=True)
    with pytest.raises(pipeline.PipelineError, match="exists; pass --overwrite"):
        pipeline.select(built, TIER2, out)
    pipeline.select(built, Cut(dp_min=100), out, overwrite=True)


@pytest.mark.parametrize("suffix", [".fits", ".vot", ".xml", ".ecsv", ".csv"])
def test_select_writes_every_format_with_units(built: Path, tmp_path: Path, suffix: str) -> None:
    """`redclump select --out` in every export format: astropy reads Quantities and the cut back."""
    import astropy.units as u
    from redclump.data.export import read_table

    from redclump import cli

    path = tmp_path / f"sel{suffix}"
    assert cli.main(["select", "--workdir", str(built), "--preset", "tier2", "--out", str(path)]) == 0
    table = read_table(path)
    assert len(table) == int(TIER2.mask(pd.read_parquet(built / "catalogue")).sum())
    assert table["dist"].unit == u.kpc and table["dp_phot"].unit == u.s and table["parallax"].unit == u.mas
    assert (table["dp_phot"] > 225 * u.s).all()
    assert table.meta["cut"] == TIER2.text() and 0 <= float(table.meta["contamination"]) <= 1


def test_select_samp_without_a_hub_is_a_clear_error(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from redclump import cli

    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'no-hub.lock').as_uri()}")
    assert cli.main(["select", "--workdir", str(built), "--preset", "tier1", "--samp"]) == 2
    assert "SAMP: no SAMP hub is running: start TOPCAT or Aladin" in capsys.readouterr().err
    assert cli.main(["select", "--workdir", str(built), "--preset", "tier1"]) == 2
    assert "say where the sample goes" in capsys.readouterr().err


def test_scored_truthset_never_trains_on_test(built: Path) -> None:
    scored = pd.read_parquet(built / "truthset_scored.parquet")
    assert set(scored["split"].astype(str)) == {"train", "valid", "test"}
    test, _ = pipeline.test_split_truth(scored)
    assert (test["split"] == "test").all() and len(test) > 50


def test_corrupt_model_is_a_clear_error(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "w"
    shutil.copytree(built, copy)
    (copy / "models" / "stage2.pt").write_bytes(b"not a model")
    with pytest.raises(pipeline.ModelError, match=r"stage2\.pt is corrupt"):
        pipeline.infer(copy, force=True)
    assert (copy / "catalogue" / "_manifest.json").exists()  # the old catalogue is untouched


def test_missing_column_names_file_and_column(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "w"
    shutil.copytree(built, copy, ignore=shutil.ignore_patterns("catalogue"))
    part = sorted((copy / "input").glob("*.parquet"))[0]
    pd.read_parquet(part).drop(columns=["h_m"]).to_parquet(part)
    with pytest.raises(pipeline.PipelineError, match=r"part-00000\.parquet: missing column\(s\) 'h_m'"):
        pipeline.infer(copy)
    assert not (copy / "catalogue").exists()
    assert not list(copy.glob(".catalogue.tmp-*"))


def test_non_finite_inputs_are_flagged_not_predicted(built: Path) -> None:
    models = pipeline.load_models(built)
    frame = pd.read_parquet(sorted((built / "input").glob("*.parquet"))[0]).head(50).copy()
    frame.loc[3, "j_m"] = np.nan
    frame.loc[5, "parallax"] = np.inf
    from redclump.core.inference import predict_catalogue

    out = predict_catalogue(models, frame, giants_only=False)
    assert out["flag_bad_input"].sum() == 2
    assert out.loc[[3, 5], "teff_phot"].isna().all()
    assert out.index.equals(frame.index)
    # The default (giants only) is exactly the giant rows of the full output.
    giants = predict_catalogue(models, frame)
    expected = out[out["giant"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(giants, expected[giants.columns])
    assert list(giants.columns) == list(out.columns)


def test_truthset_without_test_split(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "w"
    copy.mkdir()
    truth = pd.read_parquet(built / "truthset.parquet")
    truth[truth["split"] != "test"].to_parquet(copy / "truthset.parquet")
    with pytest.raises(pipeline.PipelineError, match="column 'split' has no 'test' rows"):
        pipeline.train(copy, epochs=1)


def test_ingested_csv_input_infers_like_the_parquet(built: Path, tmp_path: Path) -> None:
    from redclump.data.schema import INPUT_COLUMNS

    from redclump import cli

    part = sorted((built / "input").glob("*.parquet"))[0]
    frame = pd.read_parquet(part)
    csv = tmp_path / "crossmatch.csv"
    frame[list(INPUT_COLUMNS)].to_csv(csv, index=False)
    work = tmp_path / "real"
    shutil.copytree(built / "models", work / "models")
    shutil.copy(built / "truthset.parquet", work / "truthset.parquet")
    assert cli.main(["ingest", str(csv), "--map", "gaia_dr2_crossmatch", "--workdir", str(work)]) == 0
    pipeline.infer(work)
    ingested = pd.read_parquet(work / "catalogue").set_index("source_id")
    reference = pd.read_parquet(built / "catalogue").set_index("source_id")
    reference = reference.loc[reference.index.isin(frame["source_id"])]
    assert len(ingested) == len(reference) > 0
    for column in ("teff_phot", "logg_phot", "dp_phot", "dnu_phot", "p_rc", "dist", "tier2"):
        # CSV round-trips float32 magnitudes through text: predictions agree to float precision.
        np.testing.assert_allclose(
            ingested.loc[reference.index, column].astype(float), reference[column].astype(float), rtol=2e-3, atol=1e-3
        )


def test_select_reports_the_reweighted_contamination(built: Path, tmp_path: Path) -> None:
    meta = pipeline.select(built, Cut(dp_min=200, dnu_max=6.0), tmp_path / "s.parquet")
    scored = pd.read_parquet(built / "truthset_scored.parquet")
    test, is_rc = pipeline.test_split_truth(scored)
    cat = pd.read_parquet(built / "catalogue")
    cut = Cut(dp_min=200, dnu_max=6.0)
    strata, n = metrics.contamination_strata(test)
    expected = metrics.reweighted_contamination(
        cut.mask(test),
        is_rc,
        strata,
        np.bincount(metrics.contamination_strata(cat[cut.mask(cat)])[0], minlength=n),
        n,
        n_boot=200,
        seed=0,
    )
    assert np.isclose(meta["contamination_reweighted"], expected["contamination"], equal_nan=True)


def test_published_catalogue_ingested_and_served_shows_the_same_counts(built: Path, tmp_path: Path) -> None:
    from redclump.dashboard.app_data import load_app_data
    from redclump.dashboard.state import ExplorerState

    from redclump import cli

    cat = pd.read_parquet(built / "catalogue")
    published = pd.DataFrame(
        {
            "Source": cat["source_id"],
            "GLON": cat["l"],
            "GLAT": cat["b"],
            "Teff_phot": cat["teff_phot"],
            "e_Teff_phot": cat["teff_phot_err"],
            "logg_phot": cat["logg_phot"],
            "e_logg_phot": cat["logg_phot_err"],
            "Deltap_phot": cat["dp_phot"],
            "e_Deltap_phot": cat["dp_phot_err"],
            "Deltanu_phot": cat["dnu_phot"],
            "e_Deltanu_phot": cat["dnu_phot_err"],
            "Dist": cat["dist"] * 1000.0,
        }
    )
    path = tmp_path / "lucey2020.csv"
    published.to_csv(path, index=False)
    work = tmp_path / "published"
    assert cli.main(["ingest", str(path), "--map", "lucey2020_vizier", "--workdir", str(work)]) == 0
    served = ExplorerState(load_app_data(str(work)))
    reference = ExplorerState(load_app_data(str(built)))
    for preset in ("tier1", "tier2"):
        served.apply_preset(preset)
        reference.apply_preset(preset)
        assert served.numbers()["n_catalogue"] == reference.numbers()["n_catalogue"] > 0
    assert np.isnan(served.numbers()["contamination"])  # no truth set: unavailable, not an error
    assert not served.data.available["reweighting"]


def test_ingested_truthset_retrains(built: Path, tmp_path: Path) -> None:
    from astropy.table import Table
    from redclump.data.schema import BANDS

    from redclump import cli

    truth = pd.read_parquet(built / "truthset.parquet")
    seismic = truth[truth["class"].notna()]
    ting = pd.DataFrame(
        {
            "source_id": seismic["source_id"],
            "l": seismic["l"],
            "b": seismic["b"],
            "teff": seismic["teff"],
            "log_g": seismic["logg"],
            "s_n": seismic["snr"],
            "deltap": seismic["deltap"],
            "deltanu": seismic["deltanu"],
            "class": seismic["class"].astype(str),
            "parallax": seismic["parallax"],
            **{band: seismic[band] for band in BANDS},
        }
    )
    path = tmp_path / "ting.fits"
    Table.from_pandas(ting.reset_index(drop=True)).write(path)
    work = tmp_path / "real"
    assert cli.main(["ingest", str(path), "--map", "ting2018_lamost", "--workdir", str(work)]) == 0
    ingested = pd.read_parquet(work / "truthset.parquet")
    assert set(ingested["split"]) == {"train", "valid", "test"}  # a hashed split was assigned
    evaluation = pipeline.train(work, epochs=2)
    assert evaluation["stages"]["stage3"]["targets"]["deltap"]["n"] > 0
    assert (work / "models" / "stage3.pt").exists()


def test_candidate_cache_reloads_what_the_catalogue_gives(built: Path, tmp_path: Path) -> None:
    """The app's memory-mapped candidate cache: built on first load, then read back; columns and
    reweighting strata equal those computed from the catalogue and truth set directly."""
    import shutil

    from redclump.dashboard.app_data import frames_to_app_data, load_app_data

    work = tmp_path / "work"
    shutil.copytree(built, work, ignore=shutil.ignore_patterns("app_candidates-*"))
    first = load_app_data.__wrapped__(str(work))  # builds the cache
    assert len(list(work.glob("app_candidates-*.arrow"))) == 1
    second = load_app_data.__wrapped__(str(work))  # reads it
    direct = frames_to_app_data(
        pd.read_parquet(work / "catalogue"), pd.read_parquet(work / "truthset_scored.parquet"), source="direct"
    )
    for loaded in (first, second):
        pd.testing.assert_frame_equal(loaded.catalogue[list(direct.catalogue.columns)], direct.catalogue)
        assert np.array_equal(loaded.catalogue_strata, direct.catalogue_strata)
        pd.testing.assert_frame_equal(loaded.test, direct.test)


def test_the_apps_export_and_select_carry_identical_provenance(built: Path, tmp_path: Path) -> None:
    """One cut, two routes: the app's download and `redclump select` write the same metadata
    (keys, test-split numbers, bootstrap, manifest digest, catalogue-level estimate)."""
    from redclump.dashboard.app_data import load_app_data
    from redclump.dashboard.sample import export_bytes, selection_meta
    from redclump.dashboard.state import ExplorerState
    from redclump.data.export import read_table

    state = ExplorerState(load_app_data(str(built)))
    state.apply_preset("tier2")
    state.dnu_max = 6.0  # a cut that is not a preset, so nothing rides on preset names
    selected, select_meta = pipeline.selection(built, state.cut())
    app_meta = selection_meta(state)
    assert list(app_meta) == list(select_meta)
    # json spells NaN alike on both sides, and floats exactly.
    assert {k: json.dumps(v) for k, v in app_meta.items()} == {k: json.dumps(v) for k, v in select_meta.items()}
    assert len(select_meta["catalogue_manifest_sha256"]) == 64 and "catalogue_contamination" in select_meta
    assert select_meta["n_rows"] == len(selected) > 0
    assert "200 bootstrap draws" in select_meta["metrics_on"]
    # ...and the files themselves.
    app_file = tmp_path / "app.ecsv"
    app_file.write_bytes(export_bytes(state, ".ecsv"))
    pipeline.select(built, state.cut(), tmp_path / "select.ecsv")
    assert dict(read_table(app_file).meta) == dict(read_table(tmp_path / "select.ecsv").meta)
