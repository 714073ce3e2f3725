"""The hierarchical extent model: counts per force and category with population exposure.

For an observed cell (force f, category c)::

    cases[f, c] ~ NegativeBinomial(mu[f, c], alpha = 1 / dispersion**2)
    log mu[f, c] = log(population[f] * years / 1e5) + log_rate[c] + type_effect[type[f]] + force_sd * force_z[f]
    force_z[f] ~ Normal(0, 1)

* ``log_rate[c]`` is the log rate per 100,000 per year of a typical (median) force of the reference type; the
  population-average rate is ``log_mean_rate = log_rate + force_sd**2 / 2`` (a deterministic), which is what
  unsearched forces contribute on average. The two are the same model; sampling on the median scale avoids
  the curved ridge between every ``log_rate`` and ``force_sd`` that the mean-one form creates
  (47 -> 0 divergences on the report's data);
* the force effect is shared across categories, so forces searched for several categories inform the
  between-force spread;
* ``dispersion`` is the coefficient of variation of a mean-one gamma effect for each force and category (the
  negative binomial integrates it out); its half-normal prior shrinks towards Poisson unless the data need it;
* ``type_effect`` (log rate ratio of each force type to the most common type) is included when units carry a
  ``type`` with two or more levels;
* a searched force with ``population_cv`` > 0 has log population ``log(nominal) + cv * e`` with
  ``e ~ Normal(0, 1)``. For a searched force this error enters every one of its cells exactly as its force
  effect does, so the two are summed analytically: ``force_effect = sqrt(force_sd**2 + cv**2) * force_z``.
  This is the same model with two fewer parameters per force and no ridge between them.

The model is a pure function of the data and the priors; nothing is sampled here.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from extent.data import ExtentData
from extent.models.design import Design
from extent.models.likelihood import negative_binomial_log_mean
from extent.priors import Prior, resolve_priors

DEFAULT_PRIORS: dict[str, Prior] = {
    "log_rate": Prior("Normal", mu=0.0, sigma=3.0),
    "force_sd": Prior("HalfNormal", sigma=0.3),
    "dispersion": Prior("HalfNormal", sigma=0.5),
    "type_effect": Prior("Normal", mu=0.0, sigma=0.5),
}
"""Default priors.

log_rate
    Log cases per 100,000 population per year in a typical force, per category: Normal(0, 3) spans about
    0.003 to 400.
force_sd
    Between-force standard deviation of the shared log force effect. With two or three searched forces it is
    barely identified and its prior sets the width of every national interval: HalfNormal(0.3) has median 0.20
    (95% of forces within x1.5 of a typical force) and 95% below 0.59. It was
    HalfNormal(0.5) (median 0.34, 95% below 0.98) until the calibration study (``docs/calibration.md``) showed
    90% intervals covering 96% at a between-force SD of 0.3, the spread of recorded child sexual offence rates
    across UK force areas.
dispersion
    Category-specific force variation (coefficient of variation of the cell effect): HalfNormal(0.5).
type_effect
    Log rate ratio of a force type to the reference type: Normal(0, 0.5), a ratio within x2.7 with 95%.
"""


CENTERING_MIN_FORCES = 20
"""Fewest searched forces for centred force effects (with fewer, ``force_sd`` reaches near zero, the funnel)."""


def prefer_centered(design: Design) -> bool:
    """Whether the counts pin the force effects well enough for the centred parameterisation.

    Centred effects sample better when the likelihood of each force effect is narrower than its prior
    (Betancourt & Girolami, 2015). The likelihood precision of force ``f``'s effect is about
    ``I_f = sum_c y_fc / (1 + y_fc * 0.5**2)`` (negative binomial at the observed counts with a dispersion of
    0.5, the prior scale, so as not to overstate it); the prior sd about 0.3 (the ``force_sd`` prior scale).
    Centred when ``0.3 * sqrt(median I_f) >= 1`` and at least :data:`CENTERING_MIN_FORCES` forces are
    searched. Measured (``docs/performance.md``): the report (3 forces) and size S (3 forces) sample without
    divergences only non-centred; size M (500 forces x 10 categories) centred gives 2.9x the bulk ESS in half
    the time.
    """
    if len(design.forces) < CENTERING_MIN_FORCES:
        return False
    y = design.cases.astype(float)
    information = np.bincount(design.cell_force, weights=y / (1 + y * 0.5**2), minlength=len(design.forces))
    return bool(0.3 * np.sqrt(np.median(information)) >= 1.0)


def build_extent_model(
    data: ExtentData, priors: dict | None = None, *, design: Design | None = None, centered: bool | None = None
) -> pm.Model:
    """Build the hierarchical extent model for ``data``.

    Parameters
    ----------
    data : ExtentData
        Units and counts.
    priors : dict, optional
        Overrides of :data:`DEFAULT_PRIORS` by name (:class:`~extent.priors.Prior` or dict).
    design : Design, optional
        Precomputed design for ``data`` (built when not given).
    centered : bool, optional
        Centred force effects instead of non-centred; chosen from the data by :func:`prefer_centered` when
        not given.

    Returns
    -------
    pymc.Model
        With coords ``category``, ``force`` (searched units), ``cell`` and, where present, ``type``;
        observed variable ``cases``.
    """
    p = resolve_priors(DEFAULT_PRIORS, priors)
    d = design or Design.from_data(data)
    if centered is None:
        centered = prefer_centered(d)
    with pm.Model(coords=d.coords) as model:
        cases = pm.Data("cases_data", d.cases, dims="cell")
        log_exposure = pm.Data("log_exposure", d.log_exposure, dims="cell")

        log_rate = p["log_rate"].create("log_rate", dims="category")
        force_sd = p["force_sd"].create("force_sd")
        dispersion = p["dispersion"].create("dispersion")
        pm.Deterministic("log_mean_rate", log_rate + force_sd**2 / 2, dims="category")
        force_scale = pt.sqrt(force_sd**2 + d.force_cv**2) if d.force_cv.any() else force_sd
        if centered:
            force_effect = pm.Normal("force_effect", 0.0, force_scale, dims="force")
        else:
            force_z = pm.Normal("force_z", 0.0, 1.0, dims="force")
            force_effect = pm.Deterministic("force_effect", force_scale * force_z, dims="force")

        eta = log_exposure + log_rate[d.cell_category] + force_effect[d.cell_force]
        if d.types:
            type_effect = p["type_effect"].create("type_effect", dims="type")
            padded = pt.concatenate([type_effect, pt.zeros(1)])  # index -1 -> reference level
            eta = eta + padded[d.cell_type]

        negative_binomial_log_mean("cases", eta, 1.0 / dispersion**2, observed=cases, dims="cell",
                                   table=d.count_table)
    return model
