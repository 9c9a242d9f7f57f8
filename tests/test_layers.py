"""The layers, read from the source: imports run data → core → publish → dashboard → redclump,
never back.

The top-level folders are mapped into ``redclump.*`` by ``package-dir`` (pyproject.toml), which
import linters cannot follow (docs/architecture.md), so this test reads every import statement,
including those inside functions, and places the imported module in its layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Folder → (package name, layer), lowest first; the ``redclump/*.py`` modules are the top layer.
LAYERS = {
    "data": ("redclump.data", 0),
    "core": ("redclump.core", 1),
    "redclump/publish": ("redclump.publish", 2),
    "dashboard": ("redclump.dashboard", 3),
}
TOP = 4


def layer_of(module: str) -> int | None:
    """The layer of an absolute module name, or None for a module outside the project and for the
    package root ``redclump`` itself (its ``__init__`` holds only ``__version__``, and every
    subpackage's import runs it)."""
    if not module.startswith("redclump."):
        return None
    for package, layer in LAYERS.values():
        if module == package or module.startswith(package + "."):
            return layer
    return TOP


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``path``, a module of ``package``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # `from redclump import cli` imports the module redclump.cli, not only the package.
            found += [
                (node.lineno, module if alias.name.startswith("__") else f"{module}.{alias.name}")
                for alias in node.names
            ]
    return found


def upward_imports(root: Path) -> list[str]:
    """``file:line imports module`` for each import of a higher layer under ``root``."""
    problems = []
    folders = [(folder, *LAYERS[folder]) for folder in LAYERS] + [("redclump", "redclump", TOP)]
    for folder, package, layer in folders:
        paths = sorted((root / folder).rglob("*.py")) if folder != "redclump" else sorted((root / folder).glob("*.py"))
        for path in paths:
            sub = path.relative_to(root / folder).parent.parts
            own = ".".join([package, *sub])
            for line, module in imported_modules(path, own):
                target = layer_of(module)
                if target is not None and target > layer:
                    problems.append(f"{path.relative_to(root)}:{line} imports {module}")
    return problems


def test_no_import_runs_upward() -> None:
    assert upward_imports(ROOT) == []


def test_an_upward_import_is_found(tmp_path: Path) -> None:
    """The check sees absolute, relative and function-level imports of a higher layer."""
    for folder in (*LAYERS, "redclump"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / "data" / "ok.py").write_text("import numpy\nfrom . import schema\n")
    (tmp_path / "core" / "bad.py").write_text(
        "from redclump.data import schema\n\ndef f():\n    from redclump.dashboard import state\n"
    )
    (tmp_path / "dashboard" / "bad.py").write_text("from redclump import locking\nfrom .. import cli\n")
    (tmp_path / "redclump" / "publish" / "bad.py").write_text(
        "from redclump.dashboard import app\nfrom .. import cli\n"
    )
    (tmp_path / "redclump" / "ok.py").write_text("from .publish import figures\nfrom redclump.dashboard import app\n")
    assert upward_imports(tmp_path) == [
        "core/bad.py:4 imports redclump.dashboard.state",
        "redclump/publish/bad.py:1 imports redclump.dashboard.app",
        "redclump/publish/bad.py:2 imports redclump.cli",
        "dashboard/bad.py:1 imports redclump.locking",
        "dashboard/bad.py:2 imports redclump.cli",
    ]


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("numpy", None),
        ("redclump", None),
        ("redclump.data.schema", 0),
        ("redclump.core", 1),
        ("redclump.publish.figures", 2),
        ("redclump.dashboard.app", 3),
        ("redclump.cli", 4),
    ],
)
def test_layer_of(module: str, layer: int | None) -> None:
    assert layer_of(module) == layer
