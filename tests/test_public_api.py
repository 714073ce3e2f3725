"""The public API: everything in ``extent.__all__`` exists and nothing else is advertised."""

import pytest

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


def test_import_extent_loads_no_heavy_dependency():
    """``import extent`` is cheap: PyMC, ArviZ, Matplotlib, Dask and SciPy's signal load only with a name that
    needs them (in a fresh interpreter, so that other tests' imports do not count)."""
    import subprocess
    import sys

    code = ("import sys, extent; heavy = ('pymc', 'arviz', 'matplotlib', 'dask', 'distributed', 'scipy.signal'); "
            "print(','.join(m for m in heavy if m in sys.modules)); extent.HierarchicalExtent; "
            "print('pymc' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == ""  # nothing heavy after the import alone
    assert out[1] == "True"  # the hierarchical estimator loads PyMC when first touched


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        extent.Nope  # noqa: B018
