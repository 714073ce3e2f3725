"""Disclosure control: the threshold rule, secondary suppression, what a report folder publishes (no MCMC), and
what a saved fit stores (one tiny survey fit)."""

from __future__ import annotations

import itertools
import re
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from extent.data import ExtentData
from extent.disclosure import DisclosureRule, protect_counts, protect_group, protect_table
from extent.estimators import NaiveScaling
from extent.exceptions import ConfigError, DataValidationError, DisclosureWarning
from extent.reporting import write_report
from extent.reporting.sections import report_sections
from extent.results import ExtentResult
from extent.survey_result import SurveyResult

RULE = DisclosureRule()


# -- the rule --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_primary_suppression_is_below_the_threshold_and_not_zero(threshold):
    rule = DisclosureRule(threshold)
    assert [n for n in range(3 * threshold) if rule.is_small(n)] == list(range(1, threshold))
    zeros = DisclosureRule(threshold, suppress_zeros=True)
    assert [n for n in range(3 * threshold) if zeros.is_small(n)] == list(range(threshold))


def test_labels_are_ranges_that_never_show_one_value():
    assert RULE.primary_label == "1-4"
    assert DisclosureRule(5, suppress_zeros=True).primary_label == "0-4"
    assert DisclosureRule(2).primary_label == "0-1"  # "1-1" would print the count: zeros go too
    assert [n for n in range(5) if DisclosureRule(2).is_small(n)] == [0, 1]


def test_threshold_one_suppresses_nothing():
    assert protect_group([0, 1, 2, 3], DisclosureRule(1)) == (["", "", "", ""], False)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "5", None])
def test_bad_thresholds_are_refused(bad):
    with pytest.raises(ConfigError, match="disclosure threshold must be a positive integer"):
        DisclosureRule(bad)


def test_one_small_cell_gets_a_complement():
    """The report's international CSA victims: 5 and 2 with the total 7 published; 7 - 5 would give the 2."""
    assert protect_group([5, 2], RULE) == (["secondary", "primary"], False)
    assert protect_group([19, 4], RULE) == (["secondary", "primary"], False)
    assert protect_group([7, 5, 0], RULE) == (["", "", ""], False)  # nothing small (zeros are publishable)
    assert protect_group([3, 1, 5], RULE) == (["primary", "primary", ""], False)  # 3 + 1 = 4: each 1-3


def test_complements_are_added_until_the_rule_cannot_be_inverted():
    # 1, 0, 37 total 38: suppressing the 0 alone leaves 38 - 37 = 1 for the small cell
    assert protect_group([1, 0, 37], RULE) == (["primary", "secondary", "secondary"], False)
    # 1 and 5 total 6: a complement is >= 5 (or 0), so 6 = 1 + 5 is the only way; the total goes
    assert protect_group([1, 5], RULE) == (["primary", "secondary"], True)


def test_small_totals_are_suppressed():
    assert protect_group([3], RULE) == (["primary"], True)
    assert protect_group([1, 0, 3], RULE)[1]
    assert protect_group([6], RULE) == ([""], False)


def _attack(values, status, total_shown, rule):
    """Every value each primary cell can take given what is published, by brute force."""
    t, low = rule.threshold, rule.low
    total = sum(values)
    hidden = [i for i, s in enumerate(status) if s]
    top = total + 1
    domains = [range(low, t) if status[i] == "primary" else
               [v for v in range(top) if v >= t or (v == 0 and not rule.suppress_zeros)] for i in hidden]
    feasible = {i: set() for i in hidden if status[i] == "primary"}
    published = sum(v for v, s in zip(values, status) if not s)
    for combo in itertools.product(*domains):
        if total_shown and published + sum(combo) != total:
            continue
        for i, v in zip(hidden, combo):
            if i in feasible:
                feasible[i].add(v)
    return feasible


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=4), st.integers(2, 5), st.booleans())
def test_no_suppressed_count_can_be_recovered_from_the_total(values, threshold, zeros):
    rule = DisclosureRule(threshold, suppress_zeros=zeros)
    status, total_suppressed = protect_group(values, rule)
    assert all(bool(s) for v, s in zip(values, status) if rule.is_small(v))  # every small cell is hidden
    assert all(s in ("", "primary", "secondary") for s in status)
    if rule.is_small(sum(values)):
        assert total_suppressed
    for i, seen in _attack(values, status, not total_suppressed, rule).items():
        assert values[i] in seen and len(seen) >= 2, (values, status, i, seen)


