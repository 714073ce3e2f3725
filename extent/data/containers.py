"""Immutable, validated input containers.

:class:`ExtentData` holds a *units* table (every unit of the country, searched or not) and a *counts* table
(one row per searched unit and category). It is validated once, at construction, and copies its inputs so
that a caller's DataFrames are never changed.
"""

from __future__ import annotations

import difflib
import hashlib
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import xarray as xr

from extent.constants import CATEGORY, UNIT
from extent.data.schema import COUNTS, UNITS, show, unknown_units, validate_frame, where
from extent.exceptions import DataValidationError


@dataclass(frozen=True, eq=False)
class ExtentData:
    """Units and counts for one national extent problem.

    Build it with :meth:`from_frames` (library) or :func:`extent.data.read_extent_data` (CSV files);
    both validate every row and raise :class:`~extent.exceptions.DataValidationError` naming source, row and
    column.

    Attributes
    ----------
    units : pandas.DataFrame
        Indexed by ``unit``; columns ``population`` (> 0), ``population_cv`` (relative uncertainty of the
        population, 0 = exact), optional ``type`` and any covariates.
    counts : pandas.DataFrame
        Columns ``unit``, ``category``, ``cases`` (int), ``records`` (float, NaN when not given), ``years``.
    name : str
        A label for reports (e.g. the dataset name).
    covariates : tuple of str
        Units columns used as auxiliary information in the model (numeric ones as float, others as text).
    exposure : str, optional
        Units column that replaces ``population`` as the exposure of every unit (``None``: population), per year.
    records_exposure : bool
        Whether the counts' ``records`` measure the same thing as ``exposure`` over the searched period: each
        searched cell then has its own exposure, ``records`` (the ratio estimator's denominator).
    """

    units: pd.DataFrame
    counts: pd.DataFrame
    name: str = "data"
    notes: tuple[str, ...] = field(default=())
    covariates: tuple[str, ...] = field(default=())
    exposure: str | None = None
    records_exposure: bool = False

    @classmethod
    def from_frames(
        cls,
        units: pd.DataFrame,
        counts: pd.DataFrame,
        *,
        name: str = "data",
        units_source: str = "units",
        counts_source: str = "counts",
        notes: tuple[str, ...] = (),
        covariates: list[str] | tuple[str, ...] = (),
        exposure: str | None = None,
        records_exposure: bool = False,
        extra_columns: str = "error",
    ) -> ExtentData:
        """Validate and copy a units table and a counts table.

        Parameters
        ----------
        units : pandas.DataFrame
            One row per unit; see the class docstring for the columns. Rows are reported 1-based, in the order
            given.
        counts : pandas.DataFrame
            One row per searched cell; see the class docstring for the columns.
        name : str
            Label for reports.
        units_source : str
            Name of the units table in error messages (the CLI passes the file name).
        counts_source : str
            Name of the counts table in error messages.
        notes : tuple of str
            Free-text provenance notes carried into reports.
        covariates : list of str
            Units columns to use as covariates (every unit needs a value).
        exposure : str, optional
            Units column (> 0 for every unit) to use as exposure instead of ``population``.
        records_exposure : bool
            The counts' ``records`` are the same measure as ``exposure`` (over the searched period): needs
            ``exposure`` and a ``records`` value > 0 on every counts row.
        extra_columns : {"error", "ignore"}
            What to do with a column that is neither known nor named: an error naming it (default, with a
            suggestion for a likely misspelling), or drop it with a warning.
        """
        for frame, source in ((units, units_source), (counts, counts_source)):
            if not isinstance(frame, pd.DataFrame):
                raise DataValidationError([f"{source}: expected a pandas DataFrame, got {type(frame).__name__}"])
        if extra_columns not in ("error", "ignore"):
            raise DataValidationError([f"extra_columns must be 'error' or 'ignore', got {extra_columns!r}"])
        covariates = tuple(covariates)
        named = set(covariates) | ({exposure} if exposure else set())
        units = _known_columns(units, UNITS, named, units_source, extra_columns)
        counts = _known_columns(counts, COUNTS, set(), counts_source, extra_columns)
        u = validate_frame(units, UNITS, units_source)
        c = validate_frame(counts, COUNTS, counts_source)
        _check_distinct_names(u, "unit", units_source)
        _check_distinct_names(c.drop_duplicates("category"), "category", counts_source)
        _check_counts_against_units(u, c, counts_source)
        u = _check_auxiliary(u, covariates, exposure, units_source)
        if records_exposure:
            _check_records_exposure(c, exposure, counts_source)

        _check_population_groups(u, c, units_source)
        if "population_group" in u:  # one spelling of "no group", so that saved data read back identically
            u["population_group"] = u["population_group"].fillna("").astype(str)
        u = u.set_index("unit")
        if "population_cv" not in u:
            u["population_cv"] = 0.0
        c["cases"] = c["cases"].astype(np.int64)
        if "records" not in c:
            c["records"] = np.nan
        if "years" not in c:
            c["years"] = 1.0
        order = {category: i for i, category in enumerate(dict.fromkeys(c["category"]))}
        c = c.sort_values("category", key=lambda col: col.map(order), kind="stable").reset_index(drop=True)
        return cls(units=u, counts=c, name=name, notes=tuple(notes), covariates=covariates, exposure=exposure,
                   records_exposure=bool(records_exposure))

    # -- views ---------------------------------------------------------------------------------------------
    @property
    def categories(self) -> list[str]:
        """Categories in order of first appearance in the counts table."""
        return list(dict.fromkeys(self.counts["category"]))

    @property
    def n_units(self) -> int:
        """Number of units (forces) in the country."""
        return len(self.units)

    @property
    def searched_units(self) -> list[str]:
        """Units searched for at least one category, in units-table order."""
        searched = set(self.counts["unit"])
        return [u for u in self.units.index if u in searched]

    @property
    def exposure_values(self) -> pd.Series:
        """Exposure of every unit: the ``exposure`` column, or ``population``."""
        return self.units[self.exposure or "population"].astype(float)

    @property
    def has_types(self) -> bool:
        """Whether the units carry a ``type`` with at least two levels."""
        return "type" in self.units and self.units["type"].nunique() > 1

    @property
    def counts_withheld(self) -> bool:
        """Whether the cases are missing: data loaded from a fit saved without its raw counts."""
        return bool(self.counts["cases"].isna().any())

    def require_counts(self) -> None:
        """Refuse to fit data whose counts were withheld when the fit was saved."""
        if self.counts_withheld:
            raise DataValidationError([f"{self.name}: the per-unit counts were withheld when this fit was saved "
                                       "(disclosure control); refit from the original counts"])

    def withhold_counts(self) -> ExtentData:
        """The same data without its per-unit cases (missing), as a fit saved without raw counts stores it."""
        counts = self.counts.assign(cases=pd.array([pd.NA] * len(self.counts), dtype="Int64"))
        return replace(self, counts=counts)

    def years(self, category: str) -> float:
        """Length in years of the period searched for ``category``."""
        return float(self.counts.loc[self.counts["category"] == category, "years"].iloc[0])

    def searched(self, category: str) -> list[str]:
        """Units searched for ``category``."""
        return list(self.counts.loc[self.counts["category"] == category, "unit"])

    def to_xarray(self) -> xr.Dataset:
        """Cases and records as ``(force, category)`` arrays (NaN where not searched) plus unit populations."""
        cases = self.counts.pivot(index="unit", columns="category", values="cases").reindex(
            index=self.units.index, columns=self.categories
        )
        records = self.counts.pivot(index="unit", columns="category", values="records").reindex_like(cases)
        return xr.Dataset(
            {
                "cases": ((UNIT, CATEGORY), cases.to_numpy(float)),
                "records": ((UNIT, CATEGORY), records.to_numpy(float)),
                "population": ((UNIT,), self.units["population"].to_numpy(float)),
            },
            coords={UNIT: list(self.units.index), CATEGORY: self.categories},
            attrs={"name": self.name},
        )

    def hash(self) -> str:
        """Short SHA-256 of the validated tables, for provenance records."""
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.units.reset_index(), index=False).to_numpy().tobytes())
        h.update(pd.util.hash_pandas_object(self.counts, index=False).to_numpy().tobytes())
        return h.hexdigest()[:12]

    def subset(self, categories: list[str]) -> ExtentData:
        """The same units with only the counts of ``categories``."""
        unknown = [c for c in categories if c not in self.categories]
        if unknown:
            raise DataValidationError([f"{self.name}: unknown categor{'ies' if len(unknown) > 1 else 'y'} {unknown}"])
        counts = self.counts[self.counts["category"].isin(categories)].reset_index(drop=True)
        return ExtentData(units=self.units.copy(), counts=counts, name=self.name, notes=self.notes,
                          covariates=self.covariates, exposure=self.exposure, records_exposure=self.records_exposure)

    def with_counts(self, counts: pd.DataFrame, *, name: str | None = None) -> ExtentData:
        """The same units, covariates and exposure with another counts table (validated)."""
        return ExtentData.from_frames(self.units.reset_index(), counts, name=name or self.name, notes=self.notes,
                                      covariates=self.covariates, exposure=self.exposure,
                                      records_exposure=self.records_exposure)

    def __repr__(self) -> str:
        return (
            f"ExtentData({self.name!r}: {self.n_units} units, {len(self.searched_units)} searched, "
            f"{len(self.categories)} categories, {len(self.counts)} counts)"
        )


