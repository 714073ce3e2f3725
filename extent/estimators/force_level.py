"""Statements about units (forces), not the nation, from a hierarchical fit's per-unit predictive counts.

"Most police services investigated fewer than five of these cases per annum" is a statement about the
distribution of forces' counts: for each posterior draw, every force's known cases per annum (observed for a
searched force, a posterior predictive count for the others, :func:`~extent.models.counts.predict.unit_counts`), and
from those the share of forces below the threshold. The posterior probability that most forces are below it is
``P(share_below > 0.5)``.
"""

from __future__ import annotations

import numpy as np

from extent.constants import CATEGORY
from extent.exceptions import ConfigError
from extent.measure_result import MeasureResult
from extent.models.counts.design import Design
from extent.models.counts.predict import unit_counts
from extent.results import ExtentResult

PREDICTION_SEED_OFFSET = 2
"""The per-unit predictive draws use ``random_seed + 2`` (the national ones use ``+ 1``)."""


def unit_counts_of(result: ExtentResult):
    """Per-unit known cases over each category's period from a hierarchical fit, dims (chain, draw, category,
    unit)."""
    if result.idata is None or result.estimator != "hierarchical":
        raise ConfigError("per-unit predictive counts need a hierarchical fit (ExtentResult with a posterior)")
    st = result.settings
    design = Design.from_data(result.data, log_population=st.get("log_population", True))
    seed = int(st["sampler"]["random_seed"]) + PREDICTION_SEED_OFFSET
    return unit_counts(result.idata, result.data, design, seed=seed, unit_effect=st.get("unit_effect", "normal"))


class ForceLevel:
    """Per-force per annum known cases, summarised across forces, per category.

    Quantities per category ``c``: ``c:share_below`` (share of forces with fewer than ``threshold`` cases per
    annum), ``c:median_force`` (the median force's cases per annum), ``c:largest_force`` (the largest force's),
    ``c:forces_at_least_<high>`` (share of forces with at least ``high`` per annum, when ``high`` is given).

    Parameters
    ----------
    threshold : float
        Cases per annum (default 5).
    high : float, optional
        A second, high threshold (e.g. 100 for "sometimes hundreds").
    """

    name = "force_level"

    def __init__(self, *, threshold: float = 5.0, high: float | None = None):
        if not threshold > 0 or (high is not None and not high > 0):
            raise ConfigError(f"thresholds must be > 0, got {threshold!r} and {high!r}")
        self.threshold, self.high = float(threshold), None if high is None else float(high)

    def fit(self, result: ExtentResult) -> MeasureResult:
        counts = unit_counts_of(result)
        draws, scales = {}, {}
        for c in result.categories:
            per_annum = counts.sel({CATEGORY: c}).values / result.data.years(c)  # chain, draw, unit
            draws[f"{c}:share_below"] = np.mean(per_annum < self.threshold, axis=-1)
            draws[f"{c}:median_force"] = np.median(per_annum, axis=-1)
            draws[f"{c}:largest_force"] = np.max(per_annum, axis=-1)
            scales.update({f"{c}:share_below": "proportion", f"{c}:median_force": "rate",
                           f"{c}:largest_force": "rate"})
            if self.high is not None:
                key = f"{c}:forces_at_least_{self.high:g}"
                draws[key] = np.mean(per_annum >= self.high, axis=-1)
                scales[key] = "proportion"
        return MeasureResult(self.name, "known cases per unit per annum", draws, scales,
                             diagnostics=result.diagnostics,
                             settings={"threshold": self.threshold, "high": self.high,
                                       "seed_offset": PREDICTION_SEED_OFFSET})
