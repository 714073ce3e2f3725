"""Model graph: names, coords, dims, priors and a finite log density, without sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from extent.data import ExtentData
from extent.estimators import HierarchicalExtent
from extent.exceptions import PriorConfigError
from extent.models import DEFAULT_PRIORS, Design, build_extent_model
from extent.priors import Prior, priors_from_json, priors_to_json


def test_report_model_structure(report):
    model = build_extent_model(report.data)
    assert list(model.coords["category"]) == list(report.data.categories)
    assert list(model.coords["force"]) == ["metropolitan", "shire_county_1", "shire_county_2"]
    assert list(model.coords["type"]) == ["metropolitan"]  # shire is the reference level
    free = {v.name for v in model.free_RVs}
    assert free == {"log_rate", "force_sd", "dispersion", "force_z", "type_effect"}
    assert {v.name for v in model.deterministics} == {"log_mean_rate", "force_effect"}
    assert model.named_vars_to_dims["log_rate"] == ("category",)
    assert model.named_vars_to_dims["cases"] == ("cell",)
    assert model["cases_data"].get_value().tolist() == report.data.counts["cases"].tolist()


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
    model = build_extent_model(ExtentData.from_frames(units, counts))
    point = model.initial_point()
    point["log_rate"] = np.array([np.log(2.0)])
    point["force_z"] = np.array([0.0])
    point["dispersion_log__"] = np.array(np.log(1e-6))
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
    assert d.force_cv.tolist() == [0.2, 0.2, 0.2]
    exact = ExtentData.from_frames(report.data.units.reset_index().assign(population_cv=0.0), report.data.counts)
    assert not Design.from_data(exact).force_cv.any()


def test_centered_variant(report):
    model = build_extent_model(report.data, centered=True)
    assert "force_effect" in {v.name for v in model.free_RVs}
    assert "force_z" not in model.named_vars


def test_prior_override_and_errors(report):
    model = build_extent_model(report.data, {"force_sd": Prior("HalfNormal", sigma=1.5)})
    assert model["force_sd"].owner.inputs[-1].eval() == pytest.approx(1.5)
    with pytest.raises(PriorConfigError, match="unknown prior 'force_spread'"):
        HierarchicalExtent(priors={"force_spread": Prior("HalfNormal", sigma=1)})
    with pytest.raises(PriorConfigError, match="'Hlaf' is not a PyMC distribution"):
        HierarchicalExtent(priors={"force_sd": {"distribution": "Hlaf", "sigma": 1}})
    with pytest.raises(PriorConfigError, match="prior 'dispersion'"):
        HierarchicalExtent(priors={"dispersion": Prior("HalfNormal", scale=1)})


def test_priors_json_round_trip():
    assert priors_from_json(priors_to_json(DEFAULT_PRIORS)) == DEFAULT_PRIORS
    assert str(Prior("HalfNormal", sigma=0.5)) == "HalfNormal(sigma=0.5)"