def test_wide_tables_protect_each_row_against_its_total():
    frame = pd.DataFrame({"a": [2, 7], "b": [8, 9], "c": [0, 6], "all": [10, 22], "note": ["2 of 10", "x"]})
    out, n_primary, n_secondary = protect_table(frame, ["a", "b", "c"], RULE, total="all")
    assert out.iloc[0].tolist() == ["1-4", "[c]", "[c]", 10, "[withheld: may quote a suppressed count]"]
    assert out.iloc[1].tolist() == [7, 9, 6, 22, "x"]
    assert (n_primary, n_secondary) == (1, 2)
    assert protect_table(frame, ["a", "b", "c"], None, total="all")[0] is frame


# -- reports --------------------------------------------------------------------------------------------------
def _md_tables(text: str) -> list[pd.DataFrame]:
    """The pipe tables of a Markdown file."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            tables.append(pd.DataFrame(block[2:], columns=block[0]))
            block = []
    return tables


COUNT_COLUMNS = {"cases", "cases found", "indicative", "indecent", "indecent_and_obscene", "all", "sexual_offence",
                 "other_offence", "none", "examinations"}
SMALL = {str(n) for n in range(1, 5)}


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory, report):
    naive = NaiveScaling().fit(report.data)
    out = tmp_path_factory.mktemp("sdc") / "rep"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DisclosureWarning)  # the report's design gives nothing back: no warning
        write_report(out, naive, naive, published=report.published, sections=report_sections(report, seed=1))
    return out


def test_the_report_shows_no_small_count_in_any_table(report_folder):
    md = (report_folder / "report.md").read_text()
    tables = _md_tables(md)
    checked = 0
    for t in tables:
        for col in COUNT_COLUMNS & set(t.columns):
            assert not (set(t[col]) & SMALL), (col, t)
            checked += 1
    assert checked >= 8
    searches = next(t for t in tables if {"unit", "cases", "note"} <= set(t.columns))
    shown = searches.set_index(["category", "unit"])["cases"]
    assert shown["international_csa_victim", "shire_county_1"] == "1-4"  # 2 cases
    assert shown["international_csa_victim", "metropolitan"] == "[c]"  # 5, else 7 - 5 gives the 2 back
    assert shown["internet_grooming", "shire_county_2"] == "0" and shown["internet_cai", "metropolitan"] == "203"
    assert "| international_csa_victim | 2 | 7 |" in md  # totals >= 5 stay
    assert "Disclosure control" in md and "threshold 5" in md


def test_no_file_of_the_folder_quotes_a_small_count(report_folder, report):
    # the transcription notes quote the printed values ("'218' = 2 cases"); they are withheld with the cell
    quoted = [n for n in report.searches["note"].dropna() if re.search(r"= [1-4] cases", n)]
    assert quoted
    for name in ("report.md", "report.html"):
        text = (report_folder / name).read_text()
        assert not any(q in text for q in quoted)
        assert not re.search(r"= [1-4] cases", text)
    html = (report_folder / "report.html").read_text()
    cells = re.findall(r"<td[^>]*>(international_[a-z_]+)</td>\s*<td[^>]*>shire_county_1</td>\s*<td[^>]*>([^<]*)</td>", html)
    assert cells == [("international_csa_victim", "1-4"), ("international_child_sex_abuser", "1-4")]
    fit = az.from_netcdf(str(report_folder / "fit.nc"))
    assert "observed_data" not in fit.groups()
    assert fit.fit_data_counts["cases"].isnull().all()
    assert fit.predictions.attrs["extent_counts"] == "withheld"
    est = pd.read_csv(report_folder / "estimates.csv")
    assert est["disclosure"].isna().all()  # nothing withheld: every national figure stays published


def test_raw_counts_are_kept_in_the_fit_only_on_request(tmp_path, report):
    naive = NaiveScaling().fit(report.data)
    write_report(tmp_path / "rep", naive, naive, keep_counts=True)
    back = ExtentResult.from_netcdf(tmp_path / "rep" / "fit.nc")
    assert back.data.counts["cases"].tolist() == report.data.counts["cases"].tolist()
    withheld = ExtentResult.from_netcdf(write_report(tmp_path / "rep2", naive, naive)["fit"])
    assert withheld.data.counts_withheld
    pd.testing.assert_frame_equal(withheld.national_extent(), naive.national_extent())
    with pytest.raises(DataValidationError, match="counts were withheld"):
        NaiveScaling().fit(withheld.data)


def test_turning_control_off_warns_and_says_so_in_every_output(tmp_path, report):
    naive = NaiveScaling().fit(report.data)
    with pytest.warns(DisclosureWarning, match="disclosure control is OFF"):
        write_report(tmp_path / "rep", naive, naive, disclosure=None, sections=report_sections(report, seed=1,
                                                                                                disclosure=None))
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "disclosure control was OFF" in md and "| international_csa_victim | shire_county_1 | 2 |" in md
    assert (pd.read_csv(tmp_path / "rep" / "estimates.csv")["disclosure"] == "not checked: disclosure control "
            "was off").all()


# -- designs that give a count back ---------------------------------------------------------------------------
def _design_data():
    """One category searched in one unit (3 cases), one in every unit (1, 0, 2, 1, 0), one in two (2, 9)."""
    units = pd.DataFrame({"unit": list("abcde"), "population": [1e5, 2e5, 3e5, 4e5, 5e5]})
    counts = pd.DataFrame({
        "unit": ["a", "a", "b", "c", "d", "e", "a", "b"],
        "category": ["one", "all", "all", "all", "all", "all", "two", "two"],
        "cases": [3, 1, 0, 2, 1, 0, 2, 9],
        "years": 2,
    })
    return ExtentData.from_frames(units, counts, name="designs")


def _model_like(data, rng):
    """A stand-in for a hierarchical fit: observed totals plus predictions for unsearched units (none for 'all')."""
    observed = data.counts.groupby("category", sort=False)["cases"].sum()
    extra = {"one": 40.0, "all": 0.0, "two": 30.0}
    draws = np.stack([observed[c] + rng.poisson(extra[c], size=(2, 200)) for c in data.categories], axis=-1)
    national = xr.DataArray(draws.astype(float), dims=("chain", "draw", "category"),
                            coords={"chain": [0, 1], "draw": np.arange(200), "category": data.categories})
    return ExtentResult("hierarchical", data, national)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # R-hat of constant draws
def test_one_searched_unit_and_every_unit_searched_are_warned_and_withheld(tmp_path, rng):
    data = _design_data()
    naive, bayes = NaiveScaling().fit(data), _model_like(data, rng)
    assert naive.interval("one", "total").estimate == pytest.approx(3 * 15e5 / 1e5)  # the count straight back
    assert bayes.interval("all", "total", 0.9).lower == bayes.interval("all", "total", 0.9).upper == 4  # collapsed
    with pytest.warns(DisclosureWarning) as caught:
        write_report(tmp_path / "rep", bayes, naive)
    text = " ".join(str(w.message) for w in caught)
    assert "one: only one unit (a) was searched" in text and "all: every unit was searched" in text
    assert "fit.nc is not written: the national draws of all give back a suppressed count" in text
    assert not (tmp_path / "rep" / "fit.nc").exists()
    est = pd.read_csv(tmp_path / "rep" / "estimates.csv").set_index(["estimator", "category", "estimand"])
    withheld = est["disclosure"].notna()
    assert set(est.index[withheld].droplevel(2)) == {("naive", "one"), ("naive", "all"), ("hierarchical", "all")}
    assert est.loc[withheld, ["estimate", "lower", "upper"]].isna().all().all()
    assert est.loc[("hierarchical", "one", "total"), "estimate"] > 3  # model-based, mixed with predictions: kept
    assert est.loc[("naive", "two", "total"), "estimate"] == pytest.approx(11 * 15e5 / 3e5)  # 11 >= 5: published
    md = (tmp_path / "rep" / "report.md").read_text()
    rows = _md_tables(md)[0]
    first = rows[rows["category"] != ""].set_index("category")
    assert first.loc["one", "cases found"] == "1-4" and first.loc["all", "cases found"] == "1-4"
    assert first.loc["all", "naive scaling"] == "[c]" and first.loc["all", "estimate"] == "[c]"
    assert first.loc["one", "estimate"] != "[c]"
    assert "all: national figures withheld" in md
    assert "all: about" not in md and " 4 known cases" not in md


def test_counts_table_protection_matches_the_cells(rng):
    p = protect_counts(_design_data().counts, RULE)
    assert p.cell("two", "a") == "1-4" and p.cell("two", "b") == "[c]" and p.total("two") == "11"
    assert p.cell("all", "b") == "0" and p.total("all") == "1-4" and p.total_suppressed["all"]
    assert (p.n_primary, p.n_secondary) == (5, 1)


# -- the command line ---------------------------------------------------------------------------------------
runner = CliRunner()


@pytest.mark.parametrize("command", ["estimate", "report"])
@pytest.mark.parametrize("extra, message", [
    (["--disclosure-threshold", "0"], "--disclosure-threshold must be a positive integer, got '0'"),
    (["--disclosure-threshold", "2.5"], "--disclosure-threshold must be a positive integer, got '2.5'"),
    (["--disclosure-threshold", "many"], "must be a positive integer, got 'many'"),
    (["--disclosure-threshold", "3", "--no-disclosure-control"], "not both"),
])
def test_bad_disclosure_options_exit_2_before_any_work(command, extra, message, tmp_path, monkeypatch, report):
    import extent.estimators.hierarchical as hierarchical
    from extent.cli.main import app

    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", lambda *a, **k: pytest.fail("fitted"))
    units, counts = tmp_path / "units.csv", tmp_path / "counts.csv"
    report.data.units.reset_index().to_csv(units, index=False)
    report.data.counts.to_csv(counts, index=False)
    args = ["--units", str(units), "--counts", str(counts)] if command == "estimate" else [
        "--out", str(tmp_path / "rep")]
    res = runner.invoke(app, [command, *args, *extra])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split())
    assert len([ln for ln in res.output.splitlines() if ln.startswith("extent: error:")]) == 1
    assert not (tmp_path / "rep").exists()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_estimate_withholds_and_warns_on_a_one_unit_design(tmp_path, monkeypatch):
    """The tidy CSV of ``extent estimate`` (the model fit stubbed: no sampling)."""
    import extent.estimators.hierarchical as hierarchical
    from extent.cli.main import app

    data = _design_data()
    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit",
                        lambda self, d: _model_like(d, np.random.default_rng(1)))
    units, counts, out = tmp_path / "units.csv", tmp_path / "counts.csv", tmp_path / "est.csv"
    data.units.reset_index().to_csv(units, index=False)
    data.counts.to_csv(counts, index=False)
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "WARNING: disclosure: one: only one unit (a) was searched" in " ".join(res.output.split())
    est = pd.read_csv(out).set_index(["estimator", "category", "estimand"])
    assert np.isnan(est.loc[("naive", "one", "total"), "estimate"])
    assert np.isnan(est.loc[("hierarchical", "all", "total"), "estimate"])
    assert est.loc[("naive", "two", "total"), "estimate"] == pytest.approx(55)
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), "--out", str(out),
                              "--disclosure-threshold", "2"])
    est = pd.read_csv(out).set_index(["estimator", "category", "estimand"])
    assert est.loc[("naive", "one", "total"), "estimate"] == pytest.approx(45)  # 3 >= 2: published
    res = runner.invoke(app, ["estimate", "--units", str(units), "--counts", str(counts), "--out", str(out),
                              "--no-disclosure-control"])
    assert res.exit_code == 0 and "WARNING: disclosure control is OFF" in " ".join(res.output.split())
    assert pd.read_csv(out)["estimate"].notna().all()


# -- what a saved fit stores -----------------------------------------------------------------------------------
RETURNS, RECORDS = (13, 27, 19), (41, 23)  # values found nowhere else in the file (coordinates aside)


def _values_in_file(path, values) -> set[str]:
    """Every variable of every group of the netCDF file (draws and coordinates aside) holding one of ``values``."""
    import h5py

    found = set()

    def visit(name, obj):
        group = name.split("/")[0]
        if (isinstance(obj, h5py.Dataset) and group not in ("posterior", "sample_stats")
                and not h5py.h5ds.is_scale(obj.id) and obj.dtype.kind in "iuf"
                and np.isin(np.asarray(obj[()]), values).any()):
            found.add(name)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return found


@pytest.fixture(scope="module")
def joint_fit():
    """A tiny joint fit (survey returns and record-search counts), sampled with PyMC's NUTS as by default."""
    from extent.data import SurveyData
    from extent.estimators.survey import SurveyEstimator
    from extent.inference import SamplerConfig

    units = pd.DataFrame({"unit": list("abcd"), "population": [1e6, 2e6, 5e5, 1e6], "other": [1, 0, 1, 0]})
    survey = pd.DataFrame({"unit": list("abcd"), "responded": [1, 0, 1, 1], "returned": [13, None, 27, 19]})
    records = pd.DataFrame({"unit": ["a", "c"], "category": "x", "cases": RECORDS, "years": 4})
    data = SurveyData.from_frames(units, survey, cap=30, years=4, name="tiny")
    sampler = SamplerConfig(draws=50, tune=50, chains=2, random_seed=3, nuts_sampler="pymc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 50 draws do not converge; the file is what is tested
        return SurveyEstimator(mechanism="mar", sampler=sampler).fit(
            data, records=ExtentData.from_frames(units[["unit", "population"]], records), category="x")


def test_survey_fit_file_withholds_every_return_by_default(joint_fit, tmp_path):
    fit = joint_fit
    assert {"observed_data", "constant_data"} <= set(fit.idata.groups())
    kept = fit.to_netcdf(tmp_path / "kept.nc", keep_counts=True)
    assert {n.split("/")[0] for n in _values_in_file(kept, [*RETURNS, *RECORDS])} == {
        "fit_data_survey", "observed_data", "constant_data"}  # the check finds them where they are
    path = fit.to_netcdf(tmp_path / "fit.nc")
    assert _values_in_file(path, [*RETURNS, *RECORDS]) == set()
    saved = az.from_netcdf(str(path))
    assert not {"observed_data", "constant_data"} & set(saved.groups())
    assert saved.fit_data_survey["returned"].isnull().all()
    assert saved.fit_data_survey["responded"].values.tolist() == [1, 0, 1, 1]  # forces are public bodies
    assert saved.predictions.attrs["extent_counts"] == "withheld"
    assert saved.predictions.attrs["extent_data_hash"] == fit.data.withhold_returns().hash() != fit.data.hash()

    back = SurveyResult.from_netcdf(path)
    assert back.data.returns_withheld and not fit.data.returns_withheld
    assert "returns withheld" in repr(back.data)
    for estimand in ("total", "per_annum", "per_unit_per_annum"):
        assert back.interval(estimand, 0.8) == fit.interval(estimand, 0.8)
    pd.testing.assert_frame_equal(back.national_extent(), fit.national_extent())
    assert back.response_rate() == fit.response_rate()
    from extent.estimators.survey import SurveyEstimator

    with pytest.raises(DataValidationError, match="survey returns were withheld"):
        SurveyEstimator(mechanism="mcar").fit(back.data)
    with pytest.raises(DataValidationError, match="survey returns were withheld"):
        _ = back.data.returned_total
    assert back.to_netcdf(tmp_path / "again.nc", keep_counts=True) and _values_in_file(
        tmp_path / "again.nc", [*RETURNS, *RECORDS]) == set()  # nothing to keep once withheld


def test_survey_fit_file_keeps_returns_on_request_and_refuses_edits(joint_fit, tmp_path):
    import h5py

    from extent.exceptions import ExtentError

    fit = joint_fit
    back = SurveyResult.from_netcdf(fit.to_netcdf(tmp_path / "kept.nc", keep_counts=True))
    pd.testing.assert_frame_equal(back.data.responses, fit.data.responses)
    assert back.data.hash() == fit.data.hash()
    assert back.idata.observed_data["cases"].values.tolist() == list(RECORDS)
    assert back.idata.constant_data["returned_data"].values.tolist() == list(RETURNS)
    np.testing.assert_array_equal(back.national.values, fit.national.values)
    path = fit.to_netcdf(tmp_path / "fit.nc")
    with h5py.File(path, "r+") as f:
        f["fit_data_survey/returned"][0] = 13.0
    with pytest.raises(ExtentError, match="says its survey returns were withheld but it holds some"):
        SurveyResult.from_netcdf(path)
    kept = fit.to_netcdf(tmp_path / "edited.nc", keep_counts=True)
    with h5py.File(kept, "r+") as f:
        f["fit_data_survey/returned"][0] = 14.0
    with pytest.raises(ExtentError, match="do not match its stored data hash"):
        SurveyResult.from_netcdf(kept)


def test_model_fit_file_withholds_the_constant_data_too(tmp_path, rng):
    """PyMC's sampler mirrors the observed counts in ``constant_data`` (``cases_data``); withheld files drop it."""
    data = _design_data()
    res = _model_like(data, rng)
    cases = data.counts["cases"].to_numpy()
    idata = az.from_dict(posterior={"x": rng.normal(size=(2, 200))}, observed_data={"cases": cases},
                         constant_data={"cases_data": cases, "log_exposure": np.zeros(cases.size)})
    res = ExtentResult("hierarchical", data, res.national, idata=idata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # R-hat of the constant 'all' draws
        path = res.to_netcdf(tmp_path / "fit.nc")
        kept = res.to_netcdf(tmp_path / "kept.nc", keep_counts=True)
    assert not {"observed_data", "constant_data"} & set(az.from_netcdf(str(path)).groups())
    assert {"observed_data", "constant_data"} <= set(az.from_netcdf(str(kept)).groups())
    assert ExtentResult.from_netcdf(path).data.counts_withheld


def test_claims_that_quote_a_suppressed_per_force_count_are_withheld(report):
    from extent.disclosure import DisclosureRule
    from extent.reporting.claims import WITHHELD_CLAIM, load_register, protect_claims

    register = load_register()
    claims = register[["claim_id", "section", "source", "statement", "report_value", "note"]].assign(
        estimate=0.5, lower=0.1, upper=0.9, ours="0.5 (0.1 to 0.9)", sentence="cite me", supported=True)
    out, withheld = protect_claims(claims, report.data.counts, DisclosureRule())
    # Tables 7-8: the shire county's 2 and 4 (below 5) and the metropolitan 5 and 19 that would give them back
    # from the published totals 7 and 23; Tables 10-12: the shire county's single incitement case (1 of 984)
    assert {"5.3-victim-metropolitan", "5.3-victim-shire", "6.3-abuser-metropolitan", "6.3-abuser-shire",
            "6.3-abuser-same-share", "kf-under-1pct-iiic"} <= set(withheld)
    # totals over the searched forces, national shares and counts of 5 or more stay published
    assert not {"5.3-victim-total", "6.3-abuser-total", "kf-under-1pct-victim", "8.3-grooming-metropolitan",
                "10.3-cai-shire2", "13.5-suicide-table14"} & set(withheld)
    rows = out.set_index("claim_id").loc[withheld]
    assert (rows["statement"] == WITHHELD_CLAIM).all() and (rows["report_value"] == "[c]").all()
    assert rows["estimate"].isna().all() and not rows["sentence"].str.contains("cite me").any()
    assert protect_claims(claims, report.data.counts, None)[1] == []  # control off: nothing withheld


def test_claims_that_quote_a_small_count_of_a_protected_table_are_withheld(report):
    from extent.datasets import load_report
    from extent.reporting.claims import load_register, protect_claims

    register = load_register()
    claims = register[["claim_id", "section", "source", "statement", "report_value", "note"]].assign(
        estimate=0.5, lower=0.1, upper=0.9, ours="0.5 (0.1 to 0.9)", sentence="cite me", supported=True)
    total = int(load_report().conviction_status["all"].sum())
    assert total == 199  # Table 14: one force's suspects, whose small cells the report suppresses
    _, withheld = protect_claims(claims, report.data.counts, DisclosureRule(), protected_totals=[total])
    # "3 suicides among 199 suspects" and the comparisons built on it; 13 of 199 (6.5%) stays published
    assert {"13.5-suicide-table14", "13.5-suicide-vs-ore", "13.5-suicide-higher-than-general"} <= set(withheld)
    assert not {"kf-cai-convictions", "10.4-all-suspects", "10.4-charged", "13.5-suicide-general",
                "13.5-ore-higher-than-general"} & set(withheld)
    _, raised = protect_claims(claims, report.data.counts, DisclosureRule(threshold=2), protected_totals=[total])
    assert "13.5-suicide-table14" not in raised  # 3 is above a threshold of 2
