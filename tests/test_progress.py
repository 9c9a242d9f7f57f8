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
