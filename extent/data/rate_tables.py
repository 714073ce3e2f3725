"""Validation of the small tables the proportion, comparison and trend estimators take.

* proportion table: ``unit`` (a label), ``successes`` and ``trials`` (integers, 0 <= successes <= trials, trials
  > 0), optional ``population`` (the finite total the trials were drawn from, >= trials);
* rate table (comparisons): ``unit``, ``events`` and either ``trials`` (binomial) or ``exposure`` (Poisson);
* series table: ``year`` (integer), ``count`` (>= 0; an integer for count families), optional ``exposure`` (the
  fraction of the year observed, in (0, 1], default 1) and ``unit`` (for unit-by-year counts).

Problems are collected and raised together as one :class:`~extent.exceptions.DataValidationError` naming the
source, row and column, before anything is fitted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from extent.data.schema import show, where
from extent.exceptions import DataValidationError


def _frame(frame: pd.DataFrame, source: str, required: list[str], optional: list[str]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError([f"{source}: expected a table (DataFrame), got {type(frame).__name__}"])
    problems = [f"{source}: missing column '{c}'" for c in required if c not in frame.columns]
    problems += [f"{where(source, None, c)}: unknown column (expected {', '.join(required + optional)})"
                 for c in frame.columns if c not in required + optional]
    if not problems and frame.empty:
        problems.append(f"{source}: no rows")
    if problems:
        raise DataValidationError(problems)
    return frame.reset_index(drop=True).copy()


def _numbers(frame: pd.DataFrame, source: str, column: str, *, integer: bool, minimum: float | None = 0,
             positive: bool = False, problems: list[str], optional: bool = False) -> None:
    values = pd.to_numeric(frame[column], errors="coerce")
    for i, (raw, v) in enumerate(zip(frame[column], values, strict=True), start=1):
        if optional and pd.isna(raw):
            continue
        if pd.isna(v) or not np.isfinite(v):
            problems.append(f"{where(source, i, column)}: {show(raw)} is not a number")
        elif integer and float(v) != round(float(v)):
            problems.append(f"{where(source, i, column)}: {show(raw)} is not a whole number")
        elif positive and not v > 0:
            problems.append(f"{where(source, i, column)}: {show(raw)} must be > 0")
        elif minimum is not None and v < minimum:
            problems.append(f"{where(source, i, column)}: {show(raw)} must be >= {minimum:g}")
    frame[column] = values


def _labels(frame: pd.DataFrame, source: str, problems: list[str]) -> None:
    seen = set()
    for i, u in enumerate(frame["unit"], start=1):
        if pd.isna(u) or str(u).strip() == "":
            problems.append(f"{where(source, i, 'unit')}: empty label")
        elif str(u) in seen:
            problems.append(f"{where(source, i, 'unit')}: {u!r} appears twice")
        seen.add(str(u))
    frame["unit"] = frame["unit"].astype(str)


def proportion_table(frame: pd.DataFrame, source: str = "proportion table") -> pd.DataFrame:
    """Validated copy of a proportion table (see the module docstring)."""
    frame = _frame(frame, source, ["unit", "successes", "trials"], ["population"])
    problems: list[str] = []
    _labels(frame, source, problems)
    _numbers(frame, source, "successes", integer=True, problems=problems)
    _numbers(frame, source, "trials", integer=True, positive=True, problems=problems)
    if "population" in frame:  # an empty cell: no finite population for that row
        _numbers(frame, source, "population", integer=True, positive=True, problems=problems, optional=True)
    if not problems:
        for i, r in enumerate(frame.itertuples(index=False), start=1):
            if r.successes > r.trials:
                problems.append(f"{where(source, i, 'successes')}: {r.successes:g} is more than the "
                                f"{r.trials:g} trials")
            pop = getattr(r, "population", np.nan)
            if np.isfinite(pop) and pop < r.trials:
                problems.append(f"{where(source, i, 'population')}: {pop:g} is smaller than the {r.trials:g} "
                                "trials sampled from it")
    if problems:
        raise DataValidationError(problems)
    for c in ("successes", "trials"):
        frame[c] = frame[c].astype(np.int64)
    return frame


def rate_table(frame: pd.DataFrame, source: str = "rate table") -> pd.DataFrame:
    """Validated copy of a two-row rate table: ``events`` with ``trials`` or ``exposure``."""
    has_trials, has_exposure = "trials" in frame.columns, "exposure" in frame.columns
    if has_trials == has_exposure:
        raise DataValidationError([f"{source}: give exactly one of the columns 'trials' (binomial rates) or "
                                   "'exposure' (Poisson rates)"])
    denominator = "trials" if has_trials else "exposure"
    frame = _frame(frame, source, ["unit", "events", denominator], [])
    problems: list[str] = []
    if len(frame) != 2:
        problems.append(f"{source}: a comparison takes exactly two rows (got {len(frame)})")
    _labels(frame, source, problems)
    _numbers(frame, source, "events", integer=True, problems=problems)
    _numbers(frame, source, denominator, integer=has_trials, positive=True, problems=problems)
    if not problems and has_trials:
        problems += [f"{where(source, i, 'events')}: {e:g} is more than the {n:g} trials"
                     for i, (e, n) in enumerate(zip(frame["events"], frame["trials"], strict=True), start=1)
                     if e > n]
    if problems:
        raise DataValidationError(problems)
    frame["events"] = frame["events"].astype(np.int64)
    return frame


def series_table(frame: pd.DataFrame, source: str = "series table", *, integer_counts: bool = True) -> pd.DataFrame:
    """Validated copy of a count series (see the module docstring); ``exposure`` filled with 1."""
    frame = _frame(frame, source, ["year", "count"], ["exposure", "unit"])
    problems: list[str] = []
    _numbers(frame, source, "year", integer=True, minimum=None, problems=problems)
    _numbers(frame, source, "count", integer=integer_counts, positive=not integer_counts, problems=problems)
    if "exposure" not in frame:
        frame["exposure"] = 1.0
    _numbers(frame, source, "exposure", integer=False, positive=True, problems=problems)
    problems += [f"{where(source, i, 'exposure')}: {e:g} is more than one year (exposure is the fraction of the "
                 "year observed)" for i, e in enumerate(frame["exposure"], start=1) if np.isfinite(e) and e > 1]
    if "unit" not in frame:
        frame["unit"] = "all"
    frame["unit"] = frame["unit"].astype(str)
    if not problems:
        dup = frame.duplicated(["unit", "year"])
        problems += [f"{where(source, i + 1, 'year')}: year {int(frame.loc[i, 'year'])} appears twice for unit "
                     f"{frame.loc[i, 'unit']!r}" for i in np.flatnonzero(dup)]
        if frame["year"].nunique() < 3:
            problems.append(f"{source}: a trend needs at least three years (got {frame['year'].nunique()})")
    if problems:
        raise DataValidationError(problems)
    frame["year"] = frame["year"].astype(np.int64)
    return frame.sort_values(["unit", "year"]).reset_index(drop=True)
