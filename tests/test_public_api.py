"""The public API: everything in ``extent.__all__`` exists and nothing else is advertised."""

import extent


def test_all_names_exist():
    missing = [name for name in extent.__all__ if not hasattr(extent, name)]
    assert missing == []


def test_api_names():
    assert set(extent.__all__) == {
        "BinomialProportion", "CountTrend", "DetectionRate", "Diagnostics", "ExtentData", "ExtentResult", "ForceLevel",
        "HierarchicalExtent", "Interval", "MeasureResult", "NaiveScaling", "NationalResult", "PoissonGLMBootstrap",
        "PooledProportion",
        "Prior", "RateComparison", "SamplerConfig", "SurveyData", "SurveyEstimator", "SurveyResult",
        "__version__", "compare_variants", "detection_scenario", "model_checks", "prior_checks", "read_extent_data",
        "read_survey_data",
    }
    assert extent.__version__ == "0.1.0"
