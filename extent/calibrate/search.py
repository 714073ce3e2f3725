"""Search designs for real-data validation: which ``k`` units of a complete table are searched.

Each design is a pure function ``design(units, k, rng) -> list of unit names`` of a units frame (columns
``unit``, ``population``, ``type``), the number of units to search and a NumPy generator; it returns ``k``
distinct names in the order drawn, and the same names for the same generator state.

random
    ``k`` units uniformly at random without replacement.
pps
    Probability proportional to population without replacement, by successive sampling (each next unit drawn
    with probability proportional to population among the units not yet drawn; implemented with the
    exponential keys of Efraimidis and Spirakis 2006, which give the same distribution).
one_per_type
    One unit of each type (uniformly within type), then a uniform fill from the rest up to ``k``; with ``k``
    smaller than the number of types, ``k`` distinct types at random and one unit of each.
report
    The UK study's shape: one unit of the metropolitan-like group (:func:`metropolitan_like`) and ``k - 1``
    from the other units, each uniformly at random.
largest
    The ``k`` most populous units (ties by name); the generator is not used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from extent.exceptions import ConfigError

Design = Callable[[pd.DataFrame, int, np.random.Generator], list[str]]

KS = (2, 3, 5, 10)
"""Default numbers of searched units of a validation study."""


def _check(units: pd.DataFrame, k: int) -> np.ndarray:
    names = units["unit"].to_numpy()
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= len(names)):
        raise ConfigError(f"k must be an integer in 1..{len(names)} (the number of units), got {k!r}")
    if len(set(names)) != len(names):
        raise ConfigError("units must have distinct names")
    return names


def _uniform(names: np.ndarray, k: int, rng: np.random.Generator) -> list[str]:
    return [str(names[i]) for i in rng.choice(len(names), size=k, replace=False)]


def metropolitan_like(units: pd.DataFrame) -> list[str]:
    """The group that plays the report's metropolitan forces.

    Units of type ``"metropolitan"`` where that type exists (England and Wales); otherwise the top quartile
    by population (population at or above its 75th percentile; the US states), in units-frame order.
    """
    if "type" in units and (units["type"] == "metropolitan").any():
        chosen = units["type"] == "metropolitan"
    else:
        pop = units["population"].to_numpy(float)
        chosen = pop >= np.quantile(pop, 0.75)
    return [str(u) for u in units.loc[chosen, "unit"]]


def random_design(units: pd.DataFrame, k: int, rng: np.random.Generator) -> list[str]:
    """``k`` units uniformly at random without replacement."""
    return _uniform(_check(units, k), k, rng)


def pps_design(units: pd.DataFrame, k: int, rng: np.random.Generator) -> list[str]:
    """``k`` units with probability proportional to population, without replacement (successive sampling)."""
    names = _check(units, k)
    pop = units["population"].to_numpy(float)
    if not (np.isfinite(pop).all() and (pop > 0).all()):
        raise ConfigError("pps needs positive populations")
    keys = rng.exponential(size=len(names)) / pop  # smallest keys first = successive sampling by weight
    return [str(names[i]) for i in np.argsort(keys, kind="stable")[:k]]


def one_per_type_design(units: pd.DataFrame, k: int, rng: np.random.Generator) -> list[str]:
    """One unit of each type, then a uniform fill to ``k`` (``k`` random distinct types when ``k`` is smaller)."""
    names = _check(units, k)
    types = units["type"].to_numpy()
    levels = sorted(set(types))
    if k < len(levels):
        levels = [levels[i] for i in rng.choice(len(levels), size=k, replace=False)]
    chosen = [_uniform(names[types == t], 1, rng)[0] for t in levels]
    rest = np.array([u for u in names if u not in set(chosen)], dtype=object)
    return chosen + (_uniform(rest, k - len(chosen), rng) if k > len(chosen) else [])


def report_design(units: pd.DataFrame, k: int, rng: np.random.Generator) -> list[str]:
    """One unit of the metropolitan-like group and ``k - 1`` of the other units."""
    names = _check(units, k)
    metro = metropolitan_like(units)
    rest = np.array([u for u in names if u not in set(metro)], dtype=object)
    if k - 1 > len(rest):
        raise ConfigError(f"report design: k - 1 = {k - 1} exceeds the {len(rest)} units outside the "
                          "metropolitan-like group")
    first = _uniform(np.array(metro, dtype=object), 1, rng)
    return first + (_uniform(rest, k - 1, rng) if k > 1 else [])


def largest_design(units: pd.DataFrame, k: int, rng: np.random.Generator | None = None) -> list[str]:
    """The ``k`` most populous units (ties broken by name)."""
    _check(units, k)
    order = units.assign(_neg=-units["population"].astype(float)).sort_values(["_neg", "unit"], kind="stable")
    return [str(u) for u in order["unit"].iloc[:k]]


SEARCH_DESIGNS: dict[str, Design] = {
    "random": random_design,
    "pps": pps_design,
    "one_per_type": one_per_type_design,
    "report": report_design,
    "largest": largest_design,
}
"""Search design name -> function."""


def search_units(design: str, units: pd.DataFrame, k: int, rng: np.random.Generator) -> list[str]:
    """The units that ``design`` searches (see the module docstring)."""
    if design not in SEARCH_DESIGNS:
        raise ConfigError(f"unknown search design {design!r}; available: {', '.join(SEARCH_DESIGNS)}")
    return SEARCH_DESIGNS[design](units, k, rng)
