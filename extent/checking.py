"""Model checking for a hierarchical fit: pointwise log-likelihood and posterior predictive counts.

:func:`model_checks` rebuilds the fitted model from the result's data and settings and adds the groups that
ArviZ's checks need, so that ``az.loo``, ``az.compare`` and ``az.plot_ppc`` work on a fit::

    idata = extent.model_checks(fit)
    az.loo(idata)                    # PSIS-LOO over the observed cells
    az.plot_ppc(idata)               # observed counts against posterior predictive draws
    extent.compare_variants(fit)     # LOO of the model variants that matter, and their national intervals
    extent.prior_checks(fit)         # prior predictive draws of the observed cells and the national totals

The groups are computed on request, not at fit time: they cost a compile and a pass over the draws, and they
hold per-cell information about the observed counts, which fit files withhold by default
(:mod:`extent.disclosure`).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd

from extent.constants import CI_LEVEL
from extent.exceptions import ConfigError
from extent.priors import Prior
from extent.results import ExtentResult

VARIANTS = {
    "nearly Poisson counts (all spread shared)": {"priors": {"shared_fraction": Prior("Beta", alpha=200, beta=1)}},
    "category-specific spread only": {"priors": {"shared_fraction": Prior("Beta", alpha=1, beta=200)}},
    "without log population": {"log_population": False},
    "without the covariates": {"covariates": False},
}
"""The variants :func:`compare_variants` refits beside the fit, as changes to its settings: where the spread sits
(a shared unit effect with nearly Poisson counts, against all of it in the negative binomial per cell; with one
category the two are the same model and are skipped), and the auxiliary information (skipped when absent)."""


def model_checks(result: ExtentResult, *, seed: int | None = None) -> az.InferenceData:
    """The fit's InferenceData with ``log_likelihood`` and ``posterior_predictive`` groups added.

    Parameters
    ----------
    result : ExtentResult
        A hierarchical fit (with its posterior and the counts it was fitted to).
    seed : int, optional
        Seed of the posterior predictive draws (default: the fit's seed + 2).

    Returns
    -------
    arviz.InferenceData
        A copy of ``result.idata`` with ``log_likelihood["cases"]`` and ``posterior_predictive["cases"]``
        (dims ``chain, draw, cell``) and ``observed_data``.

    Raises
    ------
    ConfigError
        When the result is not a hierarchical fit, or its counts were withheld (a fit file saved without
        ``keep_counts``).
    """
    import pymc as pm

    s = result.settings
    model = _estimator(result).build(result.data)
    idata = result.idata.copy()
    if seed is None:
        seed = int(s["sampler"]["random_seed"]) + 2
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pymc notes that the posterior lacks deterministics
        pm.compute_log_likelihood(idata, var_names=["cases"], extend_inferencedata=True, progressbar=False)
        pm.sample_posterior_predictive(idata, var_names=["cases"], extend_inferencedata=True, random_seed=seed,
                                       progressbar=False)
    return idata


def _estimator(result: ExtentResult, **changes):
    """The estimator that made ``result`` (its priors, parameterisation and model options), with ``changes``."""
    from extent.estimators import HierarchicalExtent
    from extent.inference import SamplerConfig

    if result.estimator != HierarchicalExtent.name or result.idata is None:
        raise ConfigError(f"model checks need a hierarchical fit with a posterior, not {result.estimator!r}")
    if getattr(result.data, "counts_withheld", False):
        raise ConfigError("model checks need the observed counts, which this fit withholds (disclosure control): "
                          "check the fit before saving it, or save it with keep_counts=True")
    s = result.settings
    options = {"priors": s["priors"], "sampler": SamplerConfig(**s["sampler"]), "centered": s["centered"],
               "log_population": s["log_population"],
               "unit_effect": s["unit_effect"], "spread_by_size": s["spread_by_size"], **changes}
    if "log_population" in changes:  # the spread prior summarises the corpus with or without the covariate
        options["priors"] = {k: v for k, v in s["priors"].items() if k not in ("unit_sd", "log_population")}
    return HierarchicalExtent(**options)


@dataclass(frozen=True)
class VariantComparison:
    """LOO comparison of model variants fitted to the same data (:func:`compare_variants`).

    Attributes
    ----------
    loo : pandas.DataFrame
        ``arviz.compare`` of the variants (PSIS-LOO over the observed cells; index: variant, best first).
    national : pandas.DataFrame
        Each variant's national interval per category: ``variant, category, estimand, level, estimate, lower,
        upper, converged``.
    fits : dict of str to ExtentResult
    """

    loo: pd.DataFrame
    national: pd.DataFrame
    fits: dict


def compare_variants(result: ExtentResult, *, variants: dict | None = None, estimand: str = "per_annum",
                     level: float = CI_LEVEL) -> VariantComparison:
    """Refit the variants that matter beside ``result`` and compare them by PSIS-LOO.

    Parameters
    ----------
    result : ExtentResult
        A hierarchical fit with its counts (the ``"fitted"`` variant).
    variants : dict, optional
        Name to changes of the estimator's options (``priors`` entries are merged into the fit's priors;
        ``covariates=False`` drops the data's covariates). Default :data:`VARIANTS`, less those that would be
        the fitted model again.
    estimand, level
        Of the national intervals in the ``national`` table.

    Notes
    -----
    LOO scores how well each variant predicts a held-out *searched* cell; it says nothing about the units
    nobody searched, which the national total is mostly made of. A variant that predicts the searched cells
    better is evidence about the model's form (where the spread sits, whether size matters), not a guarantee
    about the total: read it beside the national intervals, which show how much the choice moves the figure.
    """
    _estimator(result)  # a hierarchical fit with its counts, before any refit
    chosen = dict(VARIANTS if variants is None else variants)
    if variants is None:
        if len(result.categories) < 2:  # shared and category-specific spread are one model with one category
            chosen = {k: v for k, v in chosen.items() if "spread" not in k}
        if not result.data.covariates:
            chosen.pop("without the covariates")
        if not result.settings["log_population"]:
            chosen.pop("without log population")
    fits = {"fitted": result}
    for name, change in chosen.items():
        change = dict(change)
        data = result.data
        if change.pop("covariates", True) is False:
            data = dataclasses.replace(data, covariates=())
        if "priors" in change:
            change["priors"] = {**result.settings["priors"], **change["priors"]}
        fits[name] = _estimator(result, **change).fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # arviz: pointwise LOO warnings are in its table's column
        loo = az.compare({name: model_checks(fit) for name, fit in fits.items()}, ic="loo")
    rows = []
    for name, fit in fits.items():
        for c in fit.categories:
            iv = fit.interval(c, estimand, level)
            rows.append({"variant": name, "category": c, "estimand": estimand, "level": level,
                         "estimate": iv.estimate, "lower": iv.lower, "upper": iv.upper, "converged": fit.converged})
    return VariantComparison(loo=loo, national=pd.DataFrame(rows), fits=fits)


def prior_checks(result: ExtentResult, *, draws: int = 500, seed: int | None = None) -> az.InferenceData:
    """Prior predictive draws: what the model says before it sees the counts.

    Returns
    -------
    arviz.InferenceData
        ``prior`` (the parameters), ``prior_predictive`` with ``cases`` (dims ``chain, draw, cell``: compare
        with ``observed_data`` by ``az.plot_ppc(idata, group="prior")``) and ``national_total`` (dims ``chain,
        draw, category``: the national totals the priors alone imply, given the counts of the searched units),
        and ``observed_data``.
    """
    import pymc as pm

    from extent.models.counts.design import Design
    from extent.models.counts.predict import national_totals

    estimator = _estimator(result)
    s = result.settings
    seed = int(s["sampler"]["random_seed"]) + 3 if seed is None else int(seed)
    with estimator.build(result.data), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        idata = pm.sample_prior_predictive(draws=draws, random_seed=seed)
    design = Design.from_data(result.data, log_population=s["log_population"])
    totals = national_totals(az.InferenceData(posterior=idata.prior), result.data, design, seed=seed + 1,
                             unit_effect=s["unit_effect"])
    idata.prior_predictive["national_total"] = totals
    return idata


def prior_predictive_table(idata: az.InferenceData, result: ExtentResult, *, estimand: str = "per_annum",
                           level: float = CI_LEVEL) -> pd.DataFrame:
    """The national intervals the priors alone imply beside the posterior ones, per category."""
    q = [(1 - level) / 2, 0.5, (1 + level) / 2]
    prior = result._per_estimand(idata.prior_predictive["national_total"], estimand)
    rows = []
    for c in result.categories:
        lo, med, hi = np.quantile(prior.sel(category=c).values.ravel(), q)
        post = result.interval(c, estimand, level)
        rows.append({"category": c, "estimand": estimand, "level": level, "prior_estimate": med, "prior_lower": lo,
                     "prior_upper": hi, "estimate": post.estimate, "lower": post.lower, "upper": post.upper})
    return pd.DataFrame(rows)
