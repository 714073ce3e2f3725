"""Compiled-model caching: nutpie's numba sampler without its 10-second recompile in every process.

``nutpie.compile_pymc_model`` turns the PyTensor log density into numba code (which PyTensor caches on disk)
and then wraps it in a C callback with ``numba.cfunc``. That wrapper is a closure over unpicklable objects, so
numba cannot cache it and every fresh process spends about 10 s on it (measured on the report's model: 11 s
of the 12 s compile). :func:`compile_nutpie` builds the same callbacks from generated source registered with
PyTensor's numba cache, keyed by the cache key of the PyTensor function it calls, so a second process loads
them from disk. Data enter through pointers in ``user_data``, never as compile-time constants, so models of
the same structure share one cache entry and :meth:`CachedNutpieModel.with_data` swaps data without compiling.

This fast path uses private parts of nutpie and PyTensor, so it is guarded:

* it runs only when the installed nutpie and PyTensor are a release series in :data:`TESTED_VERSIONS` and
  ``$EXTENT_NO_COMPILE_CACHE`` is not set; otherwise the public ``nutpie.compile_pymc_model`` compiles (one
  log message per process says why);
* any error in it (an unreadable cache entry included) drops the cache files named in the error, compiles
  once more (rebuilding them), and then falls back to ``nutpie.compile_pymc_model`` with PyTensor's disk
  cache off. Numba writes every entry to a temporary file and renames it, so a killed run leaves no half
  entry, only a stray temporary file;
* what it changes in PyTensor (numba fast-math off, the native digamma below) holds only during the compile:
  :func:`compile_scope` restores both for the rest of the process.

Two levels of cache:

* on disk, under PyTensor's ``base_compiledir`` (``~/.pytensor`` unless ``PYTENSOR_FLAGS`` says otherwise):
  PyTensor's own numba cache plus these wrappers, shared by every process of the same user;
* in memory, :func:`compiled_for`: one compiled model per model structure and priors, reused with new data
  (the calibration studies fit thousands of data sets of one shape).

PyTensor 2.38 has no numba implementation of the digamma function (``Psi``, in the gradient of the negative
binomial): it falls back to an object-mode call per element, which numba cannot cache and which makes the
whole log density uncacheable. :func:`native_psi` supplies a native one (asymptotic series after upward
recurrence, absolute error below 1e-13) for the duration of a compile.

Falls back to plain ``nutpie.compile_pymc_model`` when PyTensor still gives no cache key.

Everything is compiled without numba's fast-math flags (``pytensor.config.numba__fastmath`` off for these
compiles only, and part of PyTensor's cache key): with re-association and contraction allowed, LLVM rounds
differently when a kernel is compiled inline in a fresh process than when it is loaded from the cache, so the
same seed gave different draws cold and warm (last-bit differences in the gradient that NUTS amplifies).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import glob
import hashlib
import logging
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np

_CACHE_VERSION = "extent-nutpie-cfunc-3"
_MEMORY: OrderedDict[Hashable, object] = OrderedDict()
_MEMORY_SIZE = 32
# A validation study over the corpus cycles through 16 structures (4 datasets x 4 k) in every replicate: with 8
# slots 39% of its fits missed and spent ~2-3 s loading (docs/performance.md). A slot holds ~20 MB.
_LOCK = threading.Lock()

log = logging.getLogger(__name__)

TESTED_VERSIONS: dict[str, tuple[str, ...]] = {"nutpie": ("0.16",), "pytensor": ("2.38",)}
"""Release series (major.minor) of the packages whose internals the fast path was tested on."""

NO_CACHE_ENV = "EXTENT_NO_COMPILE_CACHE"
"""Set to 1 (or any value but 0/false/no) to compile with the public ``nutpie.compile_pymc_model`` only."""

_LOGGED: set[str] = set()


@functools.lru_cache
def _series(package: str) -> str:
    from importlib.metadata import version

    return ".".join(version(package).split(".")[:2])


def fast_path_refusal() -> str | None:
    """Why the fast path is not taken in this process (``None`` when it is)."""
    if os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("", "0", "false", "no"):
        return f"{NO_CACHE_ENV} is set"
    for package, series in TESTED_VERSIONS.items():
        found = _series(package)
        if found not in series:
            return f"{package} {found} is not a tested release series ({', '.join(series)})"
    return None


def _log_once(message: str, level: int) -> None:
    if message not in _LOGGED:
        _LOGGED.add(message)
        log.log(level, message)


def _numba_psi(op, node, **kwargs):
    import math

    from pytensor.link.numba.dispatch import basic as numba_basic
    from pytensor.link.numba.dispatch.scalar import scalar_op_cache_key

    @numba_basic.numba_njit
    def psi(x):
        x = float(x)
        if x <= 0.0 and x == math.floor(x):
            return math.nan
        result = 0.0
        if x < 0.0:  # reflection: psi(1 - x) - psi(x) = pi / tan(pi x)
            result = -math.pi / math.tan(math.pi * x)
            x = 1.0 - x
        while x < 10.0:
            result -= 1.0 / x
            x += 1.0
        f = 1.0 / (x * x)
        tail = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132)))))
        return result + math.log(x) - 0.5 / x + tail

    return psi, scalar_op_cache_key(op, cache_version="extent-1")


def _numba_psi_legacy(*args, **kwargs):
    return _numba_psi(*args, **kwargs)[0]


_PSI_LOCK = threading.Lock()
_PSI_DEPTH = 0
_PSI_SAVED: list = []


def _psi_dispatchers():
    from pytensor.link.numba.dispatch.basic import numba_funcify, numba_funcify_and_cache_key

    return ((numba_funcify_and_cache_key, _numba_psi), (numba_funcify, _numba_psi_legacy))


def _restore_registration(dispatcher, op_type, previous) -> None:
    if previous is not None:
        dispatcher.register(op_type)(previous)
        return
    # functools.singledispatch has no unregister: delete from the dict behind its read-only registry view
    (registry,) = (d for d in gc.get_referents(dispatcher.registry) if isinstance(d, dict))
    registry.pop(op_type, None)
    dispatcher._clear_cache()


@contextlib.contextmanager
def native_psi():
    """Give PyTensor's numba backend a native, cacheable digamma while inside (re-entrant, thread-safe)."""
    global _PSI_DEPTH
    from pytensor.scalar.math import Psi

    with _PSI_LOCK:
        if _PSI_DEPTH == 0:
            _PSI_SAVED[:] = [(d, d.registry.get(Psi)) for d, _ in _psi_dispatchers()]
            for dispatcher, impl in _psi_dispatchers():
                dispatcher.register(Psi)(impl)
        _PSI_DEPTH += 1
    try:
        yield
    finally:
        with _PSI_LOCK:
            _PSI_DEPTH -= 1
            if _PSI_DEPTH == 0:
                for dispatcher, previous in _PSI_SAVED:
                    _restore_registration(dispatcher, Psi, previous)
                _PSI_SAVED.clear()


