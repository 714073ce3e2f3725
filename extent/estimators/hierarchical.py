"""The hierarchical Bayesian extent estimator: data -> model -> posterior -> national totals.

Fits pass :func:`compile_key` to :func:`~extent.inference.sample`, so a second fit of data with the same
structure in the same process (a calibration study, a re-run in a notebook) reuses the compiled model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import warnings

import arviz as az
import numpy as np
import pandas as pd

from extent.data import ExtentData
from extent.exceptions import ConfigError, ExtrapolationWarning
from extent.inference import Diagnostics, SamplerConfig, sample
from extent.models.counts.builder import build_extent_model, default_priors, prefer_centered
from extent.models.counts.design import DEFAULT_LOG_POPULATION, DEFAULT_SPREAD_BY_SIZE, LOG_POPULATION, Design
from extent.models.counts.predict import national_totals
from extent.priors import Prior, resolve_priors
from extent.results import NationalResult

DIAGNOSED = ["log_rate", "log_mean_rate", "unit_sd", "shared_fraction", "spread_slope", "shared_sd", "dispersion",
             "type_effect", "coef", "unit_offset", "national_total"]
"""Quantities whose R-hat and ESS decide convergence, the reported national totals among them."""


TARGET_ACCEPT = {False: 0.99, True: 0.8}
"""NUTS target acceptance by parameterisation (non-centred, centred) when the sampler settings leave it open.

Non-centred fits are the few-unit ones, whose curved posterior needs small steps. Centred fits of many
units have no divergences at PyMC's default 0.8 (sizes M and L, ``docs/performance.md``); at size M 0.99
took 3.8x the gradient evaluations of 0.9, and at L 0.9 took 39 leapfrog steps per draw against 31 at 0.8."""

TUNE = {False: 500, True: 1000}
"""Tuning steps per chain by parameterisation (non-centred, centred) when the sampler settings leave them open.

