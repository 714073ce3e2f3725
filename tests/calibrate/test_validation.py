"""Real-data validation: search designs, the study spec and its seeds, the task, scores and the command.

Unmarked tests run no MCMC: the hierarchical fit is replaced by a seeded stand-in
(:func:`fake_fit`) and ``extent.elicitation`` by a module that records its calls. One ``sampling`` test runs
two tiny real fits.
"""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from extent.calibrate import (
    SEARCH_DESIGNS,
    ReplicateRecord,
    ValidationStudy,
    metropolitan_like,
    run_study,
    run_validation,
    run_validation_task,
    search_units,
)
from extent.calibrate import validation as validation_module
from extent.calibrate.validation_scores import EQUAL_WEIGHT, POOLED, validation_accuracy, validation_coverage
from extent.datasets.corpus import DATASETS, corpus_tables, load_corpus, table_frame
from extent.exceptions import ConfigError
from extent.inference import SamplerConfig


@pytest.fixture(scope="module")
def us_units():
    return table_frame(corpus_tables("us_ucr_crime")[0])


@pytest.fixture(scope="module")
def ew_units():
    return table_frame(corpus_tables("ew_recorded_crime")[0])


# -- search designs -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("design", list(SEARCH_DESIGNS))
@pytest.mark.parametrize("k", [1, 2, 3, 5, 10])
def test_designs_pick_k_distinct_units_deterministically(design, k, us_units):
    picks = [search_units(design, us_units, k, np.random.default_rng(seed)) for seed in (3, 3, 4)]
    assert len(picks[0]) == k and len(set(picks[0])) == k
    assert set(picks[0]) <= set(us_units["unit"])
    assert picks[0] == picks[1]
    if design != "largest":
        draws = {tuple(search_units(design, us_units, k, np.random.default_rng(s))) for s in range(20)}
        assert len(draws) > 1


def test_largest_is_exact(us_units):
    got = search_units("largest", us_units, 3, np.random.default_rng(0))
    assert got == list(us_units.sort_values("population", ascending=False)["unit"].iloc[:3])
    assert got[0] == "California"


def test_pps_favours_populous_units(us_units):
    pop = us_units.set_index("unit")["population"]
    mean_pop = {d: np.mean([pop[search_units(d, us_units, 3, np.random.default_rng(s))].mean() for s in range(2000)])
                for d in ("pps", "random")}
    assert mean_pop["pps"] > 1.5 * mean_pop["random"]
    hits = pd.Series([u for s in range(2000) for u in search_units("pps", us_units, 3, np.random.default_rng(s))])
    freq = hits.value_counts()
    assert freq["California"] > 10 * freq.get("Wyoming", 0)
    # random is uniform: each state is drawn 3/51 of the time, within sampling error
    rnd = pd.Series([u for s in range(2000) for u in search_units("random", us_units, 3, np.random.default_rng(s))])
    assert rnd.value_counts().max() / 2000 < 3 / 51 + 4 * np.sqrt(3 / 51 / 2000)


def test_one_per_type_covers_types(us_units):
    type_of = us_units.set_index("unit")["type"]
    for s in range(30):
        five = search_units("one_per_type", us_units, 5, np.random.default_rng(s))
        assert set(type_of[five[:4]]) == {"Northeast", "Midwest", "South", "West"}
        two = search_units("one_per_type", us_units, 2, np.random.default_rng(s))
        assert type_of[two].nunique() == 2


def test_report_design_one_metropolitan_like_unit(ew_units, us_units):
    ew_metro = metropolitan_like(ew_units)
    assert len(ew_metro) == 8 and "Greater Manchester" in ew_metro
    us_metro = metropolitan_like(us_units)
    q75 = np.quantile(us_units["population"], 0.75)
    assert set(us_metro) == set(us_units.loc[us_units["population"] >= q75, "unit"]) and len(us_metro) == 13
    for units, metro in ((ew_units, ew_metro), (us_units, us_metro)):
        for s in range(30):
            got = search_units("report", units, 3, np.random.default_rng(s))
            assert got[0] in metro and not set(got[1:]) & set(metro)


def test_design_errors(us_units):
    with pytest.raises(ConfigError, match="k must be an integer in 1..51"):
        search_units("random", us_units, 52, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="unknown search design 'nope'"):
        search_units("nope", us_units, 2, np.random.default_rng(0))


