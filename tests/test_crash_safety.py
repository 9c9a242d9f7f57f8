"""Crash safety, for real: `mock`, `train`, `infer` and `ingest --append` are killed with SIGKILL at
several points of their file writing; what is left under a final name is whole, and the next run
completes with the result an uninterrupted run gives.

Each killed command runs in its own process, forked from a server that has the project imported
(multiprocessing's forkserver), so that a run costs its work and not the imports; the kill points
are placed by tests/fixtures/kill_at.py (a file operation's n-th call inside the work folder).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from redclump.data import ingest, mock, schema

from redclump import locking, pipeline

pytestmark = [pytest.mark.slow]

KILL_AT = Path(__file__).parent / "fixtures" / "kill_at.py"
STARS = 100_000  # two blocks of 50,000, written as two partitions: kill points between them
MOCK_ARGS = ["--stars", str(STARS), "--partition-size", "50000", "--truth-fraction", "0.3", "--workers", "1"]
TMP_NAME = re.compile(r"^\..+\.(tmp|old)-\d+")

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(
    ["redclump.cli", "redclump.pipeline", "redclump.data.mock", "redclump.data.ingest", "distributed", "tqdm"]
)


def run(workdir: Path, argv: list[str], point: tuple[str, int, str] | None = None) -> int:
    """Run ``redclump ARGV`` in a forked process, killed at ``point``; returns its exit code
    (-9 when killed). Its output goes to ``workdir.parent/NAME.log``."""
    log = workdir.parent / f"{workdir.name}-{'-'.join(map(str, point or ('clean',)))}.log"
    code = (
        f"import sys\nsys.stdout = sys.stderr = open({str(log)!r}, 'a', buffering=1)\n"
        + KILL_AT.read_text()
        + f"\nrun({point!r}, {argv!r}, {str(workdir)!r})\n"
    )
    process = _context.Process(target=exec, args=(code, {"__name__": "kill_at"}))
    process.start()
    process.join(timeout=300)
    assert process.exitcode is not None, f"{argv} did not finish"
    return process.exitcode


def _final_files(workdir: Path) -> list[Path]:
    return [p for p in workdir.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts[-2:])]


def check_whole(workdir: Path) -> None:
    """Everything under a final name is readable and every manifest's promises hold."""
    for path in _final_files(workdir):
        if path.suffix == ".parquet":
            pq.read_table(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".pt":
            pipeline.load_model(path)
    input_manifest = workdir / "input" / "_manifest.json"
    if input_manifest.exists():
        manifest = json.loads(input_manifest.read_text())
        parts = sorted(p.name for p in (workdir / "input").glob("part-*.parquet"))
        if manifest["kind"] == "redclump-mock":
            assert len(parts) == manifest["partitions"], parts
            assert (workdir / "truthset.parquet").exists() and (workdir / "input" / "_summary.json").exists()
        else:
            assert set(manifest["parts"]) <= set(parts), (manifest["parts"], parts)
    if (workdir / "models" / "_manifest.json").exists():
        for name in ("stage1.pt", "stage2.pt", "stage3.pt", "evaluation.json", "intrinsic_colour.json"):
            assert (workdir / "models" / name).exists(), name
    catalogue_manifest = workdir / "catalogue" / "_manifest.json"
    if catalogue_manifest.exists():
        names = [entry[0] for entry in json.loads(catalogue_manifest.read_text())["settings"]["input"]]
        assert sorted(p.name for p in (workdir / "catalogue").glob("*.parquet")) == sorted(names)
        assert (workdir / "truthset_scored.parquet").exists()


def check_clean(workdir: Path) -> None:
    """Nothing left over: no temporaries, no set-aside folders, no lock, no uncommitted partition."""
    leftovers = [p for p in workdir.rglob(".*") if TMP_NAME.match(p.name) or p.name == locking.LOCK_NAME]
    assert not leftovers, leftovers
    assert not ingest.uncommitted_partitions(workdir / "input")


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = "source_id"
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True), check_categorical=False
    )


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Work folders at each stage, made in this process, and the references to compare with."""
    root = tmp_path_factory.mktemp("stages")
    made = {name: root / name for name in ("mock_a", "mock_b", "trained", "reference_train")}
    for name, seed in (("mock_a", 1), ("mock_b", 2)):
        config = mock.MockConfig(n_stars=STARS, seed=seed, truth_fraction=0.3)
        mock.write_mock(made[name], config, partition_stars=50_000)
    shutil.copytree(made["mock_b"], made["trained"])
    pipeline.train(made["trained"], epochs=1, seed=0)
    pipeline.infer(made["trained"])
    shutil.copytree(made["mock_b"], made["reference_train"])
    pipeline.train(made["reference_train"], epochs=1, seed=1)
    return made


def _point_id(point: tuple[str, int, str]) -> str:
    return f"{point[0]}{point[1]}-{point[2]}"


def _copy(source: Path, tmp_path: Path) -> Path:
    workdir = tmp_path / "w"
    shutil.copytree(source, workdir)
    return workdir


@pytest.mark.parametrize(
    "point",
    [
        ("to_parquet", 1, "during"),  # a partition half written
        ("to_parquet", 3, "during"),  # the truth set half written
        ("replace", 1, "after"),  # the old input moved aside, the new truth set not yet in place
        ("replace", 2, "after"),  # the new truth set in place, the new input not yet
        ("rmtree", 1, "during"),  # the old input half deleted
    ],
    ids=_point_id,
)
def test_killed_mock(stages: dict[str, Path], tmp_path: Path, point: tuple[str, int, str]) -> None:
    workdir = _copy(stages["mock_a"], tmp_path)  # a complete mock with another seed is replaced
    argv = ["mock", "--workdir", str(workdir), "--seed", "2", *MOCK_ARGS]
    assert run(workdir, argv, point) == -9
    check_whole(workdir)
    assert run(workdir, argv) == 0
    check_whole(workdir)
    check_clean(workdir)
    reference = stages["mock_b"]
    _same_frames(pd.read_parquet(workdir / "truthset.parquet"), pd.read_parquet(reference / "truthset.parquet"))
    _same_frames(pd.read_parquet(workdir / "input"), pd.read_parquet(reference / "input"))


@pytest.mark.parametrize(
    "point",
    [
        ("torch_save", 1, "during"),  # a model file half written
        ("replace", 4, "after"),  # the old models moved aside, the new ones not yet in place
        ("replace", 5, "after"),  # the new models in place, the old ones not yet deleted
        ("rmtree", 1, "during"),  # the old models half deleted
    ],
    ids=_point_id,
)
def test_killed_train(stages: dict[str, Path], tmp_path: Path, point: tuple[str, int, str]) -> None:
    workdir = _copy(stages["trained"], tmp_path)  # models trained with another seed are replaced
    argv = ["train", "--workdir", str(workdir), "--epochs", "1", "--train-seed", "1"]
    assert run(workdir, argv, point) == -9
    check_whole(workdir)
    assert run(workdir, argv) == 0
    check_whole(workdir)
    check_clean(workdir)
    for stage in pipeline.STAGES:
        got = torch.load(workdir / "models" / f"{stage}.pt", weights_only=True)["state_dict"]
        want = torch.load(stages["reference_train"] / "models" / f"{stage}.pt", weights_only=True)["state_dict"]
        for name, tensor in want.items():
            np.testing.assert_allclose(got[name].numpy(), tensor.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize(
    "point",
    [
        ("to_parquet", 1, "during"),  # a catalogue partition half written
        ("replace", 1, "after"),  # the new scored truth set in place, the catalogue still the old one
        ("replace", 2, "after"),  # the old catalogue moved aside, the new one not yet in place
        ("rmtree", 1, "during"),  # the old catalogue half deleted
    ],
    ids=_point_id,
)
def test_killed_infer(stages: dict[str, Path], tmp_path: Path, point: tuple[str, int, str]) -> None:
    workdir = _copy(stages["trained"], tmp_path)
    part = workdir / "input" / "part-00000.parquet"
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 10**9))  # the catalogue is stale
    argv = ["infer", "--workdir", str(workdir), "--workers", "1"]
    assert run(workdir, argv, point) == -9
    check_whole(workdir)
    assert run(workdir, argv) == 0
    check_whole(workdir)
    check_clean(workdir)
    reference = stages["trained"]
    _same_frames(pd.read_parquet(workdir / "catalogue"), pd.read_parquet(reference / "catalogue"))
    summary = json.loads((workdir / "catalogue" / "_manifest.json").read_text())["summary"]
    assert (
        summary["giants"] == json.loads((reference / "catalogue" / "_manifest.json").read_text())["summary"]["giants"]
    )


@pytest.mark.parametrize(
    "point",
    [
        ("to_parquet", 1, "during"),  # the new partition half written
        ("replace", 1, "after"),  # the partition in place, the manifest not yet updated
        ("replace", 2, "before"),  # the new manifest written under its temporary name
    ],
    ids=_point_id,
)
def test_killed_ingest_append(stages: dict[str, Path], tmp_path: Path, point: tuple[str, int, str]) -> None:
    rows = pd.read_parquet(stages["mock_a"] / "input" / "part-00000.parquet")[list(schema.INPUT_COLUMNS)]
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    rows.iloc[:300].to_parquet(files[0])
    rows.iloc[300:600].to_parquet(files[1])
    workdir = tmp_path / "w"
    common = ["--map", "gaia_dr2_crossmatch", "--workdir", str(workdir), "--append"]
    assert run(workdir, ["ingest", str(files[0]), *common]) == 0
    assert run(workdir, ["ingest", str(files[1]), *common], point) == -9
    check_whole(workdir)
    assert len(pd.read_parquet(workdir / "input", columns=["source_id"])) in (300, 600)
    assert run(workdir, ["ingest", str(files[1]), *common]) == 0
    check_whole(workdir)
    check_clean(workdir)
    got = pd.read_parquet(workdir / "input")
    assert sorted(got["source_id"]) == sorted(rows["source_id"].iloc[:600])
    manifest = json.loads((workdir / "input" / "_manifest.json").read_text())
    assert manifest["parts"] == ["part-00000.parquet", "part-00001.parquet"]
    assert manifest["summary"] == {"rows_kept": 600, "files": 2}
