"""Reading input tables from CSV files: the only module that touches input files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from extent.data.containers import ExtentData
from extent.exceptions import DataValidationError


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV as text columns (types are checked by the schemas), with clear errors for unreadable files."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError([f"{path}: file not found"])
    try:
        # only an empty cell is missing: a unit or category may be called "NA" or "None"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True,
                            encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataValidationError([f"{path}: file is empty"]) from None
    except UnicodeDecodeError as err:
        raise DataValidationError([f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8 CSV"]) from None
    except pd.errors.ParserError as err:
        raise DataValidationError([f"{path}: not a readable CSV file ({str(err).splitlines()[0]})"]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame.columns) == 1 and ";" in frame.columns[0]:
        raise DataValidationError([f"{path}: one column named {frame.columns[0]!r}; the file looks separated by "
                                   "semicolons, save it with commas"])
    if frame.empty:
        raise DataValidationError([f"{path}: no data rows (only a header)"])
    return frame


def read_extent_data(
    units: str | Path,
    counts: str | Path,
    *,
    name: str | None = None,
    covariates: list[str] | tuple[str, ...] = (),
    exposure: str | None = None,
    records_exposure: bool = False,
    extra_columns: str = "error",
) -> ExtentData:
    """Read and validate a units CSV and a counts CSV.

    Parameters
    ----------
    units : path
        Columns ``unit``, ``population`` (> 0), optional ``type``, ``population_cv`` and covariates.
    counts : path
        Columns ``unit``, ``category``, ``cases`` (integer >= 0), optional ``records`` and ``years``.
    name : str, optional
        Label for reports; defaults to the counts file's stem.
    covariates : list of str
        Units columns to use as covariates; see :meth:`ExtentData.from_frames`.
    exposure : str, optional
        Units column to use as exposure instead of ``population``.
    records_exposure : bool
        The counts' ``records`` are the same measure as ``exposure``.
    extra_columns : {"error", "ignore"}
        What to do with an unknown column: an error naming it, or drop it with a warning.
    """
    return ExtentData.from_frames(
        read_csv(units),
        read_csv(counts),
        name=name or Path(counts).stem,
        units_source=str(units),
        counts_source=str(counts),
        covariates=covariates,
        exposure=exposure,
        records_exposure=records_exposure,
        extra_columns=extra_columns,
    )
