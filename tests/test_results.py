"""The common result type: tidy tables, intervals, citations and netCDF round trips (synthetic draws)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from extent.constants import TIDY_COLUMNS
from extent.data import ExtentData
from extent.exceptions import ConfigError, ConvergenceError, ExtentError
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


def test_unconverged_citation_is_withheld_unless_forced(result):
    bad = Diagnostics(max_rhat=1.2, min_ess_bulk=30, min_ess_tail=20, divergences=5, draws=500, chains=2)
    r = ExtentResult("hierarchical", result.data, result.national, diagnostics=bad)
    assert not r.converged
    assert bad.problems == ["max R-hat 1.200 > 1.01", "min bulk ESS 30 < 200", "min tail ESS 20 < 200",
                            "5 divergent transitions"]
    assert r.withheld() == {"x": bad.problems}  # the category's own draws mix well: only the fit's problems
    with pytest.raises(ConvergenceError, match=r"x: citable sentence withheld: .*5 divergent transitions.*force=True"):
        r.citation("x")
    forced = r.citation("x", force=True)
    assert forced.startswith(result.citation("x")[:-1]) and "[WARNING: NOT CONVERGED (max R-hat 1.200" in forced
    assert result.withheld() == {}


def test_withheld_names_each_categorys_own_draws():
    """Two categories, one whose chains disagree: its reason names its own R-hat; the other only the fit's."""
    units = pd.DataFrame({"unit": list("abcd"), "population": [1e5, 2e5, 3e5, 4e5]})
    counts = pd.DataFrame({"unit": ["a", "a"], "category": ["x", "y"], "cases": [2, 3]})
    data = ExtentData.from_frames(units, counts, name="toy")
    draws = np.random.default_rng(1).gamma(50.0, 2.0, size=(2, 500, 2))
    draws[1, :, 1] *= 3.0
    national = xr.DataArray(draws, dims=("chain", "draw", "category"),
                            coords={"chain": [0, 1], "draw": np.arange(500), "category": ["x", "y"]})
    bad = Diagnostics(max_rhat=1.5, min_ess_bulk=900, min_ess_tail=800, divergences=0, draws=500, chains=2)
    withheld = ExtentResult("hierarchical", data, national, diagnostics=bad).withheld()
    assert set(withheld) == {"x", "y"}
    assert withheld["x"] == ["max R-hat 1.500 > 1.01"]
    own = ExtentResult("hierarchical", data, national, diagnostics=bad)._national_diagnostics()["y"]
    assert withheld["y"][1:] == [f"R-hat {own['rhat']:.3f} of its own draws > 1.01",
                                 f"bulk ESS {own['ess_bulk']:.0f} of its own draws < 200"]
    assert own["rhat"] > 1.2


def test_report_citations_show_withheld_lines(result):
    from extent.reporting import citations

    bad = Diagnostics(max_rhat=1.001, min_ess_bulk=900, min_ess_tail=800, divergences=3, draws=500, chains=2)
    r = ExtentResult("hierarchical", result.data, result.national, diagnostics=bad)
    assert citations(r) == {"x": "x: WITHHELD, not cited because the fit has not converged (3 divergent "
                                 "transitions)."}
    assert "WARNING: NOT CONVERGED (3 divergent transitions)" in citations(r, force=True)["x"]
    assert citations(result) == {"x": result.citation("x")}


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
        idata = az.from_dict(posterior={"shared_sd": hyper, "unit_offset": effects},
                             sample_stats={"diverging": np.zeros((4, 200), bool)})
        d = Diagnostics.from_idata(idata, ["shared_sd", "unit_offset"], unit_names=("unit_offset",))
        assert d.max_rhat < 1.01 and d.n_units == effects.shape[-1]
        assert 1.01 < d.max_rhat_units < 1.05
        assert any("unit effects" in p for p in d.problems) is units_flagged
    many[0, :, 0] += 2.0  # a chain that has not mixed is caught however many units there are
    idata = az.from_dict(posterior={"shared_sd": hyper, "unit_offset": many},
                         sample_stats={"diverging": np.zeros((4, 200), bool)})
    assert not Diagnostics.from_idata(idata, unit_names=("unit_offset",)).converged


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
    assert back.settings == result.settings
    assert back.data.counts_withheld and back.data.counts["cases"].isna().all()  # raw counts only on opt-in
    assert back.data.hash() == result.data.withhold_counts().hash()
    kept = ExtentResult.from_netcdf(result.to_netcdf(tmp_path / "kept.nc", keep_counts=True))
    assert kept.data.hash() == result.data.hash()
    assert kept.data.counts["cases"].tolist() == [2, 3]
    pd.testing.assert_frame_equal(kept.national_extent(), result.national_extent())
    with pytest.raises(ExtentError, match="file not found"):
        ExtentResult.from_netcdf(tmp_path / "missing.nc")


def test_netcdf_round_trip_keeps_covariates_and_exposure(result, tmp_path):
    units = result.data.units.reset_index().assign(urban=[1.0, 2.0, 5.0, 3.0], offences=[10.0, 20.0, 30.0, 5.0])
    data = ExtentData.from_frames(units, result.data.counts, name="toy", covariates=["urban"], exposure="offences")
    with_aux = ExtentResult("hierarchical", data, result.national, diagnostics=result.diagnostics, settings={})
    back = ExtentResult.from_netcdf(with_aux.to_netcdf(tmp_path / "aux.nc", keep_counts=True))
    assert back.data.covariates == ("urban",) and back.data.exposure == "offences"
    assert back.data.hash() == data.hash()


