"""Survey non-response models: explicit, named missingness mechanisms.

Every unit (force) ``f`` has a latent caseload over the survey period::

    y[f] ~ Poisson(lambda[f])
    log lambda[f] = log(population[f] * years / 1e5) + log_rate + X[f] . rate_coef + unit_sd * unit_z[f]
    unit_z[f] ~ Normal(0, 1)

and each surveyed unit responds with probability ``response_prob[f]``. A responder returns
``min(y[f], cap[f])``: a return at the cap is right-censored (likelihood ``P(y >= cap)``, computed stably by
:func:`log_at_least`; PyMC's ``pm.Censored`` gives NaN gradients far from the cap), never taken at face value.
The national total is the sum of ``y`` over every unit: known for responders below their cap, drawn from the
truncated predictive (``y >= cap``) for responders at the cap and from the predictive for everyone else
(:func:`survey_totals`). The mechanisms differ only in how response is modelled:

``mcar``
    Responders are a random subset: ``logit response_prob = response_intercept``; the rate has no covariates.
``mar``
    Response depends on observed covariates: ``logit response_prob = response_intercept + X . response_coef``,
    and the rate on the same covariates (so the response model is ignorable given ``X``).
``mnar`` (selection model)
    As ``mar`` plus ``selection * unit_z[f]``: the unit's own latent caseload (relative to units like it) moves
    its response probability. ``selection < 0`` is the report's story (busier forces answered less).
``delta`` (pattern mixture)
    As ``mar`` for responders; non-responders' rate is the responders' rate times ``exp(delta)``. ``delta`` is
    not identified by the data: its posterior is its prior, which states the assumption.

``X`` are the standardised covariates of :meth:`extent.data.SurveyData.covariate_matrix` (log population,
type, and covariate columns). Builders are pure functions of the data and the priors; nothing is sampled here.
"""

from __future__ import annotations

import functools
import hashlib
import json

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import stats

from extent.constants import CHAIN, DRAW
from extent.data import ExtentData
from extent.data.survey import SurveyData
from extent.exceptions import ConfigError, DataValidationError
from extent.models.design import RATE_SCALE
from extent.priors import Prior, resolve_priors

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
    Normal(0, 1) is weakly informative: it allows the report's "busier forces answered less" (negative; at
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


def _covariates(survey: SurveyData, mechanism: str) -> np.ndarray:
    if mechanism == "mcar":
        return np.zeros((survey.n_units, 0))
    return survey.covariate_matrix().to_numpy(float)


def survey_coords(survey: SurveyData, mechanism: str) -> dict[str, list[str]]:
    """Coordinates of the survey model: ``force`` (every unit), ``surveyed``, ``responder``, ``covariate``."""
    r = survey.responses
    coords = {
        "force": [str(u) for u in survey.units.index],
        "surveyed": list(r["unit"]),
        "responder": survey.responders,
    }
    if mechanism != "mcar":
        coords["covariate"] = list(survey.covariate_matrix().columns)
    return coords


def _parameter(p: dict[str, Prior], name: str, fixed: dict[str, float], **kwargs):
    if name in fixed:
        return pm.Data(name, float(fixed[name]))
    return p[name].create(name, **kwargs)


def _positions(survey: SurveyData, units) -> np.ndarray:
    """Positions in ``survey.units`` of ``units``."""
    pos = {u: i for i, u in enumerate(survey.units.index)}
    return np.array([pos[u] for u in units], dtype=np.int64)


def _unit_layer(survey: SurveyData, mechanism: str, p: dict[str, Prior], fixed: dict[str, float]):
    """Latent log rate per 100k per year of every unit (``force``), and the covariates (``pm.Data`` or None).

    ``log_rate`` starts at its prior's centre, not at a data-dependent value, so that one compiled model
    serves every data set of the same shape (:func:`compile_key`).
    """
    X = _covariates(survey, mechanism)
    log_rate = _parameter(p, "log_rate", fixed)
    unit_sd = _parameter(p, "unit_sd", fixed)
    unit_z = pm.Normal("unit_z", 0.0, 1.0, dims="force")
    eta = log_rate + unit_sd * unit_z
    covariates = None
    if X.shape[1]:
        covariates = pm.Data("covariates", X, dims=("force", "covariate"))
        rate_coef = _parameter(p, "rate_coef", fixed, dims="covariate")
        eta = eta + pt.dot(covariates, rate_coef)
    return eta, unit_z, covariates


