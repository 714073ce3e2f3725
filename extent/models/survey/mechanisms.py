"""Named missingness mechanisms of the survey models, their parameters and default priors.

See :mod:`extent.models.survey.builder` for the models themselves.
"""

from __future__ import annotations

from extent.exceptions import ConfigError
from extent.priors import Prior

MECHANISMS = ("mcar", "mar", "mnar", "delta")
"""Named missingness mechanisms (see the module docstring)."""

SENSITIVITY_PARAMETER = {"mnar": "selection", "delta": "delta"}
"""The parameter that states each MNAR assumption."""

DEFAULT_PRIORS: dict[str, Prior] = {
    "log_rate": Prior("Normal", mu=0.0, sigma=3.0),
    "unit_sd": Prior("HalfNormal", sigma=1.0),
    "rate_coef": Prior("Normal", mu=0.0, sigma=0.5),
    "response_intercept": Prior("Normal", mu=0.0, sigma=1.5),
    "response_coef": Prior("Normal", mu=0.0, sigma=1.0),
    "selection": Prior("Normal", mu=0.0, sigma=1.0),
    "delta": Prior("Normal", mu=0.0, sigma=0.5),
    "survey_effect": Prior("Normal", mu=0.0, sigma=0.5),
}
"""Default priors.

log_rate
    Log cases per 100,000 population per year in a typical unit: Normal(0, 3).
unit_sd
    Between-unit sd of the log caseload rate given covariates: HalfNormal(1) (median 0.67, units within
    about x2 of each other; allows much larger spread).
rate_coef
    Log rate ratio per standard deviation of each covariate (per level for ``type``): Normal(0, 0.5).
response_intercept
    Log-odds of responding for an average unit: Normal(0, 1.5), nearly flat on the probability scale.
response_coef
    Change in log-odds of responding per standard deviation of each covariate: Normal(0, 1).
selection
    MNAR only: change in log-odds of responding per standard deviation of the unit's latent log caseload.
    Normal(0, 1) is weakly informative: it allows the report's "busier units answered less" (negative; at
    -1 a unit one sd busier has 0.37 times the odds of answering) as much as the opposite, and the data
    inform it only weakly. Set it (e.g. ``Prior("Normal", mu=-1, sigma=0.5)``) to state a belief, or fix it
    in :meth:`~extent.estimators.survey.SurveyEstimator.sensitivity`.
delta
    Pattern mixture only: log ratio of non-responders' rate to responders' rate given covariates:
    Normal(0, 0.5) (non-responders within x2.7 of responders with 95%). Not identified by the data.
survey_effect
    Joint model only: log ratio of what the survey counts to what record searches count in the same unit:
    Normal(0, 0.5).
"""

_USED = {
    "mcar": ("log_rate", "unit_sd", "response_intercept"),
    "mar": ("log_rate", "unit_sd", "rate_coef", "response_intercept", "response_coef"),
    "mnar": ("log_rate", "unit_sd", "rate_coef", "response_intercept", "response_coef", "selection"),
    "delta": ("log_rate", "unit_sd", "rate_coef", "response_intercept", "response_coef", "delta"),
}


def used_parameters(mechanism: str) -> tuple[str, ...]:
    """Parameters (with priors) of the ``mechanism`` survey model, besides ``unit_z``."""
    return _USED[check_mechanism(mechanism)]


def check_mechanism(mechanism: str) -> str:
    if mechanism not in MECHANISMS:
        raise ConfigError(f"mechanism must be one of {', '.join(MECHANISMS)}; got {mechanism!r}")
    return mechanism


def check_fixed(fixed: dict[str, float] | None, mechanism: str, extra: tuple[str, ...] = ()) -> dict[str, float]:
    fixed = dict(fixed or {})
    known = _USED[mechanism] + extra
    unknown = [k for k in fixed if k not in known]
    if unknown:
        raise ConfigError(f"cannot fix {unknown} in the {mechanism} model; its parameters: {', '.join(known)}")
    return fixed
