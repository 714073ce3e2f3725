"""Survey non-response models: explicit, named missingness mechanisms (:mod:`.mechanisms`).

Every unit ``f`` has a latent caseload over the survey period::

    y[f] ~ Poisson(lambda[f])
    log lambda[f] = log(population[f] * years / 1e5) + log_rate + X[f] . rate_coef + unit_sd * unit_z[f]
    unit_z[f] ~ Normal(0, 1)

and each surveyed unit responds with probability ``response_prob[f]``. A responder returns
``min(y[f], cap[f])``: a return at the cap is right-censored (likelihood ``P(y >= cap)``, computed stably by
:func:`~extent.models.likelihood.log_at_least`; PyMC's ``pm.Censored`` gives NaN gradients far from the cap), never taken at face value.
The national total is the sum of ``y`` over every unit: known for responders below their cap, drawn from the
truncated predictive (``y >= cap``) for responders at the cap and from the predictive for everyone else
(:func:`~extent.models.survey.predict.survey_totals`). The mechanisms differ only in how response is modelled:

``mcar``
    Responders are a random subset: ``logit response_prob = response_intercept``; the rate has no covariates.
``mar``
    Response depends on observed covariates: ``logit response_prob = response_intercept + X . response_coef``,
    and the rate on the same covariates (so the response model is ignorable given ``X``).
``mnar`` (selection model)
    As ``mar`` plus ``selection * unit_z[f]``: the unit's own latent caseload (relative to units like it) moves
    its response probability. ``selection < 0`` is the report's story (busier units answered less).
``delta`` (pattern mixture)
    As ``mar`` for responders; non-responders' rate is the responders' rate times ``exp(delta)``. ``delta`` is
    not identified by the data: its posterior is its prior, which states the assumption.

``X`` are the standardised covariates of :meth:`extent.data.SurveyData.covariate_matrix` (log population,
type, and covariate columns). Builders are pure functions of the data and the priors; nothing is sampled here.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from extent.constants import RATE_SCALE
from extent.data import ExtentData
from extent.data.survey import SurveyData
from extent.exceptions import ConfigError, DataValidationError
from extent.models.likelihood import censored_poisson, series_terms
from extent.models.survey.mechanisms import DEFAULT_PRIORS, check_fixed, check_mechanism
from extent.priors import Prior, resolve_priors


def _covariates(survey: SurveyData, mechanism: str) -> np.ndarray:
    if mechanism == "mcar":
        return np.zeros((survey.n_units, 0))
    return survey.covariate_matrix().to_numpy(float)


def survey_coords(survey: SurveyData, mechanism: str) -> dict[str, list[str]]:
    """Coordinates of the survey model: ``unit`` (every unit), ``surveyed``, ``responder``, ``covariate``."""
    r = survey.responses
    coords = {
        "unit": [str(u) for u in survey.units.index],
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
    """Latent log rate per 100k per year of every unit (``unit``), and the covariates (``pm.Data`` or None).

    ``log_rate`` starts at its prior's centre, not at a data-dependent value, so that one compiled model
    serves every data set of the same shape (:func:`compile_key`).
    """
    X = _covariates(survey, mechanism)
    log_rate = _parameter(p, "log_rate", fixed)
    unit_sd = _parameter(p, "unit_sd", fixed)
    unit_z = pm.Normal("unit_z", 0.0, 1.0, dims="unit")
    eta = log_rate + unit_sd * unit_z
    covariates = None
    if X.shape[1]:
        covariates = pm.Data("covariates", X, dims=("unit", "covariate"))
        rate_coef = _parameter(p, "rate_coef", fixed, dims="covariate")
        eta = eta + pt.dot(covariates, rate_coef)
    return eta, unit_z, covariates


def _response_layer(survey: SurveyData, mechanism: str, p, fixed, unit_z, covariates) -> None:
    r = survey.responses
    responded, s_idx = _same_length(
        pm.Data("responded_data", r["responded"].to_numpy(np.int64), dims="surveyed"),
        pm.Data("surveyed_index", _positions(survey, r["unit"]), dims="surveyed"),
    )
    logit = _parameter(p, "response_intercept", fixed) + pt.zeros(s_idx.shape[0])
    if mechanism != "mcar" and covariates is not None:
        response_coef = _parameter(p, "response_coef", fixed, dims="covariate")
        logit = logit + pt.dot(covariates[s_idx], response_coef)
    if mechanism == "mnar":
        logit = logit + _parameter(p, "selection", fixed) * unit_z[s_idx]
    if mechanism == "delta":
        _parameter(p, "delta", fixed)
    prob = pm.Deterministic("response_prob", pm.math.sigmoid(logit), dims="surveyed")
    _observed_dims(pm.Bernoulli("responded", p=prob, observed=responded), "surveyed")


def _same_length(*data):
    """The ``pm.Data`` of one dim, each declared as long as the first through one shared length variable.

    Without it PyTensor cannot know that they have the same length and inserts broadcast checks between
    them, in an order that differs between processes (it iterates over a set of variables); the compiled
    code's cache key then differs too, and every process recompiled the survey models (13-19 s each).
    """
    n = data[0].shape[0]
    return tuple(pt.specify_shape(d, (n,)) for d in data)


def _observed_dims(rv, dim: str):
    """Label an observed variable's dim without building its shape from it.

    ``dims=`` on an observed variable puts the dim's length (a shared variable) into the log density; the
    shape here comes from the observed ``pm.Data``, so one compiled model fits surveys with any number of
    responders (:func:`compile_key`). The label keeps ``observed_data`` coordinates.
    """
    pm.modelcontext(None).named_vars_to_dims[rv.name] = (dim,)
    return rv


def _returns_layer(survey: SurveyData, log_caseload, *, censored: bool) -> None:
    r = survey.responses[survey.responses["responded"] == 1]
    data = [pm.Data("returned_data", r["returned"].to_numpy(np.int64), dims="responder"),
            pm.Data("responder_index", _positions(survey, r["unit"]), dims="responder")]
    if censored:
        data.append(pm.Data("cap", r["cap"].to_numpy(float), dims="responder"))
    returned, idx, *cap = _same_length(*data)
    mu = pt.exp(log_caseload[idx])
    if censored:
        rv = censored_poisson("returned", mu, cap[0], observed=returned, terms=_terms(survey))
    else:
        rv = pm.Poisson("returned", mu, observed=returned)
    _observed_dims(rv, "responder")


def _terms(survey: SurveyData) -> tuple[int, int]:
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
        Coords ``unit``, ``surveyed``, ``responder`` and (except MCAR) ``covariate``; observed ``responded``
        (Bernoulli) and ``returned`` (Poisson right-censored at ``cap``, a ``pm.Data``); deterministics
        ``log_caseload`` (``unit``) and ``response_prob`` (``surveyed``).
    """
    check_mechanism(mechanism)
    p = resolve_priors(DEFAULT_PRIORS, priors)
    fixed = check_fixed(fixed, mechanism)
    survey.require_returns()
    if survey.n_responded == 0:
        raise DataValidationError([f"{survey.name}: no unit responded; a survey model needs at least one return"])
    log_exposure = np.log(survey.units["population"].to_numpy(float) * survey.years / RATE_SCALE)
    with pm.Model(coords=survey_coords(survey, mechanism)) as model:
        eta, unit_z, covariates = _unit_layer(survey, mechanism, p, fixed)
        log_exposure = pm.Data("log_exposure", log_exposure, dims="unit")
        log_caseload = pm.Deterministic("log_caseload", eta + log_exposure, dims="unit")
        _response_layer(survey, mechanism, p, fixed, unit_z, covariates)
        _returns_layer(survey, log_caseload, censored=censored)
    return model


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
    year). Searched units add ``cases ~ Poisson(rate x population x search years)`` (dim ``searched_unit``);
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
    fixed = check_fixed(fixed, mechanism, extra=("survey_effect",))
    check_joint(records, survey, category)
    survey.require_returns()
    records.require_counts()
    searched = records.searched(category)
    cases = records.counts.loc[records.counts["category"] == category, "cases"].to_numpy(np.int64)
    log_pop = np.log(survey.units["population"].to_numpy(float) / RATE_SCALE)
    coords = survey_coords(survey, mechanism) | {"searched_unit": searched}
    with pm.Model(coords=coords) as model:
        eta, unit_z, covariates = _unit_layer(survey, mechanism, p, fixed)
        record_exposure = pm.Data("log_record_exposure", log_pop + np.log(records.years(category)), dims="unit")
        survey_exposure = pm.Data("log_exposure", log_pop + np.log(survey.years), dims="unit")
        log_record = pm.Deterministic("log_record_caseload", eta + record_exposure, dims="unit")
        survey_effect = _parameter(p, "survey_effect", fixed)
        log_caseload = pm.Deterministic("log_caseload", eta + survey_exposure + survey_effect, dims="unit")
        _response_layer(survey, mechanism, p, fixed, unit_z, covariates)
        _returns_layer(survey, log_caseload, censored=True)
        cases, f_idx = _same_length(pm.Data("cases_data", cases, dims="searched_unit"),
                                    pm.Data("searched_index", _positions(survey, searched), dims="searched_unit"))
        _observed_dims(pm.Poisson("cases", pt.exp(log_record[f_idx]), observed=cases), "searched_unit")
    return model


STRUCTURE_DIMS = ("unit", "surveyed", "covariate")
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
