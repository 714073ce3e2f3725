"""Calibration machinery: metrics, ranks, study specs, serial and Dask runners, the command.

Unmarked tests fit only the naive and GLM estimators (no MCMC). ``sampling`` tests run tiny hierarchical
fits through a real ``dask.distributed`` local cluster; ``slow`` tests run the coverage and SBC studies.
"""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from extent.calibrate import (
    ReplicateRecord,
    Study,
    interval_score,
    local_cluster,
    rank_of,
    rank_uniformity,
    run_replicate,
    run_study,
    wilson_interval,
)
from extent.calibrate.metrics import accuracy_table, coverage_table
from extent.exceptions import ConfigError, ExtentError
from extent.inference import SamplerConfig
from extent.priors import Prior
from extent.simulate import Scenario

FAST = ("naive", "glm_bootstrap")
TINY = SamplerConfig(draws=100, tune=100, chains=2, cores=1)


# -- metrics --------------------------------------------------------------------------------------------------
def test_wilson_interval_matches_hand_computation():
    lo, hi = wilson_interval(90, 100)
    assert lo == pytest.approx(0.8256, abs=1e-4) and hi == pytest.approx(0.9448, abs=1e-4)
    lo, hi = wilson_interval(0, 20)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.1611, abs=1e-4)


def test_interval_score_penalises_misses_by_two_over_alpha():
    score = interval_score(np.array([10.0, 10, 10]), np.array([20.0, 20, 20]), np.array([15.0, 5, 23]), 0.9)
    np.testing.assert_allclose(score, [10.0, 10 + 20 * 5, 10 + 20 * 3])


def test_coverage_and_accuracy_tables():
    est = pd.DataFrame({
        "design": "d", "estimator": "e", "category": ["a"] * 4 + ["b"] * 4,
        "truth": [100.0] * 8, "estimate": [100.0, 110, 90, 200, 100, 100, 100, 50],
        "lower_0.9": [90.0, 90, 101, 50, 80, 80, 80, 80], "upper_0.9": [110.0, 110, 120, 150, 120, 120, 99, 120],
    })
    cov = coverage_table(est, (0.9,)).set_index("category")
    assert cov.at["a", "covered"] == 3 and cov.at["a", "coverage"] == 0.75
    assert cov.at["b", "below"] == 0 and cov.at["b", "above"] == 0.25
    assert cov.at["all", "n"] == 8 and cov.at["all", "coverage"] == 0.75
    assert cov.at["a", "relative_width"] == pytest.approx((0.2 + 0.2 + 0.19 + 1.0) / 4)
    acc = accuracy_table(est).set_index("category")
    assert acc.at["a", "relative_bias"] == pytest.approx((0 + 0.1 - 0.1 + 1.0) / 4)
    assert acc.at["b", "median_abs_log_error"] == pytest.approx(0.0)


def test_rank_of_counts_draws_below_and_breaks_ties():
    rng = np.random.default_rng(0)
    draws = np.arange(1000.0)
    assert rank_of(-1.0, draws, rng=rng) == 0
    assert rank_of(1e9, draws, rng=rng) == 99
    assert rank_of(500.0, draws, rng=rng) in (49, 50)
    tied = [rank_of(3.0, np.full(500, 3.0), rng=rng) for _ in range(400)]
    assert min(tied) == 0 and max(tied) == 99 and abs(np.mean(tied) - 49.5) < 5


def test_rank_uniformity_flags_biased_ranks():
    rng = np.random.default_rng(1)
    ranks = pd.DataFrame({"quantity": ["u"] * 400 + ["low"] * 400, "n_draws": 99,
                          "rank": np.r_[rng.integers(0, 100, 400), rng.integers(0, 30, 400)]})
    table = rank_uniformity(ranks).set_index("quantity")
    assert table.at["u", "p_value"] > 0.001
    assert table.at["low", "p_value"] < 1e-10 and table.at["low", "mean_rank_fraction"] < 0.2


