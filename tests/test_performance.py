"""Correctness of the performance techniques: cached compilation and chunked prediction change no numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from extent.data import ExtentData
from extent.inference import SamplerConfig, sample
from extent.models.design import Design
from extent.models.hierarchical import build_extent_model
from extent.models.predict import national_totals


def _data(scale: int = 1) -> ExtentData:
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(8)], "population": np.linspace(2e5, 9e5, 8)})
    counts = pd.DataFrame(
        {
            "unit": ["u0", "u1", "u2", "u0", "u1"],
            "category": ["a", "a", "a", "b", "b"],
            "cases": np.array([3, 7, 2, 11, 5]) * scale,
            "years": 4.0,
        }
    )
    return ExtentData.from_frames(units, counts, name="tiny")


def test_numba_psi_matches_scipy():
    import pytensor
    import pytensor.tensor as pt
    from scipy.special import psi

    from extent.inference.cache import register_numba_psi

    register_numba_psi()
    x = pt.dvector("x")
    f = pytensor.function([x], pt.psi(x), mode="NUMBA")
    values = np.array([-2.5, -0.3, 0.01, 0.5, 1.0, 2.3, 9.99, 10.0, 50.0, 1e4, 1e8])
    np.testing.assert_allclose(f(values), psi(values), rtol=0, atol=1e-12)


@pytest.mark.sampling
def test_cached_compile_gives_the_draws_of_plain_nutpie():
    import nutpie

    from extent.inference.cache import compile_nutpie, register_numba_psi

    register_numba_psi()
    model = build_extent_model(_data())
    kwargs = dict(draws=50, tune=50, chains=2, seed=3, progress_bar=False)
    ours = nutpie.sample(compile_nutpie(model), **kwargs)
    plain = nutpie.sample(nutpie.compile_pymc_model(model), **kwargs)
    np.testing.assert_array_equal(ours.posterior["log_rate"].values, plain.posterior["log_rate"].values)


@pytest.mark.sampling
def test_reused_compiled_model_equals_a_fresh_compile():
    from extent.inference.cache import clear_memory_cache

    config = SamplerConfig(draws=50, tune=50, chains=2, random_seed=5)
    first, second = _data(1), _data(2)
    clear_memory_cache()
    sample(build_extent_model(first), config, cache_key="k")  # compiles and caches
    reused = sample(build_extent_model(second), config, cache_key="k")  # new data into the cached model
    clear_memory_cache()
    fresh = sample(build_extent_model(second), config)
    np.testing.assert_array_equal(reused.posterior["log_rate"].values, fresh.posterior["log_rate"].values)
    np.testing.assert_array_equal(reused.observed_data["cases"].values, second.counts["cases"].to_numpy())


@pytest.mark.sampling
def test_block_streams_make_totals_independent_of_what_follows():
    """Each block of draws has its own random stream: the first chain's totals are the same whether or not
    later chains are predicted in the same call."""
    data = _data()
    design = Design.from_data(data)
    idata = sample(build_extent_model(data, design=design), SamplerConfig(draws=32, tune=30, chains=2))
    both = national_totals(idata, data, design, seed=1)
    first = national_totals(idata.isel(chain=[0]), data, design, seed=1)
    np.testing.assert_array_equal(first.values[0], both.values[0])
    assert both.sel(category="a").min() >= 12  # never below the observed cases
