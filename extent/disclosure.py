"""Statistical disclosure control of published counts: threshold suppression with secondary suppression.

The rule follows the threshold ("frequency") rule of ONS "Statistical disclosure control" guidance and of the
Eurostat / ESSnet "Handbook on Statistical Disclosure Control" (Hundepool et al.):

* **Primary suppression.** An observed count ``n`` with ``0 < n < threshold`` (default 5) is not published; it
  is shown as the range ``1-4``. Zeros are published by default: a force that recorded no case of a category
  identifies nobody, and suppressing zeros would hide most of a sparse table for no protection
  (``suppress_zeros=True`` treats them as small too, shown as ``0-4``; the ONS guidance treats zeros as
  disclosive only where they reveal something about every member of a group).
* **Secondary suppression.** A suppressed cell must not be recoverable from a published total by differencing.
  For each published total and the cells it sums, further cells (the smallest first, zeros included) are
  suppressed, shown as ``[c]`` (the GSS symbol for "confidential"), until no primary cell can be pinned to a
  single value by a reader who knows this rule, the total and the other published cells. If that is not
  possible the total itself is suppressed. A total that is itself below the threshold is suppressed too.
* **Totals that recover counts.** A national figure that is a known multiple of a suppressed total (the naive
  estimator's national figure is total x population factor) or equal to it (a model-based national total when
  every unit was searched: the interval collapses to the observed count) is withheld as well. Other national
  model-based estimates stay published: they mix the observed counts with predictions for unsearched units.

Each cell belongs to at most one published total (extent's tables have one such dimension: the category total
over searched units, or a table's row total). A reader may still narrow a suppressed cell to fewer values than
its shown range; the rule guarantees only that no small count is published or recoverable exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from extent.exceptions import ConfigError, DisclosureWarning

SECONDARY = "[c]"
"""How a secondarily suppressed cell, a suppressed total or a withheld figure is shown."""
WITHHELD_COUNTS = "withheld"
"""How a count is shown when the stored data hold no counts (a fit saved without raw counts)."""
NOTE_WITHHELD = "[withheld: may quote a suppressed count]"
PRIMARY, SECOND = "primary", "secondary"


@dataclass(frozen=True)
class DisclosureRule:
    """The threshold rule for published counts.

    Parameters
    ----------
    threshold : int
        Counts ``0 < n < threshold`` are suppressed (default 5, ONS/Eurostat practice). 1 suppresses nothing.
    suppress_zeros : bool
        Treat zeros as small counts too (default False: zeros identify nobody). Always True for threshold 2,
        where the range of a suppressed cell would otherwise be the single value 1.
    """

    threshold: int = 5
    suppress_zeros: bool = False

    def __post_init__(self):
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1:
            raise ConfigError(f"disclosure threshold must be a positive integer, got {t!r}")
        if t == 2:  # the only small count would be 1: a suppressed cell would be known to be 1
            object.__setattr__(self, "suppress_zeros", True)

    def is_small(self, n: float) -> bool:
        """Whether an observed count is suppressed on its own (primary suppression)."""
        return (0 < n < self.threshold) or (self.suppress_zeros and n == 0 and self.threshold > 1)

    @property
    def low(self) -> int:
        """The smallest value a primarily suppressed cell can take."""
        return 0 if self.suppress_zeros else 1

    @property
    def primary_label(self) -> str:
        """The range shown for a primarily suppressed cell (``[c]`` when the range would be one value)."""
        return f"{self.low}-{self.threshold - 1}" if self.threshold - 1 > self.low else SECONDARY

    def describe(self) -> str:
        """The rule in one sentence, for reports."""
        small = f"0 to {self.threshold - 1}" if self.suppress_zeros else f"1 to {self.threshold - 1}"
        return (f"observed counts of {small} (below the threshold of {self.threshold}) are shown as "
                f"'{self.primary_label}'; further cells are suppressed ('{SECONDARY}') so that no small count can be "
                "recovered from a published total, and national figures that would give a suppressed total back "
                "are withheld ('[c]')")


def protect_group(values, rule: DisclosureRule, *, total_published: bool = True) -> tuple[list[str], bool]:
    """Primary and secondary suppression of the cells of one published total.

    Parameters
    ----------
    values : sequence of int
        The cells that the total sums.
    rule : DisclosureRule
    total_published : bool
        Whether their total is published (if not, no secondary suppression is needed).

    Returns
    -------
    status : list of str
        Per cell: ``""`` (published), ``"primary"`` or ``"secondary"``.
    total_suppressed : bool
        Whether the total must be suppressed too (it is small itself, or cannot otherwise protect its cells).
    """
    v = np.asarray(values, dtype=np.int64)
    status = [PRIMARY if rule.is_small(x) else "" for x in v]
    total = int(v.sum())
    if not total_published or not any(status):
        return status, False
    if rule.is_small(total):
        return status, True
    while _recoverable(v, status, rule):
        free = [i for i, s in enumerate(status) if not s]
        if not free:
            return status, True
        status[min(free, key=lambda i: (v[i], i))] = SECOND
    return status, False


def _recoverable(v: np.ndarray, status: list[str], rule: DisclosureRule) -> bool:
    """Whether a reader who knows the rule, the total and the published cells can pin a primary cell down.

    A primary cell lies in ``[low, threshold - 1]``; a secondary cell is a publishable value: ``>= threshold``,
    or 0 when zeros are not small (a zero may be chosen as a complement).
    """
    t, low = rule.threshold, rule.low
    rest = int(v.sum()) - int(sum(x for x, s in zip(v, status) if not s))
    n_primary = sum(s == PRIMARY for s in status)
    n_second = sum(s == SECOND for s in status)
    for s in status:
        if s != PRIMARY:
            continue
        k = n_primary - 1  # the other primary cells sum to [k low, k (t - 1)]; secondaries add 0 (if zeros are
        lo, hi = k * low, k * (t - 1)  # publishable) or at least threshold each
        second_min = t if not rule.suppress_zeros else n_second * t
        feasible = 0
        for p in range(low, t):
            r = rest - p  # what the other suppressed cells sum to
            if n_second == 0:
                feasible += lo <= r <= hi
            else:
                feasible += (not rule.suppress_zeros and lo <= r <= hi) or r >= lo + second_min
        if feasible < 2:
            return True
    return False


@dataclass(frozen=True)
class CountProtection:
    """Suppression of a counts table (``unit, category, cases``): cells grouped by category, whose total over
    searched units is published.

    Attributes
    ----------
    rule : DisclosureRule or None
        ``None``: disclosure control is off (everything is shown).
    status : dict
        ``(category, unit) -> "" | "primary" | "secondary" | "withheld"``.
    totals : dict
        ``category -> total`` (``None`` when the counts are withheld).
    total_suppressed : dict
        ``category -> bool``.
    """

    rule: DisclosureRule | None
    status: dict[tuple[str, str], str]
    totals: dict[str, int | None]
    total_suppressed: dict[str, bool]
    values: dict[tuple[str, str], int | None] = field(repr=False, default_factory=dict)

    def cell(self, category: str, unit: str) -> str:
        """One cell as published."""
        s, v = self.status[(category, unit)], self.values[(category, unit)]
        if s == WITHHELD_COUNTS:
            return WITHHELD_COUNTS
        if s == PRIMARY:
            return self.rule.primary_label
        return SECONDARY if s == SECOND else str(v)

    def total(self, category: str) -> str:
        """A category's total over searched units as published."""
        t = self.totals[category]
        if t is None:
            return WITHHELD_COUNTS
        if not self.total_suppressed[category]:
            return str(t)
        return self.rule.primary_label if self.rule.is_small(t) else SECONDARY

    @property
    def n_primary(self) -> int:
        return sum(s == PRIMARY for s in self.status.values())

    @property
    def n_secondary(self) -> int:
        return sum(s == SECOND for s in self.status.values())

    def suppressed(self, category: str, unit: str) -> bool:
        return bool(self.status[(category, unit)])

    def apply(self, frame: pd.DataFrame, column: str = "cases", withhold: tuple[str, ...] = ("note",)) -> pd.DataFrame:
        """``frame`` (rows ``category, unit``) with ``column`` as published and free text of suppressed rows
        withheld (a note may quote the count)."""
        out = frame.copy().astype({column: object})
        for i, r in enumerate(frame.itertuples(index=False)):
            key = (str(r.category), str(r.unit))
            if key not in self.status:
                continue
            out.iat[i, out.columns.get_loc(column)] = self.cell(*key)
            if self.status[key]:
                for c in withhold:
                    if c in out and isinstance(frame[c].iloc[i], str) and frame[c].iloc[i]:
                        out.iat[i, out.columns.get_loc(c)] = NOTE_WITHHELD
        return out


