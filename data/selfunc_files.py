"""Files behind selection functions (:mod:`redclump.core.selfunc`): the HEALPix FITS file, and
what a work folder gives to build one (the catalogue's positions, the estimate files, and on the
mock the parent catalogue's completeness).

The FITS file follows the HEALPix convention that healpy, astropy-healpix (``HEALPix.
from_header``), TOPCAT and Aladin read: one binary-table extension per quantity, one row per
pixel (``INDXSCHM = 'IMPLICIT'``), one column per bin, with ``PIXTYPE = 'HEALPIX'``,
``ORDERING = 'NESTED'``, ``COORDSYS = 'G'`` (Galactic), ``NSIDE`` and ``ORDER`` in every
extension's header. Extensions: ``COMPLETENESS`` (the cut's, relative to the catalogue),
``COMPLETENESS_ERR`` (1σ, the square root of the variance), ``N_RC`` (expected RC catalogue stars
behind each value) and, where known, ``PARENT`` (the parent catalogue's completeness). The bin
edges (``BINLO<i>``, ``BINHI<i>``, ``BINAXIS``, ``BINUNIT``), the cut (``CUT``) and the
definitions (``DEFINE``, ``PARENTDF``) are in the primary header and repeated in each extension.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
from astropy.io import fits

from . import calibration_files, mock, surveys
from .schema import BANDS
from .workdir import WorkFolder, partitions

__all__ = [
    "EXTENSIONS",
    "SelfuncFileError",
    "detection_table",
    "iter_catalogue",
    "mock_parent",
    "parent_completeness",
    "read_calibration_parts",
    "read_selfunc",
    "selfunc_bytes",
    "selfunc_hdus",
    "write_selfunc",
]

#: Extension name → the field of the selection function it holds.
EXTENSIONS = {"COMPLETENESS": "completeness", "COMPLETENESS_ERR": "variance", "N_RC": "n_rc", "PARENT": "parent"}
#: Catalogue columns a selection function reads (position terms included).
CATALOGUE_COLUMNS = ["l", "b", "phot_g_mean_mag", "a_w1", "dist"]
#: Header keys of the meta entries (FITS keys are at most 8 characters).
META_KEYS = {"cut": "CUT", "definition": "DEFINE", "parent_definition": "PARENTDF", "pseudo_stars": "PSEUDO",
             "seed": "SEED"}  # fmt: skip


class SelfuncFileError(RuntimeError):
    """A selection-function file, or a work folder's inputs to one, cannot be read."""


def read_calibration_parts(workdir: str | Path) -> dict[str, Any]:
    """The estimate files' parts (:func:`redclump.data.calibration_files.read_calibration`)."""
    parts = calibration_files.read_calibration(Path(workdir))
    if parts is None:
        msg = f"no catalogue estimate in {WorkFolder(workdir).estimates}; run `redclump infer`"
        raise SelfuncFileError(msg)
    return parts


def iter_catalogue(
    workdir: str | Path, *, columns: list[str] | None = None, progress: Callable[[int, int], None] | None = None
) -> Iterator[dict[str, npt.NDArray[Any]]]:
    """The catalogue's partitions as dicts of column arrays; ``progress(done, total)`` after each."""
    folder = WorkFolder(workdir).catalogue
    paths = partitions(folder)
    if not paths:
        msg = f"no catalogue in {folder}; run `redclump infer`"
        raise SelfuncFileError(msg)
    wanted = columns or CATALOGUE_COLUMNS
    for done, path in enumerate(paths, 1):
        table = pq.read_table(path, columns=wanted)
        yield {c: table[c].to_numpy() for c in wanted}
        if progress is not None:
            progress(done, len(paths))


def _header(parts: dict[str, Any]) -> fits.Header:
    header = fits.Header()
    order = int(parts["order"])
    header["PIXTYPE"] = ("HEALPIX", "HEALPix pixelisation")
    header["ORDERING"] = ("NESTED", "pixel ordering scheme")
    header["COORDSYS"] = ("G", "Galactic coordinates")
    header["NSIDE"] = (2**order, "resolution parameter, 2**ORDER")
    header["ORDER"] = (order, "HEALPix order")
    header["INDXSCHM"] = ("IMPLICIT", "one row per pixel, row = pixel index")
    header["OBJECT"] = ("FULLSKY", "every pixel is present")
    header["FIRSTPIX"] = 0
    header["LASTPIX"] = 12 * 4**order - 1
    by = parts["by"]
    header["BINAXIS"] = ("G" if by == "g" else "DIST", "bins of Gaia G or of RC distance")
    header["BINUNIT"] = ("mag" if by == "g" else "kpc", "unit of the bin edges")
    edges = np.asarray(parts["edges"], dtype=np.float64)
    header["NBINS"] = (len(edges) - 1, "bins: one column per bin")
    for i in range(len(edges) - 1):
        header[f"BINLO{i}"] = (float(edges[i]), f"bin {i} lower edge (inclusive)")
        header[f"BINHI{i}"] = (float(edges[i + 1]), f"bin {i} upper edge (exclusive)")
    for key, card in META_KEYS.items():
        if key in parts["meta"]:
            header[card] = parts["meta"][key]
    header["RCMETA"] = json.dumps(parts["meta"], default=str)
    return header