def _response_layer(survey: SurveyData, mechanism: str, p, fixed, unit_z, covariates) -> None:
    r = survey.responses
    s_idx = pm.Data("surveyed_index", _positions(survey, r["unit"]), dims="surveyed")
    logit = _parameter(p, "response_intercept", fixed) + pt.zeros(s_idx.shape[0])
    if mechanism != "mcar" and covariates is not None:
        response_coef = _parameter(p, "response_coef", fixed, dims="covariate")
        logit = logit + pt.dot(covariates[s_idx], response_coef)
    if mechanism == "mnar":
        logit = logit + _parameter(p, "selection", fixed) * unit_z[s_idx]
    if mechanism == "delta":
        _parameter(p, "delta", fixed)
    prob = pm.Deterministic("response_prob", pm.math.sigmoid(logit), dims="surveyed")
    responded = pm.Data("responded_data", r["responded"].to_numpy(np.int64), dims="surveyed")
    _observed_dims(pm.Bernoulli("responded", p=prob, observed=responded), "surveyed")


def _observed_dims(rv, dim: str):
    """Label an observed variable's dim without building its shape from it.

    ``dims=`` on an observed variable puts the dim's length (a shared variable) into the log density; the
    shape here comes from the observed ``pm.Data``, so one compiled model fits surveys with any number of
    responders (:func:`compile_key`). The label keeps ``observed_data`` coordinates.
    """
    pm.modelcontext(None).named_vars_to_dims[rv.name] = (dim,)
    return rv


def series_terms(max_cap: float) -> int:
    """Terms of the two series in :func:`log_at_least` for caps up to ``max_cap`` (error < 1e-12).

    Near ``mu = cap`` the terms fall like ``exp(-k^2 / (2 cap))``, so about ``7.5 sqrt(cap)`` are needed.
    """
    return int(40 + 8 * np.sqrt(max(float(max_cap), 1.0)))


def log_at_least(cap, mu, terms: int = 200):
    """``log P(Y >= cap)`` for ``Y ~ Poisson(mu)``, stable in both tails (``cap >= 1``), finite gradients.

    PyMC's Poisson ``logccdf`` is ``log1mexp(logcdf)`` and loses all precision (NaN gradients) when ``mu`` is
    far below the cap. Below the cap (``mu < cap``) the upper series ``P(Y >= c) = pmf(c) * sum_k mu^k c! /
    (c + k)!`` is summed; at or above it ``1 - P(Y <= c - 1)`` with the lower series ``P(Y <= c - 1) =
    pmf(c - 1) * sum_{j < c} (c - 1)! / ((c - 1 - j)! mu^j)``, which is at most about one half there. Both
    series have ratios below one; ``terms`` (see :func:`series_terms`) bounds their length. Only elementary
    operations are used (no ``gammainc``), so the compiled log density can be cached.
    """
    cap, mu = pt.as_tensor(cap), pt.as_tensor(mu)
    k = pt.arange(terms)
    mu_lo = pt.minimum(mu, cap)
    up = k * pt.log(mu_lo)[..., None] - (pt.gammaln(cap[..., None] + k + 1) - pt.gammaln(cap + 1)[..., None])
    below = cap * pt.log(mu_lo) - mu_lo - pt.gammaln(cap + 1) + pt.logsumexp(up, axis=-1)
    mu_hi = pt.maximum(mu, cap)
    down = (pt.gammaln(cap)[..., None] - pt.gammaln(pt.maximum(cap[..., None] - k, 1.0))
            - k * pt.log(mu_hi)[..., None])
    down = pt.switch(k <= (cap - 1)[..., None], down, -np.inf)
    log_cdf = (cap - 1) * pt.log(mu_hi) - mu_hi - pt.gammaln(cap) + pt.logsumexp(down, axis=-1)
    return pt.switch(mu < cap, below, pt.log1mexp(log_cdf))


