"""Default priors on between-unit heterogeneity, derived from the real corpus.

With two or three searched units the between-unit spread is barely identified, so its prior sets the width of
every national interval. The defaults are therefore not a judgement but a summary of real tables: for every
(year, category) table of the corpus (:mod:`extent.datasets.corpus`, hundreds of complete tables of crime and
disease counts by area), :func:`table_spreads` estimates

``sd``
    the standard deviation across units of the log rate, ``log((cases + 0.5) / population)``, less the
    Poisson part (method of moments: the sample variance minus the mean of ``1 / (cases + 0.5)``);
``sd_adjusted``, ``slope``
    the same after regressing the log rate on centred log population, and that regression's slope (the
    log-population coefficient of the model);
``sd_sized``, ``spread_slope`` (and ``sd_sized_raw``, ``spread_slope_raw`` without log population)
    the between-unit SD as a function of size: the maximum-likelihood fit of
    ``resid ~ Normal(0, 1 / (cases + 0.5) + (sd * size_factor(slope, lp))**2)`` to the residuals above
    (:func:`~extent.models.counts.builder.size_factor`: about ``exp(slope * lp)``, as in the model), ``lp``
    centred log population; ``sd_sized`` is the SD of a unit of mean log population. Larger units vary
    less in every dataset of the corpus (``spread_slope`` < 0), which matters because the national total
    is dominated by large units;
``sd_within_type``, ``sd_adjusted_within_type``, ``type_rms``
    the same within unit types (without and with log population), and the root mean square of the type
    coefficients: documented in ``docs/validation.md``, not used by the defaults (a variant that used them
    was worse on real data);
``shared_fraction`` (per dataset and year, over its categories)
    the share of the between-unit variance that units share across categories (the rest is
    category-specific): from the variance of each unit's mean residual over categories.

:func:`corpus_priors` turns them into priors for the model, weighting each *dataset* equally (one dataset has
252 tables, another one): log ``sd_sized`` (``sd_adjusted`` for the model without size-dependent spread) is
summarised per dataset by its mean and SD, and the prior for a
new table is ``LogNormal(mu, sigma)`` with ``mu`` the mean of the dataset means and ``sigma**2`` the variance
between dataset means plus the mean within-dataset variance (the predictive distribution for a table of a new
dataset). The log-population slope and the spread's slope get ``Normal`` the same way, the shared fraction a
``Beta`` with the same
mean and variance (``alpha, beta >= 2``: :data:`MIN_BETA_PARAMETER`). ``corpus_priors(exclude=name)``
repeats the derivation without one dataset: real-data validation scores each dataset with priors that never
saw it.

The table the defaults come from ships as ``extent/datasets/corpus/spread_table.csv``; regenerate it with
``python -m extent.elicitation`` (a test checks that the shipped table and the defaults are reproduced).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from extent.datasets.corpus import DATASETS, load_corpus
from extent.exceptions import ConfigError
from extent.priors import Prior

SPREAD_TABLE = "spread_table.csv"
MIN_CATEGORIES = 3
MAX_CONCENTRATION = 10.0
"""Largest ``alpha + beta`` of the shared-fraction prior (an SD of at least 0.15 at a mean of 0.5)."""
MIN_BETA_PARAMETER = 2.0
"""Smallest ``alpha`` and ``beta`` of the shared-fraction prior (scaled up together, keeping the mean): no prior
mass piled at a share of 0 or 1. The corpus's shared fractions lie between 0.1 and 0.65, and a share near 1
(no category-specific variation) with large counts makes the posterior too sharply curved to sample: a few
divergences in 19 of 35 two-unit fits of English and Welsh crime tables with ``Beta(0.84, 1.41)``, none in 8
of them refitted with the parameters raised to 2."""
"""Fewest categories in a dataset-year for a shared-fraction estimate."""


def table_spreads() -> pd.DataFrame:
    """Spread, adjusted spread and log-population slope of every corpus table (see the module docstring)."""
    rows = []
    for dataset in DATASETS:
        frame = load_corpus(dataset)
        for (year, category), g in frame.groupby(["year", "category"], sort=False):
            y = g["cases"].to_numpy(float)
            log_rate = np.log((y + 0.5) / g["population"].to_numpy(float))
            noise = float(np.mean(1.0 / (y + 0.5)))
            lp = np.log(g["population"].to_numpy(float))
            lp = lp - lp.mean()
            types = g["type"].to_numpy()
            levels = pd.Series(types).value_counts().index  # the most common type is the reference
            dummies = np.column_stack([(types == t).astype(float) for t in levels[1:]])
            ones = np.ones_like(lp)
            fits = {name: _residual_sd(log_rate, x, noise) for name, x in (
                ("sd", ones[:, None]), ("sd_adjusted", np.c_[ones, lp]),
                ("sd_within_type", np.c_[ones, dummies]), ("sd_adjusted_within_type", np.c_[ones, lp, dummies]))}
            sized = {}
            for suffix, x in (("", np.c_[ones, lp]), ("_raw", ones[:, None])):
                resid = log_rate - x @ np.linalg.lstsq(x, log_rate, rcond=None)[0]
                sized[f"sd_sized{suffix}"], sized[f"spread_slope{suffix}"] = _sized_spread(resid, 1.0 / (y + 0.5), lp)
            coef = np.linalg.lstsq(np.c_[ones, lp, dummies], log_rate, rcond=None)[0]
            slope = float(np.sum(lp * (log_rate - log_rate.mean())) / np.sum(lp**2))
            rows.append({
                "dataset": dataset, "year": year, "category": category, "units": len(y), "total": int(y.sum()),
                **fits, "slope": slope, "type_rms": float(np.sqrt(np.mean(coef[2:] ** 2))), **sized,
            })
    return pd.DataFrame(rows)


def _residual_sd(y: np.ndarray, x: np.ndarray, noise: float) -> float:
    """SD of the least-squares residuals of ``y`` on ``x`` less the Poisson part (0 if that is larger)."""
    resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    return float(np.sqrt(max(np.sum(resid**2) / (len(y) - x.shape[1]) - noise, 0.0)))


MIN_SIZED_SD = 0.01
"""A fitted SD below this is taken as zero (counts as Poisson as their noise), with no spread slope."""


def _sized_spread(resid: np.ndarray, noise: np.ndarray, lp: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood ``(sd, slope)`` of ``resid ~ Normal(0, noise + (sd * size_factor(slope, lp))**2)``."""
    from scipy.optimize import minimize

    from extent.models.counts.builder import size_factor

    def nll(p):
        v = noise + (np.exp(p[0]) * size_factor(p[1], lp)) ** 2
        return 0.5 * np.sum(np.log(v) + resid**2 / v)

    start = [np.log(max(np.std(resid), 0.05)), 0.0]
    fit = minimize(nll, start, method="L-BFGS-B", bounds=[(np.log(1e-3), np.log(5.0)), (-2.0, 2.0)])
    sd = float(np.exp(fit.x[0]))
    return (0.0, float("nan")) if sd < MIN_SIZED_SD else (sd, float(fit.x[1]))


