"""Model builders for shares and count series: a partially pooled binomial and a log-linear trend.

Both return a :class:`pymc.Model` and sample nothing (sampling is :func:`extent.inference.sample`).
"""

from __future__ import annotations

import numpy as np
import pymc as pm

POOLED_LOGIT_MEAN = (-2.0, 2.0)
"""Prior (mean, sd) of the typical share on the logit scale: centred on 12%, 90% between 0.5% and 94%."""
POOLED_LOGIT_SD = 1.0
"""Half-normal scale of the between-unit sd of logit shares (1 is a factor of about e in the odds)."""
TREND_SLOPE_SD = 1.0
"""Normal sd of the log growth per year (1: growth or decline by a factor e a year is within a sd)."""
TREND_OVERDISPERSION = 0.3
"""Half-normal scale of the negative binomial's overdispersion, the coefficient of variation of the gamma mixing
(0: Poisson); with a handful of years it is weakly identified and this prior sets part of the interval."""
TREND_LOG_SD = 0.5
"""Half-normal scale of the residual sd of log values (lognormal family)."""
TREND_UNIT_SD = 1.0
"""Half-normal scale of the between-unit sd of log levels (unit-by-year series)."""


def build_pooled_binomial(successes: np.ndarray, trials: np.ndarray, units: list[str]) -> pm.Model:
    """Binomial shares with logit-normal partial pooling across units (or outcomes).

    ``logit p_u = mu + sigma z_u``, ``z_u ~ N(0, 1)`` (non-centred), ``successes_u ~ Binomial(trials_u, p_u)``.
    ``typical`` is ``inv_logit(mu)``, the share of a typical unit.
    """
    with pm.Model(coords={"unit": list(units)}) as model:
        mu = pm.Normal("mu", *POOLED_LOGIT_MEAN)
        sigma = pm.HalfNormal("sigma", POOLED_LOGIT_SD)
        z = pm.Normal("z", 0.0, 1.0, dims="unit")
        p = pm.Deterministic("share", pm.math.invlogit(mu + sigma * z), dims="unit")
        pm.Deterministic("typical", pm.math.invlogit(mu))
        pm.Binomial("successes", n=np.asarray(trials), p=p, observed=np.asarray(successes), dims="unit")
    return model


def build_trend(years: np.ndarray, counts: np.ndarray, exposure: np.ndarray, unit_index: np.ndarray,
                units: list[str], *, family: str, reference_year: float) -> pm.Model:
    """Log-linear trend in year with exposure (fraction of the year observed).

    ``log E[y_t] = level_u + slope (year_t - reference_year) + log exposure_t``; ``family`` is
    ``negative_binomial`` (counts, overdispersion ~ HalfNormal), ``poisson`` or ``lognormal`` (positive
    measurements: ``log y_t ~ N(., sd)``). With more than one unit the levels are partially pooled.
    """
    counts = np.asarray(counts, float)
    exposure = np.asarray(exposure, float)
    center = float(np.log(np.maximum(counts.sum(), 0.5) / exposure.sum()))
    t = np.asarray(years, float) - reference_year
    with pm.Model(coords={"unit": list(units)}) as model:
        if len(units) > 1:
            base = pm.Normal("base", center, 2.5)
            unit_sd = pm.HalfNormal("unit_sd", TREND_UNIT_SD)
            level = pm.Deterministic("level", base + unit_sd * pm.Normal("unit_z", 0, 1, dims="unit"), dims="unit")
        else:
            level = pm.Normal("level", center, 2.5, dims="unit")
        slope = pm.Normal("slope", 0.0, TREND_SLOPE_SD)
        log_mu = level[unit_index] + slope * t + np.log(exposure)
        if family == "lognormal":
            sd = pm.HalfNormal("log_sd", TREND_LOG_SD)
            pm.Normal("log_value", log_mu, sd, observed=np.log(counts))
        elif family == "poisson":
            pm.Poisson("count", pm.math.exp(log_mu), observed=counts)
        else:
            over = pm.HalfNormal("overdispersion", TREND_OVERDISPERSION)
            pm.NegativeBinomial("count", mu=pm.math.exp(log_mu), alpha=1.0 / (over**2 + 1e-6), observed=counts)
    return model


SMALL_MODEL_TARGET_ACCEPT = 0.99
"""NUTS target acceptance of these models when the user sets none: with three or four observations the
posteriors are curved (a between-unit sd or an overdispersion near zero): at 0.8 R-hat stays above 1.01, at 0.95
the report's fits still had one or two divergences."""


def small_model_sampler(config):
    """``config`` with :data:`SMALL_MODEL_TARGET_ACCEPT` where it leaves the target acceptance open (and the
    library's default tuning where it leaves that open)."""
    return config.resolved(target_accept=SMALL_MODEL_TARGET_ACCEPT)
