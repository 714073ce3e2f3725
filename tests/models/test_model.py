"""Model graph: names, coords, dims, priors and a finite log density, without sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from extent.data import ExtentData
from extent.estimators import HierarchicalExtent
from extent.exceptions import ConfigError, DataValidationError, PriorConfigError
from extent.models import DEFAULT_PRIORS, Design, build_extent_model
from extent.priors import Prior


def test_report_model_structure(report):
    model = build_extent_model(report.data)
    assert list(model.coords["category"]) == list(report.data.categories)
    assert list(model.coords["unit"]) == ["metropolitan", "shire_county_1", "shire_county_2"]
    assert list(model.coords["type"]) == ["metropolitan"]  # shire is the reference level
    free = {v.name for v in model.free_RVs}
    assert free == {"log_rate", "unit_sd", "shared_fraction", "unit_z", "type_effect", "log_population_coef",
                    "population_split_z", "population_total_z", "spread_slope"}
    assert {v.name for v in model.deterministics} == {"log_mean_rate", "unit_offset", "shared_sd", "dispersion",
                                                       "coef", "population_error"}
    assert list(model.coords["covariate"]) == ["log_population"]
    assert model.named_vars_to_dims["log_rate"] == ("category",)
    assert model.named_vars_to_dims["cases"] == ("cell",)
    assert model["cases_data"].get_value().tolist() == report.data.counts["cases"].tolist()
    assert "spread_slope" not in {v.name for v in build_extent_model(report.data, spread_by_size=False).free_RVs}


def test_logp_and_gradient_finite_at_initial_point(report):
    model = build_extent_model(report.data)
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    grads = model.compile_dlogp()(point)
    assert np.all(np.isfinite(grads))


def test_logp_matches_hand_computation():
    """One Poisson-limit cell: NB logp with tiny dispersion equals the Poisson log pmf."""
    units = pd.DataFrame({"unit": ["a"], "population": [1e5]})
    counts = pd.DataFrame({"unit": ["a"], "category": ["x"], "cases": [3]})
    model = build_extent_model(ExtentData.from_frames(units, counts), log_population=False)
    point = model.initial_point()
    point["log_rate"] = np.array([np.log(2.0)])
    point["unit_z"] = np.array([0.0])
    point["unit_sd_log__"] = np.array(np.log(0.3))
    point["shared_fraction_logodds__"] = np.array(20.0)  # all variance shared: dispersion ~ 0
    logp = model.compile_logp(vars=[model["cases"]])(point)
    expected = 3 * np.log(2.0) - 2.0 - np.log(6.0)  # Poisson(3 | 2)
    assert logp == pytest.approx(expected, abs=1e-4)


def test_type_effect_only_with_two_types(report):
    units = report.data.units.reset_index().drop(columns="type")
    data = ExtentData.from_frames(units, report.data.counts)
    model = build_extent_model(data)
    assert "type_effect" not in model.named_vars
    assert "type" not in model.coords


def test_population_uncertainty_widens_force_scale(report):
    d = Design.from_data(report.data)
    assert d.searched_cv.tolist() == [0.2, 0.2, 0.2]
    exact = ExtentData.from_frames(report.data.units.reset_index().assign(population_cv=0.0), report.data.counts)
    assert not Design.from_data(exact).searched_cv.any()


def test_centered_variant(report):
    with pytest.raises(ConfigError, match="population groups need non-centred"):
        build_extent_model(report.data, centered=True)
    units = report.data.units.reset_index().drop(columns=["population_group", "population_group_cv"])
    model = build_extent_model(ExtentData.from_frames(units, report.data.counts), centered=True)
    assert "unit_offset" in {v.name for v in model.free_RVs}
    assert "unit_z" not in model.named_vars


def test_prior_override_and_errors(report):
    model = build_extent_model(report.data, {"unit_sd": Prior("HalfNormal", sigma=1.5)})
    assert model["unit_sd"].owner.inputs[-1].eval() == pytest.approx(1.5)
    with pytest.raises(PriorConfigError, match="unknown prior 'force_spread'"):
        HierarchicalExtent(priors={"force_spread": Prior("HalfNormal", sigma=1)})
    with pytest.raises(PriorConfigError, match="'Hlaf' is not a PyMC distribution"):
        HierarchicalExtent(priors={"unit_sd": {"distribution": "Hlaf", "sigma": 1}})
    with pytest.raises(PriorConfigError, match="prior 'shared_fraction'"):
        HierarchicalExtent(priors={"shared_fraction": Prior("Beta", scale=1)})
    with pytest.raises(PriorConfigError, match="unknown prior 'log_population'"):
        HierarchicalExtent(log_population=False, priors={"log_population": Prior("Normal", sigma=1)})


def test_covariates_enter_the_model_standardised(report):
    units = report.data.units.reset_index()
    units["urban"] = np.linspace(0, 100, len(units))
    units["region"] = ["north" if i % 3 else "south" for i in range(len(units))]
    data = ExtentData.from_frames(units, report.data.counts, covariates=["urban", "region"])
    d = Design.from_data(data)
    assert d.covariates == ["log_population", "urban", "region[south]"]
    assert d.unit_x[:, 1].mean() == pytest.approx(0) and d.unit_x[:, 1].std() == pytest.approx(1)
    assert d.unit_x[:, 2].sum() == sum(1 for i in range(len(units)) if not i % 3)
    model = build_extent_model(data, log_population=True)
    assert list(model.coords["covariate"]) == d.covariates
    assert model["covariate_coef"].owner.inputs[-1].eval() == pytest.approx(0.5)  # Normal(0, 0.5) sigma
    assert np.isfinite(model.compile_logp()(model.initial_point()))


def test_default_spread_prior_is_the_corpus_derivation():
    from extent.elicitation import corpus_priors
    from extent.models.counts.builder import default_priors

    assert DEFAULT_PRIORS["unit_sd"] == corpus_priors()["unit_sd"]
    assert default_priors(False)["unit_sd"] == corpus_priors(log_population=False)["unit_sd"]
    assert "log_population" not in default_priors(False)
    assert DEFAULT_PRIORS["type_effect"] == Prior("Normal", mu=-0.125, sigma=0.5)  # a stated judgement


def test_population_group_is_a_split_of_a_known_total(report):
    """The report's two forces split 'approximately three million': the combined population is known to 10%,
    each force's share to 20%, so their log-population errors are negatively correlated."""
    import pymc as pm

    d = Design.from_data(report.data)
    assert d.searched_group.tolist() == [0, 0, -1] and d.group_cv.tolist() == [0.1]
    model = build_extent_model(report.data)
    with model:
        prior = pm.sample_prior_predictive(8000, var_names=["population_error"], random_seed=3).prior
    e = prior["population_error"].values.reshape(-1, 3)
    combined = d.searched_share[0] * e[:, 0] + d.searched_share[1] * e[:, 1]
    assert combined.std() == pytest.approx(0.1, rel=0.05)
    # e_metro = 0.2 s_shire (u_m - u_s) + 0.1 t and e_shire = 0.2 s_metro (u_s - u_m) + 0.1 t
    s_m, s_s = d.searched_share[0], d.searched_share[1]
    var_m, var_s = 2 * (0.2 * s_s) ** 2 + 0.01, 2 * (0.2 * s_m) ** 2 + 0.01
    assert e[:, 0].std() == pytest.approx(np.sqrt(var_m), rel=0.05)
    assert e[:, 1].std() == pytest.approx(np.sqrt(var_s), rel=0.05)
    cov = -2 * 0.2**2 * s_m * s_s + 0.01
    assert np.corrcoef(e[:, 0], e[:, 1])[0, 1] == pytest.approx(cov / np.sqrt(var_m * var_s), abs=0.03)
    assert cov < 0  # independent errors would make the combined population as uncertain as its parts
    assert (e[:, 2] == 0).all()  # shire county 2's population error is folded into its unit effect
    units = report.data.units.reset_index()
    with pytest.raises(DataValidationError, match="group 'tables_7_8' has one unit"):
        ExtentData.from_frames(units.assign(population_group=["tables_7_8", None] + [None] * (len(units) - 2)),
                               report.data.counts)


