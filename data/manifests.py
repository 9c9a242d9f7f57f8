"""A built catalogue's identity: its folder and the digest of the manifest its build wrote.

The manifest (``_manifest.json``) records the settings and inputs of the step that wrote the
catalogue, so its digest names one build; a written selection carries it
(:func:`redclump.core.provenance.selection_provenance`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

__all__ = ["MANIFEST", "CatalogueIdentity", "catalogue_identity", "file_sha256"]

#: The file each build step writes last into its output folder.
MANIFEST = "_manifest.json"


class CatalogueIdentity(NamedTuple):
    """A catalogue folder (resolved) and the SHA-256 of its manifest."""

    path: str
    manifest_sha256: str


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def catalogue_identity(catalogue_dir: Path | str) -> CatalogueIdentity:
    """The identity of the catalogue in ``catalogue_dir``.

    Raises
    ------
    FileNotFoundError
        If the folder has no manifest (the catalogue was never completed).
    """
    catalogue_dir = Path(catalogue_dir)
    manifest = catalogue_dir / MANIFEST
    if not manifest.exists():
        msg = f"no {MANIFEST} in {catalogue_dir}: the catalogue was not completed"
        raise FileNotFoundError(msg)
    return CatalogueIdentity(str(catalogue_dir.resolve()), file_sha256(manifest))
