"""The hierarchical extent model: counts per unit and category with an exposure and auxiliary information.

For an observed cell (unit f, category c)::

    cases[f, c] ~ NegativeBinomial(mu[f, c], alpha = 1 / dispersion**2)
    log mu[f, c] = log(exposure[f] * years / scale) + log_rate[c] + type_effect[type[f]]
                   + x[f] . coef + unit_offset[f]
    unit_offset[f] = shared_sd * z[f],  z[f] ~ Normal(0, 1)  (or a unit-variance Student-t)

This is the unit-level small-area model: a regression-synthetic part (rate, type and covariates) plus a unit
effect, on the count scale.

* Between-unit heterogeneity has two components. ``unit_sd`` is the total between-unit SD of a category's
  log rate (after type and covariates); a share ``shared_fraction`` of its variance is a unit effect shared by
  all categories (``shared_sd = unit_sd * sqrt(shared_fraction)``), the rest is category-specific: a mean-one
  gamma effect per unit and category with the same log-scale variance,
  ``dispersion = sqrt(exp(unit_sd**2 * (1 - shared_fraction)) - 1)``, which the negative binomial integrates
  out. With one category the split is not identified and does not matter; ``unit_sd`` does.
* Larger units vary less (``spread_by_size``, on by default): ``unit_sd`` is the SD of a unit of mean log
  population, and unit ``f`` has ``sd[f] = min(unit_sd * size_factor(spread_slope, lp[f]), MAX_UNIT_SD)``
  (about ``exp(spread_slope * lp[f])``, bounded within a factor of 3) in both
  components (``lp`` centred log population; the per-cell shape ``alpha`` then varies, so the likelihood's
  count table is not used). ``shared_sd`` and ``dispersion`` are reported at the mean size.
* The default priors on ``unit_sd``, ``shared_fraction`` and the log-population coefficient are derived from
  hundreds of real tables (:mod:`extent.elicitation`); with two or three searched units they set the width of
  every national interval, so they are a summary of real spreads, not a guess.
* ``x`` holds log population (centred; on by default) and the user's covariates (numeric standardised, text
  as indicators), :func:`~extent.models.counts.design.covariate_matrix`; their coefficients are shared by all
  categories.
* ``log_rate[c]`` is the log rate per 100,000 per year (per unit of exposure per year with another exposure)
  of a typical (median) unit of the reference type at the mean covariates; with normal unit effects the
  population-average rate is ``log_mean_rate = log_rate + shared_sd**2 / 2`` (a deterministic).
* ``type_effect`` (log rate ratio of each unit type to the most common type) is included when units carry a
  ``type`` with two or more levels.
* a searched unit with ``population_cv`` > 0 has log exposure ``log(nominal) + cv * e`` with
  ``e ~ Normal(0, 1)``; this error enters every one of its cells exactly as its unit effect does, so the two
  are summed analytically: ``unit_offset = sqrt(shared_sd**2 + cv**2) * z``. Units that share a
  ``population_group`` are a split of a combined population known to ``population_group_cv``: their errors are
  modelled explicitly, negatively correlated, so that the combined population is no more uncertain than
  stated (:func:`_population_split_errors`).

The model is a pure function of the data and the priors; nothing is sampled here.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from extent.data import ExtentData
from extent.elicitation import corpus_priors
from extent.exceptions import ConfigError
from extent.models.counts.design import DEFAULT_LOG_POPULATION, DEFAULT_SPREAD_BY_SIZE, LOG_POPULATION, Design
from extent.models.likelihood import negative_binomial_log_mean
from extent.priors import Prior, resolve_priors

UNIT_EFFECTS = ("normal", "student_t")
"""Distributions of the unit effect: normal, or Student-t with :data:`STUDENT_T_NU` degrees of freedom
(scaled to the same SD) for outlying units such as a small city centre with a large daytime population."""
STUDENT_T_NU = 4.0
MAX_SIZE_FACTOR = 3.0
"""Most a unit's between-unit SD differs from the SD at the mean size, either way (see :func:`size_factor`)."""
MAX_UNIT_SD = 3.0
"""Cap on a unit's between-unit SD with size-dependent spread (a rate ratio of 20 per SD; the corpus's largest
table SD is 2.2): keeps the tails of ``unit_sd`` times ``exp(spread_slope * lp)`` at extreme sizes finite."""
TYPE_EFFECT_SD = 0.5
"""Prior SD of a type's log rate ratio to the reference type (see :func:`default_priors`)."""