@contextlib.contextmanager
def compile_scope(*, psi: bool = True, disk_cache: bool = True):
    """PyTensor settings for one compile: fast-math off, optionally the native digamma and no disk cache."""
    import pytensor

    flags = {"numba__fastmath": False} if hasattr(pytensor.config, "numba__fastmath") else {}
    if not disk_cache:
        flags["numba__cache"] = False
    with pytensor.config.change_flags(**flags), (native_psi() if psi else contextlib.nullcontext()):
        yield


def _intrinsics():
    """Pointer casts for the generated callbacks (built lazily so that importing extent skips numba)."""
    global _CASTS
    if _CASTS is not None:
        return _CASTS
    from numba import types
    from numba.core import cgutils  # noqa: F401
    from numba.extending import intrinsic

    def make_cast(nb_type):
        @intrinsic
        def cast(typingctx, addr):
            ptr = types.CPointer(nb_type)

            def codegen(context, builder, signature, args):
                return builder.inttoptr(args[0], context.get_value_type(ptr))

            return ptr(types.uint64), codegen

        return cast

    @intrinsic
    def void_to_u64(typingctx, ptr):
        target = types.CPointer(types.uint64)

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(target))

        return target(types.voidptr), codegen

    casts = {"void_to_u64": void_to_u64}
    for name in ("float64", "float32", "int64", "int32", "int16", "int8", "uint8", "bool_"):
        casts[f"ptr_{name}"] = make_cast(getattr(types, name))
    _CASTS = casts
    return casts


