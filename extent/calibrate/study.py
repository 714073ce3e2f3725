"""The calibration study spec and its unit of work, one simulate-and-fit replicate.

A replicate is a pure function of ``(study, rep)``: its seeds come from
``SeedSequence(study.seed, spawn_key=(rep,))`` (the ``rep``-th child of ``SeedSequence(study.seed).spawn``),
so a replicate gives the same record whether it runs serially, on a local Dask cluster or on a remote one,
and in any order. It returns a small :class:`ReplicateRecord` (plain numbers), never an InferenceData.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from extent.calibrate.sbc import N_RANK_DRAWS, rank_of
from extent.exceptions import ConfigError, ConvergenceWarning, ExtrapolationWarning
from extent.inference import SamplerConfig
from extent.simulate import Scenario, SearchDesign, get_design, simulate_country

LEVELS = (0.5, 0.8, 0.9, 0.95)
"""Nominal levels of the central intervals scored by every study."""
ESTIMATORS = ("hierarchical", "glm_bootstrap", "naive")
"""Estimators a study can compare."""
STUDY_SAMPLER = SamplerConfig(draws=500, tune=500, chains=2, cores=1, target_accept=0.99, nuts_sampler="nutpie",
                              random_seed=20260)
"""Sampler settings of a study fit: small, the library's default NUTS (nutpie; 3.3x the fits per minute of
PyMC's NUTS in a 12-replicate report2 study, with the compiled model reused across replicates of one structure),
every field pinned so that a study's identity does not drift with the library's defaults. The tables in
``docs/calibration.md`` marked "PyMC NUTS" were run with ``nuts_sampler="pymc"``."""
HYPERPARAMETERS = ("shared_sd", "dispersion", "type_effect", "log_rate")


@dataclass(frozen=True)
class Study:
    """A calibration study: a design, a data-generating scenario, estimators and replicate seeds.

    Parameters
    ----------
    design : str or SearchDesign
        Search design (see :data:`extent.simulate.DESIGNS`).
    scenario : Scenario
        Fixed hyperparameters, or :meth:`Scenario.prior` for prior draws (SBC).
    reps : int
        Number of replicates.
    seed : int
        Root seed; replicate ``r`` uses ``SeedSequence(seed, spawn_key=(r,))``.
    estimators : tuple of str
        Any of :data:`ESTIMATORS`.
    priors : dict, optional
        Prior overrides for the hierarchical model (as in :class:`~extent.HierarchicalExtent`).
    sampler : SamplerConfig
        Sampler settings of each hierarchical fit (its ``random_seed`` is replaced per replicate).
    levels : tuple of float
        Interval levels to score.
    n_boot : int
        Bootstrap replicates of the GLM estimator.
    """

    design: SearchDesign | str = "report2"
    scenario: Scenario = field(default_factory=Scenario)
    reps: int = 100
    seed: int = 2026
    estimators: tuple[str, ...] = ESTIMATORS
    priors: dict | None = None
    sampler: SamplerConfig = STUDY_SAMPLER
    levels: tuple[float, ...] = LEVELS
    n_boot: int = 1000

    def __post_init__(self):
        object.__setattr__(self, "design", get_design(self.design))
        object.__setattr__(self, "estimators", tuple(self.estimators))
        problems = []
        if not (isinstance(self.reps, int) and self.reps >= 1):
            problems.append(f"reps must be a positive integer, got {self.reps!r}")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            problems.append(f"seed must be a non-negative integer, got {self.seed!r}")
        unknown = [e for e in self.estimators if e not in ESTIMATORS]
        if unknown or not self.estimators:
            problems.append(f"estimators must be among {ESTIMATORS}, got {list(self.estimators)}")
        if any(not 0 < lv < 1 for lv in self.levels):
            problems.append(f"levels must be in (0, 1), got {self.levels}")
        if problems:
            raise ConfigError("; ".join(problems))
        if self.priors is not None:
            from extent.models.counts.builder import DEFAULT_PRIORS
            from extent.priors import resolve_priors

            resolve_priors(DEFAULT_PRIORS, self.priors)

    @property
    def truth_kind(self) -> str:
        """``"prior"`` when hyperparameters are drawn from the prior (SBC), else ``"fixed"``."""
        return "fixed" if self.scenario.from_prior is None else "prior"

    def seed_sequence(self, rep: int) -> np.random.SeedSequence:
        """The seed of replicate ``rep`` (the ``rep``-th child of ``SeedSequence(seed)``)."""
        if not 0 <= rep < self.reps:
            raise ConfigError(f"replicate {rep} out of range 0..{self.reps - 1}")
        return np.random.SeedSequence(self.seed, spawn_key=(rep,))

    def resolved_priors(self) -> dict:
        """The hierarchical model's priors: defaults with this study's overrides."""
        from extent.models.counts.builder import DEFAULT_PRIORS
        from extent.priors import resolve_priors

        return resolve_priors(DEFAULT_PRIORS, self.priors)

    def to_dict(self) -> dict:
        return {
            "design": asdict(self.design),
            "scenario": self.scenario.to_dict(),
            "reps": self.reps,
            "seed": self.seed,
            "estimators": list(self.estimators),
            "priors": {k: v.to_dict() for k, v in self.resolved_priors().items()},
            "sampler": self.sampler.to_dict(),
            "levels": list(self.levels),
            "n_boot": self.n_boot,
        }

    @property
    def id(self) -> str:
        """Short hash of the spec: records from different specs are never mixed."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class ReplicateRecord:
    """What one replicate returns: plain numbers, comparable exactly across runners.

    Attributes
    ----------
    rep : int
        Replicate number.
    estimates : list of dict
        One row per estimator and category: ``estimator, category, truth, estimate`` and
        ``lower_<level>``/``upper_<level>`` for every level.
    ranks : list of dict
        SBC ranks (hierarchical fit only): ``quantity, truth, rank, n_draws``.
    fit : dict
        Hierarchical fit diagnostics (``divergences``, ``max_rhat``, ``min_ess_bulk``, ``converged``).
    seconds : float
        Wall time of the replicate (not part of equality).
    timings : dict
        Further wall times in seconds, e.g. ``fit``, ``compile``, ``sampling`` (not part of equality).
    """

    rep: int
    estimates: list[dict]
    ranks: list[dict]
    fit: dict
    seconds: float = field(default=0.0, compare=False)
    timings: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ReplicateRecord:
        return cls(**d)


