"""National totals of a survey fit: responders' returns plus predictive counts for everyone else.

Responders below their cap contribute their return, responders at the cap a draw from the predictive truncated
to ``y >= cap``, every other unit a predictive draw (:func:`survey_totals`; :func:`joint_totals` on the
record-search scale for the joint model of :func:`~extent.models.survey.builder.build_joint_model`).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr
from scipy import stats

from extent.constants import CHAIN, DRAW
from extent.data import ExtentData
from extent.data.survey import SurveyData


def _flat(idata: az.InferenceData, name: str) -> np.ndarray:
    post = idata.posterior
    x = post[name]
    return x.transpose(CHAIN, DRAW, *[d for d in x.dims if d not in (CHAIN, DRAW)]).values.reshape(
        post.sizes[CHAIN] * post.sizes[DRAW], -1)


def survey_totals(
    idata: az.InferenceData, survey: SurveyData, *, seed: int, delta: float | np.ndarray | None = None
) -> xr.DataArray:
    """Draws of the national total over the survey period.

    Responders below their cap contribute their return; responders at the cap a draw from the predictive
    truncated to ``y >= cap``; every other unit a predictive draw (non-responders' rate times ``exp(delta)``).

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior of a survey model (needs ``log_caseload``).
    survey : SurveyData
        The data fitted.
    seed : int
        Seeds the predictive draws.
    delta : float or array, optional
        Log rate ratio of non-responders to responders. ``None`` uses the posterior ``delta`` when the model
        has one, else 0; an array gives one value per draw.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw)``, name ``national_total``.
    """
    survey.require_returns()
    r = survey.responses.set_index("unit")
    resp = r[r["responded"] == 1]
    capped = resp[resp["returned"] >= resp["cap"]]
    exact = resp.drop(index=capped.index)
    return _totals(idata, survey, "log_caseload", dict(exact["returned"]), dict(capped["cap"]),
                   set(r.index[r["responded"] == 0]), seed=seed, delta=delta)


def joint_totals(
    idata: az.InferenceData, records: ExtentData, survey: SurveyData, *, category: str, seed: int,
    delta: float | np.ndarray | None = None,
) -> xr.DataArray:
    """Draws of the national total of ``category`` on the record-search scale over the search period.

    Searched units contribute their counts; every other unit a predictive draw from its posterior rate (which
    the survey informs, censoring included); surveyed non-responders' rate is times ``exp(delta)``.
    """
    records.require_counts()
    c = records.counts[records.counts["category"] == category]
    exact = dict(zip(c["unit"], c["cases"].astype(float)))
    r = survey.responses
    silent = set(r.loc[r["responded"] == 0, "unit"]) - set(exact)
    return _totals(idata, survey, "log_record_caseload", exact, {}, silent, seed=seed, delta=delta)


def _totals(idata, survey, variable, exact, capped, silent, *, seed, delta) -> xr.DataArray:
    post = idata.posterior
    n_chain, n_draw = post.sizes[CHAIN], post.sizes[DRAW]
    lam = np.exp(_flat(idata, variable))
    n = lam.shape[0]
    if delta is None:
        delta = _flat(idata, "delta")[:, 0] if "delta" in post else np.zeros(n)
    delta = np.broadcast_to(np.asarray(delta, float), (n,))
    units = [str(u) for u in survey.units.index]
    is_exact = np.array([u in exact for u in units])
    is_capped = np.array([u in capped for u in units])
    is_silent = np.array([u in silent for u in units])
    cap = np.array([capped.get(u, np.inf) for u in units], dtype=float)
    rng = np.random.default_rng(seed)
    scale = np.where(is_silent[None, :], np.exp(delta)[:, None], 1.0)
    free = ~(is_exact | is_capped)
    total = np.full(n, float(sum(exact.values())))
    total += rng.poisson((lam * scale)[:, free].sum(axis=1))
    if is_capped.any():
        mu = lam[:, is_capped]
        c = np.broadcast_to(cap[is_capped], mu.shape)
        lo = stats.poisson.cdf(c - 1, mu)
        u01 = lo + rng.uniform(size=mu.shape) * (1.0 - lo)
        draws = stats.poisson.ppf(np.minimum(u01, 1 - 1e-12), mu)
        total += np.maximum(draws, c).sum(axis=1)
    return xr.DataArray(total.reshape(n_chain, n_draw), dims=(CHAIN, DRAW),
                        coords={CHAIN: post[CHAIN].values, DRAW: post[DRAW].values}, name="national_total")
