"""Plots of a calibration study: coverage against nominal level, and rank histograms / ECDF differences of the
truth among posterior draws (SBC when the truth is drawn from the prior)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from extent.calibrate.metrics import POOLED
from extent.calibrate.sbc import ecdf_band

MARKERS = {"hierarchical": "o", "glm_bootstrap": "s", "naive": "^"}
LEGEND_INCHES = 0.45
"""Height kept above the panels for a figure legend (legends never sit over the data)."""


def panel_grid(n: int, *, ncols: int, width: float, height: float, sharey: bool = True):
    """A figure of ``n`` panels in rows of at most ``ncols`` (spare axes hidden) and room above for a legend.

    Returns ``(fig, axes)`` with ``axes`` the ``n`` panels in reading order.
    """
    import matplotlib.pyplot as plt

    cols, rows = min(n, ncols), -(-n // ncols)
    fig, grid = plt.subplots(rows, cols, figsize=(width * cols, height * rows + LEGEND_INCHES), squeeze=False,
                             sharey=sharey)
    axes = list(grid.ravel())
    for a in axes[n:]:
        a.set_visible(False)
    return fig, axes[:n]


def legend_above(fig, ax, ncol: int) -> None:
    """``ax``'s legend centred above all panels, then a layout that keeps clear of it."""
    fig.legend(*ax.get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=ncol,
               fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - LEGEND_INCHES / fig.get_figheight()))


def plot_coverage(coverage: pd.DataFrame, *, category: str = POOLED, ax=None):
    """Empirical against nominal coverage per design and estimator, with 95% Wilson intervals; the legend sits
    above the panels."""
    cov = coverage[coverage["category"] == category]
    designs = list(dict.fromkeys(cov["design"]))
    if ax is None:
        fig, axes = panel_grid(len(designs), ncols=4, width=3.3, height=3.2)
    else:
        fig, axes = ax.figure, [ax]
    for a, design in zip(axes, designs):
        a.plot([0.4, 1], [0.4, 1], color="0.6", lw=1, ls="--", label="nominal = empirical")
        g = cov[cov["design"] == design]
        for k, (est, e) in enumerate(g.groupby("estimator", sort=False)):
            x = e["level"].to_numpy() + (k - 0.5) * 0.008
            y = e["coverage"].to_numpy()
            bars = np.clip([y - e["coverage_lower"], e["coverage_upper"] - y], 0, None)  # Wilson at p = 0 or 1: -1e-16
            a.errorbar(x, y, yerr=bars, fmt=MARKERS.get(est, "o"), ms=4, capsize=2, label=est)
        a.set_title(design, fontsize=10)
        a.set_xlabel("nominal level")
        a.set_xlim(0.42, 1.0)
        a.set_ylim(0.0, 1.02)
        a.grid(alpha=0.25)
    axes[0].set_ylabel("empirical coverage")
    legend_above(fig, axes[0], ncol=len(axes[0].get_legend_handles_labels()[1]))
    return fig


def plot_ranks(ranks: pd.DataFrame, *, bins: int = 10):
    """Rank histograms and ECDF differences (95% simultaneous bands) of the truth among thinned posterior draws,
    one pair of panels per quantity.

    With the truth drawn from the prior (``ranks["truth"] == "prior"``) this is simulation-based calibration and
    the ranks are uniform for a calibrated model and sampler; with a fixed truth it is not SBC (uniformity is
    not expected: a rank far from the middle says where the fixed truth sits in the posterior), and the title
    says so.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    quantities = list(dict.fromkeys(ranks["quantity"]))
    sbc = "truth" in ranks and (ranks["truth"] == "prior").all()
    cols = min(len(quantities), 4)
    groups = -(-len(quantities) // cols)
    fig, grid = plt.subplots(2 * groups, cols, figsize=(2.6 * cols, 3.9 * groups + 0.5), squeeze=False)
    for a in grid.ravel():
        a.set_visible(False)  # shown below for each quantity
    for i, q in enumerate(quantities):
        top, bottom = grid[2 * (i // cols), i % cols], grid[2 * (i // cols) + 1, i % cols]
        top.set_visible(True)
        bottom.set_visible(True)
        g = ranks[ranks["quantity"] == q]
        L, n = int(g["n_draws"].iloc[0]), len(g)
        r = g["rank"].to_numpy(int)
        top.hist(r, bins=np.linspace(-0.5, L + 0.5, bins + 1), color="C0", alpha=0.8)
        top.axhline(n / bins, color="0.3", lw=1)
        lo, hi = np.quantile(np.random.default_rng(0).binomial(n, 1 / bins, 4000), [0.005, 0.995])
        top.axhspan(lo, hi, color="0.88", zorder=0)
        top.set_title(q, fontsize=9)
        top.set_xticks([0, (L + 1) // 2, L])
        top.yaxis.set_major_locator(MaxNLocator(integer=True))
        top.tick_params(labelsize=8)
        top.set_xlabel(f"rank (0-{L})", fontsize=8)
        z, blo, bhi = ecdf_band(n)
        u = np.sort((r + 0.5) / (L + 1))
        ecdf = np.searchsorted(u, z, side="right") / n
        bottom.fill_between(z, blo, bhi, color="0.88")
        bottom.plot(z, ecdf - z, color="C0")
        bottom.axhline(0, color="0.3", lw=1)
        bottom.set_xticks([0, 0.5, 1])
        reach = max(0.3, 1.1 * float(np.max(np.abs(ecdf - z))))  # a fixed truth can sit far from uniform
        bottom.set_ylim(-reach, reach)
        bottom.tick_params(labelsize=8)
        bottom.set_xlabel("rank fraction", fontsize=8)
        if i % cols == 0:
            top.set_ylabel("replicates", fontsize=8)
            bottom.set_ylabel("ECDF - uniform", fontsize=8)
    title = ("Simulation-based calibration: ranks of prior-drawn truths (uniform, inside the grey bands, if "
             "calibrated)" if sbc else "Ranks of a fixed truth among posterior draws (not SBC: uniform ranks are "
             "not expected)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def save_plots(result, out: str | Path) -> list[Path]:
    """Write ``coverage.png`` into ``out``, and the rank plot when the study has ranks: ``sbc.png`` when the truth
    is drawn from the prior (SBC), ``ranks.png`` for a fixed truth (not SBC)."""
    import matplotlib.pyplot as plt

    out = Path(out)
    paths = []
    fig = plot_coverage(result.coverage())
    fig.savefig(out / "coverage.png", dpi=110)
    plt.close(fig)
    paths.append(out / "coverage.png")
    ranks = result.ranks()
    if len(ranks):
        fig = plot_ranks(ranks)
        name = "sbc.png" if (ranks["truth"] == "prior").all() else "ranks.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        paths.append(out / name)
    return paths
