"""The corpus-derived priors: the shipped table is reproduced, leave-one-dataset-out never sees the held-out data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from extent.datasets.corpus import DATASETS, corpus_tables, load_corpus, table_data
from extent.elicitation import build_spread_table, corpus_priors, spread_table
from extent.exceptions import ConfigError


def test_corpus_tables_are_complete_with_known_totals():
    assert len(corpus_tables()) == 407
    for dataset in DATASETS:
        frame = load_corpus(dataset)
        sizes = frame.groupby(["year", "category"]).size()
        assert sizes.min() >= 43  # every unit of the country in every table
        assert frame["type"].notna().all()
    ew = load_corpus("ew_recorded_crime")
    assert ew.drop_duplicates("unit")["type"].value_counts().to_dict() == {"shire": 35, "metropolitan": 8}
    gun = table_data(corpus_tables("us_gun_murders")[0])
    assert gun.counts["cases"].sum() == 9403  # the total in the provenance notes


def test_shipped_spread_table_is_reproduced_from_the_corpus():
    shipped, rebuilt = spread_table(), build_spread_table()
    pd.testing.assert_frame_equal(shipped[["dataset", "year", "category", "units", "total"]],
                                  rebuilt[["dataset", "year", "category", "units", "total"]], check_dtype=False)
    for col in ("sd", "sd_adjusted", "slope", "shared_fraction", "sd_sized", "spread_slope", "sd_sized_raw",
                "spread_slope_raw"):
        np.testing.assert_allclose(shipped[col], rebuilt[col], rtol=1e-5, atol=1e-7)


def test_spread_estimate_removes_poisson_noise():
    """A table with no between-unit variation at all (cases = expected Poisson counts) has spread near zero."""
    rng = np.random.default_rng(1)
    pop = rng.uniform(1e5, 1e7, 200)
    y = rng.poisson(pop * 1e-4)
    r = np.log((y + 0.5) / pop)
    raw = np.var(r, ddof=1)
    corrected = max(raw - np.mean(1 / (y + 0.5)), 0)
    assert raw > 0.001 and np.sqrt(corrected) < 0.05


def test_sized_spread_recovers_a_known_size_slope():
    """Residuals whose SD falls with size (0.5 at the mean size, slope -0.3) plus Poisson noise: recovered."""
    from extent.elicitation import _sized_spread
    from extent.models.counts.builder import size_factor

    rng = np.random.default_rng(3)
    lp = rng.uniform(-2.5, 2.5, 2000)
    noise = rng.uniform(0.001, 0.05, 2000)
    resid = rng.normal(0.0, np.sqrt(noise + (0.5 * size_factor(-0.3, lp)) ** 2))
    sd, slope = _sized_spread(resid, noise, lp)
    assert sd == pytest.approx(0.5, abs=0.03) and slope == pytest.approx(-0.3, abs=0.04)


def test_larger_units_vary_less_in_every_dataset():
    """The corpus fact behind ``spread_by_size``: the median spread slope is negative in every dataset."""
    medians = spread_table().groupby("dataset")["spread_slope"].median()
    assert (medians < 0).all() and len(medians) == len(DATASETS)


def test_spread_within_types_is_smaller():
    """The table also holds the spread within unit types (documented; the defaults use the spread over all)."""
    t = spread_table()
    assert (t["sd_adjusted_within_type"] <= t["sd_adjusted"] + 1e-9).mean() > 0.95
    assert (t["type_rms"] > 0).all()


def test_default_priors_are_the_whole_corpus_derivation():
    p = corpus_priors()
    assert p["unit_sd"].distribution == "LogNormal"
    assert p["unit_sd"].params == {"mu": -0.63, "sigma": 0.47}  # the SD at the mean size
    assert p["spread_slope"].params == {"mu": -0.24, "sigma": 0.3}
    assert corpus_priors(spread_by_size=False)["unit_sd"].params == {"mu": -0.5, "sigma": 0.5}
    assert "spread_slope" not in corpus_priors(spread_by_size=False)
    assert p["log_population"].params == {"mu": 0.05, "sigma": 0.29}
    a, b = p["shared_fraction"].params["alpha"], p["shared_fraction"].params["beta"]
    assert a / (a + b) == pytest.approx(0.41, abs=0.01)


@pytest.mark.parametrize("held_out", DATASETS)
def test_leave_one_dataset_out_ignores_the_held_out_dataset(held_out, monkeypatch):
    """Changing the held-out dataset's rows does not change its priors; changing another dataset's does."""
    import extent.elicitation as el

    base = corpus_priors(exclude=held_out)
    table = spread_table().copy()
    scrambled = table.copy()
    rows = scrambled["dataset"] == held_out
    scrambled.loc[rows, ["sd", "sd_adjusted", "sd_sized", "sd_sized_raw"]] *= 5.0
    scrambled.loc[rows, ["slope", "spread_slope", "spread_slope_raw"]] += 1.0
    monkeypatch.setattr(el, "spread_table", lambda: scrambled)
    assert corpus_priors(exclude=held_out) == base
    whole = corpus_priors()
    monkeypatch.setattr(el, "spread_table", lambda: table)
    assert whole["unit_sd"] != corpus_priors()["unit_sd"]  # the scrambled rows do count when not held out
    monkeypatch.setattr(el, "spread_table", lambda: scrambled)
    other = next(d for d in DATASETS if d != held_out and d != "us_gun_murders")
    changed = table.copy()
    changed.loc[changed["dataset"] == other, "sd_sized"] *= 5.0
    monkeypatch.setattr(el, "spread_table", lambda: changed)
    assert corpus_priors(exclude=held_out)["unit_sd"] != base["unit_sd"]


def test_unknown_excluded_dataset_is_an_error():
    with pytest.raises(ConfigError, match="unknown corpus dataset 'nope'"):
        corpus_priors(exclude="nope")
