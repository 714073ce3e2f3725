"""The one place that calls the NUTS samplers.

``nuts_sampler="nutpie"`` (the default) compiles the model with :func:`extent.inference.cache.compile_nutpie`
(numba log density and C callbacks loaded from PyTensor's on-disk cache where the installed nutpie and
PyTensor are tested releases, else nutpie's public ``compile_pymc_model``; nothing BLAS-dependent) and runs the
chains in parallel threads of nutpie's Rust NUTS with its low-rank-modified mass matrix (at most
:func:`sampler_threads` threads per fit). ``"pymc"`` runs PyMC's own NUTS on PyTensor's C backend, as
before. On this project's benchmark (``benchmarks/run.py``) nutpie gives several times the effective samples
per second of PyMC's NUTS at every size; see ``docs/performance.md``.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Hashable

import arviz as az
import numpy as np
import pymc as pm

from extent.inference.config import SamplerConfig

THREADS_ENV = "EXTENT_SAMPLER_THREADS"
"""Environment variable capping the threads of one nutpie fit (set for each worker of a local Dask cluster)."""


def sampler_threads() -> int:
    """Threads one nutpie fit may use: ``$EXTENT_SAMPLER_THREADS`` if set, else every core of this process."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def sample(
    model: pm.Model,
    config: SamplerConfig,
    *,
    var_names: list[str] | None = None,
    cache_key: Hashable | None = None,
) -> az.InferenceData:
    """Draw posterior samples from ``model`` with the settings in ``config``.

    Parameters
    ----------
    model : pymc.Model
    config : SamplerConfig
    var_names : list of str, optional
        Variables kept in the posterior (all when not given).
    cache_key : hashable, optional
        nutpie only: a key for everything the compiled code depends on apart from the values of the model's
        ``pm.Data`` (structure, priors, constants). A later call with the same key reuses the compiled model
        with this model's data and coordinates instead of compiling again.

    Returns
    -------
    arviz.InferenceData
        ``posterior``, ``sample_stats`` and ``observed_data``; sampler settings stamped in the posterior's
        attrs, ``compile_time`` and ``sampling_time`` (seconds) in the sample stats' attrs.
    """
    config = config.resolved()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*BLAS.*")
        if config.nuts_sampler == "nutpie":
            idata = _sample_nutpie(model, config, var_names=var_names, cache_key=cache_key)
        else:
            idata = _sample_pymc(model, config, var_names=var_names)
    attrs = idata.sample_stats.attrs
    attrs["compile_time"] = time.perf_counter() - start - attrs.get("sampling_time", 0.0)
    idata.posterior.attrs["sampler_config"] = str(config.to_dict())
    return idata


def _sample_pymc(model, config, *, var_names):
    kwargs = dict(
        draws=config.draws,
        tune=config.tune,
        chains=config.chains,
        target_accept=config.target_accept,
        random_seed=config.random_seed,
        progressbar=config.progressbar,
        model=model,
        compute_convergence_checks=False,
        cores=config.cores,
    )
    if var_names is not None:
        kwargs["var_names"] = var_names
    pymc_log = logging.getLogger("pymc")
    level = pymc_log.level
    pymc_log.setLevel(logging.ERROR)  # extent reports divergences itself, once, in its diagnostics
    try:
        return pm.sample(**kwargs)
    finally:
        pymc_log.setLevel(level)


def _sample_nutpie(model, config, *, var_names, cache_key):
    import dataclasses

    import nutpie

    from extent.inference.cache import compile_nutpie, compiled_for, fast_path_refusal

    def build():
        return compile_nutpie(model, var_names=var_names)

    if cache_key is None or fast_path_refusal() is not None:
        compiled = build()
    else:
        from nutpie.compile_pymc import _prepare_dims_and_coords

        data = {v.name: np.asarray(v.get_value()) for v in model.data_vars}
        compiled = compiled_for((cache_key, tuple(var_names or ())), build, data)
        _, coords = _prepare_dims_and_coords(model, compiled.shape_info)
        compiled = dataclasses.replace(compiled, _coords=coords)
    start = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=config.draws,
        tune=config.tune,
        chains=config.chains,
        target_accept=config.target_accept,
        seed=config.random_seed,
        cores=min(config.chains, sampler_threads()),
        progress_bar=config.progressbar,
        save_warmup=False,
        # learns the few strongly correlated directions (every log_rate against the mean force effect) that a
        # diagonal mass matrix cannot: size M, centred, min bulk ESS 249 -> 4,360 at the same wall time
        low_rank_modified_mass_matrix=True,
    )
    idata.sample_stats.attrs["sampling_time"] = time.perf_counter() - start
    from pymc.backends.arviz import find_observations

    # extract_obs_data reads shared/constant values; Variable.eval() would compile a function (7 s here)
    observed = {name: np.asarray(value) for name, value in find_observations(model).items()}
    if observed:
        dims = {name: list(model.named_vars_to_dims.get(name, ())) for name in observed}
        coords = {d: model.coords[d] for names in dims.values() for d in names if model.coords.get(d) is not None}
        idata.add_groups(observed_data=az.dict_to_dataset(observed, coords=coords, dims=dims, library=pm, default_dims=[]))
    return idata
