"""Posterior predictive national totals, computed in blocks of draws.

The national estimand for a category is the finite-population total of known cases over every unit: the
observed counts of searched units plus posterior predictive counts for all other units. A unit searched for
other categories keeps its posterior unit effect; a unit never searched gets a fresh unit effect drawn from
the between-unit distribution at its size (shared across its categories within a draw). Each unobserved cell is a
gamma-Poisson (negative binomial) draw, and the Poisson part is summed over units in one draw per category.
Draws are processed in blocks of :data:`BLOCK`, so memory is bounded by BLOCK x units x categories, never the
full draws x units x categories array (at 18,000 units x 10 categories x 4,000 draws that array alone would be
5.8 GB per intermediate). Each block has its own random stream, seeded by ``(seed, block)``.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr

from extent.constants import CATEGORY, CHAIN, DRAW
from extent.data import ExtentData
from extent.models.counts.design import Design

BLOCK = 8
"""Draws per random-number stream (and per vectorised step)."""


def national_totals(
    idata: az.InferenceData, data: ExtentData, design: Design, *, seed: int, unit_effect: str = "normal"
) -> xr.DataArray:
    """Draws of the national total per category over each category's period.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior of :func:`~extent.models.counts.builder.build_extent_model`.
    data, design : ExtentData, Design
        The data fitted and its design.
    seed : int
        Seed of the predictive draws.
    unit_effect : {"normal", "student_t"}
        Distribution of a never-searched unit's effect (as fitted).

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw, category)``.
    """
    post = idata.posterior
    n_chain, n_draw = post.sizes[CHAIN], post.sizes[DRAW]
    totals = np.empty((n_chain * n_draw, len(design.categories)))
    observed_sum = np.bincount(design.cell_category, weights=design.cases, minlength=len(design.categories))
    for s, rng, lam in _predictive_blocks(idata, data, design, seed=seed, unit_effect=unit_effect):
        totals[s] = rng.poisson(lam.sum(axis=2)) + observed_sum
    n_cat = len(design.categories)
    return xr.DataArray(
        totals.reshape(n_chain, n_draw, n_cat),
        dims=(CHAIN, DRAW, CATEGORY),
        coords={CHAIN: post[CHAIN].values, DRAW: post[DRAW].values, CATEGORY: design.categories},
        name="national_total",
    )


def unit_counts(
    idata: az.InferenceData, data: ExtentData, design: Design, *, seed: int, unit_effect: str = "normal"
) -> xr.DataArray:
    """Draws of every unit's known cases per category over each category's period: the observed count for a
    searched cell, a posterior predictive count for every other.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw, category, unit)``.
    """
    post = idata.posterior
    n_chain, n_draw = post.sizes[CHAIN], post.sizes[DRAW]
    units = data.units.index
    n_cat = len(design.categories)
    observed = np.zeros((n_cat, len(units)))
    observed[design.cell_category, units.get_indexer(data.counts["unit"])] = design.cases
    out = np.empty((n_chain * n_draw, n_cat, len(units)))
    for s, rng, lam in _predictive_blocks(idata, data, design, seed=seed, unit_effect=unit_effect):
        out[s] = rng.poisson(lam) + observed[None]
    return xr.DataArray(
        out.reshape(n_chain, n_draw, n_cat, len(units)),
        dims=(CHAIN, DRAW, CATEGORY, "unit"),
        coords={CHAIN: post[CHAIN].values, DRAW: post[DRAW].values, CATEGORY: design.categories,
                "unit": list(map(str, units))},
        name="unit_cases",
    )


def _predictive_blocks(idata: az.InferenceData, data: ExtentData, design: Design, *, seed: int,
                       unit_effect: str):
    """Blocks of predictive means: yields ``(draw slice, the block's random stream, means)``, means of shape
    (block draws, categories, units) over each category's period, zero for observed cells (gamma-mixed: a
    Poisson draw of them is a negative binomial draw)."""
    post = idata.posterior
    n_chain, n_draw = post.sizes[CHAIN], post.sizes[DRAW]
    n_samples = n_chain * n_draw

    def flat(name, *dims):
        return post[name].transpose(CHAIN, DRAW, *dims).values.reshape(n_samples, -1)

    log_rate = flat("log_rate", CATEGORY)
    units = data.units
    # the two variance components at the mean size: shared (shared_sd) and category-specific (log-scale variance)
    shared_sd = flat("shared_sd")
    specific_var = np.log1p(flat("dispersion") ** 2)
    spread_slope = flat("spread_slope") if "spread_slope" in post else None
    unit_offset = flat("unit_offset", "unit")
    type_effect = (np.concatenate([flat("type_effect", "type"), np.zeros((n_samples, 1))], axis=1) if design.types
                   else np.zeros((n_samples, 1)))

    n_cat = len(design.categories)
    years = np.array([data.years(c) for c in design.categories])
    type_index = {t: i for i, t in enumerate(design.types)}
    unit_type = (
        units["type"].map(lambda t: type_index.get(t, -1)).to_numpy(int) if design.types else np.full(len(units), -1)
    )
    log_exposure = np.log(data.exposure_values.to_numpy(float))
    if design.covariates:
        coef = flat("coef", "covariate")
    else:
        coef = None
    cv = units["population_cv"].to_numpy(float)

    searched_pos = {f: i for i, f in enumerate(design.searched_units)}
    is_searched = np.array([u in searched_pos for u in units.index])
    s_rows = np.array([searched_pos[u] for u in units.index[is_searched]], dtype=int)
    # observed[c, unit] marks cells that are in the counts table
    observed = np.zeros((n_cat, len(units)), dtype=bool)
    observed[design.cell_category, units.index.get_indexer(data.counts["unit"])] = True

    never = ~is_searched
    n_never = int(never.sum())
    never_cv = cv[never]
    log_years = np.log(years / design.rate_scale)[None, :, None]
    for b0 in range(0, n_samples, BLOCK):
        s = slice(b0, min(b0 + BLOCK, n_samples))
        m = s.stop - s.start
        rng = np.random.default_rng([seed, b0 // BLOCK])
        # log rate contribution of each unit (block x units): unit effect + type + population error
        unit_eff = np.empty((m, len(units)))
        unit_eff[:, is_searched] = unit_offset[s][:, s_rows]
        scale = _size_scale(shared_sd[s], specific_var[s], None if spread_slope is None else spread_slope[s],
                            design.unit_lp)
        unit_eff[:, never] = (shared_sd[s] * scale[:, never]) * _standard_effects(rng, unit_effect, (m, n_never))
        if (never_cv > 0).any():
            unit_eff[:, never] += rng.standard_normal((m, n_never)) * never_cv
        unit_eff += type_effect[s][:, unit_type] + log_exposure
        if coef is not None:
            unit_eff += coef[s] @ design.unit_x.T
        # expected counts per (draw, category, unit); observed cells are left out
        mu = np.exp(unit_eff[:, None, :] + log_rate[s][:, :, None] + log_years)
        mu[np.broadcast_to(observed[None], mu.shape)] = 0.0
        with np.errstate(divide="ignore"):  # the likelihood's Poisson limit
            a = np.minimum(1.0 / np.expm1(specific_var[s] * scale**2), 1e10)[:, None, :]
        lam = mu * rng.gamma(shape=np.broadcast_to(a, mu.shape), scale=1.0) / a
        yield s, rng, lam


def _size_scale(shared_sd, specific_var, spread_slope, unit_lp) -> np.ndarray:
    """Factor on each unit's spread (draws x units): :func:`~extent.models.counts.builder.size_factor`, the total SD
    capped as in the model."""
    if spread_slope is None:
        return np.ones((len(shared_sd), len(unit_lp)))
    from extent.models.counts.builder import MAX_UNIT_SD, size_factor

    total_sd = np.sqrt(shared_sd**2 + specific_var)
    return np.minimum(size_factor(spread_slope, unit_lp[None, :]), MAX_UNIT_SD / np.maximum(total_sd, 1e-300))


def _standard_effects(rng: np.random.Generator, unit_effect: str, shape: tuple[int, int]) -> np.ndarray:
    """Unit-variance draws of a fresh unit effect."""
    if unit_effect == "student_t":
        from extent.models.counts.builder import STUDENT_T_NU

        return rng.standard_t(STUDENT_T_NU, size=shape) * np.sqrt((STUDENT_T_NU - 2) / STUDENT_T_NU)
    return rng.standard_normal(shape)
