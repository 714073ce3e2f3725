"""Column schemas for the input tables (pandera), and the turning of their failures into one-line problems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from extent.exceptions import DataValidationError

_integer_valued = pa.Check(lambda x: float(x).is_integer(), element_wise=True, error="must be a whole number")

_non_empty = pa.Check(lambda x: len(str(x)) > 0, element_wise=True, error="is empty")

MAX_POPULATION = 1e10
"""Largest population accepted (more than the world's): anything above is a unit or typing error."""
MAX_COUNT = 1e9
"""Largest count (cases, records) accepted: beyond it the sampler's integer arithmetic is not exact."""
MAX_YEARS = 1000.0
"""Longest period accepted, in years."""

_at_most_count = pa.Check.le(MAX_COUNT, error=f"must be finite and at most {MAX_COUNT:g}")
_at_most_population = pa.Check.le(MAX_POPULATION, error=f"must be finite and at most {MAX_POPULATION:g}")

UNITS = pa.DataFrameSchema(
    {
        "unit": pa.Column(None, nullable=False, unique=True, checks=_non_empty),
        "population": pa.Column(float, [pa.Check.gt(0, error="must be > 0"), _at_most_population], nullable=False),
        "type": pa.Column(None, nullable=False, required=False),
        "population_cv": pa.Column(
            float, pa.Check.in_range(0, 2, error="must be between 0 and 2"), nullable=False,
            required=False,
        ),
        "population_group": pa.Column(None, nullable=True, required=False),
        "population_group_cv": pa.Column(
            float, pa.Check.in_range(0, 2, error="must be between 0 and 2"), nullable=True, required=False,
        ),
    },
    strict=False,
    name="units",
)
"""Units table: every unit (force) of the country, searched or not."""

COUNTS = pa.DataFrameSchema(
    {
        "unit": pa.Column(None, nullable=False),
        "category": pa.Column(None, nullable=False, checks=_non_empty),
        "cases": pa.Column(
            float, [pa.Check.ge(0, error="must be >= 0"), _at_most_count, _integer_valued], nullable=False
        ),
        "records": pa.Column(
            float, [pa.Check.ge(0, error="must be >= 0"), _at_most_count, _integer_valued], nullable=True,
            required=False,
        ),
        "years": pa.Column(float, [pa.Check.gt(0, error="must be > 0"),
                                   pa.Check.le(MAX_YEARS, error=f"must be finite and at most {MAX_YEARS:g}")],
                           nullable=False, required=False),
    },
    strict=False,
    name="counts",
)
"""Counts table: one row per searched (unit, category) cell."""


def where(source: str, row: int | None, column: str | None) -> str:
    """Format a location: ``units.csv, row 3, column 'population'`` (rows count data rows from 1)."""
    parts = [source]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)


def unknown_units(units: pd.DataFrame, frame: pd.DataFrame, source: str) -> list[str]:
    """One problem per row of ``frame`` whose ``unit`` is not in the units table."""
    known = set(units["unit"])
    return [
        f"{where(source, i, 'unit')}: unknown unit {unit!r} (not in the units table)"
        for i, unit in enumerate(frame["unit"], start=1)
        if unit not in known
    ]


def show(value) -> str:
    """A cell value as the user wrote it: text quoted, numbers plain (``'many'``, ``-1``, ``2.5``)."""
    if isinstance(value, str):
        return repr(value)
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return repr(value)


def validate_frame(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str) -> pd.DataFrame:
    """Validate ``frame`` (positionally indexed) against ``schema``; raise one error listing every problem.

    Returns the coerced copy.
    """
    if frame.empty:
        raise DataValidationError([f"{source}: no data rows"])
    frame = frame.reset_index(drop=True)
    parsed, problems = _parse_numbers(frame, schema, source)
    try:
        schema.validate(parsed, lazy=True)
    except pa.errors.SchemaErrors as err:
        unparsed = {p.split(": ")[0] for p in problems}
        problems += [p for p in _problems(err.failure_cases, frame, source) if p.split(": ")[0] not in unparsed]
    if problems:
        raise DataValidationError(problems)
    return parsed


def _parse_numbers(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str) -> tuple[pd.DataFrame, list[str]]:
    """Parse the schema's numeric columns and strip text; name every cell that is present but not a number."""
    parsed, problems = frame.copy(), []
    for name, column in schema.columns.items():
        if name not in frame:
            continue
        raw = frame[name]
        if column.dtype is None:
            parsed[name] = raw.map(lambda v: v if pd.isna(v) else str(v).strip()).astype(object)
            continue
        text = raw.map(lambda v: v.strip() if isinstance(v, str) else v).replace("", np.nan)
        numbers = pd.to_numeric(text, errors="coerce").astype(float)
        for row in np.flatnonzero(numbers.isna().to_numpy() & text.notna().to_numpy()):
            problems.append(f"{where(source, int(row) + 1, name)}: {show(raw.iloc[row])} is not a number")
        parsed[name] = numbers
    return parsed, problems


def _problems(cases: pd.DataFrame, frame: pd.DataFrame, source: str) -> list[str]:
    problems = []
    for rec in cases.to_dict("records"):
        column, check = rec.get("column"), str(rec.get("check"))
        value, index = rec.get("failure_case"), rec.get("index")
        if rec.get("schema_context") == "DataFrameSchema" and check == "column_in_dataframe":
            problems.append(f"{source}: missing required column '{value}'")
            continue
        row = None if index is None or pd.isna(index) else int(index) + 1
        raw = frame[column].iloc[row - 1] if row is not None and column in frame else value
        if check == "not_nullable":
            what = "is missing"
        elif check == "field_uniqueness":
            what = f"duplicate value {show(raw)}"
        elif check.startswith(("coerce_dtype", "dtype")):
            what = f"has the wrong type ({check})"
        elif check == "is empty":
            what = "is empty"
        else:
            what = f"{show(raw)} {check}" if raw is not None and not pd.isna(raw) else None
        if what is None:
            continue
        problems.append(f"{where(source, row, column)}: {what}")
    return problems or [f"{source}: invalid table"]


SURVEY = pa.DataFrameSchema(
    {
        "unit": pa.Column(None, nullable=False, unique=True, checks=_non_empty),
        "responded": pa.Column(float, pa.Check.isin([0.0, 1.0], error="must be 0 or 1"), nullable=False),
        "returned": pa.Column(
            float, [pa.Check.ge(0, error="must be >= 0"), _at_most_count, _integer_valued], nullable=True
        ),
        "cap": pa.Column(
            float, [pa.Check.gt(0, error="must be > 0"), _at_most_count, _integer_valued], nullable=True,
            required=False,
        ),
    },
    strict=False,
    name="survey",
)
"""Survey table: one row per surveyed unit; ``returned`` is empty when the unit did not respond."""
