"""Small seeded fits of the hierarchical model on the report's data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from extent.datasets import REPORT_CATEGORIES
from extent.estimators import HierarchicalExtent, NaiveScaling
from extent.exceptions import ConvergenceError, ConvergenceWarning
from extent.inference import SamplerConfig

pytestmark = pytest.mark.sampling

SMALL = SamplerConfig(draws=400, tune=400, chains=2, random_seed=7)


@pytest.fixture(scope="module")
def fit(report):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return HierarchicalExtent(sampler=SMALL).fit(report.data)


def test_naive_figure_inside_interval(report, fit):
    naive = NaiveScaling().fit(report.data)
    for c in REPORT_CATEGORIES:
        iv = fit.interval(c, "per_annum", 0.9)
        n = naive.interval(c, "per_annum").estimate
        assert iv.lower < n < iv.upper, (c, iv, n)
        assert 0.7 < iv.estimate / n < 1.6, (c, iv, n)


def test_totals_include_observed_counts(report, fit):
    observed = report.data.counts.groupby("category")["cases"].sum()
    for c in REPORT_CATEGORIES:
        assert fit.national.sel(category=c).min() >= observed[c]


def test_diagnostics_recorded(fit):
    d = fit.diagnostics
    assert d.chains == 2 and d.draws == 400
    assert d.max_rhat < 1.05
    assert d.min_ess_bulk > 100
    assert fit.settings["sampler"]["random_seed"] == 7
    assert set(fit.idata.posterior.data_vars) >= {"log_rate", "log_mean_rate", "shared_sd", "dispersion"}


def test_same_seed_same_numbers(report, fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = HierarchicalExtent(sampler=SMALL).fit(report.data)
    np.testing.assert_array_equal(again.national.values, fit.national.values)


def test_fewer_forces_wider_intervals(report):
    """Dropping shire county 2 (three forces -> two) widens the relative interval of the CAI total.

    Fitted alone: with the other categories in the model, shire county 2's zero grooming count rightly raises
    the shared between-unit spread, which can widen CAI's interval even though its three CAI rates agree."""
    cai = report.data.subset(["internet_cai"])
    two = cai.with_counts(cai.counts[cai.counts["unit"] != "shire_county_2"])
    widths = []
    for data in (cai, two):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            iv = HierarchicalExtent(sampler=SMALL).fit(data).interval("internet_cai", "total")
        widths.append(iv.upper / iv.lower)
    assert widths[1] > widths[0], widths


def test_unconverged_fit_warns_loudly_or_raises(report):
    tiny = SamplerConfig(draws=20, tune=20, chains=2, random_seed=1)
    data = report.data.subset(["internet_grooming"])
    with pytest.warns(ConvergenceWarning, match="UNRELIABLE"):
        HierarchicalExtent(sampler=tiny).fit(data)
    with pytest.raises(ConvergenceError, match="UNRELIABLE"):
        HierarchicalExtent(sampler=tiny, strict=True).fit(data)


def test_summary_table(fit):
    s = fit.summary(0.9)
    assert list(s.columns) == ["mean", "sd", "median", "eti_5.0%", "eti_95.0%", "ess_bulk", "ess_tail", "r_hat"]
    assert "shared_sd" in s.index and "type_effect[metropolitan]" in s.index
    assert (s["eti_5.0%"] < s["median"]).all() and (s["median"] < s["eti_95.0%"]).all()
    # log_mean_rate = log_rate + shared_sd^2/2 draw by draw, so it is never below log_rate
    assert (s.filter(like="log_mean_rate", axis=0)["mean"].to_numpy()
            >= s.filter(like="log_rate[", axis=0)["mean"].to_numpy()).all()