# -- the study spec -------------------------------------------------------------------------------------------
def test_study_defaults_tasks_and_identity():
    study = ValidationStudy(reps=3)
    assert study.datasets == DATASETS and study.ks == (2, 3, 5, 10) and study.sampler == SamplerConfig()
    assert study.n_tasks == len(DATASETS) * 5 * 4 * 3
    assert study.task(0) == ("ew_recorded_crime", "random", 2, 0)
    assert study.task(4) == ("ew_recorded_crime", "largest", 2, 0)
    assert study.task(len(study.cells)) == ("ew_recorded_crime", "random", 2, 1)  # replicate-major
    assert study.task(study.n_tasks - 1) == ("us_gun_murders", "largest", 10, 2)
    assert sorted({study.task(t) for t in range(study.n_tasks)}) == sorted(
        (d, g, k, r) for d in DATASETS for g in SEARCH_DESIGNS for k in (2, 3, 5, 10) for r in range(3))
    with pytest.raises(ConfigError, match="out of range"):
        study.task(study.n_tasks)
    assert study.id == ValidationStudy(reps=3).id != ValidationStudy(reps=3, seed=1).id
    assert study.id != ValidationStudy(reps=3, estimator_options={"centered": False}).id
    assert json.loads(json.dumps(study.to_dict()))["ks"] == [2, 3, 5, 10]


def test_seeds_depend_on_labels_not_on_the_grid():
    big = ValidationStudy(reps=4)
    small = ValidationStudy(datasets=("us_ucr_crime",), designs=("pps",), ks=(5,), reps=4)
    t_big = next(t for t in range(big.n_tasks) if big.task(t) == ("us_ucr_crime", "pps", 5, 2))
    assert small.task(2) == ("us_ucr_crime", "pps", 5, 2)
    assert small.seed_sequence(2).entropy == big.seed_sequence(t_big).entropy
    assert small.seed_sequence(2).spawn_key == big.seed_sequence(t_big).spawn_key
    assert small.seed_sequence(1).spawn_key != small.seed_sequence(2).spawn_key
    assert small.table_seed("us_ucr_crime", 2).spawn_key == big.table_seed("us_ucr_crime", 2).spawn_key


@pytest.mark.parametrize("kwargs, message", [
    ({"datasets": ("nope",)}, "datasets must be distinct names"),
    ({"datasets": ("us_ucr_crime", "us_ucr_crime")}, "datasets must be distinct names"),
    ({"designs": ("random", "bogus")}, "designs must be distinct names"),
    ({"ks": (0, 2)}, "ks must be distinct positive integers"),
    ({"ks": (2.5,)}, "ks must be distinct positive integers"),
    ({"ks": (43,)}, r"k = 43 leaves no unit unsearched in ew_recorded_crime \(43 units\)"),
    ({"reps": 0}, "reps must be a positive integer"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"levels": (0.9, 1.2)}, r"levels must be in \(0, 1\)"),
    ({"estimator_options": {"priors": {}}}, r"cannot set \['priors'\]"),
    ({"estimator_options": {"no_such_option": 1}}, "estimator_options: got an unexpected keyword"),
])
def test_study_validation_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ValidationStudy(**kwargs)


# -- the task, with the fit and the elicitation replaced ------------------------------------------------------
def fake_fit(study, data, priors, random_seed):
    """A seeded stand-in for the hierarchical fit: log-normal draws around the naive estimate."""
    cases = data.counts["cases"].sum()
    share = data.units.loc[data.searched_units, "population"].sum() / data.units["population"].sum()
    rng = np.random.default_rng(random_seed)
    draws = np.exp(np.log(cases / share + 1) + rng.normal(0, 0.3, 400) + rng.normal(0, 0.3))
    fit = {"divergences": int(random_seed % 3 == 0), "max_rhat": 1.0, "min_ess_bulk": 400.0,
           "converged": bool(random_seed % 3), "warnings": "", "priors": sorted(priors or {})}
    return draws, fit, {"fit": 0.01, "compile": 0.0, "sampling": 0.01}


