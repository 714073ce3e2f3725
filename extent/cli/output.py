"""Shared output helpers for the commands: rich tables, ``--format``, progress bars and atomic CSV writes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from extent.cli.app import console, errors
from extent.disclosure import SECONDARY, DisclosureRule
from extent.exceptions import ConfigError

FORMATS = ("table", "csv", "json")
"""What ``--format`` takes."""


@dataclass(frozen=True)
class Output:
    """Where a command prints: its table on stdout in ``format``, every other line on :attr:`messages`."""

    format: str

    @property
    def messages(self) -> Console:
        """The console of every line that is not the table: stdout for ``table``, stderr for ``csv``/``json``
        (so that stdout holds the table and nothing else)."""
        return console if self.format == "table" else errors

    def table(self, frame: pd.DataFrame, rich: Table | None,
              as_csv: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> None:
        """Print ``rich`` (``table``; ``None``: printed already), or ``frame`` as CSV (header and rows, as
        ``as_csv`` writes it when given) or as a JSON array of records (numbers as numbers, NaN as null)."""
        if self.format == "table":
            if rich is not None:
                console.print(rich)
        elif self.format == "csv":
            sys.stdout.write((frame if as_csv is None else as_csv(frame)).to_csv(index=False))
        else:
            sys.stdout.write(frame.to_json(orient="records", double_precision=15) + "\n")
        sys.stdout.flush()


def output(fmt: str) -> Output:
    """The :class:`Output` of ``--format fmt``, refused before any work unless it is one of :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, got {fmt!r}")
    return Output(fmt)


def progress() -> Progress:
    """Progress bars of long jobs on stderr (each task's description, done/total, elapsed, time left); off when
    stderr is not a terminal."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("elapsed"),
                    TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=errors,
                    disable=not errors.is_terminal)


def _fmt(x: float, estimand: str) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    return f"{x:,.1f}" if estimand == "per_unit_per_annum" else f"{x:,.0f}"


def estimates_table(table: pd.DataFrame, *, title: str, unit: str = "unit") -> Table:
    """A readable table of tidy estimates: one row per category and estimator, estimands as columns (``unit``:
    what the data call a unit, :func:`~extent.results.unit_noun`)."""
    out = Table(title=title)
    for col in ("category", "estimator", "total", "per annum", f"per {unit} per annum"):
        out.add_column(col, justify="left" if col in ("category", "estimator") else "right")
    level = float(table["level"].iloc[0]) if len(table) else 0.9
    for (category, estimator), g in table.groupby(["category", "estimator"], sort=False):
        cells = []
        for estimand in ("total", "per_annum", "per_unit_per_annum"):
            r = g[g["estimand"] == estimand].iloc[0]
            if str(r.get("disclosure", "")).startswith("withheld"):
                cells.append(escape(SECONDARY))  # not rich markup
                continue
            text = _fmt(r["estimate"], estimand)
            if not np.isnan(r["lower"]):
                text += f" ({_fmt(r['lower'], estimand)}-{_fmt(r['upper'], estimand)})"
            cells.append(text)
        out.add_row(category, estimator, *cells)
    out.caption = (f"Hierarchical: posterior median ({level:.0%} central credible interval). Naive: no interval. "
                   f"{escape(SECONDARY)}: withheld by disclosure control.")
    return out


def check_output_file(path: Path | None, option: str, *, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse an output file before any work: an existing folder, one of the inputs, or a folder that is missing
    or not writable."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a folder; give a file name")
    if any(p is not None and path.resolve() == Path(p).resolve() for p in inputs):
        raise ConfigError(f"{option} {path}: is an input file; it would be overwritten")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"{option} {path}: folder {folder} is not writable")


def check_output_folder(path: Path, option: str) -> None:
    """Refuse an output folder before any work: an existing file, or a parent that is missing or not writable."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: is a file; give a folder")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: folder {parent} does not exist")
    if not os.access(parent if not path.exists() else path, os.W_OK):
        raise ConfigError(f"{option} {path}: is not writable")


def disclosure_rule(threshold: str | None, off: bool) -> DisclosureRule | None:
    """The disclosure rule of ``--disclosure-threshold`` / ``--no-disclosure-control``, refused before any work
    when the threshold is not a positive integer or both are given."""
    if off and threshold is not None:
        raise ConfigError("give --disclosure-threshold or --no-disclosure-control, not both")
    if off:
        return None
    if threshold is None:
        return DisclosureRule()
    text = threshold.strip()
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"--disclosure-threshold must be a positive integer, got {threshold!r}")
    return DisclosureRule(int(text))


def check_level(level: float) -> None:
    """Refuse an interval level outside (0, 1) before any work."""
    if not 0 < level < 1:
        raise ConfigError(f"--level must be in (0, 1), got {level!r}")


def check_target_accept(target_accept: float | None) -> None:
    """Refuse a NUTS target acceptance outside (0, 1) before any work."""
    if target_accept is not None and not 0 < target_accept < 1:
        raise ConfigError(f"--target-accept must be in (0, 1), got {target_accept!r}")


def print_citations(console, sentences: dict[str, str], withheld: dict[str, list[str]], *, forced: bool) -> None:
    """Print the citable sentences (a withheld one as the line saying why) and which were withheld or forced."""
    console.print("Citable sentences:", highlight=False)
    for sentence in sentences.values():
        console.print(f"  {sentence}", highlight=False, markup=False, soft_wrap=True)
    if not withheld:
        return
    names = ", ".join(withheld)
    if forced:
        console.print(f"WARNING: {len(withheld)} of {len(sentences)} sentences cite a fit that has not converged "
                      f"(--cite-unconverged): {names}. Do not publish them.", style="bold red", markup=False,
                      highlight=False, soft_wrap=True)
    else:
        console.print(f"Withheld {len(withheld)} of {len(sentences)} citable sentences (fit not converged): {names}. "
                      "Rerun with more --tune/--draws or a higher --target-accept; --cite-unconverged prints them "
                      "with a warning.", style="bold red", markup=False, highlight=False, soft_wrap=True)


def missing_line(missing: pd.DataFrame, total: int, label, *, shown: int = 5) -> str:
    """One line saying how many of a study's ``total`` fits are missing and which: ``missing`` as from
    ``.missing()`` (``status``, ``error``), ``label(row)`` naming a task; the first ``shown`` failures in full."""
    failed = missing[missing["status"] == "failed"]
    parts = []
    if len(failed):
        named = "; ".join(f"{label(r)}: {r.error[:200]}" for r in failed.head(shown).itertuples())
        more = f"; and {len(failed) - shown} more" if len(failed) > shown else ""
        parts.append(f"{len(failed)} failed ({named}{more})")
    not_run = len(missing) - len(failed)
    if not_run:
        parts.append(f"{not_run} not run (interrupted)")
    return f"{len(missing)} of {total} fits missing: {', '.join(parts)}"
