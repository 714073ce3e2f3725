"""Scores of a real-data validation study, by dataset, search design and number of searched units ``k``.

coverage
    Share of replicates whose central interval contains the true total, with a 95% Wilson interval. Every
    fit counts, whether or not its diagnostics passed.
median absolute log error
    Median of ``|log((estimate + 0.5) / (truth + 0.5))|`` of the point estimate (posterior median; naive
    scaling), next to the naive estimator's on the same replicates.
median relative width
    Median of ``(upper - lower) / max(truth, 1)`` of the 90% interval.
failed diagnostics
    Hierarchical fits whose diagnostics failed (R-hat, ESS or divergences; ``converged`` false).
fits per minute
    Replicates per minute of one worker: ``60 n / sum of replicate wall times``.

Pooled rows: dataset :data:`POOLED` counts every replicate once;
:data:`EQUAL_WEIGHT` weights each dataset equally (weights ``1 / n_dataset``;
its Wilson interval uses Kish's effective sample size ``(sum w)^2 / sum w^2``, and its medians are weighted
medians).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from extent.calibrate.metrics import wilson_interval

CELL = ["dataset", "design", "k"]
POOLED = "all"
"""Dataset label of rows pooled over datasets (every replicate counts once)."""
EQUAL_WEIGHT = "all (equal weight)"
"""Dataset label of rows pooled with each dataset weighted equally."""


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    if not len(x):
        return float("nan")
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cum, 0.5 * cum[-1])])


def _abs_log_error(estimate, truth):
    """``|log((estimate + 0.5) / (truth + 0.5))|``, the point error of every table here."""
    return np.abs(np.log((estimate + 0.5) / (truth + 0.5)))


def _relative_width(lower, upper, truth):
    """Interval width over the truth (at least 1)."""
    return (upper - lower) / np.maximum(truth, 1.0)


def _coverage_cells(row, levels: tuple[float, ...]) -> list[str]:
    """Coverage at each level as Markdown cells, the 90% one with its 95% Wilson interval."""
    cells = []
    for lv in levels:
        c = f"{row[f'coverage_{lv:g}']:.0%}"
        if lv == 0.9:
            c += f" ({row['coverage_lower_0.9']:.0%}-{row['coverage_upper_0.9']:.0%})"
        cells.append(c)
    return cells


def _pooled(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with per-row weights, plus its rows pooled over datasets (plain and equal-weight)."""
    frame = frame.assign(weight=1.0)
    n_per = frame.groupby(["dataset", "design", "k", "estimator"])["truth"].transform("size")
    n_datasets = frame.groupby(["design", "k", "estimator"])["dataset"].transform("nunique")
    equal = frame.assign(dataset=EQUAL_WEIGHT, weight=1.0 / (n_per * n_datasets))
    return pd.concat([frame, frame.assign(dataset=POOLED), equal], ignore_index=True)


def validation_coverage(estimates: pd.DataFrame, levels: tuple[float, ...]) -> pd.DataFrame:
    """Coverage with 95% Wilson intervals per ``dataset, design, k, estimator, level`` (interval estimators)."""
    rows = []
    for key, g in _pooled(estimates).groupby([*CELL, "estimator"], sort=False):
        y, w = g["truth"].to_numpy(float), g["weight"].to_numpy(float)
        for lv in levels:
            lo, hi = g[f"lower_{lv:g}"].to_numpy(float), g[f"upper_{lv:g}"].to_numpy(float)
            if np.isnan(lo).all():
                continue
            covered = (lo <= y) & (y <= hi)
            p = float(np.sum(w * covered) / np.sum(w))
            n_eff = float(np.sum(w) ** 2 / np.sum(w**2))
            w_lo, w_hi = wilson_interval(p * n_eff, n_eff)
            rows.append({**dict(zip([*CELL, "estimator"], key)), "level": lv, "n": len(y),
                         "covered": int(covered.sum()), "coverage": p, "coverage_lower": float(w_lo),
                         "coverage_upper": float(w_hi), "below": float(np.sum(w * (y < lo)) / np.sum(w)),
                         "above": float(np.sum(w * (y > hi)) / np.sum(w))})
    return pd.DataFrame(rows)


