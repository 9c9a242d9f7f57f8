"""redclump: a photometric red clump catalogue you can explore, tune and publish.

The code lives in layers, imported one way: :mod:`redclump.data` (schema, I/O, the work folder,
the mock Milky Way) → :mod:`redclump.core` (MDNs, distances, cuts, metrics) →
:mod:`redclump.publish` (paper figures, report) → :mod:`redclump.dashboard` → the command line
and the pipeline's steps (docs/architecture.md).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("redclump")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
