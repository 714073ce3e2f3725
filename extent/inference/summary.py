"""The parameter table of a posterior: one row per scalar, equal-tailed intervals."""

from __future__ import annotations

import itertools

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

SAMPLE_DIMS = ("chain", "draw")


def parameter_summary(posterior: xr.Dataset, names: list[str], level: float) -> pd.DataFrame:
    """Mean, sd, median, equal-tailed ``level`` interval, bulk/tail ESS and R-hat of each parameter.

    Parameters
    ----------
    posterior : xarray.Dataset
        Draws with dimensions ``chain`` and ``draw``.
    names : list of str
        Variables of ``posterior`` to summarise; one row per element, labelled ``name[coord, ...]``.
    level : float
        Interval probability: the ``eti_`` columns are the ``(1 - level) / 2`` and ``(1 + level) / 2``
        quantiles of the draws (not a highest-density interval).

    Returns
    -------
    pandas.DataFrame
        Columns ``mean, sd, median, eti_<lo>%, eti_<hi>%, ess_bulk, ess_tail, r_hat``.
    """
    post = posterior[names]
    lo, hi = (1 - level) / 2, (1 + level) / 2
    stats = {
        "mean": post.mean(SAMPLE_DIMS),
        "sd": post.std(SAMPLE_DIMS),
        "median": post.median(SAMPLE_DIMS),
        f"eti_{lo:.1%}": post.quantile(lo, SAMPLE_DIMS).drop_vars("quantile"),
        f"eti_{hi:.1%}": post.quantile(hi, SAMPLE_DIMS).drop_vars("quantile"),
        "ess_bulk": az.ess(post, method="bulk"),
        "ess_tail": az.ess(post, method="tail"),
        "r_hat": az.rhat(post),
    }
    rows = {}
    for name in names:
        extra = [d for d in posterior[name].dims if d not in SAMPLE_DIMS]
        coords = itertools.product(*(posterior[name][d].values for d in extra))
        labels = [f"{name}[{', '.join(map(str, c))}]" for c in coords] if extra else [name]
        values = {k: np.ravel(v[name].transpose(*extra).values) for k, v in stats.items()}
        for i, label in enumerate(labels):
            rows[label] = {k: float(v[i]) for k, v in values.items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(stats))
