"""The log-mean negative binomial: equal to PyMC's NegativeBinomial, per cell or through the count table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import stats

from extent.data import ExtentData
from extent.models import Design, build_extent_model
from extent.models.counts.builder import CENTERING_MIN_UNITS, prefer_centered, size_factor
from extent.models.likelihood import _random, negative_binomial_logp, use_count_table

Y = np.array([0, 1, 3, 10, 250, 7, 0, 2, 41])
ETA = np.log([0.1, 1.0, 2.0, 12.0, 240.0, 5.0, 3.0, 0.01, 60.0])


def _functions(table):
    y, eta, alpha = pt.lvector("y"), pt.dvector("eta"), pt.dscalar("alpha")
    logp = negative_binomial_logp(y, eta, alpha, table=table)
    grads = pytensor.grad(logp.sum(), [eta, alpha])
    return pytensor.function([y, eta, alpha], logp), pytensor.function([y, eta, alpha], grads)


@pytest.mark.parametrize("table", [False, True])
@pytest.mark.parametrize("alpha", [0.3, 2.0, 50.0, 1e4])
def test_equals_scipy_negative_binomial(table, alpha):
    logp, grads = _functions(table)
    mu = np.exp(ETA)
    expected = stats.nbinom.logpmf(Y, alpha, alpha / (alpha + mu))
    np.testing.assert_allclose(logp(Y, ETA, alpha), expected, rtol=1e-10, atol=1e-9)
    # gradient in eta: y - (alpha + y) mu / (alpha + mu)
    np.testing.assert_allclose(grads(Y, ETA, alpha)[0], Y - (alpha + Y) * mu / (alpha + mu), rtol=1e-9)


@pytest.mark.parametrize("table", [False, True])
def test_poisson_limit_and_gradient_in_alpha(table):
    logp, grads = _functions(table)
    np.testing.assert_allclose(logp(Y, ETA, 1e12), stats.poisson.logpmf(Y, np.exp(ETA)), atol=1e-4)
    # d/d alpha against a central difference at a moderate shape
    a, h = 3.0, 1e-6
    numeric = (logp(Y, ETA, a + h).sum() - logp(Y, ETA, a - h).sum()) / (2 * h)
    assert grads(Y, ETA, a)[1] == pytest.approx(numeric, rel=1e-6)


def test_table_and_per_cell_agree_and_negative_counts_are_impossible():
    per_cell, _ = _functions(False)
    table, _ = _functions(True)
    np.testing.assert_allclose(table(Y, ETA, 0.7), per_cell(Y, ETA, 0.7), rtol=1e-12)
    assert per_cell(np.array([-1]), np.array([0.0]), 1.0)[0] == -np.inf
    assert table(np.array([-1, 2]), np.array([0.0, 0.0]), 1.0)[0] == -np.inf


def test_table_only_when_shorter_than_the_cells():
    assert use_count_table(np.array([0, 1, 2, 0, 1]))
    assert not use_count_table(np.array([0, 1, 200]))
    assert not use_count_table(np.array([], dtype=int))


def test_model_logp_equals_pymc_negative_binomial(report):
    model = build_extent_model(report.data)
    point = model.initial_point()
    point["unit_sd_log__"] = np.array(np.log(0.6))
    point["shared_fraction_logodds__"] = np.array(0.0)  # half of 0.6**2 is category-specific
    point["spread_slope"] = np.array(-0.2)  # ... at the mean size; each force's SD is 0.6 * size_factor(-0.2, lp)
    ours = model.compile_logp(vars=[model["cases"]], sum=False)(point)[0]
    _, _, eta, _ = model["cases"].owner.inputs  # rng, size, log mean, shape
    (eta_values,) = model.replace_rvs_by_values([eta])
    mu = np.exp(model.compile_fn(eta_values, inputs=model.value_vars, on_unused_input="ignore")(point))
    design = Design.from_data(report.data)
    sized_sd = 0.6 * size_factor(-0.2, design.searched_lp[design.cell_unit])
    alpha = 1 / np.expm1(sized_sd**2 * 0.5)
    expected = stats.nbinom.logpmf(report.data.counts["cases"], alpha, alpha / (alpha + mu))
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_random_draws_have_negative_binomial_moments():
    mu, alpha = np.array([0.5, 20.0, 300.0]), 2.5
    draws = _random(np.log(mu), alpha, rng=np.random.default_rng(3), size=(20_000, 3))
    np.testing.assert_allclose(draws.mean(axis=0), mu, rtol=0.03)
    np.testing.assert_allclose(draws.var(axis=0), mu + mu**2 / alpha, rtol=0.08)


def _many_forces(n_forces, cases):
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(n_forces)], "population": 1e5})
    counts = pd.DataFrame({"unit": np.repeat(units["unit"], 4), "category": np.tile(list("abcd"), n_forces),
                           "cases": cases})
    return Design.from_data(ExtentData.from_frames(units, counts))


def test_centring_chosen_by_forces_and_information(report):
    assert not prefer_centered(Design.from_data(report.data))  # three forces
    assert prefer_centered(_many_forces(CENTERING_MIN_UNITS, 40))  # I_f = 4 x 40 / 11 = 14.5 -> kappa 1.14
    assert not prefer_centered(_many_forces(CENTERING_MIN_UNITS, 2))  # small counts: non-centred
    assert not prefer_centered(_many_forces(CENTERING_MIN_UNITS - 1, 40))
    assert build_extent_model(report.data)["unit_z"] is not None
