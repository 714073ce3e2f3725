"""SIMULATED surveys with a known truth and a known missingness mechanism.

Everything here is made up by a seeded generator and labelled as simulated (``SurveyData.simulated`` is True,
the name starts with ``simulated``). The generating model is the one of :mod:`extent.models.nonresponse`:
lognormal-Poisson caseloads with population exposure and covariates, logistic response with an optional
dependence on the unit's own latent caseload, and returns capped at ``cap``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from extent.data.survey import SurveyData
from extent.exceptions import ConfigError
from extent.models.design import RATE_SCALE

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
    """

    data: SurveyData
    caseload: np.ndarray
    truth: dict = field(default_factory=dict)

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
    populations: np.ndarray | None = None,
) -> SimulatedSurvey:
    """Simulate one survey of ``n_units`` units under ``mechanism`` (``mcar``, ``mar`` or ``mnar``).

    Units get a population (lognormal, median 1 million, unless ``populations`` is given) and a 0/1
    covariate ``other_stages`` (took part in other stages, probability 0.6). The caseload over ``years`` is
    Poisson with log mean ``log(population x years / 1e5) + log_rate + rate_coef_pop x z(log population) +
    unit_sd x u`` with ``u ~ Normal(0, 1)``. Response is logistic in ``response_intercept``, the scenario's
    covariate effects and ``selection x u``. ``rate_coef_pop`` and ``selection`` default to the scenario's
    values (:data:`SCENARIOS`). Responders return ``min(caseload, cap)``.

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
    pop = np.asarray(populations, float) if populations is not None else np.round(
        1e6 * np.exp(rng.normal(0.0, 0.6, n_units)), -3)
    n = len(pop)
    other = (rng.uniform(size=n) < 0.6).astype(float)
    z_pop = (np.log(pop) - np.log(pop).mean()) / np.log(pop).std()
    u = rng.normal(size=n)
    mean = pop * years / RATE_SCALE * np.exp(log_rate + scenario["rate_coef_pop"] * z_pop + unit_sd * u)
    caseload = rng.poisson(mean)
    logit = (response_intercept + scenario["response_coef_pop"] * z_pop
             + scenario["response_coef_other"] * (other - other.mean()) + scenario["selection"] * u)
    responded = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    if responded.sum() == 0:
        responded[int(np.argmax(logit))] = 1
    returned = np.where(responded == 1, np.minimum(caseload, np.inf if cap is None else cap), np.nan)
    units = pd.DataFrame({"unit": [f"unit_{i + 1:02d}" for i in range(n)], "population": pop,
                          "other_stages": other})
    survey = pd.DataFrame({"unit": units["unit"], "responded": responded, "returned": returned})
    data = SurveyData.from_frames(
        units, survey, years=years, cap=cap, name=f"simulated {mechanism} survey (seed {seed})",
        simulated=True, notes=(f"SIMULATED survey: {mechanism} non-response, seed {seed}; not real data.",),
    )
    truth = {"total": float(caseload.sum()), "mechanism": mechanism, "log_rate": log_rate, "unit_sd": unit_sd,
             "response_intercept": response_intercept, **scenario,
             "cap": cap, "years": years, "seed": seed}
    return SimulatedSurvey(data=data, caseload=caseload, truth=truth)


def coverage_study(
    scenario: str,
    models: tuple[str, ...],
    *,
    n_reps: int,
    seed: int,
    sampler=None,
    level: float = 0.9,
    censored: tuple[bool, ...] | None = None,
    priors: dict | None = None,
    **simulate_kwargs,
) -> pd.DataFrame:
    """Fit ``models`` to ``n_reps`` SIMULATED surveys of ``scenario``; one record per replicate and model.

    Each replicate is a pure function of (``scenario``, ``seed``, replicate number), seeded with
    ``SeedSequence(seed).spawn``. ``censored`` (one flag per model, default all True) lets a study include a
    model that ignores the cap; ``priors`` overrides default priors of every model (e.g. a ``selection``
    prior that states the simulated mechanism).

    Returns
    -------
    pandas.DataFrame
        ``scenario, model, censored, rep, seed, truth, estimate, lower, upper, covered, rel_error, n_responded,
        n_capped, converged``.
    """
    from extent.estimators.survey import SurveyEstimator
    from extent.inference import SamplerConfig

    sampler = sampler or SamplerConfig(draws=250, tune=250, chains=2, target_accept=0.9, nuts_sampler="pymc")
    censored = censored or tuple(True for _ in models)
    children = np.random.SeedSequence(seed).spawn(n_reps)
    rows = []
    for rep, child in enumerate(children):
        rep_seed = int(child.generate_state(1)[0])
        sim = simulate_survey(scenario, seed=rep_seed, **simulate_kwargs)
        for model, cens in zip(models, censored):
            import warnings

            from extent.exceptions import ConvergenceWarning

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fit = SurveyEstimator(mechanism=model, sampler=sampler.with_(random_seed=rep_seed % 2**31),
                                      censored=cens, priors=priors).fit(sim.data)
            est, lo, hi = fit.interval("total", level)
            rows.append({"scenario": scenario, "model": model, "censored": cens, "rep": rep, "seed": rep_seed,
                         "truth": sim.total, "estimate": est, "lower": lo, "upper": hi,
                         "covered": bool(lo <= sim.total <= hi), "rel_error": est / sim.total - 1,
                         "n_responded": sim.data.n_responded, "n_capped": sim.data.n_capped,
                         "converged": fit.converged})
    return pd.DataFrame(rows)
