"""The one place that calls the NUTS samplers."""

from __future__ import annotations

import logging
import warnings

import arviz as az
import pymc as pm

from extent.inference.config import SamplerConfig


def sample(model: pm.Model, config: SamplerConfig, *, var_names: list[str] | None = None) -> az.InferenceData:
    """Draw posterior samples from ``model`` with the settings in ``config``.

    Returns an InferenceData with ``posterior``, ``sample_stats`` and ``observed_data``; sampler settings are
    stamped in its attrs.
    """
    kwargs = dict(
        draws=config.draws,
        tune=config.tune,
        chains=config.chains,
        target_accept=config.target_accept,
        random_seed=config.random_seed,
        nuts_sampler=config.nuts_sampler,
        progressbar=config.progressbar,
        model=model,
        compute_convergence_checks=False,
    )
    if var_names is not None:
        kwargs["var_names"] = var_names
    if config.nuts_sampler == "pymc":
        kwargs["cores"] = config.cores
    pymc_log = logging.getLogger("pymc")
    level = pymc_log.level
    pymc_log.setLevel(logging.ERROR)  # extent reports divergences itself, once, in its diagnostics
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            idata = pm.sample(**kwargs)
    finally:
        pymc_log.setLevel(level)
    idata.posterior.attrs["sampler_config"] = str(config.to_dict())
    return idata
