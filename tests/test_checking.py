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


@pytest.mark.sampling
def test_compare_variants_scores_the_variants_by_loo(fit):
    from extent.checking import compare_variants

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = compare_variants(fit)
    # six categories, no covariates: where the spread sits, and log population, are the variants that matter
    assert set(cmp.loo.index) == {"fitted", "nearly Poisson counts (all spread shared)",
                                  "category-specific spread only", "without log population"}
    assert cmp.loo["rank"].min() == 0 and np.isfinite(cmp.loo["elpd_loo"]).all()
    assert cmp.loo["elpd_diff"].min() == 0  # the best variant's difference to itself
    assert set(cmp.fits) == set(cmp.loo.index)
    nat = cmp.national.set_index(["variant", "category"])
    assert len(nat) == 4 * len(fit.categories)
    c = fit.categories[0]
    assert nat.loc[("fitted", c), "estimate"] == pytest.approx(fit.interval(c).estimate)
    # the shared fraction's prior really moved: nearly all of the spread is shared in the first variant
    shared = cmp.fits["nearly Poisson counts (all spread shared)"].idata.posterior["shared_fraction"]
    specific = cmp.fits["category-specific spread only"].idata.posterior["shared_fraction"]
    assert float(shared.mean()) > 0.98 and float(specific.mean()) < 0.02


@pytest.mark.sampling
def test_prior_checks_give_prior_predictive_cells_and_totals(fit):
    from extent.checking import prior_checks, prior_predictive_table

    idata = prior_checks(fit, draws=300)
    n_cells = len(fit.data.counts)
    assert idata.prior_predictive["cases"].shape == (1, 300, n_cells)
    totals = idata.prior_predictive["national_total"]
    assert totals.sizes == {"chain": 1, "draw": 300, "category": len(fit.categories)}
    # every prior total includes the searched units' own counts
    observed = fit.data.counts.groupby("category")["cases"].sum()
    assert (totals.min(dim=("chain", "draw")).to_series() >= observed.reindex(totals.category.values)).all()
    table = prior_predictive_table(idata, fit).set_index("category")
    # the priors alone allow a far wider range than the fit: the data, not the prior, set these intervals
    assert ((table["prior_upper"] - table["prior_lower"]) > 3 * (table["upper"] - table["lower"])).all()


def test_a_saved_fit_opens_in_arviz_alone(fit, tmp_path):
    """The fit file is plain InferenceData: named dims, the model's parameters (no transformed ``*_log__``
    values) and the national totals in ``predictions/national_total``."""
    idata = az.from_netcdf(str(fit.to_netcdf(tmp_path / "fit.nc")))
    assert {"posterior", "sample_stats", "predictions"} <= set(idata.groups())
    assert not [g for g in idata.groups() if "index" in idata[g].dims]
    summary = az.summary(idata)
    assert not [name for name in summary.index if "__" in name]
    assert {"unit_sd", "shared_fraction", "shared_sd", "dispersion", "log_rate[internet_cai]"} <= set(summary.index)
    assert summary.loc["unit_sd", "mean"] == pytest.approx(float(fit.idata.posterior["unit_sd"].mean()), abs=5e-4)
    national = idata.predictions["national_total"]
    assert national.dims == ("chain", "draw", "category")
    assert float(national.sel(category="internet_cai").median()) == pytest.approx(
        fit.interval("internet_cai", "total").estimate)
    assert "unit_sd_log__" in fit.idata.posterior  # only the file leaves the sampler's internals out


@pytest.mark.sampling
def test_a_saved_fit_with_its_model_checks_opens_in_arviz_alone(fit, tmp_path):
    path = fit.to_netcdf(tmp_path / "fit.nc", keep_counts=True, model_checks=True)
    idata = az.from_netcdf(str(path))
    assert {"posterior", "log_likelihood", "posterior_predictive", "observed_data"} <= set(idata.groups())
    loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo) and loo.n_data_points == len(fit.data.counts)
    assert not [v for v in az.summary(idata, kind="stats").index if "_log__" in v or "_logodds__" in v]
    again = extent.ExtentResult.from_netcdf(path)  # still our file: checksum and diagnostics recheck pass
    assert again.interval(fit.categories[0]).estimate == pytest.approx(fit.interval(fit.categories[0]).estimate)
    with pytest.raises(ConfigError, match="needs keep_counts=True"):
        fit.to_netcdf(tmp_path / "no.nc", model_checks=True)
    assert not (tmp_path / "no.nc").exists()
