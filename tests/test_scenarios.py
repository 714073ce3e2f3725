"""Detection-rate scenarios: known cases to all cases under a stated assumption (no MCMC)."""

import numpy as np
import pytest

from extent.exceptions import ConfigError
from extent.measure_result import MeasureResult
from extent.scenarios import DetectionRate, detection_scenario


def known(counts, scale="rate", name="rate_2003"):
    draws = np.asarray(counts, float).reshape(1, -1)
    return MeasureResult("trend", "HMRC 'prosecutions'", {name: draws, "growth": draws * 0 + 0.3},
                         {name: scale, "growth": "proportion"})


def test_a_fixed_detection_rate_divides_known_cases():
    res = detection_scenario(known(np.full(4000, 1000.0)), DetectionRate.log_uniform(0.1, 0.1), seed=1)
    iv = res.interval("scenario_all_rate_2003")
    # N - K ~ NegBin(K + 1, p): mean K + (K + 1)(1 - p) / p = 10,009, sd sqrt((K + 1)(1 - p)) / p = 300
    assert iv.estimate == pytest.approx(10_009, rel=0.01)
    assert iv.upper - iv.lower == pytest.approx(2 * 1.645 * 300, rel=0.1)
    assert res.quantities == ["scenario_all_rate_2003"]  # the share is not a count and is left alone


def test_small_counts_follow_the_negative_binomial_exactly():
    res = detection_scenario(known(np.full(40_000, 5.0)), DetectionRate.log_uniform(0.5, 0.5), seed=2)
    draws = res.draws["scenario_all_rate_2003"].ravel()
    assert draws.min() >= 5  # never fewer than the known cases
    assert draws.mean() == pytest.approx(5 + 6 * 0.5 / 0.5, rel=0.02)


def test_the_interval_is_as_wide_as_the_assumption():
    res = detection_scenario(known(np.full(4000, 100.0)), DetectionRate.log_uniform(0.01, 0.1), seed=3)
    iv = res.interval("scenario_all_rate_2003")
    # log-uniform over a factor of ten: the 5% and 95% quantiles of 1/p are 10^(1 + 0.05) and 10^(1 + 0.95)
    assert iv.lower == pytest.approx(100 * 10**1.05, rel=0.05)
    assert iv.upper == pytest.approx(100 * 10**1.95, rel=0.05)
    beta = detection_scenario(known(np.full(4000, 100.0)), DetectionRate.beta(2, 18), seed=3)
    assert np.mean(1 / beta.draws["scenario_all_rate_2003"].ravel() * 100) == pytest.approx(0.1, rel=0.05)


def test_a_scenario_says_it_is_one():
    res = detection_scenario(known(np.full(1000, 30.0)),
                             DetectionRate.parse("1%,10%", basis="a judgement, not data"), seed=4)
    text = res.citation("scenario_all_rate_2003")
    assert text.startswith("SCENARIO, not an estimate: assuming a detection rate between 1% and 10%")
    assert "a judgement, not data" in text and "credible interval" not in text
    assert res.is_scenario and not known([1.0]).is_scenario


@pytest.mark.parametrize(("text", "message"), [
    ("10%,1%", "0 < low <= high <= 1"),
    ("0,0.1", "0 < low <= high <= 1"),
    ("1%", "give LOW,HIGH"),
    ("a,b", "must be numbers"),
    ("beta:0,3", "positive alpha and beta"),
])
def test_bad_detection_rates_are_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        DetectionRate.parse(text)


def test_parse_reads_percentages_and_beta():
    assert DetectionRate.parse("0.1%, 10%") == DetectionRate.log_uniform(0.001, 0.1)
    assert DetectionRate.parse("beta:2,18") == DetectionRate.beta(2, 18)


def test_only_counts_are_scaled():
    with pytest.raises(ConfigError, match="'growth' is not among rate_2003"):
        detection_scenario(known([3.0]), DetectionRate.log_uniform(0.1, 0.5), quantities=["growth"])
