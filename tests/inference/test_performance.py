"""Correctness of the performance techniques: cached compilation and chunked prediction change no numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from extent.data import ExtentData
from extent.inference import SamplerConfig, sample
from extent.models.counts.builder import build_extent_model
from extent.models.counts.design import Design
from extent.models.counts.predict import national_totals


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

    from extent.inference.cache import native_psi

    x = pt.dvector("x")
    with native_psi():
        f = pytensor.function([x], pt.psi(x), mode="NUMBA")
    values = np.array([-2.5, -0.3, 0.01, 0.5, 1.0, 2.3, 9.99, 10.0, 50.0, 1e4, 1e8])
    np.testing.assert_allclose(f(values), psi(values), rtol=0, atol=1e-12)


@pytest.mark.sampling
def test_cached_compile_gives_the_draws_of_plain_nutpie():
    import nutpie

    from extent.inference.cache import compile_nutpie, compile_scope

    model = build_extent_model(_data())
    kwargs = dict(draws=50, tune=50, chains=2, seed=3, progress_bar=False)
    ours = nutpie.sample(compile_nutpie(model), **kwargs)
    with compile_scope():  # the settings compile_nutpie compiles with (see its module)
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
from extent.models.counts.builder import build_extent_model
compiled = compile_nutpie(build_extent_model(_data()))
print(type(compiled).__name__)
rng = np.random.default_rng(0)
h = hashlib.sha256()
for _ in range(50):
    logp, grad = compiled.logp_func(rng.normal(size=compiled._n_dim))
    h.update(np.float64(logp).tobytes() + np.asarray(grad).tobytes())
idata = nutpie.sample(compiled, draws=30, tune=30, chains=2, seed=3, progress_bar=False, cores=1)
h.update(idata.posterior["log_rate"].values.tobytes())
print(h.hexdigest())
"""


def _run_in_fresh_process(compiledir):
    """(compiled model class, hash of gradients and draws, stderr) of the script above in a new process."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = _COLD_WARM_SCRIPT.format(tests=str(Path(__file__).parent))
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={compiledir}"}
    env.pop("EXTENT_NO_COMPILE_CACHE", None)
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    kind, digest = run.stdout.strip().splitlines()[-2:]
    return kind, digest, run.stderr


@pytest.fixture(scope="module")
def cold_compile(tmp_path_factory):
    """A compile folder filled by one cold run, and that run's result."""
    compiledir = tmp_path_factory.mktemp("compiledir")
    return compiledir, _run_in_fresh_process(compiledir)


@pytest.mark.sampling
def test_same_seed_same_draws_with_a_cold_and_a_warm_compile_cache(cold_compile):
    """A fresh compile and a load from the disk cache give bitwise the same gradients and draws.

    With numba's fast-math flags the two rounded differently (last-bit differences in the gradient that NUTS
    amplifies into different draws), so a first run and its rerun disagreed.
    """
    compiledir, (cold_kind, cold, _) = cold_compile
    warm_kind, warm, _ = _run_in_fresh_process(compiledir)
    assert cold_kind == warm_kind == "CachedNutpieModel"
    assert cold == warm


@pytest.mark.sampling
def test_unreadable_cache_entries_are_dropped_and_rebuilt(cold_compile, tmp_path):
    """A corrupt index and a truncated data file of the C callbacks cost one recompile of those callbacks,
    give the same gradients and draws, and are written afresh (they used to fail every later run)."""
    import shutil

    from extent.inference.cache import _index_readable

    compiledir, (_, cold, _) = cold_compile
    copy = tmp_path / "compiledir"
    shutil.copytree(compiledir, copy)
    numba_dir = copy / "numba"
    (logp_index,) = numba_dir.glob("*logp_cfunc*.nbi")
    (expand_data,) = numba_dir.glob("*expand_cfunc*.1.nbc")
    logp_index.write_bytes(b"\x80\x05not a pickle")
    expand_data.write_bytes(expand_data.read_bytes()[:100])
    kind, digest, stderr = _run_in_fresh_process(copy)
    assert (kind, digest) == ("CachedNutpieModel", cold)
    assert stderr.count("unreadable compile-cache files") == 2  # one entry dropped at a time
    assert "compile cache failed" not in stderr
    assert _index_readable(str(logp_index)) and expand_data.stat().st_size > 100