def _capped_poisson_logp(value, mu, cap, terms: int = 200):
    """Poisson below the cap, ``log P(Y >= cap)`` at the cap (right-censoring)."""
    at_cap = pt.ge(value, cap)
    tail = log_at_least(pt.switch(at_cap, cap, 1.0), pt.switch(at_cap, mu, 1.0), terms)
    exact = pm.logp(pm.Poisson.dist(mu), value)
    return pt.switch(at_cap, tail, exact)


def _capped_poisson_random(mu, cap, rng=None, size=None):
    return np.minimum(rng.poisson(mu, size=size), cap)


def _returns_layer(survey: SurveyData, log_caseload, *, censored: bool) -> None:
    r = survey.responses[survey.responses["responded"] == 1]
    idx = pm.Data("responder_index", _positions(survey, r["unit"]), dims="responder")
    mu = pt.exp(log_caseload[idx])
    returned = pm.Data("returned_data", r["returned"].to_numpy(np.int64), dims="responder")
    if censored:
        cap = pm.Data("cap", r["cap"].to_numpy(float), dims="responder")
        rv = pm.CustomDist("returned", mu, cap, logp=functools.partial(_capped_poisson_logp, terms=_terms(survey)),
                           random=_capped_poisson_random, dtype="int64", observed=returned)
    else:
        rv = pm.Poisson("returned", mu, observed=returned)
    _observed_dims(rv, "responder")


def _terms(survey: SurveyData) -> int:
    caps = survey.responses["cap"].to_numpy(float)
    return series_terms(float(caps[np.isfinite(caps)].max(initial=1.0)))


def build_survey_model(
    survey: SurveyData,
    *,
    mechanism: str = "mar",
    priors: dict | None = None,
    fixed: dict[str, float] | None = None,
    censored: bool = True,
) -> pm.Model:
    """Build the survey model for one missingness mechanism.

    Parameters
    ----------
    survey : SurveyData
        Units, responses and returns.
    mechanism : {"mcar", "mar", "mnar", "delta"}
        Missingness mechanism (see the module docstring).
    priors : dict, optional
        Overrides of :data:`DEFAULT_PRIORS` by name.
    fixed : dict, optional
        Parameters held at a value instead of given a prior (e.g. ``{"selection": -1.0}`` for a sensitivity
        analysis); stored as ``pm.Data``.
    censored : bool
        Treat returns at the cap as right-censored (default). ``False`` takes them at face value, which is
        biased low; it exists only to show that bias.

    Returns
    -------
    pymc.Model
        Coords ``force``, ``surveyed``, ``responder`` and (except MCAR) ``covariate``; observed ``responded``
        (Bernoulli) and ``returned`` (Poisson right-censored at ``cap``, a ``pm.Data``); deterministics
        ``log_caseload`` (``force``) and ``response_prob`` (``surveyed``).
    """
    check_mechanism(mechanism)
    p = resolve_priors(DEFAULT_PRIORS, priors)
    fixed = _check_fixed(fixed, mechanism)
    survey.require_returns()
    if survey.n_responded == 0:
        raise DataValidationError([f"{survey.name}: no unit responded; a survey model needs at least one return"])
    log_exposure = np.log(survey.units["population"].to_numpy(float) * survey.years / RATE_SCALE)
    with pm.Model(coords=survey_coords(survey, mechanism)) as model:
        eta, unit_z, covariates = _unit_layer(survey, mechanism, p, fixed)
        log_exposure = pm.Data("log_exposure", log_exposure, dims="force")
        log_caseload = pm.Deterministic("log_caseload", eta + log_exposure, dims="force")
        _response_layer(survey, mechanism, p, fixed, unit_z, covariates)
        _returns_layer(survey, log_caseload, censored=censored)
    return model


def _check_fixed(fixed: dict[str, float] | None, mechanism: str, extra: tuple[str, ...] = ()) -> dict[str, float]:
    fixed = dict(fixed or {})
    known = _USED[mechanism] + extra
    unknown = [k for k in fixed if k not in known]
    if unknown:
        raise ConfigError(f"cannot fix {unknown} in the {mechanism} model; its parameters: {', '.join(known)}")
    return fixed


