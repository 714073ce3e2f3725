"""Input containers, schemas and readers."""

from extent.data.containers import ExtentData
from extent.data.io import read_csv, read_extent_data
from extent.data.survey import SurveyData, read_survey_data

__all__ = ["ExtentData", "SurveyData", "read_csv", "read_extent_data", "read_survey_data"]
