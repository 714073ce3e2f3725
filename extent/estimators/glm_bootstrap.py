"""A non-Bayesian alternative: a quasi-Poisson GLM with a parametric bootstrap prediction interval.

The searched cells are fitted by a log-linear Poisson GLM with one rate per category, a type effect when the
searched units include two or more types, and offset ``log(population x years / 1e5)``; over-dispersion is
the Pearson estimate ``phi = max(1, X^2 / (n - p))`` (quasi-Poisson; ``phi = 1`` when there are no residual
degrees of freedom). Unsearched cells are predicted from the fitted rates. The interval is the parametric
bootstrap prediction interval of Davison and Hinkley (1997, *Bootstrap Methods and their Application*,
Algorithm 6.4 adapted to GLMs, section 7.2): for each replicate, new searched counts and new unsearched totals
are drawn from the fitted model (negative binomial with variance ``phi x mean``), the GLM is refitted, and the
prediction error ``delta* = new total - refitted prediction`` is recorded; the draws of the national total
are ``observed + prediction - delta*``.

The point estimate is the plug-in national total (observed cases plus the fitted prediction of the unsearched
cells), the one the calibration studies score: the estimator declares it (``point_estimate = "plug-in"``) and
its result carries it (``plug_in``), so that its tables and citation show it rather than the bootstrap median;
the result's intervals are bootstrap intervals (``interval_kind``), not credible intervals.

The GLM has no force effect, so between-force variation enters only through ``phi``; with two or three
searched forces it is estimated from a handful of cells. That is the point of the comparison.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from extent.constants import CATEGORY, CHAIN, DRAW, RATE_SCALE
from extent.data import ExtentData
from extent.exceptions import ConfigError
from extent.results import NationalResult

_RIDGE = 1e-8
_MAX_ETA = 30.0


def _fit_poisson(X: np.ndarray, offset: np.ndarray, y: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Poisson MLE by batched Newton steps: ``y`` is ``(batch, cells)``, returns ``(batch, p)``."""
    batch, p = y.shape[0], X.shape[1]
    start = np.linalg.lstsq(X, np.log(y.mean(0) + 0.5) - offset, rcond=None)[0]
    beta = np.repeat(start[None, :], batch, axis=0)
    eye = _RIDGE * np.eye(p)
    for _ in range(iterations):
        eta = np.clip(offset + beta @ X.T, -_MAX_ETA, _MAX_ETA)
        mu = np.exp(eta)
        grad = (y - mu) @ X - _RIDGE * beta
        hess = np.einsum("bn,np,nq->bpq", mu, X, X) + eye
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        step = np.clip(step, -5.0, 5.0)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def _draw_counts(mean: np.ndarray, phi: float, rng: np.random.Generator) -> np.ndarray:
    """Counts with the given mean and variance ``phi x mean`` (Poisson when ``phi`` = 1)."""
    if phi <= 1.0 + 1e-9:
        return rng.poisson(mean)
    lam = rng.gamma(np.maximum(mean, 1e-300) / (phi - 1.0), phi - 1.0)
    return rng.poisson(lam)


