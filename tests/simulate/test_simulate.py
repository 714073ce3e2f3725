"""The simulator: frames, designs, scenarios, seeds and the truth (no MCMC)."""

from __future__ import annotations

import numpy as np
import pytest

from extent.constants import RATE_SCALE
from extent.datasets import (
    EW_POPULATION_2001,
    NI_POPULATION_2001,
    SCOTLAND_POPULATION_2001,
)
from extent.exceptions import ConfigError
from extent.simulate import (
    DESIGNS,
    Scenario,
    SearchDesign,
    get_design,
    simulate_country,
    uk_frame,
)


def test_uk_frame_has_52_forces_with_the_2001_uk_population():
    frame = uk_frame()
    assert len(frame) == 52
    assert (frame["type"] == "metropolitan").sum() == 7
    total = EW_POPULATION_2001 + SCOTLAND_POPULATION_2001 + NI_POPULATION_2001
    assert abs(frame["population"].sum() - total) <= 52
    assert frame.loc[frame["unit"] == "Metropolitan Police", "population"].iloc[0] > 7_000_000


@pytest.mark.parametrize(("design", "n_metro", "n_total"), [("report2", 1, 2), ("report3", 1, 3)])
def test_report_designs_search_one_metropolitan_force(design, n_metro, n_total):
    country = simulate_country(design=design, seed=3)
    units = country.data.units
    searched = country.data.searched_units
    assert len(searched) == n_total
    assert (units.loc[searched, "type"] == "metropolitan").sum() == n_metro
    assert searched == country.truth.searched


def test_random_design_size_and_validation():
    country = simulate_country(design="random10", seed=1)
    assert len(country.data.searched_units) == 10
    with pytest.raises(ConfigError, match="give both n_metropolitan and n_shire"):
        SearchDesign("half", n_metropolitan=1)
    with pytest.raises(ConfigError, match="not both"):
        SearchDesign("both", n_metropolitan=1, n_shire=1, n_searched=2)
    with pytest.raises(ConfigError, match="unknown design 'nope'"):
        get_design("nope")
    with pytest.raises(ConfigError, match="8 metropolitan units wanted but the frame has 7"):
        simulate_country(design=SearchDesign("many", n_metropolitan=8, n_shire=0), seed=0)
    assert set(DESIGNS) == {"report2", "report3", "random5", "random10"}


def test_scenario_validation_lists_every_problem():
    with pytest.raises(ConfigError, match=r"rates must be > 0.*shared_sd must be >= 0"):
        Scenario(rates={"a": -1.0}, shared_sd=-0.1)


def test_same_seed_same_country_and_truth_is_consistent():
    a = simulate_country(design="report3", seed=np.random.SeedSequence(5))
    b = simulate_country(design="report3", seed=np.random.SeedSequence(5))
    c = simulate_country(design="report3", seed=np.random.SeedSequence(6))
    assert a.data.counts.equals(b.data.counts) and a.truth.national == b.truth.national
    assert a.truth.national != c.truth.national
    cases = a.truth.cases
    for cat, total in a.truth.national.items():
        assert cases.loc[cases["category"] == cat, "cases"].sum() == total
    merged = a.data.counts.merge(cases, on=["unit", "category"], suffixes=("", "_truth"))
    assert len(merged) == 9 and (merged["cases"] == merged["cases_truth"]).all()
    assert a.data.counts["years"].eq(4.0).all()


def test_force_effects_are_mean_one_on_the_rate_scale():
    # large shared_sd: a median-one effect would put the mean total exp(0.8**2/2) = 1.38 times higher
    scenario = Scenario(rates={"x": 2.0}, shared_sd=0.8, dispersion=0.0, metropolitan_ratio=1.0, years=1)
    pop = uk_frame()["population"].sum()
    expected = pop / RATE_SCALE * 2.0
    ratios = [simulate_country(scenario, "random5", seed=s).truth.national["x"] / expected for s in range(50)]
    assert abs(np.mean(ratios) - 1.0) < 0.08
    assert np.std(ratios) > 0.1  # the force effects do vary


def test_truth_from_prior_draws_hyperparameters_and_records_them():
    scenario = Scenario.prior(categories=("a", "b"))
    draws = [simulate_country(scenario, "report2", seed=s).truth for s in range(20)]
    sds = np.array([t.shared_sd for t in draws])
    assert sds.min() >= 0 and sds.std() > 0.1
    assert set(draws[0].hyperparameters()) == {"shared_sd", "dispersion", "type_effect", "log_rate[a]", "log_rate[b]"}
    assert len({t.log_rate["a"] for t in draws}) == 20


def test_time_trend_changes_counts_but_not_structure():
    flat = simulate_country(Scenario(trend=0.0), "report2", seed=2)
    rising = simulate_country(Scenario(trend=0.3, trend_sd=0.2), "report2", seed=2)
    assert flat.truth.searched == rising.truth.searched
    assert flat.truth.national != rising.truth.national