Non-centred fits of a few searched units were validated at 500 on the real-data corpus: over the 1,600-fit
grid coverage, error and width did not change from 1,000 (13 failed fits against 12; ``docs/validation.md``).
Centred fits of many units keep 1,000 (their mass matrix has thousands of dimensions to learn)."""

DATA_FIELDS = ("cases", "log_exposure", "searched_x", "unit_x", "cell_type", "searched_lp", "unit_lp")
"""Design arrays that enter the model as ``pm.Data`` (swapped into a cached compiled model)."""


def compile_key(design: Design, priors: dict[str, Prior], centered: bool) -> str:
    """What the compiled model depends on apart from the ``pm.Data`` values (cases and exposures).

    Every array of the design other than the data (index arrays, population CVs) is a constant of the graph,
    so it is part of the key.
    """
    h = hashlib.sha256()
    h.update(json.dumps([design.structure_key(), {k: v.to_dict() for k, v in priors.items()}, centered],
                        sort_keys=True, default=str).encode())
    for field in dataclasses.fields(design):
        value = getattr(design, field.name)
        if field.name not in DATA_FIELDS and isinstance(value, np.ndarray):
            h.update(field.name.encode() + np.ascontiguousarray(value).tobytes())
    return h.hexdigest()


class HierarchicalExtent:
    """National extent per category with credible intervals from the hierarchical model.

    See :mod:`extent.models.counts.builder` for the model and its default priors.

    Parameters
    ----------
    priors : dict, optional
        Overrides of the default priors by name.
    sampler : SamplerConfig, optional
        Sampler settings (defaults: 4 chains x 1,000 draws; tuning steps :data:`TUNE` and target_accept
        :data:`TARGET_ACCEPT` for the parameterisation unless set).
    strict : bool
        Raise :class:`~extent.exceptions.ConvergenceError` instead of warning when the fit is unreliable.
    centered : bool, optional
        Centred unit effects instead of non-centred; chosen from the data when not given
        (:func:`~extent.models.counts.builder.prefer_centered`: centred for many units with large counts).
    log_population : bool
        Centred log population as a covariate (default on: see ``docs/validation.md``), so that a search of
        only large or only small units carries the uncertainty of extrapolating in size.
    unit_effect : {"normal", "student_t"}
        Distribution of the shared unit effect; Student-t (4 degrees of freedom) for outlying units.
    spread_by_size : bool
        Let the between-unit SD depend on log population (default on: larger units vary less in every
        corpus dataset, ``docs/validation.md``).
    """

    name = "hierarchical"
    point_estimate = "posterior median"

    def __init__(
        self,
        *,
        priors: dict[str, Prior | dict] | None = None,
        sampler: SamplerConfig | None = None,
        strict: bool = False,
        centered: bool | None = None,
        log_population: bool = DEFAULT_LOG_POPULATION,
        unit_effect: str = "normal",
        spread_by_size: bool = DEFAULT_SPREAD_BY_SIZE,
    ):
        from extent.models.counts.builder import UNIT_EFFECTS

        if unit_effect not in UNIT_EFFECTS:
            raise ConfigError(f"unit_effect must be one of {UNIT_EFFECTS}, got {unit_effect!r}")
        self.log_population = bool(log_population)
        self.unit_effect = unit_effect
        self.spread_by_size = bool(spread_by_size)
        # fail early on bad priors
        self.priors = resolve_priors(default_priors(self.log_population, self.spread_by_size), priors)
        self.sampler = sampler or SamplerConfig()
        self.strict = strict
        self.centered = centered

    def _model_options(self) -> dict:
        return {"log_population": self.log_population, "unit_effect": self.unit_effect,
                "spread_by_size": self.spread_by_size}

    def build(self, data: ExtentData):
        """The PyMC model for ``data`` (nothing sampled)."""
        return build_extent_model(data, self.priors, centered=self.centered, **self._model_options())

    def fit(self, data: ExtentData) -> NationalResult:
        """Sample the posterior and the national totals; warn loudly if the fit did not converge."""
        data.require_counts()
        design = Design.from_data(data, log_population=self.log_population)
        warn_extrapolation(data, design)
        centered = prefer_centered(design) if self.centered is None else self.centered
        model = build_extent_model(data, self.priors, design=design, centered=centered, **self._model_options())
        sampler = self.sampler.resolved(tune=TUNE[centered], target_accept=TARGET_ACCEPT[centered])
        idata = sample(model, sampler,
                       cache_key=compile_key(design, self.priors, (centered, self.unit_effect, self.spread_by_size)))
        start = time.perf_counter()
        national = national_totals(idata, data, design, seed=sampler.random_seed + 1, unit_effect=self.unit_effect)
        idata.sample_stats.attrs["prediction_time"] = time.perf_counter() - start
        with_totals = az.InferenceData(posterior=idata.posterior.assign(national_total=national),
                                       sample_stats=idata.sample_stats)
        diagnostics = Diagnostics.from_idata(with_totals, DIAGNOSED, unit_names=("unit_offset",))
        diagnostics.check(strict=self.strict, what=f"hierarchical fit of {data.name!r}")
        settings = {
            "priors": {k: v.to_dict() for k, v in self.priors.items()},
            "sampler": sampler.to_dict(),
            "centered": centered,
            **self._model_options(),
            "covariates": design.covariates,
            "diagnosed": {"var_names": DIAGNOSED, "unit_names": ["unit_offset"]},  # rechecked on load
        }
        return NationalResult(
            estimator=self.name, data=data, national=national, idata=idata, diagnostics=diagnostics,
            settings=settings,
        )

    def prior_sensitivity(self, data: ExtentData, result: NationalResult | None = None, *,
                          level: float = 0.9, estimand: str = "per_annum") -> pd.DataFrame:
        """The national intervals under the default spread prior and under one with twice its median.

        With few searched units the spread prior sets much of each interval's width; this shows how much. The
        wider prior is ``LogNormal(mu + log 2, sigma)`` on ``unit_sd`` (everything else as fitted). The table
        is also stored in ``result.settings["prior_sensitivity"]`` when ``result`` is given.

        Returns
        -------
        pandas.DataFrame
            One row per category: ``estimate, lower, upper`` under each prior and ``width_ratio``
            (wider interval width / default interval width).
        """
        import pandas as pd

        base = result if result is not None else self.fit(data)
        prior = self.priors["unit_sd"]
        if prior.distribution != "LogNormal":
            raise ConfigError("prior_sensitivity needs a LogNormal unit_sd prior")
        wider = Prior("LogNormal", mu=round(prior.params["mu"] + float(np.log(2.0)), 3), sigma=prior.params["sigma"])
        alt = HierarchicalExtent(priors={**self.priors, "unit_sd": wider}, sampler=self.sampler, strict=self.strict,
                                 centered=self.centered, **self._model_options()).fit(data)
        rows = []
        for c in base.categories:
            a, b = base.interval(c, estimand, level), alt.interval(c, estimand, level)
            rows.append({"category": c, "estimand": estimand, "level": level, "estimate": a.estimate,
                         "lower": a.lower, "upper": a.upper, "wider_prior": str(wider),
                         "wider_estimate": b.estimate, "wider_lower": b.lower, "wider_upper": b.upper,
                         "width_ratio": (b.upper - b.lower) / (a.upper - a.lower)})
        table = pd.DataFrame(rows)
        if result is not None:
            result.settings["prior_sensitivity"] = table.to_dict("records")
        return table


EXTRAPOLATION_QUANTILE = 0.25
"""Searched units all above the 75th (or below the 25th) percentile of the unsearched ones raise a warning."""


def warn_extrapolation(data: ExtentData, design: Design) -> None:
    """Warn when the searched units lie outside the bulk of the unsearched ones on size or a covariate.

    The national estimate then extrapolates: a size or covariate effect the few searched units cannot pin down
    carries most of the interval, and no prior makes that design reliable.
    """
    searched = data.units.index.isin(design.searched_units)
    if searched.all() or not searched.any():
        return
    columns = {"population": np.log(data.units["population"].to_numpy(float))}
    for name, values in zip(design.covariates, design.unit_x.T):
        if "[" not in name and name != LOG_POPULATION:
            columns[name] = values
    for name, values in columns.items():
        rest = values[~searched]
        if np.ptp(rest) == 0:
            continue
        lo, hi = np.quantile(rest, [EXTRAPOLATION_QUANTILE, 1 - EXTRAPOLATION_QUANTILE])
        above, below = (values[searched] > hi).all(), (values[searched] < lo).all()
        if above or below:
            side = "above the 75th" if above else "below the 25th"
            warnings.warn(
                f"{data.name}: every searched unit lies {side} percentile of the unsearched units on {name}; "
                "the national estimate extrapolates and its interval rests on the model's size and covariate "
                "assumptions (docs/validation.md)", ExtrapolationWarning, stacklevel=3)