def test_drop_cache_entries_removes_only_the_entry_that_failed_and_unreadable_indexes(tmp_path):
    import pickle

    from extent.inference.cache import drop_cache_entries

    class IndexDataCacheFile:  # the attributes of numba's reader that the traceback is searched for
        def __init__(self, index):
            self._index_path, self._data_name_pattern = str(index), "unused"

        def load(self):
            raise pickle.UnpicklingError("pickle data was truncated")

    good = tmp_path / "good.py311.nbi"
    good.write_bytes(pickle.dumps("0.65") + pickle.dumps((0, {})))
    (tmp_path / "good.py311.1.nbc").write_bytes(b"data")
    (tmp_path / "bad.py311.nbi").write_bytes(b"\x80\x05")
    failed = tmp_path / "failed.py311.nbi"
    failed.write_bytes(good.read_bytes())  # readable, but its data file was not
    for n in (1, 2):
        (tmp_path / f"failed.py311.{n}.nbc").write_bytes(b"x")
    try:
        IndexDataCacheFile(failed).load()
    except pickle.UnpicklingError as exc:
        dropped = drop_cache_entries(exc)
    assert sorted(p.rsplit("/", 1)[1] for p in dropped) == [
        "bad.py311.nbi", "failed.py311.1.nbc", "failed.py311.2.nbc", "failed.py311.nbi"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.py311.1.nbc", "good.py311.nbi"]
    assert drop_cache_entries(ValueError("not from the cache")) == []


def _pytensor_state():
    import pytensor
    from pytensor.link.numba.dispatch.basic import numba_funcify, numba_funcify_and_cache_key
    from pytensor.scalar.math import Psi

    dispatch = tuple((d.registry.get(Psi), d.dispatch(Psi), len(d.registry))
                     for d in (numba_funcify, numba_funcify_and_cache_key))
    return dispatch, pytensor.config.numba__fastmath, pytensor.config.numba__cache


@pytest.mark.sampling
def test_compiling_leaves_pytensor_as_it_was():
    from extent.inference.cache import compile_nutpie, native_psi

    before = _pytensor_state()
    with native_psi():
        with native_psi():
            assert _pytensor_state()[0] != before[0]  # the native digamma is registered inside
        assert _pytensor_state()[0] != before[0]
    assert _pytensor_state() == before
    compile_nutpie(build_extent_model(_data()))
    assert _pytensor_state() == before


def test_refusal_names_the_reason(monkeypatch):
    from extent.inference import cache

    monkeypatch.delenv(cache.NO_CACHE_ENV, raising=False)
    assert cache.fast_path_refusal() is None  # the versions installed here are the tested ones
    monkeypatch.setenv(cache.NO_CACHE_ENV, "0")
    assert cache.fast_path_refusal() is None
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    assert cache.fast_path_refusal() == "EXTENT_NO_COMPILE_CACHE is set"
    monkeypatch.delenv(cache.NO_CACHE_ENV)
    monkeypatch.setitem(cache.TESTED_VERSIONS, "nutpie", ("0.1", "0.2"))
    assert cache.fast_path_refusal().startswith("nutpie 0.16 is not a tested release series (0.1, 0.2)")


def test_refused_fast_path_uses_the_public_compile_and_says_so_once(monkeypatch, caplog):
    import logging

    import nutpie

    from extent.inference import cache

    calls = []
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda model, **kw: calls.append(kw) or "public")
    monkeypatch.setattr(cache, "_compile_nutpie", lambda *a, **kw: pytest.fail("fast path taken"))
    monkeypatch.setattr(cache, "_LOGGED", set())
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    with caplog.at_level(logging.INFO, logger="extent.inference.cache"):
        assert cache.compile_nutpie(object(), var_names=["x"]) == "public"
        assert cache.compile_nutpie(object()) == "public"
    assert calls[:2] == [{"backend": "numba", "var_names": ["x"]}, {"backend": "numba", "var_names": None}]
    monkeypatch.delenv(cache.NO_CACHE_ENV)
    monkeypatch.setitem(cache.TESTED_VERSIONS, "nutpie", ("0.1",))
    with caplog.at_level(logging.INFO, logger="extent.inference.cache"):
        for _ in range(2):
            assert cache.compile_nutpie(object()) == "public"
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "extent: compiling with nutpie.compile_pymc_model, without the compile cache: "
                 "EXTENT_NO_COMPILE_CACHE is set"),
        ("WARNING", "extent: compiling with nutpie.compile_pymc_model, without the compile cache: "
                    "nutpie 0.16 is not a tested release series (0.1)")]


@pytest.mark.sampling
def test_untested_versions_compile_the_public_way_with_the_same_density(monkeypatch):
    from nutpie.compile_pymc import CompiledPyMCModel

    from extent.inference import cache

    model = build_extent_model(_data())
    fast = cache.compile_nutpie(model)
    monkeypatch.setitem(cache.TESTED_VERSIONS, "pytensor", ("0.0",))
    public = cache.compile_nutpie(model)
    assert type(fast).__name__ == "CachedNutpieModel"
    assert type(public) is CompiledPyMCModel
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.normal(size=fast._n_dim)
        (lp_fast, grad_fast), (lp_public, grad_public) = fast.logp_func(x), public.logp_func(x)
        np.testing.assert_allclose(lp_public, lp_fast, rtol=1e-12)
        np.testing.assert_allclose(grad_public, grad_fast, rtol=1e-9, atol=1e-12)
    compiles = []
    monkeypatch.setattr(cache, "compile_nutpie", lambda model, **kw: compiles.append(kw) or public)
    monkeypatch.setattr(cache, "_MEMORY", type(cache._MEMORY)())
    config = SamplerConfig(draws=20, tune=20, chains=1)
    for _ in range(2):  # no in-memory reuse either: that swaps data through nutpie internals
        idata = sample(model, config, cache_key="k")
        assert idata.posterior["log_rate"].shape == (1, 20, 2)
    assert len(compiles) == 2 and not cache._MEMORY