@pytest.fixture
def fake(monkeypatch):
    """Replace the hierarchical fit and ``extent.elicitation``; yields the list of ``corpus_priors`` calls."""
    calls = []

    def corpus_priors(exclude=None, **options):
        calls.append((exclude, options))
        return {"loo_prior_without_" + str(exclude): object()}

    monkeypatch.setitem(sys.modules, "extent.elicitation", types.SimpleNamespace(corpus_priors=corpus_priors))
    monkeypatch.setattr(validation_module, "fit_hierarchical", fake_fit)
    monkeypatch.setattr(validation_module, "_PRIORS", {})
    return calls


def test_task_scores_the_table_total_and_the_naive_scaling(fake):
    study = ValidationStudy(datasets=("ew_recorded_crime", "us_ucr_crime"), designs=("random", "report"), ks=(3,),
                            reps=2)
    rec = run_validation_task(study, 6)
    assert study.task(6) == ("us_ucr_crime", "random", 3, 1)
    naive, hier = rec.estimates
    table = next(t for t in corpus_tables("us_ucr_crime") if t.name == naive["table"])
    frame = table_frame(table).set_index("unit")
    searched = naive["searched"].split(";")
    assert len(searched) == 3 and hier["searched"] == naive["searched"]
    assert naive["truth"] == hier["truth"] == float(frame["cases"].sum())
    scaled = frame.loc[searched, "cases"].sum() * frame["population"].sum() / frame.loc[searched, "population"].sum()
    assert naive["estimate"] == pytest.approx(scaled, rel=1e-12) and naive["lower_0.9"] is None
    assert hier["lower_0.95"] <= hier["lower_0.9"] <= hier["lower_0.5"] <= hier["estimate"] <= hier["upper_0.5"]
    assert hier["upper_0.5"] <= hier["upper_0.9"] <= hier["upper_0.95"]
    assert rec.fit["dataset"] == "us_ucr_crime" and rec.fit["table"] == table.name
    assert rec == run_validation_task(study, 6) and rec != run_validation_task(study, 4)
    assert ReplicateRecord.from_dict(json.loads(json.dumps(rec.to_dict()))) == rec


def test_task_uses_leave_one_dataset_out_priors(fake):
    study = ValidationStudy(datasets=("us_gun_murders", "ew_recorded_crime"), designs=("pps",), ks=(2,), reps=2)
    records = [run_validation_task(study, t) for t in range(study.n_tasks)]
    assert [r.fit["priors"] for r in records] == [["loo_prior_without_us_gun_murders"],
                                                  ["loo_prior_without_ew_recorded_crime"]] * 2
    assert fake == [("us_gun_murders", {}), ("ew_recorded_crime", {})]  # computed once per dataset and process
    off = ValidationStudy(datasets=("us_gun_murders",), designs=("pps",), ks=(2,), reps=1, leave_one_dataset_out=False)
    assert run_validation_task(off, 0).fit["priors"] == [] and len(fake) == 2


def test_log_population_option_reaches_corpus_priors(fake, monkeypatch):
    import inspect

    real = inspect.signature
    monkeypatch.setattr(validation_module.inspect, "signature",
                        lambda obj: inspect.Signature([inspect.Parameter("log_population", inspect.Parameter.KEYWORD_ONLY)])
                        if getattr(obj, "__name__", "") == "HierarchicalExtent" else real(obj))
    study = ValidationStudy(datasets=("us_gun_murders",), designs=("random",), ks=(2,), reps=1,
                            estimator_options={"log_population": False})
    run_validation_task(study, 0)
    assert fake == [("us_gun_murders", {"log_population": False})]


def test_a_replicate_uses_the_same_table_for_every_design_and_k(fake):
    study = ValidationStudy(datasets=("us_ucr_crime",), designs=("random", "largest"), ks=(2, 5), reps=3)
    tables = {}
    for t in range(study.n_tasks):
        rep = study.task(t)[3]
        tables.setdefault(rep, set()).add(run_validation_task(study, t).estimates[0]["table"])
    assert all(len(v) == 1 for v in tables.values()) and len(set.union(*tables.values())) == 3


