"""Galactic structure of the mock Milky Way: where stars are and how much dust lies in front.

Every number is a literature value collected in ``shared/reference/physics.md``; the section is
quoted next to it. Positions are Galactocentric Cartesian in kpc with the Sun on the negative x
axis (astropy's convention), so ``x = -R0`` at the Sun and the bar's near end is at l > 0.

Components and their sources
----------------------------
* Thin disk, six age bins 0.15–10 Gyr: Koshimoto et al. 2021 as used by SynthPop Huston2025
  (physics.md §5.2): local density, scale length, sech² scale height flaring linearly between its
  value at the Sun and at R = 4.5 kpc, surface density flat inside R_break = 5.3 kpc. The
  youngest bin (0–0.15 Gyr) is left out: it has not yet made red giants.
* Thick disk: same source, exponential in R (2.2 kpc) and |z| (0.903 kpc), 12 Gyr.
* Bar/bulge: triaxial exponential with SynthPop's scale lengths (0.67, 0.29, 0.27 kpc) and
  ρ0 = 1.326e10 M☉ kpc⁻³, rotated by the Wegg & Gerhard (2013) bar angle of 27°; 10 Gyr.
  SynthPop's Huston2025 bulge uses these numbers in Dwek et al. 1995's E3 form (ρ0 K0(r_s), boxy
  r_s, 29.4°), whose mass is 1.80e10 M☉; the mock's ellipsoidal exp(−r) (Dwek's E2) holds
  1.75e10 M☉. Its mass in the VVV box and towards the bulge is tested against Portail et al. 2015
  and Valenti et al. 2016.
* Halo: Besançon power law ρ ∝ a^-2.44, a = √(R² + (z/0.76)²), cored at 0.5 kpc (§5.4).
* Sun: R0 = 8.178 kpc, z☉ = 17 pc (GRAVITY; §5.1).
* Dust: exponential disk, scale length 3.192 kpc and scale height 103 pc (Li et al. 2018, §4.2),
  normalised to 1.0 mag kpc⁻¹ in A_V at the Sun, radial growth capped inside R = 3 kpc, with a
  log-normal patchiness of 0.35 dex per 0.5° sight-line cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "COMPONENTS",
    "R0_KPC",
    "Z_SUN_KPC",
    "Component",
    "DustModel",
    "component_masses",
    "sample_positions",
]

R0_KPC = 8.178
Z_SUN_KPC = 0.017
BAR_ANGLE_DEG = 27.0

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Component:
    """One stellar population of the Galaxy model.

    ``age_gyr`` is the (min, max) age range; ``feh`` one or two (weight, mean, sigma) Gaussians.
    ``geometry`` selects the density law; the other fields are its parameters.
    """

    name: str
    geometry: str
    age_gyr: tuple[float, float]
    feh: tuple[tuple[float, float, float], ...]
    rho_sun: float = 0.0  # M☉ kpc⁻³ at the Sun (disks, halo) or at the centre (bulge)
    scale_length: float = 0.0  # kpc
    scale_height_sun: float = 0.0  # kpc
    scale_height_45: float = 0.0  # kpc, thin disk flare anchor at R = 4.5 kpc


#: The Galaxy model (physics.md §5.2–5.4).
COMPONENTS: tuple[Component, ...] = (
    Component("thin_0.15-1", "thin", (0.15, 1.0), ((1.0, 0.00, 0.12),), 5.3e6, 2.6, 0.141, 0.085),
    Component("thin_1-2", "thin", (1.0, 2.0), ((1.0, -0.02, 0.12),), 4.1e6, 2.6, 0.224, 0.134),
    Component("thin_2-3", "thin", (2.0, 3.0), ((1.0, 0.01, 0.11),), 3.5e6, 2.6, 0.292, 0.175),
    Component("thin_3-5", "thin", (3.0, 5.0), ((1.0, -0.07, 0.18),), 6.7e6, 2.6, 0.372, 0.223),
    Component("thin_5-7", "thin", (5.0, 7.0), ((1.0, -0.14, 0.17),), 7.3e6, 2.6, 0.440, 0.264),
    Component("thin_7-10", "thin", (7.0, 10.0), ((1.0, -0.37, 0.20),), 1.6e7, 2.6, 0.445, 0.267),
    Component("thick", "thick", (11.0, 13.0), ((1.0, -0.78, 0.30),), 2.14e6, 2.2, 0.903),
    Component("bulge", "bulge", (8.0, 12.0), ((0.323, -0.31, 0.31), (0.677, 0.26, 0.20)), 1.32585e10),
    Component("halo", "halo", (12.0, 14.0), ((1.0, -1.78, 0.50),), 9.32e3),
)

_R_BREAK = 5.3
_BULGE_SCALES = (0.67, 0.29, 0.27)
_HALO_E, _HALO_CORE, _HALO_SLOPE, _HALO_RMAX = 0.76, 0.5, 2.44, 60.0
_DISK_RMAX = 20.0


def _thin_surface_density(comp: Component, radius: FloatArray) -> FloatArray:
    """Σ(R) in M☉ kpc⁻²: the sech² profile integrates to 2 ρ☉ z☉ at every R (flare-invariant)."""
    effective = np.maximum(radius, _R_BREAK)
    return comp.rho_sun * 2 * comp.scale_height_sun * np.exp(-(effective - R0_KPC) / comp.scale_length)


def component_masses() -> dict[str, float]:
    """Stellar mass of each component in M☉, integrated numerically from its density law.

    Examples
    --------
    >>> masses = component_masses()
    >>> bool(1e10 < masses["bulge"] < 3e10)
    True
    """
    grid = np.linspace(0.0, _DISK_RMAX, 4001)
    masses = {}
    for comp in COMPONENTS:
        if comp.geometry == "thin":
            integrand = 2 * np.pi * grid * _thin_surface_density(comp, grid)
            masses[comp.name] = float(np.trapezoid(integrand, grid))
        elif comp.geometry == "thick":
            sigma = comp.rho_sun * 2 * comp.scale_height_sun * np.exp(-(grid - R0_KPC) / comp.scale_length)
            masses[comp.name] = float(np.trapezoid(2 * np.pi * grid * sigma, grid))
        elif comp.geometry == "bulge":
            # ∫ ρ0 exp(-r_s) dV with r_s the scaled radius: 8π x0 y0 z0 ρ0.
            masses[comp.name] = 8 * np.pi * np.prod(_BULGE_SCALES) * comp.rho_sun
        else:
            a = np.linspace(0.0, _HALO_RMAX, 6001)
            rho = comp.rho_sun * (np.maximum(a, _HALO_CORE) / R0_KPC) ** -_HALO_SLOPE
            masses[comp.name] = float(np.trapezoid(4 * np.pi * a**2 * rho * _HALO_E, a))
    return masses


def _inverse_cdf(grid: FloatArray, pdf: FloatArray, uniform: FloatArray) -> FloatArray:
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    return np.interp(uniform * cdf[-1], cdf, grid)


def sample_positions(comp: Component, n: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw ``n`` Galactocentric positions (x, y, z in kpc) from a component's density.

    Examples
    --------
    >>> x, y, z = sample_positions(COMPONENTS[-2], 1000, np.random.default_rng(1))
    >>> bool(np.median(np.hypot(x, y)) < 2.0)
    True
    """
    if comp.geometry in ("thin", "thick"):
        grid = np.linspace(0.0, _DISK_RMAX, 2001)
        thin = comp.geometry == "thin"
        sigma = _thin_surface_density(comp, grid) if thin else np.exp(-grid / comp.scale_length)
        radius = _inverse_cdf(grid, grid * sigma, rng.random(n))
        phi = rng.uniform(0.0, 2 * np.pi, n)
        if comp.geometry == "thin":
            # Scale height flares linearly from z45 (R = 4.5 kpc) to z☉ (R0) and beyond.
            slope = (comp.scale_height_sun - comp.scale_height_45) / (R0_KPC - 4.5)
            height = np.maximum(comp.scale_height_45 + slope * (radius - 4.5), comp.scale_height_45)
            z = height * np.arctanh(np.clip(2 * rng.random(n) - 1, -0.999999, 0.999999))
        else:
            z = rng.laplace(0.0, comp.scale_height_sun, n)
        return radius * np.cos(phi), radius * np.sin(phi), z
    if comp.geometry == "bulge":
        # Scaled radius r_s has pdf ∝ r_s² exp(-r_s): a Gamma(3) variate.
        r_s = rng.gamma(3.0, 1.0, n)
        direction = rng.normal(size=(3, n))
        direction /= np.linalg.norm(direction, axis=0)
        xb, yb, zb = (r_s * direction[i] * _BULGE_SCALES[i] for i in range(3))
        angle = np.deg2rad(BAR_ANGLE_DEG)
        # Bar major axis points from the GC towards the Sun's side at positive longitude.
        x = -xb * np.cos(angle) + yb * np.sin(angle)
        y = xb * np.sin(angle) + yb * np.cos(angle)
        return x, y, zb
    grid = np.linspace(0.0, _HALO_RMAX, 6001)
    a = _inverse_cdf(grid, grid**2 * (np.maximum(grid, _HALO_CORE) / R0_KPC) ** -_HALO_SLOPE, rng.random(n))
    cos_theta = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    return a * sin_theta * np.cos(phi), a * sin_theta * np.sin(phi), a * _HALO_E * cos_theta


