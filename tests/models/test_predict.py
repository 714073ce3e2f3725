"""National totals from a synthetic posterior with known values (no MCMC)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from extent.data import ExtentData
from extent.models import Design
from extent.models.counts.predict import national_totals


def fake_posterior(design: Design, *, log_rate, shared_sd, dispersion, unit_offset=None, chains=2, draws=2000):
    shape = (chains, draws)
    post = {
        "log_rate": np.broadcast_to(np.asarray(log_rate, float), shape + (len(design.categories),)),
        "shared_sd": np.full(shape, shared_sd),
        "dispersion": np.full(shape, dispersion),
        "unit_offset": np.broadcast_to(
            np.zeros(len(design.searched_units)) if unit_offset is None else np.asarray(unit_offset, float),
            shape + (len(design.searched_units),)),
    }
    if design.types:
        post["type_effect"] = np.zeros(shape + (len(design.types),))
    if design.covariates:
        post["coef"] = np.zeros(shape + (len(design.covariates),))
    return az.from_dict(posterior=post, dims={"log_rate": ["category"], "unit_offset": ["unit"],
                                              "type_effect": ["type"], "coef": ["covariate"]},
                        coords={"category": design.categories, "unit": design.searched_units, "type": design.types,
                                "covariate": design.covariates})


@pytest.fixture
def toy():
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(10)], "population": [1e5 * (i + 1) for i in range(10)]})
    counts = pd.DataFrame({"unit": ["u0", "u1", "u2"], "category": ["x", "x", "y"], "cases": [4, 7, 2],
                           "years": [2, 2, 1]})
    return ExtentData.from_frames(units, counts)


def test_poisson_limit_expected_total(toy):
    """sd = 0 and no dispersion: unobserved cells are Poisson(rate x exposure); observed counts are exact."""
    d = Design.from_data(toy, log_population=False)
    idata = fake_posterior(d, log_rate=[np.log(3.0), np.log(0.5)], shared_sd=0.0, dispersion=1e-6)
    tot = national_totals(idata, toy, d, seed=1)
    assert tot.dims == ("chain", "draw", "category")
    pop = toy.units["population"]
    # x: units u2..u9 unobserved, 2 years at 3 per 100k per year; y: all but u2, 1 year at 0.5 per 100k
    mean_x = 11 + 3.0 * 2 * pop.drop(["u0", "u1"]).sum() / 1e5
    mean_y = 2 + 0.5 * pop.drop(["u2"]).sum() / 1e5
    x, y = tot.sel(category="x").values.ravel(), tot.sel(category="y").values.ravel()
    assert x.mean() == pytest.approx(mean_x, rel=0.01)
    assert x.var() == pytest.approx(mean_x - 11, rel=0.1)  # Poisson variance of the predicted part
    assert y.mean() == pytest.approx(mean_y, rel=0.02)
    assert (x >= 11).all() and (y >= 2).all()


def test_force_effects_are_mean_one_for_unsearched_units(toy):
    """With a large between-force sd the expected total still follows the mean rate exp(log_rate + sd^2/2)."""
    d = Design.from_data(toy, log_population=False)
    sd = 0.8
    idata = fake_posterior(d, log_rate=[np.log(3.0), np.log(0.5)], shared_sd=sd, dispersion=1e-6, draws=20000)
    x = national_totals(idata, toy, d, seed=2).sel(category="x").values.ravel()
    pop = toy.units["population"]
    # searched units u0, u1, u2 keep force effect 0; never-searched u3..u9 get exp(sd z), mean exp(sd^2/2)
    expected = 11 + 3.0 * 2 * (pop["u2"] + np.exp(sd**2 / 2) * pop.drop(["u0", "u1", "u2"]).sum()) / 1e5
    assert x.mean() == pytest.approx(expected, rel=0.03)


def test_dispersion_adds_variance(toy):
    d = Design.from_data(toy, log_population=False)
    base = dict(log_rate=[np.log(3.0), np.log(0.5)], shared_sd=0.0)
    v0 = national_totals(fake_posterior(d, dispersion=1e-6, **base), toy, d, seed=3).values[..., 0].var()
    v1 = national_totals(fake_posterior(d, dispersion=0.5, **base), toy, d, seed=3).values[..., 0].var()
    assert v1 > 2 * v0


def test_same_seed_same_draws(toy):
    d = Design.from_data(toy, log_population=False)
    idata = fake_posterior(d, log_rate=[0.0, 0.0], shared_sd=0.3, dispersion=0.2, draws=300)
    a = national_totals(idata, toy, d, seed=5)
    b = national_totals(idata, toy, d, seed=5)
    np.testing.assert_array_equal(a.values, b.values)
    c = national_totals(idata, toy, d, seed=6)
    assert not np.array_equal(a.values, c.values)
    assert abs(c.values.mean() - a.values.mean()) < 0.1 * a.values.mean()


def test_all_units_searched_gives_observed_total():
    units = pd.DataFrame({"unit": ["a", "b"], "population": [1e5, 2e5]})
    counts = pd.DataFrame({"unit": ["a", "b"], "category": ["x", "x"], "cases": [4, 9]})
    data = ExtentData.from_frames(units, counts)
    d = Design.from_data(data, log_population=False)
    tot = national_totals(fake_posterior(d, log_rate=[1.0], shared_sd=0.5, dispersion=0.5, draws=50), data, d, seed=0)
    assert (tot.values == 13).all()


def test_covariate_effect_moves_unsearched_units(toy):
    """A log-population coefficient b multiplies unit u's expected count by exp(b (log pop_u - mean))."""
    d = Design.from_data(toy)
    assert d.covariates == ["log_population"]
    lp = np.log(toy.units["population"].to_numpy(float))
    np.testing.assert_allclose(d.unit_x[:, 0], lp - lp.mean())
    idata = fake_posterior(d, log_rate=[np.log(3.0), np.log(0.5)], shared_sd=0.0, dispersion=1e-6, draws=4000)
    idata.posterior["coef"] = idata.posterior["coef"] + 0.5
    x = national_totals(idata, toy, d, seed=4).sel(category="x").values.ravel()
    pop = toy.units["population"].to_numpy(float)
    ratio = np.exp(0.5 * (lp - lp.mean()))
    expected = 11 + 3.0 * 2 * (pop * ratio)[2:].sum() / 1e5
    assert x.mean() == pytest.approx(expected, rel=0.01)


