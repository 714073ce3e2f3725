"""Serial coverage and simulation-based calibration studies of the survey models (``docs/survey.md``).

Each study fits :class:`~extent.estimators.SurveyEstimator` models to SIMULATED surveys
(:mod:`extent.simulate.survey`) and scores the national total's interval against the known truth, one
record per replicate and model. :class:`~extent.calibrate.survey_study.SurveyStudy` runs survey estimators on
the Dask runner with the count studies' scoring instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from extent.priors import Prior
from extent.simulate.survey import SimulatedSurvey, draw_parameters, simulate_from_model, simulate_survey

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