_CASTS = None


def _shared_preamble(shared: list[tuple[str, np.ndarray]], used: list[str]) -> tuple[list[str], list[str], int]:
    """Source lines that rebuild the ``used`` shared arrays from ``user_data`` (pointer, then shape, per array)."""
    lines, found, pos = [], {}, 0
    for i, (name, value) in enumerate(shared):
        if name in used:
            dtype = "bool_" if value.dtype == np.bool_ else value.dtype.name
            shape = ", ".join(f"ud[{pos + 1 + k}]" for k in range(value.ndim))
            shape = f"({shape},)" if value.ndim == 1 else f"({shape})"
            lines.append(f"    s{i} = numba.carray(ptr_{dtype}(ud[{pos}]), {shape})")
            found[name] = f"s{i}"
        pos += 1 + value.ndim
    return lines, [found[n] for n in used], pos


def _user_data(shared: list[tuple[str, np.ndarray]]) -> np.ndarray:
    out = []
    for _, value in shared:
        out.append(value.ctypes.data)
        out.extend(value.shape)
    return np.asarray(out or [0], dtype=np.uint64)


def _logp_source(n_dim: int, shared, used) -> str:
    pre, args, n_ud = _shared_preamble(shared, used)
    call = ", ".join(["x", *args])
    return "\n".join(
        [
            "def logp_cfunc(dim, x_, out_, logp_, user_data_):",
            f"    if dim != {n_dim}:",
            "        return -1",
            f"    ud = numba.carray(void_to_u64(user_data_), ({max(n_ud, 1)},))",
            *pre,
            "    try:",
            f"        x = numba.carray(x_, ({n_dim},))",
            f"        out = numba.carray(out_, ({n_dim},))",
            "        logp = numba.carray(logp_, (1,))",
            f"        logp_val, grad = inner({call})",
            "        logp[0] = logp_val",
            "        out[:] = grad",
            "        if not np.all(np.isfinite(out)):",
            "            return 3",
            "        if not np.isfinite(logp_val):",
            "            return 4",
            "    except Exception:",
            "        return 1",
            "    return 0",
        ]
    )


def _expand_source(n_dim: int, n_expanded: int, shared, used) -> str:
    pre, args, n_ud = _shared_preamble(shared, used)
    call = ", ".join(["x", *args])
    return "\n".join(
        [
            "def expand_cfunc(dim, expanded, x_, out_, user_data_):",
            f"    if dim != {n_dim} or expanded != {n_expanded}:",
            "        return -1",
            f"    ud = numba.carray(void_to_u64(user_data_), ({max(n_ud, 1)},))",
            *pre,
            "    try:",
            f"        x = numba.carray(x_, ({n_dim},))",
            f"        out = numba.carray(out_, ({n_expanded},))",
            f"        (values,) = inner({call})",
            "        out[:] = values",
            "    except Exception:",
            "        return -2",
            "    return 0",
        ]
    )


def _cached_cfunc(src: str, name: str, signature, inner, inner_key: str):
    import numba
    from pytensor.link.numba.cache import compile_numba_function_src

    key = hashlib.sha256(f"{_CACHE_VERSION}\n{inner_key}\n{src}".encode()).hexdigest()
    # __name__ lets numba rebuild the environment of a cached function from this module
    env = {"__name__": __name__, "numba": numba, "np": np, "inner": inner, **_intrinsics()}
    py_func = compile_numba_function_src(src, name, global_env=env, cache_key=key)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=numba.NumbaWarning)
        return numba.cfunc(signature, cache=True)(py_func)


def _inner_cache_key(fn) -> str | None:
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    jit_fn = fn.vm.jit_fn
    return CACHED_SRC_FUNCTIONS.get(getattr(jit_fn, "py_func", None))


