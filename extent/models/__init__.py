"""PyMC model builders: pure functions from data and priors to a ``pm.Model``."""

from extent.models.design import Design
from extent.models.hierarchical import DEFAULT_PRIORS, build_extent_model

__all__ = ["DEFAULT_PRIORS", "Design", "build_extent_model"]