def shared_fractions() -> pd.DataFrame:
    """Share of the (log-population adjusted) between-unit variance shared across categories, per dataset-year.

    Only dataset-years with at least :data:`MIN_CATEGORIES` categories over the same units count.
    """
    rows = []
    for dataset in DATASETS:
        frame = load_corpus(dataset)
        for year, g in frame.groupby("year", sort=False):
            wide_y = g.pivot(index="unit", columns="category", values="cases").dropna()
            if wide_y.shape[1] < MIN_CATEGORIES:
                continue
            pop = g.drop_duplicates("unit").set_index("unit").loc[wide_y.index, "population"].to_numpy(float)
            y = wide_y.to_numpy(float)
            log_rate = np.log((y + 0.5) / pop[:, None])
            lp = np.log(pop) - np.log(pop).mean()
            centred = log_rate - log_rate.mean(axis=0)
            slopes = lp @ centred / np.sum(lp**2)
            resid = centred - lp[:, None] * slopes
            n, c = resid.shape
            noise = np.mean(1.0 / (y + 0.5), axis=0)
            total = np.maximum(np.sum(resid**2, axis=0) / (n - 2) - noise, 0.0).mean()
            row_mean = np.var(resid.mean(axis=1), ddof=1) - noise.sum() / c**2
            shared = max((row_mean - total / c) / (1 - 1 / c), 0.0)
            rows.append({"dataset": dataset, "year": year, "categories": c,
                         "shared_fraction": float(min(shared / total, 1.0)) if total > 0 else np.nan})
    return pd.DataFrame(rows)


