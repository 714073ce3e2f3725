"""The common result type: tidy tables, intervals, citations and netCDF round trips (synthetic draws)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from extent.constants import TIDY_COLUMNS
from extent.data import ExtentData
from extent.exceptions import ConfigError, ExtentError
from extent.inference import Diagnostics
from extent.results import ExtentResult


@pytest.fixture
def result():
    units = pd.DataFrame({"unit": list("abcd"), "population": [1e5, 2e5, 3e5, 4e5]})
    counts = pd.DataFrame({"unit": ["a", "b"], "category": ["x", "x"], "cases": [2, 3], "years": [4, 4]})
    data = ExtentData.from_frames(units, counts, name="toy")
    draws = np.random.default_rng(0).gamma(50.0, 2.0, size=(2, 500, 1))  # mean 100
    national = xr.DataArray(draws, dims=("chain", "draw", "category"),
                            coords={"chain": [0, 1], "draw": np.arange(500), "category": ["x"]})
    diag = Diagnostics(max_rhat=1.001, min_ess_bulk=900, min_ess_tail=800, divergences=0, draws=500, chains=2)
    return ExtentResult("hierarchical", data, national, diagnostics=diag, settings={"sampler": {"random_seed": 1}})


def test_interval_is_median_and_central_quantiles(result):
    x = result.national.values.ravel()
    iv = result.interval("x", "total", 0.9)
    assert iv.estimate == pytest.approx(np.median(x))
    assert (iv.lower, iv.upper) == pytest.approx(tuple(np.quantile(x, [0.05, 0.95])))
    pa = result.interval("x", "per_annum", 0.9)
    assert pa.estimate == pytest.approx(iv.estimate / 4)
    pu = result.interval("x", "per_unit_per_annum", 0.8)
    assert pu.upper == pytest.approx(np.quantile(x, 0.9) / 4 / 4)


def test_tidy_table(result):
    t = result.national_extent(0.5)
    assert list(t.columns) == TIDY_COLUMNS
    assert t["estimand"].tolist() == ["total", "per_annum", "per_unit_per_annum"]
    assert (t["level"] == 0.5).all() and (t["estimator"] == "hierarchical").all()
    assert (t["lower"] < t["estimate"]).all() and (t["estimate"] < t["upper"]).all()
    assert t["converged"].all() and (t["rhat"] < 1.01).all() and (t["ess_bulk"] > 500).all()


def test_tidy_table_carries_each_rows_convergence(result):
    """Two chains that disagree: every row says so, with the R-hat of its own national draws."""
    shifted = result.national.copy()
    shifted[1] = shifted[1] * 3.0
    bad = Diagnostics(max_rhat=1.5, min_ess_bulk=30, min_ess_tail=20, divergences=0, draws=500, chains=2)
    t = ExtentResult("hierarchical", result.data, shifted, diagnostics=bad).national_extent()
    assert not t["converged"].any() and (t["rhat"] > 1.5).all() and (t["ess_bulk"] < 100).all()
    assert t["rhat"].nunique() == 1  # the estimands are scalings of the same draws


def test_citation_and_probability(result):
    iv = result.interval("x", "per_annum")
    text = result.citation("x")
    assert text == f"x: about {iv.estimate:,.0f} known cases per annum nationally (90% credible interval " \
                   f"{iv.lower:,.0f} to {iv.upper:,.0f})."
    assert result.prob_below("x", 1e9) == 1.0
    assert 0.3 < result.prob_below("x", 25.0) < 0.7


def test_unconverged_citation_warns(result):
    bad = Diagnostics(max_rhat=1.2, min_ess_bulk=30, min_ess_tail=20, divergences=5, draws=500, chains=2)
    r = ExtentResult("hierarchical", result.data, result.national, diagnostics=bad)
    assert not r.converged
    assert "WARNING: fit not converged" in r.citation("x")
    assert bad.problems == ["max R-hat 1.200 > 1.01", "min bulk ESS 30 < 200", "min tail ESS 20 < 200",
                            "5 divergent transitions"]


def test_unit_effects_r_hat_limit_allows_for_their_number():
    import arviz as az
    import numpy as np

    from extent.inference.diagnostics import MANY_UNITS

    rng = np.random.default_rng(0)
    hyper = rng.standard_normal((4, 200))
    few = rng.standard_normal((4, 200, 3))
    few[0] += 0.5  # one chain off: R-hat about 1.05 on three forces
    many = rng.standard_normal((4, 200, MANY_UNITS + 1))
    many[0, :, 0] += 0.5
    for effects, units_flagged in ((few, True), (many, False)):
        idata = az.from_dict(posterior={"force_sd": hyper, "force_effect": effects},
                             sample_stats={"diverging": np.zeros((4, 200), bool)})
        d = Diagnostics.from_idata(idata, ["force_sd", "force_effect"], unit_names=("force_effect",))
        assert d.max_rhat < 1.01 and d.n_units == effects.shape[-1]
        assert 1.01 < d.max_rhat_units < 1.05
        assert any("unit effects" in p for p in d.problems) is units_flagged
    many[0, :, 0] += 2.0  # a chain that has not mixed is caught however many units there are
    idata = az.from_dict(posterior={"force_sd": hyper, "force_effect": many},
                         sample_stats={"diverging": np.zeros((4, 200), bool)})
    assert not Diagnostics.from_idata(idata, unit_names=("force_effect",)).converged


def test_bad_requests(result):
    with pytest.raises(ConfigError, match="level must be in"):
        result.national_extent(1.5)
    with pytest.raises(ConfigError, match="unknown category 'y'"):
        result.interval("y")
    with pytest.raises(ConfigError, match="estimand must be one of"):
        result.draws("per_decade")


def test_netcdf_round_trip(result, tmp_path):
    path = result.to_netcdf(tmp_path / "r.nc")
    assert not list(tmp_path.glob("*.part"))
    back = ExtentResult.from_netcdf(path)
    pd.testing.assert_frame_equal(back.national_extent(), result.national_extent())
    assert back.diagnostics == result.diagnostics
    assert back.data.hash() == result.data.hash()
    assert back.settings == result.settings
    with pytest.raises(ExtentError, match="file not found"):
        ExtentResult.from_netcdf(tmp_path / "missing.nc")


def test_netcdf_round_trip_keeps_covariates_and_exposure(result, tmp_path):
    units = result.data.units.reset_index().assign(urban=[1.0, 2.0, 5.0, 3.0], offences=[10.0, 20.0, 30.0, 5.0])
    data = ExtentData.from_frames(units, result.data.counts, name="toy", covariates=["urban"], exposure="offences")
    with_aux = ExtentResult("hierarchical", data, result.national, diagnostics=result.diagnostics, settings={})
    back = ExtentResult.from_netcdf(with_aux.to_netcdf(tmp_path / "aux.nc"))
    assert back.data.covariates == ("urban",) and back.data.exposure == "offences"
    assert back.data.hash() == data.hash()
