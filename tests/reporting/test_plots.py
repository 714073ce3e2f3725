"""The figures are legible: labelled log ticks, the naive figure apart from the median, legends clear of the data,
and a rank plot named for what it is (SBC only when the truth is drawn from the prior). No fitting."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from extent.calibrate.metrics import POOLED, wilson_interval
from extent.calibrate.plots import plot_coverage, plot_ranks, save_plots
from extent.calibrate.validation_scores import plot_validation_coverage
from extent.datasets import load_report
from extent.estimators import NaiveScaling
from extent.reporting.plots import NAIVE_OFFSET, forest_plot


@pytest.fixture(scope="module")
def naive():
    return NaiveScaling().fit(load_report().data)


def legend_clear_of_axes(fig) -> bool:
    fig.canvas.draw()
    (legend,) = fig.legends
    box = legend.get_window_extent()
    return not any(box.overlaps(a.get_window_extent()) for a in fig.axes if a.get_visible())


def test_forest_plot_has_labelled_log_ticks_and_the_naive_cross_apart(naive):
    fig = forest_plot(naive, naive)  # the naive result stands in for the fit: medians and crosses coincide in x
    (ax,) = fig.axes
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    labels = [t.get_text() for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
    assert labels == ["50", "100", "200", "500", "1,000"]  # per annum: 31 to 1,493
    median, cross = (line for line in ax.get_lines() if line.get_marker() in ("o", "x"))
    assert np.allclose(median.get_xdata(), cross.get_xdata())
    assert np.allclose(np.asarray(median.get_ydata()) - np.asarray(cross.get_ydata()), NAIVE_OFFSET)
    assert median.get_markerfacecolor() == "white" and median.get_zorder() > 2  # drawn over the interval bars
    assert [t.get_text() for t in ax.get_yticklabels()] == [c.replace("_", " ") for c in naive.categories]
    assert legend_clear_of_axes(fig)
    plt.close(fig)


def test_forest_plot_ticks_a_narrow_range_finely(naive):
    fig = forest_plot(naive, naive, withheld=["internet_cai"], naive_withheld=["internet_cai"])  # 31 to 110
    (ax,) = fig.axes
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    labels = [t.get_text() for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
    assert len(labels) >= 4 and "100" in labels and not any("$" in t for t in labels)
    assert ax.get_yticklabels()[-1].get_text() == "internet cai (withheld)"
    plt.close(fig)


def coverage_table(designs, key="design"):
    rows = []
    for d in designs:
        for est, drop in (("hierarchical", 0.0), ("glm_bootstrap", 0.45)):
            for lv in (0.5, 0.8, 0.9, 0.95):
                k = round(100 * max(lv - drop, 0.0))
                lo, hi = wilson_interval(k, 100)
                rows.append({key: d, "design": d, "estimator": est, "category": POOLED, "level": lv,
                             "coverage": k / 100, "coverage_lower": lo, "coverage_upper": hi})
    return pd.DataFrame(rows)


def ranks_table(truth: str) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"design": "report2", "truth": truth, "rep": np.tile(np.arange(40), 2),
                         "quantity": np.repeat(["national[a]", "shared_sd"], 40), "truth_value": 1.0,
                         "rank": rng.integers(0, 100, 80), "n_draws": 99})


def test_calibration_coverage_legend_is_clear_of_the_bars():
    fig = plot_coverage(coverage_table(["report2", "report3", "random5", "random10", "random20"]))
    assert len([a for a in fig.axes if a.get_visible()]) == 5  # rows of four
    assert legend_clear_of_axes(fig)
    plt.close(fig)


def test_validation_coverage_legend_is_clear_of_the_bars():
    cov = coverage_table(["d1", "d2", "d3", "d4"], key="dataset").assign(design="random", k=2)
    cov = pd.concat([cov, cov.assign(k=5)]).query("estimator == 'hierarchical'")
    fig = plot_validation_coverage(cov)
    assert legend_clear_of_axes(fig)
    plt.close(fig)


@pytest.mark.parametrize(("truth", "name", "title"), [
    ("prior", "sbc.png", "Simulation-based calibration"),
    ("fixed", "ranks.png", "Ranks of a fixed truth among posterior draws (not SBC"),
])
def test_the_rank_plot_is_called_sbc_only_for_prior_draws(tmp_path, truth, name, title):
    fig = plot_ranks(ranks_table(truth))
    assert fig.get_suptitle().startswith(title)
    plt.close(fig)
    result = SimpleNamespace(coverage=lambda: coverage_table(["report2"]), ranks=lambda: ranks_table(truth))
    assert [p.name for p in save_plots(result, tmp_path)] == ["coverage.png", name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["coverage.png", name])


def test_sensitivity_plot_shows_both_intervals_per_shown_category():
    from extent.reporting.plots import sensitivity_plot

    table = pd.DataFrame({"category": ["csa_victim", "internet_cai", "hidden"], "level": 0.9,
                          "estimate": [38, 1675, 5], "lower": [17, 1121, 2], "upper": [91, 2987, 9],
                          "wider_estimate": [43, 1800, 6], "wider_lower": [16, 1080, 2], "wider_upper": [140, 4100, 14]})
    fig = sensitivity_plot(table, withheld=["hidden"])
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["csa victim", "internet cai"]  # withheld row left out
    segments = np.concatenate([c.get_segments() for c in ax.collections])
    assert sorted(round(s[1][0]) for s in segments) == [91, 140, 2987, 4100]  # both intervals' upper ends
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert {"20", "100", "1,000"} <= set(labels)  # a log axis labelled in plain numbers, not only at powers of 10
    assert legend_clear_of_axes(fig)
    plt.close(fig)


def test_share_claims_and_trend_plots():
    from extent.measure_result import MeasureResult
    from extent.reporting.plots import share_claims_plot, trend_plot

    claims = pd.DataFrame({"claim_id": ["a", "b", "withheld", "count"], "kind": ["proportion"] * 3 + ["series"],
                           "supported": True, "level": 0.9, "estimate": [0.065, 0.0006, np.nan, 31.0],
                           "lower": [0.04, 0.0001, np.nan, 20.0], "upper": [0.1, 0.002, np.nan, 45.0]})
    fig = share_claims_plot(claims)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]  # shares only, withheld ones left out
    assert sorted(round(s[1][0], 3) for s in ax.collections[0].get_segments()) == [0.2, 10.0]  # percent
    plt.close(fig)

    rng = np.random.default_rng(0)
    draws = {f"rate_{y}": rng.normal(10 * (y - 2000), 1, (2, 200)) for y in (2001, 2002, 2003)}
    draws["projection_2004"] = rng.normal(40, 5, (2, 200))
    trend = MeasureResult("trend", "cases", draws, dict.fromkeys(draws, "rate"), observed={"rate_2001": 10.0})
    fig = trend_plot({"hmrc_prosecutions:all:negative_binomial": trend,
                      "ceu_workload:examinations:poisson": trend})
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "hmrc prosecutions: all"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2001", "2002", "2003", "2004"]
    assert legend_clear_of_axes(fig)
    plt.close(fig)