def test_student_t_unit_effects(report):
    import pymc as pm

    model = build_extent_model(report.data, unit_effect="student_t")
    assert isinstance(model["unit_z"].owner.op, type(pm.StudentT.dist(nu=4).owner.op))
    assert "log_mean_rate" not in model.named_vars  # the mean of exp(Student-t) does not exist
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    with pytest.raises(ConfigError, match="unit_effect must be one of"):
        HierarchicalExtent(unit_effect="cauchy")


def test_type_effect_prior_has_mean_rate_ratio_one():
    """An unsearched type's uncertain rate ratio widens the national interval but does not raise its point."""
    import pymc as pm

    prior = DEFAULT_PRIORS["type_effect"]
    with pm.Model():
        draws = pm.draw(prior.create("t", shape=200_000), random_seed=1)
    assert np.exp(draws).mean() == pytest.approx(1.0, abs=0.005)
    assert np.median(np.exp(draws)) < 0.9


def test_spread_by_size_makes_larger_units_vary_less():
    """Unit effects' prior SD follows ``unit_sd * size_factor(spread_slope, lp)``: with the slope fixed at -0.3
    the largest unit (100x the population of the smallest) varies about 0.29 times as much (0.25 unbounded)."""
    import pymc as pm

    from extent.models.counts.builder import size_factor

    units = pd.DataFrame({"unit": ["small", "mid", "large"], "population": [1e4, 1e5, 1e6]})
    counts = pd.DataFrame({"unit": ["small", "mid", "large"], "category": "a", "cases": [1, 10, 100]})
    data = ExtentData.from_frames(units, counts)
    model = build_extent_model(data, {"spread_slope": Prior("Normal", mu=-0.3, sigma=1e-6)}, log_population=False)
    effects = pm.draw(model["unit_offset"], draws=40_000, random_seed=2)
    sd = effects.std(axis=0)
    lp = np.log([1e4, 1e5, 1e6]) - np.log([1e4, 1e5, 1e6]).mean()
    expected = size_factor(-0.3, lp)
    assert sd[2] / sd[0] == pytest.approx(expected[2] / expected[0], rel=0.05)
    assert sd[1] / sd[0] == pytest.approx(expected[1] / expected[0], rel=0.05)
    assert 0.27 < expected[2] / expected[0] < 0.31


def test_size_factor_is_the_exponential_within_a_factor_of_3():
    from extent.models.counts.builder import MAX_SIZE_FACTOR, size_factor

    x = np.linspace(-0.4, 0.4, 9)
    np.testing.assert_allclose(size_factor(x, 1.0), np.exp(x), rtol=0.05)
    assert size_factor(-5.0, 3.0) > 1 / MAX_SIZE_FACTOR and size_factor(5.0, 3.0) < MAX_SIZE_FACTOR
    assert size_factor(0.0, 2.0) == 1.0
