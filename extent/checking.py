"""Model checking for a hierarchical fit: pointwise log-likelihood and posterior predictive counts.

:func:`model_checks` rebuilds the fitted model from the result's data and settings and adds the groups that
ArviZ's checks need, so that ``az.loo``, ``az.compare`` and ``az.plot_ppc`` work on a fit::

    idata = extent.model_checks(fit)
    az.loo(idata)                    # PSIS-LOO over the observed cells
    az.plot_ppc(idata)               # observed counts against posterior predictive draws

The groups are computed on request, not at fit time: they cost a compile and a pass over the draws, and they
hold per-cell information about the observed counts, which fit files withhold by default
(:mod:`extent.disclosure`).
"""

from __future__ import annotations

import warnings

import arviz as az

from extent.exceptions import ConfigError
from extent.results import ExtentResult


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

    from extent.estimators import HierarchicalExtent

    if result.estimator != HierarchicalExtent.name or result.idata is None:
        raise ConfigError(f"model checks need a hierarchical fit with a posterior, not {result.estimator!r}")
    if getattr(result.data, "counts_withheld", False):
        raise ConfigError("model checks need the observed counts, which this fit withholds (disclosure control): "
                          "check the fit before saving it, or save it with keep_counts=True")
    s = result.settings
    estimator = HierarchicalExtent(priors=s["priors"], centered=s["centered"], log_population=s["log_population"],
                                   unit_effect=s["unit_effect"], spread_by_size=s["spread_by_size"])
    model = estimator.build(result.data)
    idata = result.idata.copy()
    if seed is None:
        seed = int(s["sampler"]["random_seed"]) + 2
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pymc notes that the posterior lacks deterministics
        pm.compute_log_likelihood(idata, var_names=["cases"], extend_inferencedata=True, progressbar=False)
        pm.sample_posterior_predictive(idata, var_names=["cases"], extend_inferencedata=True, random_seed=seed,
                                       progressbar=False)
    return idata
