"""Shared fixtures and the test tiers.

Unmarked tests run no MCMC. ``@pytest.mark.sampling`` tests run small seeded fits and run by default.
``@pytest.mark.slow`` tests (recovery, coverage) run only with ``--run-slow`` (or ``--only-slow``).
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="also run @pytest.mark.slow tests")
    parser.addoption("--only-slow", action="store_true", default=False, help="run only @pytest.mark.slow tests")


def pytest_collection_modifyitems(config, items):
    run_slow, only_slow = config.getoption("--run-slow"), config.getoption("--only-slow")
    skip_slow = pytest.mark.skip(reason="slow: run with --run-slow")
    skip_fast = pytest.mark.skip(reason="--only-slow given")
    for item in items:
        is_slow = "slow" in item.keywords
        if is_slow and not (run_slow or only_slow):
            item.add_marker(skip_slow)
        elif only_slow and not is_slow:
            item.add_marker(skip_fast)


@pytest.fixture
def rng():
    return np.random.default_rng(20261130)


@pytest.fixture(scope="session")
def report():
    from extent.datasets import load_report

    return load_report()


@pytest.fixture(scope="session")
def survey_fit():
    """A small seeded MCAR survey fit (simulated survey of 20 units), for tests of what composes with a fit."""
    import warnings

    from extent.estimators import SurveyEstimator
    from extent.exceptions import ConvergenceWarning
    from extent.inference import SamplerConfig
    from extent.simulate.survey import simulate_survey

    sim = simulate_survey("mcar", seed=21, n_units=20)
    # nutpie, the survey models' default sampler, 2 x 1,000 (at 2 x 500 R-hat was 1.012-1.019 with either sampler)
    sampler = SamplerConfig(draws=1000, tune=1000, chains=2, cores=1, target_accept=0.9, random_seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SurveyEstimator(mechanism="mcar", sampler=sampler).fit(sim.data), sim
