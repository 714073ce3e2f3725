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

from extent.data import ExtentData
from extent.data.survey import SurveyData
from extent.exceptions import ConfigError
from extent.models.design import RATE_SCALE
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

    from extent.models.nonresponse import DEFAULT_PRIORS, used_parameters
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
    :mod:`extent.models.nonresponse` exactly. With ``params`` from :func:`draw_parameters` this is the
    generator of simulation-based calibration: averaged over such draws, central 90% intervals of a
    correctly implemented model cover the truth 90% of the time.
    """
    from extent.models.nonresponse import check_mechanism

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


# -- studies ------------------------------------------------------------------------------------------------
STUDY_SAMPLER = {"draws": 1000, "tune": 1000, "chains": 2, "target_accept": 0.9, "nuts_sampler": "nutpie"}
"""Sampler of the coverage studies (``SamplerConfig`` settings; the seed is set per replicate)."""

STUDY_LOG_RATE = Prior("Normal", mu=-1.9, sigma=0.5)
"""``log_rate`` prior of the calibration (SBC) studies: the default Normal(0, 3) would make caseloads from
nothing to thousands per unit; this one keeps them near the scenarios' (about 6 per unit)."""

STUDIES: dict[str, dict] = {
    "mcar": {"scenario": "mcar", "models": ("mcar", "mcar"), "censored": (True, False), "seed": 1000},
    "mar": {"scenario": "mar", "models": ("mar", "mcar"), "seed": 2000},
    "mnar": {"scenario": "mnar", "models": ("mnar", "mcar"), "seed": 3000},
    "mnar_stated": {"scenario": "mnar", "models": ("mnar",), "seed": 3000,
                    "priors": {"selection": Prior("Normal", mu=-1.0, sigma=0.5)}},
    "mnar_wrong_sign": {"scenario": "mnar", "models": ("mnar",), "seed": 3000,
                        "priors": {"selection": Prior("Normal", mu=1.0, sigma=0.5)}},
    "mnar_wrong_size": {"scenario": "mnar", "models": ("mnar",), "seed": 3000,
                        "priors": {"selection": Prior("Normal", mu=-2.0, sigma=0.5)}},
    "delta": {"scenario": "mar", "models": ("delta",), "seed": 4000,
              "draw": {"delta": Prior("Normal", mu=0.0, sigma=0.5)}},
    "joint": {"scenario": "mar", "models": ("mar",), "seed": 5000, "n_searched": 10},
    "mnar_joint": {"scenario": "mnar", "models": ("mnar", "mar"), "seed": 3000, "n_searched": 10},
}
"""The coverage studies of ``docs/survey.md`` (arguments of :func:`coverage_study` besides ``n_reps``).

``mcar``: MCAR data, the censored MCAR model and one that takes capped returns at face value. ``mar``: MAR data,
the MAR and MCAR models. ``mnar``: busier units answering less (``selection = -1``), the selection model with
its default prior and MCAR; ``mnar_stated``: the same surveys, the selection prior Normal(-1, 0.5) centred on
the simulator's true selection strength (an oracle: no analyst knows it); ``mnar_wrong_sign`` and
``mnar_wrong_size``: the same surveys with a mis-stated prior, Normal(+1, 0.5) (the wrong direction) and
Normal(-2, 0.5) (twice the true strength). ``delta``: MAR data with non-responders' rates times ``exp(delta)``, ``delta`` drawn from the
delta model's prior for each replicate. ``joint``: MAR data, 10 of 52 units searched (exact counts), the other
42 surveyed; the joint MAR model. ``mnar_joint``: MNAR data (busier units answering less), 10 of 52 units
searched, the other 42 surveyed; the joint selection model and the joint MAR model: whether record searches,
which no response mechanism touches, correct the selection model's low median. Replicate ``k`` of a study is
the same survey whatever ``n_reps``."""