def size_factor(spread_slope, lp, xp=np):
    """Factor on the between-unit SD of a unit of centred log population ``lp``: about ``exp(spread_slope * lp)``,
    smoothly bounded within ``1 / MAX_SIZE_FACTOR .. MAX_SIZE_FACTOR``.

    ``exp(L * tanh(spread_slope * lp / L))`` with ``L = log(MAX_SIZE_FACTOR)``: within 5% of the exponential
    while it is within a factor of 1.5, and never beyond 3 (the corpus's tables need at most 2.9 at their
    extreme sizes). Unbounded, the few searched units leave the slope loose enough for the SD of a large unit to
    approach zero in the posterior's tails, the negative binomial's funnel, which gave 1-4 divergences in 4% of
    real-data validation fits; bounded, they are as rare as without size-dependent spread. ``xp`` is ``numpy``
    or ``pytensor.tensor``.
    """
    bound = float(np.log(MAX_SIZE_FACTOR))
    return xp.exp(bound * xp.tanh(spread_slope * lp / bound))


def sized_unit_sd(unit_sd, spread_slope, lp, xp=np):
    """A unit's between-unit SD at centred log population ``lp``: ``unit_sd * size_factor(spread_slope, lp)``,
    capped at :data:`MAX_UNIT_SD` (the model's and the benchmark reference's one formula)."""
    return xp.minimum(unit_sd * size_factor(spread_slope, lp, xp), MAX_UNIT_SD)


def default_priors(log_population: bool = DEFAULT_LOG_POPULATION,
                   spread_by_size: bool = DEFAULT_SPREAD_BY_SIZE) -> dict[str, Prior]:
    """The default priors of the model with or without the log-population covariate and size-dependent spread.

    log_rate
        Log cases per 100,000 population per year in a typical unit, per category: Normal(0, 3) spans about
        0.003 to 400.
    unit_sd
        Total between-unit SD of a category's log rate: LogNormal derived from the corpus
        (:func:`extent.elicitation.corpus_priors`; ``LogNormal(-0.63, 0.47)`` with log population and
        size-dependent spread: the SD of a unit of mean log population, median 0.53, 90% between 0.25 and
        1.15; the real tables range from 0.2 to over 1.5). It is the spread across
        all units, types included, so with a ``type_effect`` in the model it errs on the wide side: the
        within-type variant was worse on real data (``docs/validation.md``).
    shared_fraction
        Share of that variance shared across categories: Beta from the corpus's multi-category tables
        (``Beta(2, 2.85)``, mean 0.41).
    log_population
        Coefficient of centred log population (rate elasticity to size): Normal from the corpus (0.05, 0.29).
    spread_slope
        Slope of the log between-unit SD on centred log population (negative: larger units vary less):
        Normal from the corpus, where it is negative in every dataset.
    coef
        Coefficient of each standardised user covariate (or level indicator): Normal(0, 0.5), a rate ratio
        within x2.7 per SD with 95%. This one is a judgement: the corpus has no such covariates.
    type_effect
        Log rate ratio of a unit type to the reference type: ``Normal(-0.125, 0.5)``, a ratio within x2.7 with
        95% and a *mean* ratio of one (``mu = -sigma**2 / 2``), so that not knowing an unsearched type's rate
        widens the national interval without raising its point estimate (with ``mu = 0`` the expected ratio
        is ``exp(sigma**2 / 2) = 1.13``: every unsearched type added 13% to its units' expected cases). A
        judgement: types mean different things in different datasets, and a prior learnt from the corpus's
        types (Normal(0, 0.76)) did not carry over (``docs/validation.md``).
    """
    return {
        "log_rate": Prior("Normal", mu=0.0, sigma=3.0),
        **corpus_priors(log_population=log_population, spread_by_size=spread_by_size),
        "coef": Prior("Normal", mu=0.0, sigma=0.5),
        "type_effect": Prior("Normal", mu=-TYPE_EFFECT_SD**2 / 2, sigma=TYPE_EFFECT_SD),
    }


