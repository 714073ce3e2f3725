"""Likelihoods of the model families, written for speed and stable gradients.

The count model's negative binomial on the log-mean scale (:func:`negative_binomial_log_mean`), and the survey
models' Poisson right-censored at a cap (:func:`censored_poisson`, through :func:`log_at_least`).

For a count ``y`` with log mean ``eta`` and shape ``alpha`` (``alpha = 1 / dispersion**2``), PyMC's
``NegativeBinomial(mu=exp(eta), alpha)`` log density is::

    log p(y) = H(y, alpha) - gammaln(y + 1) + y * eta - (alpha + y) * (log(alpha + exp(eta)) - log(alpha))
    H(y, alpha) = gammaln(y + alpha) - gammaln(alpha) - y * log(alpha) = sum_{k < y} log1p(k / alpha)

It is written this way for speed (``docs/performance.md``): ``log(alpha + exp(eta))`` is one exp and one log
per cell, which numba vectorises (``softplus``/``log1p`` forms cost 2.5x as much), and most of the rest of
a gradient's cost is in ``H`` and ``gammaln(y + 1)``, special functions per cell forward and backward. When
the largest count is smaller than the number of cells, those are computed once for every count
``0 .. max(y)`` as a cumulative sum of ``log1p`` and looked up per cell: the same values for any ``y`` (the
table's length follows the values), at a cost that grows with the largest count instead of the number of
cells. That choice is made from the data when the model is built (:func:`use_count_table`).

``alpha`` is capped at :data:`ALPHA_MAX`, where the negative binomial equals the Poisson to 1e-8 in log
density; above it the difference of logs above would lose digits (PyMC switches to the Poisson there).
"""

from __future__ import annotations

import functools

import numpy as np
import pymc as pm
import pytensor.tensor as pt

ALPHA_MAX = 1e10
"""Largest shape used (a dispersion of 1e-5): the Poisson limit within 1e-8 per cell."""


def use_count_table(cases: np.ndarray) -> bool:
    """Whether a table over ``0 .. max(cases)`` is shorter than the cells."""
    cases = np.asarray(cases)
    return cases.size > 0 and int(cases.max()) + 1 < cases.size


def _count_terms(value, alpha, table: bool):
    """``H(value, alpha) - gammaln(value + 1)``, per cell or looked up in a table over ``0 .. max(value)``."""
    if table:
        k = pt.arange(pt.max(value), dtype="float64")
        steps = pt.log1p(k / alpha) - pt.log1p(k)
        return pt.concatenate([pt.zeros(1), pt.cumsum(steps)])[value]
    y = pt.cast(value, "float64")
    return pt.gammaln(y + alpha) - pt.gammaln(alpha) - y * pt.log(alpha) - pt.gammaln(y + 1)


def negative_binomial_logp(value, eta, alpha, *, table: bool = False):
    """Negative-binomial log density of ``value`` with log mean ``eta`` and shape ``alpha`` (elementwise)."""
    alpha = pt.minimum(alpha, ALPHA_MAX)
    log_alpha = pt.log(alpha)
    logp = (
        _count_terms(value, alpha, table)
        + value * eta
        - (alpha + value) * (pt.logaddexp(log_alpha, eta) - log_alpha)
    )
    return pt.switch(pt.lt(value, 0), -np.inf, logp)


def _random(eta, alpha, rng=None, size=None):
    return rng.negative_binomial(alpha, alpha / (alpha + np.exp(eta)), size=size)


def negative_binomial_log_mean(name: str, eta, alpha, *, observed, dims=None, table: bool | None = None):
    """An observed negative binomial with log mean ``eta`` (a ``pm.CustomDist``).

    Parameters
    ----------
    name : str
    eta : tensor
        Log mean per cell.
    alpha : tensor
        Shape (``1 / dispersion**2``); ``alpha -> inf`` is the Poisson.
    observed : array or shared variable
        Counts.
    dims : str or tuple, optional
    table : bool, optional
        Evaluate ``G`` through the count table; decided by :func:`use_count_table` when not given.
    """
    if table is None:
        values = observed.get_value() if hasattr(observed, "get_value") else observed
        table = use_count_table(values)
    return pm.CustomDist(
        name,
        eta,
        alpha,
        logp=lambda value, eta, alpha: negative_binomial_logp(value, eta, alpha, table=table),
        random=_random,
        dtype="int64",
        observed=observed,
        dims=dims,
    )

