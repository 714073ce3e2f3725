"""Small seeded fits of the hierarchical model on the report's data."""

from __future__ import annotations

import warnings

import numpy as np
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
    assert set(fit.idata.posterior.data_vars) >= {"log_rate", "log_mean_rate", "force_sd", "dispersion"}


def test_same_seed_same_numbers(report, fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = HierarchicalExtent(sampler=SMALL).fit(report.data)
    np.testing.assert_array_equal(again.national.values, fit.national.values)


def test_fewer_forces_wider_intervals(report, fit):
    """Dropping shire county 2 (three forces -> two) widens the relative interval of the three-force categories."""
    two = report.data.counts[report.data.counts["unit"] != "shire_county_2"]
    data2 = type(report.data).from_frames(report.data.units.reset_index(), two)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit2 = HierarchicalExtent(sampler=SMALL).fit(data2)
    for c in ["internet_grooming", "internet_cai"]:
        w3 = fit.interval(c, "total").upper / fit.interval(c, "total").lower
        w2 = fit2.interval(c, "total").upper / fit2.interval(c, "total").lower
        assert w2 > w3, (c, w2, w3)


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
    assert "force_sd" in s.index and "type_effect[metropolitan]" in s.index
    assert (s["eti_5.0%"] < s["median"]).all() and (s["median"] < s["eti_95.0%"]).all()
    # log_mean_rate = log_rate + force_sd^2/2 draw by draw, so it is never below log_rate
    assert (s.filter(like="log_mean_rate", axis=0)["mean"].to_numpy()
            >= s.filter(like="log_rate[", axis=0)["mean"].to_numpy()).all()