def build_spread_table() -> pd.DataFrame:
    """The shipped table: one row per corpus table, with its dataset-year's shared fraction where there is one."""
    spreads = table_spreads()
    shared = shared_fractions()[["dataset", "year", "shared_fraction"]]
    return spreads.merge(shared, on=["dataset", "year"], how="left")


@lru_cache(maxsize=1)
def spread_table() -> pd.DataFrame:
    """The shipped spread table (``extent/datasets/corpus/spread_table.csv``)."""
    with resources.files("extent.datasets").joinpath("corpus", SPREAD_TABLE).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"year": str})


def _pooled(values: pd.Series, dataset: pd.Series) -> tuple[float, float]:
    """Mean and SD of a new table's value: dataset means weighted equally, between + mean within variance."""
    groups = values.groupby(dataset)
    means = groups.mean()
    within = groups.var(ddof=1).dropna()
    between = float(means.var(ddof=1)) if len(means) > 1 else 0.0
    return float(means.mean()), float(np.sqrt(between + (within.mean() if len(within) else 0.0)))


def corpus_priors(exclude: str | None = None, *, log_population: bool = True,
                  spread_by_size: bool = True) -> dict[str, Prior]:
    """Priors on the between-unit spread (and the log-population slope) from the corpus.

    Parameters
    ----------
    exclude : str, optional
        A corpus dataset left out of the derivation (leave-one-dataset-out validation).
    log_population : bool
        Whether the model has the log-population covariate: the spread prior then comes from the adjusted SDs.
    spread_by_size : bool
        Whether the model's spread depends on size: the spread prior is then the SD at the mean size, and
        ``spread_slope`` gets a prior.

    Returns
    -------
    dict of str to Prior
        ``unit_sd`` (LogNormal), ``shared_fraction`` (Beta), with ``log_population`` ``log_population``
        (Normal) and with ``spread_by_size`` ``spread_slope`` (Normal); rounded to two decimals (three for the
        Beta), as stated in the docs.
    """
    if exclude is not None and exclude not in DATASETS:
        raise ConfigError(f"unknown corpus dataset {exclude!r}; available: {', '.join(DATASETS)}")
    table = spread_table()
    if exclude is not None:
        table = table[table["dataset"] != exclude]
    suffix = "" if log_population else "_raw"
    sd = table[f"sd_sized{suffix}"] if spread_by_size else table["sd_adjusted" if log_population else "sd"]
    keep = sd > 0
    mu, sigma = _pooled(np.log(sd[keep]), table.loc[keep, "dataset"])
    priors = {"unit_sd": Prior("LogNormal", mu=round(mu, 2), sigma=round(sigma, 2))}
    if spread_by_size:
        m, s = _pooled(table.loc[keep, f"spread_slope{suffix}"], table.loc[keep, "dataset"])
        priors["spread_slope"] = Prior("Normal", mu=round(m, 2), sigma=round(s, 2))

    shared = table.drop_duplicates(["dataset", "year"]).dropna(subset=["shared_fraction"])
    m, s = _pooled(shared["shared_fraction"].clip(0.01, 0.99), shared["dataset"])
    # two or three dataset means estimate the between-dataset variance poorly: keep a + b within [2, 10]
    concentration = float(np.clip(m * (1 - m) / s**2 - 1, 2.0, MAX_CONCENTRATION))
    alpha, beta = m * concentration, (1 - m) * concentration
    scale = max(1.0, MIN_BETA_PARAMETER / alpha, MIN_BETA_PARAMETER / beta)
    priors["shared_fraction"] = Prior("Beta", alpha=round(alpha * scale, 3), beta=round(beta * scale, 3))
    if log_population:
        m, s = _pooled(table["slope"], table["dataset"])
        priors["log_population"] = Prior("Normal", mu=round(m, 2), sigma=round(s, 2))
    return priors


def main() -> None:
    """Write the spread table into the package and print the derived priors."""
    path = resources.files("extent.datasets").joinpath("corpus", SPREAD_TABLE)
    table = build_spread_table()
    table.to_csv(str(path), index=False, float_format="%.6g")
    spread_table.cache_clear()
    print(f"wrote {path} ({len(table)} tables)")
    for exclude in (None, *DATASETS):
        print(f"exclude={exclude}: " + ", ".join(f"{k} ~ {v}" for k, v in corpus_priors(exclude).items()))


if __name__ == "__main__":
    main()
