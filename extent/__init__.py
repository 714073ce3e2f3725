"""extent: national extent of rare case categories from a few local agencies, with honest uncertainty."""

from extent.checking import compare_variants, model_checks, prior_checks
from extent.constants import VERSION as __version__
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
