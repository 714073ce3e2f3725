"""Results of the proportion, rate-comparison and trend estimators: :class:`MeasureResult`.

An :class:`~extent.results.ExtentResult` holds national totals per category; the estimators of
:mod:`extent.estimators.proportion`, :mod:`~extent.estimators.comparison` and :mod:`~extent.estimators.trend`
give other quantities (shares, ratios, growth rates, projections), each a set of posterior draws with a scale
that says how to print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from extent.constants import CI_LEVEL
from extent.exceptions import ConfigError
from extent.inference.diagnostics import Diagnostics

SCALES = ("proportion", "difference", "ratio", "count", "rate")
"""How a quantity is printed: a share (percent), a difference of shares (percentage points), a ratio (x-fold),
a count, or a rate (per year)."""

MEASURE_COLUMNS = ["quantity", "scale", "observed", "estimate", "lower", "upper", "level", "converged"]
"""Columns of :meth:`MeasureResult.table`."""


def format_measure(x: float, scale: str) -> str:
    """A number on ``scale`` as people read it (percent for shares, ``x``-fold for ratios)."""
    if x is None or not np.isfinite(x):
        return "n/a"
    if scale in ("proportion", "difference"):
        pct = 100 * x
        digits = 1 if abs(pct) >= 1 or pct == 0 else 2 if abs(pct) >= 0.1 else 3
        return f"{pct:.{digits}f}{'%' if scale == 'proportion' else ' points'}"
    if scale == "ratio":
        return f"{x:.2f}" if abs(x) < 10 else f"{x:,.0f}"
    digits = 0 if abs(x) >= 10 else 1  # 54 (20 to 137), never 54.0 (20.0 to 137); 0.7 (0.3 to 2.0)
    return f"{x:,.{digits}f}"


def positional(x: float, digits: int = 4) -> str:
    """``x`` for a CSV: positional notation to ``digits`` significant figures (never ``1.49e+03``), empty if
    missing."""
    if x is None or not np.isfinite(x):
        return ""
    return np.format_float_positional(float(x), precision=digits, unique=False, fractional=False, trim="-")


def for_csv(table: pd.DataFrame, columns: tuple[str, ...] = ("observed", "estimate", "lower", "upper")) -> pd.DataFrame:
    """``table`` with its number ``columns`` as :func:`positional` text and ``level`` as written (0.9)."""
    out = table.copy()
    for c in columns:
        if c in out:
            out[c] = [positional(x) for x in out[c].astype(float)]
    if "level" in out:
        out["level"] = [f"{x:g}" for x in out["level"].astype(float)]
    return out


@dataclass(frozen=True)
class MeasureInterval:
    """Posterior median and central credible interval of one quantity."""

    quantity: str
    scale: str
    estimate: float
    lower: float
    upper: float
    level: float

    def __str__(self) -> str:
        return (f"{format_measure(self.estimate, self.scale)} ({self.level:.0%} CI "
                f"{format_measure(self.lower, self.scale)} to {format_measure(self.upper, self.scale)})")


@dataclass(frozen=True, eq=False)
class MeasureResult:
    """Posterior draws of named quantities from one estimator.

    Attributes
    ----------
    estimator : str
        Name of the estimator (``binomial``, ``pooled_binomial``, ``rate_comparison``, ``trend``).
    measure : str
        What the numbers count, in words (e.g. "suspects with a previous sexual-offence conviction").
    draws : dict of str to ndarray
        Posterior draws per quantity, each of shape ``(chains, draws)`` (one chain for Monte Carlo estimators).
    scales : dict of str to str
        Each quantity's scale (:data:`SCALES`).
    observed : dict of str to float
        The plain observed value of a quantity where there is one (e.g. 13 / 199), else absent.
    diagnostics : Diagnostics or None
        Convergence record of an MCMC fit (``None`` for exact Monte Carlo from a conjugate posterior).
    settings : dict
        Priors, options and seeds, enough to reproduce the result.
    """

    estimator: str
    measure: str
    draws: dict[str, np.ndarray]
    scales: dict[str, str]
    observed: dict[str, float] = field(default_factory=dict)
    diagnostics: Diagnostics | None = None
    settings: dict = field(default_factory=dict)

    @property
    def quantities(self) -> list[str]:
        return list(self.draws)

    @property
    def converged(self) -> bool:
        """True for Monte Carlo results and for MCMC fits that pass every diagnostic check."""
        return self.diagnostics is None or self.diagnostics.converged

    @property
    def is_scenario(self) -> bool:
        """True for an assumption-driven scenario (:mod:`extent.scenarios`), whose numbers are not estimates."""
        return bool(self.settings.get("scenario"))

    def _draws(self, quantity: str) -> np.ndarray:
        if quantity not in self.draws:
            raise ConfigError(f"unknown quantity {quantity!r}; known: {', '.join(self.quantities)}")
        return np.ravel(self.draws[quantity])

    def interval(self, quantity: str, level: float = CI_LEVEL) -> MeasureInterval:
        """Posterior median and central ``level`` interval of ``quantity``."""
        if not 0 < level < 1:
            raise ConfigError(f"level must be in (0, 1), got {level!r}")
        x = self._draws(quantity)
        lo, med, hi = np.quantile(x, [(1 - level) / 2, 0.5, (1 + level) / 2])
        return MeasureInterval(quantity, self.scales[quantity], float(med), float(lo), float(hi), float(level))

    def prob_above(self, quantity: str, threshold: float) -> float:
        """Posterior probability that ``quantity`` exceeds ``threshold``."""
        return float(np.mean(self._draws(quantity) > threshold))

    def prob_below(self, quantity: str, threshold: float) -> float:
        """Posterior probability that ``quantity`` is below ``threshold``."""
        return float(np.mean(self._draws(quantity) < threshold))

    def table(self, level: float = CI_LEVEL) -> pd.DataFrame:
        """Tidy table, one row per quantity (:data:`MEASURE_COLUMNS`)."""
        rows = []
        for q in self.quantities:
            iv = self.interval(q, level)
            rows.append({"quantity": q, "scale": iv.scale, "observed": self.observed.get(q, np.nan),
                         "estimate": iv.estimate, "lower": iv.lower, "upper": iv.upper, "level": iv.level,
                         "converged": self.converged})
        return pd.DataFrame(rows, columns=MEASURE_COLUMNS)

    def summary(self, level: float = CI_LEVEL) -> pd.DataFrame:
        """The tidy table with the posterior mean and sd of each quantity added."""
        out = self.table(level)
        out["mean"] = [float(np.mean(self._draws(q))) for q in self.quantities]
        out["sd"] = [float(np.std(self._draws(q))) for q in self.quantities]
        return out

    def citation(self, quantity: str, level: float = CI_LEVEL) -> str:
        """One sentence a report writer can cite (for a scenario, one that says it is a scenario)."""
        iv = self.interval(quantity, level)
        if self.is_scenario:
            text = (f"SCENARIO, not an estimate: assuming {self.settings['scenario']}, {quantity.replace('_', ' ')} "
                    f"would be {format_measure(iv.estimate, iv.scale)} ({level:.0%} range "
                    f"{format_measure(iv.lower, iv.scale)} to {format_measure(iv.upper, iv.scale)}), a range set by "
                    "that assumption, not by data")
        else:
            text = (f"{quantity.replace('_', ' ')} ({self.measure}): {format_measure(iv.estimate, iv.scale)} "
                    f"({level:.0%} credible interval {format_measure(iv.lower, iv.scale)} to "
                    f"{format_measure(iv.upper, iv.scale)})")
        if not self.converged:
            text += " [WARNING: fit not converged; do not cite]"
        return text + "."

    def __repr__(self) -> str:
        lines = [f"MeasureResult({self.estimator}: {self.measure})"]
        lines += [f"  {q}: {self.interval(q)}" for q in self.quantities]
        return "\n".join(lines)
