"""Survey non-response models with real NUTS runs: small seeded fits (``sampling``) and coverage studies (``slow``).

The slow studies are the ones reported in ``docs/survey.md`` (same scenarios, seeds and sampler settings).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from extent.calibrate.survey_coverage import (
    CALIBRATIONS,
    STUDIES,
    STUDY_SAMPLER,
    calibration_study,
    coverage_study,
)
from extent.data import ExtentData
from extent.estimators.survey import SurveyEstimator
from extent.exceptions import ConvergenceError, ConvergenceWarning
from extent.inference import SamplerConfig
from extent.simulate.survey import simulate_survey

FAST = SamplerConfig(draws=300, tune=300, chains=2, target_accept=0.9, random_seed=5, nuts_sampler="pymc")
STUDY = SamplerConfig(**STUDY_SAMPLER)


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
    pa, plo, phi = a.interval("per_annum")
    if not a.withheld():
        assert a.citation() == (f"mcar: about {pa:,.0f} cases per annum nationally (90% credible interval "
                                f"{plo:,.0f} to {phi:,.0f}, SIMULATED data).")
    bad = dataclasses.replace(a, diagnostics=dataclasses.replace(a.diagnostics, divergences=4))
    assert "4 divergent transitions" in bad.withheld()["cases"]
    with pytest.raises(ConvergenceError, match="mcar: citable sentence withheld"):
        bad.citation()
    assert "[WARNING: NOT CONVERGED (" in bad.citation(force=True)


@pytest.mark.sampling
def test_ignoring_the_cap_lowers_the_total():
    sim = simulate_survey("mcar", seed=3)  # the first seed with 9 or more returns at the cap
    assert sim.data.n_capped == 9
    cens = _fit(SurveyEstimator(mechanism="mcar", sampler=FAST), sim.data)
    naive = _fit(SurveyEstimator(mechanism="mcar", sampler=FAST, censored=False), sim.data)
    assert naive.interval("total").estimate < 0.8 * cens.interval("total").estimate
    assert naive.interval("total").upper < sim.total  # face-value returns miss the truth entirely
    assert cens.interval("total").lower <= sim.total <= cens.interval("total").upper


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
    records = ExtentData.from_frames(data.units.reset_index(), counts, covariates=data.covariates)
    fit = _fit(SurveyEstimator(mechanism="mar", sampler=FAST), data, records=records, category="cases")
    assert fit.mechanism == "joint-mar"
    _est, lo, hi = fit.interval("total")
    assert lo <= mcar_survey.total <= hi
    assert fit.idata.observed_data["cases"].values.tolist() == mcar_survey.caseload[:3].tolist()


def _survey_csvs(folder, data):
    """The units and survey CSVs an analyst would hand to ``extent survey`` (caps left to ``--cap``)."""
    u, s = folder / "u.csv", folder / "s.csv"
    data.units.reset_index()[["unit", "population", "other_stages"]].to_csv(u, index=False)
    data.responses.drop(columns="cap").to_csv(s, index=False)
    return u, s


@pytest.mark.sampling
def test_cli_survey_writes_tidy_csv(tmp_path, mcar_survey):
    from typer.testing import CliRunner

    from extent.cli.main import app

    u, s = _survey_csvs(tmp_path, mcar_survey.data)
    out = tmp_path / "out.csv"
    res = CliRunner().invoke(app, ["survey", "--units", str(u), "--survey", str(s), "--mechanism", "mcar",
                                   "--cap", "10", "--years", "4", "--draws", "200", "--tune", "200",
                                   "--chains", "2", "--seed", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Tipping point" not in res.output  # only with --threshold
    table = pd.read_csv(out)
    assert table.columns.tolist() == ["category", "estimator", "mechanism", "estimand", "estimate", "lower",
                                      "upper", "level", "converged", "rhat", "ess_bulk"]
    assert table["estimand"].tolist() == ["total", "per_annum", "per_unit_per_annum"]
    # 2 x 200 draws: short of the ESS the diagnostics ask for, and the CSV says so on every row
    assert table["converged"].nunique() == 1 and (table["rhat"] < 1.05).all() and (table["ess_bulk"] > 50).all()
    assert bool(table["converged"].iloc[0]) == ("NOT CONVERGED" not in res.output)
    assert "Citable sentences:" in res.output
    assert ("mcar: WITHHELD" in res.output and "Withheld 1 of 1" in res.output) == (not table["converged"].iloc[0])
    total = table.iloc[0]
    assert total["lower"] <= mcar_survey.total <= total["upper"]
    assert total["level"] == 0.9


@pytest.mark.sampling
def test_cli_survey_threshold_prints_and_writes_the_tipping_point(tmp_path, mcar_survey):
    from typer.testing import CliRunner

    from extent.cli.main import app

    u, s = _survey_csvs(tmp_path, mcar_survey.data)
    grid = tmp_path / "grid.csv"
    args = ["survey", "--units", str(u), "--survey", str(s), "--mechanism", "delta", "--cap", "10", "--years", "4",
            "--draws", "200", "--tune", "200", "--chains", "2", "--seed", "3"]
    # a threshold between the per-annum upper bounds at delta = 0 and delta = 2 flips inside the grid
    # 200 draws: the fit is flagged unreliable, so the tipping point is printed only on request, marked
    res = CliRunner().invoke(app, [*args, "--threshold", "120", "--sensitivity-out", str(grid), "--cite-unconverged"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(grid)
    assert table.columns.tolist() == ["mechanism", "parameter", "value", "estimand", "estimate", "lower", "upper",
                                      "level", "converged", "threshold", "holds", "tipping_point", "conclusion",
                                      "reliable"]
    assert (table["reliable"] == table["converged"].all()).all()
    assert set(table["mechanism"]) == {"delta"} and set(table["estimand"]) == {"per_annum"}
    assert table["value"].tolist() == [-0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
    assert (table["holds"] == (table["upper"] < 120)).all()
    assert table["holds"].iloc[0] and not table["holds"].iloc[-1]  # upper bounds rise with delta
    value = float(table["tipping_point"].iloc[0])
    assert table.loc[table["holds"], "value"].max() < value < table.loc[~table["holds"], "value"].min()
    printed = " ".join(res.output.split())
    assert not table["reliable"].any()
    assert "Tipping point (delta): UNRELIABLE: 6 of 6 sensitivity fits have not converged" in printed
    assert "do not cite this: 'fewer than 120 cases per annum' holds" in printed
    assert f"{value:.2f}" in res.output


# -- coverage studies (docs/survey.md) ---------------------------------------------------------------------
# Each slow test re-runs the first replicates of a study of docs/survey.md (same seeds, same sampler: replicate k
# is the same survey and the same fit whatever the number of replicates), sized to about 3 minutes on one core.
# Coverage is checked against the central 99% range of Binomial(n, 0.9): a correct 90% interval fails the check
# with probability about 1%, and the check cannot be met by intervals far from nominal.
def _study(name, n_reps, **changes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return coverage_study(n_reps=n_reps, **(STUDIES[name] | changes))


def _nominal(covered: pd.Series, level: float = 0.9, prob: float = 0.99) -> bool:
    n, k = len(covered), int(covered.sum())
    return stats.binom.ppf((1 - prob) / 2, n, level) <= k <= stats.binom.ppf((1 + prob) / 2, n, level)


@pytest.mark.slow
def test_coverage_mcar():
    df = _study("mcar", 60, models=("mcar",), censored=(True,))
    assert _nominal(df["covered"])
    assert abs(df["rel_error"].median()) < 0.1


@pytest.mark.slow
def test_ignoring_the_cap_is_biased_low_and_censoring_is_not():
    df = _study("mcar", 25)
    cens, naive = df[df["censored"]], df[~df["censored"]]
    assert naive["rel_error"].median() < -0.15  # face-value returns lose the cases above the cap
    assert (naive["estimate"].to_numpy() < cens["estimate"].to_numpy()).all()
    assert (naive["upper"] < naive["truth"]).mean() > 0.5  # most naive intervals lie entirely below the truth
    assert abs(cens["rel_error"].median()) < 0.1


@pytest.mark.slow
def test_coverage_mar():
    df = _study("mar", 50, models=("mar",))
    assert _nominal(df["covered"])
    assert abs(df["rel_error"].median()) < 0.15


@pytest.mark.slow
def test_coverage_mnar_when_the_selection_prior_states_the_mechanism():
    df = _study("mnar_stated", 50)
    assert _nominal(df["covered"])
    assert abs(df["rel_error"].median()) < 0.15


@pytest.mark.slow
def test_mcar_is_biased_low_under_mnar_and_the_selection_model_corrects_part():
    df = _study("mnar", 25)
    mnar, mcar = df[df["model"] == "mnar"], df[df["model"] == "mcar"]
    assert mcar["rel_error"].median() < -0.3  # busier units answer less: MCAR is biased low
    assert (mcar["lower"] > mcar["truth"]).sum() == 0 and (mcar["upper"] < mcar["truth"]).mean() > 0.4
    # the neutral Normal(0, 1) selection prior is only weakly updated: a partial correction, wide intervals
    assert mnar["rel_error"].median() > mcar["rel_error"].median() + 0.1
    assert (mnar["upper"].to_numpy() > mcar["upper"].to_numpy()).mean() > 0.9


@pytest.mark.slow
def test_coverage_delta_with_delta_drawn_from_its_prior():
    df = _study("delta", 50)
    assert _nominal(df["covered"])


@pytest.mark.slow
def test_coverage_joint_records_and_survey():
    df = _study("joint", 50)
    assert _nominal(df["covered"])
    assert abs(df["rel_error"].median()) < 0.15


@pytest.mark.slow
def test_selection_model_is_calibrated_on_its_own_priors():
    from extent.calibrate.sbc import rank_uniformity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = calibration_study(n_reps=50, **CALIBRATIONS["mnar"])
    assert _nominal(df["covered"])
    cols = [c for c in df if c.startswith("rank_")]
    ranks = df.melt(id_vars=["n_rank_draws"], value_vars=cols, var_name="quantity", value_name="rank")
    uniform = rank_uniformity(ranks.rename(columns={"n_rank_draws": "n_draws"}))
    assert (uniform["p_value"] > 0.001).all(), uniform


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
