"""All three network sets on a tiny build: `build --networks all`, then `report`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from redclump.core import tradeoff
from redclump.core.mdn import PerTargetMDN
from redclump.core.selection import TIER2

from redclump import cli, pipeline
from redclump.publish import race, report

MAX_STEPS = 150


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("both")
    args = ["build", "--workdir", str(workdir), "--stars", "400000", "--truth-fraction", "1.0", "--workers", "1"]
    assert cli.main([*args, "--networks", "all", "--epochs", "40", "--max-steps", str(MAX_STEPS)]) == 0
    return workdir


def test_both_sets_go_to_their_own_folders(both: Path) -> None:
    for networks, name in (("redclump", ""), ("paper", "_paper")):
        paths = pipeline.network_paths(both, networks)
        assert paths.models == both / f"models{name}" and paths.catalogue == both / f"catalogue{name}"
        assert (paths.models / "evaluation.json").exists() and (paths.catalogue / "_manifest.json").exists()
        assert paths.scored.exists()
    ours, theirs = pipeline.load_models(both), pipeline.load_models(both, "paper")
    assert not isinstance(ours.stage3, PerTargetMDN) and ours.stage3.config.n_components == 3
    assert isinstance(theirs.stage3, PerTargetMDN)
    assert [n.config.n_components for n in theirs.stage3.networks] == [2, 1]
    assert [n.config.hidden for n in theirs.stage1.networks] == [(32, 24, 16, 8)] * 2
    # The two catalogues hold the same stars' inputs but different predictions.
    cat = pd.read_parquet(both / "catalogue_paper")
    assert cat["dnu_mix_w1"].eq(0).all()  # Δν has K = 1, padded with a zero-weight component
    assert not np.allclose(pd.read_parquet(both / "catalogue")["dp_phot"].median(), cat["dp_phot"].median())


def test_steps_are_recorded_in_metadata_and_evaluation(both: Path) -> None:
    evaluation = json.loads((both / "models_paper" / "evaluation.json").read_text())
    assert evaluation["networks"] == "paper"
    records = {(s, t): r for s, info in evaluation["stages"].items() for t, r in info["per_target"].items()}
    assert len(records) == 6
    for record in records.values():
        assert 0 < record["steps"] <= MAX_STEPS and record["stop_reason"] in ("converged", "max_steps", "time_budget")
        assert 0 < record["best_step"] <= record["steps"]
    assert records[("stage3", "deltap")]["n_components"] == 2
    meta = torch.load(both / "models_paper" / "stage3.pt", weights_only=True)["metadata"]
    assert meta["per_target"]["deltap"]["steps"] == records[("stage3", "deltap")]["steps"]
    ours = json.loads((both / "models" / "evaluation.json").read_text())
    assert ours["networks"] == "redclump" and all(info["steps"] > 0 for info in ours["stages"].values())


def test_loss_curves_are_recorded_and_drawn(both: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    from redclump.publish import loss_curves

    found = loss_curves.curves(both)
    assert set(found) == {"paper", "paper_minibatch"} and all(len(records) == 6 for records in found.values())
    for name, records in found.items():
        for record in records.values():
            curve = record["curve"]
            assert len(curve["step"]) == len(curve["train"]) == len(curve["valid"]) > 1
            assert np.all(np.diff(curve["step"]) > 0) and curve["step"][-1] == record["steps"]
            # The kept weights are those of the best validation loss on the curve (improvements
            # under the 1e-4 tolerance do not count).
            best = curve["valid"][curve["step"].index(record["best_step"])]
            assert best <= min(curve["valid"]) + 1e-4, name
    out = tmp_path / "curves.png"
    assert cli.main(["report", "--workdir", str(both), "--curves", str(out), "--out", str(tmp_path / "r.md")]) == 0
    image = imread(out)
    assert image.shape[1] > 1.8 * image.shape[0]  # two panels side by side
    assert image[..., :3].std() > 0.05  # drawn, not blank
    assert cli.main(["report", "--workdir", str(both), "--curves", str(out)]) == 2  # no silent overwrite


def test_up_to_date_sets_are_skipped(both: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (both / "models_paper" / "stage1.pt").stat().st_mtime_ns
    args = ["--workdir", str(both), "--networks", "paper", "--workers", "1"]
    assert cli.main(["train", *args, "--max-steps", str(MAX_STEPS)]) == 0
    assert cli.main(["infer", *args]) == 0
    assert (both / "models_paper" / "stage1.pt").stat().st_mtime_ns == before
    assert "catalogue_paper/" in capsys.readouterr().out


def test_report_puts_both_sets_beside_the_paper(both: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    assert cli.main(["report", "--workdir", str(both), "--out", str(out)]) == 0
    text = out.read_text()
    for sample in ("Tier 1", "Tier 2", r"\|b\| > 30°", "P(RC) ≥ 0.5"):
        for label in report.NETWORK_LABELS.values():
            assert f"| {sample} | {label} |" in text, (sample, label)
    for parameter in ("Teff (giants)", "log g (giants)", "ΔP", "Δν"):
        for label in report.NETWORK_LABELS.values():
            assert f"| {parameter} | {label} |" in text, (parameter, label)
    assert "2.6M, 33 %, 94 %" in text and "±80 s" in text and "±153 K" in text
    # The catalogue sizes are the catalogues' own Tier 2 counts.
    for label, folder in (("ours", "catalogue"), ("authors' (full-batch)", "catalogue_paper")):
        n = int(TIER2.mask(pd.read_parquet(both / folder)).sum())
        assert f"| Tier 2 | {label} | {n:,} |" in text
    # Test-split numbers are those of core.metrics on each set's own scored truth set.
    for label, name in (("ours", ""), ("authors' (full-batch)", "_paper")):
        test, is_rc = pipeline.test_split_truth(pd.read_parquet(both / f"truthset_scored{name}.parquet"))
        catalogue = pd.read_parquet(both / f"catalogue{name}")
        for sample, cut in report.SAMPLES.items():
            stats = report.metrics.selection_metrics(cut.mask(test), is_rc)
            row = f"| {sample.replace('|', chr(92) + '|')} | {label} | {int(cut.mask(catalogue).sum()):,} | "
            row += report._pct(stats["contamination"], stats["contamination_lo"], stats["contamination_hi"])
            assert row in text, row
    assert "### The network sets along the trade-off" in text
    assert "steps (best at step" in text and "epochs (best at step" in text and "10⁶ full-batch steps" in text
    # No silent overwrite.
    assert cli.main(["report", "--workdir", str(both), "--out", str(out)]) == 2


def test_race_of_a_set_against_itself_is_equal_everywhere(both: Path, tmp_path: Path) -> None:
    """With our own outputs standing in for the authors', every level solves the same threshold,
    the difference is zero, and the catalogue numbers (estimate and truth) are the same: the race
    is wired to the right stars, columns and folders."""
    import shutil

    twin = tmp_path / "twin"
    shutil.copytree(both, twin, ignore=shutil.ignore_patterns("*_paper*", "input"))
    for folder in ("models", "catalogue", "estimates"):
        shutil.copytree(twin / folder, twin / f"{folder}_paper")
    shutil.copy(twin / "truthset_scored.parquet", twin / "truthset_scored_paper.parquet")
    results = report.collect(twin)
    rows = race.tradeoff_rows(twin, {name: (r["test"], r["is_rc"]) for name, r in results.items()}, n_boot=30)
    assert isinstance(rows, list) and len(rows) == 2 * len(tradeoff.COMPLETENESS_LEVELS)
    reached = 0
    for ours, theirs in zip(rows[::2], rows[1::2], strict=True):
        assert (ours["set"], theirs["set"]) == ("redclump", "paper")
        if ours["cut"] is None:  # a level the cut family cannot reach on this tiny build
            assert theirs["cut"] is None and "note" in theirs and tradeoff.verdict(theirs) == "n/a"
            continue
        reached += 1
        assert theirs["threshold"] == ours["threshold"] and theirs["difference"] == 0
        assert tradeoff.verdict(theirs) == "equal" and ours["completeness"] >= ours["level"]
        for key in ("n_catalogue", "catalogue_contamination", "catalogue_completeness", "true_contamination"):
            assert theirs[key] == ours[key], key
        # The catalogue columns are the cut's own count over the catalogue.
        cut = tradeoff.TRADEOFF_BASE.replace(dp_min=ours["threshold"])
        assert ours["n_catalogue"] == int(cut.mask(pd.read_parquet(twin / "catalogue")).sum())
    assert reached >= 2
    text = "\n".join(race.tradeoff_lines(rows))
    assert "20 % equal; 40 % equal" in text


def test_report_with_one_set_says_what_is_missing(both: Path, tmp_path: Path) -> None:
    import shutil

    only_ours = tmp_path / "w"
    shutil.copytree(both, only_ours, ignore=shutil.ignore_patterns("*_paper*", "input"))
    text = report.build_report(only_ours)
    assert "| Tier 2 | ours |" in text and "| Tier 2 | authors' (full-batch) |" not in text
    assert "Not built: authors' (full-batch) networks" in text and "Needs our networks and at least one" in text
    with pytest.raises(report.ReportError, match="no trained networks"):
        report.build_report(tmp_path / "empty")


def test_report_has_the_completeness_budget_from_the_scored_truth_set(both: Path) -> None:
    # The budget's numbers come from core.diagnostics on the same test split as Table 1.
    import pandas as pd
    from redclump.core import diagnostics

    from redclump.publish import report

    workdir = both
    text = report.build_report(workdir)
    assert "### Where Tier 2 loses true RC stars" in text
    scored = pd.read_parquet(workdir / "truthset_scored.parquet")
    test = scored[(scored["split"].astype(str) == "test") & scored["class"].notna()]
    budget = diagnostics.completeness_budget(test[test["class"].astype(str) == "RC"], dp_min=225.0, dnu_max=5.5)
    row = next(line for line in text.splitlines() if line.startswith("| ours | "))
    assert row.split(" | ")[1] == f"{100 * budget['missed']:.1f} %"


def test_report_writes_catalogue_estimates_as_json_without_truth(both: Path, tmp_path: Path) -> None:
    out = tmp_path / "estimates.json"
    assert cli.main(["report", "--workdir", str(both), "--json", str(out), "--out", str(tmp_path / "r.md")]) == 0
    rows = json.loads(out.read_text())
    samples = {r["sample"] for r in rows}
    assert samples == {"tier1", "tier2", "highlat", "p_rc_0.5"}
    assert {(r["by"], r["lo"], r["hi"]) for r in rows if r["sample"] == "tier2"} >= {
        ("all", None, None),
        ("G", 17.0, 18.0),
        ("dist", 20.0, 50.0),
    }
    for row in rows:
        assert not any(key.startswith("true") or key.startswith("test") for key in row)
        for key in ("contamination", "completeness"):
            if row[key] is not None:
                assert 0.0 <= row[f"{key}_lo"] <= row[key] <= row[f"{key}_hi"] <= 1.0
    markdown = (tmp_path / "r.md").read_text()
    assert "### The catalogue by G and by distance" in markdown and "| G 18–19 |" in markdown
    assert "**Is P(RC) calibrated where the catalogue is?**" in markdown


def test_catalogue_estimate_moves_toward_the_truth(both: Path) -> None:
    from redclump.publish import catalogue_report

    rows = {(r["sample"], r["by"], r["lo"]): r for r in catalogue_report.catalogue_rows(both)}
    tier2 = rows[("tier2", "all", None)]
    # The test split's completeness describes bright truth-set stars; the catalogue's RC stars
    # are mostly fainter and kept less often: the estimate must land nearer the truth.
    assert abs(tier2["completeness"] - tier2["true_completeness"]) < abs(
        tier2["test_completeness"] - tier2["true_completeness"]
    )


def test_catalogue_estimate_reads_no_true_column(both: Path, tmp_path: Path) -> None:
    import shutil

    from redclump import estimation
    from redclump.publish import catalogue_report

    copy = tmp_path / "copy"
    shutil.copytree(both, copy, ignore=shutil.ignore_patterns("*.arrow", "catalogue_paper", "models_paper"))
    rng = np.random.default_rng(0)
    for part in sorted((copy / "catalogue").glob("*.parquet")):
        frame = pd.read_parquet(part)
        for column in [c for c in frame.columns if c.startswith("true_")]:
            frame[column] = rng.permutation(frame[column].to_numpy())
        frame.to_parquet(part, index=False)
    estimation.build_calibration(copy, pipeline.load_models(copy), force=True)
    keys = ("contamination", "contamination_lo", "completeness", "completeness_hi", "n_selected")

    def estimates(workdir: Path) -> list[tuple[float, ...]]:
        return [tuple(r[k] for k in keys) for r in catalogue_report.catalogue_rows(workdir)]

    original, scrambled = estimates(both), estimates(copy)
    np.testing.assert_allclose(np.array(original, float), np.array(scrambled, float), equal_nan=True)


def test_the_apps_catalogue_estimate_follows_a_drawn_region(both: Path) -> None:
    from redclump.dashboard.app_data import load_app_data
    from redclump.dashboard.region import Region
    from redclump.dashboard.state import ExplorerState

    state = ExplorerState(load_app_data.__wrapped__(str(both)), dp_min=150.0, dnu_max=20.0)
    everywhere = state.numbers()["catalogue"]
    assert everywhere["available"] and everywhere["n_selected"] == state.numbers()["n_catalogue"] > 0
    # The northern half of the sky: fewer stars, and the parent shrinks with them, so the
    # completeness stays a fraction of the region's own RC stars.
    state.region = Region.box("l", "b", 0.0, 360.0, 0.0, 90.0)
    north = state.numbers()["catalogue"]
    assert 0 < north["n_selected"] == state.numbers()["n_catalogue"] < everywhere["n_selected"]
    assert 0.0 < north["completeness"] <= 1.0 and 0.0 <= north["contamination"] <= 1.0
