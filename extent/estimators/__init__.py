"""Estimators: ``fit(data) -> result``."""

from extent.estimators.glm_bootstrap import PoissonGLMBootstrap
from extent.estimators.hierarchical import HierarchicalExtent
from extent.estimators.naive import NaiveScaling
from extent.estimators.survey import SurveyEstimator

__all__ = ["HierarchicalExtent", "NaiveScaling", "PoissonGLMBootstrap", "SurveyEstimator"]
