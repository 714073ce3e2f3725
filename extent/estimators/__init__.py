"""Estimators: ``fit(data) -> ExtentResult``."""

from extent.estimators.hierarchical import HierarchicalExtent
from extent.estimators.naive import NaiveScaling

__all__ = ["HierarchicalExtent", "NaiveScaling"]