def _edit(path, edit):
    """Rewrite a saved result with ``edit(idata)`` applied (what a hand edit of the file would do)."""
    import arviz as az

    idata = az.from_netcdf(str(path)).copy()
    idata = idata.map(lambda ds: ds.load(), inplace=False)
    edit(idata)
    path.unlink()
    idata.to_netcdf(str(path))


@pytest.mark.parametrize("content, message", [
    (b"this is not netCDF\n" * 20, "not a readable netCDF file"),
    (b"", "not a readable netCDF file"),
])
def test_garbage_files_raise_our_error(tmp_path, content, message):
    path = tmp_path / "bad.nc"
    path.write_bytes(content)
    with pytest.raises(ExtentError, match=message):
        ExtentResult.from_netcdf(path)


def test_truncated_and_foreign_files_raise_our_error(result, tmp_path):
    path = result.to_netcdf(tmp_path / "r.nc")
    cut = tmp_path / "cut.nc"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ExtentError, match="cut.nc: not a readable netCDF file"):
        ExtentResult.from_netcdf(cut)
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("i", np.arange(3.0))}).to_netcdf(foreign)
    with pytest.raises(ExtentError, match="foreign.nc: not a readable netCDF file|not an extent result file"):
        ExtentResult.from_netcdf(foreign)


def test_tampered_draws_and_attributes_are_refused(result, tmp_path):
    path = result.to_netcdf(tmp_path / "r.nc")

    def cut_draws(idata):
        idata.predictions["national_total"] = idata.predictions["national_total"] / 10

    _edit(path, cut_draws)
    with pytest.raises(ExtentError, match="do not match the file's checksum"):
        ExtentResult.from_netcdf(path)

    path = result.to_netcdf(tmp_path / "r2.nc")

    def flip_diagnostics(idata):
        idata.predictions.attrs["extent_diagnostics"] = idata.predictions.attrs["extent_diagnostics"].replace(
            '"divergences": 0', '"divergences": 7')

    _edit(path, flip_diagnostics)
    with pytest.raises(ExtentError, match="checksum"):
        ExtentResult.from_netcdf(path)

    path = result.to_netcdf(tmp_path / "r3.nc", keep_counts=True)

    def change_counts(idata):
        idata.fit_data_counts["cases"] = idata.fit_data_counts["cases"] + 1

    _edit(path, change_counts)
    with pytest.raises(ExtentError, match="do not match its stored data hash"):
        ExtentResult.from_netcdf(path)

    path = result.to_netcdf(tmp_path / "r4.nc")

    def put_counts_back(idata):
        idata.fit_data_counts["cases"] = idata.fit_data_counts["cases"].fillna(1.0)

    _edit(path, put_counts_back)
    with pytest.raises(ExtentError, match="counts were withheld but it holds some"):
        ExtentResult.from_netcdf(path)

    path = result.to_netcdf(tmp_path / "r5.nc")

    def claim_kept(idata):
        idata.predictions.attrs["extent_counts"] = "kept"

    _edit(path, claim_kept)
    with pytest.raises(ExtentError, match="checksum|not a complete extent result file"):
        ExtentResult.from_netcdf(path)


def test_diagnostics_are_recomputed_on_load(result, tmp_path):
    """Stored diagnostics that are not those of the stored draws are refused, even with a consistent checksum."""
    import arviz as az

    from extent.results import _checksum

    rng = np.random.default_rng(4)
    posterior = xr.Dataset({"log_rate": (("chain", "draw"), rng.normal(size=(2, 500)))},
                           coords={"chain": [0, 1], "draw": np.arange(500)})
    idata = az.InferenceData(posterior=posterior, sample_stats=xr.Dataset(
        {"diverging": (("chain", "draw"), np.zeros((2, 500), bool))}, coords=posterior.coords))
    spec = {"var_names": ["log_rate", "national_total"], "unit_names": []}
    honest = Diagnostics.from_idata(az.InferenceData(posterior=posterior.assign(national_total=result.national),
                                                     sample_stats=idata.sample_stats), spec["var_names"])
    fit = ExtentResult("hierarchical", result.data, result.national, idata=idata, diagnostics=honest,
                       settings={"diagnosed": spec})
    path = fit.to_netcdf(tmp_path / "fit.nc")
    assert ExtentResult.from_netcdf(path).diagnostics == honest

    def flip_and_rechecksum(idata):
        attrs = idata.predictions.attrs
        attrs["extent_diagnostics"] = attrs["extent_diagnostics"].replace(f'"max_rhat": {honest.max_rhat!r}',
                                                                          '"max_rhat": 1.0')
        attrs["extent_checksum"] = _checksum(idata.predictions["national_total"], attrs)

    _edit(path, flip_and_rechecksum)
    with pytest.raises(ExtentError, match="stored diagnostics .* are not those of the draws"):
        ExtentResult.from_netcdf(path)


def test_units_print_as_forces_only_for_the_built_in_report(report):
    from extent import ExtentData, NaiveScaling

    mine = ExtentData.from_frames(report.data.units.reset_index(), report.data.counts, name="my forces")
    uk = NaiveScaling().fit(report.data).citation("internet_grooming", estimand="per_unit_per_annum")
    other = NaiveScaling().fit(mine).citation("internet_grooming", estimand="per_unit_per_annum")
    assert "known cases per force per annum" in uk and "per unit" not in uk
    assert other == uk.replace("per force per annum", "per unit per annum")
