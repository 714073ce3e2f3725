"""The survey model family: survey returns with non-response under a named missingness mechanism.

:mod:`.mechanisms` (the mechanisms, their parameters and default priors), :mod:`.builder` (the survey and
joint models), :mod:`.predict` (national totals from a posterior).
"""

from extent.models.survey.builder import build_joint_model, build_survey_model
from extent.models.survey.mechanisms import DEFAULT_PRIORS, MECHANISMS, SENSITIVITY_PARAMETER
from extent.models.survey.predict import joint_totals, survey_totals

__all__ = ["DEFAULT_PRIORS", "MECHANISMS", "SENSITIVITY_PARAMETER", "build_joint_model", "build_survey_model",
           "joint_totals", "survey_totals"]
