"""Comparison of two rates: ratio and difference with intervals, and the probability that one is higher.

Binomial rates (``events`` of ``trials``) get independent Beta posteriors, Poisson rates (``events`` over an
``exposure``) Gamma posteriors, both from Jeffreys priors; the ratio and difference are computed draw by draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from extent.data.rate_tables import rate_table
from extent.estimators.proportion import MC_DRAWS
from extent.measure_result import MeasureResult


class RateComparison:
    """Rates of two groups (the rows of a rate table, first against second).

    Quantities: each row's rate, ``ratio`` (first / second) and ``difference`` (first - second). ``P(first >
    second)`` is ``result.prob_above("difference", 0)``.

    Parameters
    ----------
    seed : int
        Seed of the Monte Carlo draws.
    measure : str
        What the rates count, in words.
    """

    name = "rate_comparison"

    def __init__(self, *, seed: int = 20260, measure: str = "rate"):
        self.seed, self.measure = int(seed), measure

    def fit(self, table: pd.DataFrame, source: str = "rate table") -> MeasureResult:
        table = rate_table(table, source)
        rng = np.random.default_rng(self.seed)
        binomial = "trials" in table
        draws, observed = {}, {}
        for r in table.itertuples(index=False):
            if binomial:
                draws[r.unit] = rng.beta(r.events + 0.5, r.trials - r.events + 0.5, size=MC_DRAWS)[None]
                observed[r.unit] = r.events / r.trials
            else:
                draws[r.unit] = rng.gamma(r.events + 0.5, 1.0 / r.exposure, size=MC_DRAWS)[None]
                observed[r.unit] = r.events / r.exposure
        first, second = table["unit"].tolist()
        draws["ratio"] = draws[first] / draws[second]
        draws["difference"] = draws[first] - draws[second]
        observed["ratio"] = observed[first] / observed[second] if observed[second] > 0 else np.nan
        observed["difference"] = observed[first] - observed[second]
        scale = "proportion" if binomial else "rate"
        scales = {first: scale, second: scale, "ratio": "ratio",
                  "difference": "difference" if binomial else "rate"}
        return MeasureResult(self.name, self.measure, draws, scales, observed,
                             settings={"family": "binomial" if binomial else "poisson", "prior": "Jeffreys",
                                       "seed": self.seed, "draws": MC_DRAWS, "first": first, "second": second})
