"""The command line: errors, tidy CSV output, reproducibility and the report folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from extent.cli.main import app
from extent.constants import PUBLISHED_COLUMNS
from extent.datasets import REPORT_CATEGORIES
from extent.reporting.claims import CLAIM_COLUMNS
from extent.results import ExtentResult

runner = CliRunner()
FAST = ["--draws", "150", "--tune", "150"]


@pytest.fixture
def csvs(tmp_path, report):
    units, counts = tmp_path / "units.csv", tmp_path / "counts.csv"
    report.data.units.reset_index().to_csv(units, index=False)
    report.data.counts.to_csv(counts, index=False)
    return units, counts


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("unit,category,cases\nmetropolitan,x,-2\n", "counts.csv, row 1, column 'cases': '-2' must be >= 0"),
        ("unit,category,cases\nmetropolitan,x,1.5\n", "row 1, column 'cases': '1.5' must be a whole number"),
        ("unit,category,cases,records\nmetropolitan,x,5,4\n", "row 1, column 'cases': 5 cases exceed 4 records"),
        ("unit,category,cases\nAtlantis,x,1\n", "counts.csv, row 1, column 'unit': unknown unit 'Atlantis'"),
        ("unit,category,cases\nmetropolitan,x,1\nmetropolitan,x,2\n", "row 2, column 'category': duplicate row"),
        ("", "counts.csv: file is empty"),
    ],
)
def test_estimate_bad_counts_exit_2_with_one_line(csvs, body, message):
    units, counts = csvs
    counts.write_text(body)
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts)])
    assert res.exit_code == 2
    assert message in res.output
    assert "counts.csv" in res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("extent: error:")]) == 1


def test_estimate_bad_units(csvs):
    units, counts = csvs
    units.write_text("unit,population\nmetropolitan,-5\n")
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts)])
    assert res.exit_code == 2
    assert "units.csv, row 1, column 'population': '-5' must be > 0" in res.output


@pytest.mark.parametrize("extra, message", [
    (["--level", "1.5"], "--level must be in (0, 1), got 1.5"),
    (["--seed", "-1"], "random_seed must be an integer in 0..2147483646, got -1"),
    (["--seed", str(2**40)], "random_seed must be an integer"),
    (["--draws", "0"], "draws must be a positive integer, got 0"),
    (["--out", "COUNTS"], "is an input file; it would be overwritten"),
    (["--out", "FOLDER"], "is a folder; give a file name"),
    (["--out", "MISSING/x.csv"], "does not exist"),
    (["--fit-out", "FOLDER"], "--fit-out"),
    (["--fit-out", "COUNTS"], "is an input file; it would be overwritten"),
])
def test_estimate_refuses_bad_options_before_any_work(csvs, tmp_path, monkeypatch, extra, message):
    """Each is refused with exit 2, one line, the inputs untouched and without fitting anything."""
    import extent.estimators.hierarchical as hierarchical

    units, counts = csvs
    before = counts.read_bytes()
    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", lambda *a, **k: pytest.fail("fitted"))
    paths = {"COUNTS": str(counts), "FOLDER": str(tmp_path), "MISSING/x.csv": str(tmp_path / "missing" / "x.csv")}
    extra = [paths.get(a, a) for a in extra]
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), *extra])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split())
    assert len([ln for ln in res.output.splitlines() if ln.startswith("extent: error:")]) == 1
    assert counts.read_bytes() == before


@pytest.mark.sampling
def test_estimate_writes_tidy_csv_and_is_reproducible(csvs, tmp_path):
    units, counts = csvs
    outs = []
    fit_file = tmp_path / "fit.nc"
    for name in ("a.csv", "b.csv"):
        out = tmp_path / name
        save = ["--fit-out", str(fit_file)] if name == "b.csv" else []
        res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), "--seed", "3",
                                  "--level", "0.8", "--out", str(out), "--chains", "2", *FAST, *save])
        assert res.exit_code == 0, res.output
        outs.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    saved = ExtentResult.from_netcdf(fit_file)  # the fit behind the CSV, its per-unit counts withheld
    assert saved.data.counts_withheld and "(per-unit counts withheld)" in res.output
    row = outs[1].query("estimator == 'hierarchical' and estimand == 'total'").iloc[0]
    assert saved.interval(row["category"], "total", 0.8).estimate == pytest.approx(row["estimate"])
    t = outs[0]
    assert list(t.columns) == PUBLISHED_COLUMNS
    assert set(t["estimator"]) == {"naive", "hierarchical"}
    assert set(t["estimand"]) == {"total", "per_annum", "per_unit_per_annum"}
    assert (t["level"] == 0.8).all()
    assert len(t) == 2 * 3 * len(REPORT_CATEGORIES)
    assert "WARNING: UNRELIABLE" in res.output  # 2 x 150 draws: too few for a reliable fit, and it says so


@pytest.mark.sampling
def test_report_folder(tmp_path):
    out = tmp_path / "rep"
    res = runner.invoke(app, ["report", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == {"report.md", "report.html", "forest.png", "sensitivity.png",
                                               "claims-shares.png", "claims-trends.png", "estimates.csv",
                                               "fit.nc", "claims.csv"}
    claims = pd.read_csv(out / "claims.csv", dtype=str)
    assert list(claims.columns) == CLAIM_COLUMNS
    assert not claims["estimate"].fillna("").str.contains("e[+-]").any()
    row = claims.set_index("claim_id").loc["10.4-all-suspects"]
    assert row["report_value"] == "6.5% (13 of 199)" and row["supported"] == "True"
    assert float(row["lower"]) < 13 / 199 < float(row["upper"])
    est = pd.read_csv(out / "estimates.csv")
    assert list(est.columns) == PUBLISHED_COLUMNS
    assert list(dict.fromkeys(est["category"])) == REPORT_CATEGORIES
    naive = est.query("estimator == 'naive' and estimand == 'per_annum'").set_index("category")["estimate"]
    assert naive["international_csa_victim"] == pytest.approx(33.6, abs=0.01)
    md = (out / "report.md").read_text()
    assert "| international_csa_victim | 2 | 7 |" in md
    assert "| international_csa_victim | shire_county_1 | 1-4 |" in md  # 2 cases: suppressed
    assert ExtentResult.from_netcdf(out / "fit.nc").data.counts_withheld  # raw counts only with --keep-raw-counts
    assert "forest.png" in md
    assert "## Claims: section 10.4" in md and "## Claims: Key Findings" in md
    assert "1.49e+03" not in md and "1,493" in md
    assert not list(tmp_path.glob(".rep.*"))  # no temporary folder left behind
    unconverged = not est.query("estimator == 'hierarchical'")["converged"].all()
    assert ("WITHHELD, not cited" in md) == unconverged == ("Withheld 5 of 5 citable sentences" in res.output)
    assert ("nationally (90% credible interval" in md) == (not unconverged)


@pytest.mark.parametrize("extra, message", [
    (["--level", "0"], "--level must be in (0, 1), got 0.0"),
    (["--seed", "-2"], "random_seed must be an integer"),
    (["--out", "FILE"], "is a file; give a folder"),
    (["--out", "MISSING/report"], "does not exist"),
])
def test_report_refuses_bad_options_before_fitting(tmp_path, monkeypatch, extra, message):
    import extent.estimators.hierarchical as hierarchical

    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", lambda *a, **k: pytest.fail("fitted"))
    (tmp_path / "file.txt").write_text("keep me")
    paths = {"FILE": str(tmp_path / "file.txt"), "MISSING/report": str(tmp_path / "missing" / "report")}
    res = runner.invoke(app, ["report", *[paths.get(a, a) for a in extra]])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split())
    assert (tmp_path / "file.txt").read_text() == "keep me"


def test_ctrl_c_says_interrupted_and_exits_130(csvs, monkeypatch):
    import extent.estimators.hierarchical as hierarchical

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", interrupt)
    units, counts = csvs
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts)])
    assert res.exit_code == 130 and "extent: interrupted" in res.output


def _unconverged_fit(data, *args, **kwargs):
    """A stand-in for a hierarchical fit that has not converged (no sampling): 3 divergent transitions."""
    import numpy as np
    import xarray as xr

    from extent.inference import Diagnostics
    from extent.results import ExtentResult

    cats = list(data.categories)
    draws = np.random.default_rng(0).gamma(50.0, 2.0, size=(2, 400, len(cats)))
    national = xr.DataArray(draws, dims=("chain", "draw", "category"),
                            coords={"chain": [0, 1], "draw": np.arange(400), "category": cats})
    diag = Diagnostics(max_rhat=1.001, min_ess_bulk=700, min_ess_tail=700, divergences=3, draws=400, chains=2)
    return ExtentResult("hierarchical", data, national, diagnostics=diag)


@pytest.mark.parametrize("cite", [False, True])
def test_estimate_withholds_unconverged_sentences_unless_forced(csvs, tmp_path, monkeypatch, cite):
    import extent.estimators.hierarchical as hierarchical

    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", lambda self, data: _unconverged_fit(data))
    units, counts = csvs
    out = tmp_path / "est.csv"
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), "--out", str(out),
                              *(["--cite-unconverged"] if cite else [])])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    grooming = [ln for ln in lines if ln.strip().startswith("internet grooming:")]
    assert len(grooming) == 1  # one line however long: output that is not a terminal is not wrapped
    names = ", ".join(REPORT_CATEGORIES)
    if cite:
        assert "nationally (90% credible interval" in grooming[0]
        assert "[WARNING: NOT CONVERGED (3 divergent transitions); cited on request" in grooming[0]
        assert (f"WARNING: 5 of 5 sentences cite a fit that has not converged (--cite-unconverged): {names}. "
                "Do not publish them.") in lines
    else:
        assert grooming[0].strip() == ("internet grooming: WITHHELD, not cited because the fit has not converged "
                                       "(3 divergent transitions).")
        assert "nationally (" not in res.output
        assert any(ln.startswith(f"Withheld 5 of 5 citable sentences (fit not converged): {names}.") for ln in lines)
    table = pd.read_csv(out)  # the tidy CSV keeps every number, each with its convergence
    assert len(table) == 2 * 3 * 5 and not table.query("estimator == 'hierarchical'")["converged"].any()


def test_strict_still_exits_3(csvs, monkeypatch):
    import extent.estimators.hierarchical as hierarchical
    from extent.exceptions import ConvergenceError

    def strict_fit(self, data):
        assert self.strict  # --strict reaches the estimator
        raise ConvergenceError("UNRELIABLE hierarchical fit: 3 divergent transitions")

    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", strict_fit)
    units, counts = csvs
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), "--strict"])
    assert res.exit_code == 3 and "extent: error: UNRELIABLE" in res.output


def test_report_file_withholds_unconverged_sentences(tmp_path, report):
    from extent.estimators import NaiveScaling
    from extent.reporting import write_report

    bayes, naive = _unconverged_fit(report.data), NaiveScaling().fit(report.data)
    write_report(tmp_path / "a", bayes, naive, save_fit=False)
    write_report(tmp_path / "b", bayes, naive, save_fit=False, cite_unconverged=True)
    md, forced = (tmp_path / "a" / "report.md").read_text(), (tmp_path / "b" / "report.md").read_text()
    assert md.count("WITHHELD, not cited because the fit has not converged (3 divergent transitions).") == 5
    assert forced.count("[WARNING: NOT CONVERGED (3 divergent transitions)") == 5 and "WITHHELD" not in forced
    assert "WITHHELD, not cited" in (tmp_path / "a" / "report.html").read_text()


def test_version_is_the_installed_package_version():
    from importlib.metadata import version

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output == f"extent {version('extent')}\n"


COMMANDS = ["estimate", "report", "survey", "calibrate", "validate", "proportion", "compare", "trend"]
NO_FLAGS = {"compare", "trend"}  # commands without a switch


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_an_example_and_paired_boolean_flags(command):
    import typer.main

    cmd = typer.main.get_command(app).commands[command]
    flags = [p for p in cmd.params if p.param_type_name == "option" and p.is_flag and p.name != "help"]
    assert bool(flags) != (command in NO_FLAGS)
    for p in flags:
        assert p.secondary_opts == [p.opts[0].replace("--", "--no-", 1)], p.opts
    res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})
    assert res.exit_code == 0
    assert f"Example: extent {command} --" in res.output
    assert "--strict yes" not in res.output
    for p in flags:
        row = next(ln for ln in res.output.splitlines() if f"{p.opts[0]} " in ln)
        assert p.secondary_opts[0] in row and "<bool>" not in row


@pytest.mark.parametrize("command", ["estimate", "report", "survey"])
def test_commands_that_sample_take_a_checked_target_accept(csvs, monkeypatch, command):
    import extent.estimators.hierarchical as hierarchical

    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", lambda *a, **k: pytest.fail("fitted"))
    units, counts = csvs
    inputs = {"estimate": ["--units", str(units), "--counts", str(counts)], "report": [],
              "survey": ["--units", str(units), "--survey", str(counts)]}[command]
    for value in ("1.5", "0"):
        res = runner.invoke(app, [command, *inputs, "--target-accept", value])
        assert res.exit_code == 2, res.output
        assert res.output == f"extent: error: --target-accept must be in (0, 1), got {float(value)!r}\n"


def test_strict_takes_its_negative_form(csvs, monkeypatch):
    import extent.estimators.hierarchical as hierarchical

    seen = []
    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit",
                        lambda self, data: (seen.append(self.strict), _unconverged_fit(data))[1])
    units, counts = csvs
    for flag_ in ("--strict", "--no-strict"):
        res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), flag_,
                                  "--cite-unconverged"])
        assert res.exit_code == 0, res.output
    assert seen == [True, False]


def test_the_convergence_warning_names_options_that_exist():
    import typer.main

    from extent.inference import Diagnostics

    bad = Diagnostics(max_rhat=1.2, min_ess_bulk=30, min_ess_tail=20, divergences=5, draws=500, chains=2)
    with pytest.warns(UserWarning) as caught:
        bad.check()
    message = str(caught[0].message)
    named = {w.strip(",.()") for w in message.split() if w.startswith("--")}
    assert named == {"--tune", "--draws", "--target-accept"}
    for command in ("estimate", "report", "survey"):
        opts = {o for p in typer.main.get_command(app).commands[command].params for o in p.opts}
        assert named <= opts, command


def test_proportion_and_compare_on_the_users_tables(tmp_path):
    table = tmp_path / "shares.csv"
    table.write_text("unit,successes,trials,population\ncharged,7,59,\nsample,3,35,150\n")
    out = tmp_path / "shares-out.csv"
    res = runner.invoke(app, ["proportion", "--table", str(table), "--combined", "all", "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out).set_index("quantity")
    assert list(got.index) == ["charged", "sample", "all"]
    assert got.loc["charged", "observed"] == pytest.approx(7 / 59, abs=1e-4)
    assert got.loc["charged", "lower"] < 7 / 59 < got.loc["charged", "upper"]
    assert got.loc["sample", "lower"] >= 3 / 150  # the sampled three are certain
    rates = tmp_path / "rates.csv"
    rates.write_text("unit,events,trials\ntable14,3,199\nore,32,7272\n")
    res = runner.invoke(app, ["compare", "--table", str(rates)])
    assert res.exit_code == 0, res.output
    assert "P(table14 > ore) = 0.97" in res.output


@pytest.mark.parametrize(("text", "message"), [
    ("unit,successes,trials\na,5,3\n", "row 1, column 'successes': 5 is more than the 3 trials"),
    ("unit,successes,trials,population\na,1,3,\nb,1,3,x\n", "row 2, column 'population': 'x' is not a number"),
    ("unit,successes\na,1\n", "missing column 'trials'"),
])
def test_proportion_refuses_bad_tables(tmp_path, text, message):
    table = tmp_path / "bad.csv"
    table.write_text(text)
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["proportion", "--table", str(table), "--out", str(out)])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()


@pytest.mark.sampling
def test_trend_on_the_users_series(tmp_path):
    series = tmp_path / "series.csv"
    series.write_text("year,count,exposure\n1999,199,1\n2000,216,1\n2001,308,1\n2002,310,0.5833\n")
    out = tmp_path / "trend.csv"
    res = runner.invoke(app, ["trend", "--series", str(series), "--draws", "300", "--tune", "300",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out).set_index("quantity")
    assert {"growth", "ratio_1999_2002", "rate_2002", "projection_2003"} <= set(got.index)
    assert got.loc["growth", "lower"] > 0  # the counts rose every year
    assert got.loc["rate_1999", "observed"] == 199


@pytest.mark.sampling
def test_report_on_the_users_own_data(tmp_path):
    rng = np.random.default_rng(5)
    regions = [f"region_{i:02d}" for i in range(20)]
    units = tmp_path / "units.csv"
    pd.DataFrame({"unit": regions, "population": rng.integers(200_000, 2_000_000, 20)}).to_csv(units, index=False)
    counts = tmp_path / "counts.csv"
    pd.DataFrame({"unit": regions[:4] * 2, "category": ["fraud"] * 4 + ["theft"] * 4,
                  "cases": [40, 12, 25, 31, 90, 64, 70, 88], "years": 2}).to_csv(counts, index=False)
    out = tmp_path / "mine"
    res = runner.invoke(app, ["report", "--units", str(units), "--counts", str(counts), "--out", str(out), *FAST,
                              "--format", "csv", "--model-checks"])
    assert res.exit_code == 0, res.output
    assert res.stdout == (out / "estimates.csv").read_text() and "Report:" in res.stderr  # the table alone on stdout
    md = (out / "report.md").read_text()
    assert "| category | units searched | cases found | estimand | naive scaling | estimate |" in md
    assert "| fraud | 4 | 108 |" in md
    for uk in ("forces", "the report", "| published |", "Claims", "NPQS", "Table 14"):
        assert uk not in md, uk  # the UK study's story belongs to the built-in dataset only
    assert {p.name for p in out.iterdir()} == {"report.md", "report.html", "forest.png", "sensitivity.png",
                                               "estimates.csv", "fit.nc"}
    assert set(pd.read_csv(out / "estimates.csv")["category"]) == {"fraud", "theft"}
    # --model-checks: the LOO table of the variants that matter for two categories without covariates
    checks = md.split("## Model checks: variants compared by leave-one-out cross-validation")[1].split("\n## ")[0]
    for variant in ("fitted", "nearly Poisson counts (all spread shared)", "category-specific spread only",
                    "without log population"):
        assert f"| {variant} |" in checks, variant
    assert "| without the covariates |" not in checks and "| converged | fraud | theft |" in checks


def test_report_needs_both_units_and_counts(csvs, tmp_path):
    units, _ = csvs
    res = runner.invoke(app, ["report", "--units", str(units), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert res.output == ("extent: error: give both --units and --counts (a report on your data), or neither "
                          "(the built-in study)\n")


def test_trend_refuses_a_bad_detection_rate_before_sampling(tmp_path):
    series = tmp_path / "series.csv"
    series.write_text("year,count\n2001,10\n2002,25\n2003,31\n")
    out = tmp_path / "trend.csv"
    res = runner.invoke(app, ["trend", "--series", str(series), "--detection-rate", "10%,1%", "--out", str(out)])
    assert res.exit_code == 2
    assert "0 < low <= high <= 1" in res.output and "Traceback" not in res.output
    assert not out.exists()


@pytest.mark.sampling
def test_trend_with_a_detection_scenario(tmp_path):
    series = tmp_path / "series.csv"
    series.write_text("year,count\n2001,10\n2002,25\n2003,31\n")
    out = tmp_path / "trend.csv"
    res = runner.invoke(app, ["trend", "--series", str(series), "--draws", "300", "--tune", "300",
                              "--detection-rate", "5%,5%", "--detection-basis", "for illustration",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "SCENARIO, not an estimate" in res.output and "for illustration" in res.output
    got = pd.read_csv(out).set_index("quantity")
    ratio = got.loc["scenario_all_rate_2003", "estimate"] / got.loc["rate_2003", "estimate"]
    assert ratio == pytest.approx(20, rel=0.1)  # a detection rate of 5%: twenty times the known cases


def _records(res, fmt: str) -> pd.DataFrame:
    import io
    import json

    if fmt == "csv":
        return pd.read_csv(io.StringIO(res.stdout))
    return pd.DataFrame(json.loads(res.stdout))


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_estimate_format_prints_the_tidy_table_alone_on_stdout(csvs, tmp_path, monkeypatch, fmt):
    """Naive scaling's rows are the report's published figures (134 international CSA victims); every other
    line (diagnostics, warnings, citations) is on stderr."""
    import extent.estimators.hierarchical as hierarchical

    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", lambda self, data: _unconverged_fit(data))
    units, counts = csvs
    out = tmp_path / "est.csv"
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), "--out", str(out),
                              "--format", fmt])
    assert res.exit_code == 0, res.output
    got = _records(res, fmt)
    assert list(got.columns) == PUBLISHED_COLUMNS and len(got) == 2 * 3 * len(REPORT_CATEGORIES)
    naive = got.query("estimator == 'naive'").set_index(["category", "estimand"])
    assert naive.loc[("international_csa_victim", "total"), "estimate"] == pytest.approx(134, abs=0.5)
    assert naive.loc[("internet_cai", "total"), "estimate"] == pytest.approx(4 * 1493, abs=2)
    assert naive["lower"].isna().all()  # no interval: an empty CSV cell, a JSON null
    if fmt == "csv":
        assert res.stdout == out.read_text()  # what --out writes
    numbers = ["estimate", "lower", "upper", "level"]
    pd.testing.assert_frame_equal(got[numbers], pd.read_csv(out)[numbers])
    assert "Diagnostics:" in res.stderr and "Citable sentences:" in res.stderr and "Wrote" in res.stderr
    assert "Diagnostics:" not in res.stdout and "\x1b[" not in res.stdout
    if fmt == "json":
        import json

        record = json.loads(res.stdout)[0]
        assert isinstance(record["estimate"], float) and record["lower"] is None


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_proportion_and_compare_formats(tmp_path, fmt):
    table = tmp_path / "shares.csv"
    table.write_text("unit,successes,trials,population\ncharged,7,59,\nsample,3,35,150\n")
    res = runner.invoke(app, ["proportion", "--table", str(table), "--combined", "all", "--format", fmt])
    assert res.exit_code == 0, res.output
    got = _records(res, fmt).set_index("quantity")
    assert list(got.index) == ["charged", "sample", "all"]
    assert got.loc["charged", "observed"] == pytest.approx(7 / 59, abs=1e-4)
    assert got.loc["charged", "lower"] < 7 / 59 < got.loc["charged", "upper"]
    assert got.loc["sample", "lower"] >= 3 / 150
    rates = tmp_path / "rates.csv"
    rates.write_text("unit,events,trials\ntable14,3,199\nore,32,7272\n")
    res = runner.invoke(app, ["compare", "--table", str(rates), "--format", fmt])
    assert res.exit_code == 0, res.output
    got = _records(res, fmt).set_index("quantity")
    assert got.loc["ratio", "estimate"] > 1 and "P(table14 > ore) = 0.97" in res.stderr
    assert "P(" not in res.stdout


REQUIRED = {"estimate": ["--units", "u.csv", "--counts", "c.csv"], "survey": ["--units", "u.csv", "--survey", "s.csv"],
            "proportion": ["--table", "t.csv"], "compare": ["--table", "t.csv"], "trend": ["--series", "s.csv"]}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_a_checked_format(command):
    import typer.main

    res = runner.invoke(app, [command, *REQUIRED.get(command, []), "--format", "xml"])
    assert res.exit_code == 2
    assert res.output == "extent: error: --format must be table, csv or json, got 'xml'\n"
    res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})
    assert "--format" in res.output and "table|csv|json" in res.output
    option = next(p for p in typer.main.get_command(app).commands[command].params if "--format" in p.opts)
    assert option.default == "table"


def test_progress_shows_counts_and_time_left_on_stderr_only_when_a_terminal():
    from rich.progress import MofNCompleteColumn, TimeRemainingColumn

    from extent.cli.app import errors
    from extent.cli.output import progress

    bar = progress()
    assert bar.console is errors
    assert {MofNCompleteColumn, TimeRemainingColumn} <= {type(c) for c in bar.columns}
    assert bar.disable  # stderr is not a terminal here


def test_withheld_cells_print_as_c_not_as_rich_markup():
    from rich.console import Console

    from extent.cli.output import estimates_table

    rows = [{"category": "a", "estimator": "naive", "estimand": e, "estimate": 3.0, "lower": np.nan,
             "upper": np.nan, "level": 0.9, "disclosure": "withheld: recovers a suppressed count"}
            for e in ("total", "per_annum", "per_unit_per_annum")]
    out = Console(width=200, record=True)
    out.print(estimates_table(pd.DataFrame(rows), title="t"))
    text = out.export_text()
    assert text.count("[c]") == 4  # three cells and the caption's key


def test_the_command_loads_no_heavy_dependency_before_a_fit():
    """``extent --help`` and a bad input file load neither PyMC nor ArviZ (nor Matplotlib, Dask, SciPy's signal):
    the input checks come first and fail in about a second (a fresh interpreter, so other tests' imports do not
    count); a fit loads them when it starts."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from typer.testing import CliRunner\n"
            "from extent.cli.main import app\n"
            "heavy = ('pymc', 'arviz', 'matplotlib', 'dask', 'distributed', 'scipy.signal', 'pandera')\n"
            "print(','.join(m for m in heavy if m in sys.modules))\n"
            "r = CliRunner().invoke(app, ['estimate', '--units', 'no-such-units.csv', '--counts', 'no-such.csv'])\n"
            "print(r.exit_code, ','.join(m for m in heavy[:4] if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == ""
    assert out[1] == "2 "  # the missing file is an input error (exit 2), found before PyMC loads


def test_survey_option_defaults_are_the_survey_samplers():
    """The command's defaults are read without importing the survey estimator (PyMC); they must still be its."""
    import typer.main

    from extent.estimators.survey import DEFAULT_SAMPLER

    params = {p.name: p for p in typer.main.get_command(app).commands["survey"].params}
    defaults = {name: p.default for name, p in params.items()}
    assert (defaults["chains"], defaults["seed"]) == (DEFAULT_SAMPLER.chains, DEFAULT_SAMPLER.random_seed)
    # left open, so that the survey sampler's own settings apply (SamplerConfig.with_ ignores None)
    assert (defaults["draws"], defaults["tune"], defaults["target_accept"]) == (None, None, None)
    assert f"the survey sampler's, {DEFAULT_SAMPLER.draws:,}" in params["draws"].help