def selfunc_hdus(parts: dict[str, Any]) -> fits.HDUList:
    """The HEALPix FITS file of a selection function (``SelectionFunction.parts()``), in memory."""
    header = _header(parts)
    hdus: list[Any] = [fits.PrimaryHDU(header=header.copy())]
    n_bins = len(parts["edges"]) - 1
    for name, key in EXTENSIONS.items():
        values = parts.get(key)
        if values is None:
            continue
        values = np.asarray(values, dtype=np.float64)
        if key == "variance":
            values = np.sqrt(values)
        columns = [fits.Column(name=f"BIN{i}", format="E", array=values[i].astype(np.float32)) for i in range(n_bins)]
        hdus.append(fits.BinTableHDU.from_columns(columns, header=header.copy(), name=name))
    return fits.HDUList(hdus)


def selfunc_bytes(parts: dict[str, Any]) -> bytes:
    """The file :func:`write_selfunc` writes, as bytes (the app's download)."""
    buffer = io.BytesIO()
    selfunc_hdus(parts).writeto(buffer)
    return buffer.getvalue()


def write_selfunc(path: str | Path, parts: dict[str, Any], *, overwrite: bool = False) -> None:
    """Write a selection function (``SelectionFunction.parts()``) as a HEALPix FITS file,
    atomically (temporary name, then rename).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        msg = f"{path} exists; pass --overwrite to replace it"
        raise FileExistsError(msg)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        selfunc_hdus(parts).writeto(tmp, overwrite=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_selfunc(path: str | Path) -> dict[str, Any]:
    """The parts of a file written by :func:`write_selfunc`.

    Raises
    ------
    SelfuncFileError
        If the file is not such a file (no HEALPix header, not NESTED, not Galactic).
    """
    path = Path(path)
    try:
        with fits.open(path) as hdul:
            header = hdul[0].header
            for key, expected in (("PIXTYPE", "HEALPIX"), ("ORDERING", "NESTED"), ("COORDSYS", "G")):
                if str(header.get(key, "")).upper() != expected:
                    msg = f"{path}: header {key} is {header.get(key)!r}, expected {expected!r}"
                    raise SelfuncFileError(msg)
            n_bins = int(header["NBINS"])
            edges = [header[f"BINLO{i}"] for i in range(n_bins)] + [header[f"BINHI{n_bins - 1}"]]
            out: dict[str, Any] = {
                "order": int(header["ORDER"]),
                "by": "g" if header["BINAXIS"] == "G" else "dist",
                "edges": np.array(edges, dtype=np.float64),
                "meta": json.loads(header.get("RCMETA", "{}")),
                "parent": None,
            }
            names = [hdu.name for hdu in hdul[1:]]
            for name, key in EXTENSIONS.items():
                if name not in names:
                    continue
                data = hdul[name].data
                values = np.stack([np.asarray(data[f"BIN{i}"], dtype=np.float64) for i in range(n_bins)])
                out[key] = values**2 if key == "variance" else values
    except (OSError, KeyError, ValueError) as exc:
        if isinstance(exc, SelfuncFileError):
            raise
        msg = f"cannot read a selection function from {path}: {exc}"
        raise SelfuncFileError(msg) from None
    missing = [k for k in ("completeness", "variance", "n_rc") if k not in out]
    if missing:
        msg = f"{path} lacks the extension(s) for {', '.join(missing)}"
        raise SelfuncFileError(msg)
    return out


def _rc_absolute_magnitudes(workdir: Path, n: int, seed: int) -> npt.NDArray[np.float64] | None:
    """Absolute magnitudes in every band of ``n`` of the mock's bright RC catalogue stars (G < 16,
    where the noise is at its floor): m − μ(true distance) − R E(B−V)(true A_V); None if the
    catalogue has no truth columns."""
    wanted = ["true_state", "true_dist", "true_av", *BANDS]
    rows = []
    for frame in iter_catalogue(workdir, columns=wanted):
        rc = (frame["true_state"].astype(str) == "RC") & (frame["phot_g_mean_mag"] < 16.0)
        if rc.any():
            mu = 5 * np.log10(frame["true_dist"][rc].astype(np.float64) * 100.0)
            ebv = frame["true_av"][rc].astype(np.float64) / surveys.R_V
            rows.append(np.stack([frame[b][rc] - mu - surveys.EXTINCTION_R[b] * ebv for b in BANDS], axis=1))
        if sum(len(r) for r in rows) >= 20 * n:
            break
    if not rows:
        return None
    absolute = np.concatenate(rows)
    pick = np.random.default_rng(seed).choice(len(absolute), size=min(n, len(absolute)), replace=False)
    return absolute[pick]


def detection_table(
    absolute: npt.NDArray[np.float64], mu: npt.NDArray[np.float64], ebv: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Share of stars with absolute magnitudes ``absolute`` (stars, bands in :data:`BANDS`
    order) that every band measures (:func:`redclump.data.surveys.detected`) at each distance
    modulus ``mu`` and E(B−V) ``ebv``: (len(mu), len(ebv))."""
    r_ext = np.array([surveys.EXTINCTION_R[b] for b in BANDS])
    seen = np.ones((len(mu), len(ebv), len(absolute)), dtype=bool)
    for k, band in enumerate(BANDS):
        shift = mu[:, None] + r_ext[k] * ebv[None, :]
        seen &= surveys.detected(band, shift[:, :, None] + absolute[None, None, :, k])
    return seen.mean(axis=-1)


