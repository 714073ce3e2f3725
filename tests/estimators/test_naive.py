"""The naive estimator reproduces every published national figure within the report's rounding."""

from __future__ import annotations

import math

import pytest

from extent.datasets import REPORT_CATEGORIES
from extent.estimators import NaiveScaling
from extent.exceptions import ConfigError


@pytest.fixture(scope="module")
def naive(report):
    return NaiveScaling().fit(report.data)


@pytest.mark.parametrize("category", REPORT_CATEGORIES)
def test_reproduces_published_figures(report, naive, category):
    """Total within 0.5; per annum within 0.5 + 0.5/4 (the report divides its rounded total and truncates,
    e.g. 134/4 = 33.5 -> 33); per force per annum within 0.05 + that/52."""
    years = report.data.years(category)
    for estimand, tol in [("total", 0.5), ("per_annum", 0.5 + 0.5 / years), ("per_unit_per_annum", 0.05 + 0.625 / 52)]:
        published = report.published_value(category, estimand)
        if math.isnan(published):
            continue
        ours = naive.interval(category, estimand).estimate
        assert abs(ours - published) <= tol, (category, estimand, ours, published)


def test_cai_total_missing_from_report_is_filled(report, naive):
    assert math.isnan(report.published_value("internet_cai", "total"))
    assert naive.interval("internet_cai", "total").estimate == pytest.approx(4 * 1493, abs=2)


def test_implied_scaling_factors(report):
    """The report multiplies by about 19.2 (two forces, ~3 million) and 13.76 (three forces, ~4 million)."""
    est = NaiveScaling()
    assert est.factor(report.data, "international_csa_victim") == pytest.approx(19.2, abs=1e-3)
    assert est.factor(report.data, "internet_cai") == pytest.approx(13.76, abs=1e-3)
    for category in REPORT_CATEGORIES[:2]:
        implied = report.published_value(category, "total") / report.data.counts.query(
            "category == @category")["cases"].sum()
        assert 19.0 < implied < 19.3
    # with the stated round populations the factors would be 19.6 and 14.7: the report did not use them
    assert 58_789_194 / 3e6 == pytest.approx(19.6, abs=0.01)


def test_naive_has_no_interval(naive):
    row = naive.national_extent().iloc[0]
    assert math.isnan(row["lower"]) and math.isnan(row["upper"])
    assert naive.citation("internet_cai").endswith("(naive estimate, no interval).")


def test_bad_national_population():
    with pytest.raises(ConfigError, match="national_population must be > 0"):
        NaiveScaling(national_population=-1)


def test_naive_summary_lists_factors(naive):
    s = naive.summary()
    assert s.loc["internet_cai", "sampled_cases"] == 434
    assert s.loc["international_csa_victim", "scaling_factor"] == pytest.approx(19.2, abs=1e-3)


def test_naive_with_an_exposure_is_the_ratio_estimator():
    import pandas as pd

    from extent.data import ExtentData
    from extent.estimators import NaiveScaling

    units = pd.DataFrame({"unit": ["a", "b", "c"], "population": [1e6, 1e6, 1e6], "offences": [200.0, 100.0, 700.0]})
    counts = pd.DataFrame({"unit": ["a", "b"], "category": ["x", "x"], "cases": [6, 3]})
    res = NaiveScaling().fit(ExtentData.from_frames(units, counts, exposure="offences"))
    assert float(res.national.values.ravel()[0]) == pytest.approx(9 * 1000 / 300)


def test_naive_with_records_as_exposure_is_cases_per_record_times_national_exposure():
    import pandas as pd

    from extent.data import ExtentData
    from extent.estimators import NaiveScaling

    units = pd.DataFrame({"unit": ["a", "b", "c"], "population": [1e6, 1e6, 1e6], "offences": [200.0, 100.0, 700.0]})
    counts = pd.DataFrame({"unit": ["a", "b"], "category": ["x", "x"], "cases": [6, 3], "records": [300, 150],
                           "years": [2, 2]})
    res = NaiveScaling().fit(ExtentData.from_frames(units, counts, exposure="offences", records_exposure=True))
    assert float(res.national.values.ravel()[0]) == pytest.approx(9 / 450 * 1000 * 2)
