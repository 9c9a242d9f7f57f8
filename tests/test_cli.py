"""The command line: one-line errors, non-zero exits, nothing half-written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from redclump import cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redclump.cli", *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stars", "0"], "positive integer"),
        (["--stars", "-3"], "positive integer"),
        (["--stars", "many"], "expected an integer"),
        (["--seed", "abc"], "seed must be a non-negative integer"),
        (["--seed", "-1"], "seed must be a non-negative integer"),
    ],
)
def test_bad_mock_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = run("mock", "--workdir", str(tmp_path / "w"), "--workers", "1", *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "w" / "input").exists()


def test_unwritable_workdir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("mock", "--workdir", str(blocker / "sub"), "--stars", "50000", "--workers", "1")
    assert result.returncode == 2
    assert "cannot create work folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_mock_prints_summary_and_skips_when_up_to_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["mock", "--workdir", str(tmp_path), "--stars", "100000", "--workers", "1", "--seed", "5"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "kept" in out and "RC fraction" in out and "truth set" in out
    before = (tmp_path / "input" / "part-00000.parquet").stat().st_mtime_ns
    assert cli.main(args) == 0
    assert (tmp_path / "input" / "part-00000.parquet").stat().st_mtime_ns == before


def test_cli_default_star_count_matches_the_mock() -> None:
    from redclump.data import mock

    assert cli.DEFAULT_STARS == mock.DEFAULT_STARS
