"""The built-in dataset holds the report's numbers, each with its source."""

from __future__ import annotations

import pytest

from extent.datasets import N_FORCES, REPORT_CATEGORIES, UK_POPULATION_2001, load_ew_forces


def test_record_search_counts(report):
    counts = report.data.counts.groupby("category")["cases"].sum().to_dict()
    assert counts == {
        "international_csa_victim": 7,  # Table 7
        "international_child_sex_abuser": 23,  # Table 8
        "internet_grooming": 12,  # Table 10
        "internet_incitement_conspiracy": 9,  # Table 11
        "internet_cai": 434,  # Table 12
    }
    assert report.data.categories == REPORT_CATEGORIES
    assert report.data.searched("international_csa_victim") == ["metropolitan", "shire_county_1"]
    assert report.data.searched("internet_cai") == ["metropolitan", "shire_county_1", "shire_county_2"]
    assert all(report.data.years(c) == 4 for c in REPORT_CATEGORIES)


def test_records_searched(report):
    s = report.searches.set_index(["category", "unit"])
    assert s.loc[("international_csa_victim", "metropolitan"), "records"] == 4709
    assert s.loc[("international_csa_victim", "shire_county_1"), "records"] == 984
    assert s.loc[("internet_cai", "shire_county_2"), "records"] == 130
    assert s.loc[("internet_grooming", "metropolitan"), "source"] == "Table 10"


def test_report_slips_are_noted(report):
    notes = " ".join(report.searches["note"].fillna("")) + " ".join(report.published["note"].fillna(""))
    assert "7.7% for 97.7%" in notes
    assert "four-year figure is missing" in notes
    assert "shire county 1 is the shire county of Tables 7-8" in notes


def test_units_frame(report):
    units = report.data.units
    assert len(units) == N_FORCES == 52
    assert units["population"].sum() == pytest.approx(UK_POPULATION_2001, abs=52)
    assert (units["type"] == "metropolitan").sum() == 7
    # the searched forces reproduce the report's implied scaling factors
    p2 = units.loc[["metropolitan", "shire_county_1"], "population"].sum()
    p3 = p2 + units.loc["shire_county_2", "population"]
    assert UK_POPULATION_2001 / p2 == pytest.approx(19.2, abs=1e-4)
    assert UK_POPULATION_2001 / p3 == pytest.approx(13.76, abs=1e-4)
    assert (units.loc[["metropolitan", "shire_county_1", "shire_county_2"], "population_cv"] > 0).all()


def test_other_tables(report):
    assert report.hmrc_prosecutions["all"].tolist() == [10, 25, 31, 6]
    assert report.ceu_workload["examinations"].sum() == 1254
    assert report.ceu_workload["gigabytes"].sum() == 24500
    assert report.conviction_status["all"].sum() == 199
    assert report.conviction_status.set_index("outcome").loc["charged", "sexual_offence"] == 7
    npqs = report.npqs_response
    assert npqs["forces"].sum() == 52
    assert npqs.loc[npqs["responded_npqs"] == 1, "forces"].sum() == 24
    assert report.published_value("international_csa_victim", "total") == 134
    assert report.survey_years == (1999, 2002)


def test_ew_frame_is_the_census():
    ew = load_ew_forces()
    assert len(ew) == 43
    assert ew["population"].sum() == 56_075_912
