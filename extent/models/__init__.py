"""PyMC model builders: pure functions from data and priors to a ``pm.Model``.

Two families shaped alike, each with its builder and its national prediction: :mod:`.counts` (record-search
counts) and :mod:`.survey` (survey returns with non-response); shared likelihoods in :mod:`.likelihood`; small
share, rate and trend models in :mod:`.rates`.
"""

from extent.models.counts.builder import DEFAULT_PRIORS, build_extent_model
from extent.models.counts.design import Design

__all__ = ["DEFAULT_PRIORS", "Design", "build_extent_model"]
