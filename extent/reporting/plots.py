"""Figures: the forest plot of national intervals against the naive figures."""

from __future__ import annotations

from collections.abc import Collection

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
import numpy as np

from extent.constants import CI_LEVEL
from extent.results import ExtentResult


def forest_plot(bayes: ExtentResult, naive: ExtentResult | None = None, *, level: float = CI_LEVEL,
                estimand: str = "per_annum", ax=None, withheld: Collection[str] = (),
                naive_withheld: Collection[str] = ()):
    """Point estimate and central interval per category (log scale) of any national result, with the naive
    figure as a cross; the legend names the result's interval kind and point-estimate rule.

    Categories in ``withheld`` (``naive_withheld``) have no interval (no cross) drawn: disclosure control
    withholds figures that would give back a suppressed count (:mod:`extent.disclosure`).

    Returns the matplotlib Figure.
    """
    cats = bayes.categories
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(cats) + 1.9))
    else:
        fig = ax.figure
    y = np.arange(len(cats))[::-1]
    shown = [i for i, c in enumerate(cats) if c not in withheld]
    ivs = [bayes.interval(cats[i], estimand, level) for i in shown]
    wide = [bayes.interval(cats[i], estimand, 0.5) for i in shown]
    ys = y[shown]
    kind = bayes.interval_kind
    ax.hlines(ys, [i.lower for i in ivs], [i.upper for i in ivs], color="tab:blue", lw=1.5,
              label=f"{level:.0%} {kind} interval")
    ax.hlines(ys, [i.lower for i in wide], [i.upper for i in wide], color="tab:blue", lw=4, alpha=0.6,
              label=f"50% {kind} interval")
    ax.plot([i.estimate for i in ivs], ys, "o", color="tab:blue", label=bayes.point_estimate)
    if naive is not None:
        crosses = [i for i, c in enumerate(cats) if c not in naive_withheld]
        ax.plot([naive.interval(cats[i], estimand).estimate for i in crosses], y[crosses], "x", color="tab:red",
                ms=9, mew=2, label="naive scaling")
    labels = [bayes.subject(c) + (" (withheld)" if c in withheld else "") for c in cats]
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    noun = "cases" if bayes.kind == "survey" else "known cases"
    ax.set_xlabel(f"{noun} {estimand.replace('_', ' ').replace('unit', 'force')} (log scale)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
