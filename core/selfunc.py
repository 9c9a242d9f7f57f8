r"""The selection function of a cut, as a callable: :class:`SelectionFunction` holds HEALPix maps
(Galactic, NESTED) of a cut's completeness over bins of G or RC distance, with variances and,
where known, the parent catalogue's completeness, and looks them up for ``SkyCoord``\ s.

How the maps are made (the definition, the borrowing from coarser HEALPix levels, the
uncertainty, the parent part) is in :mod:`redclump.core.selfunc_maps`; the method and its
accuracy on the mock are in docs/selection-function.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .estimates import ClassRates
from .selfunc_maps import (
    BINNINGS,
    DEFAULT_ORDER,
    DEFINITION,
    DIST_BIN_EDGES,
    G_BIN_EDGES,
    PARENT_MOCK,
    PARENT_UNKNOWN,
    PSEUDO_STARS,
    Binning,
    SelfuncError,
    SkyCounts,
    _bin_index,
    _check_order,
    _edges,
    completeness_maps,
    count_stars,
    healpix_index,
)

__all__ = ["DEFAULT_ORDER", "DIST_BIN_EDGES", "G_BIN_EDGES", "SelectionFunction", "SelfuncError"]

FloatArray = npt.NDArray[np.float64]


def _galactic(coords: Any) -> tuple[FloatArray, FloatArray, Any]:
    """(l, b) in degrees and the distance (or None) of SkyCoord-like ``coords``."""
    import astropy.units as u
    from astropy.coordinates import BaseCoordinateFrame, Galactic, SkyCoord, UnitSphericalRepresentation

    if not isinstance(coords, SkyCoord | BaseCoordinateFrame):
        msg = f"coords must be an astropy SkyCoord (or coordinate frame), got {type(coords).__name__}"
        raise TypeError(msg)
    frame = coords.frame if isinstance(coords, SkyCoord) else coords
    if isinstance(frame, Galactic):
        gal = frame
    else:
        try:
            gal = coords.transform_to(Galactic())
        except Exception as exc:  # astropy raises several types for frames it cannot convert
            msg = (
                f"cannot convert coordinates in frame '{frame.name}' to Galactic ({exc}); "
                "give them in a frame astropy can transform (icrs, fk5, galactic, …)"
            )
            raise SelfuncError(msg) from None
    distance = None
    if not isinstance(gal.data, UnitSphericalRepresentation):
        candidate = gal.spherical.distance
        if candidate.unit.physical_type == "length":
            distance = candidate
    l_deg = np.asarray(gal.spherical.lon.to_value(u.deg), dtype=np.float64)
    b_deg = np.asarray(gal.spherical.lat.to_value(u.deg), dtype=np.float64)
    return l_deg, b_deg, distance


def _as_unit(value: Any, unit: str, what: str, *, bare_ok: bool) -> FloatArray:
    import astropy.units as u

    if isinstance(value, u.Quantity):
        try:
            return np.asarray(value.to_value(u.Unit(unit)), dtype=np.float64)
        except u.UnitConversionError:
            msg = f"{what} must be in {unit}, got a Quantity in '{value.unit}'"
            raise u.UnitsError(msg) from None
    if not bare_ok:
        msg = f"{what} must be a Quantity with a length unit (e.g. 8 * u.kpc), got {type(value).__name__}"
        raise TypeError(msg)
    return np.asarray(value, dtype=np.float64)


@dataclass
class SelectionFunction:
    """A cut's completeness on the sky: HEALPix maps (Galactic, NESTED) over bins of G or RC
    distance, with variances, and the parent catalogue's own completeness where it is known.

    Attributes
    ----------
    order
        HEALPix order (NSIDE = 2**order).
    by
        ``"g"`` (Gaia G, mag) or ``"dist"`` (RC distance, kpc).
    edges
        Bin edges, (bins + 1,).
    completeness
        The cut's completeness relative to the catalogue, (bins, pixels).
    variance
        Its variance, (bins, pixels).
    n_rc
        Expected RC catalogue stars behind each value before borrowing, (bins, pixels).
    parent
        The parent catalogue's completeness for RC stars (bins, pixels), or None where unknown
        (then S is relative to the input catalogue).
    meta
        ``cut``, ``definition``, ``parent_definition`` and other provenance (strings or numbers).

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> maps = np.full((1, 12), 0.25)
    >>> sf = SelectionFunction(0, "g", np.array([13.0, 14.0]), maps, maps * 0.0, maps * 0.0 + 100)
    >>> sf.query(SkyCoord(l=[10.0, 200.0] * u.deg, b=[5.0, -60.0] * u.deg, frame="galactic"), 13.5).tolist()
    [0.25, 0.25]
    """

    order: int
    by: Binning
    edges: FloatArray
    completeness: FloatArray
    variance: FloatArray
    n_rc: FloatArray
    parent: FloatArray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.order = _check_order(self.order)
        self.edges = _edges(self.by, self.edges)
        shape = (len(self.edges) - 1, 12 * 4**self.order)
        for name in ("completeness", "variance", "n_rc", "parent"):
            array = getattr(self, name)
            if array is None:
                continue
            array = np.asarray(array, dtype=np.float64)
            if array.shape != shape:
                msg = f"{name} must have shape (bins, pixels) = {shape}, got {array.shape}"
                raise SelfuncError(msg)
            setattr(self, name, array)

    @property
    def nside(self) -> int:
        return 2**self.order

    @property
    def unit(self) -> str:
        return BINNINGS[self.by][1]

    def query(
        self,
        coords: Any,
        g: Any = None,
        *,
        distance: Any = None,
        return_variance: bool = False,
        with_parent: bool = False,
    ) -> Any:
        """The probability that an RC catalogue star at ``coords`` (and G or distance) is
        selected.

        Parameters
        ----------
        coords
            ``SkyCoord`` in any frame astropy can transform to Galactic.
        g
            Gaia G (mag; a number or a Quantity in mag), for a map binned in G.
        distance
            RC distance (a Quantity of length), for a map binned in distance; default the
            distance of ``coords`` where it has one.
        return_variance
            Also return the variance.
        with_parent
            Multiply by the parent catalogue's completeness (only where it is known): the
            probability for an RC star of the Galaxy rather than of the input catalogue.

        Returns
        -------
        numpy.ndarray or tuple
            The probability, shaped as the broadcast of coords and g (or distance); NaN outside
            the bins. With ``return_variance``, (probability, variance).

        Raises
        ------
        TypeError
            If ``coords`` is not a SkyCoord, or a distance has no unit.
        astropy.units.UnitsError
            If G is not in mag or the distance is not a length.
        SelfuncError
            If the frame cannot be converted to Galactic, the wrong axis is given, or the parent
            part is asked for and unknown.
        """
        l_deg, b_deg, coord_distance = _galactic(coords)
        if self.by == "g":
            if distance is not None:
                msg = "this selection function is binned in G: query it with g=…, not distance=…"
                raise SelfuncError(msg)
            if g is None:
                msg = "say the stars' G: sf.query(coords, g)"
                raise SelfuncError(msg)
            x = _as_unit(g, "mag", "g", bare_ok=True)
        else:
            if g is not None:
                msg = "this selection function is binned in RC distance: query it with distance=…, not g"
                raise SelfuncError(msg)
            if distance is None:
                distance = coord_distance
            if distance is None:
                msg = "say the stars' distance: sf.query(coords, distance=d * u.kpc), or give coords a distance"
                raise SelfuncError(msg)
            x = _as_unit(distance, "kpc", "distance", bare_ok=False)
        if with_parent and self.parent is None:
            msg = (
                "the parent catalogue's completeness is not known for this map (it is relative to the input catalogue)"
            )
            raise SelfuncError(msg)
        l_deg, b_deg, x = np.broadcast_arrays(l_deg, b_deg, x)
        pixel = healpix_index(l_deg.ravel(), b_deg.ravel(), self.order)
        binned = _bin_index(x.ravel(), self.edges)
        inside = binned >= 0
        where = (np.where(inside, binned, 0), pixel)
        value = np.where(inside, self.completeness[where], np.nan)
        variance = np.where(inside, self.variance[where], np.nan)
        if with_parent and self.parent is not None:
            parent = np.where(inside, self.parent[where], np.nan)
            variance = variance * parent**2
            value = value * parent
        value = value.reshape(x.shape)
        return (value, variance.reshape(x.shape)) if return_variance else value

    @classmethod
    def from_counts(
        cls,
        counts: SkyCounts,
        rates: ClassRates,
        shares: FloatArray,
        share_draws: FloatArray,
        *,
        meta: Mapping[str, Any] | None = None,
        parent: FloatArray | None = None,
        seed: int = 0,
        pseudo_stars: float = PSEUDO_STARS,
    ) -> SelectionFunction:
        """Build one from star counts and a cut's rates (:func:`completeness_maps`)."""
        maps = completeness_maps(counts, rates, shares, share_draws, seed=seed, pseudo_stars=pseudo_stars)
        info = {"pseudo_stars": pseudo_stars, "seed": seed, **(meta or {})}
        return cls(counts.order, counts.by, counts.edges, maps["completeness"], maps["variance"], maps["n_rc"],
                   parent, info)  # fmt: skip

    @classmethod
    def read(cls, path: str | Path) -> SelectionFunction:
        """Read a FITS file written by :meth:`write` or ``redclump selfunc``."""
        from redclump.data import selfunc_files

        return cls(**selfunc_files.read_selfunc(path))

    def write(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write the maps as a HEALPix FITS file (:mod:`redclump.data.selfunc_files`)."""
        from redclump.data import selfunc_files

        selfunc_files.write_selfunc(path, self.parts(), overwrite=overwrite)

    def parts(self) -> dict[str, Any]:
        """The fields as a dict (what :mod:`redclump.data.selfunc_files` writes)."""
        return {
            "order": self.order,
            "by": self.by,
            "edges": self.edges,
            "completeness": self.completeness,
            "variance": self.variance,
            "n_rc": self.n_rc,
            "parent": self.parent,
            "meta": dict(self.meta),
        }

    @classmethod
    def from_workdir(
        cls,
        workdir: str | Path,
        cut: Any,
        *,
        by: Binning = "g",
        order: int = DEFAULT_ORDER,
        edges: npt.ArrayLike | None = None,
        seed: int = 0,
        pseudo_stars: float = PSEUDO_STARS,
        progress: Callable[[int, int], None] | None = None,
    ) -> SelectionFunction:
        """The selection function of ``cut`` over a built work folder's catalogue
        (:func:`redclump.data.selfunc_files.selfunc_inputs` reads what it needs)."""
        from redclump.data import selfunc_files

        from .estimates import Calibration

        _check_order(order)
        edges_array = _edges(by, edges)
        parts = selfunc_files.read_calibration_parts(workdir)
        calibration = Calibration.from_parts(parts)
        columns = sorted({*selfunc_files.CATALOGUE_COLUMNS, *cut.required_columns()})
        counts = []
        for frame in selfunc_files.iter_catalogue(workdir, columns=columns, progress=progress):
            counts.append(
                count_stars(
                    frame["l"],
                    frame["b"],
                    frame["phot_g_mean_mag"],
                    frame["a_w1"],
                    frame["dist"],
                    order=order,
                    by=by,
                    edges=edges_array,
                    selected=cut.mask(frame),
                )
            )
        parent = selfunc_files.mock_parent(workdir, by=by, order=order, edges=edges_array)
        meta = {
            "cut": cut.text(),
            "definition": DEFINITION[by],
            "parent_definition": PARENT_MOCK if parent is not None else PARENT_UNKNOWN,
        }
        return cls.from_counts(
            SkyCounts.merge(counts), calibration.rates(cut), calibration.shares, calibration.share_draws,
            meta=meta, parent=parent, seed=seed, pseudo_stars=pseudo_stars,
        )  # fmt: skip