def validation_accuracy(estimates: pd.DataFrame, width_level: float = 0.9) -> pd.DataFrame:
    """Median |log error|, relative bias and median relative ``width_level`` width per cell and estimator,
    with the naive estimator's median |log error| on the same replicates."""
    rows = []
    est = _pooled(estimates)
    est = est.assign(abs_log_error=_abs_log_error(est["estimate"], est["truth"]),
                     relative_error=(est["estimate"] - est["truth"]) / np.maximum(est["truth"], 1.0))
    lo, hi = f"lower_{width_level:g}", f"upper_{width_level:g}"
    if lo in est:
        est["relative_width"] = _relative_width(est[lo].astype(float), est[hi].astype(float), est["truth"])
    else:
        est["relative_width"] = np.nan
    naive = {key: _weighted_median(g["abs_log_error"].to_numpy(float), g["weight"].to_numpy(float))
             for key, g in est[est["estimator"] == "naive"].groupby(CELL, sort=False)}
    for key, g in est.groupby([*CELL, "estimator"], sort=False):
        w = g["weight"].to_numpy(float)
        width = g["relative_width"].to_numpy(float)
        mdale = _weighted_median(g["abs_log_error"].to_numpy(float), w)
        base = naive.get(tuple(key[:3]), np.nan)
        rows.append({**dict(zip([*CELL, "estimator"], key)), "n": len(g),
                     "median_abs_log_error": mdale, "naive_median_abs_log_error": base,
                     "ratio_to_naive": mdale / base if base > 0 else np.nan,
                     "relative_bias": float(np.sum(w * g["relative_error"]) / np.sum(w)),
                     f"median_relative_width_{width_level:g}": (
                         _weighted_median(width[~np.isnan(width)], w[~np.isnan(width)])
                         if not np.isnan(width).all() else np.nan)})
    return pd.DataFrame(rows)


def validation_fit_summary(fits: pd.DataFrame) -> pd.DataFrame:
    """Per cell (and pooled over datasets): fits, failed diagnostics, fits with divergences, fits per minute."""
    if not len(fits):
        return pd.DataFrame(columns=[*CELL, "fits", "failed_diagnostics", "divergent", "fits_per_minute"])
    both = pd.concat([fits, fits.assign(dataset=POOLED)], ignore_index=True)
    out = both.groupby(CELL, sort=False).agg(
        fits=("converged", "size"), failed_diagnostics=("converged", lambda c: int((~c.astype(bool)).sum())),
        divergent=("divergences", lambda d: int((d > 0).sum())), seconds=("seconds", "sum")).reset_index()
    out["fits_per_minute"] = 60.0 * out["fits"] / out["seconds"]
    return out.drop(columns="seconds")


def validation_summary(coverage: pd.DataFrame, accuracy: pd.DataFrame, fits: pd.DataFrame,
                       estimator: str = "hierarchical") -> pd.DataFrame:
    """One row per ``dataset, design, k`` for ``estimator``: coverage (with Wilson bounds) at each level,
    point error against the naive estimator's, 90% width, failed fits and fits per minute."""
    cov = coverage[coverage["estimator"] == estimator]
    if not len(cov):
        return pd.DataFrame()
    wide = cov.pivot_table(index=CELL, columns="level", values=["coverage", "coverage_lower", "coverage_upper"],
                           sort=False)
    wide.columns = [f"{name}_{lv:g}" for name, lv in wide.columns]
    n = cov.groupby(CELL, sort=False)["n"].first().rename("n")
    acc = accuracy[accuracy["estimator"] == estimator].set_index(CELL).drop(columns=["estimator", "n"])
    out = pd.concat([n, wide, acc], axis=1).reset_index()
    return out.merge(validation_fit_summary(fits), on=CELL, how="left")