CALIBRATIONS: dict[str, dict] = {
    "mnar": {"mechanism": "mnar", "priors": {"log_rate": STUDY_LOG_RATE}, "seed": 7000},
    "delta": {"mechanism": "delta", "priors": {"log_rate": STUDY_LOG_RATE}, "seed": 8000},
}
"""Simulation-based calibration studies (arguments of :func:`calibration_study` besides ``n_reps``)."""


def _study_sampler(sampler):
    from extent.inference import SamplerConfig

    return sampler or SamplerConfig(**STUDY_SAMPLER)


def _fit(sim: SimulatedSurvey, model: str, *, sampler, seed: int, censored: bool = True, priors=None):
    import warnings

    from extent.estimators.survey import SurveyEstimator
    from extent.exceptions import ConvergenceWarning

    est = SurveyEstimator(mechanism=model, sampler=sampler.with_(random_seed=seed % 2**31), censored=censored,
                          priors=priors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(sim.data if sim.records is None else sim.data.with_records(sim.records, "cases"))


def _record(sim: SimulatedSurvey, fit, level: float, **labels) -> dict:
    est, lo, hi = fit.interval("total", level)
    d = fit.diagnostics
    return {**labels, "truth": sim.total, "estimate": est, "lower": lo, "upper": hi,
            "covered": bool(lo <= sim.total <= hi), "rel_error": est / sim.total - 1,
            "rel_width": (hi - lo) / sim.total, "n_responded": sim.data.n_responded,
            "n_capped": sim.data.n_capped, "converged": fit.converged, "divergences": d.divergences,
            "max_rhat": d.max_rhat, "min_ess_bulk": d.min_ess_bulk}


def _draw_generating(draw: dict[str, Prior] | None, rng: np.random.Generator) -> dict[str, float]:
    import pymc as pm

    return {k: float(pm.draw(getattr(pm, v.distribution).dist(**v.params), random_seed=rng))
            for k, v in (draw or {}).items()}


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
    draw: dict[str, Prior] | None = None,
    **simulate_kwargs,
) -> pd.DataFrame:
    """Fit ``models`` to ``n_reps`` SIMULATED surveys of ``scenario``; one record per replicate and model.

    Each replicate is a pure function of (``scenario``, ``seed``, replicate number), seeded with
    ``SeedSequence(seed).spawn``. ``censored`` (one flag per model, default all True) lets a study include a
    model that ignores the cap; ``priors`` overrides default priors of every model (e.g. a ``selection``
    prior that states the simulated mechanism). ``draw`` names generating parameters of
    :func:`simulate_survey` drawn afresh for each replicate (e.g. ``{"delta": Prior("Normal", mu=0,
    sigma=0.5)}``); ``simulate_kwargs`` fixes others. With ``n_searched > 0`` the models are fitted jointly to
    the record searches and the survey. The default sampler is :data:`STUDY_SAMPLER` (nutpie, 2 chains x
    1,000 draws after 1,000 tuning steps).

    Returns
    -------
    pandas.DataFrame
        ``scenario, model, censored, rep, seed, truth, estimate, lower, upper, covered, rel_error, rel_width,
        n_responded, n_capped, converged, divergences, max_rhat, min_ess_bulk`` and the drawn parameters.
    """
    sampler = _study_sampler(sampler)
    censored = censored or tuple(True for _ in models)
    rows = []
    for rep, child in enumerate(np.random.SeedSequence(seed).spawn(n_reps)):
        rep_seed = int(child.generate_state(1)[0])
        drawn = _draw_generating(draw, np.random.default_rng(child.spawn(1)[0]))
        sim = simulate_survey(scenario, seed=rep_seed, **simulate_kwargs, **drawn)
        for model, cens in zip(models, censored):
            fit = _fit(sim, model, sampler=sampler, seed=rep_seed, censored=cens, priors=priors)
            rows.append(_record(sim, fit, level, scenario=scenario, model=model, censored=cens, rep=rep,
                                seed=rep_seed, **drawn))
    return pd.DataFrame(rows)


