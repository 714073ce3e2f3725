"""The Scottish lip cancer data (real counts): loader, and national totals from a few "searched" districts."""

from __future__ import annotations

import numpy as np
import pytest

from extent.calibrate import SubsampleStudy, run_study
from extent.datasets.lip_cancer import lip_cancer_data, load_lip_cancer
from extent.estimators import HierarchicalExtent, NaiveScaling
from extent.exceptions import ConfigError
from extent.inference import SamplerConfig

TOTAL = 536


def test_loader_matches_the_published_data():
    table = load_lip_cancer()
    assert len(table) == 56 and table["observed"].sum() == TOTAL
    assert table["expected"].sum() == pytest.approx(536.2)
    assert table.loc[0].to_dict() == {"district": "district 1", "observed": 9, "expected": 1.4, "pct_aff": 16.0}


def test_data_container_and_naive_total():
    full = lip_cancer_data()
    assert full.n_units == 56 and full.categories == ["lip_cancer"]
    assert NaiveScaling().fit(full).interval("lip_cancer", "total").estimate == pytest.approx(TOTAL)
    few = lip_cancer_data(["district 1", "district 2"], types=True)
    assert few.searched_units == ["district 1", "district 2"]
    assert set(few.units["type"]) == {"rural", "other"}
    # naive: (9 + 39) observed on (1.4 + 8.7) expected, scaled to 536.2 expected
    assert NaiveScaling().fit(few).interval("lip_cancer", "total").estimate == pytest.approx(48 * 536.2 / 10.1)


def test_subsample_study_truth_is_the_total_and_glm_undercovers():
    with pytest.raises(ConfigError, match="n_searched must be an integer in 1..55"):
        SubsampleStudy(data=lip_cancer_data(), n_searched=56)
    res = run_study(SubsampleStudy(data=lip_cancer_data(), n_searched=5, reps=80, seed=3,
                                   estimators=("naive", "glm_bootstrap"), n_boot=300), serial=True)
    est = res.estimates()
    assert (est["truth"] == TOTAL).all() and res.complete
    cov = res.coverage().set_index(["category", "level"])
    # districts differ far more than Poisson: a GLM without unit effects misses the truth too often
    assert cov.loc[("all", 0.9), "coverage"] < 0.85


@pytest.mark.sampling
@pytest.mark.filterwarnings("ignore::extent.exceptions.ConvergenceWarning")
def test_hierarchical_interval_from_eight_districts_covers_the_total():
    rng = np.random.default_rng(12)
    searched = [f"district {i}" for i in rng.choice(np.arange(1, 57), size=8, replace=False)]
    res = HierarchicalExtent(sampler=SamplerConfig(draws=300, tune=300, chains=2, random_seed=4)).fit(
        lip_cancer_data(searched))
    iv = res.interval("lip_cancer", "total", level=0.9)
    assert iv.lower <= TOTAL <= iv.upper
    assert TOTAL / 2 < iv.estimate < TOTAL * 2
