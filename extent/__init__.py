"""extent: national extent of rare case categories from a few local agencies, with honest uncertainty."""

__version__ = "0.1.0"

from extent.data import ExtentData, read_extent_data
from extent.estimators import HierarchicalExtent, NaiveScaling
from extent.inference import Diagnostics, SamplerConfig
from extent.priors import Prior
from extent.results import ExtentResult, Interval

__all__ = [
    "Diagnostics",
    "ExtentData",
    "ExtentResult",
    "HierarchicalExtent",
    "Interval",
    "NaiveScaling",
    "Prior",
    "SamplerConfig",
    "__version__",
    "read_extent_data",
]
