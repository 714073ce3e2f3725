"""Estimators: ``fit(data) -> result``; the national ones follow :class:`~extent.estimators.base.Estimator`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports

if TYPE_CHECKING:
    from extent.estimators.base import Estimator
    from extent.estimators.comparison import RateComparison
    from extent.estimators.force_level import ForceLevel
    from extent.estimators.glm_bootstrap import PoissonGLMBootstrap
    from extent.estimators.hierarchical import HierarchicalExtent
    from extent.estimators.naive import NaiveScaling
    from extent.estimators.proportion import BinomialProportion, PooledProportion
    from extent.estimators.survey import SurveyEstimator
    from extent.estimators.trend import CountTrend

_EXPORTS = {
    "BinomialProportion": "extent.estimators.proportion",
    "CountTrend": "extent.estimators.trend",
    "Estimator": "extent.estimators.base",
    "ForceLevel": "extent.estimators.force_level",
    "HierarchicalExtent": "extent.estimators.hierarchical",
    "NaiveScaling": "extent.estimators.naive",
    "PoissonGLMBootstrap": "extent.estimators.glm_bootstrap",
    "PooledProportion": "extent.estimators.proportion",
    "RateComparison": "extent.estimators.comparison",
    "SurveyEstimator": "extent.estimators.survey",
}
"""Where each public name lives; imported when first used."""

__all__ = ["BinomialProportion", "CountTrend", "Estimator", "ForceLevel", "HierarchicalExtent", "NaiveScaling",
           "PoissonGLMBootstrap", "PooledProportion", "RateComparison", "SurveyEstimator"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
