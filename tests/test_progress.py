"""Progress: bars on a terminal, a log line per tenth of the work elsewhere."""

from __future__ import annotations

import doctest
import io
import logging
import subprocess
import sys

import pytest

from redclump import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_terminal_one_line_per_tenth_and_one_at_the_end(caplog: pytest.LogCaptureFixture) -> None:
    bar = progress.progress_bar(37, "infer partitions", "part", stream=io.StringIO())
    assert isinstance(bar, progress.LogProgress)
    with caplog.at_level(logging.INFO, logger="redclump"), bar:
        for _ in range(37):
            bar.update(1)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 11, lines
    assert lines[0].startswith("infer partitions: 4/37 part (11%)")
    assert lines[9].startswith("infer partitions: 37/37 part (100%)")
    assert lines[10].startswith("infer partitions: done, 37 part in")


def test_fewer_items_than_ten_log_each_item(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="redclump"), progress.LogProgress(3, "mock partitions", "part") as bar:
        for _ in range(3):
            bar.update(1)
    assert len(caplog.records) == 4


def test_a_terminal_gets_a_tqdm_bar() -> None:
    from tqdm import tqdm

    stream = _Terminal()
    with progress.progress_bar(5, "train", "epoch", stream=stream) as bar:
        assert isinstance(bar, tqdm)
        bar.update(5)
    assert "5/5" in stream.getvalue()


def test_doctests() -> None:
    assert doctest.testmod(progress, raise_on_error=False).failed == 0


def test_python_m_redclump_is_the_command_line() -> None:
    result = subprocess.run([sys.executable, "-m", "redclump", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage: redclump" in result.stdout and "select" in result.stdout


def test_build_logs_one_line_per_step_with_counts_and_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from redclump import commands

    results = {
        "mock": {"simulated": 300_000, "kept": 65_844},
        "train": {"stages": {"stage1": {"best_epoch": 4}, "stage2": {"best_epoch": 7}}},
        "infer": {"rows": 65_844, "giants": 30_407},
    }
    for step in results:
        monkeypatch.setattr(commands, f"cmd_{step}", lambda _args, step=step: results[step])
    with caplog.at_level(logging.INFO, logger="redclump"):
        commands.cmd_build(argparse.Namespace())
    done = [r.getMessage() for r in caplog.records if " done in " in r.getMessage()]
    assert len(done) == 3
    assert done[0].startswith("build: mock done in") and "300,000 simulated stars, 65,844 kept" in done[0]
    assert "stage1 best epoch 4, stage2 best epoch 7" in done[1]
    assert "65,844 stars, 30,407 giants" in done[2]
    assert capsys.readouterr().out.startswith("build: mock ")
