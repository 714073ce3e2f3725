"""Figures: the forest plot of national intervals against the naive figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from extent.constants import CI_LEVEL  # noqa: E402
from extent.results import ExtentResult  # noqa: E402


def forest_plot(bayes: ExtentResult, naive: ExtentResult | None = None, *, level: float = CI_LEVEL,
                estimand: str = "per_annum", ax=None):
    """Median and central interval per category (log scale), with the naive figure as a cross.

    Returns the matplotlib Figure.
    """
    cats = bayes.categories
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(cats) + 1.9))
    else:
        fig = ax.figure
    y = np.arange(len(cats))[::-1]
    ivs = [bayes.interval(c, estimand, level) for c in cats]
    wide = [bayes.interval(c, estimand, 0.5) for c in cats]
    ax.hlines(y, [i.lower for i in ivs], [i.upper for i in ivs], color="tab:blue", lw=1.5,
              label=f"{level:.0%} credible interval")
    ax.hlines(y, [i.lower for i in wide], [i.upper for i in wide], color="tab:blue", lw=4, alpha=0.6,
              label="50% credible interval")
    ax.plot([i.estimate for i in ivs], y, "o", color="tab:blue", label="posterior median")
    if naive is not None:
        ax.plot([naive.interval(c, estimand).estimate for c in cats], y, "x", color="tab:red", ms=9, mew=2,
                label="naive (report method)")
    ax.set_yticks(y, [c.replace("_", " ") for c in cats])
    ax.set_xscale("log")
    ax.set_xlabel(f"known cases {estimand.replace('_', ' ').replace('unit', 'force')} (log scale)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
