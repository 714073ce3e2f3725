"""Scores of a calibration study: coverage with binomial uncertainty, point error, width, interval score.

Per design, estimator, category and level (relative measures divide by the true total, so replicates with
different totals are comparable):

coverage
    Share of replicates whose central interval contains the truth, with a 95% Wilson score interval
    (Wilson 1927; Brown, Cai and DasGupta 2001).
relative width
    Mean of ``(upper - lower) / truth``.
interval score
    Mean of the interval score of Gneiting and Raftery (2007, eq. 43),
    ``(u - l) + 2/a (l - y) 1{y < l} + 2/a (y - u) 1{y > u}`` with ``a = 1 - level``, divided by ``truth``
    (lower is better; it rewards narrow intervals and penalises misses).
relative bias
    Mean of ``(estimate - truth) / truth`` (point estimate: posterior median, GLM plug-in, naive scaling).
median absolute log error
    Median of ``|log((estimate + 0.5) / (truth + 0.5))|`` (0.5 keeps zero counts finite).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POOLED = "all"
"""Category label of rows pooled over categories (replicates contribute one row per category, which are
correlated: treat the pooled interval as approximate)."""


def wilson_interval(k: np.ndarray | int, n: np.ndarray | int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion ``k / n``."""
    from scipy import stats

    k, n = np.asarray(k, float), np.asarray(n, float)
    z = stats.norm.ppf((1 + level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def interval_score(lower: np.ndarray, upper: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """Interval score of central ``level`` intervals (Gneiting and Raftery 2007)."""
    a = 1.0 - level
    return (upper - lower) + 2 / a * np.maximum(lower - y, 0) + 2 / a * np.maximum(y - upper, 0)


def _with_pooled(estimates: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([estimates, estimates.assign(category=POOLED)], ignore_index=True)


def coverage_table(estimates: pd.DataFrame, levels: tuple[float, ...]) -> pd.DataFrame:
    """Coverage, width and interval score per ``design, estimator, category, level``.

    ``estimates`` is the tidy estimates table of a study (columns ``design, estimator, category, truth,
    estimate, lower_<level>, upper_<level>``). Estimators without intervals are left out.
    """
    rows = []
    est = _with_pooled(estimates)
    for (design, estimator, category), g in est.groupby(["design", "estimator", "category"], sort=False):
        y = g["truth"].to_numpy(float)
        for lv in levels:
            lo, hi = g[f"lower_{lv:g}"].to_numpy(float), g[f"upper_{lv:g}"].to_numpy(float)
            if np.isnan(lo).all():
                continue
            covered = (lo <= y) & (y <= hi)
            k, n = int(covered.sum()), len(y)
            w_lo, w_hi = wilson_interval(k, n)
            scale = np.maximum(y, 1.0)
            rows.append({
                "design": design, "estimator": estimator, "category": category, "level": lv, "n": n,
                "covered": k, "coverage": k / n, "coverage_lower": float(w_lo), "coverage_upper": float(w_hi),
                "below": float(np.mean(y < lo)), "above": float(np.mean(y > hi)),
                "relative_width": float(np.mean((hi - lo) / scale)),
                "interval_score": float(np.mean(interval_score(lo, hi, y, lv) / scale)),
            })
    return pd.DataFrame(rows)


def accuracy_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """Point error per ``design, estimator, category``: relative bias (with a 95% normal interval), median
    absolute log error and relative RMSE."""
    rows = []
    for (design, estimator, category), g in _with_pooled(estimates).groupby(
            ["design", "estimator", "category"], sort=False):
        y, e = g["truth"].to_numpy(float), g["estimate"].to_numpy(float)
        rel = (e - y) / np.maximum(y, 1.0)
        se = float(np.std(rel, ddof=1) / np.sqrt(len(rel))) if len(rel) > 1 else np.nan
        rows.append({
            "design": design, "estimator": estimator, "category": category, "n": len(y),
            "relative_bias": float(np.mean(rel)), "relative_bias_se": se,
            "median_abs_log_error": float(np.median(np.abs(np.log((e + 0.5) / (y + 0.5))))),
            "relative_rmse": float(np.sqrt(np.mean(rel**2))),
        })
    return pd.DataFrame(rows)
