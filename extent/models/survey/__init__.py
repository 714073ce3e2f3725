"""The survey model family: survey returns with non-response under a named missingness mechanism.

:mod:`.mechanisms` (the mechanisms, their parameters and default priors), :mod:`.builder` (the survey and
joint models), :mod:`.predict` (national totals from a posterior).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports

if TYPE_CHECKING:
    from extent.models.survey.builder import build_joint_model, build_survey_model
    from extent.models.survey.mechanisms import DEFAULT_PRIORS, MECHANISMS, SENSITIVITY_PARAMETER
    from extent.models.survey.predict import joint_totals, survey_totals

_EXPORTS = {
    "DEFAULT_PRIORS": "extent.models.survey.mechanisms",
    "MECHANISMS": "extent.models.survey.mechanisms",
    "SENSITIVITY_PARAMETER": "extent.models.survey.mechanisms",
    "build_joint_model": "extent.models.survey.builder",
    "build_survey_model": "extent.models.survey.builder",
    "joint_totals": "extent.models.survey.predict",
    "survey_totals": "extent.models.survey.predict",
}
"""Where each public name lives; imported when first used."""

__all__ = ["DEFAULT_PRIORS", "MECHANISMS", "SENSITIVITY_PARAMETER", "build_joint_model", "build_survey_model",
           "joint_totals", "survey_totals"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
