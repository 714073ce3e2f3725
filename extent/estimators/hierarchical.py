"""The hierarchical Bayesian extent estimator: data -> model -> posterior -> national totals."""

from __future__ import annotations

from extent.data import ExtentData
from extent.inference import Diagnostics, SamplerConfig, sample
from extent.models.design import Design
from extent.models.hierarchical import DEFAULT_PRIORS, build_extent_model
from extent.models.predict import national_totals
from extent.priors import Prior, resolve_priors
from extent.results import ExtentResult

DIAGNOSED = ["log_rate", "log_mean_rate", "force_sd", "dispersion", "type_effect", "force_effect"]


class HierarchicalExtent:
    """National extent per category with credible intervals from the hierarchical model.

    See :mod:`extent.models.hierarchical` for the model and its default priors.

    Parameters
    ----------
    priors : dict, optional
        Overrides of the default priors by name.
    sampler : SamplerConfig, optional
        Sampler settings (defaults: 4 chains x 1,000 draws, target_accept 0.98).
    strict : bool
        Raise :class:`~extent.exceptions.ConvergenceError` instead of warning when the fit is unreliable.
    centered : bool
        Centred force effects (for data where every force has large counts).
    """

    name = "hierarchical"

    def __init__(
        self,
        *,
        priors: dict[str, Prior | dict] | None = None,
        sampler: SamplerConfig | None = None,
        strict: bool = False,
        centered: bool = False,
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
        model = build_extent_model(data, self.priors, design=design, centered=self.centered)
        idata = sample(model, self.sampler)
        diagnostics = Diagnostics.from_idata(idata, DIAGNOSED)
        diagnostics.check(strict=self.strict, what=f"hierarchical fit of {data.name!r}")
        national = national_totals(idata, data, design, seed=self.sampler.random_seed + 1)
        settings = {
            "priors": {k: v.to_dict() for k, v in self.priors.items()},
            "sampler": self.sampler.to_dict(),
            "centered": self.centered,
        }
        return ExtentResult(
            estimator=self.name, data=data, national=national, idata=idata, diagnostics=diagnostics,
            settings=settings,
        )