def build_joint_model(
    records: ExtentData,
    survey: SurveyData,
    *,
    category: str,
    mechanism: str = "mar",
    priors: dict | None = None,
    fixed: dict[str, float] | None = None,
) -> pm.Model:
    """One model for a category counted by record searches in some units and by the survey in others.

    Both share each unit's latent rate ``log_rate + X . rate_coef + unit_sd * unit_z`` (per 100,000 per
    year). Searched units add ``cases ~ Poisson(rate x population x search years)`` (dim ``searched_force``);
    survey returns are on the survey period with the extra log ratio ``survey_effect``; response follows
    ``mechanism``.

    Parameters
    ----------
    records : ExtentData
        Record searches; its units must be the survey's units.
    survey : SurveyData
        The survey.
    category : str
        The record-search category the survey measures.
    mechanism, priors, fixed
        As in :func:`build_survey_model`.
    """
    check_mechanism(mechanism)
    p = resolve_priors(DEFAULT_PRIORS, priors)
    fixed = _check_fixed(fixed, mechanism, extra=("survey_effect",))
    check_joint(records, survey, category)
    survey.require_returns()
    records.require_counts()
    searched = records.searched(category)
    cases = records.counts.loc[records.counts["category"] == category, "cases"].to_numpy(np.int64)
    log_pop = np.log(survey.units["population"].to_numpy(float) / RATE_SCALE)
    coords = survey_coords(survey, mechanism) | {"searched_force": searched}
    with pm.Model(coords=coords) as model:
        eta, unit_z, covariates = _unit_layer(survey, mechanism, p, fixed)
        record_exposure = pm.Data("log_record_exposure", log_pop + np.log(records.years(category)), dims="force")
        survey_exposure = pm.Data("log_exposure", log_pop + np.log(survey.years), dims="force")
        log_record = pm.Deterministic("log_record_caseload", eta + record_exposure, dims="force")
        survey_effect = _parameter(p, "survey_effect", fixed)
        log_caseload = pm.Deterministic("log_caseload", eta + survey_exposure + survey_effect, dims="force")
        _response_layer(survey, mechanism, p, fixed, unit_z, covariates)
        _returns_layer(survey, log_caseload, censored=True)
        f_idx = pm.Data("searched_index", _positions(survey, searched), dims="searched_force")
        cases = pm.Data("cases_data", cases, dims="searched_force")
        _observed_dims(pm.Poisson("cases", pt.exp(log_record[f_idx]), observed=cases), "searched_force")
    return model


STRUCTURE_DIMS = ("force", "surveyed", "covariate")
"""Dims whose lengths shape the parameters and the trace; every other array enters as ``pm.Data``."""


def compile_key(model: pm.Model, survey: SurveyData, *, mechanism: str, priors: dict[str, Prior],
                fixed: dict[str, float], censored: bool, joint: bool = False) -> str:
    """What a compiled survey model depends on apart from its ``pm.Data`` values.

    Data, indices, caps, exposures and fixed parameter values are ``pm.Data`` (swapped into a cached
    compiled model by :func:`extent.inference.sample`); what remains is the mechanism, the priors, which
    parameters are fixed, censoring, the series length of the censored likelihood and the lengths of
    :data:`STRUCTURE_DIMS`. Observed variables take their shapes from their data, so the number of
    responders (or of searched units) is not part of the key.
    """
    sizes = {d: len(model.coords[d]) for d in STRUCTURE_DIMS if d in model.coords}
    spec = ["survey-joint" if joint else "survey", mechanism, censored, sorted(fixed), _terms(survey), sizes,
            {k: v.to_dict() for k, v in sorted(priors.items())}]
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def check_joint(records: ExtentData, survey: SurveyData, category: str) -> None:
    """Raise when the record searches and the survey cannot share one model."""
    if category not in records.categories:
        raise ConfigError(f"unknown category {category!r}; known: {', '.join(records.categories)}")
    if set(map(str, records.units.index)) != set(map(str, survey.units.index)):
        raise DataValidationError([f"{survey.name}: the survey's units differ from the record searches' units"])


