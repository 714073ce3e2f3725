"""The same extent model written the plain PyMC way, as the benchmark's yardstick.

Identical likelihood, priors and parameterisation to :mod:`extent.models.counts.builder` (total spread
``unit_sd`` split by ``shared_fraction`` into non-centred shared effects and the negative binomial's
category-specific part, both scaled with size by ``sized_unit_sd``, the centred log-population
covariate, median-scale rates, long format over observed cells), but fitted as a newcomer would: ``pm.sample``
with its default sampler and settings (target_accept set to the one extent chooses for the same data, so
that both make the same number of divergence-free draws), and national totals from
``pm.sample_posterior_predictive`` over a negative-binomial node for every unobserved (unit, category) cell,
with never-searched units' force effects drawn in the same call. Uncertain populations are left out (the synthetic data have none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from extent.models.counts.builder import default_priors, sized_unit_sd  # the same priors and SD, kept in sync

RATE_SCALE = 1e5


def fit_reference(units: pd.DataFrame, counts: pd.DataFrame, *, draws=1000, tune=1000, chains=4, seed=1,
                  target_accept=0.99):
    """Fit the plain model; returns ``(idata, totals)`` with totals of shape (chains, draws, categories)."""
    units = units.set_index("unit") if "unit" in units else units
    categories = list(dict.fromkeys(counts["category"]))
    forces = [u for u in units.index if u in set(counts["unit"])]
    f_idx = pd.Index(forces).get_indexer(counts["unit"])
    c_idx = pd.Index(categories).get_indexer(counts["category"])
    years = counts["years"].to_numpy(float) if "years" in counts else np.ones(len(counts))
    exposure = np.log(units.loc[counts["unit"], "population"].to_numpy(float) * years / RATE_SCALE)
    has_type = "type" in units and units["type"].nunique() > 1
    PRIORS = default_priors()
    if has_type:
        ref = units["type"].value_counts().index[0]
        types = sorted(t for t in units["type"].unique() if t != ref)
        unit_type = units["type"].map({t: i for i, t in enumerate(types)}).fillna(-1).to_numpy(int)
    coords = {"category": categories, "force": forces, "cell": np.arange(len(counts))}
    if has_type:
        coords["type"] = types
    with pm.Model(coords=coords):
        cases = pm.Data("cases_data", counts["cases"].to_numpy(), dims="cell")
        log_exposure = pm.Data("log_exposure", exposure, dims="cell")
        log_rate = PRIORS["log_rate"].create("log_rate", dims="category")
        unit_sd = PRIORS["unit_sd"].create("unit_sd")
        shared = PRIORS["shared_fraction"].create("shared_fraction")
        spread_slope = PRIORS["spread_slope"].create("spread_slope")
        log_pop_coef = PRIORS["log_population"].create("log_population_coef")
        force_z = pm.Normal("force_z", 0.0, 1.0, dims="force")
        log_pop = np.log(units["population"].to_numpy(float))
        x_unit = log_pop - log_pop.mean()
        sd_unit = sized_unit_sd(unit_sd, spread_slope, x_unit, pt)  # every unit's SD
        force_sd = sd_unit * pt.sqrt(shared)
        alpha = 1.0 / pt.expm1(sd_unit**2 * (1 - shared))
        cell_unit = pd.Index(units.index).get_indexer(counts["unit"])
        f_unit = pd.Index(units.index).get_indexer(forces)
        x_cell = x_unit[cell_unit]
        eta = log_exposure + log_rate[c_idx] + force_sd[f_unit][f_idx] * force_z[f_idx] + log_pop_coef * x_cell
        if has_type:
            type_effect = PRIORS["type_effect"].create("type_effect", dims="type")
            padded = pt.concatenate([type_effect, pt.zeros(1)])
            eta = eta + padded[unit_type[pd.Index(units.index).get_indexer(counts["unit"])]]
        pm.NegativeBinomial("cases", mu=pt.exp(eta), alpha=alpha[cell_unit], observed=cases, dims="cell")
        idata = pm.sample(draws=draws, tune=tune, chains=chains, target_accept=target_accept, random_seed=seed,
                          progressbar=False)

        # national totals: every unobserved cell gets a posterior predictive negative-binomial draw
        n_u, n_c = len(units), len(categories)
        observed = np.zeros((n_u, n_c), bool)
        u_pos = pd.Index(units.index).get_indexer(counts["unit"])
        observed[u_pos, c_idx] = True
        cell_u, cell_c = np.nonzero(~observed)
        searched_pos = pd.Index(forces).get_indexer(units.index)
        new_z = pm.Normal("new_force_z", 0.0, 1.0, shape=n_u)
        z_all = pt.switch(searched_pos >= 0, force_z[np.maximum(searched_pos, 0)], new_z)
        year_c = np.array([years[c_idx == c][0] for c in range(n_c)])
        eta_new = (np.log(units["population"].to_numpy(float)[cell_u] * year_c[cell_c] / RATE_SCALE)
                   + log_rate[cell_c] + force_sd[cell_u] * z_all[cell_u] + log_pop_coef * x_unit[cell_u])
        if has_type:
            eta_new = eta_new + padded[unit_type[cell_u]]
        pm.NegativeBinomial("unobserved", mu=pt.exp(eta_new), alpha=alpha[cell_u], shape=len(cell_u))
        pp = pm.sample_posterior_predictive(idata, var_names=["unobserved"], random_seed=seed + 1,
                                            progressbar=False)
    draws_unobs = pp.posterior_predictive["unobserved"].values  # chain x draw x unobserved cells
    observed_sum = np.bincount(c_idx, weights=counts["cases"].to_numpy(float), minlength=n_c)
    totals = np.stack([draws_unobs[..., cell_c == c].sum(-1) for c in range(n_c)], axis=-1) + observed_sum
    return idata, totals


def main(argv=None):
    """``python benchmarks/reference.py (--report | --units U.csv --counts C.csv)``: fit and print totals."""
    import argparse
    import warnings

    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--units")
    ap.add_argument("--counts")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args(argv)
    if args.report:
        from extent.datasets import load_report

        data = load_report().data
        units, counts = data.units.reset_index(), data.counts
    else:
        units, counts = pd.read_csv(args.units), pd.read_csv(args.counts)
    _, totals = fit_reference(units, counts)
    categories = list(dict.fromkeys(counts["category"]))
    flat = totals.reshape(-1, totals.shape[-1])
    for c, lo, med, hi in zip(categories, *np.percentile(flat, [5, 50, 95], axis=0)):
        print(f"{c}: {med:,.0f} ({lo:,.0f}-{hi:,.0f})")


if __name__ == "__main__":
    main()
