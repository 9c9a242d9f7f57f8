"""The Completeness view: the app's maps are `redclump selfunc`'s for the same cut, follow the
sliders, and download as a HEALPix FITS file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from redclump.core.selection import TIER1, TIER2
from redclump.core.selfunc import SelectionFunction
from redclump.dashboard.app_data import load_app_data
from redclump.dashboard.completeness import APP_ORDER, CompletenessView, selfunc_fits
from redclump.dashboard.state import ExplorerState
from redclump.data import selfunc_files

pytestmark = pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")


@pytest.fixture(scope="module")
def view(small_build: Path) -> CompletenessView:
    state = ExplorerState(load_app_data(str(small_build)))
    state.apply_preset("tier2")
    return CompletenessView(state)


def test_the_app_map_is_the_command_s_map(view: CompletenessView, small_build: Path) -> None:
    app = view.current()
    assert app is not None and app.meta["cut"] == TIER2.text()
    command = SelectionFunction.from_workdir(small_build, TIER2, order=APP_ORDER)
    np.testing.assert_allclose(app.completeness, command.completeness, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(app.n_rc, command.n_rc, rtol=1e-12)


def test_the_map_follows_the_cut(view: CompletenessView) -> None:
    tier2 = view.current()
    view.state.apply_preset("tier1")
    tier1 = view.current()
    assert tier1 is not None and tier2 is not None and tier1.meta["cut"] == TIER1.text()
    held = np.isfinite(tier1.completeness) & np.isfinite(tier2.completeness)
    assert (tier1.completeness[held] <= tier2.completeness[held] + 1e-12).mean() > 0.99  # Tier 1 is tighter
    image = view.image(15.5)
    values = image.dimension_values("completeness")
    assert image.kdims[0].name == "l" and np.nanmax(values) <= 1.0 and np.isfinite(values).any()
    view.state.apply_preset("tier2")


def test_the_download_is_a_healpix_file_of_the_current_cut(view: CompletenessView, tmp_path: Path) -> None:
    path = tmp_path / "download.fits"
    path.write_bytes(selfunc_fits(view.state))
    parts = selfunc_files.read_selfunc(path)
    assert parts["order"] == APP_ORDER and parts["meta"]["cut"] == TIER2.text()
    current = view.current()
    assert current is not None
    np.testing.assert_allclose(parts["completeness"], current.completeness, rtol=1e-6, equal_nan=True)


def test_the_page_has_the_tab_and_the_download_beside_the_others(view: CompletenessView) -> None:
    import panel as pn
    from redclump.dashboard.app import create_app

    page = create_app(view.state.data)
    main = page.main[0]
    tabs = list(main.select(pn.Tabs))
    assert any("Completeness" in tab._names for tab in tabs)
    labels = [w.label for w in main.select(pn.widgets.FileDownload)]
    assert "Download completeness (FITS)" in labels and "Download selected sample" in labels
    row = next(r for r in main.select(pn.Row) if any(getattr(o, "label", "") == "Download numbers" for o in r))
    assert any(getattr(o, "label", "") == "Download completeness (FITS)" for o in row)
