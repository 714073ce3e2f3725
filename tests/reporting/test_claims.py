"""The claims register and its restatement: every claim has a row, a source, and either an interval or a reason."""

import numpy as np
import pandas as pd
import pytest

from extent.datasets import load_report
from extent.reporting.claims import (
    CLAIM_COLUMNS,
    KINDS,
    SECTION_ORDER,
    claims_sections,
    evaluate_claims,
    load_register,
    report_series,
    write_claims_csv,
)


@pytest.fixture(scope="module")
def register():
    return load_register()


def test_register_covers_every_extent_section(register):
    assert set(register["section"]) == set(SECTION_ORDER)
    assert set(register["kind"]) == set(KINDS)
    assert register["source"].str.len().gt(0).all()
    unsupported = register[register["method"] == "unsupported"]
    assert unsupported["note"].str.len().gt(20).all()  # each says why
    # the numbers writers quote most are there
    ids = set(register["claim_id"])
    assert {"kf-cai-convictions", "kf-under-1pct-victim", "kf-cai-one-tenth", "10.4-charged",
            "10.3-hard-drive-fold", "13.5-suicide-higher-than-general", "appc-supp-probation"} <= ids


def test_conjugate_claims_reproduce_the_reports_figures(register):
    quick = register[register["method"].isin(["binomial", "comparison", "exact", "unsupported"])]
    claims = evaluate_claims(load_report(), None, register=quick).set_index("claim_id")
    assert list(claims.reset_index().columns) == [*CLAIM_COLUMNS, "ours"]
    assert claims.loc["10.4-charged", "ours"] == "12.1% (6.3% to 20.0%)"
    six = claims.loc["kf-cai-convictions"]
    assert six["lower"] < 13 / 199 < six["upper"]
    assert 0.06 < six["estimate"] < 0.07
    charged = claims.loc["10.4-charged"]
    assert charged["lower"] < 7 / 59 < charged["upper"]
    assert claims.loc["kf-under-1pct-victim", "upper"] < 0.01
    assert "P(share < 1.0%) > 0.999" in claims.loc["kf-under-1pct-victim", "note"]
    tenth = claims.loc["kf-cai-one-tenth"]
    assert tenth["lower"] < 115 / 984 < tenth["upper"]
    suicide = claims.loc["13.5-suicide-higher-than-general"]
    assert suicide["lower"] < (3 / 199) / (1 / 500) < suicide["upper"]
    assert "P(ratio > 1.00) = 0.9" in suicide["note"]
    assert not claims.loc["10.4-known-to-abuse-children", "supported"]
    assert claims.loc[claims["supported"], "sentence"].str.contains("credible interval|arithmetic").all()
    # without the hierarchical fit the national claims say so
    assert not quick["method"].eq("national").any()


def test_national_claims_without_a_fit_are_marked(register):
    national = register[register["method"] == "national"].head(2)
    claims = evaluate_claims(load_report(), None, register=national)
    assert not claims["supported"].any()
    assert (claims["note"] == "needs the hierarchical fit").all()


def test_series_carry_part_years():
    report = load_report()
    ceu = report_series(report, "ceu_workload", "examinations").set_index("year")
    assert ceu.loc[2002, "count"] == round(531 * 7 / 12) and ceu.loc[2002, "exposure"] == pytest.approx(7 / 12)
    assert ceu.loc[1999, "exposure"] == 1.0
    hmrc = report_series(report, "hmrc_prosecutions", "all")
    assert hmrc["year"].tolist() == [2001, 2002, 2003]  # 2004 is a part year of unknown length
    gb = report_series(report, "ceu_workload", "gigabytes").set_index("year")
    assert gb.loc[2002, "count"] == pytest.approx(18600 * 7 / 12)


def test_claims_csv_and_sections_are_for_people(register, tmp_path):
    quick = register[register["method"].isin(["binomial", "exact"])]
    claims = evaluate_claims(load_report(), None, register=quick)
    write_claims_csv(claims, tmp_path / "claims.csv")
    text = (tmp_path / "claims.csv").read_text()
    assert "e-0" not in text and "e+0" not in text
    back = pd.read_csv(tmp_path / "claims.csv")
    assert list(back.columns) == CLAIM_COLUMNS
    assert np.isclose(back.set_index("claim_id").loc["12.4-transits", "estimate"], 172_600_000)
    sections = claims_sections(claims)
    assert sections[0].title == "The report's claims, restated"
    titles = [s.title for s in sections[1:]]
    assert titles[0] == "Claims: Key Findings" and titles[-1] == "Claims: Appendix C"
    assert "e+0" not in "".join(s.markdown for s in sections)
