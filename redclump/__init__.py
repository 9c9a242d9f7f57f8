"""redclump: a photometric red clump catalogue you can explore, tune and publish.

The code lives in three layers, imported one way: :mod:`redclump.data` (schema, I/O, the mock
Milky Way) → :mod:`redclump.core` (MDNs, distances, cuts, metrics) → :mod:`redclump.dashboard`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("redclump")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