def test_student_t_unit_effects_keep_the_sd(toy):
    from extent.models.counts.predict import _standard_effects

    z = _standard_effects(np.random.default_rng(0), "student_t", (400_000, 1))
    assert z.std() == pytest.approx(1.0, rel=0.05)
    assert np.mean(np.abs(z) > 3) > 3 * np.mean(np.abs(np.random.default_rng(0).standard_normal(400_000)) > 3)


def test_unit_counts_keep_observed_cells_and_add_up_to_the_national_total(toy):
    from extent.models.counts.predict import unit_counts

    d = Design.from_data(toy, log_population=False)
    idata = fake_posterior(d, log_rate=[np.log(3.0), np.log(0.5)], shared_sd=0.3, dispersion=0.2)
    per_unit = unit_counts(idata, toy, d, seed=2)
    assert per_unit.dims == ("chain", "draw", "category", "unit")
    x = per_unit.sel(category="x")
    assert (x.sel(unit="u0") == 4).all() and (x.sel(unit="u1") == 7).all()
    assert (per_unit.sel(category="y", unit="u2") == 2).all()
    total = national_totals(idata, toy, d, seed=2).sel(category="x").values.ravel()
    summed = x.sum("unit").values.ravel()
    assert summed.mean() == pytest.approx(total.mean(), rel=0.03)
    # a larger unit has more predicted cases
    assert x.sel(unit="u9").mean() > x.sel(unit="u3").mean()
