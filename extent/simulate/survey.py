"""SIMULATED surveys with a known truth and a known missingness mechanism.

Everything here is made up by a seeded generator and labelled as simulated (``SurveyData.simulated`` is True,
the name starts with ``simulated``). The generating model is the one of :mod:`extent.models.survey.builder`:
lognormal-Poisson caseloads with population exposure and covariates, logistic response with an optional
dependence on the unit's own latent caseload, and returns capped at ``cap``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from extent.constants import RATE_SCALE
from extent.data import ExtentData
from extent.data.survey import SurveyData
from extent.exceptions import ConfigError
from extent.priors import Prior

SCENARIOS: dict[str, dict[str, float]] = {
    "mcar": {"rate_coef_pop": 0.0, "response_coef_pop": 0.0, "response_coef_other": 0.0, "selection": 0.0},
    "mar": {"rate_coef_pop": 0.3, "response_coef_pop": -0.8, "response_coef_other": 1.2, "selection": 0.0},
    "mnar": {"rate_coef_pop": 0.3, "response_coef_pop": -0.8, "response_coef_other": 1.2, "selection": -1.0},
}
"""The three scenarios: log rate ratio per sd of log population, and the response model (log-odds per sd of
log population, for taking part in other stages, and per sd of the latent caseload). ``mcar``: rates per head
exchangeable and response random; ``mar``: larger units busier per head and answering less, engaged units
answering more; ``mnar``: as ``mar`` and busier units (given covariates) answering less."""


@dataclass(frozen=True, eq=False)
class SimulatedSurvey:
    """A simulated survey with its truth.

    Attributes
    ----------
    data : SurveyData
        The survey as an analyst would see it (``simulated=True``).
    caseload : numpy.ndarray
        True caseload of every unit over the period (units order).
    truth : dict
        ``total`` (national total) and the generating parameters.
    records : ExtentData, optional
        Record searches of some units (category ``cases``, exact caseloads over the same period); those units
        are left out of the survey.
    """

    data: SurveyData
    caseload: np.ndarray
    truth: dict = field(default_factory=dict)
    records: ExtentData | None = None

    @property
    def total(self) -> float:
        return float(self.truth["total"])


def simulate_survey(
    mechanism: str = "mcar",
    *,
    seed: int,
    n_units: int = 52,
    cap: float | None = 10,
    years: float = 4.0,
    log_rate: float = -1.9,
    unit_sd: float = 0.7,
    rate_coef_pop: float | None = None,
    response_intercept: float = -0.2,
    selection: float | None = None,
    delta: float | None = None,
    n_searched: int = 0,
    populations: np.ndarray | None = None,
) -> SimulatedSurvey:
    """Simulate one survey of ``n_units`` units under ``mechanism`` (``mcar``, ``mar`` or ``mnar``).

    Units get a population (lognormal, median 1 million, unless ``populations`` is given) and a 0/1
    covariate ``other_stages`` (took part in other stages, probability 0.6). The caseload over ``years`` is
    Poisson with log mean ``log(population x years / 1e5) + log_rate + rate_coef_pop x z(log population) +
    unit_sd x u`` with ``u ~ Normal(0, 1)``. Response is logistic in ``response_intercept``, the scenario's
    covariate effects and ``selection x u``. ``rate_coef_pop`` and ``selection`` default to the scenario's
    values (:data:`SCENARIOS`). Responders return ``min(caseload, cap)``.

    ``delta`` (pattern mixture): non-responders' caseloads are redrawn with their mean times ``exp(delta)``.
    ``n_searched``: that many units, picked at random, get a record search (``records``, exact caseloads)
    instead of the survey. Both are drawn after everything else, so other seeds' surveys are unchanged.

    The defaults give about 6 cases per unit (a third of responders at a cap of 10) and about half the units
    responding, like the report's 24 of 52.
    """
    if mechanism not in SCENARIOS:
        raise ConfigError(f"mechanism must be one of {', '.join(SCENARIOS)}; got {mechanism!r}")
    rng = np.random.default_rng(seed)
    scenario = dict(SCENARIOS[mechanism])
    if selection is not None:
        scenario["selection"] = float(selection)
    if rate_coef_pop is not None:
        scenario["rate_coef_pop"] = float(rate_coef_pop)
    pop, other = _units(rng, n_units, populations)
    n = len(pop)
    z_pop = (np.log(pop) - np.log(pop).mean()) / np.log(pop).std()
    u = rng.normal(size=n)
    mean = pop * years / RATE_SCALE * np.exp(log_rate + scenario["rate_coef_pop"] * z_pop + unit_sd * u)
    caseload = rng.poisson(mean)
    logit = (response_intercept + scenario["response_coef_pop"] * z_pop
             + scenario["response_coef_other"] * (other - other.mean()) + scenario["selection"] * u)
    responded = _respond(rng, logit)
    if delta is not None:
        caseload = np.where(responded == 1, caseload, rng.poisson(mean * np.exp(delta)))
    searched = _pick_searched(rng, n, n_searched)
    truth = {"mechanism": mechanism, "log_rate": log_rate, "unit_sd": unit_sd,
             "response_intercept": response_intercept, **scenario, "delta": delta, "n_searched": n_searched}
    return _package(pop, {"other_stages": other}, caseload, responded, searched, cap=cap, years=years,
                    label=f"{mechanism} survey (seed {seed})", truth=truth | {"seed": seed})


def _units(rng: np.random.Generator, n_units: int, populations) -> tuple[np.ndarray, np.ndarray]:
    pop = np.asarray(populations, float) if populations is not None else np.round(
        1e6 * np.exp(rng.normal(0.0, 0.6, n_units)), -3)
    other = (rng.uniform(size=len(pop)) < 0.6).astype(float)
    return pop, other


def _respond(rng: np.random.Generator, logit: np.ndarray) -> np.ndarray:
    responded = (rng.uniform(size=len(logit)) < 1 / (1 + np.exp(-logit))).astype(int)
    if responded.sum() == 0:
        responded[int(np.argmax(logit))] = 1
    return responded


def _pick_searched(rng: np.random.Generator, n: int, n_searched: int) -> np.ndarray:
    if not 0 <= n_searched < n:
        raise ConfigError(f"n_searched must be in [0, {n - 1}], got {n_searched!r}")
    searched = np.zeros(n, dtype=bool)
    if n_searched:
        searched[rng.choice(n, size=n_searched, replace=False)] = True
    return searched


def _package(pop, covariates, caseload, responded, searched, *, cap, years, label, truth) -> SimulatedSurvey:
    """SurveyData (searched units left out of the survey, at least one responder) and record searches."""
    units = pd.DataFrame({"unit": [f"unit_{i + 1:02d}" for i in range(len(pop))], "population": pop,
                          **covariates})
    surveyed = ~searched
    if not responded[surveyed].any():
        responded = responded.copy()
        responded[np.flatnonzero(surveyed)[0]] = 1
    returned = np.where(responded == 1, np.minimum(caseload, np.inf if cap is None else cap), np.nan)
    survey = pd.DataFrame({"unit": units["unit"], "responded": responded, "returned": returned})[surveyed]
    data = SurveyData.from_frames(
        units, survey, years=years, cap=cap, name=f"simulated {label}", simulated=True,
        notes=(f"SIMULATED survey: {label}; not real data.",),
    )
    records = None
    if searched.any():
        counts = pd.DataFrame({"unit": units["unit"][searched], "category": "cases", "cases": caseload[searched],
                               "years": years})
        records = ExtentData.from_frames(units, counts, name=f"simulated record searches, {label}",
                                         covariates=list(covariates))
    truth = {"total": float(caseload.sum()), **truth, "cap": cap, "years": years}
    return SimulatedSurvey(data=data, caseload=caseload, truth=truth, records=records)


# -- the model's own generative process (simulation-based calibration) ------------------------------------
def draw_parameters(mechanism: str, priors: dict[str, Prior], n_covariates: int,
                    rng: np.random.Generator) -> dict[str, float | np.ndarray]:
    """One draw of every parameter of the ``mechanism`` survey model from ``priors`` (over the defaults).

    ``rate_coef`` and ``response_coef`` get one value per covariate.
    """
    import pymc as pm

    from extent.models.survey.mechanisms import DEFAULT_PRIORS, used_parameters
    from extent.priors import resolve_priors

    p = resolve_priors(DEFAULT_PRIORS, priors)
    out = {}
    for name in used_parameters(mechanism):
        shape = (n_covariates,) if name in ("rate_coef", "response_coef") else ()
        dist = getattr(pm, p[name].distribution).dist(**p[name].params, shape=shape)
        out[name] = np.asarray(pm.draw(dist, random_seed=rng), float)
    return out


def simulate_from_model(
    mechanism: str,
    params: dict[str, float | np.ndarray],
    *,
    seed: int,
    n_units: int = 52,
    cap: float | None = 10,
    years: float = 4.0,
) -> SimulatedSurvey:
    """Simulate a survey from the ``mechanism`` survey model itself with parameters ``params``.

    Covariates are the model's (standardised log population and ``other_stages``,
    :meth:`~extent.data.SurveyData.covariate_matrix`); caseloads, response (with ``selection`` on the latent
    ``unit_z`` for ``mnar``) and non-responders' ``exp(delta)`` (for ``delta``) follow
    :mod:`extent.models.survey.builder` exactly. With ``params`` from :func:`draw_parameters` this is the
    generator of simulation-based calibration: averaged over such draws, central 90% intervals of a
    correctly implemented model cover the truth 90% of the time.
    """
    from extent.models.survey.mechanisms import check_mechanism

    check_mechanism(mechanism)
    rng = np.random.default_rng(seed)
    pop, other = _units(rng, n_units, None)
    X = _model_covariates(pop, other, years) if mechanism != "mcar" else np.zeros((len(pop), 0))
    if mechanism != "mcar" and np.size(params["rate_coef"]) != X.shape[1]:
        raise ConfigError(f"rate_coef and response_coef need one value per covariate ({X.shape[1]}), "
                          f"got {np.size(params['rate_coef'])}")
    z = rng.normal(size=len(pop))
    eta = float(params["log_rate"]) + float(params["unit_sd"]) * z
    logit = np.full(len(pop), float(params["response_intercept"]))
    if mechanism != "mcar":
        eta = eta + X @ np.asarray(params["rate_coef"], float)
        logit = logit + X @ np.asarray(params["response_coef"], float)
    if mechanism == "mnar":
        logit = logit + float(params["selection"]) * z
    responded = _respond(rng, logit)
    mean = pop * years / RATE_SCALE * np.exp(eta)
    if mechanism == "delta":
        mean = np.where(responded == 1, mean, mean * np.exp(float(params["delta"])))
    caseload = rng.poisson(mean)
    truth = {"mechanism": mechanism, **{k: np.asarray(v).tolist() for k, v in params.items()}}
    return _package(pop, {"other_stages": other}, caseload, responded, np.zeros(len(pop), bool), cap=cap,
                    years=years, label=f"{mechanism} survey from the model (seed {seed})", truth=truth | {"seed": seed})


def _model_covariates(pop: np.ndarray, other: np.ndarray, years: float) -> np.ndarray:
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(len(pop))], "population": pop, "other_stages": other})
    survey = pd.DataFrame({"unit": units["unit"], "responded": 0, "returned": np.nan})
    return SurveyData.from_frames(units, survey, years=years).covariate_matrix().to_numpy(float)