def _interval_row(estimator: str, category: str, truth: float, draws: np.ndarray, estimate: float,
                  levels: tuple[float, ...]) -> dict:
    row = {"estimator": estimator, "category": category, "truth": float(truth), "estimate": float(estimate)}
    for lv in levels:
        if draws.size > 1:
            lo, hi = (float(q) for q in np.quantile(draws, [(1 - lv) / 2, (1 + lv) / 2]))
        else:
            lo = hi = None  # no interval (None, not NaN, so that records compare equal after a JSON round trip)
        row[f"lower_{lv:g}"], row[f"upper_{lv:g}"] = lo, hi
    return row


def study_estimators(study, fit_seed: np.random.SeedSequence, boot_seed: np.random.SeedSequence) -> list:
    """The estimators named by ``study.estimators`` for one replicate, seeded from the replicate's seeds."""
    from extent.estimators import HierarchicalExtent, NaiveScaling
    from extent.estimators.glm_bootstrap import PoissonGLMBootstrap

    make = {
        "naive": lambda: NaiveScaling(),
        "glm_bootstrap": lambda: PoissonGLMBootstrap(n_boot=study.n_boot,
                                                     random_seed=int(boot_seed.generate_state(1)[0])),
        "hierarchical": lambda: HierarchicalExtent(
            priors=study.priors,
            sampler=study.sampler.with_(random_seed=int(fit_seed.generate_state(1)[0] % (2**31 - 2)))),
    }
    return [make[name]() for name in study.estimators]


def fit_quietly(estimator, data):
    """``estimator.fit(data)`` without the convergence and extrapolation warnings a study records itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ExtrapolationWarning)  # designs that extrapolate are studied on purpose
        warnings.filterwarnings("ignore", message=".*BLAS.*")
        return estimator.fit(data)


def score_result(result, truth: dict[str, float], levels: tuple[float, ...]) -> list[dict]:
    """One row per category of a :class:`~extent.results.NationalResult` against the true national totals:
    the point estimate by the estimator's declared rule and the central interval of the draws at each level."""
    return [_interval_row(result.label, c, truth[c], result.national.sel(category=c).values.ravel(),
                          result.interval(c, "total").estimate, levels) for c in result.categories]


def fit_record(result) -> dict:
    """Diagnostics of a Bayesian fit as a replicate records them (empty for a fit without)."""
    d = result.diagnostics
    if d is None:
        return {}
    return {"divergences": int(d.divergences), "max_rhat": float(d.max_rhat), "min_ess_bulk": float(d.min_ess_bulk),
            "converged": bool(d.converged)}


def fit_and_score(estimators, data, national: dict[str, float],
                  levels: tuple[float, ...]) -> tuple[list[dict], object, dict]:
    """Fit every estimator to ``data`` and score it against the true ``national`` totals: rows of estimates,
    the first Bayesian result and its diagnostics."""
    estimates, bayes = [], None
    for estimator in estimators:
        res = fit_quietly(estimator, data)
        estimates += score_result(res, national, levels)
        if bayes is None and res.diagnostics is not None:
            bayes = res
    return estimates, bayes, {} if bayes is None else fit_record(bayes)


