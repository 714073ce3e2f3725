"""Input validation: every problem names the source, row and column; inputs are never mutated."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from extent.data import ExtentData, read_extent_data
from extent.exceptions import DataValidationError


def units_frame():
    return pd.DataFrame({"unit": ["a", "b", "c"], "population": [1e6, 2e6, 5e5], "type": ["m", "s", "s"]})


def counts_frame():
    return pd.DataFrame({"unit": ["a", "b"], "category": ["x", "x"], "cases": [3, 0], "records": [10, 5]})


def test_valid_frames_give_container():
    d = ExtentData.from_frames(units_frame(), counts_frame(), name="toy")
    assert d.n_units == 3
    assert d.categories == ["x"]
    assert d.searched_units == ["a", "b"]
    assert d.years("x") == 1.0
    assert d.units.loc["c", "population_cv"] == 0.0
    assert d.counts["cases"].dtype == np.int64
    assert repr(d) == "ExtentData('toy': 3 units, 2 searched, 1 categories, 2 counts)"


def test_inputs_are_not_mutated():
    u, c = units_frame(), counts_frame()
    u0, c0 = u.copy(), c.copy()
    ExtentData.from_frames(u, c)
    pd.testing.assert_frame_equal(u, u0)
    pd.testing.assert_frame_equal(c, c0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.assign(cases=[-1, 0]), "counts, row 1, column 'cases': -1 must be >= 0"),
        (lambda c: c.assign(cases=[2.5, 0]), "counts, row 1, column 'cases': 2.5 must be a whole number"),
        (lambda c: c.assign(cases=["3", "many"]), "counts, row 2, column 'cases': 'many' is not a number"),
        (lambda c: c.assign(cases=[3, 6]), "counts, row 2, column 'cases': 6 cases exceed 5 records"),
        (lambda c: c.assign(unit=["a", "zz"]), "counts, row 2, column 'unit': unknown unit 'zz'"),
        (lambda c: c.assign(unit=["a", "a"]), "counts, row 2, column 'category': duplicate row for unit 'a'"),
        (lambda c: c.drop(columns="cases"), "counts: missing required column 'cases'"),
        (lambda c: c.iloc[0:0], "counts: no data rows"),
        (lambda c: c.assign(years=[4, 2]), "counts, row 2, column 'years': category 'x' mixes periods"),
    ],
)
def test_bad_counts_name_row_and_column(change, message):
    with pytest.raises(DataValidationError) as err:
        ExtentData.from_frames(units_frame(), change(counts_frame()))
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda u: u.assign(population=[1e6, 0, 5e5]), "units, row 2, column 'population': 0 must be > 0"),
        (lambda u: u.assign(population=[1e6, None, 5e5]), "units, row 2, column 'population': is missing"),
        (lambda u: u.assign(unit=["a", "b", "b"]), "units, row 2, column 'unit': duplicate value 'b'"),
        (lambda u: u.drop(columns="population"), "units: missing required column 'population'"),
    ],
)
def test_bad_units_name_row_and_column(change, message):
    with pytest.raises(DataValidationError) as err:
        ExtentData.from_frames(change(units_frame()), counts_frame())
    assert str(err.value).startswith(message)


def test_every_problem_is_collected():
    bad = counts_frame().assign(cases=[-1, 2.5])
    with pytest.raises(DataValidationError) as err:
        ExtentData.from_frames(units_frame(), bad)
    assert len(err.value.problems) == 2
    assert "(and 1 more problem)" in str(err.value)


def test_csv_errors_name_the_file(tmp_path):
    units, counts = tmp_path / "u.csv", tmp_path / "c.csv"
    units_frame().to_csv(units, index=False)
    counts.write_text("unit,category,cases\na,x,1\nb,x,-4\n")
    with pytest.raises(DataValidationError, match=r"c\.csv, row 2, column 'cases': '-4' must be >= 0"):
        read_extent_data(units, counts)
    counts.write_text("")
    with pytest.raises(DataValidationError, match=r"c\.csv: file is empty"):
        read_extent_data(units, counts)
    counts.write_text("unit,category,cases\n")
    with pytest.raises(DataValidationError, match=r"c\.csv: no data rows"):
        read_extent_data(units, counts)
    with pytest.raises(DataValidationError, match=r"nope\.csv: file not found"):
        read_extent_data(units, tmp_path / "nope.csv")


def test_csv_round_trip(tmp_path):
    units, counts = tmp_path / "u.csv", tmp_path / "c.csv"
    units_frame().to_csv(units, index=False)
    counts_frame().assign(years=4).to_csv(counts, index=False)
    d = read_extent_data(units, counts)
    assert d.name == "c"
    assert d.years("x") == 4.0
    assert d.counts["cases"].tolist() == [3, 0]


def test_to_xarray_marks_unsearched_cells_missing():
    ds = ExtentData.from_frames(units_frame(), counts_frame()).to_xarray()
    assert ds["cases"].dims == ("unit", "category")
    assert ds["cases"].sel(unit="a", category="x").item() == 3
    assert np.isnan(ds["cases"].sel(unit="c", category="x").item())
    assert ds["population"].sum().item() == 3.5e6


def test_subset_and_unknown_category():
    c = pd.concat([counts_frame(), counts_frame().assign(category="y")], ignore_index=True)
    d = ExtentData.from_frames(units_frame(), c)
    assert d.categories == ["x", "y"]
    assert d.subset(["y"]).categories == ["y"]
    with pytest.raises(DataValidationError, match="unknown category"):
        d.subset(["z"])
    assert d.hash() != d.subset(["y"]).hash()


def test_unknown_column_is_an_error_with_a_suggestion():
    c = counts_frame().assign(year=4)
    with pytest.raises(DataValidationError, match=r"counts, column 'year': unknown column \(did you mean 'years'\?\)"):
        ExtentData.from_frames(units_frame(), c)
    u = units_frame().assign(income=[1.0, 2.0, 3.0])
    with pytest.raises(DataValidationError, match="units, column 'income': unknown column; name it as a covariate"):
        ExtentData.from_frames(u, counts_frame())
    with pytest.warns(UserWarning, match="ignoring column"):
        d = ExtentData.from_frames(u, counts_frame(), extra_columns="ignore")
    assert "income" not in d.units and d.covariates == ()


def test_covariates_are_validated_and_kept():
    u = units_frame().assign(income=["1.5", "2", "3"], region=["n", "s", "n"])
    d = ExtentData.from_frames(u, counts_frame(), covariates=["income", "region"])
    assert d.covariates == ("income", "region")
    assert d.units["income"].tolist() == [1.5, 2.0, 3.0]
    assert d.units["region"].tolist() == ["n", "s", "n"]
    with pytest.raises(DataValidationError, match=r"units, row 2, column 'income': covariate value is missing"):
        ExtentData.from_frames(u.assign(income=["1", "", "3"]), counts_frame(), covariates=["income", "region"])
    with pytest.raises(DataValidationError, match="covariate column 'wealth' not found"):
        ExtentData.from_frames(u.drop(columns=["income", "region"]), counts_frame(), covariates=["wealth"])
    with pytest.raises(DataValidationError, match="same value for every unit"):
        ExtentData.from_frames(u.assign(income=1.0), counts_frame(), covariates=["income", "region"])
    with pytest.raises(DataValidationError, match="'population': cannot be a covariate"):
        ExtentData.from_frames(u, counts_frame(), covariates=["population"], extra_columns="ignore")


def test_exposure_column_replaces_population():
    u = units_frame().assign(offences=[100.0, 50.0, 10.0])
    d = ExtentData.from_frames(u, counts_frame(), exposure="offences")
    assert d.exposure_values.tolist() == [100.0, 50.0, 10.0]
    with pytest.raises(DataValidationError, match=r"row 3, column 'offences': exposure 0 must be a finite number > 0"):
        ExtentData.from_frames(u.assign(offences=[1.0, 2.0, 0.0]), counts_frame(), exposure="offences")


def test_cli_reads_covariates_and_refuses_unknown_columns(tmp_path):
    from typer.testing import CliRunner

    from extent.cli.main import app

    u, c = tmp_path / "u.csv", tmp_path / "c.csv"
    units_frame().assign(income=[1.0, 2.0, 3.0]).to_csv(u, index=False)
    counts_frame().to_csv(c, index=False)
    res = CliRunner().invoke(app, ["estimate", "--units", str(u), "--counts", str(c)])
    assert res.exit_code == 2
    assert f"{u}, column 'income': unknown column" in res.output
    res = CliRunner().invoke(app, ["estimate", "--units", str(u), "--counts", str(c), "--covariates", "income,nope"])
    assert res.exit_code == 2 and "covariate column 'nope' not found" in res.output


def test_records_as_exposure_need_an_exposure_and_positive_records():
    from extent.models import Design

    u = units_frame().assign(offences=[100.0, 50.0, 10.0])
    d = ExtentData.from_frames(u, counts_frame(), exposure="offences", records_exposure=True)
    design = Design.from_data(d, log_population=False)
    np.testing.assert_allclose(np.exp(design.log_exposure), [10.0, 5.0])  # the records, rates per record
    with pytest.raises(DataValidationError, match="only when an exposure column is named"):
        ExtentData.from_frames(units_frame(), counts_frame(), records_exposure=True)
    bad = counts_frame().assign(records=[10, 0])
    with pytest.raises(DataValidationError, match=r"counts, row 2, column 'records': needs a value > 0"):
        ExtentData.from_frames(u, bad, exposure="offences", records_exposure=True)


@pytest.mark.parametrize("column, value, message", [
    ("cases", 1e19, "column 'cases': 1e+19 must be finite and at most 1e+09"),
    ("cases", 1e15, "column 'cases': 1e+15 must be finite and at most 1e+09"),
    ("records", 1e13, "column 'records': 1e+13 must be finite and at most 1e+09"),
    ("years", float("inf"), "column 'years': inf must be finite and at most 1000"),
])
def test_implausibly_large_counts_are_refused(column, value, message):
    """Counts that would overflow into negative totals, or crash the sampler, are refused with row and column."""
    units = pd.DataFrame({"unit": ["a", "b"], "population": [1e6, 2e6]})
    counts = pd.DataFrame({"unit": ["a"], "category": ["x"], "cases": [3.0], "records": [10.0], "years": [1.0]})
    counts.loc[0, column] = value
    with pytest.raises(DataValidationError, match=message.replace("+", r"\+")):
        ExtentData.from_frames(units, counts)


@pytest.mark.parametrize("value", [float("inf"), 1e300, 2e10])
def test_infinite_or_huge_population_is_refused(value):
    units = pd.DataFrame({"unit": ["a", "b"], "population": [value, 2e6]})
    counts = pd.DataFrame({"unit": ["a"], "category": ["x"], "cases": [3]})
    with pytest.raises(DataValidationError, match="row 1, column 'population': .* must be finite and at most 1e"):
        ExtentData.from_frames(units, counts)


@pytest.mark.parametrize("which, values, message", [
    ("category", ["grooming", "Grooming ", "grooming"], "row 2, column 'category': 'grooming', 'Grooming' differ "
                                                        "only by case (rows 1, 2)"),
    ("unit", ["Kent", "kent", "Essex"], "row 2, column 'unit': 'Kent', 'kent' differ only by case"),
])
def test_names_that_differ_only_by_case_or_spaces_are_refused(which, values, message):
    """Two spellings of one name would silently become two categories (or units); surrounding spaces are
    stripped, so 'Grooming ' is 'Grooming'."""
    units = pd.DataFrame({"unit": ["Kent", "Essex", "Surrey"], "population": [1e6, 2e6, 1e6]})
    counts = pd.DataFrame({"unit": ["Kent", "Essex", "Surrey"], "category": ["a", "b", "c"], "cases": [1, 2, 3]})
    if which == "category":
        counts["category"] = values
    else:
        units["unit"] = values
        counts["unit"] = values
    with pytest.raises(DataValidationError, match=re.escape(message)):
        ExtentData.from_frames(units, counts)


def test_a_unit_may_be_called_na_and_only_empty_cells_are_missing(tmp_path):
    units, counts = tmp_path / "units.csv", tmp_path / "counts.csv"
    units.write_text("unit,population\nNA,100000\nNone,200000\nnull,300000\n")
    counts.write_text("unit,category,cases\nNA,x,3\nNone,x,4\n")
    data = read_extent_data(units, counts)
    assert list(data.units.index) == ["NA", "None", "null"] and data.searched_units == ["NA", "None"]
    counts.write_text("unit,category,cases\nNA,x,\n")
    with pytest.raises(DataValidationError, match="row 1, column 'cases'"):
        read_extent_data(units, counts)


def test_semicolon_and_non_utf8_files_get_a_hint(tmp_path):
    units, counts = tmp_path / "units.csv", tmp_path / "counts.csv"
    counts.write_text("unit,category,cases\na,x,1\n")
    units.write_text("unit;population\na;100000\n")
    with pytest.raises(DataValidationError, match="units.csv: .*separated by semicolons, save it with commas"):
        read_extent_data(units, counts)
    units.write_bytes("unit,population\nMünster,100000\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"units.csv: not UTF-8 text \(byte \d+\); save it as UTF-8 CSV"):
        read_extent_data(units, counts)


def test_counts_far_above_the_population_are_refused():
    units = pd.DataFrame({"unit": ["a", "b"], "population": [1300.0, 2000.0]})  # population in thousands
    counts = pd.DataFrame({"unit": ["a", "b"], "category": ["x", "x"], "cases": [5.0, 3.0],
                           "records": [40000.0, 900.0], "years": [2.0, 2.0]})
    with pytest.raises(DataValidationError) as err:
        ExtentData.from_frames(units, counts, counts_source="c.csv")
    assert str(err.value) == ("c.csv, row 1, column 'records': 40000 records is more than 10 per resident per year "
                              "of unit 'a' (population 1300); is the population in thousands?")
    ExtentData.from_frames(units, counts.assign(records=[26000.0, 900.0]))  # 10 per resident-year over 2 years