def protect_counts(counts: pd.DataFrame, rule: DisclosureRule | None) -> CountProtection:
    """Apply ``rule`` to a counts table (``None``: nothing suppressed). Missing cases (withheld) are shown so."""
    status, totals, tsup, values = {}, {}, {}, {}
    for category, g in counts.groupby("category", sort=False):
        keys = [(str(category), str(u)) for u in g["unit"]]
        cases = g["cases"]
        if cases.isna().any():
            status.update(dict.fromkeys(keys, WITHHELD_COUNTS))
            values.update(dict.fromkeys(keys))
            totals[str(category)], tsup[str(category)] = None, False
            continue
        v = cases.to_numpy(np.int64)
        st, ts = protect_group(v, rule) if rule is not None else ([""] * len(v), False)
        status.update(zip(keys, st))
        values.update(zip(keys, map(int, v)))
        totals[str(category)], tsup[str(category)] = int(v.sum()), ts
    return CountProtection(rule, status, totals, tsup, values)


def protect_table(frame: pd.DataFrame, columns: list[str], rule: DisclosureRule | None, *, total: str | None = None,
                  withhold: tuple[str, ...] = ("note",)) -> tuple[pd.DataFrame, int, int]:
    """A published table with its count ``columns`` protected row by row.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : list of str
        Columns holding observed counts.
    rule : DisclosureRule or None
        ``None``: the table is returned unchanged.
    total : str, optional
        A column holding each row's total of ``columns`` (secondary suppression protects against it).
    withhold : tuple of str
        Free-text columns blanked on rows with a suppressed cell (notes that may quote the count).

    Returns
    -------
    table, n_primary, n_secondary
    """
    if rule is None:
        return frame, 0, 0
    out = frame.copy().astype({c: object for c in [*columns, *([total] if total else [])]})
    n_primary = n_secondary = 0
    for i in range(len(frame)):
        row = frame.iloc[i]
        if row[columns].isna().any():
            continue
        v = row[columns].to_numpy(np.int64)
        status, tsup = protect_group(v, rule, total_published=total is not None)
        n_primary += status.count(PRIMARY)
        n_secondary += status.count(SECOND)
        for c, s in zip(columns, status):
            if s:
                out.iat[i, out.columns.get_loc(c)] = rule.primary_label if s == PRIMARY else SECONDARY
        if total is not None and tsup:
            t = int(row[total])
            out.iat[i, out.columns.get_loc(total)] = rule.primary_label if rule.is_small(t) else SECONDARY
        if any(status):
            for c in withhold:
                if c in out and isinstance(row[c], str) and row[c]:
                    out.iat[i, out.columns.get_loc(c)] = NOTE_WITHHELD
    return out, n_primary, n_secondary


