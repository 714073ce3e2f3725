"""The hierarchical Bayesian extent estimator: data -> model -> posterior -> national totals.

Fits pass :func:`compile_key` to :func:`~extent.inference.sample`, so a second fit of data with the same
structure in the same process (a calibration study, a re-run in a notebook) reuses the compiled model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time

import numpy as np

from extent.data import ExtentData
from extent.inference import Diagnostics, SamplerConfig, sample
from extent.models.design import Design
from extent.models.hierarchical import DEFAULT_PRIORS, build_extent_model, prefer_centered
from extent.models.predict import national_totals
from extent.priors import Prior, resolve_priors
from extent.results import ExtentResult

DIAGNOSED = ["log_rate", "log_mean_rate", "force_sd", "dispersion", "type_effect", "force_effect"]


TARGET_ACCEPT = {False: 0.99, True: 0.8}
"""NUTS target acceptance by parameterisation (non-centred, centred) when the sampler settings leave it open.

Non-centred fits are the few-force ones, whose curved posterior needs small steps. Centred fits of many
forces have no divergences at PyMC's default 0.8 (sizes M and L, ``docs/performance.md``); at size M 0.99
took 3.8x the gradient evaluations of 0.9, and at L 0.9 took 39 leapfrog steps per draw against 31 at 0.8."""

DATA_FIELDS = ("cases", "log_exposure")
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

    See :mod:`extent.models.hierarchical` for the model and its default priors.

    Parameters
    ----------
    priors : dict, optional
        Overrides of the default priors by name.
    sampler : SamplerConfig, optional
        Sampler settings (defaults: 4 chains x 1,000 draws after 1,000 tuning steps; target_accept
        :data:`TARGET_ACCEPT` for the parameterisation unless set).
    strict : bool
        Raise :class:`~extent.exceptions.ConvergenceError` instead of warning when the fit is unreliable.
    centered : bool, optional
        Centred force effects instead of non-centred; chosen from the data when not given
        (:func:`~extent.models.hierarchical.prefer_centered`: centred for many forces with large counts).
    """

    name = "hierarchical"

    def __init__(
        self,
        *,
        priors: dict[str, Prior | dict] | None = None,
        sampler: SamplerConfig | None = None,
        strict: bool = False,
        centered: bool | None = None,
    ):
        self.priors = resolve_priors(DEFAULT_PRIORS, priors)  # fail early on bad priors
        self.sampler = sampler or SamplerConfig()
        self.strict = strict
        self.centered = centered

    def build(self, data: ExtentData):
        """The PyMC model for ``data`` (nothing sampled)."""
        return build_extent_model(data, self.priors, centered=self.centered)

    def fit(self, data: ExtentData) -> ExtentResult:
        """Sample the posterior and the national totals; warn loudly if the fit did not converge."""
        design = Design.from_data(data)
        centered = prefer_centered(design) if self.centered is None else self.centered
        model = build_extent_model(data, self.priors, design=design, centered=centered)
        sampler = self.sampler
        if sampler.target_accept is None:
            sampler = sampler.with_(target_accept=TARGET_ACCEPT[centered])
        idata = sample(model, sampler, cache_key=compile_key(design, self.priors, centered))
        diagnostics = Diagnostics.from_idata(idata, DIAGNOSED, unit_names=("force_effect",))
        diagnostics.check(strict=self.strict, what=f"hierarchical fit of {data.name!r}")
        start = time.perf_counter()
        national = national_totals(idata, data, design, seed=sampler.random_seed + 1)
        idata.sample_stats.attrs["prediction_time"] = time.perf_counter() - start
        settings = {
            "priors": {k: v.to_dict() for k, v in self.priors.items()},
            "sampler": sampler.to_dict(),
            "centered": centered,
        }
        return ExtentResult(
            estimator=self.name, data=data, national=national, idata=idata, diagnostics=diagnostics,
            settings=settings,
        )