def series_terms(max_cap: float) -> tuple[int, int]:
    """Terms of the upper and the lower series of :func:`log_at_least` for caps up to ``max_cap`` (error < 1e-13).

    Near ``mu = cap`` the terms of both fall like ``exp(-k^2 / (2 cap))``, so ``16 + 8 sqrt(cap)`` are
    enough (``exp(-32)`` at the last); the lower series has at most ``cap`` terms, so it is exact with that many.
    """
    cap = max(float(max_cap), 1.0)
    up = int(16 + 8 * np.sqrt(cap))
    return up, min(up, int(np.ceil(cap)))


def log_at_least(cap, mu, terms: tuple[int, int]):
    """``log P(Y >= cap)`` for ``Y ~ Poisson(mu)``, stable in both tails (``cap >= 1``), finite gradients.

    PyMC's Poisson ``logccdf`` is ``log1mexp(logcdf)`` and loses all precision (NaN gradients) when ``mu`` is
    far below the cap. Below the cap (``mu < cap``) the upper series ``P(Y >= c) = pmf(c) * sum_k mu^k c! /
    (c + k)!`` is summed; at or above it ``1 - P(Y <= c - 1)`` with the lower series ``P(Y <= c - 1) =
    pmf(c - 1) * sum_{j < c} (c - 1)! / ((c - 1 - j)! mu^j)``, which is at most about one half there. Both
    series have ratios below one; ``terms`` bounds their lengths (upper, lower: :func:`series_terms`). Only
    elementary operations are used (no ``gammainc``), so the compiled log density can be cached.
    """
    up_terms, down_terms = terms
    cap, mu = pt.as_tensor(cap), pt.as_tensor(mu)
    k = pt.arange(up_terms)
    mu_lo = pt.minimum(mu, cap)
    up = k * pt.log(mu_lo)[..., None] - (pt.gammaln(cap[..., None] + k + 1) - pt.gammaln(cap + 1)[..., None])
    below = cap * pt.log(mu_lo) - mu_lo - pt.gammaln(cap + 1) + pt.logsumexp(up, axis=-1)
    mu_hi = pt.maximum(mu, cap)
    j = pt.arange(down_terms)
    down = (pt.gammaln(cap)[..., None] - pt.gammaln(pt.maximum(cap[..., None] - j, 1.0))
            - j * pt.log(mu_hi)[..., None])
    down = pt.switch(j <= (cap - 1)[..., None], down, -np.inf)
    log_cdf = (cap - 1) * pt.log(mu_hi) - mu_hi - pt.gammaln(cap) + pt.logsumexp(down, axis=-1)
    return pt.switch(mu < cap, below, pt.log1mexp(log_cdf))


def _capped_poisson_logp(value, mu, cap, terms: tuple[int, int]):
    """Poisson below the cap, ``log P(Y >= cap)`` at the cap (right-censoring); ``mu`` and ``cap`` have
    ``value``'s shape (one dimension)."""
    # the series only where a return is at its cap (a few responders): its cost is most of the log density's
    (capped,) = pt.nonzero(pt.ge(value, cap))
    tail = log_at_least(cap[capped], mu[capped], terms)
    exact = pm.logp(pm.Poisson.dist(mu), value)
    return pt.set_subtensor(exact[capped], tail)


def _capped_poisson_random(mu, cap, rng=None, size=None):
    return np.minimum(rng.poisson(mu, size=size), cap)


def censored_poisson(name: str, mu, cap, *, observed, terms: tuple[int, int]):
    """An observed Poisson right-censored at ``cap``: exact below it, ``log P(Y >= cap)`` at it (``pm.CustomDist``).

    ``terms`` bounds the two series of :func:`log_at_least` (:func:`series_terms` of the largest finite cap).
    """
    return pm.CustomDist(name, mu, cap, logp=functools.partial(_capped_poisson_logp, terms=terms),
                         random=_capped_poisson_random, dtype="int64", observed=observed)
