"""Input containers, schemas and readers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports

if TYPE_CHECKING:
    from extent.data.containers import ExtentData
    from extent.data.io import read_csv, read_extent_data
    from extent.data.survey import SurveyData, read_survey_data

_EXPORTS = {
    "ExtentData": "extent.data.containers",
    "SurveyData": "extent.data.survey",
    "read_csv": "extent.data.io",
    "read_extent_data": "extent.data.io",
    "read_survey_data": "extent.data.survey",
}
"""Where each public name lives; imported when first used."""

__all__ = ["ExtentData", "SurveyData", "read_csv", "read_extent_data", "read_survey_data"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
