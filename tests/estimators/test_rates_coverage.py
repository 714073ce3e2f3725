"""Coverage of the proportion, comparison and trend intervals on simulated data with known parameters (slow).

The numbers are in docs/rates.md; each check allows the binomial uncertainty of its number of replicates.
"""

import numpy as np
import pandas as pd
import pytest

from extent import BinomialProportion, CountTrend, RateComparison, SamplerConfig

LEVEL = 0.9


def _band(reps: int) -> float:
    """Three binomial standard errors of a 90% coverage estimated from ``reps`` replicates."""
    return 3 * np.sqrt(LEVEL * (1 - LEVEL) / reps)


@pytest.mark.slow
@pytest.mark.parametrize("n", [59, 199, 984])
def test_binomial_interval_covers_close_to_nominal_on_average(n):
    """Equal-tailed Jeffreys intervals oscillate with p (exact coverage 0.82-0.96 at 90%) but cover 90% on
    average over p: the share is drawn afresh for each replicate, rare shares (0.2%-15%) as in the report."""
    rng = np.random.default_rng(n)
    reps = 400
    hits = 0
    for i in range(reps):
        p = rng.uniform(0.002, 0.15)
        x = rng.binomial(n, p)
        iv = BinomialProportion(seed=i).fit(pd.DataFrame({"unit": ["u"], "successes": [x], "trials": [n]}))
        iv = iv.interval("u", LEVEL)
        hits += iv.lower <= p <= iv.upper
    print(f"binomial n={n}: coverage {hits / reps:.3f}")
    assert abs(hits / reps - LEVEL) < _band(reps) + 0.02


@pytest.mark.slow
def test_finite_population_interval_covers_the_population_share():
    rng = np.random.default_rng(7)
    reps, N, n = 400, 150, 35
    hits = 0
    for i in range(reps):
        population = rng.binomial(1, 0.2, N)
        sample = rng.choice(N, n, replace=False)
        x = int(population[sample].sum())
        iv = BinomialProportion(seed=i).fit(pd.DataFrame({"unit": ["u"], "successes": [x], "trials": [n],
                                                          "population": [N]})).interval("u", LEVEL)
        hits += iv.lower <= population.mean() <= iv.upper
    print(f"finite population 35 of 150: coverage {hits / reps:.3f}")
    assert hits / reps >= LEVEL - _band(reps) - 0.02


@pytest.mark.slow
def test_rate_ratio_interval_covers_close_to_nominal():
    rng = np.random.default_rng(8)
    reps, p1, p2 = 400, 0.015, 0.004
    hits = 0
    for i in range(reps):
        table = pd.DataFrame({"unit": ["a", "b"], "events": [rng.binomial(199, p1), rng.binomial(7272, p2)],
                              "trials": [199, 7272]})
        iv = RateComparison(seed=i).fit(table).interval("ratio", LEVEL)
        hits += iv.lower <= p1 / p2 <= iv.upper
    print(f"rate ratio 199 vs 7,272: coverage {hits / reps:.3f}")
    assert abs(hits / reps - LEVEL) < _band(reps) + 0.03


@pytest.mark.slow
def test_trend_growth_interval_covers_close_to_nominal():
    rng = np.random.default_rng(9)
    reps, truth = 40, 0.25
    years = np.arange(1999, 2003)
    exposure = np.array([1, 1, 1, 7 / 12])
    hits, errors = 0, []
    sampler = SamplerConfig(random_seed=1, draws=500, tune=500, chains=4)
    for i in range(reps):
        mean = 200 * np.exp(truth * (years - 1999)) * exposure
        counts = rng.poisson(mean * rng.gamma(1 / 0.1**2, 0.1**2, len(years)))  # overdispersion 0.1
        res = CountTrend(sampler=sampler.with_(random_seed=i + 1)).fit(
            pd.DataFrame({"year": years, "count": counts, "exposure": exposure}))
        iv = res.interval("growth", LEVEL)
        hits += iv.lower <= np.expm1(truth) <= iv.upper
        errors.append(iv.estimate - np.expm1(truth))
    print(f"trend growth: coverage {hits / reps:.3f}, mean error {np.mean(errors):+.3f}")
    assert abs(np.mean(errors)) < 0.05
    assert hits / reps >= LEVEL - _band(reps) - 0.03