DEFAULT_PRIORS: dict[str, Prior] = default_priors()
"""Default priors of the default model (with log population); see :func:`default_priors`."""


CENTERING_MIN_UNITS = 20
"""Fewest searched units for centred unit effects (with fewer, ``shared_sd`` reaches near zero, the funnel)."""


def prefer_centered(design: Design) -> bool:
    """Whether the counts pin the unit effects well enough for the centred parameterisation.

    Centred effects sample better when the likelihood of each unit effect is narrower than its prior
    (Betancourt & Girolami, 2015). The likelihood precision of unit ``f``'s effect is about
    ``I_f = sum_c y_fc / (1 + y_fc * 0.5**2)`` (negative binomial at the observed counts with a dispersion of
    0.5, the prior scale, so as not to overstate it); the prior sd about 0.3 (the ``shared_sd`` prior scale).
    Centred when ``0.3 * sqrt(median I_f) >= 1`` and at least :data:`CENTERING_MIN_UNITS` units are
    searched. Measured (``docs/performance.md``): the report (3 units) and size S (3 units) sample without
    divergences only non-centred; size M (500 units x 10 categories) centred gives 2.9x the bulk ESS in half
    the time.
    """
    if len(design.searched_units) < CENTERING_MIN_UNITS or (design.searched_group >= 0).any():
        return False
    y = design.cases.astype(float)
    information = np.bincount(design.cell_unit, weights=y / (1 + y * 0.5**2), minlength=len(design.searched_units))
    return bool(0.3 * np.sqrt(np.median(information)) >= 1.0)


def build_extent_model(
    data: ExtentData,
    priors: dict | None = None,
    *,
    design: Design | None = None,
    centered: bool | None = None,
    log_population: bool = DEFAULT_LOG_POPULATION,
    unit_effect: str = "normal",
    spread_by_size: bool = DEFAULT_SPREAD_BY_SIZE,
) -> pm.Model:
    """Build the hierarchical extent model for ``data``.

    Parameters
    ----------
    data : ExtentData
        Units and counts (with ``data.covariates`` and ``data.exposure``).
    priors : dict, optional
        Overrides of :func:`default_priors` by name (:class:`~extent.priors.Prior` or dict).
    design : Design, optional
        Precomputed design for ``data`` (built when not given; must match ``log_population``).
    centered : bool, optional
        Centred unit effects instead of non-centred; chosen from the data by :func:`prefer_centered` when
        not given.
    log_population : bool
        Include centred log population as a covariate.
    unit_effect : {"normal", "student_t"}
        Distribution of the shared unit effect.
    spread_by_size : bool
        Let the between-unit SD depend on size: :func:`sized_unit_sd` (about ``unit_sd * exp(spread_slope *
        lp)``) for a unit of centred log population ``lp`` (both variance components; see the module docstring).

    Returns
    -------
    pymc.Model
        With coords ``category``, ``unit`` (searched units), ``cell`` and, where present, ``type`` and
        ``covariate``; observed variable ``cases``.
    """
    if unit_effect not in UNIT_EFFECTS:
        raise ConfigError(f"unit_effect must be one of {UNIT_EFFECTS}, got {unit_effect!r}")
    p = resolve_priors(default_priors(log_population, spread_by_size), priors)
    d = design or Design.from_data(data, log_population=log_population)
    if (LOG_POPULATION in d.covariates) != log_population:
        raise ConfigError("design and log_population disagree")
    if centered is None:
        centered = prefer_centered(d)
    with pm.Model(coords=d.coords) as model:
        cases = pm.Data("cases_data", d.cases, dims="cell")
        log_exposure = pm.Data("log_exposure", d.log_exposure, dims="cell")

        log_rate = p["log_rate"].create("log_rate", dims="category")
        unit_sd = p["unit_sd"].create("unit_sd")
        shared = p["shared_fraction"].create("shared_fraction")
        shared_sd = pm.Deterministic("shared_sd", unit_sd * pt.sqrt(shared))
        dispersion = pm.Deterministic("dispersion", pt.sqrt(pt.expm1(unit_sd**2 * (1 - shared))))
        grouped = d.searched_group >= 0
        if grouped.any() and centered:
            raise ConfigError("population groups need non-centred unit effects (centered=False)")
        if spread_by_size:
            searched_lp = pm.Data("searched_lp", d.searched_lp, dims="unit")
            sized_sd = sized_unit_sd(unit_sd, p["spread_slope"].create("spread_slope"), searched_lp, pt)
            shared_sd_unit = sized_sd * pt.sqrt(shared)
            # category-specific part per cell (``dispersion`` is its value at the mean size)
            alpha = 1.0 / pt.expm1(sized_sd[d.cell_unit] ** 2 * (1 - shared))
        else:
            shared_sd_unit = shared_sd
            alpha = 1.0 / dispersion**2
        folded_cv = np.where(grouped, 0.0, d.searched_cv)  # grouped units' errors are modelled explicitly below
        unit_scale = pt.sqrt(shared_sd_unit**2 + folded_cv**2) if folded_cv.any() else shared_sd_unit
        if unit_effect == "normal":
            pm.Deterministic("log_mean_rate", log_rate + shared_sd**2 / 2, dims="category")
        if centered and unit_effect == "normal":
            unit_offset = pm.Normal("unit_offset", 0.0, unit_scale, dims="unit")
        else:
            if unit_effect == "normal":
                unit_z = pm.Normal("unit_z", 0.0, 1.0, dims="unit")
            else:
                t_scale = np.sqrt((STUDENT_T_NU - 2) / STUDENT_T_NU)
                unit_z = pm.StudentT("unit_z", nu=STUDENT_T_NU, mu=0.0, sigma=t_scale, dims="unit")
            base = unit_scale * unit_z
            if grouped.any():
                base = base + _population_split_errors(d)
            unit_offset = pm.Deterministic("unit_offset", base, dims="unit")

        unit_eta = unit_offset
        if d.covariates:
            x = pm.Data("searched_x", d.searched_x, dims=("unit", "covariate"))
            coef = _coefficients(p, d.covariates)
            unit_eta = unit_eta + pt.dot(x, coef)
        eta = log_exposure + log_rate[d.cell_category] + unit_eta[d.cell_unit]
        if d.types:
            cell_type = pm.Data("cell_type", d.cell_type, dims="cell")  # data: which types were searched varies
            type_effect = p["type_effect"].create("type_effect", dims="type")
            padded = pt.concatenate([type_effect, pt.zeros(1)])  # index -1 -> reference level
            eta = eta + padded[cell_type]

        negative_binomial_log_mean("cases", eta, alpha, observed=cases, dims="cell",
                                   table=d.count_table and not spread_by_size)  # the table needs one alpha
    return model


