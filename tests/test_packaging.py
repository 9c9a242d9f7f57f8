"""Packaging: environment.yml agrees with pyproject.toml; core stays free of UI imports."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch", "dask[dataframe]": "dask"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0].strip().lower()


def _conda_dependencies() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    return {_name(dep) for dep in env["dependencies"] if isinstance(dep, str) and dep != "pip"}


def test_environment_yml_lists_the_pyproject_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"]]
    for extra in ("hats", "test", "dev"):
        wanted += [r for r in project["optional-dependencies"][extra] if not r.startswith("redclump")]
    expected = {CONDA_NAMES.get(_name(r), _name(r)) for r in wanted}
    assert _conda_dependencies() - {"python"} == expected


def test_torch_is_pinned_the_same_in_both() -> None:
    assert '"torch==2.13.0"' in (ROOT / "pyproject.toml").read_text()
    assert "pytorch==2.13.0" in (ROOT / "environment.yml").read_text()


def test_core_does_not_import_ui_libraries() -> None:
    code = (
        "import sys, redclump.core, redclump.data\n"
        "import pkgutil, importlib\n"
        "for m in pkgutil.iter_modules(redclump.core.__path__):\n"
        "    importlib.import_module('redclump.core.' + m.name)\n"
        "bad = [m for m in ('panel', 'holoviews', 'bokeh', 'datashader') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_ruff_finds_nothing() -> None:
    """The style rules in pyproject.toml hold for the whole tree (ruff comes with the dev extra)."""
    import shutil

    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([ruff, "check", "--no-cache", str(root)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