def test_serial_validation_tables_files_and_resume(fake, tmp_path):
    study = ValidationStudy(datasets=("us_gun_murders", "ew_recorded_crime"), designs=("random", "largest"),
                            ks=(2, 3), reps=5)
    res = run_validation(study, serial=True, checkpoint=tmp_path / "ck.jsonl")
    assert res.run.complete and len(res.records) == study.n_tasks == 40
    est = res.estimates()
    assert len(est) == 80 and set(est["estimator"]) == {"naive", "hierarchical"}
    cov = res.coverage().set_index(["dataset", "design", "k", "estimator", "level"])
    one = est[(est["dataset"] == "ew_recorded_crime") & (est["design"] == "random") & (est["k"] == 2)
              & (est["estimator"] == "hierarchical")]
    inside = ((one["lower_0.9"] <= one["truth"]) & (one["truth"] <= one["upper_0.9"])).sum()
    assert cov.loc[("ew_recorded_crime", "random", 2, "hierarchical", 0.9), "covered"] == inside
    assert cov.loc[(POOLED, "random", 2, "hierarchical", 0.9), "n"] == 10
    assert (EQUAL_WEIGHT, "largest", 3, "hierarchical", 0.5) in cov.index
    summary = res.summary().set_index(["dataset", "design", "k"])
    fits = res.fits()
    failed = int((~fits.loc[(fits["dataset"] == "us_gun_murders") & (fits["design"] == "largest") & (fits["k"] == 3),
                            "converged"]).sum())
    assert summary.loc[("us_gun_murders", "largest", 3), "failed_diagnostics"] == failed
    assert summary.loc[(POOLED, "random", 3), "fits"] == 10
    paths = {p.name for p in res.save(tmp_path / "out")}
    assert paths >= {"estimates.csv", "coverage.csv", "accuracy.csv", "fits.csv", "study.json", "validation.md",
                     "validation-coverage.png"}
    md = (tmp_path / "out" / "validation.md").read_text()
    assert md.startswith("**All 40 fits**: 90% intervals covered")
    for heading in ("dataset", "design", "k", "design and k", "dataset and k", "dataset and design",
                    "dataset, design and k"):
        assert f"\nBy {heading}:\n" in md
    cells = md.split("By dataset, design and k:")[1].strip().splitlines()
    assert cells[0].startswith("| dataset | design | k | n | 50% |") and len(cells) == 2 + len(summary)
    meta = json.loads((tmp_path / "out" / "study.json").read_text())
    assert meta["study_id"] == study.id and meta["records"] == 40
    again = run_study(study, serial=True, checkpoint=tmp_path / "ck.jsonl")  # default task for a ValidationStudy
    assert again.resumed == 40 and again.complete and again.records == res.run.records


# -- scores ---------------------------------------------------------------------------------------------------
def test_scores_by_hand():
    rows = []
    for dataset, truths, lows in (("a", [100, 100, 100, 100], [90, 90, 85, 50]), ("b", [10, 10], [5, 11])):
        for t, lo in zip(truths, lows):
            rows.append({"dataset": dataset, "design": "random", "k": 2, "estimator": "hierarchical", "truth": t,
                         "estimate": lo + 10, "lower_0.9": lo, "upper_0.9": lo + 20})
            rows.append({"dataset": dataset, "design": "random", "k": 2, "estimator": "naive", "truth": t,
                         "estimate": 2.0 * t, "lower_0.9": None, "upper_0.9": None})
    est = pd.DataFrame(rows)
    cov = validation_coverage(est, (0.9,)).set_index(["dataset", "estimator"])
    assert cov.at[("a", "hierarchical"), "coverage"] == 0.75 and cov.at[("b", "hierarchical"), "coverage"] == 0.5
    assert cov.at[(POOLED, "hierarchical"), "coverage"] == pytest.approx(4 / 6)
    assert cov.at[(EQUAL_WEIGHT, "hierarchical"), "coverage"] == pytest.approx(0.625)
    assert ("a", "naive") not in cov.index
    lo, hi = cov.at[("a", "hierarchical"), "coverage_lower"], cov.at[("a", "hierarchical"), "coverage_upper"]
    assert lo == pytest.approx(0.3006, abs=1e-3) and hi == pytest.approx(0.9544, abs=1e-3)
    acc = validation_accuracy(est).set_index(["dataset", "estimator"])
    assert acc.at[("a", "naive"), "median_abs_log_error"] == pytest.approx(np.log(200.5 / 100.5))
    assert acc.at[("a", "hierarchical"), "naive_median_abs_log_error"] == pytest.approx(np.log(200.5 / 100.5))
    assert acc.at[("a", "hierarchical"), "median_relative_width_0.9"] == pytest.approx(0.2)
    assert acc.at[("b", "hierarchical"), "median_relative_width_0.9"] == pytest.approx(2.0)


