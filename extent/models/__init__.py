"""PyMC model builders: pure functions from data and priors to a ``pm.Model``.

Two families shaped alike, each with its builder and its national prediction: :mod:`.counts` (record-search
counts) and :mod:`.survey` (survey returns with non-response); shared likelihoods in :mod:`.likelihood`; small
share, rate and trend models in :mod:`.rates`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports

if TYPE_CHECKING:
    from extent.models.counts.builder import DEFAULT_PRIORS, build_extent_model
    from extent.models.counts.design import Design

_EXPORTS = {
    "DEFAULT_PRIORS": "extent.models.counts.builder",
    "Design": "extent.models.counts.design",
    "build_extent_model": "extent.models.counts.builder",
}
"""Where each public name lives; imported when first used."""

__all__ = ["DEFAULT_PRIORS", "Design", "build_extent_model"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