def _known_columns(frame: pd.DataFrame, schema, named: set[str], source: str, extra: str) -> pd.DataFrame:
    """Refuse (or drop, with a warning) columns that are neither in ``schema`` nor ``named``."""
    known = list(schema.columns) + sorted(named)
    unknown = [str(c) for c in frame.columns if str(c) not in known]
    if not unknown:
        return frame
    if extra == "ignore":
        warnings.warn(f"{source}: ignoring column(s) {', '.join(map(repr, unknown))}", stacklevel=3)
        return frame.drop(columns=unknown)
    problems = []
    for col in unknown:
        close = difflib.get_close_matches(col, [k for k in known if k not in frame.columns], n=1, cutoff=0.7)
        hint = (f" (did you mean '{close[0]}'?)" if close else
                "; name it as a covariate or exposure to use it, or ignore unknown columns")
        problems.append(f"{source}, column '{col}': unknown column{hint}")
    raise DataValidationError(problems)


def _check_auxiliary(units: pd.DataFrame, covariates: tuple[str, ...], exposure: str | None,
                     source: str) -> pd.DataFrame:
    """Covariates: present for every unit, numeric ones finite and not constant; exposure: finite and > 0."""
    problems = []
    reserved = {"unit", "population", "population_cv", "type", "population_group", "population_group_cv"}
    for col in covariates:
        if col in reserved:
            problems.append(f"{source}, column '{col}': cannot be a covariate ('type' and log population are "
                            "built in)")
            continue
        if col not in units:
            problems.append(f"{source}: covariate column '{col}' not found")
            continue
        raw = units[col].map(lambda v: v.strip() if isinstance(v, str) else v).replace("", np.nan)
        for row in np.flatnonzero(raw.isna().to_numpy()):
            problems.append(f"{where(source, int(row) + 1, col)}: covariate value is missing")
        numbers = pd.to_numeric(raw, errors="coerce")
        if raw.notna().all() and numbers.notna().all():
            bad = ~np.isfinite(numbers.to_numpy(float))
            for row in np.flatnonzero(bad):
                problems.append(f"{where(source, int(row) + 1, col)}: {show(raw.iloc[row])} is not finite")
            if not bad.any() and numbers.nunique() < 2:
                problems.append(f"{source}, column '{col}': covariate has the same value for every unit")
            units[col] = numbers.astype(float)
        elif raw.notna().all():
            if raw.nunique() < 2:
                problems.append(f"{source}, column '{col}': covariate has the same value for every unit")
            units[col] = raw.astype(str)
    if exposure is not None:
        if exposure in reserved:
            problems.append(f"{source}, column '{exposure}': cannot be the exposure")
        elif exposure not in units:
            problems.append(f"{source}: exposure column '{exposure}' not found")
        else:
            raw = units[exposure]
            numbers = pd.to_numeric(raw, errors="coerce").astype(float)
            for row in np.flatnonzero(~(np.isfinite(numbers.to_numpy()) & (numbers.to_numpy() > 0))):
                problems.append(f"{where(source, int(row) + 1, exposure)}: exposure {show(raw.iloc[row])} must be "
                                "a finite number > 0")
            units[exposure] = numbers
    if problems:
        raise DataValidationError(problems)
    return units