def run_replicate(study: Study, rep: int) -> ReplicateRecord:
    """Simulate one country, fit every estimator of ``study`` and compare with the truth."""
    start = time.perf_counter()
    sim_seed, fit_seed, boot_seed, rank_seed = study.seed_sequence(rep).spawn(4)
    country = simulate_country(study.scenario, study.design, seed=sim_seed, name=f"replicate {rep}")
    estimates, bayes, fit = fit_and_score(study_estimators(study, fit_seed, boot_seed), country.data,
                                          country.truth.national, study.levels)
    hyper = bayes is not None and bayes.idata is not None and {"shared_sd", "dispersion"} <= set(bayes.idata.posterior)
    ranks = _ranks(bayes, country.truth, np.random.default_rng(rank_seed)) if hyper else []
    return ReplicateRecord(rep=rep, estimates=estimates, ranks=ranks, fit=fit,
                           seconds=time.perf_counter() - start)


@dataclass(frozen=True, eq=False)
class SubsampleStudy:
    """Coverage on real data: search ``n_searched`` units chosen at random, predict the total over all units.

    ``data`` must hold counts for every unit; the truth of each category is their sum. Runs with
    :func:`~extent.calibrate.runner.run_study` like a :class:`Study`.
    """

    data: object
    n_searched: int
    reps: int = 100
    seed: int = 2026
    estimators: tuple[str, ...] = ESTIMATORS
    priors: dict | None = None
    sampler: SamplerConfig = STUDY_SAMPLER
    levels: tuple[float, ...] = LEVELS
    n_boot: int = 1000

    def __post_init__(self):
        n = self.data.n_units
        missing = [u for u in self.data.units.index if u not in set(self.data.searched_units)]
        problems = []
        if missing:
            problems.append(f"{len(missing)} unit(s) have no counts (e.g. {missing[0]!r}); the truth needs all")
        if not (isinstance(self.n_searched, int) and 1 <= self.n_searched < n):
            problems.append(f"n_searched must be an integer in 1..{n - 1}, got {self.n_searched!r}")
        if not (isinstance(self.reps, int) and self.reps >= 1):
            problems.append(f"reps must be a positive integer, got {self.reps!r}")
        if problems:
            raise ConfigError("; ".join(problems))
        object.__setattr__(self, "estimators", tuple(self.estimators))

    truth_kind = "real"
    seed_sequence = Study.seed_sequence
    resolved_priors = Study.resolved_priors

    @property
    def design(self) -> SearchDesign:
        return SearchDesign(f"{self.data.name}-{self.n_searched}", n_searched=self.n_searched,
                            description=f"{self.n_searched} of {self.data.n_units} units at random")

    def to_dict(self) -> dict:
        return {"data": self.data.name, "data_hash": self.data.hash(), "n_searched": self.n_searched,
                "reps": self.reps, "seed": self.seed, "estimators": list(self.estimators),
                "priors": {k: v.to_dict() for k, v in self.resolved_priors().items()},
                "sampler": self.sampler.to_dict(), "levels": list(self.levels), "n_boot": self.n_boot}

    id = Study.id


def run_subsample_replicate(study: SubsampleStudy, rep: int) -> ReplicateRecord:
    """Search a random subset of the units of ``study.data`` and score each estimator's national total."""
    start = time.perf_counter()
    pick_seed, fit_seed, boot_seed = study.seed_sequence(rep).spawn(3)
    data = study.data
    units = list(data.units.index)
    rng = np.random.default_rng(pick_seed)
    chosen = {units[i] for i in rng.choice(len(units), size=study.n_searched, replace=False)}
    national = {c: float(data.counts.loc[data.counts["category"] == c, "cases"].sum()) for c in data.categories}
    counts = data.counts[data.counts["unit"].isin(chosen)]
    from extent.data import ExtentData

    sub = ExtentData.from_frames(data.units.reset_index(), counts, name=f"{data.name} replicate {rep}")
    estimates, _, fit = fit_and_score(study_estimators(study, fit_seed, boot_seed), sub, national, study.levels)
    return ReplicateRecord(rep=rep, estimates=estimates, ranks=[], fit=fit, seconds=time.perf_counter() - start)


def _ranks(res, truth, rng: np.random.Generator) -> list[dict]:
    """SBC ranks of the truth among thinned posterior draws: national totals and hyperparameters."""
    post = res.idata.posterior
    out = []

    def add(quantity, draws, value):
        out.append({"quantity": quantity, "truth": float(value),
                    "rank": rank_of(value, draws, rng=rng, n_draws=N_RANK_DRAWS), "n_draws": N_RANK_DRAWS})

    for c in res.categories:
        add(f"national[{c}]", res.national.sel(category=c).values.ravel(), truth.national[c])
    add("shared_sd", post["shared_sd"].values.ravel(), truth.shared_sd)
    add("dispersion", post["dispersion"].values.ravel(), truth.dispersion)
    if "type_effect" in post:
        add("type_effect", post["type_effect"].values.ravel(), truth.type_effect)
    for c in res.categories:
        add(f"log_rate[{c}]", post["log_rate"].sel(category=c).values.ravel(), truth.log_rate[c])
    return out
