"""Shared output helpers for the commands: rich tables and atomic CSV writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from rich.table import Table

from extent.exceptions import ExtentError


def _fmt(x: float, estimand: str) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    return f"{x:,.1f}" if estimand == "per_unit_per_annum" else f"{x:,.0f}"


def estimates_table(table: pd.DataFrame, *, title: str) -> Table:
    """A readable table of tidy estimates: one row per category and estimator, estimands as columns."""
    out = Table(title=title)
    for col in ("category", "estimator", "total", "per annum", "per force per annum"):
        out.add_column(col, justify="left" if col in ("category", "estimator") else "right")
    level = float(table["level"].iloc[0]) if len(table) else 0.9
    for (category, estimator), g in table.groupby(["category", "estimator"], sort=False):
        cells = []
        for estimand in ("total", "per_annum", "per_unit_per_annum"):
            r = g[g["estimand"] == estimand].iloc[0]
            text = _fmt(r["estimate"], estimand)
            if not np.isnan(r["lower"]):
                text += f" ({_fmt(r['lower'], estimand)}-{_fmt(r['upper'], estimand)})"
            cells.append(text)
        out.add_row(category, estimator, *cells)
    out.caption = f"Hierarchical: posterior median ({level:.0%} central credible interval). Naive: no interval."
    return out


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` to ``path`` atomically (nothing half-written is left on failure)."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise ExtentError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            table.to_csv(fh, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
