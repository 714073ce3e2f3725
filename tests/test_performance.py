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
    import pytensor

    from extent.inference.cache import compile_nutpie, register_numba_psi

    register_numba_psi()
    model = build_extent_model(_data())
    kwargs = dict(draws=50, tune=50, chains=2, seed=3, progress_bar=False)
    ours = nutpie.sample(compile_nutpie(model), **kwargs)
    with pytensor.config.change_flags(numba__fastmath=False):  # as compile_nutpie compiles (see its module)
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


_COLD_WARM_SCRIPT = """
import hashlib, sys
import numpy as np, pandas as pd, nutpie
sys.path.insert(0, {tests!r})
from test_performance import _data
from extent.inference.cache import compile_nutpie
from extent.models.hierarchical import build_extent_model
compiled = compile_nutpie(build_extent_model(_data()))
rng = np.random.default_rng(0)
h = hashlib.sha256()
for _ in range(50):
    logp, grad = compiled.logp_func(rng.normal(size=compiled._n_dim))
    h.update(np.float64(logp).tobytes() + np.asarray(grad).tobytes())
idata = nutpie.sample(compiled, draws=30, tune=30, chains=2, seed=3, progress_bar=False, cores=1)
h.update(idata.posterior["log_rate"].values.tobytes())
print(h.hexdigest())
"""


@pytest.mark.sampling
def test_same_seed_same_draws_with_a_cold_and_a_warm_compile_cache(tmp_path):
    """A fresh compile and a load from the disk cache give bitwise the same gradients and draws.

    With numba's fast-math flags the two rounded differently (last-bit gradient differences that NUTS
    amplifies into different draws), so a first run and its rerun disagreed.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = _COLD_WARM_SCRIPT.format(tests=str(Path(__file__).parent))
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp_path / 'compiledir'}"}
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    cold, warm = (run.stdout.strip().splitlines()[-1] for run in runs)
    assert cold == warm