@pytest.mark.sampling
def test_covariate_effect_is_recovered():
    """Simulated units with a known covariate effect (0.4 per SD) and size effect (0): both recovered."""
    import numpy as np
    import pandas as pd

    from extent.data import ExtentData
    from extent.estimators import HierarchicalExtent
    from extent.inference import SamplerConfig

    rng = np.random.default_rng(7)
    n = 60
    pop = rng.uniform(2e5, 2e6, n)
    urban = rng.normal(50, 10, n)
    z = (urban - urban.mean()) / urban.std()
    cases = rng.poisson(pop / 1e5 * 20 * np.exp(0.4 * z + 0.2 * rng.standard_normal(n)))
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(n)], "population": pop, "urban": urban})
    counts = pd.DataFrame({"unit": units["unit"][:40], "category": "x", "cases": cases[:40]})
    data = ExtentData.from_frames(units, counts, covariates=["urban"])
    fit = HierarchicalExtent(sampler=SamplerConfig(draws=500, tune=500, chains=2, random_seed=3)).fit(data)
    coef = fit.idata.posterior["coef"]
    urban_draws = coef.sel(covariate="urban").values.ravel()
    assert abs(urban_draws.mean() - 0.4) < 0.1
    assert np.quantile(urban_draws, 0.05) < 0.4 < np.quantile(urban_draws, 0.95)
    lp_draws = coef.sel(covariate="log_population").values.ravel()
    assert np.quantile(lp_draws, 0.05) < 0.0 < np.quantile(lp_draws, 0.95)
    iv = fit.interval("x", "total", level=0.9)
    assert iv.lower < cases.sum() < iv.upper


@pytest.mark.sampling
def test_prior_sensitivity_widens_with_a_wider_spread_prior(report, fit):
    est = HierarchicalExtent(sampler=SMALL)
    data = report.data.subset(["internet_grooming"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = est.fit(data)
        table = est.prior_sensitivity(data, base)
    row = table.iloc[0]
    assert row["wider_prior"] == "LogNormal(mu=0.063, sigma=0.47)"  # the default's median (-0.63) doubled
    assert row["width_ratio"] > 1.2 and row["wider_upper"] > row["upper"]
    assert base.settings["prior_sensitivity"][0]["width_ratio"] == row["width_ratio"]


def test_extrapolation_warning_when_only_the_largest_units_are_searched(report):
    from extent.estimators.hierarchical import warn_extrapolation
    from extent.exceptions import ExtrapolationWarning
    from extent.models import Design

    ungrouped = report.data.units.reset_index().drop(columns=["population_group", "population_group_cv"])
    base = type(report.data).from_frames(ungrouped, report.data.counts)
    units = base.units
    largest = units["population"].nlargest(3).index
    counts = pd.DataFrame({"unit": largest, "category": "x", "cases": [5, 6, 7]})
    data = base.with_counts(counts)
    with pytest.warns(ExtrapolationWarning, match="above the 75th percentile of the unsearched units on population"):
        warn_extrapolation(data, Design.from_data(data))
    mixed = base.with_counts(pd.DataFrame({"unit": [largest[0], units["population"].idxmin()], "category": "x",
                                                  "cases": [5, 1]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        warn_extrapolation(mixed, Design.from_data(mixed))


class _Sampled(Exception):
    pass


@pytest.mark.parametrize(("centered", "given", "tune", "target_accept"),
                         [(False, {}, 500, 0.99), (True, {}, 1000, 0.8),
                          (False, {"tune": 1500, "target_accept": 0.9}, 1500, 0.9)])
def test_the_estimator_chooses_tuning_and_target_acceptance_left_open(monkeypatch, centered, given, tune,
                                                                      target_accept):
    """A non-centred few-unit fit tunes for 500 steps (validated on the corpus), a centred one for 1,000; what the
    user sets is kept."""
    import extent.estimators.hierarchical as hierarchical
    from extent.data import ExtentData
    from extent.inference.config import DEFAULT_TUNE

    units = pd.DataFrame({"unit": list("abcdef"), "population": [1e5, 2e5, 3e5, 4e5, 5e5, 6e5]})
    counts = pd.DataFrame({"unit": list("abc") * 2, "category": ["x"] * 3 + ["y"] * 3,
                           "cases": [5, 9, 14, 2, 3, 7]})
    data = ExtentData.from_frames(units, counts, name="six units")
    seen = []

    def capture(model, sampler, **kwargs):
        seen.append(sampler)
        raise _Sampled

    monkeypatch.setattr(hierarchical, "sample", capture)
    assert SamplerConfig().tune is None and DEFAULT_TUNE == 1000
    with pytest.raises(_Sampled):
        HierarchicalExtent(sampler=SamplerConfig(**given), centered=centered).fit(data)
    assert (seen[0].tune, seen[0].target_accept) == (tune, target_accept)
