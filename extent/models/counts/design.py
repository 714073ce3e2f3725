"""Index arrays that map an :class:`~extent.data.ExtentData` onto model coordinates.

Shared by the model builder (likelihood over observed cells) and the national prediction (all other cells),
so both agree on which unit, category and type every number belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from extent.constants import RATE_SCALE
from extent.data import ExtentData
from extent.models.likelihood import use_count_table

LOG_POPULATION = "log_population"
"""Name of the built-in covariate: log population, centred at its mean over all units."""


DEFAULT_LOG_POPULATION = True
"""Whether the model includes :data:`LOG_POPULATION` unless told otherwise (see ``docs/validation.md``)."""

DEFAULT_SPREAD_BY_SIZE = True
"""Whether the between-unit SD depends on log population unless told otherwise (see ``docs/validation.md``)."""


def covariate_matrix(data: ExtentData, log_population: bool) -> tuple[list[str], np.ndarray]:
    """Covariate names and values for every unit (units-table order).

    Log population is centred at the mean over all units and not scaled (its coefficient is the elasticity
    of the rate to population); numeric covariates are standardised over all units; a text covariate becomes
    one indicator column per level other than its most common one, named ``column[level]``.
    """
    names, columns = [], []
    if log_population:
        lp = np.log(data.units["population"].to_numpy(float))
        names.append(LOG_POPULATION)
        columns.append(lp - lp.mean())
    for col in data.covariates:
        values = data.units[col]
        if pd.api.types.is_numeric_dtype(values):
            x = values.to_numpy(float)
            names.append(col)
            columns.append((x - x.mean()) / x.std())
        else:
            levels = values.value_counts()
            for level in sorted(levels.index[1:]):
                names.append(f"{col}[{level}]")
                columns.append((values == level).to_numpy(float))
    x = np.column_stack(columns) if columns else np.zeros((len(data.units), 0))
    return names, x


@dataclass(frozen=True, eq=False)
class Design:
    """Long-format design: one row per observed (unit, category) cell.

    ``unit`` coordinates are the searched units only (units with at least one count); units never searched
    enter only through the national prediction.
    """

    categories: list[str]
    searched_units: list[str]
    """The searched units: coordinates of the ``unit`` dim."""
    types: list[str]
    """Non-reference type levels (one ``type_effect`` each); empty when the units carry no type."""
    reference_type: str | None

    cell_unit: np.ndarray
    cell_category: np.ndarray
    cell_type: np.ndarray
    """Index into ``types`` or -1 for the reference level."""
    cases: np.ndarray
    log_exposure: np.ndarray
    """log(exposure x years / rate_scale) with the nominal exposure (log(records / rate_scale) when the records
    are the exposure)."""
    searched_cv: np.ndarray
    """``population_cv`` of each searched unit (0 = population known exactly)."""
    searched_group: np.ndarray
    """Population group of each searched unit (index into ``group_cv``; -1 for none)."""
    searched_share: np.ndarray
    """Nominal share of each grouped unit in its group's combined population (0 where ungrouped)."""
    group_cv: np.ndarray
    """Relative uncertainty of each population group's combined population."""
    covariates: list[str]
    """Covariate names (coords ``covariate``), :func:`covariate_matrix`."""
    unit_x: np.ndarray
    """Covariate values of every unit (units-table order x covariates)."""
    searched_x: np.ndarray
    """Covariate values of the searched units (``unit`` order)."""
    rate_scale: float
    """Exposure per rate unit: :data:`RATE_SCALE` for population, 1 for another exposure."""
    unit_lp: np.ndarray
    """Log population of every unit, centred at its mean over all units (the size the spread depends on)."""
    searched_lp: np.ndarray
    """:attr:`unit_lp` of the searched units (``unit`` order)."""

    @classmethod
    def from_data(cls, data: ExtentData, *, log_population: bool = DEFAULT_LOG_POPULATION) -> Design:
        units, counts = data.units, data.counts
        categories = data.categories
        searched = data.searched_units
        if data.has_types:
            freq = units["type"].value_counts()
            reference = str(freq.index[0])
            types = sorted(t for t in units["type"].unique() if t != reference)
        else:
            reference, types = None, []
        type_index = {t: i for i, t in enumerate(types)}

        f_idx = {f: i for i, f in enumerate(searched)}
        c_idx = {c: i for i, c in enumerate(categories)}
        exposure = data.exposure_values.loc[counts["unit"]].to_numpy(float) * counts["years"].to_numpy(float)
        if data.records_exposure:  # records already cover the searched period
            exposure = counts["records"].to_numpy(float)
        rate_scale = RATE_SCALE if data.exposure is None else 1.0
        names, unit_x = covariate_matrix(data, log_population)
        searched_rows = units.index.get_indexer(searched)
        cell_type = (
            units.loc[counts["unit"], "type"].map(lambda t: type_index.get(t, -1)).to_numpy(int)
            if types
            else np.full(len(counts), -1)
        )
        searched_group, searched_share, group_cv = _population_groups(units, searched)
        lp = np.log(units["population"].to_numpy(float))
        unit_lp = lp - lp.mean()
        return cls(
            categories=categories,
            searched_units=searched,
            types=types,
            reference_type=reference,
            cell_unit=counts["unit"].map(f_idx).to_numpy(int),
            cell_category=counts["category"].map(c_idx).to_numpy(int),
            cell_type=cell_type,
            cases=counts["cases"].to_numpy(np.int64),
            log_exposure=np.log(exposure / rate_scale),
            searched_cv=units.loc[searched, "population_cv"].to_numpy(float),
            searched_group=searched_group,
            searched_share=searched_share,
            group_cv=group_cv,
            covariates=names,
            unit_x=unit_x,
            searched_x=unit_x[searched_rows],
            rate_scale=rate_scale,
            unit_lp=unit_lp,
            searched_lp=unit_lp[searched_rows],
        )

    @property
    def count_table(self) -> bool:
        """Whether the likelihood looks its count terms up in a table (:func:`~extent.models.likelihood.use_count_table`)."""
        return use_count_table(self.cases)

    @property
    def coords(self) -> dict[str, list[str]]:
        coords = {"category": self.categories, "unit": self.searched_units, "cell": list(range(len(self.cases)))}
        if self.types:
            coords["type"] = self.types
        if self.covariates:
            coords["covariate"] = self.covariates
        return coords

    def structure_key(self) -> tuple:
        """What a compiled model depends on apart from data values (for caching)."""
        return (len(self.categories), len(self.searched_units), len(self.types), bool(self.searched_cv.any()),
                len(self.cases), self.count_table, tuple(self.covariates))


def _population_groups(units: pd.DataFrame, searched: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group index and nominal share of each searched unit, and each group's combined-population CV."""
    n = len(searched)
    if "population_group" not in units:
        return np.full(n, -1), np.zeros(n), np.zeros(0)
    labels = units.loc[searched, "population_group"]
    labels = labels.where(labels.notna() & (labels.astype(str) != ""))
    groups = list(dict.fromkeys(labels.dropna()))
    index = labels.map({g: i for i, g in enumerate(groups)}).fillna(-1).to_numpy(int)
    pop = units.loc[searched, "population"].to_numpy(float)
    totals = np.bincount(index[index >= 0], weights=pop[index >= 0], minlength=len(groups))
    share = np.where(index >= 0, pop / np.where(index >= 0, totals[np.maximum(index, 0)], 1.0), 0.0)
    cv = np.array([float(units.loc[labels[labels == g].index[0], "population_group_cv"]) for g in groups])
    return index, share, cv