class PoissonGLMBootstrap:
    """National totals from a quasi-Poisson GLM with a parametric bootstrap prediction interval.

    Parameters
    ----------
    n_boot : int
        Bootstrap replicates (the ``draw`` dimension of the result).
    random_seed : int
        Seeds the bootstrap: the same seed gives the same numbers.
    """

    name = "glm_bootstrap"
    point_estimate = "plug-in"

    def __init__(self, *, n_boot: int = 1000, random_seed: int = 20260):
        if not (isinstance(n_boot, int) and n_boot >= 20):
            raise ConfigError(f"n_boot must be an integer >= 20, got {n_boot!r}")
        self.n_boot = n_boot
        self.random_seed = int(random_seed)

    def fit(self, data: ExtentData) -> NationalResult:
        """Fit the GLM to the searched cells and bootstrap the national total of each category."""
        units, counts = data.units, data.counts
        categories = data.categories
        c_idx = counts["category"].map({c: i for i, c in enumerate(categories)}).to_numpy(int)
        searched_types = sorted(set(units.loc[data.searched_units, "type"])) if "type" in units else []
        use_type = len(searched_types) > 1
        reference = units["type"].value_counts().index[0] if use_type else None
        other_types = [t for t in searched_types if t != reference] if use_type else []

        def design_rows(cat_index, types):
            X = np.zeros((len(cat_index), len(categories) + len(other_types)))
            X[np.arange(len(cat_index)), cat_index] = 1.0
            for k, t in enumerate(other_types):
                X[:, len(categories) + k] = (np.asarray(types) == t).astype(float)
            return X

        years = np.array([data.years(c) for c in categories])
        cell_types = units.loc[counts["unit"], "type"].to_numpy() if use_type else np.array([None] * len(counts))
        X = design_rows(c_idx, cell_types)
        offset = np.log(units.loc[counts["unit"], "population"].to_numpy(float) * counts["years"].to_numpy(float)
                        / RATE_SCALE)
        y = counts["cases"].to_numpy(float)

        # unsearched cells (unit, category) not in the counts table
        observed = set(zip(counts["unit"], counts["category"]))
        pred_cells = [(u, j) for j, c in enumerate(categories) for u in units.index if (u, c) not in observed]
        p_unit = [u for u, _ in pred_cells]
        p_cat = np.array([j for _, j in pred_cells], dtype=int)
        p_types = units.loc[p_unit, "type"].to_numpy() if use_type else np.array([None] * len(p_unit))
        # unsearched types the GLM never saw get the reference rate
        Xp = design_rows(p_cat, p_types)
        p_offset = np.log(units.loc[p_unit, "population"].to_numpy(float) * years[p_cat] / RATE_SCALE)

        beta = _fit_poisson(X, offset, y[None, :])[0]
        mu = np.exp(np.clip(offset + X @ beta, -_MAX_ETA, _MAX_ETA))
        dof = len(y) - X.shape[1]
        phi = max(1.0, float(np.sum((y - mu) ** 2 / mu) / dof)) if dof > 0 else 1.0
        mu_pred = np.exp(np.clip(p_offset + Xp @ beta, -_MAX_ETA, _MAX_ETA))

        rng = np.random.default_rng(self.random_seed)
        y_star = _draw_counts(np.broadcast_to(mu, (self.n_boot, len(y))), phi, rng)
        beta_star = _fit_poisson(X, offset, y_star.astype(float))
        mu_pred_star = np.exp(np.clip(p_offset + beta_star @ Xp.T, -_MAX_ETA, _MAX_ETA))
        new_star = _draw_counts(np.broadcast_to(mu_pred, mu_pred_star.shape), phi, rng)
        n_cat = len(categories)

        def by_category(a):  # (boot, cells) -> (boot, category)
            out = np.zeros((a.shape[0], n_cat))
            for j in range(n_cat):
                out[:, j] = a[:, p_cat == j].sum(axis=1)
            return out

        delta = by_category(new_star) - by_category(mu_pred_star)
        observed_sum = np.bincount(c_idx, weights=y, minlength=n_cat)
        prediction = by_category(mu_pred[None, :])[0]
        draws = np.maximum(observed_sum + prediction - delta, observed_sum)
        national = xr.DataArray(
            draws.reshape(1, self.n_boot, n_cat),
            dims=(CHAIN, DRAW, CATEGORY),
            coords={CHAIN: [0], DRAW: np.arange(self.n_boot), CATEGORY: categories},
            name="national_total",
        )
        settings = {
            "n_boot": self.n_boot,
            "random_seed": self.random_seed,
            "phi": phi,
            "type_effect": bool(use_type),
        }
        plug_in = {c: float(observed_sum[j] + prediction[j]) for j, c in enumerate(categories)}
        return NationalResult(estimator=self.name, data=data, national=national, settings=settings,
                              point_estimate=self.point_estimate, interval_kind="bootstrap", plug_in=plug_in)
