"""The built catalogue the serving benchmarks run on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def built_workdir() -> Path:
    """REDCLUMP_BENCH_WORKDIR (default ``.redclump``), skipping the benchmark where nothing is built."""
    workdir = Path(os.environ.get("REDCLUMP_BENCH_WORKDIR", ".redclump"))
    if not (workdir / "catalogue" / "_manifest.json").exists():
        pytest.skip(f"no built catalogue in {workdir}: run `make app` (or set REDCLUMP_BENCH_WORKDIR)")
    return workdir
