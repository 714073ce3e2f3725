"""Trend in a count series (or any positive yearly measure) with part-year exposure.

Each year's value is observed over ``exposure`` of the year (1 for a full year): a part year counts only what
was seen in it. A yearly figure that was extrapolated from part of a year (e.g. January-July scaled to twelve
months) is best entered as the part actually observed (the figure x 7/12) with exposure 7/12, so the model
carries the extrapolation's uncertainty instead of treating the figure as a full year's count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from extent.data.rate_tables import series_table
from extent.exceptions import ConfigError
from extent.inference import Diagnostics, SamplerConfig, sample
from extent.measure_result import MeasureResult
from extent.models.rates import build_trend, small_model_sampler

FAMILIES = ("negative_binomial", "poisson", "lognormal")


class CountTrend:
    """Log-linear trend in year (:func:`~extent.models.rates.build_trend`).

    Quantities: ``growth`` (annual growth rate, ``exp(slope) - 1``), ``ratio_<first>_<last>`` (the fitted
    rate of the last year over the first), ``rate_<year>`` (the fitted full-year rate of each year, all units
    together) and ``projection_<last + horizon>`` (a posterior predictive full-year value ``horizon`` years on).

    Parameters
    ----------
    family : {"negative_binomial", "poisson", "lognormal"}
        Counts (with or without overdispersion) or positive measurements (e.g. gigabytes; fitted rates are
        then medians).
    horizon : int
        Years ahead of the last for the projection.
    sampler : SamplerConfig, optional
    measure : str
        What the values count, in words.
    """

    name = "trend"

    def __init__(self, *, family: str = "negative_binomial", horizon: int = 1, sampler: SamplerConfig | None = None,
                 measure: str = "count", strict: bool = False):
        if family not in FAMILIES:
            raise ConfigError(f"family must be one of {FAMILIES}, got {family!r}")
        if not isinstance(horizon, int) or horizon < 1:
            raise ConfigError(f"horizon must be a positive integer, got {horizon!r}")
        self.family, self.horizon, self.sampler = family, horizon, sampler or SamplerConfig()
        self.measure, self.strict = measure, strict

    def fit(self, table: pd.DataFrame, source: str = "series table") -> MeasureResult:
        table = series_table(table, source, integer_counts=self.family != "lognormal")
        units = sorted(table["unit"].unique())
        unit_index = table["unit"].map({u: i for i, u in enumerate(units)}).to_numpy()
        years = table["year"].to_numpy()
        reference = float(np.mean(np.unique(years)))
        model = build_trend(years, table["count"].to_numpy(), table["exposure"].to_numpy(), unit_index, units,
                            family=self.family, reference_year=reference)
        names = ["level", "slope"] + [v for v in ("overdispersion", "log_sd", "unit_sd", "base")
                                      if v in model.named_vars]
        sampler = small_model_sampler(self.sampler)
        idata = sample(model, sampler, var_names=names)
        diag = Diagnostics.from_idata(idata, names)
        diag.check(strict=self.strict, what="trend fit")
        post = idata.posterior
        level = post["level"].values  # chain, draw, unit
        slope = post["slope"].values
        first, last = int(years.min()), int(years.max())

        def rate(year: float) -> np.ndarray:
            return np.exp(level + (slope * (year - reference))[..., None]).sum(axis=-1)

        draws = {"growth": np.expm1(slope), f"ratio_{first}_{last}": np.exp(slope * (last - first))}
        draws.update({f"rate_{y}": rate(y) for y in range(first, last + 1)})
        ahead = last + self.horizon
        rng = np.random.default_rng(self.sampler.random_seed + 1)
        mu = np.exp(level + (slope * (ahead - reference))[..., None])
        if self.family == "lognormal":
            sd = post["log_sd"].values[..., None]
            projection = (mu * np.exp(sd * rng.standard_normal(mu.shape))).sum(axis=-1)
        elif self.family == "poisson":
            projection = rng.poisson(mu).sum(axis=-1)
        else:
            over = post["overdispersion"].values[..., None]
            shape = 1.0 / (over**2 + 1e-6)
            projection = rng.poisson(mu * rng.gamma(shape, 1.0 / shape)).sum(axis=-1)
        draws[f"projection_{ahead}"] = projection.astype(float)
        scale = "rate"
        scales = {"growth": "proportion", f"ratio_{first}_{last}": "ratio",
                  **{k: scale for k in draws if k.startswith(("rate_", "projection_"))}}
        whole = table.groupby("year")["exposure"].apply(lambda e: bool((e == 1.0).all()))
        sums = table.groupby("year")["count"].sum()
        observed = {f"rate_{y}": float(sums[y]) for y in sums.index if whole[y]}
        return MeasureResult(self.name, self.measure, draws, scales, observed, diagnostics=diag,
                             settings={"family": self.family, "horizon": self.horizon, "reference_year": reference,
                                       "sampler": sampler.to_dict(), "units": units})