def _check_population_groups(units: pd.DataFrame, counts: pd.DataFrame, source: str) -> None:
    """A population group: at least two searched units, one ``population_group_cv`` for all of them."""
    if "population_group" not in units:
        if "population_group_cv" in units:
            raise DataValidationError([f"{source}: column 'population_group_cv' needs a 'population_group' column"])
        return
    grouped = units[units["population_group"].notna() & (units["population_group"].astype(str) != "")]
    searched = set(counts["unit"])
    problems = []
    for group, g in grouped.groupby("population_group", sort=False):
        rows = [int(i) + 1 for i in g.index]
        if len(g) < 2:
            problems.append(f"{where(source, rows[0], 'population_group')}: group {group!r} has one unit; a "
                            "population group is a split of a combined population among two or more units")
        for i, unit in zip(rows, g["unit"]):
            if unit not in searched:
                problems.append(f"{where(source, i, 'population_group')}: unit {unit!r} is in group {group!r} but "
                                "not searched (only searched units' populations can be a split)")
        cv = g["population_group_cv"] if "population_group_cv" in g else pd.Series(np.nan, index=g.index)
        if cv.isna().any() or cv.nunique() != 1:
            problems.append(f"{where(source, rows[0], 'population_group_cv')}: group {group!r} needs one "
                            "'population_group_cv' (uncertainty of the combined population) on all its units")
    if problems:
        raise DataValidationError(problems)


