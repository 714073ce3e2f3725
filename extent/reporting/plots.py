"""Figures: the forest plot of national intervals against the naive figures."""

from __future__ import annotations

from collections.abc import Collection

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from extent.constants import CI_LEVEL
from extent.results import ExtentResult, unit_noun

NAIVE_OFFSET = 0.28
"""How far below its row the naive figure is drawn, so that it never hides the median."""


def forest_plot(bayes: ExtentResult, naive: ExtentResult | None = None, *, level: float = CI_LEVEL,
                estimand: str = "per_annum", ax=None, withheld: Collection[str] = (),
                naive_withheld: Collection[str] = ()):
    """Point estimate (white dot) and central ``level`` and 50% intervals per category of any national result,
    on a log axis labelled in plain numbers (10, 20, 50, 100, ...), with the naive figure as a red cross just below
    its row; the legend names the result's interval kind and point-estimate rule.

    Categories in ``withheld`` (``naive_withheld``) have no interval (no cross) drawn: disclosure control
    withholds figures that would give back a suppressed count (:mod:`extent.disclosure`).

    Returns the matplotlib Figure.
    """
    cats = bayes.categories
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 0.62 * len(cats) + 1.5))
    else:
        fig = ax.figure
    y = np.arange(len(cats))[::-1].astype(float)
    shown = [i for i, c in enumerate(cats) if c not in withheld]
    ivs = [bayes.interval(cats[i], estimand, level) for i in shown]
    wide = [bayes.interval(cats[i], estimand, 0.5) for i in shown]
    ys = y[shown]
    kind = bayes.interval_kind
    blue, red = "#1f5fa8", "#c8102e"
    ax.hlines(ys, [i.lower for i in ivs], [i.upper for i in ivs], color=blue, lw=1.6,
              label=f"{level:.0%} {kind} interval")
    ax.hlines(ys, [i.lower for i in wide], [i.upper for i in wide], color=blue, lw=6, alpha=0.45,
              label=f"50% {kind} interval")
    ax.plot([i.estimate for i in ivs], ys, "o", ms=7, mfc="white", mec=blue, mew=2, zorder=3,
            label=bayes.point_estimate)
    if naive is not None:
        crosses = [i for i, c in enumerate(cats) if c not in naive_withheld]
        ax.plot([naive.interval(cats[i], estimand).estimate for i in crosses], y[crosses] - NAIVE_OFFSET, "x",
                color=red, ms=7, mew=2, zorder=3, label="naive scaling")
    labels = [bayes.subject(c) + (" (withheld)" if c in withheld else "") for c in cats]
    ax.set_yticks(y, labels, fontsize=10)
    ax.set_ylim(-0.7, len(cats) - 0.4)
    _plain_log_axis(ax)
    ax.tick_params(axis="x", labelsize=9)
    noun = "cases" if bayes.kind == "survey" else "known cases"
    ax.set_xlabel(f"{noun} {estimand.replace('_', ' ').replace('unit', unit_noun(bayes.data))} (log scale)")
    ax.grid(axis="x", which="major", alpha=0.35)
    ax.grid(axis="x", which="minor", alpha=0.12)
    ax.spines[["top", "right"]].set_visible(False)
    top = 1 - 0.35 / fig.get_figheight()  # room above the axes for the legend
    fig.legend(*ax.get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=4,
               fontsize=9, frameon=False, handlelength=1.6, columnspacing=1.4)
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def _plain_log_axis(ax) -> None:
    """A log x axis labelled in plain numbers: 10, 20, 50, 100, ... (every digit over a narrow range)."""
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5) if hi / lo >= 10 else np.arange(1, 10)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _number(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _number(v: float) -> str:
    """An axis or median label as people write it: 0.5, 2, 50, 1,000."""
    return f"{v:,.0f}" if v >= 10 else f"{v:.2g}" if v >= 1 else f"{v:.1g}"


def sensitivity_plot(table, withheld: Collection[str] = ()):
    """Each category's national interval under the default spread prior and under the wider one (one row each,
    log axis), from :meth:`~extent.estimators.HierarchicalExtent.prior_sensitivity`'s table; rows of
    ``withheld`` categories are left out (disclosure control)."""
    rows = table[~table["category"].isin(list(withheld))].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(rows) + 1.4))
    blue, grey = "#1f5fa8", "#7a7a7a"
    y = np.arange(len(rows))[::-1]
    for prefix, dy, colour, label in (("", 0.13, blue, "default spread prior"),
                                      ("wider_", -0.13, grey, "spread prior with twice the median")):
        ax.hlines(y + dy, rows[f"{prefix}lower"], rows[f"{prefix}upper"], color=colour, lw=2, label=label)
        ax.plot(rows[f"{prefix}estimate"], y + dy, "o", ms=6, mfc="white", mec=colour, mew=2, zorder=3)
    ax.set_yticks(y, [c.replace("_", " ") for c in rows["category"]], fontsize=10)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    _plain_log_axis(ax)
    level = float(rows["level"].iloc[0]) if len(rows) else CI_LEVEL
    ax.set_xlabel(f"per annum: median and {level:.0%} interval (log scale)")
    ax.grid(axis="x", which="major", alpha=0.35)
    ax.spines[["top", "right"]].set_visible(False)
    top = 1 - 0.35 / fig.get_figheight()
    fig.legend(*ax.get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2,
               fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def share_claims_plot(claims, level: float | None = None):
    """The restated shares of the report's claims (kind ``proportion``, supported and not withheld): median and
    interval per claim on a log percent axis."""
    rows = claims[(claims["kind"] == "proportion") & claims["supported"].astype(bool) & claims["estimate"].notna()
                  & (claims["lower"] < claims["upper"])].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) + 1.5))
    blue = "#1f5fa8"
    y = np.arange(len(rows))[::-1]
    pct = 100 * rows[["estimate", "lower", "upper"]].astype(float)
    ax.hlines(y, pct["lower"], pct["upper"], color=blue, lw=1.8)
    ax.plot(pct["estimate"], y, "o", ms=5, mfc="white", mec=blue, mew=1.6, zorder=3)
    ax.set_yticks(y, rows["claim_id"], fontsize=8)
    ax.set_ylim(-0.7, max(len(rows), 1) - 0.3)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{_number(v)}%"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    shown = level if level is not None else float(rows["level"].iloc[0]) if len(rows) else CI_LEVEL
    ax.set_xlabel(f"share restated: median and {shown:.0%} credible interval (percent, log scale)")
    ax.grid(axis="x", which="major", alpha=0.35)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def trend_plot(trends: dict, level: float = CI_LEVEL):
    """One panel per fitted series (:class:`~extent.estimators.CountTrend` results): fitted full-year rate per
    year with its central ``level`` band, the published full-year values, and the projection with its interval."""
    n = len(trends)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False)
    blue, red = "#1f5fa8", "#c8102e"
    for ax, (key, fit) in zip(axes[0], trends.items()):
        years = sorted(int(q.split("_")[1]) for q in fit.quantities if q.startswith("rate_"))
        ivs = [fit.interval(f"rate_{y}", level) for y in years]
        ax.fill_between(years, [i.lower for i in ivs], [i.upper for i in ivs], color=blue, alpha=0.2,
                        label=f"{level:.0%} band")
        ax.plot(years, [i.estimate for i in ivs], color=blue, lw=2, label="fitted rate (median)")
        seen = [(y, fit.observed[f"rate_{y}"]) for y in years if f"rate_{y}" in fit.observed]
        if seen:
            ax.plot(*zip(*seen), "o", color="black", ms=5, label="published (full years)")
        ahead = [q for q in fit.quantities if q.startswith("projection_")]
        for q in ahead:
            iv = fit.interval(q, level)
            year = int(q.split("_")[1])
            ax.errorbar([year], [iv.estimate], yerr=[[iv.estimate - iv.lower], [iv.upper - iv.estimate]], fmt="s",
                        color=red, ms=5, capsize=3, label="projection")
        table, column, _ = key.split(":")
        ax.set_title(f"{table.replace('_', ' ')}: {column.replace('_', ' ')}", fontsize=10)
        ax.set_xticks(years + [int(q.split("_")[1]) for q in ahead])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _number(v)))
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(bottom=0)
    handles, labels = axes[0][0].get_legend_handles_labels()
    top = 1 - 0.45 / fig.get_figheight()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig
