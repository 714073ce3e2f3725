"""Survey non-response models without sampling: graphs, censoring, totals, sensitivity logic, NPQS, CLI errors."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr
from scipy import stats
from typer.testing import CliRunner

from extent.data import ExtentData, SurveyData
from extent.exceptions import ConfigError, DataValidationError
from extent.models.likelihood import log_at_least, series_terms
from extent.models.survey.builder import build_joint_model, build_survey_model
from extent.models.survey.mechanisms import DEFAULT_PRIORS
from extent.models.survey.predict import survey_totals
from extent.simulate.survey import simulate_survey
from extent.survey_result import Sensitivity, SurveyResult


@pytest.fixture(scope="module")
def small():
    units = pd.DataFrame({"unit": ["a", "b", "c", "d"], "population": [1e6, 2e6, 5e5, 1e6],
                          "other_stages": [1, 0, 1, 0]})
    survey = pd.DataFrame({"unit": ["a", "b", "c", "d"], "responded": [1, 0, 1, 1], "returned": [3, None, 10, 0]})
    return SurveyData.from_frames(units, survey, cap=10, years=4)


@pytest.mark.parametrize(
    "mechanism, free",
    [
        ("mcar", ["log_rate", "unit_sd", "unit_z", "response_intercept"]),
        ("mar", ["log_rate", "unit_sd", "unit_z", "rate_coef", "response_intercept", "response_coef"]),
        ("mnar", ["log_rate", "unit_sd", "unit_z", "rate_coef", "response_intercept", "response_coef",
                  "selection"]),
        ("delta", ["log_rate", "unit_sd", "unit_z", "rate_coef", "response_intercept", "response_coef", "delta"]),
    ],
)
def test_model_graph_names_and_coords(small, mechanism, free):
    m = build_survey_model(small, mechanism=mechanism)
    assert [v.name for v in m.free_RVs] == free
    assert [v.name for v in m.observed_RVs] == ["responded", "returned"]
    assert m.coords["unit"] == ("a", "b", "c", "d")
    assert m.coords["surveyed"] == ("a", "b", "c", "d")
    assert m.coords["responder"] == ("a", "c", "d")
    assert m.named_vars_to_dims["returned"] == ("responder",)
    assert m.named_vars_to_dims["log_caseload"] == ("unit",)
    assert m.named_vars_to_dims["response_prob"] == ("surveyed",)
    if mechanism == "mcar":
        assert "covariate" not in m.coords
    else:
        assert m.coords["covariate"] == ("log_population", "other_stages")
        assert m.named_vars_to_dims["response_coef"] == ("covariate",)
    point = m.initial_point()
    assert np.isfinite(m.compile_logp()(point))
    assert np.isfinite(m.compile_dlogp()(point)).all()


@pytest.mark.parametrize("mechanism", ["mcar", "mnar", "joint"])
def test_compiled_model_depends_on_data_only_through_pm_data(mechanism):
    """One compiled model serves every survey with the same compile key (the nutpie cache swaps pm.Data)."""
    from pytensor.compile import SharedVariable
    from pytensor.graph.traversal import ancestors

    from extent.models.survey.builder import STRUCTURE_DIMS, compile_key

    def build(seed):
        sim = simulate_survey("mar", seed=seed, n_searched=5 if mechanism == "joint" else 0)
        if mechanism == "joint":
            return sim, build_joint_model(sim.records, sim.data, category="cases", mechanism="mnar")
        return sim, build_survey_model(sim.data, mechanism=mechanism)

    (sim_a, a), (sim_b, b) = build(1), build(2)
    assert sim_a.data.n_responded != sim_b.data.n_responded
    key = {"mechanism": mechanism, "priors": DEFAULT_PRIORS, "fixed": {}, "censored": True,
           "joint": mechanism == "joint"}
    assert compile_key(a, sim_a.data, **key) == compile_key(b, sim_b.data, **key)
    assert compile_key(a, sim_a.data, **(key | {"censored": False})) != compile_key(a, sim_a.data, **key)
    # every shared input of the log density is a pm.Data (swapped) or the length of a dim in the key
    shared = {v.name for v in ancestors([a.logp()]) if isinstance(v, SharedVariable)}
    assert shared - {v.name for v in a.data_vars} <= set(STRUCTURE_DIMS)
    # a's graph with b's data gives b's log density
    point = b.initial_point() | {"unit_z": np.linspace(-1, 1, 52)}
    logp_b = b.compile_logp()(point)
    assert a.compile_logp()(point) != pytest.approx(logp_b)
    coords = {d: b.coords[d] for d in ("responder", "surveyed", "searched_unit") if d in b.coords}
    with a:
        pm.set_data({v.name: v.get_value() for v in b.data_vars}, coords=coords)
    assert a.compile_logp()(point) == pytest.approx(logp_b, rel=1e-12)


_COMPILE_KEYS = """
import warnings; warnings.filterwarnings("ignore")
from nutpie.compile_pymc import _make_functions
from extent.inference.cache import _inner_cache_key, compile_scope
from extent.models.survey.builder import build_joint_model, build_survey_model
from extent.simulate.survey import simulate_survey
sim = simulate_survey("mar", seed=1, n_searched=5)
for model in [build_survey_model(sim.data, mechanism="mnar"),
              build_joint_model(sim.records, sim.data, category="cases", mechanism="mar")]:
    with compile_scope():
        fns = _make_functions(model, mode="NUMBA", compute_grad=True, join_expanded=True,
                              pymc_initial_point_fn=None, var_names=None)[2:4]
    asserts = sum("Assert" in str(n.op) for n in fns[0].maker.fgraph.apply_nodes)
    print(*[_inner_cache_key(f) for f in fns], asserts)
