"""Shares with known denominators: conjugate binomial, partial pooling, finite-population correction.

:class:`BinomialProportion` gives each row its own Beta posterior (Jeffreys prior by default, exact Monte Carlo,
no MCMC); :class:`PooledProportion` pools the rows' logit shares (PyMC). With a ``population`` column (the
finite total the trials were drawn from), the quantity is that population's share: the sampled successes plus a
posterior predictive draw of the successes among the ``population - trials`` unsampled, divided by
``population``; a census (``trials == population``) then has no uncertainty, as it should.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from extent.data.rate_tables import proportion_table
from extent.exceptions import ConfigError
from extent.inference import Diagnostics, SamplerConfig, sample
from extent.measure_result import MeasureResult
from extent.models.rates import build_pooled_binomial, small_model_sampler

MC_DRAWS = 4000
"""Monte Carlo draws of the conjugate estimators."""
JEFFREYS = (0.5, 0.5)
"""Beta(1/2, 1/2): the Jeffreys prior, whose intervals cover close to nominal for small counts and rare shares."""


def finite_population(share: np.ndarray, successes: int, trials: int, population: float,
                      rng: np.random.Generator) -> np.ndarray:
    """Draws of the finite population's share given draws of the superpopulation share (beta-binomial on the
    unsampled ``population - trials``)."""
    if not np.isfinite(population):
        return share
    rest = int(population) - int(trials)
    return (successes + rng.binomial(rest, np.clip(share, 0.0, 1.0))) / float(population)


def _with_combined(table: pd.DataFrame, combined: str | None) -> pd.DataFrame:
    if combined is None or len(table) < 2:
        return table
    if combined in set(table["unit"]):
        raise ConfigError(f"combined label {combined!r} is also a row of the table")
    total = {"unit": combined, "successes": int(table["successes"].sum()), "trials": int(table["trials"].sum())}
    if "population" in table:
        total["population"] = table["population"].sum(min_count=len(table))
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


class BinomialProportion:
    """Each row's share, ``successes ~ Binomial(trials, p)`` with a Beta prior (no pooling).

    Parameters
    ----------
    prior : (float, float)
        Beta prior parameters (default Jeffreys, :data:`JEFFREYS`).
    combined : str, optional
        Label of an extra row: all rows together (complete pooling), e.g. ``"all"``.
    seed : int
        Seed of the Monte Carlo draws (same seed, same numbers).
    measure : str
        What the shares count, in words (for citations).
    """

    name = "binomial"

    def __init__(self, *, prior: tuple[float, float] = JEFFREYS, combined: str | None = None, seed: int = 20260,
                 measure: str = "share"):
        if len(prior) != 2 or not all(np.isfinite(prior)) or min(prior) <= 0:
            raise ConfigError(f"prior must be two positive Beta parameters, got {prior!r}")
        self.prior, self.combined, self.seed, self.measure = tuple(map(float, prior)), combined, int(seed), measure

    def fit(self, table: pd.DataFrame, source: str = "proportion table") -> MeasureResult:
        """Posterior draws of each row's share (and of the combined row)."""
        table = _with_combined(proportion_table(table, source), self.combined)
        rng = np.random.default_rng(self.seed)
        a, b = self.prior
        draws, observed = {}, {}
        for r in table.itertuples(index=False):
            p = rng.beta(a + r.successes, b + r.trials - r.successes, size=MC_DRAWS)
            draws[r.unit] = finite_population(p, r.successes, r.trials, getattr(r, "population", np.nan), rng)[None]
            observed[r.unit] = r.successes / r.trials
        return MeasureResult(self.name, self.measure, draws, dict.fromkeys(draws, "proportion"), observed,
                             settings={"prior": list(self.prior), "seed": self.seed, "draws": MC_DRAWS,
                                       "finite_population": "population" in table})


class PooledProportion:
    """Rows' shares partially pooled on the logit scale (:func:`~extent.models.rates.build_pooled_binomial`).

    Quantities: each row's share (finite-population corrected with a ``population`` column) and ``typical``,
    the share of a typical unit. Use it for several units (forces) or outcomes measuring the same kind of share;
    with one row it is refused (nothing to pool).
    """

    name = "pooled_binomial"

    def __init__(self, *, sampler: SamplerConfig | None = None, measure: str = "share", strict: bool = False):
        self.sampler, self.measure, self.strict = sampler or SamplerConfig(), measure, strict

    def fit(self, table: pd.DataFrame, source: str = "proportion table") -> MeasureResult:
        table = proportion_table(table, source)
        if len(table) < 2:
            raise ConfigError(f"{source}: partial pooling needs at least two rows (got {len(table)})")
        units = table["unit"].tolist()
        model = build_pooled_binomial(table["successes"].to_numpy(), table["trials"].to_numpy(), units)
        sampler = small_model_sampler(self.sampler)
        idata = sample(model, sampler,
                       var_names=["mu", "sigma", "z", "share", "typical"])
        diag = Diagnostics.from_idata(idata, ["mu", "sigma", "z"], unit_names=("z",))
        diag.check(strict=self.strict, what="pooled proportion fit")
        post = idata.posterior
        rng = np.random.default_rng(self.sampler.random_seed + 1)
        draws, observed = {}, {}
        for r in table.itertuples(index=False):
            p = post["share"].sel(unit=r.unit).values
            draws[r.unit] = finite_population(p, r.successes, r.trials, getattr(r, "population", np.nan), rng)
            observed[r.unit] = r.successes / r.trials
        draws["typical"] = post["typical"].values
        return MeasureResult(self.name, self.measure, draws, dict.fromkeys(draws, "proportion"), observed,
                             diagnostics=diag, settings={"sampler": sampler.to_dict(),
                                                         "finite_population": "population" in table})
