"""The negative-binomial likelihood of the extent model, written on the log-mean scale.

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
