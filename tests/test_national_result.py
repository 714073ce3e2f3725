"""The one national result type, the estimator protocol, and what composes with any fit: report, citation,
calibration runner.

Unmarked tests build results from made-up draws (no MCMC); ``sampling`` tests use the small seeded survey fit
of ``conftest.survey_fit``.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from extent.calibrate.study import score_result
from extent.data import ExtentData, SurveyData
from extent.estimators import (
    Estimator,
    HierarchicalExtent,
    NaiveScaling,
    PoissonGLMBootstrap,
    SurveyEstimator,
)
from extent.exceptions import ConfigError, ExtentError
from extent.inference import Diagnostics
from extent.results import POINT_ESTIMATES, ExtentResult, NationalResult
from extent.survey_result import SurveyResult


@pytest.fixture
def survey_data():
    units = pd.DataFrame({"unit": list("abcd"), "population": [1e6, 2e6, 5e5, 1e6], "other_stages": [1, 0, 1, 0]})
    survey = pd.DataFrame({"unit": list("abcd"), "responded": [1, 0, 1, 1], "returned": [3, None, 10, 0]})
    return SurveyData.from_frames(units, survey, cap=10, years=4, name="tiny survey")


def _survey_result(data, seed=0, *, diagnosed=True) -> SurveyResult:
    """A survey result from made-up skewed draws with honest diagnostics."""
    rng = np.random.default_rng(seed)
    national = xr.DataArray(rng.gamma(4.0, 50.0, (2, 500)), dims=("chain", "draw"))
    idata = az.from_dict(posterior={"log_rate": rng.normal(size=(2, 500)), "unit_sd": rng.exponential(size=(2, 500)),
                                    "response_prob": rng.uniform(0.4, 0.8, size=(2, 500))},
                         sample_stats={"diverging": np.zeros((2, 500), bool)})
    spec = {"var_names": ["log_rate", "unit_sd"], "unit_names": []}
    return SurveyResult(mechanism="mar", data=data, national=national, years=4.0, idata=idata,
                        diagnostics=Diagnostics.from_idata(idata, spec["var_names"]),
                        settings={"diagnosed": spec} if diagnosed else {})


def _count_data():
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(8)], "population": np.linspace(2e5, 9e5, 8)})
    counts = pd.DataFrame({"unit": ["u0", "u3", "u6"] * 2, "category": ["x"] * 3 + ["y"] * 3,
                           "cases": [12, 30, 21, 4, 9, 7], "years": 2})
    return ExtentData.from_frames(units, counts, name="toy")


# -- one type -------------------------------------------------------------------------------------------------
def test_a_survey_fit_is_a_national_result_with_dims_chain_draw_category(survey_data):
    res = _survey_result(survey_data)
    assert isinstance(res, NationalResult) and ExtentResult is NationalResult
    assert res.kind == "survey" and res.national.dims == ("chain", "draw", "category")
    assert res.categories == ["cases"] and res.label == "survey-mar"
    x = res.national.values.ravel()
    lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95])
    iv = res.interval(estimand="total")  # the only category need not be named
    assert (iv.estimate, iv.lower, iv.upper) == pytest.approx((med, lo, hi))
    assert res.interval("total", 0.9) == iv  # the survey's earlier call form
    assert res.interval("cases", "per_unit_per_annum").estimate == pytest.approx(med / 4 / 4)
    assert res.prob_below("cases", 200.0, "total") == pytest.approx(np.mean(x < 200.0))
    assert res.prob_below(200.0, "total") == res.prob_below("cases", 200.0, "total")
    assert res.response_rate() == pytest.approx(float(res.idata.posterior["response_prob"].mean()))
    with pytest.raises(ConfigError, match="unknown category 'x'"):
        res.interval("x")
    with pytest.raises(ConfigError, match="national draws need dims"):
        NationalResult("survey", survey_data, res.national.isel(category=0))


def test_summary_intervals_are_equal_tailed_for_both_kinds(survey_data):
    res = _survey_result(survey_data)
    s = res.summary(0.8)
    draws = res.idata.posterior["unit_sd"].values
    assert s.loc["unit_sd", ["eti_10.0%", "median", "eti_90.0%"]].tolist() == pytest.approx(
        np.quantile(draws, [0.1, 0.5, 0.9]).tolist())
    assert list(s.index) == ["log_rate", "unit_sd"]  # the survey's parameters, not the count model's


def test_citation_names_the_interval_kind():
    data = _count_data()
    naive, glm = NaiveScaling().fit(data), PoissonGLMBootstrap(n_boot=200, random_seed=3).fit(data)
    assert (naive.point_estimate, naive.interval_kind) == ("plug-in", "none")
    assert naive.citation("x") == f"x: about {naive.interval('x').estimate:,.0f} known cases per annum (naive estimate, no interval)."
    assert "90% bootstrap interval" in glm.citation("x") and "credible" not in glm.citation("x")
    posterior = NationalResult("hierarchical", data, glm.national)  # the same draws, read as a posterior
    assert "90% credible interval" in posterior.citation("x")
    assert posterior.interval("x", "total").estimate == pytest.approx(float(np.quantile(
        glm.national.sel(category="x").values, 0.5)))


def test_survey_citation_names_the_mechanism_and_simulated_data(survey_fit_free_result):
    res = survey_fit_free_result
    iv = res.interval(estimand="per_annum")
    assert res.citation() == (f"mar: about {iv.estimate:,.0f} cases per annum nationally (90% credible interval "
                              f"{iv.lower:,.0f} to {iv.upper:,.0f}).")
    assert res.citation("per_annum") == res.citation("cases")


@pytest.fixture
def survey_fit_free_result(survey_data):
    return _survey_result(survey_data)


# -- one file reader and writer -------------------------------------------------------------------------------
def test_one_reader_knows_each_kind_of_file(survey_data, tmp_path):
    res = _survey_result(survey_data)
    path = res.to_netcdf(tmp_path / "survey.nc")
    back = NationalResult.from_netcdf(path)
    assert back.kind == "survey" and back.mechanism == "mar" and back.years == 4.0
    assert back.data.returns_withheld  # per-unit returns withheld by default
    pd.testing.assert_frame_equal(back.national_extent(), res.national_extent())
    assert back.diagnostics == res.diagnostics
    assert type(SurveyResult.from_netcdf(path)) is SurveyResult
    count = NaiveScaling().fit(_count_data()).to_netcdf(tmp_path / "count.nc")
    assert NationalResult.from_netcdf(count).kind == "count"
    with pytest.raises(ExtentError, match="not an extent survey result file: it holds a count fit"):
        SurveyResult.from_netcdf(count)
    az.from_dict(posterior={"x": np.zeros((1, 3))}).to_netcdf(str(tmp_path / "foreign.nc"))
    with pytest.raises(ExtentError, match="foreign.nc: not an extent result file"):
        NationalResult.from_netcdf(tmp_path / "foreign.nc")


def test_the_declared_rule_and_interval_kind_survive_a_file(tmp_path):
    glm = PoissonGLMBootstrap(n_boot=100, random_seed=2).fit(_count_data())
    back = ExtentResult.from_netcdf(glm.to_netcdf(tmp_path / "glm.nc"))
    assert (back.point_estimate, back.interval_kind) == ("plug-in", "bootstrap")
    assert back.plug_in == glm.plug_in
    assert back.interval("y", "total") == glm.interval("y", "total")


def test_survey_files_are_checksummed_and_their_diagnostics_rechecked(survey_data, tmp_path):
    import h5py

    res = _survey_result(survey_data)
    path = res.to_netcdf(tmp_path / "a.nc")
    with h5py.File(path, "r+") as f:
        f["predictions/national_total"][0, 0, 0] *= 10
    with pytest.raises(ExtentError, match="do not match the file's checksum"):
        SurveyResult.from_netcdf(path)
    path = res.to_netcdf(tmp_path / "b.nc")
    with h5py.File(path, "r+") as f:
        f["posterior/unit_sd"][0, :] = 1.0  # chain 0 stuck: R-hat far from the stored diagnostics
    with pytest.raises(ExtentError, match="stored diagnostics .* are not those of the draws"):
        SurveyResult.from_netcdf(path)


# -- one estimator protocol -----------------------------------------------------------------------------------
def test_every_national_estimator_follows_the_protocol():
    for est in (NaiveScaling(), HierarchicalExtent(), PoissonGLMBootstrap(), SurveyEstimator()):
        assert isinstance(est, Estimator) and est.point_estimate in POINT_ESTIMATES
    data = _count_data()
    for est in (NaiveScaling(), PoissonGLMBootstrap(n_boot=50, random_seed=1)):
        assert est.fit(data).point_estimate == est.point_estimate


def test_a_study_scores_the_declared_point_estimate(survey_data):
    glm = PoissonGLMBootstrap(n_boot=200, random_seed=1).fit(_count_data())
    rows = score_result(glm, {"x": 100.0, "y": 30.0}, (0.9,))
    assert [r["estimator"] for r in rows] == ["glm_bootstrap"] * 2
    assert rows[0]["estimate"] == pytest.approx(glm.plug_in["x"])  # plug-in, not the bootstrap median
    assert rows[0]["lower_0.9"] == pytest.approx(float(np.quantile(glm.national.sel(category="x"), 0.05)))
    survey = _survey_result(survey_data)
    (row,) = score_result(survey, {"cases": 150.0}, (0.5,))
    assert row["estimator"] == "survey-mar"
    assert row["estimate"] == pytest.approx(float(np.median(survey.national.values)))


def test_survey_data_with_records_is_one_object(survey_data):
    counts = pd.DataFrame({"unit": ["a"], "category": ["x"], "cases": [5], "years": [4]})
    records = ExtentData.from_frames(survey_data.units.reset_index()[["unit", "population"]], counts)
    joint = survey_data.with_records(records, "x")
    assert joint.records is records and joint.records_category == "x"
    assert joint.hash() == survey_data.hash() and survey_data.records is None
    with pytest.raises(ConfigError, match="unknown category 'z'"):
        survey_data.with_records(records, "z")


# -- a survey fit composes like a count fit -------------------------------------------------------------------
def test_write_report_takes_a_survey_result(survey_data, tmp_path):
    from extent.reporting.render import write_report

    res = _survey_result(survey_data)
    files = write_report(tmp_path / "rep", res)
    assert set(files) == {"markdown", "report", "forest", "estimates", "fit"}
    md = files["markdown"].read_text()
    assert res.citation() in md
    assert "4 surveyed, 3 responded" in md and "not shown" in md
    assert "Mechanism mar: Response depends on observed covariates" in md
    assert "13" not in md.split("## National extent per category")[1].split("## Citable")[0]  # no returned total
    tidy = pd.read_csv(files["estimates"])
    assert tidy["mechanism"].unique().tolist() == ["mar"] and tidy["disclosure"].isna().all()
    assert tidy.set_index("estimand").loc["total", "estimate"] == pytest.approx(res.interval(estimand="total").estimate)
    assert NationalResult.from_netcdf(files["fit"]).data.returns_withheld
    with pytest.raises(ConfigError, match="pass naive"):
        write_report(tmp_path / "count", NaiveScaling().fit(_count_data()))


def test_forest_plot_legend_follows_the_result():
    glm = PoissonGLMBootstrap(n_boot=100, random_seed=2).fit(_count_data())
    fig = glm.plot()
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["90% bootstrap interval", "50% bootstrap interval", "plug-in"]


@pytest.mark.sampling
def test_a_real_survey_fit_goes_through_citation_report_and_file(survey_fit, tmp_path):
    from extent.reporting.render import write_report

    fit, sim = survey_fit
    assert fit.converged and not fit.withheld()
    iv = fit.interval(estimand="total")
    assert iv.lower <= sim.total <= iv.upper
    text = fit.citation()
    assert text.startswith("mcar: about ") and "90% credible interval" in text and "SIMULATED data" in text
    files = write_report(tmp_path / "rep", fit)
    assert text in files["markdown"].read_text()
    back = NationalResult.from_netcdf(files["fit"])  # diagnostics recomputed from the stored draws on load
    assert back.diagnostics == fit.diagnostics and back.citation() == text


@pytest.mark.sampling
def test_a_survey_study_runs_on_the_calibration_runner(tmp_path):
    from extent.calibrate import SurveyStudy, run_study
    from extent.inference import SamplerConfig

    study = SurveyStudy(scenario="mcar", mechanisms=("mcar",), reps=2, seed=3, levels=(0.5, 0.9),
                        sampler=SamplerConfig(draws=150, tune=150, chains=2, cores=1, nuts_sampler="pymc",
                                              random_seed=1),
                        simulate={"n_units": 15})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_study(study, serial=True, checkpoint=tmp_path / "ck.jsonl")
    assert res.complete and len(res.records) == 2
    est = res.estimates()
    assert est["estimator"].unique().tolist() == ["survey-mcar"] and est["design"].unique().tolist() == ["survey-mcar"]
    assert (est["lower_0.9"] <= est["lower_0.5"]).all() and (est["upper_0.5"] <= est["upper_0.9"]).all()
    cov = res.coverage()
    assert set(cov["level"]) == {0.5, 0.9} and cov["n"].max() == 2
    fits = res.fits()
    assert fits["rep"].tolist() == [0, 1] and (fits["max_rhat"] > 0.99).all() and (fits["min_ess_bulk"] > 10).all()
    again = run_study(study, serial=True, checkpoint=tmp_path / "ck.jsonl")  # resumed: nothing refitted
    assert again.resumed == 2 and again.records == res.records
    saved = res.save(tmp_path / "out")
    assert (tmp_path / "out" / "coverage.csv") in saved
