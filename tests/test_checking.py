"""Model checking: the log-likelihood and posterior predictive groups that ArviZ's checks need."""

import warnings

import arviz as az
import numpy as np
import pytest

import extent
from extent.exceptions import ConfigError


@pytest.fixture(scope="module")
def fit(report):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return extent.HierarchicalExtent(sampler=extent.SamplerConfig(draws=150, tune=150, chains=2,
                                                                      random_seed=4)).fit(report.data)


@pytest.mark.sampling
def test_model_checks_add_the_groups_loo_and_ppc_need(fit):
    idata = extent.model_checks(fit)
    n_cells = len(fit.data.counts)
    assert idata.log_likelihood["cases"].shape == (2, 150, n_cells)
    assert idata.posterior_predictive["cases"].shape == (2, 150, n_cells)
    np.testing.assert_array_equal(idata.observed_data["cases"].values, fit.data.counts["cases"].to_numpy())
    assert "log_likelihood" not in fit.idata.groups()  # the fit itself is unchanged

    # the pointwise log-likelihood sums to the model's own log density of the counts at that draw
    model = extent.HierarchicalExtent(priors=fit.settings["priors"], centered=fit.settings["centered"]).build(fit.data)
    logp = model.compile_logp(vars=[model["cases"]], sum=True)
    post = idata.posterior.isel(chain=1, draw=17)
    point = {v.name: post[v.name].values for v in model.value_vars}
    assert float(idata.log_likelihood["cases"].isel(chain=1, draw=17).sum()) == pytest.approx(float(logp(point)),
                                                                                               rel=1e-9)

    loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo) and 0 < loo.p_loo < n_cells
    # predictive draws are counts around what was observed: every observed count inside its 99.9% band
    pp = idata.posterior_predictive["cases"].values.reshape(-1, n_cells)
    lo, hi = np.quantile(pp, [0.0005, 0.9995], axis=0)
    obs = fit.data.counts["cases"].to_numpy()
    assert (pp >= 0).all() and ((obs >= lo) & (obs <= hi)).all()


@pytest.mark.sampling
def test_model_checks_refuse_withheld_counts_and_point_estimates(fit, report, tmp_path):
    back = extent.ExtentResult.from_netcdf(fit.to_netcdf(tmp_path / "fit.nc"))  # counts withheld by default
    with pytest.raises(ConfigError, match="withholds"):
        extent.model_checks(back)
    with pytest.raises(ConfigError, match="hierarchical fit"):
        extent.model_checks(extent.NaiveScaling().fit(report.data))
