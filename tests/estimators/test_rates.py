"""Proportion, rate-comparison, trend and force-level estimators: exact values, known parameters, bad input."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from extent import BinomialProportion, CountTrend, PooledProportion, RateComparison, SamplerConfig
from extent.estimators.proportion import finite_population
from extent.exceptions import ConfigError, DataValidationError
from extent.measure_result import format_measure

TABLE14 = pd.DataFrame({"unit": ["charged", "cautioned", "nfa", "referred", "adult", "deceased"],
                        "successes": [7, 0, 1, 2, 2, 1], "trials": [59, 45, 38, 30, 23, 4]})


def test_binomial_matches_the_beta_posterior():
    res = BinomialProportion(combined="all").fit(TABLE14)
    iv = res.interval("all", 0.9)
    lo, hi = stats.beta(13.5, 186.5).ppf([0.05, 0.95])  # Jeffreys posterior of 13 of 199
    assert iv.lower == pytest.approx(lo, abs=0.003) and iv.upper == pytest.approx(hi, abs=0.003)
    assert res.observed["all"] == pytest.approx(13 / 199)
    assert res.observed["charged"] == pytest.approx(7 / 59)
    assert res.prob_below("cautioned", 0.05) > 0.9


def test_binomial_is_reproducible_and_seeded():
    a = BinomialProportion(seed=3).fit(TABLE14).interval("charged")
    b = BinomialProportion(seed=3).fit(TABLE14).interval("charged")
    c = BinomialProportion(seed=4).fit(TABLE14).interval("charged")
    assert a == b and a != c


def test_a_census_has_no_uncertainty_and_a_large_sample_little():
    census = BinomialProportion().fit(pd.DataFrame({"unit": ["u"], "successes": [7], "trials": [50],
                                                    "population": [50]}))
    iv = census.interval("u")
    assert iv.lower == iv.upper == pytest.approx(7 / 50)
    half = BinomialProportion().fit(pd.DataFrame({"unit": ["u"], "successes": [30], "trials": [100],
                                                  "population": [200]})).interval("u")
    infinite = BinomialProportion().fit(pd.DataFrame({"unit": ["u"], "successes": [30],
                                                      "trials": [100]})).interval("u")
    ratio = (half.upper - half.lower) / (infinite.upper - infinite.lower)
    assert ratio == pytest.approx(np.sqrt((200 - 100) / (200 - 1)), abs=0.08)  # the textbook correction


def test_finite_population_draws_stay_between_the_bounds():
    rng = np.random.default_rng(0)
    share = finite_population(rng.beta(3, 30, 1000), 2, 35, 150, rng)
    assert share.min() >= 2 / 150 and share.max() <= (2 + 115) / 150


def test_rate_comparison_binomial_and_poisson():
    res = RateComparison().fit(pd.DataFrame({"unit": ["table14", "ore"], "events": [3, 32],
                                             "trials": [199, 7272]}))
    assert res.observed["ratio"] == pytest.approx((3 / 199) / (32 / 7272))
    assert 0.9 < res.prob_above("difference", 0) < 1.0
    iv = res.interval("ratio")
    assert iv.lower < 3.43 < iv.upper
    pois = RateComparison().fit(pd.DataFrame({"unit": ["2002", "1999"], "events": [310, 199],
                                              "exposure": [7 / 12, 1.0]}))
    assert pois.observed["ratio"] == pytest.approx(310 / (7 / 12) / 199)
    assert pois.prob_above("ratio", 2.0) > 0.99


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"unit": ["a"], "successes": [5], "trials": [3]}), "row 1, column 'successes'"),
    (pd.DataFrame({"unit": ["a"], "successes": [1.5], "trials": [3]}), "not a whole number"),
    (pd.DataFrame({"unit": ["a"], "successes": [1], "trials": [0]}), "must be > 0"),
    (pd.DataFrame({"unit": ["a", "a"], "successes": [1, 1], "trials": [3, 3]}), "appears twice"),
    (pd.DataFrame({"unit": ["a"], "successes": [1], "trials": [10], "population": [5]}), "smaller than"),
    (pd.DataFrame({"unit": ["a"], "successes": [1], "n": [10]}), "missing column 'trials'"),
])
def test_bad_proportion_tables_are_refused_naming_row_and_column(frame, message):
    with pytest.raises(DataValidationError, match=message):
        BinomialProportion().fit(frame, source="props.csv")


def test_bad_series_and_rate_tables_are_refused():
    with pytest.raises(DataValidationError, match="at least three years"):
        CountTrend().fit(pd.DataFrame({"year": [2000, 2001], "count": [1, 2]}))
    with pytest.raises(DataValidationError, match="more than one year"):
        CountTrend().fit(pd.DataFrame({"year": [2000, 2001, 2002], "count": [1, 2, 3], "exposure": [1, 1, 2]}))
    with pytest.raises(DataValidationError, match="appears twice"):
        CountTrend().fit(pd.DataFrame({"year": [2000, 2000, 2002], "count": [1, 2, 3]}))
    with pytest.raises(DataValidationError, match="exactly one of"):
        RateComparison().fit(pd.DataFrame({"unit": ["a", "b"], "events": [1, 2]}))
    with pytest.raises(DataValidationError, match="exactly two rows"):
        RateComparison().fit(pd.DataFrame({"unit": ["a"], "events": [1], "trials": [4]}))
    with pytest.raises(ConfigError, match="family"):
        CountTrend(family="gaussian")
    with pytest.raises(ConfigError, match="at least two rows"):
        PooledProportion().fit(TABLE14.iloc[:1])


def test_measures_are_formatted_for_people():
    assert format_measure(0.0653, "proportion") == "6.5%"
    assert format_measure(0.00065, "proportion") == "0.065%"
    assert format_measure(93.0, "ratio") == "93"
    assert format_measure(2.674, "ratio") == "2.67"
    assert format_measure(1493.2, "rate") == "1,493"
    assert format_measure(0.012, "difference") == "1.2 points"


FAST = SamplerConfig(random_seed=5, draws=400, tune=400, chains=2)


@pytest.mark.sampling
def test_trend_recovers_a_known_growth_with_a_part_year():
    rng = np.random.default_rng(11)
    years = np.arange(2000, 2008)
    exposure = np.ones(len(years))
    exposure[-1] = 0.5
    truth = 0.3
    counts = rng.poisson(80 * np.exp(truth * (years - 2000)) * exposure)
    res = CountTrend(family="poisson", sampler=FAST).fit(pd.DataFrame({"year": years, "count": counts,
                                                                       "exposure": exposure}))
    iv = res.interval("growth", 0.9)
    assert iv.lower < np.expm1(truth) < iv.upper
    assert abs(iv.estimate - np.expm1(truth)) < 0.05
    assert res.converged
    proj = res.interval("projection_2008", 0.9)
    assert proj.lower < 80 * np.exp(truth * 8) < proj.upper


@pytest.mark.sampling
def test_pooled_shares_shrink_towards_the_typical_share():
    res = PooledProportion(sampler=FAST.with_(chains=4, draws=1000, tune=1000)).fit(TABLE14)
    pooled, alone = res.interval("deceased"), BinomialProportion().fit(TABLE14).interval("deceased")
    assert pooled.estimate < alone.estimate  # 1 of 4 is pulled towards the others' 6%
    assert (pooled.upper - pooled.lower) < (alone.upper - alone.lower)
    assert 0.02 < res.interval("typical").estimate < 0.12
