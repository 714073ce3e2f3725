"""SurveyData: validation errors (exact one-line messages), covariates, no mutation of caller frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from extent.data import SurveyData, read_survey_data
from extent.exceptions import DataValidationError


@pytest.fixture
def units():
    return pd.DataFrame({"unit": ["a", "b", "c"], "population": [1e6, 2e6, 5e5], "other_stages": [1, 0, 1],
                         "type": ["shire", "metropolitan", "shire"]})


def survey(**cols):
    base = {"unit": ["a", "b", "c"], "responded": [1, 0, 1], "returned": [3, None, 10]}
    return pd.DataFrame(base | cols)


def test_valid_survey_parses_caps_and_covariates(units):
    frame = survey()
    before = frame.copy()
    d = SurveyData.from_frames(units, frame, cap=10, years=4)
    pd.testing.assert_frame_equal(frame, before)  # caller's frame untouched
    assert d.responders == ["a", "c"]
    assert d.n_responded == 2 and d.n_capped == 1 and d.returned_total == 13
    assert d.responses["cap"].tolist() == [10.0, 10.0, 10.0]
    assert d.covariates == ("other_stages",)
    assert d.years == 4.0
    x = d.covariate_matrix()
    assert list(x.columns) == ["log_population", "type[metropolitan]", "other_stages"]
    np.testing.assert_allclose(x["log_population"].mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(x["log_population"].std(ddof=0), 1.0)
    assert x["type[metropolitan]"].tolist() == pytest.approx([-1 / 3, 2 / 3, -1 / 3])  # centred 0/1


def test_cap_column_overrides_default_and_empty_means_uncapped(units):
    d = SurveyData.from_frames(units, survey(cap=["10", "10", ""]))
    assert d.responses["cap"].tolist() == [10.0, 10.0, np.inf]
    assert d.n_capped == 0


def test_text_csv_cells_are_parsed(units):
    frame = pd.DataFrame({"unit": ["a", "b", "c"], "responded": ["1", "0", " 1"], "returned": ["3", "", "7"]})
    d = SurveyData.from_frames(units, frame)
    assert d.responses["returned"].tolist()[::2] == [3.0, 7.0]


@pytest.mark.parametrize(
    "frame, message",
    [
        (survey(responded=[1, 2, 1]), "survey, row 2, column 'responded': 2 must be 0 or 1"),
        (survey(returned=[None, None, 4]), "survey, row 1, column 'returned': is missing (the unit responded)"),
        (survey(returned=[3, 4, 5]), "survey, row 2, column 'returned': 4 given but responded is 0; leave it empty"),
        (survey(cap=[10, 10, 5]), "survey, row 3, column 'returned': 10 exceeds the cap 5"),
        (survey(returned=["x", None, 1]), "survey, row 1, column 'returned': 'x' is not a number"),
        (survey(returned=[3, None, 2.5]), "survey, row 3, column 'returned': 2.5 must be a whole number"),
        (survey(returned=[-1, None, 2]), "survey, row 1, column 'returned': -1 must be >= 0"),
        (survey(unit=["a", "b", "zz"]), "survey, row 3, column 'unit': unknown unit 'zz' (not in the units table)"),
        (survey(busy=[1, "lots", 2]), "survey, row 2, column 'busy': 'lots' is not a number"),
        (pd.DataFrame({"unit": ["a"], "returned": [1]}), "survey: missing required column 'responded'"),
    ],
)
def test_bad_survey_gives_one_line_errors(units, frame, message):
    with pytest.raises(DataValidationError) as err:
        SurveyData.from_frames(units, frame, cap=10)
    assert err.value.problems[0] == message
    assert "\n" not in str(err.value)


def test_every_problem_is_listed(units):
    with pytest.raises(DataValidationError) as err:
        SurveyData.from_frames(units, survey(returned=[None, 4, 12], cap=[10, 10, 10]))
    assert len(err.value.problems) == 3
    assert str(err.value).endswith("(and 2 more problems)")


def test_covariate_missing_for_unsurveyed_unit(units):
    frame = pd.DataFrame({"unit": ["a", "b"], "responded": [1, 0], "returned": [1, None], "busy": [1, 2]})
    with pytest.raises(DataValidationError, match=r"covariate 'busy' is missing for unit\(s\) \['c'\]"):
        SurveyData.from_frames(units, frame)


def test_unknown_covariate_and_bad_options(units):
    with pytest.raises(DataValidationError, match="covariate 'nope' is in neither"):
        SurveyData.from_frames(units, survey(), covariates=["nope"])
    with pytest.raises(DataValidationError, match="years must be > 0"):
        SurveyData.from_frames(units, survey(), years=0)
    with pytest.raises(DataValidationError, match="cap must be a whole number > 0"):
        SurveyData.from_frames(units, survey(), cap=2.5)


def test_read_survey_data_names_the_file(tmp_path, units):
    u, s = tmp_path / "units.csv", tmp_path / "s.csv"
    units.to_csv(u, index=False)
    survey(responded=[1, 0, 3]).to_csv(s, index=False)
    with pytest.raises(DataValidationError) as err:
        read_survey_data(u, s)
    assert str(err.value) == f"{s}, row 3, column 'responded': '3' must be 0 or 1"
    survey().to_csv(s, index=False)
    d = read_survey_data(u, s, cap=10, years=4)
    assert d.name == "s" and d.n_capped == 1 and d.simulated is False
    with pytest.raises(DataValidationError, match="file not found"):
        read_survey_data(u, tmp_path / "missing.csv")


def test_return_above_the_default_cap_is_refused():
    """A return of 15 with ``--cap 10`` is an error, not a return at the cap."""
    units = pd.DataFrame({"unit": ["a", "b", "c"], "population": [1e6, 2e6, 3e6]})
    survey = pd.DataFrame({"unit": ["a", "b", "c"], "responded": [1, 1, 0], "returned": [15, 4, None]})
    with pytest.raises(DataValidationError, match=r"survey, row 1, column 'returned': 15 exceeds the cap 10 given "
                                                  r"for rows without one \(--cap\)"):
        SurveyData.from_frames(units, survey, cap=10)
    assert SurveyData.from_frames(units, survey, cap=15).n_capped == 1