@dataclass(frozen=True)
class DustModel:
    """A smooth 3-D dust disk with per-sight-line patchiness (physics.md §4.2).

    ``patch_table`` holds one log-normal factor per 0.5° × 0.5° cell of (l, b); it is drawn once
    per mock from the run's seed so that every partition sees the same clouds.
    """

    patch_table: npt.NDArray[np.float32]
    av_per_kpc: float = 1.0
    scale_length: float = 3.192
    scale_height: float = 0.103
    r_floor: float = 3.0
    cell_deg: float = 0.5
    nodes: int = 24

    @classmethod
    def from_seed(cls, seed: int, *, patch_dex: float = 0.35) -> DustModel:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xD057]))
        n_l, n_b = int(360 / 0.5), int(180 / 0.5)
        # Mean-one log-normal so the smooth model keeps its normalisation on average.
        sigma_ln = patch_dex * np.log(10)
        table = np.exp(rng.normal(-0.5 * sigma_ln**2, sigma_ln, size=(n_l, n_b)))
        return cls(patch_table=table.astype(np.float32))

    def _density(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        radius = np.maximum(np.hypot(x, y), self.r_floor)
        return self.av_per_kpc * np.exp(-(radius - R0_KPC) / self.scale_length - np.abs(z) / self.scale_height)

    def a_v(self, l_deg: FloatArray, b_deg: FloatArray, dist_kpc: FloatArray) -> FloatArray:
        """Integrated A_V (mag) from the Sun to each star along its sight line.

        Gauss–Legendre quadrature in t with s = d t², which puts nodes where the thin dust layer
        is, near the Sun.
        """
        t, w = np.polynomial.legendre.leggauss(self.nodes)
        t, w = 0.5 * (t + 1.0), 0.5 * w
        lr, br = np.deg2rad(l_deg), np.deg2rad(b_deg)
        cl, sl, cb, sb = np.cos(lr), np.sin(lr), np.cos(br), np.sin(br)
        total = np.zeros_like(dist_kpc)
        for ti, wi in zip(t, w, strict=True):
            s = dist_kpc * ti * ti
            x = -R0_KPC + s * cb * cl
            y = s * cb * sl
            z = Z_SUN_KPC + s * sb
            total += wi * 2 * ti * dist_kpc * self._density(x, y, z)
        i_l = (np.mod(l_deg, 360.0) / self.cell_deg).astype(np.int64) % self.patch_table.shape[0]
        i_b = np.clip(((b_deg + 90.0) / self.cell_deg).astype(np.int64), 0, self.patch_table.shape[1] - 1)
        return total * self.patch_table[i_l, i_b]