def _population_split_errors(d: Design):
    """Log-population errors of units whose populations split a roughly known combined total (dims ``unit``).

    Force ``f`` of group ``g`` has ``e_f = cv_f u_f - sum_j share_j cv_j u_j + group_cv_g t_g`` with
    ``u, t ~ Normal(0, 1)``: the split is as uncertain as each unit's ``population_cv`` says, but to first
    order ``sum_j share_j e_j = group_cv_g t_g``, so the combined population is only as uncertain as stated.
    """
    idx = np.flatnonzero(d.searched_group >= 0)
    group = d.searched_group[idx]
    u = d.searched_cv[idx] * pm.Normal("population_split_z", 0.0, 1.0, shape=len(idx))
    total_z = pm.Normal("population_total_z", 0.0, 1.0, shape=len(d.group_cv))
    weighted = pt.inc_subtensor(pt.zeros(len(d.group_cv))[group], d.searched_share[idx] * u)
    errors = u - weighted[group] + d.group_cv[group] * total_z[group]
    return pm.Deterministic("population_error", pt.set_subtensor(pt.zeros(len(d.searched_units))[idx], errors),
                            dims="unit")


def _coefficients(p: dict[str, Prior], names: list[str]):
    """The ``coef`` vector (dims ``covariate``): the log-population prior for that one, ``coef`` for the rest."""
    has_lp = names[0] == LOG_POPULATION
    others = len(names) - has_lp
    parts = []
    if has_lp:
        parts.append(p["log_population"].create("log_population_coef")[None])
    if others:
        parts.append(p["coef"].create("covariate_coef", shape=others))
    return pm.Deterministic("coef", pt.concatenate(parts) if len(parts) > 1 else parts[0], dims="covariate")