def _cached_model_class():
    from nutpie.compile_pymc import CompiledPyMCModel

    @dataclasses.dataclass(frozen=True)
    class CachedNutpieModel(CompiledPyMCModel):
        """A nutpie model whose C callbacks come from the disk cache; data are passed by pointer."""

        shared_order: tuple = ()

        def with_data(self, **updates):
            """The same compiled model with new values of its ``pm.Data`` (same dtype and rank)."""
            shared = dict(self.shared_data)
            for name, value in updates.items():
                if name not in shared:
                    raise KeyError(f"Unknown shared variable: {name}")
                old = shared[name]
                new = np.array(value, dtype=old.dtype, order="C", copy=True)
                if new.ndim != old.ndim:
                    raise ValueError(f"Shared variable {name} must have rank {old.ndim}")
                new.flags.writeable = False
                shared[name] = new
            user_data = _user_data([(n, shared[n]) for n in self.shared_order])
            return dataclasses.replace(self, shared_data=shared, user_data=user_data)

    return CachedNutpieModel


_MODEL_CLASS = None


def compile_nutpie(model, *, var_names=None):
    """Compile ``model`` for nutpie's numba sampler, loading the C callbacks from disk when cached.

    Parameters
    ----------
    model : pymc.Model
    var_names : list of str, optional
        Variables to keep in the trace (all when not given).

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        Accepted by ``nutpie.sample``; ``with_data(name=values)`` gives the same model with new data.
        From the public ``nutpie.compile_pymc_model`` when the fast path is refused
        (:func:`fast_path_refusal`) or fails twice.
    """
    import nutpie

    refusal = fast_path_refusal()
    if refusal is not None:
        # a warning (once) when the versions refuse it: every process then compiles for 10-20 s more
        level = logging.INFO if refusal.startswith(NO_CACHE_ENV) else logging.WARNING
        _log_once(f"extent: compiling with nutpie.compile_pymc_model, without the compile cache: {refusal}", level)
        with compile_scope(psi=False):
            return nutpie.compile_pymc_model(model, backend="numba", var_names=var_names)
    error = None
    for _ in range(_ATTEMPTS):
        try:
            with compile_scope():
                return _compile_nutpie(model, var_names=var_names)
        except Exception as exc:  # noqa: BLE001 - any failure of the private path means a normal compile
            error = exc
        dropped = drop_cache_entries(error)
        if not dropped:
            break
        log.warning("extent: dropped %d unreadable compile-cache files (%s: %s); rebuilding them",
                    len(dropped), type(error).__name__, error)
    log.warning("extent: the compile cache failed (%s: %s); compiling with nutpie.compile_pymc_model "
                "without PyTensor's disk cache", type(error).__name__, error)
    with compile_scope(disk_cache=False):
        return nutpie.compile_pymc_model(model, backend="numba", var_names=var_names)


_ATTEMPTS = 3


def drop_cache_entries(error: BaseException) -> list[str]:
    """Delete the numba cache files that ``error`` was raised while reading, and any other unreadable index.

    Numba reads an entry through an index file (``.nbi``) and numbered data files (``.nbc``); the reader
    that failed is found in the traceback (of ``error`` or the errors it was raised from). Its files are
    removed, and so is every index in the same folder that does not unpickle, so that the next compile writes
    them afresh. Returns the paths removed (none when the error did not come from reading the cache).
    """
    failed, seen = set(), set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None:
            reader = tb.tb_frame.f_locals.get("self")
            index = getattr(reader, "_index_path", None)
            if isinstance(index, str) and index.endswith(".nbi") and hasattr(reader, "_data_name_pattern"):
                failed.add(index)
            tb = tb.tb_next
        error = error.__cause__ or error.__context__
    folders = {os.path.dirname(index) for index in failed}
    bad = failed | {index for folder in folders for index in glob.glob(os.path.join(glob.escape(folder), "*.nbi"))
                    if not _index_readable(index)}
    dropped = []
    for index in sorted(bad):
        for path in [index, *glob.glob(glob.escape(index[: -len(".nbi")]) + ".*.nbc")]:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                dropped.append(path)
    return dropped