def _check_records_exposure(counts: pd.DataFrame, exposure: str | None, source: str) -> None:
    if exposure is None:
        raise DataValidationError([f"{source}: records can stand for the exposure only when an exposure column is "
                                   "named"])
    if "records" not in counts:
        raise DataValidationError([f"{source}: missing column 'records' (needed as each searched cell's exposure)"])
    bad = ~(counts["records"].to_numpy(float) > 0)
    problems = [f"{where(source, int(i) + 1, 'records')}: needs a value > 0 (the cell's exposure)"
                for i in np.flatnonzero(bad)]
    if problems:
        raise DataValidationError(problems)


def _check_distinct_names(frame: pd.DataFrame, column: str, source: str) -> None:
    """Names that differ only by case (``'Kent'``, ``'kent'``) are an error, not two units or categories.

    Surrounding spaces are already stripped from text cells (:func:`~extent.data.schema.validate_frame`)."""
    names = frame[column].astype(str)
    key = names.str.strip().str.casefold()
    clash = key.duplicated(keep=False) & ~names.duplicated(keep=False)
    if clash.any():
        first = key[clash].iloc[0]
        rows = [int(i) + 1 for i in frame.index[(key == first).to_numpy()]]  # data rows count from 1
        spellings = ", ".join(repr(v) for v in dict.fromkeys(names[key == first]))
        raise DataValidationError([f"{where(source, rows[1], column)}: {spellings} differ only by case "
                                   f"(rows {', '.join(map(str, rows))}); spell them the same or tell them apart"])


MAX_PER_PERSON_YEAR = 10.0
"""Most cases or records accepted per resident per year of a unit: beyond it the population is in the wrong unit
(thousands) or the counts are not of that unit (recorded crime in England and Wales peaks near one per resident
per year, in the City of London)."""


def _check_counts_against_units(units: pd.DataFrame, counts: pd.DataFrame, source: str) -> None:
    problems = unknown_units(units, counts, source)
    dup = counts.duplicated(["unit", "category"], keep="first")
    for i in np.flatnonzero(dup.to_numpy()):
        r = counts.iloc[i]
        problems.append(
            f"{where(source, int(i) + 1, 'category')}: duplicate row for unit {r['unit']!r}, category {r['category']!r}"
        )
    if "records" in counts:
        over = (counts["records"].notna() & (counts["cases"] > counts["records"])).to_numpy()
        for i in np.flatnonzero(over):
            r = counts.iloc[i]
            problems.append(
                f"{where(source, int(i) + 1, 'cases')}: {r['cases']:g} cases exceed {r['records']:g} records"
            )
    population = units.set_index("unit")["population"] if "unit" in units else units["population"]
    known = counts["unit"].isin(population.index).to_numpy()
    person_years = (population.reindex(counts["unit"]).to_numpy(float)
                    * (counts["years"].to_numpy(float) if "years" in counts else 1.0))
    for column in ("cases", "records"):
        if column not in counts:
            continue
        values = counts[column].to_numpy(float)
        with np.errstate(invalid="ignore"):
            implausible = known & (values > MAX_PER_PERSON_YEAR * person_years)
        for i in np.flatnonzero(implausible):
            problems.append(
                f"{where(source, int(i) + 1, column)}: {values[i]:g} {column} is more than {MAX_PER_PERSON_YEAR:g} "
                f"per resident per year of unit {counts['unit'].iloc[i]!r} (population "
                f"{population.loc[counts['unit'].iloc[i]]:g}); is the population in thousands?"
            )
    if "years" in counts:
        for category, years in counts.groupby("category", sort=False)["years"]:
            if years.nunique() > 1:
                i = int(years.index[(years != years.iloc[0]).to_numpy()][0])
                problems.append(
                    f"{where(source, i + 1, 'years')}: category {category!r} mixes periods "
                    f"{sorted(years.unique().tolist())}; give one period length per category"
                )
    if problems:
        raise DataValidationError(problems)
