"""Simulation-based calibration (Talts et al. 2018, *Validating Bayesian inference algorithms with
simulation-based calibration*; Säilynoja et al. 2022 for the ECDF bands).

When the truth is drawn from the prior and the data from the model, the rank of the truth among ``L``
posterior draws is uniform on ``0..L`` for a correct sampler. Draws are thinned evenly to ``L`` to reduce
autocorrelation, and ties (discrete national totals) are broken at random.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_RANK_DRAWS = 99
"""Thinned posterior draws per rank: ranks take values 0..99 (100 equally likely values)."""


def rank_of(value: float, draws: np.ndarray, *, rng: np.random.Generator, n_draws: int = N_RANK_DRAWS) -> int:
    """Rank of ``value`` among ``n_draws`` evenly thinned ``draws``, ties broken uniformly at random."""
    draws = np.asarray(draws, dtype=float).ravel()
    idx = np.linspace(0, draws.size - 1, n_draws).round().astype(int)
    thin = draws[idx]
    below = int(np.sum(thin < value))
    ties = int(np.sum(thin == value))
    return below + int(rng.integers(0, ties + 1))


def rank_uniformity(ranks: pd.DataFrame, *, bins: int = 10) -> pd.DataFrame:
    """Chi-square test of uniform ranks per quantity.

    Parameters
    ----------
    ranks : DataFrame
        Columns ``quantity, rank, n_draws`` (one row per replicate and quantity).

    Returns
    -------
    DataFrame
        ``quantity, n, chi2, p_value, mean_rank_fraction, ecdf_max_dev`` with the rank fraction
        ``rank / n_draws`` (0.5 expected; below 0.5: the posterior sits above the truth) and the largest
        absolute gap between the ECDF of ``(rank + 0.5) / (n_draws + 1)`` and the uniform CDF.
    """
    from scipy import stats

    rows = []
    for q, g in ranks.groupby("quantity", sort=False):
        L = int(g["n_draws"].iloc[0])
        r = g["rank"].to_numpy(int)
        counts = np.bincount(np.minimum(r * bins // (L + 1), bins - 1), minlength=bins)
        chi2, p = stats.chisquare(counts)
        u = np.sort((r + 0.5) / (L + 1))
        grid = np.arange(1, len(u) + 1) / len(u)
        dev = float(np.max(np.maximum(np.abs(grid - u), np.abs(grid - 1 / len(u) - u))))
        rows.append({"quantity": q, "n": len(r), "chi2": float(chi2), "p_value": float(p),
                     "mean_rank_fraction": float(np.mean(r / L)), "ecdf_max_dev": dev})
    return pd.DataFrame(rows)


def ecdf_band(n: int, *, level: float = 0.95, grid: int = 101, sims: int = 2000, seed: int = 0) -> tuple:
    """Simultaneous band for the ECDF difference of ``n`` uniform ranks (by simulation).

    Returns ``(z, lower, upper)`` on the grid ``z`` in [0, 1]: ECDF(z) - z lies inside with probability ``level``.
    """
    rng = np.random.default_rng(seed)
    z = np.linspace(0, 1, grid)
    u = np.sort(rng.uniform(size=(sims, n)), axis=1)
    diffs = np.stack([np.searchsorted(row, z, side="right") / n - z for row in u])
    sd = np.sqrt(z * (1 - z) / n) + 1e-12
    stat = np.max(np.abs(diffs) / sd, axis=1)
    k = np.quantile(stat, level)
    return z, -k * sd, k * sd
