"""How many real stars one simulated giant of the mock stands for.

The mock draws its giants in proportion to :func:`redclump.data.mock.giant_weights` but their
number is set by ``n_stars``; the Galaxy model itself says how many giants it holds. For each
component (a constant star formation rate over its ages, :mod:`redclump.data.galaxy`):

    M_formed  = M_present / f̄,   f̄ = mean over its ages of the mass still in stars and remnants
    N_giants  = M_formed · A · ⟨φ(M_TO) |dM_TO/dt| τ⟩ (the evolutionary flux × phase lifetime,
                :func:`redclump.data.evolution.age_pdf`)

with A the normalisation of the Kroupa (2001) IMF to one solar mass formed between
:data:`IMF_MASS_RANGE`. The surviving fraction f(t) counts living stars (M < M_TO(t)) at their
initial mass and dead ones at their remnant mass: white dwarfs from the initial–final mass
relation of Kalirai et al. (2008, ApJ 676, 594), M_f = 0.109 M_i + 0.394 M☉ below 8 M☉;
neutron stars of 1.4 M☉ from 8 to 25 M☉; black holes of :data:`BLACK_HOLE_MASS` above
[assumption; they hold < 1 % of the mass formed].

Assumption: the components' masses (``galaxy.component_masses``) are present-day masses in stars
and remnants, as a mass model fitted to star counts and kinematics gives. Read as masses formed,
every count below would be 1/f̄ smaller (f̄ ≈ 0.6–0.7).

The ratio of the Galaxy's giants to the mock's simulated giants scales every giant count of the
mock's catalogue, survey limits included, because the survey selection acts on each simulated
star as it would on the real ones. The mock's dwarfs are not drawn at their real density (only
enough to train the giant/dwarf stage, within 3 kpc), so no scale applies to them.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from . import evolution, galaxy

__all__ = [
    "BLACK_HOLE_MASS",
    "IMF_MASS_RANGE",
    "component_giants",
    "galaxy_giants",
    "giant_scales",
    "imf_normalisation",
    "surviving_fraction",
]

#: Stellar masses of the Kroupa (2001) IMF the mass formed counts, M☉ (hydrogen burning limit to
#: the upper end of the IMF as Kroupa integrates it).
IMF_MASS_RANGE = (0.08, 100.0)
#: Kroupa (2001) eq. 2: dN/dM ∝ M^-α with α = 1.3 below 0.5 M☉ and 2.3 above (the evolution
#: module's slope), continuous at 0.5 M☉.
_KROUPA_BREAK = 0.5
_KROUPA_LOW_SLOPE = 1.3
#: Remnant mass of stars above 25 M☉ [assumption].
BLACK_HOLE_MASS = 10.0
_GRID = np.geomspace(*IMF_MASS_RANGE, 4000)


def _kroupa(mass: np.ndarray) -> np.ndarray:
    """dN/dM, unnormalised, equal to ``evolution``'s M^-2.3 above 0.5 M☉."""
    high = mass**-evolution.IMF_SLOPE
    low = _KROUPA_BREAK ** (_KROUPA_LOW_SLOPE - evolution.IMF_SLOPE) * mass**-_KROUPA_LOW_SLOPE
    return np.where(mass >= _KROUPA_BREAK, high, low)


def imf_normalisation() -> float:
    """A such that A ∫ M φ(M) dM = 1 M☉ over :data:`IMF_MASS_RANGE`: stars per unit ``φ`` per
    solar mass formed.

    >>> mean_mass = 1 / (imf_normalisation() * np.trapezoid(_kroupa(_GRID), _GRID))
    >>> bool(0.3 < mean_mass < 0.7)  # Kroupa (2001): ~0.4–0.6 M☉ above the hydrogen burning limit
    True
    """
    return float(1.0 / np.trapezoid(_GRID * _kroupa(_GRID), _GRID))


def _remnant_mass(mass: np.ndarray) -> np.ndarray:
    white_dwarf = 0.109 * mass + 0.394
    return np.where(mass < 8.0, white_dwarf, np.where(mass < 25.0, 1.4, BLACK_HOLE_MASS))


@cache
def surviving_fraction(age_range_gyr: tuple[float, float], feh: float) -> float:
    """Mean over a constant-rate population's ages of the fraction of the mass formed that is
    still in stars or remnants.

    >>> young, old = surviving_fraction((0.15, 1.0), 0.0), surviving_fraction((11.0, 13.0), -0.8)
    >>> bool(0.5 < old < young < 0.8)  # returned fraction 0.3–0.45 (Leitner & Kravtsov 2011, ApJ 734, 48)
    True
    """
    ages = np.linspace(*age_range_gyr, 64)
    turnoff = evolution.turnoff_mass(ages, np.full_like(ages, feh))
    weight = _GRID * _kroupa(_GRID)
    dead = _remnant_mass(_GRID) * _kroupa(_GRID)
    fractions = [np.trapezoid(np.where(m_to > _GRID, weight, dead), _GRID) for m_to in turnoff]
    return float(np.mean(fractions) * imf_normalisation())


def component_giants(component: galaxy.Component) -> float:
    """Giants (the RGB window and core-He burners, as the mock draws them) in one component.

    Notes
    -----
    ``evolution.giants_per_unit_mass`` is the mean over ages of φ(M_TO)|dM_TO/dt| τ with φ = M^-2.3,
    |dM_TO/dt| in M☉ Gyr⁻¹ and τ in Myr; times A and 10⁻³ Gyr/Myr it is giants per M☉ formed.
    """
    feh = sum(w * m for w, m, _ in component.feh) / sum(w for w, _, _ in component.feh)
    formed = galaxy.component_masses()[component.name] / surviving_fraction(component.age_gyr, feh)
    per_mass = evolution.giants_per_unit_mass(component.age_gyr, feh) * imf_normalisation() * 1e-3
    return float(formed * per_mass)


def galaxy_giants() -> float:
    """Giants in the whole Galaxy model."""
    return float(sum(component_giants(c) for c in galaxy.COMPONENTS))


def giant_scales(n_stars: int, dwarf_fraction: float) -> dict[str, float]:
    """Per component, the real giants each of its simulated giants stands for.

    The mock gives component c the share w_c / Σw of its ``n_stars × (1 − dwarf_fraction)``
    simulated giants (``mock.giant_weights``, which weighs the present-day mass, not the mass
    formed); the scale is the component's giants (:func:`component_giants`) over that number.
    Components differ by their surviving fractions (0.56–0.70), so the scale is per component.

    Raises
    ------
    ValueError
        If the mock simulates no giants.
    """
    from .mock import giant_weights

    simulated = round(n_stars * (1.0 - dwarf_fraction))
    if simulated <= 0:
        msg = f"a mock of {n_stars} stars with dwarf fraction {dwarf_fraction} simulates no giants"
        raise ValueError(msg)
    weights = giant_weights()
    shares = weights / weights.sum()
    return {
        c.name: component_giants(c) / (simulated * share) for c, share in zip(galaxy.COMPONENTS, shares, strict=True)
    }
