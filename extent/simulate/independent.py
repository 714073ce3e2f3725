"""An independent simulator: complete tables from a data-generating process that is *not* the model's family.

The hierarchical model assumes log-normal unit effects, a log-linear size effect, gamma-Poisson counts and
type effects on the log scale. This simulator builds each table from a different story, so that coverage on
it is evidence about the model under misspecification rather than a check of computation:

* **Units.** ``N_UNITS`` units with log-normal populations (median 400,000, log SD 1); a latent urbanicity
  correlated 0.6 with log population; type ``urban`` for the top quarter by urbanicity, ``rural`` otherwise;
  four regions.
* **Offenders, not rates.** Each unit has ``Poisson(population * base * exp(0.35 * urbanicity) * region)``
  offenders, where the region factor is ``exp(0.25 * t_3)`` (heavy-tailed between regions) and the
  urbanicity effect is non-linear in population (urbanicity is not a function of size).
* **Clustered victims.** Each offender has ``1 + floor(Pareto(1.7))`` victims (capped at 200): a few offenders
  with dozens of victims, as in the report's image-collection cases; counts are compound Poisson, not
  negative binomial.
* **Recording.** Each unit records a fraction ``Beta(6, 3)`` of its victims (police practice differs between
  forces), a left-skewed multiplier with no counterpart in the model.

A table's base rate is drawn so that the national count spans rare to common categories (about 0.5 to 50
recorded victims per 100,000). Table ``i`` of a simulated dataset is a pure function of ``i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from extent.exceptions import ConfigError

N_UNITS = 60
N_TABLES = 500
SIMULATED_DATASETS = ("sim_offenders",)
"""Simulated datasets that :class:`~extent.calibrate.ValidationStudy` accepts beside the real corpus."""
_REGIONS = ("north", "south", "east", "west")


@dataclass(frozen=True)
class SimulatedTable:
    """Table ``index`` of a simulated dataset (the same fields as :class:`~extent.datasets.corpus.CorpusTable`)."""

    dataset: str
    year: str
    category: str = "victims"

    @property
    def name(self) -> str:
        return f"{self.dataset}:{self.category}:{self.year}"


def simulated_tables(dataset: str) -> list[SimulatedTable]:
    """The :data:`N_TABLES` tables of a simulated dataset."""
    if dataset not in SIMULATED_DATASETS:
        raise ConfigError(f"unknown simulated dataset {dataset!r}; available: {', '.join(SIMULATED_DATASETS)}")
    return [SimulatedTable(dataset, str(i)) for i in range(N_TABLES)]


def simulated_frame(table: SimulatedTable) -> pd.DataFrame:
    """The rows of one simulated table: ``unit, type, population, cases`` (see the module docstring)."""
    simulated_tables(table.dataset)  # checks the name
    rng = np.random.default_rng([20261202, int(table.year)])
    n = N_UNITS
    log_pop = np.log(4e5) + rng.standard_normal(n)
    urban = 0.6 * (log_pop - log_pop.mean()) + 0.8 * rng.standard_normal(n)
    region = rng.integers(len(_REGIONS), size=n)
    region_factor = np.exp(0.25 * rng.standard_t(3, size=len(_REGIONS)))[region]
    pop = np.round(np.exp(log_pop)).astype(np.int64)
    # recorded victims per offender average 2.02 x 6/9 = 1.35: the recorded rate is 0.5 to 50 per 100,000 (log-uniform)
    base = np.exp(rng.uniform(np.log(0.5), np.log(50.0))) / 1e5 / 1.35
    offenders = rng.poisson(pop * base * np.exp(0.35 * urban) * region_factor)
    victims = np.array([int(np.minimum(1 + np.floor(rng.pareto(1.7, size=m)), 200).sum()) for m in offenders])
    recorded = rng.binomial(victims, rng.beta(6.0, 3.0, size=n))
    kind = np.where(urban >= np.quantile(urban, 0.75), "urban", "rural")
    return pd.DataFrame({"unit": [f"unit {i:02d} ({_REGIONS[r]})" for i, r in enumerate(region)], "type": kind,
                         "population": pop, "cases": recorded})