def parent_completeness(
    absolute: npt.NDArray[np.float64],
    dust: Any,
    *,
    order: int,
    edges: npt.ArrayLike,
    points: int = 4,
    depths: int = 2,
    seed: int = 0,
) -> npt.NDArray[np.float64]:
    """The mock's parent completeness for RC stars per (distance bin, pixel): the share of RC
    stars (absolute magnitudes ``absolute``, (stars, bands)) at random places in the pixel and
    bin that the mock's input keeps (PS1 footprint δ > −30°, every band unsaturated and detected,
    :func:`redclump.data.surveys.observe`) behind ``dust`` (:class:`~redclump.data.galaxy.
    DustModel`). Places are ``points`` per pixel × ``depths`` per bin, uniform in volume; the
    detected share is looked up in a table of distance modulus (0.05 mag steps) and E(B−V)
    (0.05 mag steps up to 12 mag, beyond which no RC star is measured in PS1 g)."""
    import astropy.units as u
    from astropy.coordinates import ICRS, Galactic
    from astropy_healpix import healpix_to_lonlat

    rng = np.random.default_rng(seed)
    edges = np.asarray(edges, dtype=np.float64)
    mu_grid = np.arange(0.0, 20.001, 0.05)
    ebv_grid = np.arange(0.0, 12.001, 0.05)
    table = detection_table(absolute, mu_grid, ebv_grid)
    n_pix = 12 * 4**order
    pixels = np.repeat(np.arange(n_pix), points)
    lon, lat = healpix_to_lonlat(pixels, 2**order, dx=rng.random(pixels.size), dy=rng.random(pixels.size),
                                 order="nested")  # fmt: skip
    l_deg, b_deg = lon.to_value(u.deg), lat.to_value(u.deg)
    dec = Galactic(l=l_deg * u.deg, b=b_deg * u.deg).transform_to(ICRS()).dec.to_value(u.deg)
    out = np.zeros((len(edges) - 1, n_pix))
    for j in range(len(edges) - 1):
        lo, hi = max(edges[j], 0.01), edges[j + 1]
        kept = np.zeros(pixels.size)
        for _ in range(depths):
            d = np.cbrt(lo**3 + (hi**3 - lo**3) * rng.random(pixels.size))
            ebv = dust.a_v(l_deg, b_deg, d) / surveys.R_V
            i_mu = np.clip(np.rint(5 * np.log10(d * 100.0) / 0.05).astype(np.int64), 0, len(mu_grid) - 1)
            i_ebv = np.rint(ebv / 0.05).astype(np.int64)
            share = np.where(i_ebv < len(ebv_grid), table[i_mu, np.minimum(i_ebv, len(ebv_grid) - 1)], 0.0)
            kept += share * (dec > -30.0)
        out[j] = (kept / depths).reshape(n_pix, points).mean(axis=1)
    return out


def mock_parent(
    workdir: str | Path, *, by: str, order: int, edges: npt.ArrayLike, stars: int = 100, seed: int = 0
) -> npt.NDArray[np.float64] | None:
    """The parent catalogue's completeness for RC stars on a mock built in ``workdir`` (by RC
    distance; :func:`parent_completeness`), None for real data or maps binned in G (there it
    depends on the Galaxy's distribution along each sight line, and is not computed)."""
    manifest = mock.read_manifest(Path(workdir))
    if manifest is None or by != "dist":
        return None
    absolute = _rc_absolute_magnitudes(Path(workdir), stars, seed)
    if absolute is None:
        return None
    from .galaxy import DustModel

    dust = DustModel.from_seed(int(manifest["config"]["seed"]))
    return parent_completeness(absolute, dust, order=order, edges=edges, seed=seed)
