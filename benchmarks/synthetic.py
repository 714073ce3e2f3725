"""Synthetic extent problems of a given size for the benchmarks (seeded, with a known truth).

Sizes follow the performance issue: S = 52 units x 6 categories with 3 searched, M = 2,000 x 10 with 500
searched, L = 18,000 x 10 with 12,000 searched. Every searched unit is searched for every category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from extent.data import ExtentData

SIZES = {
    "S": dict(n_units=52, n_categories=6, n_searched=3),
    "M": dict(n_units=2_000, n_categories=10, n_searched=500),
    "L": dict(n_units=18_000, n_categories=10, n_searched=12_000),
}


def make_frames(n_units: int, n_categories: int, n_searched: int, *, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units and counts tables drawn from the model with fixed hyperparameters.

    Populations are log-normal around 150,000 (US-agency-like spread when ``n_units`` is large), rates per
    100,000 per year between 0.5 and 20, force sd 0.4, dispersion 0.3, four years.
    """
    rng = np.random.default_rng(seed)
    units = [f"u{i:05d}" for i in range(n_units)]
    population = np.round(np.exp(rng.normal(np.log(150_000), 0.8, n_units)))
    types = np.where(rng.random(n_units) < 0.2, "metropolitan", "shire")
    unit_df = pd.DataFrame({"unit": units, "population": population, "type": types})
    log_rate = np.log(rng.uniform(0.5, 20, n_categories))
    force_eff = rng.normal(0, 0.4, n_units)
    searched = np.sort(rng.choice(n_units, n_searched, replace=False))
    years = 4.0
    rows_u = np.repeat(searched, n_categories)
    rows_c = np.tile(np.arange(n_categories), n_searched)
    mu = population[rows_u] * years / 1e5 * np.exp(log_rate[rows_c] + force_eff[rows_u])
    alpha = 1 / 0.3**2
    cases = rng.poisson(mu * rng.gamma(alpha, 1 / alpha, mu.size))
    counts = pd.DataFrame(
        {
            "unit": np.asarray(units)[rows_u],
            "category": [f"cat{c:02d}" for c in rows_c],
            "cases": cases,
            "years": years,
        }
    ).sort_values(["category", "unit"], kind="stable")
    return unit_df, counts.reset_index(drop=True)


def make_data(size: str, *, seed: int = 1) -> ExtentData:
    """The synthetic problem of size ``"S"``, ``"M"`` or ``"L"`` as validated :class:`ExtentData`."""
    units, counts = make_frames(**SIZES[size], seed=seed)
    return ExtentData.from_frames(units, counts, name=f"synthetic_{size}")
