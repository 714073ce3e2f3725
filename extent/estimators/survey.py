"""Survey estimator: survey (and optionally record searches) -> non-response model -> national total."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from extent.constants import CI_LEVEL, ESTIMANDS
from extent.data import ExtentData
from extent.data.survey import SurveyData
from extent.exceptions import ConfigError
from extent.inference import Diagnostics, SamplerConfig, sample
from extent.models.survey.builder import build_joint_model, build_survey_model, compile_key
from extent.models.survey.mechanisms import DEFAULT_PRIORS, SENSITIVITY_PARAMETER, check_mechanism
from extent.models.survey.predict import joint_totals, survey_totals
from extent.priors import Prior, resolve_priors
from extent.survey_result import Sensitivity, SurveyResult, quantiles

DIAGNOSED = ["log_rate", "unit_sd", "rate_coef", "response_intercept", "response_coef", "selection",
             "survey_effect"]

DEFAULT_SAMPLER = SamplerConfig(draws=2000, tune=2000, target_accept=0.95)
"""Default sampler: nutpie, 4 chains x 2,000 draws after 2,000 tuning steps, target_accept 0.95.

nutpie is the sampler the survey coverage studies were run with (``docs/survey.md``); every survey model of one
structure compiles once (its data are ``pm.Data``), so the four mechanisms and a sensitivity grid reuse
compiled models instead of recompiling per fit as PyMC's NUTS would. At 1,000 + 1,000 the between-unit spread
``unit_sd`` (MCAR) and the selection model (MNAR) often failed the convergence check on an NPQS-shaped survey
(tail ESS below 400 in 3 of 20 seeded MCAR fits, R-hat above 1.01 in 3 of 8 MNAR fits); at 2,000 + 2,000 all 24
fits of the four mechanisms x 6 seeds passed (R-hat <= 1.005, bulk ESS >= 885, tail ESS >= 542;
``docs/performance.md``)."""

SENSITIVITY_GRID = {
    "selection": (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0),
    "delta": (-0.5, 0.0, 0.5, 1.0, 1.5, 2.0),
}
"""Default parameter values of :meth:`SurveyEstimator.sensitivity`."""


class SurveyEstimator:
    """National total from a survey with non-response under a named missingness mechanism.

    See :mod:`extent.models.survey.builder` for the models and their default priors.

    Parameters
    ----------
    mechanism : {"mcar", "mar", "mnar", "delta"}
        Missingness mechanism.
    priors : dict, optional
        Overrides of the default priors by name.
    sampler : SamplerConfig, optional
        Sampler settings (default :data:`DEFAULT_SAMPLER`).
    fixed : dict, optional
        Parameters held at a value (e.g. ``{"selection": -1.0}``).
    censored : bool
        Treat returns at the cap as right-censored (default). ``False`` only to demonstrate the bias.
    strict : bool
        Raise instead of warning when the fit has not converged.
    """

    name = "survey"
    point_estimate = "posterior median"

    def __init__(
        self,
        *,
        mechanism: str = "mar",
        priors: dict[str, Prior | dict] | None = None,
        sampler: SamplerConfig | None = None,
        fixed: dict[str, float] | None = None,
        censored: bool = True,
        strict: bool = False,
    ):
        self.mechanism = check_mechanism(mechanism)
        self.priors = resolve_priors(DEFAULT_PRIORS, priors)
        self.sampler = sampler or DEFAULT_SAMPLER
        self.fixed = dict(fixed or {})
        self.censored = censored
        self.strict = strict

    def build(self, survey: SurveyData):
        """The PyMC model (nothing sampled); joint with the survey's record searches when it has them
        (:meth:`SurveyData.with_records`)."""
        if survey.records is None:
            return build_survey_model(survey, mechanism=self.mechanism, priors=self.priors, fixed=self.fixed,
                                      censored=self.censored)
        if not self.censored:
            raise ConfigError("the joint model always treats capped returns as censored")
        return build_joint_model(survey.records, survey, category=survey.records_category,
                                 mechanism=self.mechanism, priors=self.priors, fixed=self.fixed)

    def fit(self, survey: SurveyData, *, records: ExtentData | None = None,
            category: str | None = None) -> SurveyResult:
        """Sample the posterior and the national total; warn loudly if the fit did not converge.

        Parameters
        ----------
        survey : SurveyData
            The survey; with record searches of the same units (:meth:`SurveyData.with_records`) one joint
            model uses both and the total is on the record-search scale over the search period.
        records, category : optional
            The same as ``survey.with_records(records, category)``.
        """
        if records is not None or category is not None:
            if records is None or category is None:
                raise ConfigError("a joint fit needs both the record searches and the category the survey "
                                  "measures (records=..., category=...)")
            survey = survey.with_records(records, category)
        joint = survey.records is not None
        model = self.build(survey)
        key = compile_key(model, survey, mechanism=self.mechanism, priors=self.priors, fixed=self.fixed,
                          censored=self.censored, joint=joint)
        sampler = self.sampler.resolved()
        idata = sample(model, sampler, cache_key=key)
        diagnostics = Diagnostics.from_idata(idata, DIAGNOSED)
        label = f"joint-{self.mechanism}" if joint else self.mechanism
        diagnostics.check(strict=self.strict, what=f"{label} survey fit of {survey.name!r}")
        seed = self.sampler.random_seed + 1
        category = survey.records_category
        if joint:
            national = joint_totals(idata, survey.records, survey, category=category, seed=seed)
            years = survey.records.years(category)
        else:
            national, years = survey_totals(idata, survey, seed=seed), survey.years
        settings = {
            "mechanism": self.mechanism,
            "priors": {k: v.to_dict() for k, v in self.priors.items()},
            "fixed": self.fixed,
            "censored": self.censored,
            "sampler": sampler.to_dict(),
            "joint_category": category,
            "diagnosed": {"var_names": DIAGNOSED, "unit_names": []},
        }
        return SurveyResult(mechanism=label, data=survey, national=national, years=years, idata=idata,
                            diagnostics=diagnostics, settings=settings)

    def sensitivity(
        self,
        survey: SurveyData,
        *,
        values: tuple[float, ...] | None = None,
        level: float = CI_LEVEL,
        reference: tuple[str, ...] = ("mcar", "mar"),
        progress: Callable[[int, int], None] | None = None,
    ) -> Sensitivity:
        """National estimate and interval as a function of the MNAR assumption.

        For ``mechanism="mnar"`` the selection model is refitted with ``selection`` fixed at each value; for
        ``mechanism="delta"`` one MAR-for-responders fit is reused and non-responders' rate is multiplied by
        ``exp(delta)`` for each value. ``reference`` mechanisms are fitted once for comparison.
        ``progress(done, total)`` is called after each fit (``total``: every fit of the analysis).
        """
        if self.mechanism not in SENSITIVITY_PARAMETER:
            raise ConfigError(f"sensitivity needs mechanism 'mnar' or 'delta', not {self.mechanism!r}")
        parameter = SENSITIVITY_PARAMETER[self.mechanism]
        values = tuple(float(v) for v in (values if values is not None else SENSITIVITY_GRID[parameter]))
        if not values:
            raise ConfigError("sensitivity needs at least one parameter value")
        rows = []
        total, done = (1 if parameter == "delta" else len(values)) + len(reference), 0

        def fitted():
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        if parameter == "delta":
            fit = SurveyEstimator(mechanism="delta", priors=self.priors, sampler=self.sampler,
                                  censored=self.censored).fit(survey)
            fitted()
            for i, v in enumerate(values):
                draws = survey_totals(fit.idata, survey, seed=self.sampler.random_seed + 2 + i, delta=v).values
                rows += _rows(parameter, v, draws.ravel(), survey, level, fit.converged)
        else:
            for v in values:
                fit = SurveyEstimator(mechanism="mnar", priors=self.priors, sampler=self.sampler,
                                      fixed={**self.fixed, "selection": v}, censored=self.censored).fit(survey)
                rows += _rows(parameter, v, np.asarray(fit.draws("total")).ravel(), survey, level, fit.converged)
                fitted()
        refs = []
        for m in reference:
            refs.append(SurveyEstimator(mechanism=m, priors=self.priors, sampler=self.sampler,
                                        censored=self.censored).fit(survey).national_extent(level))
            fitted()
        ref = pd.concat(refs, ignore_index=True) if refs else pd.DataFrame(columns=["mechanism", "estimand"])
        return Sensitivity(parameter=parameter, table=pd.DataFrame(rows), reference=ref, level=level,
                           simulated=survey.simulated)


def _rows(parameter: str, value: float, total: np.ndarray, survey: SurveyData, level: float,
          converged: bool) -> list[dict]:
    scale = {"total": 1.0, "per_annum": survey.years, "per_unit_per_annum": survey.years * survey.n_units}
    out = []
    for estimand in ESTIMANDS:
        est, lo, hi = quantiles(total / scale[estimand], level)
        out.append({"parameter": parameter, "value": value, "estimand": estimand, "estimate": est, "lower": lo,
                    "upper": hi, "level": level, "converged": converged})
    return out