# -- national totals --------------------------------------------------------------------------------------
def _flat(idata: az.InferenceData, name: str) -> np.ndarray:
    post = idata.posterior
    x = post[name]
    return x.transpose(CHAIN, DRAW, *[d for d in x.dims if d not in (CHAIN, DRAW)]).values.reshape(
        post.sizes[CHAIN] * post.sizes[DRAW], -1)


def survey_totals(
    idata: az.InferenceData, survey: SurveyData, *, seed: int, delta: float | np.ndarray | None = None
) -> xr.DataArray:
    """Draws of the national total over the survey period.

    Responders below their cap contribute their return; responders at the cap a draw from the predictive
    truncated to ``y >= cap``; every other unit a predictive draw (non-responders' rate times ``exp(delta)``).

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior of a survey model (needs ``log_caseload``).
    survey : SurveyData
        The data fitted.
    seed : int
        Seeds the predictive draws.
    delta : float or array, optional
        Log rate ratio of non-responders to responders. ``None`` uses the posterior ``delta`` when the model
        has one, else 0; an array gives one value per draw.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw)``, name ``national_total``.
    """
    survey.require_returns()
    r = survey.responses.set_index("unit")
    resp = r[r["responded"] == 1]
    capped = resp[resp["returned"] >= resp["cap"]]
    exact = resp.drop(index=capped.index)
    return _totals(idata, survey, "log_caseload", dict(exact["returned"]), dict(capped["cap"]),
                   set(r.index[r["responded"] == 0]), seed=seed, delta=delta)


def joint_totals(
    idata: az.InferenceData, records: ExtentData, survey: SurveyData, *, category: str, seed: int,
    delta: float | np.ndarray | None = None,
) -> xr.DataArray:
    """Draws of the national total of ``category`` on the record-search scale over the search period.

    Searched units contribute their counts; every other unit a predictive draw from its posterior rate (which
    the survey informs, censoring included); surveyed non-responders' rate is times ``exp(delta)``.
    """
    records.require_counts()
    c = records.counts[records.counts["category"] == category]
    exact = dict(zip(c["unit"], c["cases"].astype(float)))
    r = survey.responses
    silent = set(r.loc[r["responded"] == 0, "unit"]) - set(exact)
    return _totals(idata, survey, "log_record_caseload", exact, {}, silent, seed=seed, delta=delta)


def _totals(idata, survey, variable, exact, capped, silent, *, seed, delta) -> xr.DataArray:
    post = idata.posterior
    n_chain, n_draw = post.sizes[CHAIN], post.sizes[DRAW]
    lam = np.exp(_flat(idata, variable))
    n = lam.shape[0]
    if delta is None:
        delta = _flat(idata, "delta")[:, 0] if "delta" in post else np.zeros(n)
    delta = np.broadcast_to(np.asarray(delta, float), (n,))
    units = [str(u) for u in survey.units.index]
    is_exact = np.array([u in exact for u in units])
    is_capped = np.array([u in capped for u in units])
    is_silent = np.array([u in silent for u in units])
    cap = np.array([capped.get(u, np.inf) for u in units], dtype=float)
    rng = np.random.default_rng(seed)
    scale = np.where(is_silent[None, :], np.exp(delta)[:, None], 1.0)
    free = ~(is_exact | is_capped)
    total = np.full(n, float(sum(exact.values())))
    total += rng.poisson((lam * scale)[:, free].sum(axis=1))
    if is_capped.any():
        mu = lam[:, is_capped]
        c = np.broadcast_to(cap[is_capped], mu.shape)
        lo = stats.poisson.cdf(c - 1, mu)
        u01 = lo + rng.uniform(size=mu.shape) * (1.0 - lo)
        draws = stats.poisson.ppf(np.minimum(u01, 1 - 1e-12), mu)
        total += np.maximum(draws, c).sum(axis=1)
    return xr.DataArray(total.reshape(n_chain, n_draw), dims=(CHAIN, DRAW),
                        coords={CHAIN: post[CHAIN].values, DRAW: post[DRAW].values}, name="national_total")
