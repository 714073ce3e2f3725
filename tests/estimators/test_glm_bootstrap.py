"""The quasi-Poisson GLM bootstrap: its plug-in total is the GLM's, and it is cited as a bootstrap interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from extent.data import ExtentData
from extent.estimators import PoissonGLMBootstrap
from extent.exceptions import ConfigError


def _data(types=None) -> ExtentData:
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(10)], "population": np.linspace(1e5, 1e6, 10)})
    if types is not None:
        units["type"] = types
    counts = pd.DataFrame({
        "unit": ["u0", "u3", "u7", "u0", "u3", "u7", "u9"],
        "category": ["rare", "rare", "rare", "common", "common", "common", "common"],
        "cases": [2, 9, 4, 40, 71, 150, 120],
        "years": [3.0, 3.0, 3.0, 2.0, 2.0, 2.0, 2.0],
    })
    return ExtentData.from_frames(units, counts, name="glm")


def test_plug_in_total_is_the_poisson_mle_prediction():
    """One rate per category: the MLE is cases / exposure, so the plug-in total has a closed form."""
    data = _data()
    res = PoissonGLMBootstrap(n_boot=200, random_seed=1).fit(data)
    pop = data.units["population"]
    for category in ("rare", "common"):
        cells = data.counts[data.counts["category"] == category]
        years = cells["years"].iloc[0]
        rate = cells["cases"].sum() / (pop[cells["unit"]].sum() * years)
        unsearched = pop.drop(cells["unit"]).sum() * years
        expected = cells["cases"].sum() + rate * unsearched
        assert res.plug_in[category] == pytest.approx(expected, rel=1e-9)
        iv = res.interval(category, "total")
        assert iv.estimate == pytest.approx(expected, rel=1e-9)  # the displayed estimate is the plug-in
        assert res.interval(category, "per_annum").estimate == pytest.approx(expected / years, rel=1e-9)
        assert iv.lower < iv.estimate < iv.upper
        assert iv.estimate != pytest.approx(float(res.national.sel(category=category).median()), rel=1e-6)
    again = PoissonGLMBootstrap(n_boot=200, random_seed=1).fit(data)
    np.testing.assert_array_equal(res.national.values, again.national.values)


def test_plug_in_total_with_a_type_effect_matches_a_direct_likelihood_fit():
    types = ["city", "rural"] * 5  # u0, u9 ... : searched units cover both types
    data = _data(types)
    res = PoissonGLMBootstrap(n_boot=100, random_seed=2).fit(data)
    assert res.settings["type_effect"] is True
    units, counts = data.units, data.counts
    cats = ["common", "rare"]
    reference = units["type"].value_counts().index[0]

    def log_mean(beta, unit, category, years):
        t = (units.loc[unit, "type"].to_numpy() != reference).astype(float)
        c = np.array([cats.index(x) for x in category])
        return beta[c] + beta[2] * t + np.log(units.loc[unit, "population"].to_numpy() * years / 1e5)

    y = counts["cases"].to_numpy(float)
    args = (counts["unit"], counts["category"], counts["years"].to_numpy(float))
    nll = lambda b: float(np.sum(np.exp(log_mean(b, *args)) - y * log_mean(b, *args)))  # noqa: E731
    beta = optimize.minimize(nll, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    for category in cats:
        cells = counts[counts["category"] == category]
        rest = units.index.difference(cells["unit"])
        pred = np.exp(log_mean(beta, rest, [category] * len(rest), cells["years"].iloc[0])).sum()
        assert res.interval(category, "total").estimate == pytest.approx(cells["cases"].sum() + pred, rel=1e-6)


def test_citation_says_bootstrap_interval_and_the_plug_in():
    res = PoissonGLMBootstrap(n_boot=200, random_seed=1).fit(_data())
    assert res.interval_kind == "bootstrap"
    iv = res.interval("common", "per_annum", 0.9)
    text = res.citation("common", 0.9)
    assert text == (f"common: about {iv.estimate:,.0f} known cases per annum nationally "
                    f"(90% bootstrap interval {iv.lower:,.0f} to {iv.upper:,.0f}).")
    assert "credible" not in text


def test_too_few_replicates_is_refused():
    with pytest.raises(ConfigError, match="n_boot must be an integer >= 20"):
        PoissonGLMBootstrap(n_boot=5)
