"""Sampler settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from extent.exceptions import ConfigError

SAMPLERS = ("pymc", "nutpie")

MAX_SEED = 2**31 - 1
"""Seeds are below this (the prediction uses ``random_seed + 1``; every backend takes 31-bit seeds)."""

DEFAULT_TARGET_ACCEPT = 0.99
"""NUTS target acceptance when neither the user nor the estimator chooses one."""

DEFAULT_TUNE = 1000
"""Tuning steps per chain when neither the user nor the estimator chooses them."""


@dataclass(frozen=True)
class SamplerConfig:
    """NUTS settings; every fit records them in its result.

    Parameters
    ----------
    draws : int
        Posterior draws per chain.
    tune : int, optional
        Tuning steps per chain. ``None`` (default) lets the estimator choose: the hierarchical model uses 500
        for non-centred fits (few searched units; validated on the real-data corpus, ``docs/validation.md``)
        and 1,000 for centred fits of many units; :data:`DEFAULT_TUNE` where nothing chooses.
    chains : int
        Number of chains.
    target_accept : float, optional
        NUTS target acceptance. ``None`` (default) lets the estimator choose: the hierarchical model uses 0.99
        for non-centred fits (with few forces the between-force spread makes a curved posterior) and 0.8 for
        centred fits of many forces (no divergences at sizes M and L, where 0.99 takes several times the
        gradient evaluations); :data:`DEFAULT_TARGET_ACCEPT` where nothing chooses.
    random_seed : int
        Seeds sampling and the national prediction: the same seed gives the same numbers.
    nuts_sampler : {"nutpie", "pymc"}
        NUTS implementation: nutpie (default; several times the effective samples per second of PyMC's NUTS,
        compiled code cached on disk, chains in parallel threads on every core) or PyMC's own.
    cores : int
        Chains run in parallel by the pymc sampler (nutpie uses every core).
    progressbar : bool
        Show sampling progress.
    """

    draws: int = 1000
    tune: int | None = None
    chains: int = 4
    target_accept: float | None = None
    random_seed: int = 20260
    nuts_sampler: str = "nutpie"
    cores: int = 1
    progressbar: bool = False

    def __post_init__(self):
        problems = []
        for name in ("draws", "tune", "chains", "cores"):
            value = getattr(self, name)
            if name == "tune" and value is None:
                continue
            if not isinstance(value, int) or value < (0 if name == "tune" else 1):
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if (not isinstance(self.random_seed, (int, np.integer)) or isinstance(self.random_seed, bool)
                or not 0 <= self.random_seed < MAX_SEED):
            problems.append(f"random_seed must be an integer in 0..{MAX_SEED - 1}, got {self.random_seed!r}")
        if self.target_accept is not None and not 0 < self.target_accept < 1:
            problems.append(f"target_accept must be in (0, 1), got {self.target_accept!r}")
        if self.nuts_sampler not in SAMPLERS:
            problems.append(f"nuts_sampler must be one of {SAMPLERS}, got {self.nuts_sampler!r}")
        if problems:
            raise ConfigError("; ".join(problems))

    def with_(self, **changes) -> SamplerConfig:
        """A copy with some settings changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def resolved(self, *, tune: int | None = None, target_accept: float | None = None) -> SamplerConfig:
        """A copy with every setting left open (``None``) filled: by the estimator's choice where given, else
        :data:`DEFAULT_TUNE` and :data:`DEFAULT_TARGET_ACCEPT`. What the user set is kept."""
        return replace(self,
                       tune=self.tune if self.tune is not None else tune if tune is not None else DEFAULT_TUNE,
                       target_accept=(self.target_accept if self.target_accept is not None
                                      else target_accept if target_accept is not None else DEFAULT_TARGET_ACCEPT))

    def to_dict(self) -> dict:
        return asdict(self)
