"""The count model family: record-search counts per unit and category.

:mod:`.design` (index arrays and covariates), :mod:`.builder` (the hierarchical model and its default
priors), :mod:`.predict` (national totals and per-unit counts from a posterior).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports

if TYPE_CHECKING:
    from extent.models.counts.builder import DEFAULT_PRIORS, build_extent_model, default_priors
    from extent.models.counts.design import Design
    from extent.models.counts.predict import national_totals, unit_counts

_EXPORTS = {
    "DEFAULT_PRIORS": "extent.models.counts.builder",
    "Design": "extent.models.counts.design",
    "build_extent_model": "extent.models.counts.builder",
    "default_priors": "extent.models.counts.builder",
    "national_totals": "extent.models.counts.predict",
    "unit_counts": "extent.models.counts.predict",
}
"""Where each public name lives; imported when first used."""

__all__ = ["DEFAULT_PRIORS", "Design", "build_extent_model", "default_priors", "national_totals", "unit_counts"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