def design_warnings(counts: pd.DataFrame, n_units: int, rule: DisclosureRule | None = DisclosureRule()) -> list[str]:
    """Designs that let a per-unit count be recovered from national figures, one sentence each (what is done
    about it depends on ``rule``; ``None``: control is off)."""
    done = ("figures are withheld when that count is suppressed" if rule is not None else
            "disclosure control is off, so they are published")
    out = []
    for category, g in counts.groupby("category", sort=False):
        if len(g) == 1:
            out.append(f"{category}: only one unit ({g['unit'].iloc[0]}) was searched, so its count is the "
                       "category total and the naive national figure (count x a known population factor) gives it "
                       f"back; naive {done}")
        if len(g) == n_units:
            out.append(f"{category}: every unit was searched, so the national total is the observed total exactly "
                       f"(the interval collapses to it); national {done}")
    return out


def warn_design(counts: pd.DataFrame, n_units: int, rule: DisclosureRule | None = DisclosureRule()) -> list[str]:
    """Issue :func:`design_warnings` as :class:`~extent.exceptions.DisclosureWarning` and return them."""
    found = design_warnings(counts, n_units, rule)
    for text in found:
        warnings.warn(f"disclosure: {text}", DisclosureWarning, stacklevel=2)
    return found


def withheld_categories(result, protection: CountProtection, level: float) -> set[str]:
    """Categories whose national figures from ``result`` would give back a suppressed total.

    A point estimate (the naive figure) is a known multiple of the total; a model-based total recovers it when
    its interval reaches down to it exactly (every unit searched, or nothing predicted elsewhere).
    """
    out = set()
    for c in result.categories:
        if not protection.total_suppressed.get(c, False):
            continue
        iv = result.interval(c, "total", level)
        t = protection.totals[c]
        if np.isnan(iv.lower) or np.isclose(iv.lower, t) or np.isclose(iv.estimate, t):
            out.add(c)
    return out


def fit_file_refusal(name: str, hidden, keep_counts: bool) -> str | None:
    """Why the fit file ``name`` must not be written, or ``None``: the national draws of a withheld category
    (every unit searched) are the suppressed count itself, so only a file with raw counts kept may hold them."""
    if not hidden or keep_counts:
        return None
    return (f"{name} is not written: the national draws of {', '.join(sorted(hidden))} give back a suppressed "
            "count (write it with raw counts kept, not for publication)")


def withheld_figures(results, protection: CountProtection, level: float) -> dict[str, set[str]]:
    """``estimator -> categories`` whose national figures are withheld (none when disclosure control is off)."""
    if protection.rule is None:
        return {}
    return {r.estimator: withheld_categories(r, protection, level) for r in results}


WITHHELD_NOTE = "withheld: would give back an observed count below the disclosure threshold"
OFF_NOTE = "not checked: disclosure control was off"


def protect_estimates(table: pd.DataFrame, withheld: dict[str, set[str]], rule: DisclosureRule | None) -> pd.DataFrame:
    """A tidy estimates table as published: the figures of withheld (estimator, category) rows blanked.

    Adds a ``disclosure`` column: empty, why the row's figures are withheld, or that control was off.
    """
    out = table.copy()
    hide = np.array([r.category in withheld.get(r.estimator, ()) for r in out.itertuples()], dtype=bool)
    out.loc[hide, ["estimate", "lower", "upper"]] = np.nan
    out["disclosure"] = OFF_NOTE if rule is None else np.where(hide, WITHHELD_NOTE, "")
    return out


def withheld_sentence(category: str, rule: DisclosureRule) -> str:
    """What is said instead of a citable sentence whose figures would give back a suppressed count."""
    return (f"{category.replace('_', ' ')}: national figures withheld (disclosure control: they would give back "
            f"an observed count below {rule.threshold}).")