# -- study specs and replicates -------------------------------------------------------------------------------
def test_study_validation_and_identity():
    with pytest.raises(ConfigError, match="estimators must be among"):
        Study(estimators=("bogus",))
    with pytest.raises(ConfigError, match="reps must be a positive integer"):
        Study(reps=0)
    a, b = Study(reps=3), Study(reps=3, priors={"unit_sd": Prior("HalfNormal", sigma=1.0)})
    assert a.id == Study(reps=3).id and a.id != b.id
    assert b.to_dict()["priors"]["unit_sd"] == {"distribution": "HalfNormal", "sigma": 1.0}
    assert a.seed_sequence(2).spawn_key == (2,)
    with pytest.raises(ConfigError, match="out of range"):
        a.seed_sequence(3)


def test_replicate_is_a_pure_function_of_study_and_rep():
    study = Study(design="report3", reps=5, estimators=FAST, n_boot=200)
    r1, r2, r3 = run_replicate(study, 1), run_replicate(study, 1), run_replicate(study, 2)
    assert r1 == r2 and r1 != r3
    assert [e["estimator"] for e in r1.estimates] == ["naive"] * 3 + ["glm_bootstrap"] * 3
    naive = r1.estimates[0]
    assert naive["lower_0.9"] is None and naive["truth"] > 0
    glm = r1.estimates[3]
    assert glm["lower_0.5"] >= glm["lower_0.9"] >= glm["lower_0.95"]
    assert ReplicateRecord.from_dict(r1.to_dict()) == r1


def test_glm_bootstrap_covers_when_its_model_is_right():
    # no force effects, no over-dispersion: the Poisson GLM is the true model
    scenario = Scenario(shared_sd=0.0, dispersion=0.0, metropolitan_ratio=1.0)
    res = run_study(Study(design="random10", scenario=scenario, reps=60, estimators=("glm_bootstrap",),
                          n_boot=400, seed=11), serial=True)
    cov = res.coverage().set_index(["category", "level"])
    assert cov.loc[("all", 0.9), "coverage"] == pytest.approx(0.9, abs=0.08)
    assert cov.loc[("all", 0.5), "coverage"] == pytest.approx(0.5, abs=0.12)


def test_serial_runner_retries_reports_failures_and_resumes(tmp_path):
    calls = []

    def flaky(study, rep):
        calls.append(rep)
        if rep == 2:
            raise RuntimeError("worker lost")
        return run_replicate(study, rep)

    study = Study(design="report2", reps=4, estimators=FAST, n_boot=100)
    seen = []
    res = run_study(study, serial=True, retries=1, checkpoint=tmp_path / "ck.jsonl", task=flaky,
                    progress=lambda d, n: seen.append((d, n)))
    assert res.failed == {2: "RuntimeError: worker lost"} and not res.complete
    assert [r.rep for r in res.records] == [0, 1, 3]
    assert calls.count(2) == 2 and seen[-1] == (4, 4)
    calls.clear()
    again = run_study(study, serial=True, checkpoint=tmp_path / "ck.jsonl", task=run_replicate)
    assert again.resumed == 3 and again.complete
    assert again.records[:2] == res.records[:2]
    other = Study(design="report3", reps=4, estimators=FAST, n_boot=100)
    with pytest.raises(ExtentError, match="belongs to another study"):
        run_study(other, serial=True, checkpoint=tmp_path / "ck.jsonl")


def test_study_result_tables_and_files(tmp_path):
    res = run_study(Study(design="random5", reps=6, estimators=FAST, n_boot=100), serial=True)
    est = res.estimates()
    assert len(est) == 6 * 2 * 3 and set(est["design"]) == {"random5"}
    assert set(res.coverage()["estimator"]) == {"glm_bootstrap"}  # naive has no interval
    paths = res.save(tmp_path)
    assert {p.name for p in paths} >= {"coverage.csv", "accuracy.csv", "estimates.csv", "study.json"}
    assert len(pd.read_csv(tmp_path / "estimates.csv")) == 36