def test_margin_tables_by_hand():
    """The docs' tables: all replicates and each margin, every replicate once, failed fits from fits.csv."""
    from extent.calibrate.validation_scores import margin_tables, margins_markdown

    rows, task = [], 0
    for dataset, truths, lows in (("a", [100, 100, 100, 100], [90, 90, 85, 50]), ("b", [10, 10], [5, 11])):
        for t, lo in zip(truths, lows):
            common = {"task": task, "dataset": dataset, "design": "random", "k": 2, "truth": t}
            rows.append({**common, "estimator": "hierarchical", "estimate": lo + 10, "lower_0.9": lo,
                         "upper_0.9": lo + 20})
            rows.append({**common, "estimator": "naive", "estimate": 2.0 * t, "lower_0.9": None, "upper_0.9": None})
            task += 1
    fits = pd.DataFrame({"task": range(6), "converged": [True] * 5 + [False]})
    tables = margin_tables(pd.DataFrame(rows), fits, (0.9,))
    everything = tables[()].iloc[0]
    assert everything["n"] == 6 and everything["coverage_0.9"] == pytest.approx(4 / 6)
    assert (everything["below"], everything["above"], everything["failed"]) == (1, 1, 1)
    assert everything["naive_median_abs_log_error"] == pytest.approx(np.log(200.5 / 100.5))
    by_dataset = tables[("dataset",)].set_index("dataset")
    assert by_dataset.at["a", "coverage_0.9"] == 0.75 and by_dataset.at["b", "failed"] == 1
    assert by_dataset.at["b", "median_relative_width_0.9"] == pytest.approx(2.0)
    md = margins_markdown(tables, (0.9,))
    assert md.startswith("**All 6 fits**: 90% intervals covered **66.7% (30%-90%)**")
    assert "| random | 2 | 6 | 67% (30%-90%) | 1 / 1 |" in md