"""


@pytest.mark.sampling
def test_survey_compile_key_is_the_same_in_every_process():
    """The compiled log density's disk-cache key does not change between processes.

    Arrays of one dim used to get PyTensor broadcast checks whose order followed a set of variables, so every
    new process missed the disk cache and recompiled each survey model (13-19 s); declaring them one length
    removes the checks. Needs PyTensor's numba compile (not sampling), hence this tier.
    """
    import subprocess
    import sys

    runs = [subprocess.run([sys.executable, "-c", _COMPILE_KEYS], capture_output=True, text=True, check=True)
            .stdout.split("\n") for _ in range(2)]
    assert runs[0] == runs[1]
    for line in filter(None, runs[0]):
        logp_key, expand_key, asserts = line.split()
        assert "None" not in (logp_key, expand_key)  # cacheable at all
        assert asserts == "0"


def _returns_logp(model, point):
    return float(model.compile_logp(vars=[model["returned"]], sum=True)(point))


def test_returns_at_the_cap_are_right_censored(small):
    m = build_survey_model(small, mechanism="mcar")
    naive = build_survey_model(small, mechanism="mcar", censored=False)
    point = m.initial_point()
    assert point["log_rate"] == 0.0  # the prior's centre: no data-dependent start (one compiled model per shape)
    point = point | {"unit_z": np.array([0.5, 0.0, 1.0, -2.0]), "log_rate": -1.0}
    log_exposure = np.log(np.array([1e6, 5e5, 1e6]) * 4 / 1e5)
    mu = np.exp(log_exposure - 1.0 + np.exp(point["unit_sd_log__"]) * np.array([0.5, 1.0, -2.0]))
    # exact returns 3 and 0: Poisson pmf; capped return 10: P(Y >= 10)
    expected = stats.poisson.logpmf(3, mu[0]) + stats.poisson.logsf(9, mu[1]) + stats.poisson.logpmf(0, mu[2])
    assert _returns_logp(m, point) == pytest.approx(expected, rel=1e-10)
    face_value = stats.poisson.logpmf([3, 10, 0], mu).sum()
    assert _returns_logp(naive, point) == pytest.approx(face_value, rel=1e-10)
    assert m["cap"].get_value().tolist() == [10.0, 10.0, 10.0]
    # the gradient too (the series runs only where a return is at its cap): against central differences
    z = m.rvs_to_values[m["unit_z"]]
    grad = m.compile_fn(pytensor.grad(m.logp(vars=[m["returned"]]), z), inputs=[*m.value_vars],
                        on_unused_input="ignore")(point)
    h = 1e-6
    for i in range(4):
        step = np.eye(4)[i] * h
        numeric = (_returns_logp(m, point | {"unit_z": point["unit_z"] + step})
                   - _returns_logp(m, point | {"unit_z": point["unit_z"] - step})) / (2 * h)
        assert grad[i] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("returned", [[3, None, 4, 0], [10, None, 10, 10]], ids=["none-capped", "all-capped"])
def test_censored_returns_with_no_or_every_return_at_the_cap(returned):
    units = pd.DataFrame({"unit": ["a", "b", "c", "d"], "population": [1e6, 2e6, 5e5, 1e6]})
    s = SurveyData.from_frames(units, pd.DataFrame({"unit": list("abcd"), "responded": [1, 0, 1, 1],
                                                    "returned": returned}), cap=10, years=4)
    m = build_survey_model(s, mechanism="mcar")
    point = m.initial_point() | {"log_rate": 0.5}
    mu = np.exp(0.5 + np.log(np.array([1e6, 5e5, 1e6]) * 4 / 1e5))
    y = np.array([r for r in returned if r is not None])
    expected = np.where(y >= 10, stats.poisson.logsf(9, mu), stats.poisson.logpmf(y, mu)).sum()
    assert _returns_logp(m, point) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("cap", [1.0, 2.0, 10.0, 37.0, 100.0, 1000.0])
def test_log_at_least_is_exact_and_has_finite_gradients(cap):
    """With the series lengths the survey model uses (``series_terms``), worst near ``mu = cap``."""
    x, c = pt.dvector("x"), pt.dvector("c")
    lp = log_at_least(c, pt.exp(x), series_terms(cap))
    f = pytensor.function([x, c], [lp, pytensor.grad(lp.sum(), x)])
    xs = np.concatenate([np.linspace(-3, 10, 27), np.log(cap) + np.linspace(-0.3, 0.3, 13)])
    value, grad = f(xs, np.full_like(xs, cap))
    ref = stats.poisson.logsf(cap - 1, np.exp(xs))
    ok = np.isfinite(ref)
    np.testing.assert_allclose(value[ok], ref[ok], rtol=1e-12, atol=1e-13)
    assert np.isfinite(grad).all()
    # a cap below the largest one (fewer lower-series terms than it has) is exact too
    if cap > 2:
        value, _ = f(xs, np.full_like(xs, 2.0))
        np.testing.assert_allclose(value, stats.poisson.logsf(1, np.exp(xs)), rtol=1e-12, atol=1e-13)


def test_fixed_parameters_and_bad_settings(small):
    m = build_survey_model(small, mechanism="mnar", fixed={"selection": -1.5})
    assert "selection" not in [v.name for v in m.free_RVs]
    assert float(m["selection"].get_value()) == -1.5
    with pytest.raises(ConfigError, match=r"cannot fix \['delta'\] in the mnar model"):
        build_survey_model(small, mechanism="mnar", fixed={"delta": 1.0})
    with pytest.raises(ConfigError, match="mechanism must be one of mcar, mar, mnar, delta; got 'nmar'"):
        build_survey_model(small, mechanism="nmar")
    assert set(DEFAULT_PRIORS) >= {"selection", "delta", "unit_sd"}


def test_no_responder_is_an_error():
    units = pd.DataFrame({"unit": ["a", "b"], "population": [1e6, 2e6]})
    s = SurveyData.from_frames(units, pd.DataFrame({"unit": ["a", "b"], "responded": [0, 0], "returned": [None, None]}))
    with pytest.raises(DataValidationError, match="no unit responded"):
        build_survey_model(s)


def _idata(log_caseload: np.ndarray, n_draw: int = 4000, **extra) -> az.InferenceData:
    post = {"log_caseload": np.broadcast_to(log_caseload, (1, n_draw, len(log_caseload))).copy()}
    post |= {k: np.full((1, n_draw), v) for k, v in extra.items()}
    return az.from_dict(posterior=post, dims={"log_caseload": ["unit"]})


def test_survey_totals_add_known_returns_censored_tails_and_predictions(small):
    # tiny rates: silent unit b adds ~0, capped unit c adds exactly its cap
    t = survey_totals(_idata(np.full(4, -30.0)), small, seed=1)
    assert t.dims == ("chain", "draw")
    assert np.unique(t.values).tolist() == [3 + 10 + 0]
    # large rate at the capped unit: its draws are the Poisson truncated at >= 10
    lc = np.array([-30.0, np.log(5.0), np.log(8.0), -30.0])
    t = survey_totals(_idata(lc, 20_000), small, seed=2).values.ravel()
    k = np.arange(10, 60)
    trunc_mean = (k * stats.poisson.pmf(k, 8.0)).sum() / stats.poisson.sf(9, 8.0)
    assert t.mean() == pytest.approx(3 + 0 + 5.0 + trunc_mean, abs=0.1)
    assert t.min() >= 13
    # delta: non-responder b's rate doubles
    t2 = survey_totals(_idata(lc, 20_000), small, seed=2, delta=np.log(2.0)).values.ravel()
    assert t2.mean() - t.mean() == pytest.approx(5.0, abs=0.15)


def test_simulated_survey_is_labelled_and_reproducible():
    a, b = simulate_survey("mnar", seed=11), simulate_survey("mnar", seed=11)
    assert a.data.simulated and a.data.name.startswith("simulated mnar")
    assert "SIMULATED" in a.data.notes[0] and "SIMULATED" in repr(a.data)
    pd.testing.assert_frame_equal(a.data.responses, b.data.responses)
    assert a.total == float(a.caseload.sum()) == b.total
    r = a.data.responses
    resp = r["responded"].to_numpy() == 1
    np.testing.assert_array_equal(r["returned"].to_numpy()[resp], np.minimum(a.caseload[resp], 10))
    assert a.truth["selection"] == -1.0
    with pytest.raises(ConfigError):
        simulate_survey("nmar", seed=1)


def test_simulated_mnar_busier_units_answer_less():
    # across many units, non-responders have larger caseloads per head than responders
    sims = [simulate_survey("mnar", seed=s, rate_coef_pop=0.0) for s in range(20)]
    ratio = []
    for s in sims:
        rate = s.caseload / s.data.units["population"].to_numpy()
        resp = s.data.responses["responded"].to_numpy() == 1
        ratio.append(rate[~resp].mean() / rate[resp].mean())
    assert np.mean(ratio) > 1.3


def test_sensitivity_tipping_point_interpolates():
    table = pd.DataFrame({"parameter": "selection", "value": [-2.0, -1.0, 0.0, 1.0], "estimand": "per_annum",
                          "estimate": [300.0, 200.0, 150.0, 120.0], "lower": [100.0, 90.0, 80.0, 70.0],
                          "upper": [700.0, 400.0, 250.0, 200.0], "level": 0.9})
    s = Sensitivity(parameter="selection", table=table, reference=pd.DataFrame(columns=["mechanism", "estimand"]))
    tp = s.tipping_point(300.0)
    assert tp.value == pytest.approx(-1.0 + 100.0 / 150.0)
    assert tp.holds_at == (0.0, 1.0)
    assert "flips at selection = -0.33" in tp.text
    assert np.isnan(s.tipping_point(1000.0).value) and "holds" in s.tipping_point(1000.0).text
    assert "fails" in s.tipping_point(100.0).text
    fig = s.plot(estimand="per_annum", threshold=300.0)
    assert fig.axes[0].get_xlabel().startswith("selection")


def test_survey_result_tidy_table(small, tmp_path):
    import xarray as xr

    from extent.inference import Diagnostics

    national = xr.DataArray(np.arange(1.0, 1001.0).reshape(1, 1000), dims=("chain", "draw"))
    idata = _idata(np.zeros(4), 1000, response_intercept=0.0)
    res = SurveyResult(mechanism="mar", data=small, national=national, years=4.0, idata=idata,
                       diagnostics=Diagnostics(1.0, 500, 500, 0, 1000, 1))
    table = res.national_extent(0.9)
    assert table.columns.tolist() == ["category", "estimator", "mechanism", "estimand", "estimate", "lower",
                                      "upper", "level", "converged", "rhat", "ess_bulk"]
    assert set(table["category"]) == {"cases"} and set(table["estimator"]) == {"survey"}
    assert table["converged"].all() and np.isnan(table["rhat"]).all()  # one chain: no R-hat
    total = table.set_index("estimand").loc["total"]
    assert total["estimate"] == pytest.approx(500.5)
    assert (total["lower"], total["upper"]) == pytest.approx((50.95, 950.05))
    assert table.set_index("estimand").loc["per_unit_per_annum", "estimate"] == pytest.approx(500.5 / 16)
    assert res.prob_below(100.0, "per_annum") == pytest.approx(0.399)
    with pytest.raises(ConfigError, match="level must be in"):
        res.national_extent(1.5)
    path = res.to_netcdf(Path(tmp_path) / "survey.nc", keep_counts=True)
    saved = az.from_netcdf(str(path))
    assert saved.predictions.attrs["extent_mechanism"] == "mar"
    assert saved.predictions.attrs["extent_data_hash"] == small.hash()
    assert float(saved.predictions["national_total"].sum()) == pytest.approx(500500.0)
    assert saved["fit_data_survey"]["returned"].values[0] == 3.0
    withheld = az.from_netcdf(str(res.to_netcdf(Path(tmp_path) / "withheld.nc")))
    assert withheld["fit_data_survey"]["returned"].isnull().all()


def test_survey_summary_intervals_are_equal_tailed_quantiles(small):
    """On skewed draws a highest-density interval sits far from the 5% and 95% quantiles: the ``eti_`` columns
    are the quantiles (they once held HDI bounds, 0.0003 where the 5% quantile was 0.052)."""
    import xarray as xr

    from extent.inference import Diagnostics

    rng = np.random.default_rng(7)
    unit_sd = rng.exponential(1.0, size=(2, 2000))
    rate_coef = rng.lognormal(0.0, 1.0, size=(2, 2000, 2))
    idata = az.from_dict(posterior={"unit_sd": unit_sd, "rate_coef": rate_coef}, dims={"rate_coef": ["covariate"]},
                         coords={"covariate": ["x1", "x2"]})
    res = SurveyResult(mechanism="mar", data=small, national=xr.DataArray(np.ones((2, 2000)), dims=("chain", "draw")),
                       years=4.0, idata=idata, diagnostics=Diagnostics(1.0, 500, 500, 0, 2000, 2))
    s = res.summary(0.9)
    assert list(s.columns) == ["mean", "sd", "median", "eti_5.0%", "eti_95.0%", "ess_bulk", "ess_tail", "r_hat"]
    assert list(s.index) == ["unit_sd", "rate_coef[x1]", "rate_coef[x2]"]
    for label, draws in [("unit_sd", unit_sd), ("rate_coef[x1]", rate_coef[..., 0]), ("rate_coef[x2]", rate_coef[..., 1])]:
        lo, med, hi = np.quantile(draws, [0.05, 0.5, 0.95])
        assert s.loc[label, ["eti_5.0%", "median", "eti_95.0%"]].tolist() == pytest.approx([lo, med, hi])
    hdi_lo = float(az.hdi(unit_sd.ravel(), hdi_prob=0.9)[0])
    assert s.loc["unit_sd", "eti_5.0%"] > hdi_lo + 0.03  # the 5% quantile (about 0.05), not the HDI's bound (~0)


def test_survey_result_netcdf_round_trip(tmp_path):
    import xarray as xr

    from extent.exceptions import ExtentError
    from extent.inference import Diagnostics

    sim = simulate_survey("mar", seed=4)
    data = sim.data
    rng = np.random.default_rng(0)
    national = xr.DataArray(rng.poisson(400, (2, 50)).astype(float), dims=("chain", "draw"),
                            coords={"chain": [0, 1], "draw": np.arange(50)}, name="national_total")
    idata = _idata(np.zeros(data.n_units), 100, response_intercept=0.3)
    res = SurveyResult(mechanism="mnar", data=data, national=national, years=4.0, idata=idata,
                       diagnostics=Diagnostics(1.002, 812.0, 640.0, 1, 50, 2),
                       settings={"mechanism": "mnar", "fixed": {"selection": -1.0}})
    back = SurveyResult.from_netcdf(res.to_netcdf(tmp_path / "fit.nc", keep_counts=True))
    assert back.mechanism == "mnar" and back.years == 4.0
    assert back.diagnostics == res.diagnostics
    assert back.settings == res.settings and back.created_at == res.created_at
    np.testing.assert_array_equal(back.national.sel(category="cases").values, national.values)
    pd.testing.assert_frame_equal(back.national_extent(0.8), res.national_extent(0.8))
    assert back.data.hash() == data.hash()
    assert back.data.simulated and back.data.notes == data.notes and back.data.covariates == ("other_stages",)
    pd.testing.assert_frame_equal(back.data.covariate_matrix(), data.covariate_matrix())
    np.testing.assert_array_equal(back.data.responses["cap"], np.full(data.n_surveyed, 10.0))
    assert float(back.idata.posterior["response_intercept"].mean()) == 0.3
    assert "fit_data_units" not in back.idata.groups()
    with pytest.raises(ExtentError, match="file not found"):
        SurveyResult.from_netcdf(tmp_path / "missing.nc")
    az.from_dict(posterior={"x": np.zeros((1, 3))}).to_netcdf(str(tmp_path / "other.nc"))
    with pytest.raises(ExtentError, match="not an extent survey result file"):
        SurveyResult.from_netcdf(tmp_path / "other.nc")


def test_joint_model_shares_units(small):
    counts = pd.DataFrame({"unit": ["a", "b"], "category": ["x", "x"], "cases": [4, 9], "years": [4, 4]})
    records = ExtentData.from_frames(small.units.reset_index(), counts, covariates=small.covariates)
    m = build_joint_model(records, small, category="x", mechanism="mnar")
    assert m.coords["searched_unit"] == ("a", "b")
    assert [v.name for v in m.observed_RVs] == ["responded", "returned", "cases"]
    assert "survey_effect" in [v.name for v in m.free_RVs]
    assert np.isfinite(m.compile_logp()(m.initial_point()))
    with pytest.raises(ConfigError, match="unknown category 'y'"):
        build_joint_model(records, small, category="y")
    other = ExtentData.from_frames(pd.DataFrame({"unit": ["a", "z"], "population": [1e6, 1e6]}),
                                   counts.iloc[:1])
    with pytest.raises(DataValidationError, match="units differ"):
        build_joint_model(other, small, category="x")


def test_npqs_section_uses_only_published_aggregates(report):
    from extent.reporting.npqs import implied_mean, mean_capped_return, npqs_section

    s = npqs_section(report, seed=3)
    r = s.response_table.set_index("took_part_in_other_stages")
    assert (r.loc["yes", "forces"], r.loc["yes", "responded"]) == (32, 20)
    assert (r.loc["no", "forces"], r.loc["no", "responded"]) == (20, 4)
    assert r.loc["yes", "response_rate"] == 0.625 and r.loc["no", "response_rate"] == 0.2
    assert r.loc["difference (yes - no)", "lower"] > 0.1
    t = s.table.set_index("between_force_sd")
    # no spread: almost no capping, mean close to 113 / 24
    assert t.loc[0.0, "mean_cases_per_responder"] == pytest.approx(4.7, abs=0.05)
    assert t.loc[2.0, "mean_cases_per_responder"] > 20
    assert t["national_total_mcar"].is_monotonic_increasing
    assert mean_capped_return(implied_mean(113 / 24, 1.0), 1.0) == pytest.approx(113 / 24, rel=1e-8)
    assert "at most 11 could have been" in s.markdown
    assert "cannot support" in s.markdown and "does not invent" in s.markdown
    assert len(s.as_sections()) == 2


def test_cli_survey_bad_input_exits_2_with_one_line(tmp_path):
    from extent.cli.main import app

    u, s = tmp_path / "u.csv", tmp_path / "s.csv"
    pd.DataFrame({"unit": ["a", "b"], "population": [1e6, 2e6]}).to_csv(u, index=False)
    pd.DataFrame({"unit": ["a", "b"], "responded": [1, 0], "returned": [3, 5]}).to_csv(s, index=False)
    runner = CliRunner()
    res = runner.invoke(app, ["survey", "--units", str(u), "--survey", str(s)])
    assert res.exit_code == 2
    assert res.output.strip() == f"extent: error: {s}, row 2, column 'returned': 5 given but responded is 0; leave it empty"
    res = runner.invoke(app, ["survey", "--units", str(u), "--survey", str(s), "--mechanism", "nmar"])
    assert res.exit_code == 2
    assert "--mechanism must be one of mcar, mar, mnar, delta or all; got 'nmar'" in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mechanism", "mar", "--threshold", "100"], "--threshold needs --mechanism mnar, delta or all"),
        (["--mechanism", "delta", "--threshold", "-5"], "--threshold must be > 0 (cases per annum), got -5.0"),
        (["--mechanism", "delta", "--sensitivity-out", "x.csv"], "--sensitivity-out needs --threshold N"),
        (["--mechanism", "mcar", "--out", "SURVEY"], "is an input file; it would be overwritten"),
        (["--mechanism", "mcar", "--seed", "-3"], "random_seed must be an integer"),
    ],
)
def test_cli_survey_threshold_errors_exit_2(tmp_path, args, message):
    from extent.cli.main import app

    u, s = tmp_path / "u.csv", tmp_path / "s.csv"
    pd.DataFrame({"unit": ["a", "b"], "population": [1e6, 2e6]}).to_csv(u, index=False)
    pd.DataFrame({"unit": ["a", "b"], "responded": [1, 0], "returned": [3, None]}).to_csv(s, index=False)
    args = [str(s) if a == "SURVEY" else a for a in args]
    res = CliRunner().invoke(app, ["survey", "--units", str(u), "--survey", str(s), *args])
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())
    assert pd.read_csv(s)["unit"].tolist() == ["a", "b"]  # the input is untouched


def test_tipping_point_is_unreliable_when_a_grid_fit_has_not_converged():
    table = pd.DataFrame({"parameter": "selection", "value": [-1.0, 0.0, 1.0], "estimand": "per_annum",
                          "estimate": [200.0, 150.0, 120.0], "lower": [90.0, 80.0, 70.0],
                          "upper": [400.0, 250.0, 200.0], "level": 0.9, "converged": [True, False, True]})
    s = Sensitivity(parameter="selection", table=table, reference=pd.DataFrame(columns=["mechanism", "estimand"]))
    tp = s.tipping_point(300.0)
    assert not tp.reliable and tp.unconverged == (0.0,)
    assert tp.text.startswith("UNRELIABLE: 1 of 3 sensitivity fits have not converged (selection = 0); do not cite")
    good = Sensitivity(parameter="selection", table=table.assign(converged=True), reference=s.reference)
    assert good.tipping_point(300.0).reliable and "UNRELIABLE" not in good.tipping_point(300.0).text


def test_sensitivity_reports_progress_after_each_fit(small, monkeypatch):
    """``progress(done, total)`` after every fit of the grid and the references (no sampling: a stand-in fit)."""
    from extent.estimators.survey import SurveyEstimator

    class Fit:
        converged = True

        def __init__(self, est):
            self.scale = 1.0 + est.fixed.get("selection", 0.0)

        def draws(self, estimand):
            return xr.DataArray(np.full(100, 40.0 * self.scale))

        def national_extent(self, level):
            return pd.DataFrame({"mechanism": ["mcar"], "estimand": ["total"], "estimate": [40.0]})

    monkeypatch.setattr(SurveyEstimator, "fit", lambda self, survey: Fit(self))
    calls = []
    sens = SurveyEstimator(mechanism="mnar").sensitivity(small, values=(0.0, 1.0, 2.0), reference=("mcar",),
                                                         progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    totals = sens.table.query("estimand == 'total'").set_index("value")["estimate"]
    assert totals.to_dict() == {0.0: 40.0, 1.0: 80.0, 2.0: 120.0}
    assert SurveyEstimator(mechanism="mnar").sensitivity(small, values=(0.0,), reference=()).table["value"].tolist() \
        == [0.0, 0.0, 0.0]  # no callback: the same analysis