def coverage_markdown(summary: pd.DataFrame, levels: tuple[float, ...]) -> str:
    """The summary as a Markdown table (coverage with its 95% Wilson interval at 90%)."""
    head = ["dataset", "design", "k", "n", *[f"{lv:.0%}" for lv in levels], "median abs log error (naive)",
            "90% width", "failed fits"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|"]
    for _, r in summary.iterrows():
        cells = _coverage_cells(r, levels)
        failed = "-" if pd.isna(r.get("fits")) else f"{int(r['failed_diagnostics'])}/{int(r['fits'])}"
        lines.append("| " + " | ".join([
            str(r["dataset"]), str(r["design"]), str(int(r["k"])), str(int(r["n"])), *cells,
            f"{r['median_abs_log_error']:.3f} ({r['naive_median_abs_log_error']:.3f})",
            f"{r['median_relative_width_0.9']:.2f}", failed]) + " |")
    return "\n".join(lines) + "\n"


MARGINS = (("dataset",), ("design",), ("k",), ("design", "k"), ("dataset", "k"), ("dataset", "design"))
"""Groupings of :func:`margin_tables` (every replicate counts once; the docs' tables)."""


def _scored(estimates: pd.DataFrame, fits: pd.DataFrame, levels: tuple[float, ...], estimator: str) -> pd.DataFrame:
    """One row per replicate of ``estimator``: covered at each level, truth below or above the 90% interval, its
    and the naive estimator's absolute log error, the 90% width over the truth, and whether the fit failed."""
    key = ["task", "dataset", "design", "k"]
    est = estimates.assign(abs_log_error=_abs_log_error(estimates["estimate"], estimates["truth"]))
    naive = est[est["estimator"] == "naive"].set_index(key)["abs_log_error"].rename("naive_error")
    g = est[est["estimator"] == estimator].join(naive, on=key)
    y = g["truth"].to_numpy(float)
    out = g[[*key, "abs_log_error", "naive_error"]].copy()
    for lv in levels:
        out[f"covered_{lv:g}"] = (g[f"lower_{lv:g}"] <= y) & (y <= g[f"upper_{lv:g}"])
    out["below"], out["above"] = y < g["lower_0.9"], y > g["upper_0.9"]
    out["width"] = _relative_width(g["lower_0.9"].to_numpy(float), g["upper_0.9"].to_numpy(float), y)
    converged = fits.set_index("task")["converged"].astype(bool) if len(fits) else pd.Series(dtype=bool)
    out["failed"] = ~out["task"].map(converged).fillna(True).astype(bool)
    return out


def margin_tables(estimates: pd.DataFrame, fits: pd.DataFrame, levels: tuple[float, ...],
                  estimator: str = "hierarchical") -> dict[tuple[str, ...], pd.DataFrame]:
    """The scores of :func:`validation_summary` over all replicates and by each grouping of :data:`MARGINS`:
    ``n``, coverage at each level (95% Wilson interval at 90%), truth below / above the 90% interval, median
    absolute log error with the naive estimator's, median 90% width over the truth and failed fits.
    The key ``()`` is the row of all replicates."""
    scored = _scored(estimates, fits, levels, estimator)
    tables = {}
    for by in ((), *MARGINS):
        groups = scored.groupby(list(by), sort=True) if by else [((), scored)]
        rows = []
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            row = dict(zip(by, key), n=len(g))
            for lv in levels:
                row[f"coverage_{lv:g}"] = float(g[f"covered_{lv:g}"].mean())
            lo, hi = wilson_interval(int(g["covered_0.9"].sum()), len(g))
            row.update({"coverage_lower_0.9": float(lo), "coverage_upper_0.9": float(hi),
                        "below": int(g["below"].sum()), "above": int(g["above"].sum()),
                        "median_abs_log_error": float(g["abs_log_error"].median()),
                        "naive_median_abs_log_error": float(g["naive_error"].median()),
                        "median_relative_width_0.9": float(g["width"].median()), "failed": int(g["failed"].sum())})
            rows.append(row)
        tables[by] = pd.DataFrame(rows)
    return tables


def margins_markdown(tables: dict[tuple[str, ...], pd.DataFrame], levels: tuple[float, ...]) -> str:
    """:func:`margin_tables` as the Markdown of ``docs/validation.md``: a sentence on all replicates, then one
    table per grouping."""
    a = tables[()].iloc[0]
    others = ", ".join(f"{lv:.0%} {a[f'coverage_{lv:g}']:.1%}" for lv in levels if lv != 0.9)
    text = [f"**All {int(a['n']):,} fits**: 90% intervals covered **{a['coverage_0.9']:.1%} "
            f"({a['coverage_lower_0.9']:.0%}-{a['coverage_upper_0.9']:.0%})** of the true totals; {others}; the "
            f"truth lay below the interval {int(a['below'])} times and above it {int(a['above'])} times; median "
            f"absolute log error of the posterior median **{a['median_abs_log_error']:.3f} against the naive "
            f"estimator's {a['naive_median_abs_log_error']:.3f}**; median 90% width "
            f"{a['median_relative_width_0.9']:.2f} times the truth; {int(a['failed'])} fits failed their "
            "diagnostics, kept in the coverage.", ""]
    for by in MARGINS:
        head = [*by, "n", *[f"{lv:.0%}" + (" (95% CI)" if lv == 0.9 else "") for lv in levels],
                "truth below / above interval", "median abs log error (naive)", "median 90% width / truth",
                "failed fits"]
        text += [f"By {' and '.join(by)}:", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for _, r in tables[by].iterrows():
            cells = [str(int(r[b])) if b == "k" else str(r[b]) for b in by] + [str(int(r["n"]))]
            cells += _coverage_cells(r, levels)
            cells += [f"{int(r['below'])} / {int(r['above'])}",
                      f"{r['median_abs_log_error']:.3f} ({r['naive_median_abs_log_error']:.3f})",
                      f"{r['median_relative_width_0.9']:.2f}", str(int(r["failed"]))]
            text.append("| " + " | ".join(cells) + " |")
        text.append("")
    return "\n".join(text)


def plot_validation_coverage(coverage: pd.DataFrame, *, level: float = 0.9, estimator: str = "hierarchical"):
    """``level`` coverage with Wilson bars by design and ``k``, one panel per dataset (rows of three), a line at
    ``level``; the legend sits above the panels."""
    from extent.calibrate.plots import legend_above, panel_grid

    cov = coverage[(coverage["estimator"] == estimator) & np.isclose(coverage["level"], level)]
    datasets = list(dict.fromkeys(cov["dataset"]))
    designs = list(dict.fromkeys(cov["design"]))
    ks = sorted(cov["k"].unique())
    fig, axes = panel_grid(len(datasets), ncols=3, width=3.6, height=3.0)
    for ax, dataset in zip(axes, datasets):
        ax.axhline(level, color="0.4", lw=1, ls="--", label=f"nominal {level:.0%}")
        g = cov[cov["dataset"] == dataset]
        for j, design in enumerate(designs):
            e = g[g["design"] == design].sort_values("k")
            x = np.array([ks.index(k) for k in e["k"]]) + (j - (len(designs) - 1) / 2) * 0.12
            y = e["coverage"].to_numpy()
            bars = np.clip([y - e["coverage_lower"], e["coverage_upper"] - y], 0, None)  # Wilson at p = 0 or 1: -1e-16
            ax.errorbar(x, y, yerr=bars, fmt="o", ms=4, capsize=2, label=design)
        ax.set_xticks(range(len(ks)), [str(k) for k in ks])
        ax.set_xlabel("searched units k")
        ax.set_title(dataset, fontsize=10)
        ax.set_ylim(0.0, 1.02)
        ax.grid(axis="y", alpha=0.25)
    for ax in axes[::3]:
        ax.set_ylabel(f"{level:.0%} coverage")
    legend_above(fig, axes[0], ncol=len(designs) + 1)
    return fig
