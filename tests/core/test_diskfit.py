"""The disc fit: Galactocentric R and z against astropy, recovery of a known scale length through
a selection function (and the bias without it), and docs/selection-function.ipynb run on the
small build."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Galactic, Galactocentric
from redclump.core import diskfit
from redclump.data.galaxy import R0_KPC, Z_SUN_KPC

ROOT = Path(__file__).resolve().parents[2]


def test_galactocentric_r_and_z_agree_with_astropy() -> None:
    rng = np.random.default_rng(0)
    l_deg, b_deg, d = rng.uniform(0, 360, 200), rng.uniform(-60, 60, 200), rng.uniform(0.5, 20, 200)
    r, z = diskfit.galactocentric_rz(l_deg, b_deg, d)
    frame = Galactocentric(galcen_distance=np.hypot(R0_KPC, Z_SUN_KPC) * u.kpc, z_sun=Z_SUN_KPC * u.kpc)
    centric = Galactic(l=l_deg * u.deg, b=b_deg * u.deg, distance=d * u.kpc).transform_to(frame)
    # astropy centres the frame on Sgr A* (l = 359.94°, b = −0.05°) and tilts it by z☉/R0 (0.1°):
    # up to ~0.1° apart, 35 pc at 20 kpc.
    np.testing.assert_allclose(r, np.hypot(centric.x, centric.y).to_value(u.kpc), atol=0.05)
    np.testing.assert_allclose(z, centric.z.to_value(u.kpc), atol=0.05)


def _grid_and_expected(h_r: float, h_z: float) -> tuple[diskfit.Voxels, np.ndarray]:
    grid = diskfit.voxels(3, np.arange(0.0, 16.1, 1.0))
    rho = np.exp(-grid.r_sub / h_r - grid.z_sub / h_z)
    return grid, (rho * grid.volume_sub).sum(axis=1).reshape(16, -1)


def test_a_known_disc_is_recovered_through_its_selection_function_and_biased_without() -> None:
    grid, expected = _grid_and_expected(2.6, 0.3)
    # The cut keeps fewer stars farther out: S = 0.9 exp(−(R − 6 kpc) / 5 kpc). Without it the
    # counts fall as exp(−R (1/2.6 + 1/5)), a disc of h_R = 1.71 kpc.
    selection = 0.9 * np.exp(-(grid.r_centre.reshape(expected.shape) - 6.0) / 5.0)
    counts = np.random.default_rng(2).poisson(expected * selection * 3000)
    use = diskfit.fit_mask(selection, grid)
    fitted = diskfit.fit_disk(counts, selection, grid, mask=use)
    raw = diskfit.fit_disk(counts, np.ones_like(selection), grid, mask=use)
    assert fitted.h_r == pytest.approx(2.6, rel=0.05)
    assert fitted.h_z == pytest.approx(0.3, rel=0.05)
    assert raw.h_r == pytest.approx(1 / (1 / 2.6 + 1 / 5.0), rel=0.05)
    assert fitted.n_voxels == int(use.sum()) and fitted.n_stars == pytest.approx(counts.ravel()[use].sum())


def test_count_in_voxels_puts_stars_in_their_pixel_and_bin() -> None:
    counts = diskfit.count_in_voxels([10.0, 10.0, 200.0], [5.0, 5.0, -40.0], [0.5, 1.5, 30.0], order=1,
                                     edges=[0.0, 1.0, 2.0], weights=[0.5, 2.0, 1.0])  # fmt: skip
    assert counts.shape == (2, 48) and counts.sum() == 2.5  # the star at 30 kpc is outside
    assert counts[0].max() == 0.5 and counts[1].max() == 2.0


@pytest.mark.slow
def test_the_selection_function_notebook_runs(
    small_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("REDCLUMP_WORKDIR", str(small_build))
    notebook = nbformat.read(ROOT / "docs" / "selection-function.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, startup_timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
    client.execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "\n".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "NESTED, Galactic" in text and "parent completeness known (mock)" in text
    for name in ("with the selection function", "raw counts", "true RC stars"):
        line = next(line for line in text.splitlines() if line.startswith(f"h_R {name}:"))
        assert np.isfinite(float(line.split(":")[1].split()[0]))


def test_doctests() -> None:
    import doctest

    assert doctest.testmod(diskfit, raise_on_error=False).failed == 0
