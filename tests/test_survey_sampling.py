"""Survey non-response models with real NUTS runs: small seeded fits (``sampling``) and coverage studies (``slow``).

The slow studies are the ones reported in ``docs/survey.md`` (same scenarios, seeds and sampler settings).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from extent.data import ExtentData
from extent.estimators.survey import SurveyEstimator
from extent.exceptions import ConvergenceWarning
from extent.inference import SamplerConfig
from extent.simulate.survey import coverage_study, simulate_survey

FAST = SamplerConfig(draws=300, tune=300, chains=2, target_accept=0.9, random_seed=5, nuts_sampler="pymc")
STUDY = SamplerConfig(draws=250, tune=250, chains=2, target_accept=0.9, nuts_sampler="pymc")
STUDY_REPS = 25


def _fit(est, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(data, **kw)


@pytest.fixture(scope="module")
def mcar_survey():
    return simulate_survey("mcar", seed=21)


@pytest.mark.sampling
def test_mcar_fit_covers_truth_and_is_reproducible(mcar_survey):
    data, truth = mcar_survey.data, mcar_survey.total
    a = _fit(SurveyEstimator(mechanism="mcar", sampler=FAST), data)
    est, lo, hi = a.interval("total", 0.9)
    assert lo <= truth <= hi
    assert 0.6 * truth < est < 1.6 * truth
    assert lo >= data.returned_total  # the total can never be below what was returned
    assert a.diagnostics.draws == 300 and a.diagnostics.chains == 2
    assert a.diagnostics.max_rhat < 1.05
    assert a.response_rate() == pytest.approx(data.n_responded / data.n_surveyed, abs=0.05)
    b = _fit(SurveyEstimator(mechanism="mcar", sampler=FAST), data)
    np.testing.assert_array_equal(a.national.values, b.national.values)
    table = a.national_extent(0.9)
    assert table["mechanism"].unique().tolist() == ["mcar"]
    assert table.set_index("estimand").loc["per_annum", "estimate"] == pytest.approx(est / data.years)
    assert "log_rate" in a.summary().index


@pytest.mark.sampling
def test_ignoring_the_cap_lowers_the_total():
    sim = simulate_survey("mcar", seed=3)  # the first seed with 9 or more returns at the cap
    assert sim.data.n_capped == 9
    cens = _fit(SurveyEstimator(mechanism="mcar", sampler=FAST), sim.data)
    naive = _fit(SurveyEstimator(mechanism="mcar", sampler=FAST, censored=False), sim.data)
    assert naive.interval("total")[0] < 0.8 * cens.interval("total")[0]
    assert naive.interval("total")[2] < sim.total  # face-value returns miss the truth entirely
    assert cens.interval("total")[1] <= sim.total <= cens.interval("total")[2]


@pytest.mark.sampling
def test_delta_sensitivity_table_and_tipping_point(mcar_survey, tmp_path):
    est = SurveyEstimator(mechanism="delta", sampler=FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sens = est.sensitivity(mcar_survey.data, values=(0.0, 0.5, 1.0, 2.0), reference=())
    t = sens.table[sens.table["estimand"] == "total"].set_index("value")
    assert t["estimate"].is_monotonic_increasing
    assert t.loc[2.0, "estimate"] > 2 * t.loc[0.0, "estimate"]  # silent units x e^2 = 7.4 times busier
    threshold = float((t.loc[0.0, "upper"] + t.loc[2.0, "upper"]) / 2)
    tp = sens.tipping_point(threshold, estimand="total")
    assert 0.0 < tp.value < 2.0
    assert tp.holds_at[0] == 0.0 and 2.0 not in tp.holds_at
    assert sens.plot(threshold=threshold).axes[0].get_ylabel() == "national total"


@pytest.mark.sampling
def test_joint_model_uses_searches_and_survey(mcar_survey):
    data = mcar_survey.data
    searched = ["unit_01", "unit_02", "unit_03"]
    counts = pd.DataFrame({"unit": searched, "category": "cases",
                           "cases": mcar_survey.caseload[:3], "years": data.years})
    records = ExtentData.from_frames(data.units.reset_index(), counts)
    fit = _fit(SurveyEstimator(mechanism="mar", sampler=FAST), data, records=records, category="cases")
    assert fit.mechanism == "joint-mar"
    _est, lo, hi = fit.interval("total")
    assert lo <= mcar_survey.total <= hi
    assert fit.idata.observed_data["cases"].values.tolist() == mcar_survey.caseload[:3].tolist()


@pytest.mark.sampling
def test_cli_survey_writes_tidy_csv(tmp_path, mcar_survey):
    from typer.testing import CliRunner

    from extent.cli.main import app

    data = mcar_survey.data
    u, s, out = tmp_path / "u.csv", tmp_path / "s.csv", tmp_path / "out.csv"
    data.units.reset_index()[["unit", "population", "other_stages"]].to_csv(u, index=False)
    data.responses.drop(columns="cap").to_csv(s, index=False)
    res = CliRunner().invoke(app, ["survey", "--units", str(u), "--survey", str(s), "--mechanism", "mcar",
                                   "--cap", "10", "--years", "4", "--draws", "200", "--tune", "200",
                                   "--chains", "2", "--seed", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert table.columns.tolist() == ["mechanism", "estimand", "estimate", "lower", "upper", "level"]
    assert table["estimand"].tolist() == ["total", "per_annum", "per_unit_per_annum"]
    total = table.iloc[0]
    assert total["lower"] <= mcar_survey.total <= total["upper"]
    assert total["level"] == 0.9


# -- coverage studies (docs/survey.md) ---------------------------------------------------------------------
def _study(scenario, models, censored=None):
    seed = 1000 * (1 + ["mcar", "mar", "mnar"].index(scenario))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return coverage_study(scenario, models, n_reps=STUDY_REPS, seed=seed, sampler=STUDY, censored=censored)


@pytest.mark.slow
def test_coverage_mcar_and_cap_bias():
    df = _study("mcar", ("mcar", "mcar"), censored=(True, False))
    cens, naive = df[df["censored"]], df[~df["censored"]]
    assert cens["covered"].mean() >= 0.76  # nominal 0.9; 25 reps: binomial sd 0.06
    assert abs(cens["rel_error"].median()) < 0.1
    assert naive["rel_error"].mean() < cens["rel_error"].mean() - 0.05  # ignoring the cap: biased low
    assert naive["covered"].mean() < cens["covered"].mean()


@pytest.mark.slow
def test_coverage_mar_and_mcar_bias_under_mar():
    df = _study("mar", ("mar", "mcar"))
    mar, mcar = df[df["model"] == "mar"], df[df["model"] == "mcar"]
    assert mar["covered"].mean() >= 0.76
    assert abs(mar["rel_error"].median()) < 0.15
    assert mcar["rel_error"].median() < mar["rel_error"].median()


@pytest.mark.slow
def test_mnar_default_prior_corrects_part_of_the_mcar_bias():
    df = _study("mnar", ("mnar", "mcar"))
    mnar, mcar = df[df["model"] == "mnar"], df[df["model"] == "mcar"]
    assert mcar["rel_error"].median() < -0.3  # busier units answer less: MCAR is biased low
    assert mcar["covered"].mean() < 0.4
    # the neutral Normal(0, 1) selection prior is only weakly updated: a partial correction
    assert mnar["rel_error"].median() > mcar["rel_error"].median() + 0.1
    assert mnar["covered"].mean() >= 0.6
    assert (mnar["upper"].to_numpy() > mcar["upper"].to_numpy()).mean() > 0.9


@pytest.mark.slow
def test_coverage_mnar_when_the_selection_prior_states_the_mechanism():
    from extent.priors import Prior

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = coverage_study("mnar", ("mnar",), n_reps=STUDY_REPS, seed=3000, sampler=STUDY,
                            priors={"selection": Prior("Normal", mu=-1.0, sigma=0.5)})
    assert df["covered"].mean() >= 0.7  # measured 19/25; P(<= 17/25 | coverage 0.9) = 0.009
    assert abs(df["rel_error"].median()) < 0.2


@pytest.mark.slow
def test_selection_sensitivity_shows_mcar_bias_direction():
    sim = simulate_survey("mnar", seed=8)
    est = SurveyEstimator(mechanism="mnar", sampler=STUDY.with_(random_seed=8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sens = est.sensitivity(sim.data, values=(-2.0, -1.0, 0.0, 1.0), reference=("mcar",))
    t = sens.table[sens.table["estimand"] == "total"].set_index("value")
    assert t["estimate"].is_monotonic_decreasing  # the more busier units stay silent, the larger the total
    mcar = float(sens.reference.set_index("estimand").loc["total", "estimate"])
    assert mcar < t.loc[-1.0, "estimate"]
    assert t.loc[-1.0, "lower"] <= sim.total <= t.loc[-1.0, "upper"]