def _index_readable(path: str) -> bool:
    import pickle

    try:
        with open(path, "rb") as f:
            pickle.load(f)  # numba's version, then the pickled (stamp, overloads)
            pickle.loads(f.read())
    except FileNotFoundError:
        return True
    except Exception:  # noqa: BLE001 - whatever unpickling raises, the index is unusable
        return False
    return True


def _compile_nutpie(model, *, var_names=None):
    global _MODEL_CLASS
    import numba
    import nutpie
    from nutpie.compile_pymc import _make_functions, _prepare_dims_and_coords
    from pymc.initial_point import make_initial_point_fn

    initial_point_fn = make_initial_point_fn(
        model=model, default_strategy="support_point", jitter_rvs=set(model.free_RVs), return_transformed=True
    )
    lock = threading.Lock()

    def locked_initial_point(seed):
        with lock:
            return initial_point_fn(seed)

    n_dim, n_expanded, logp_pt, expand_pt, init_fn, shape_info = _make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=locked_initial_point, var_names=var_names,
    )
    logp_key, expand_key = _inner_cache_key(logp_pt), _inner_cache_key(expand_pt)
    if logp_key is None or expand_key is None:
        return nutpie.compile_pymc_model(model, backend="numba", var_names=var_names)

    shared_vars: dict[str, object] = {}
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        shared_vars.setdefault(var.name, var)
    shared_data = {}
    for name, var in shared_vars.items():
        value = np.array(var.get_value(), order="C", copy=True)
        value.flags.writeable = False
        shared_data[name] = value
    # one user_data array (pointer and shape of every shared array) serves both callbacks
    shared = list(shared_data.items())
    logp_used = [v.name for v in logp_pt.get_shared()]
    expand_used = [v.name for v in expand_pt.get_shared()]

    t = numba.types
    logp_sig = t.int64(t.uint64, t.CPointer(t.double), t.CPointer(t.double), t.CPointer(t.double), t.voidptr)
    expand_sig = t.int64(t.uint64, t.uint64, t.CPointer(t.double), t.CPointer(t.double), t.voidptr)
    logp_c = _cached_cfunc(_logp_source(n_dim, shared, logp_used), "logp_cfunc", logp_sig, logp_pt.vm.jit_fn, logp_key)
    expand_c = _cached_cfunc(
        _expand_source(n_dim, n_expanded, shared, expand_used), "expand_cfunc", expand_sig, expand_pt.vm.jit_fn, expand_key
    )
    dims, coords = _prepare_dims_and_coords(model, shape_info)
    if _MODEL_CLASS is None:
        _MODEL_CLASS = _cached_model_class()
    return _MODEL_CLASS(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info)},
        compiled_logp_func=logp_c,
        compiled_expand_func=expand_c,
        initial_point_func=init_fn,
        shared_data=shared_data,
        user_data=_user_data(shared),
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_pt,
        expand_func=expand_pt,
        shared_order=tuple(shared_data),
    )


def compiled_for(key: Hashable, build: Callable[[], object], data: dict[str, np.ndarray]):
    """The compiled model cached under ``key`` with ``data`` swapped in, compiling with ``build`` on a miss.

    ``key`` must capture everything the compiled code depends on apart from the values in ``data`` (model
    structure, priors, parameterisation, trace variables); at most the last few keys are kept.
    """
    with _LOCK:
        compiled = _MEMORY.get(key)
        if compiled is not None:
            _MEMORY.move_to_end(key)
    if compiled is None:
        compiled = build()
        with _LOCK:
            _MEMORY[key] = compiled
            while len(_MEMORY) > _MEMORY_SIZE:
                _MEMORY.popitem(last=False)
        return compiled
    return compiled.with_data(**{k: v for k, v in data.items() if k in compiled.shared_data})


def clear_memory_cache() -> None:
    """Forget the compiled models held in this process (the disk cache is kept)."""
    with _LOCK:
        _MEMORY.clear()