def calibration_study(
    mechanism: str,
    *,
    priors: dict[str, Prior],
    n_reps: int,
    seed: int,
    sampler=None,
    level: float = 0.9,
    ranked: tuple[str, ...] = ("log_rate", "unit_sd", "response_intercept", "selection", "delta"),
    **simulate_kwargs,
) -> pd.DataFrame:
    """Simulation-based calibration of one survey model: truth drawn from the priors the model is fitted with.

    For each replicate every parameter is drawn from ``priors`` (over the defaults; :func:`draw_parameters`),
    a survey is simulated from the model itself (:func:`simulate_from_model`) and the same model with the
    same priors is fitted. If the model, its censored likelihood, the national-total predictive and the
    sampler are right, the central ``level`` interval of the total covers the truth with probability
    ``level`` (averaged over the priors) and the rank of each true parameter among its posterior draws is
    uniform (:func:`extent.calibrate.sbc.rank_uniformity`).

    Returns
    -------
    pandas.DataFrame
        One row per replicate: the :func:`coverage_study` columns (``model`` = ``mechanism``), the drawn
        scalar parameters and ``rank_<name>`` (0..99 among 99 thinned draws) for each of ``ranked`` in the model.
    """
    from extent.calibrate.sbc import N_RANK_DRAWS, rank_of

    sampler = _study_sampler(sampler)
    rows = []
    for rep, child in enumerate(np.random.SeedSequence(seed).spawn(n_reps)):
        rep_seed = int(child.generate_state(1)[0])
        rng = np.random.default_rng(child.spawn(1)[0])
        params = draw_parameters(mechanism, priors, n_covariates=2, rng=rng)
        sim = simulate_from_model(mechanism, params, seed=rep_seed, **simulate_kwargs)
        fit = _fit(sim, mechanism, sampler=sampler, seed=rep_seed, priors=priors)
        row = _record(sim, fit, level, scenario="model", model=mechanism, censored=True, rep=rep, seed=rep_seed)
        row |= {k: float(v) for k, v in params.items() if np.ndim(v) == 0}
        post = fit.idata.posterior
        for name in ranked:
            if name in params and name in post:
                row[f"rank_{name}"] = rank_of(float(params[name]), post[name].values, rng=rng)
        row["rank_total"] = rank_of(sim.total, fit.draws("total").values.ravel(), rng=rng)
        row["n_rank_draws"] = N_RANK_DRAWS
        rows.append(row)
    return pd.DataFrame(rows)


def coverage_summary(records: pd.DataFrame, *, by: tuple[str, ...] = ("scenario", "model", "censored"),
                     ci_level: float = 0.9) -> pd.DataFrame:
    """Coverage of a study's intervals with binomial uncertainty, and the accuracy of its estimates.

    Parameters
    ----------
    records : pandas.DataFrame
        Rows of :func:`coverage_study` or :func:`calibration_study`.
    by : tuple of str
        Grouping columns (those present are used).
    ci_level : float
        Probability of the Clopper-Pearson and Wilson intervals of the coverage.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``reps, covered, coverage, cp_lower, cp_upper, wilson_lower, wilson_upper,
        median_rel_error, mean_rel_error, median_rel_width, below, above, converged`` (``below``/``above``:
        intervals entirely below/above the truth; ``converged``: share of fits without diagnostic warnings).
    """
    from scipy import stats

    from extent.calibrate.metrics import wilson_interval

    keys = [c for c in by if c in records]
    rows = []
    for key, g in records.groupby(keys, sort=False):
        n, k = len(g), int(g["covered"].sum())
        cp = stats.binomtest(k, n).proportion_ci(ci_level, method="exact")
        wl, wu = wilson_interval(k, n, ci_level)
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))), "reps": n, "covered": k,
                     "coverage": k / n, "cp_lower": cp.low, "cp_upper": cp.high, "wilson_lower": float(wl),
                     "wilson_upper": float(wu), "median_rel_error": g["rel_error"].median(),
                     "mean_rel_error": g["rel_error"].mean(), "median_rel_width": g["rel_width"].median(),
                     "below": int((g["upper"] < g["truth"]).sum()), "above": int((g["lower"] > g["truth"]).sum()),
                     "converged": g["converged"].mean()})
    return pd.DataFrame(rows)