def test_calibrate_command_prints_coverage(tmp_path):
    from extent.cli.main import app

    result = CliRunner().invoke(app, ["calibrate", "--serial", "--reps", "4", "--design", "report3",
                                      "--estimators", "naive,glm_bootstrap", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Coverage: report3" in result.output and "glm_bootstrap" in result.output
    assert (tmp_path / "report3" / "coverage.csv").is_file() and (tmp_path / "report3" / "coverage.png").is_file()
    bad = CliRunner().invoke(app, ["calibrate", "--serial", "--design", "nope"])
    assert bad.exit_code == 2 and "unknown design 'nope'" in bad.output


def _boom_on_rep_2(study, rep):
    if rep == 2:
        raise RuntimeError("estimator exploded")
    return run_replicate(study, rep)


def _interrupt_at_rep_2(study, rep):
    if rep == 2:
        raise KeyboardInterrupt
    return run_replicate(study, rep)


def _die_on_rep_1(study, rep):
    """A task whose worker process dies (as one killed by the kernel would)."""
    if rep == 1:
        os._exit(1)
    return run_replicate(study, rep)


CALIBRATE = ["calibrate", "--reps", "4", "--design", "report3", "--estimators", "naive,glm_bootstrap"]


def test_calibrate_with_failed_fits_writes_every_table_lists_them_and_exits_4(tmp_path, monkeypatch):
    import extent.calibrate.runner as runner
    from extent.cli.main import app

    monkeypatch.setattr(runner, "run_replicate", _boom_on_rep_2)
    res = CliRunner().invoke(app, [*CALIBRATE, "--serial", "--out", str(tmp_path)])
    assert res.exit_code == 4, res.output
    assert "report3: 1 of 4 fits missing: 1 failed (rep 2: RuntimeError: estimator exploded)" in res.output
    assert "extent: error: calibration incomplete: 1 of 4 fits missing" in res.output
    folder = tmp_path / "report3"
    assert sorted(pd.read_csv(folder / "estimates.csv")["rep"].unique()) == [0, 1, 3]
    assert (folder / "coverage.csv").is_file() and (folder / "coverage.png").is_file()
    missing = pd.read_csv(folder / "missing.csv")
    assert missing.to_dict("records") == [{"rep": 2, "status": "failed", "error": "RuntimeError: estimator exploded"}]
    meta = json.loads((folder / "study.json").read_text())
    assert (meta["complete"], meta["interrupted"], meta["missing"], meta["records"]) == (False, False, 1, 3)


def test_calibrate_interrupted_writes_the_completed_fits_and_exits_130(tmp_path, monkeypatch):
    import extent.calibrate.runner as runner
    from extent.cli.main import app

    monkeypatch.setattr(runner, "run_replicate", _interrupt_at_rep_2)
    res = CliRunner().invoke(app, [*CALIBRATE, "--serial", "--out", str(tmp_path)])
    assert res.exit_code == 130, res.output
    assert "report3: 2 of 4 fits missing: 2 not run (interrupted)" in res.output
    assert "extent: interrupted" in res.output
    folder = tmp_path / "report3"
    assert sorted(pd.read_csv(folder / "estimates.csv")["rep"].unique()) == [0, 1]
    assert pd.read_csv(folder / "missing.csv")[["rep", "status"]].values.tolist() == [[2, "not run"], [3, "not run"]]
    assert json.loads((folder / "study.json").read_text())["interrupted"] is True


def test_complete_study_writes_an_empty_missing_table(tmp_path):
    res = run_study(Study(design="report3", reps=2, estimators=("naive",)), serial=True)
    res.save(tmp_path)
    assert res.complete and res.missing().empty
    assert pd.read_csv(tmp_path / "missing.csv").columns.tolist() == ["rep", "status", "error"]
    assert json.loads((tmp_path / "study.json").read_text())["complete"] is True


# -- Dask -------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    from distributed import Client

    cluster = local_cluster(2)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.sampling
def test_dask_study_equals_serial_study(dask_client):
    study = Study(design="report2", reps=2, sampler=TINY, n_boot=200, seed=5)
    on_dask = run_study(study, client=dask_client)
    serial = run_study(study, serial=True)
    assert on_dask.engine.startswith("tcp://") and on_dask.complete
    assert on_dask.records == serial.records
    pd.testing.assert_frame_equal(on_dask.coverage(), serial.coverage())
    assert len(on_dask.ranks()) == 2 * 9


@pytest.mark.sampling
def test_dask_study_survives_a_worker_dying(dask_client):
    study = Study(design="random10", reps=40, estimators=FAST, n_boot=2000, seed=9)
    pids = list(dask_client.run(os.getpid).values())
    killed = []

    def kill_one(done, total):
        if not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(done)

    res = run_study(study, client=dask_client, progress=kill_one)
    assert killed and res.complete and len(res.records) == 40
    assert res.records == run_study(study, serial=True).records


@pytest.mark.sampling
def test_calibrate_on_dask_with_a_worker_that_dies_lists_the_lost_fit_and_exits_4(tmp_path, monkeypatch):
    """The worker running rep 1 dies (os._exit); with no deaths allowed the scheduler gives it up (KilledWorker)
    and the command writes the other fits' tables."""
    import dask
    import distributed  # noqa: F401  (its config defaults, which dask.config.set would otherwise replace)

    import extent.calibrate.runner as runner
    from extent.cli.main import app

    monkeypatch.setattr(runner, "run_replicate", _die_on_rep_1)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        res = CliRunner().invoke(app, [*CALIBRATE[:-1], "naive", "--workers", "1", "--out", str(tmp_path)])
    assert res.exit_code == 4, res.output
    folder = tmp_path / "report3"
    missing = pd.read_csv(folder / "missing.csv")
    assert 1 in missing["rep"].tolist() and missing["error"].str.startswith("KilledWorker").all()
    done = sorted(pd.read_csv(folder / "estimates.csv")["rep"].unique())
    assert sorted([*done, *missing["rep"]]) == [0, 1, 2, 3] and done  # a task queued on the dead worker may go too
    assert f"{len(missing)} of 4 fits missing: {len(missing)} failed (" in res.output


@pytest.mark.sampling
def test_dask_study_interrupted_returns_what_finished(dask_client):
    study = Study(design="random10", reps=12, estimators=FAST, n_boot=200, seed=9)

    def interrupt(done, total):
        if done == 3:
            raise KeyboardInterrupt

    res = run_study(study, client=dask_client, progress=interrupt)
    assert res.interrupted and not res.complete and len(res.records) == 3
    missing = res.missing()
    assert len(missing) == 9 and set(missing["status"]) == {"not run"}
    assert res.records == tuple(run_replicate(study, r.rep) for r in res.records)
    again = run_study(Study(design="report3", reps=2, estimators=("naive",)), client=dask_client)
    assert again.complete  # the client is still usable


# -- slow: the coverage study the docs publish, smaller ---------------------------------------------------------
@pytest.mark.slow
def test_report_design_90pct_coverage_and_point_error(dask_client):
    reps = 60
    res = run_study(Study(design="report2", reps=reps, seed=31), client=dask_client)
    cov = res.coverage().set_index(["estimator", "category", "level"])
    c90 = cov.loc[("hierarchical", "all", 0.9), "coverage"]
    # replicates, not cells, are independent: binomial tolerance on the number of replicates
    assert abs(c90 - 0.9) <= 3 * np.sqrt(0.9 * 0.1 / reps)
    acc = res.accuracy().set_index(["estimator", "category"])
    assert acc.loc[("hierarchical", "all"), "median_abs_log_error"] <= 1.15 * acc.loc[("naive", "all"),
                                                                                      "median_abs_log_error"]
    assert cov.loc[("glm_bootstrap", "all", 0.9), "coverage"] < c90


@pytest.mark.slow
def test_sbc_ranks_are_uniform_under_prior_draws(dask_client):
    res = run_study(Study(design="report2", scenario=Scenario.prior(), reps=50, seed=41,
                          estimators=("hierarchical",)), client=dask_client)
    sbc = res.sbc().set_index("quantity")
    assert (sbc["p_value"] > 0.001).all(), sbc
    cov = res.coverage().set_index(["category", "level"])
    assert abs(cov.loc[("all", 0.9), "coverage"] - 0.9) <= 3 * np.sqrt(0.09 / 50)


def test_calibrate_with_point_estimators_only_writes_its_tables(tmp_path):
    """``--estimators naive`` has no intervals: the command says so and keeps its tables (it used to crash with
    KeyError: 'level' after the study, losing them)."""
    from extent.cli.main import app

    res = CliRunner().invoke(app, ["calibrate", "--estimators", "naive", "--reps", "3", "--serial",
                                   "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "no interval estimator" in res.output
    estimates = pd.read_csv(tmp_path / "report2" / "estimates.csv")
    assert set(estimates["estimator"]) == {"naive"} and len(estimates) > 0
