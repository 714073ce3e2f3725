"""The command line: errors, tidy CSV output, reproducibility and the report folder."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from extent.cli.main import app
from extent.constants import TIDY_COLUMNS
from extent.datasets import REPORT_CATEGORIES
from extent.reporting.claims import CLAIM_COLUMNS

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
    for name in ("a.csv", "b.csv"):
        out = tmp_path / name
        res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), "--seed", "3",
                                  "--level", "0.8", "--out", str(out), "--chains", "2", *FAST])
        assert res.exit_code == 0, res.output
        outs.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    t = outs[0]
    assert list(t.columns) == TIDY_COLUMNS
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
    assert {p.name for p in out.iterdir()} == {"report.md", "report.html", "forest.png", "estimates.csv", "fit.nc",
                                               "claims.csv"}
    claims = pd.read_csv(out / "claims.csv", dtype=str)
    assert list(claims.columns) == CLAIM_COLUMNS
    assert not claims["estimate"].fillna("").str.contains("e[+-]").any()
    row = claims.set_index("claim_id").loc["10.4-all-suspects"]
    assert row["report_value"] == "6.5% (13 of 199)" and row["supported"] == "True"
    assert float(row["lower"]) < 13 / 199 < float(row["upper"])
    est = pd.read_csv(out / "estimates.csv")
    assert list(est.columns) == TIDY_COLUMNS
    assert list(dict.fromkeys(est["category"])) == REPORT_CATEGORIES
    naive = est.query("estimator == 'naive' and estimand == 'per_annum'").set_index("category")["estimate"]
    assert naive["international_csa_victim"] == pytest.approx(33.6, abs=0.01)
    md = (out / "report.md").read_text()
    assert "| international_csa_victim | 2 | 7 |" in md
    assert "credible interval" in md and "forest.png" in md
    assert "## Claims: section 10.4" in md and "## Claims: Key Findings" in md
    assert "1.49e+03" not in md and "1,493" in md
    assert not list(tmp_path.glob(".rep.*"))  # no temporary folder left behind


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
