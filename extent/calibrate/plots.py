"""Plots of a calibration study: coverage against nominal level, and SBC rank histograms / ECDF differences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from extent.calibrate.metrics import POOLED
from extent.calibrate.sbc import ecdf_band

MARKERS = {"hierarchical": "o", "glm_bootstrap": "s", "naive": "^"}


def plot_coverage(coverage: pd.DataFrame, *, category: str = POOLED, ax=None):
    """Empirical against nominal coverage per design and estimator, with 95% Wilson intervals."""
    import matplotlib.pyplot as plt

    cov = coverage[coverage["category"] == category]
    designs = list(dict.fromkeys(cov["design"]))
    if ax is None:
        _, axes = plt.subplots(1, len(designs), figsize=(3.2 * len(designs), 3.2), squeeze=False, sharey=True)
        axes = axes[0]
    else:
        axes = [ax]
    for a, design in zip(axes, designs):
        a.plot([0.4, 1], [0.4, 1], color="0.6", lw=1, ls="--")
        g = cov[cov["design"] == design]
        for k, (est, e) in enumerate(g.groupby("estimator", sort=False)):
            x = e["level"].to_numpy() + (k - 0.5) * 0.008
            y = e["coverage"].to_numpy()
            bars = np.clip([y - e["coverage_lower"], e["coverage_upper"] - y], 0, None)  # Wilson at p = 0 or 1: -1e-16
            a.errorbar(x, y, yerr=bars, fmt=MARKERS.get(est, "o"),
                       ms=4, capsize=2, label=est)
        a.set_title(design, fontsize=10)
        a.set_xlabel("nominal level")
        a.set_xlim(0.42, 1.0)
        a.set_ylim(0.0, 1.02)
    axes[0].set_ylabel("empirical coverage")
    axes[0].legend(fontsize=8, loc="lower right")
    return axes[0].figure


def plot_sbc(ranks: pd.DataFrame, *, bins: int = 10):
    """Rank histograms (top) and ECDF differences with 95% simultaneous bands (bottom), one column per
    quantity."""
    import matplotlib.pyplot as plt

    quantities = list(dict.fromkeys(ranks["quantity"]))
    fig, axes = plt.subplots(2, len(quantities), figsize=(2.2 * len(quantities), 4.2), squeeze=False)
    for j, q in enumerate(quantities):
        g = ranks[ranks["quantity"] == q]
        L, n = int(g["n_draws"].iloc[0]), len(g)
        r = g["rank"].to_numpy(int)
        ax = axes[0, j]
        ax.hist(r, bins=np.linspace(-0.5, L + 0.5, bins + 1), color="C0", alpha=0.8)
        ax.axhline(n / bins, color="0.3", lw=1)
        lo, hi = np.quantile(np.random.default_rng(0).binomial(n, 1 / bins, 4000), [0.005, 0.995])
        ax.axhspan(lo, hi, color="0.85", zorder=0)
        ax.set_title(q, fontsize=8)
        ax.set_yticks([])
        z, blo, bhi = ecdf_band(n)
        u = np.sort((r + 0.5) / (L + 1))
        ecdf = np.searchsorted(u, z, side="right") / n
        ax = axes[1, j]
        ax.fill_between(z, blo, bhi, color="0.85")
        ax.plot(z, ecdf - z, color="C0")
        ax.axhline(0, color="0.3", lw=1)
        ax.set_xticks([0, 0.5, 1])
        ax.set_ylim(-0.3, 0.3)
        if j:
            ax.set_yticks([])
    axes[1, 0].set_ylabel("ECDF - uniform")
    fig.tight_layout()
    return fig


def save_plots(result, out: str | Path) -> list[Path]:
    """Write ``coverage.png`` (and ``sbc.png`` when the study has ranks) into ``out``."""
    import matplotlib.pyplot as plt

    out = Path(out)
    paths = []
    fig = plot_coverage(result.coverage())
    fig.tight_layout()
    fig.savefig(out / "coverage.png", dpi=110)
    plt.close(fig)
    paths.append(out / "coverage.png")
    ranks = result.ranks()
    if len(ranks):
        fig = plot_sbc(ranks)
        fig.savefig(out / "sbc.png", dpi=110)
        plt.close(fig)
        paths.append(out / "sbc.png")
    return paths
