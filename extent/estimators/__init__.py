"""Estimators: ``fit(data) -> result``; the national ones follow :class:`~extent.estimators.base.Estimator`."""

from extent.estimators.base import Estimator
from extent.estimators.comparison import RateComparison
from extent.estimators.force_level import ForceLevel
from extent.estimators.glm_bootstrap import PoissonGLMBootstrap
from extent.estimators.hierarchical import HierarchicalExtent
from extent.estimators.naive import NaiveScaling
from extent.estimators.proportion import BinomialProportion, PooledProportion
from extent.estimators.survey import SurveyEstimator
from extent.estimators.trend import CountTrend

__all__ = ["BinomialProportion", "CountTrend", "Estimator", "ForceLevel", "HierarchicalExtent", "NaiveScaling",
           "PoissonGLMBootstrap", "PooledProportion", "RateComparison", "SurveyEstimator"]
