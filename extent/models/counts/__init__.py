"""The count model family: record-search counts per unit and category.

:mod:`.design` (index arrays and covariates), :mod:`.builder` (the hierarchical model and its default
priors), :mod:`.predict` (national totals and per-unit counts from a posterior).
"""

from extent.models.counts.builder import DEFAULT_PRIORS, build_extent_model, default_priors
from extent.models.counts.design import Design
from extent.models.counts.predict import national_totals, unit_counts

__all__ = ["DEFAULT_PRIORS", "Design", "build_extent_model", "default_priors", "national_totals", "unit_counts"]