# -- the command ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (["--datasets", "nope"], "--datasets: unknown 'nope'"),
    (["--designs", "random,sideways"], "--designs: unknown 'sideways'"),
    (["--k", "2,x"], "--k must be comma-separated integers"),
    (["--k", "60"], "k = 60 leaves no unit unsearched"),
    (["--reps", "0"], "reps must be a positive integer"),
    (["--draws", "0"], "draws must be a positive integer"),
    (["--option", "log_population"], "--option must be KEY=VALUE"),
    (["--option", "bogus=1"], "estimator_options: got an unexpected keyword"),
    (["--workers", "0"], "--workers must be >= 1"),
])
def test_validate_command_rejects_bad_options_before_fitting(args, message, monkeypatch):
    from extent.cli.main import app

    def never(*a, **k):
        raise AssertionError("fitted despite bad options")

    monkeypatch.setattr(validation_module, "fit_hierarchical", never)
    result = CliRunner().invoke(app, ["validate", "--serial", *args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("extent: error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_validate_command_runs_and_writes(fake, tmp_path):
    from extent.cli.main import app

    result = CliRunner().invoke(app, ["validate", "--serial", "--datasets", "us_gun_murders", "--designs",
                                      "random,pps", "--k", "2", "--reps", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Validation on the real corpus" in result.output and "6 fits" in result.output
    assert (tmp_path / "validation-coverage.png").is_file() and (tmp_path / "records.jsonl").is_file()
    assert len(pd.read_csv(tmp_path / "estimates.csv")) == 12


def test_independent_simulator_tables_are_reproducible_and_not_the_model_family():
    from extent.simulate.independent import N_UNITS, SimulatedTable, simulated_frame, simulated_tables

    tables = simulated_tables("sim_offenders")
    first = simulated_frame(tables[0])
    pd.testing.assert_frame_equal(first, simulated_frame(SimulatedTable("sim_offenders", "0")))
    assert list(first.columns) == ["unit", "type", "population", "cases"] and len(first) == N_UNITS
    assert set(first["type"]) == {"urban", "rural"} and (first["population"] > 0).all()
    assert not simulated_frame(tables[1])["cases"].equals(first["cases"])
    # national recorded rates span rare to common categories (about 0.5 to 50 per 100,000)
    rates = [f["cases"].sum() / f["population"].sum() * 1e5 for f in map(simulated_frame, tables[:60])]
    assert 0.3 < np.quantile(rates, 0.05) and np.quantile(rates, 0.95) < 80
    with pytest.raises(ConfigError, match="unknown simulated dataset"):
        simulated_tables("sim_nope")


def test_simulated_dataset_is_validated_with_the_default_priors(fake):
    study = ValidationStudy(datasets=("sim_offenders",), designs=("report", "largest"), ks=(3,), reps=1)
    records = [run_validation_task(study, t) for t in range(study.n_tasks)]
    assert [r.fit["priors"] for r in records] == [[], []] and fake == []  # never a leave-one-out call
    naive, hier = records[0].estimates
    assert naive["table"].startswith("sim_offenders:victims:") and naive["truth"] == hier["truth"] > 0
    assert "sim_offenders" in study.to_dict()["datasets"]


# -- real fits ------------------------------------------------------------------------------------------------
@pytest.mark.sampling
def test_two_tiny_replicates_with_real_fits():
    study = ValidationStudy(datasets=("us_ucr_crime",), designs=("one_per_type",), ks=(3,), reps=2,
                            sampler=SamplerConfig(draws=200, tune=200, chains=2), leave_one_dataset_out=False)
    res = run_validation(study, serial=True)
    assert res.run.complete
    frame = load_corpus("us_ucr_crime")
    for rec in res.records:
        naive, hier = rec.estimates
        rows = frame[(frame["year"] == naive["year"]) & (frame["category"] == naive["category"])].set_index("unit")
        assert hier["truth"] == naive["truth"] == float(rows["cases"].sum())
        searched = naive["searched"].split(";")
        assert rows.loc[searched, "type"].nunique() == 3
        scale = rows["population"].sum() / rows.loc[searched, "population"].sum()
        assert naive["estimate"] == pytest.approx(rows.loc[searched, "cases"].sum() * scale)
        bounds = [hier[f"lower_{lv:g}"] for lv in (0.95, 0.9, 0.8, 0.5)] + [hier["estimate"]] + [
            hier[f"upper_{lv:g}"] for lv in (0.5, 0.8, 0.9, 0.95)]
        assert bounds == sorted(bounds) and bounds[0] > 0
        # the posterior median lies within a factor of 10 of the truth for a 3-unit search
        assert 0.1 < hier["estimate"] / hier["truth"] < 10
        assert {"divergences", "max_rhat", "min_ess_bulk", "converged"} <= set(rec.fit)
        assert rec.fit["max_rhat"] >= 1.0 - 1e-3 and rec.timings["sampling"] > 0
    assert res.summary().set_index(["dataset", "design", "k"]).loc[("us_ucr_crime", "one_per_type", 3), "fits"] == 2


@pytest.mark.sampling
def test_coverage_smoke_study_on_real_tables():
    """The default run's guard of the coverage claim (the slow tier holds the real study): ten English and Welsh
    tables, five random forces searched, default sampler, leave-one-dataset-out priors. The full runs cover 96%
    for this dataset; at a true 90%, 6 or fewer of 10 covered has probability 1.3%."""
    study = ValidationStudy(datasets=("ew_recorded_crime",), designs=("random",), ks=(5,), reps=10, seed=31)
    res = run_validation(study, serial=True)
    assert res.run.complete
    cov = res.coverage().set_index(["dataset", "estimator", "level"])
    assert cov.loc[("ew_recorded_crime", "hierarchical", 0.9), "covered"] >= 7
    acc = res.accuracy().set_index(["dataset", "estimator"]).loc[("ew_recorded_crime", "hierarchical")]
    assert acc["median_abs_log_error"] <= 1.5 * acc["naive_median_abs_log_error"]
    assert sum(not rec.fit["converged"] for rec in res.records) <= 1


# -- slow: the real-data claim of docs/validation.md, smaller ---------------------------------------------------
@pytest.mark.slow
def test_real_data_coverage_with_three_random_units():
    """Leave-one-dataset-out, default sampler, 3 random units of every corpus dataset: the 90% intervals cover
    the true national totals within binomial tolerance of 90%, and the point error is about the naive one's."""
    reps = 15
    study = ValidationStudy(designs=("random",), ks=(3,), reps=reps, seed=77)
    res = run_validation(study, workers=2)
    assert res.run.complete
    cov = res.coverage().set_index(["dataset", "design", "k", "estimator", "level"])
    n = reps * len(DATASETS)
    c90 = cov.loc[(POOLED, "random", 3, "hierarchical", 0.9), "coverage"]
    assert abs(c90 - 0.9) <= 3 * np.sqrt(0.9 * 0.1 / n), c90
    acc = res.accuracy().set_index(["dataset", "design", "k", "estimator"])
    row = acc.loc[(POOLED, "random", 3, "hierarchical")]
    assert row["median_abs_log_error"] <= 1.2 * row["naive_median_abs_log_error"]


@pytest.mark.slow
def test_independent_simulator_coverage_with_three_units():
    """The simulator that is not the model's family (clustered victims, recording fractions, t-distributed
    regions), 3 units searched at random and by the report's design: 90% coverage within binomial tolerance
    of 90% and point error within 1.2 times the naive estimator's."""
    reps = 20
    study = ValidationStudy(datasets=("sim_offenders",), designs=("random", "report"), ks=(3,), reps=reps, seed=78)
    res = run_validation(study, workers=2)
    assert res.run.complete
    est = res.estimates()
    hier, naive = est[est["estimator"] == "hierarchical"], est[est["estimator"] == "naive"]
    covered = (hier["lower_0.9"] <= hier["truth"]) & (hier["truth"] <= hier["upper_0.9"])
    assert len(hier) == 2 * reps and abs(covered.mean() - 0.9) <= 3 * np.sqrt(0.9 * 0.1 / (2 * reps)), covered.mean()
    error = {name: np.median(np.abs(np.log((g["estimate"] + 0.5) / (g["truth"] + 0.5))))
             for name, g in (("hierarchical", hier), ("naive", naive))}
    assert error["hierarchical"] <= 1.2 * error["naive"], error


def test_coverage_plot_accepts_a_wilson_bound_a_rounding_below_full_coverage():
    """Full coverage gives an upper Wilson bound 1e-16 below 1.0 (it crashed the plot after a whole study)."""
    from extent.calibrate.validation_scores import plot_validation_coverage

    cov = pd.DataFrame({"dataset": "d", "design": "random", "k": [2, 3], "estimator": "hierarchical", "level": 0.9,
                        "coverage": [1.0, 0.9], "coverage_lower": [0.72, 0.6], "coverage_upper": [1.0 - 1e-16, 0.97]})
    plot_validation_coverage(cov)


def test_validate_command_with_a_failing_fit_writes_the_rest_names_it_and_exits_4(fake, tmp_path, monkeypatch):
    from extent.cli.main import app

    study = ValidationStudy(datasets=("us_gun_murders",), designs=("random", "pps"), ks=(2,), reps=3)
    seeds = []
    monkeypatch.setattr(validation_module, "fit_hierarchical",
                        lambda study, data, priors, random_seed: seeds.append(random_seed) or fake_fit(
                            study, data, priors, random_seed))
    validation_module.run_validation_task(study, 4)

    def crash_on_task_4(study, data, priors, random_seed):  # every time it is retried
        if random_seed == seeds[-1]:
            raise RuntimeError("sampler crashed")
        return fake_fit(study, data, priors, random_seed)

    monkeypatch.setattr(validation_module, "fit_hierarchical", crash_on_task_4)
    result = CliRunner().invoke(app, ["validate", "--serial", "--datasets", "us_gun_murders", "--designs",
                                      "random,pps", "--k", "2", "--reps", "3", "--out", str(tmp_path)])
    assert result.exit_code == 4, result.output
    dataset, design, k, rep = study.task(4)
    assert (f"1 of 6 fits missing: 1 failed (task 4 ({dataset}, {design}, k={k}, rep {rep}): RuntimeError: sampler "
            "crashed)") in result.output
    assert "extent: error: validation incomplete: 1 of 6 fits missing" in result.output
    assert sorted(pd.read_csv(tmp_path / "estimates.csv")["task"].unique()) == [0, 1, 2, 3, 5]
    missing = pd.read_csv(tmp_path / "missing.csv")
    assert missing.to_dict("records") == [{"task": 4, "dataset": dataset, "design": design, "k": k, "rep": rep,
                                           "status": "failed", "error": "RuntimeError: sampler crashed"}]
    assert (tmp_path / "validation-coverage.png").is_file()
    assert json.loads((tmp_path / "study.json").read_text())["missing"] == 1
