"""The explorer inside a Jupyter notebook: ``app = explore(workdir_or_catalogue)``.

The same page as ``redclump serve`` (:func:`redclump.dashboard.app.create_app`), shown inline,
with the selection and the cut one attribute away::

    from redclump.dashboard import explore

    app = explore(".redclump")      # a work folder, or a catalogue DataFrame
    app                             # the explorer, inline
    sample = app.selection()        # astropy QTable: units, cut and metrics in .meta
    app.cut                         # redclump.core.selection.Cut
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from redclump.core.selection import Cut
from redclump.dashboard import sample
from redclump.dashboard.app_data import AppData, frames_to_app_data, load_app_data
from redclump.dashboard.state import ExplorerState

__all__ = ["Explorer", "explore"]


class Explorer:
    """One explorer session in a notebook: displays inline; :attr:`state` holds the cut.

    Parameters
    ----------
    data
        The catalogue candidates and truth set (:class:`~redclump.dashboard.app_data.AppData`).
    """

    def __init__(self, data: AppData) -> None:
        import panel as pn
        from redclump.dashboard.app import create_app

        pn.extension()
        template = create_app(data)
        self.state: ExplorerState = template.state
        #: The page's sidebar and main area side by side: a template itself cannot be displayed
        #: inside a notebook cell.
        self.layout = pn.Row(
            pn.Column(*template.sidebar, width=330),
            pn.Column(*template.main, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    @property
    def cut(self) -> Cut:
        """The current cut (sliders and presets; the drawn region is in :meth:`selection`)."""
        return self.state.cut()

    def selection(self) -> Any:
        """The selected stars (cut and drawn region) as an astropy ``QTable``: Quantities with the
        schema's units, descriptions and UCDs, the cut, region and metrics in ``meta``."""
        return sample.selection_table(self.state)

    def write(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the selection as the app's download does (format from the suffix)."""
        from redclump.data import export

        return export.write_table(
            sample.selected_rows(self.state), Path(path), sample.selection_meta(self.state), overwrite=overwrite
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        return self.layout._repr_mimebundle_(include, exclude)

    def __repr__(self) -> str:
        return f"Explorer({self.state.data.source!r}, cut={self.cut.text()!r})"


def explore(source: str | Path | pd.DataFrame | AppData, *, truthset: pd.DataFrame | None = None) -> Explorer:
    """Open the explorer on a work folder or a catalogue, for display in a notebook.

    Parameters
    ----------
    source
        A work folder (``.redclump``: its catalogue and scored truth set, loaded once per
        process), a catalogue ``DataFrame`` with the canonical columns, or prepared ``AppData``.
    truthset
        With a ``DataFrame`` source: the scored truth set (``split``, ``class`` and the predicted
        columns) on which contamination and completeness are measured; without it they are
        reported as unavailable.

    Returns
    -------
    Explorer
        Displays inline; ``.selection()`` gives the selected stars, ``.cut`` the cut.
    """
    if isinstance(source, AppData):
        data = source
    elif isinstance(source, pd.DataFrame):
        data = frames_to_app_data(source, truthset, source="DataFrame given to explore()")
    else:
        data = load_app_data(str(Path(source).resolve()))
    return Explorer(data)
