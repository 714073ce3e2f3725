"""extent: national extent of rare case categories from a few local agencies, with honest uncertainty.

The public names below are loaded on first use (PEP 562), so ``import extent`` and ``extent --version`` do not
import PyMC, ArviZ or Matplotlib until a name that needs them is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports
from extent.constants import VERSION as __version__

if TYPE_CHECKING:
    from extent.checking import compare_variants, model_checks, prior_checks
    from extent.data import ExtentData, SurveyData, read_extent_data, read_survey_data
    from extent.estimators import (
        BinomialProportion,
        CountTrend,
        ForceLevel,
        HierarchicalExtent,
        NaiveScaling,
        PoissonGLMBootstrap,
        PooledProportion,
        RateComparison,
        SurveyEstimator,
    )
    from extent.inference import Diagnostics, SamplerConfig
    from extent.measure_result import MeasureResult
    from extent.priors import Prior
    from extent.results import ExtentResult, Interval, NationalResult
    from extent.scenarios import DetectionRate, detection_scenario
    from extent.survey_result import SurveyResult

_EXPORTS = {
    "BinomialProportion": "extent.estimators",
    "CountTrend": "extent.estimators",
    "DetectionRate": "extent.scenarios",
    "Diagnostics": "extent.inference",
    "ExtentData": "extent.data",
    "ExtentResult": "extent.results",
    "ForceLevel": "extent.estimators",
    "HierarchicalExtent": "extent.estimators",
    "Interval": "extent.results",
    "MeasureResult": "extent.measure_result",
    "NaiveScaling": "extent.estimators",
    "NationalResult": "extent.results",
    "PoissonGLMBootstrap": "extent.estimators",
    "PooledProportion": "extent.estimators",
    "Prior": "extent.priors",
    "RateComparison": "extent.estimators",
    "SamplerConfig": "extent.inference",
    "SurveyData": "extent.data",
    "SurveyEstimator": "extent.estimators",
    "SurveyResult": "extent.survey_result",
    "compare_variants": "extent.checking",
    "detection_scenario": "extent.scenarios",
    "model_checks": "extent.checking",
    "prior_checks": "extent.checking",
    "read_extent_data": "extent.data",
    "read_survey_data": "extent.data",
}
"""Where each public name lives; imported by :func:`__getattr__` when first used."""

__all__ = [
    "BinomialProportion",
    "CountTrend",
    "DetectionRate",
    "Diagnostics",
    "ExtentData",
    "ExtentResult",
    "ForceLevel",
    "HierarchicalExtent",
    "Interval",
    "MeasureResult",
    "NaiveScaling",
    "NationalResult",
    "PoissonGLMBootstrap",
    "PooledProportion",
    "Prior",
    "RateComparison",
    "SamplerConfig",
    "SurveyData",
    "SurveyEstimator",
    "SurveyResult",
    "__version__",
    "compare_variants",
    "detection_scenario",
    "model_checks",
    "prior_checks",
    "read_extent_data",
    "read_survey_data",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
