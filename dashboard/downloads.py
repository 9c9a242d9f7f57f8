"""What the app offers to download, one registry entry each (:data:`DOWNLOADS`).

:func:`redclump.dashboard.app.create_app` makes a button for every entry, with a choice box
before it when the entry has choices (a file format, a view). A new download is one more
:class:`Download` here; nothing in the page's assembly changes.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import sample
from .completeness import selfunc_fits
from .state import ExplorerState
from .views import VIEWS, SelectionCache, render_png

__all__ = ["DOWNLOADS", "Download", "figures_zip", "numbers_json"]


@dataclass(frozen=True)
class Download:
    """One download of the page.

    ``make(state, cache, choice)`` returns the file's bytes for this session's selection;
    ``filename`` may hold ``{choice}``, the value picked among ``choices`` (the first by
    default; no choice box without choices).
    """

    key: str
    label: str
    filename: str
    make: Callable[[ExplorerState, SelectionCache, str], bytes]
    choices: tuple[str, ...] = ()
    choice_label: str = ""
    choice_width: int = 120
    color: str = "default"

    def name_for(self, choice: str) -> str:
        """The file name offered for ``choice``."""
        return self.filename.format(choice=choice)


def numbers_json(state: ExplorerState, _cache: SelectionCache, _choice: str) -> bytes:
    """The numbers panel's values for the current selection, as JSON."""
    return json.dumps(dict(state.numbers()), default=float, indent=2).encode()


def figures_zip(state: ExplorerState, _cache: SelectionCache, _choice: str) -> bytes:
    """The paper figures for the current cut, as `redclump figures` draws them
    (:func:`redclump.publish.figures.write_figures`, from the app's candidates and scored truth
    set; no saliency, which needs the models), as PNGs in a zip with the cut in ``cut.txt``."""
    from redclump.publish.figures import write_figures  # matplotlib: loaded on the first zip

    cut = state.cut()
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="redclump-figures-") as tmp, zipfile.ZipFile(buffer, "w") as archive:
        made = write_figures(state.data.catalogue, state.data.scored, None, cut, Path(tmp), fmt="png")
        for name in made:
            archive.write(Path(tmp) / f"{name}.png", f"{name}.png")
        archive.writestr("cut.txt", cut.text() + "\n")
    return buffer.getvalue()


DOWNLOADS: tuple[Download, ...] = (
    Download(
        "sample",
        "Download selected sample",
        "redclump_sample{choice}",
        lambda state, _cache, suffix: sample.export_bytes(state, suffix),
        choices=sample.EXPORT_SUFFIXES,
        choice_label="Sample format",
        color="success",
    ),
    Download(
        "png",
        "Download view PNG",
        "redclump_{choice}.png",
        lambda state, cache, view: render_png(state, cache, view),
        choices=tuple(VIEWS),
        choice_label="View PNG",
        choice_width=140,
    ),
    Download("numbers", "Download numbers", "redclump_numbers.json", numbers_json),
    Download("figures", "Download figures (zip)", "redclump_figures.zip", figures_zip),
    Download(
        "selfunc",
        "Download completeness (FITS)",
        "redclump_selfunc.fits",
        lambda state, _cache, _choice: selfunc_fits(state),
    ),
)
