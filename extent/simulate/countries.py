"""Simulated countries with a known truth, for calibration studies.

A simulated country is a frame of units (police forces) with populations and a type, true rates per category,
force effects, over-dispersion, optional time trends, and a *search design* that says which units were
searched. :func:`simulate_country` returns the searched counts as the same :class:`~extent.data.ExtentData`
that real data use, together with the realised truth (the finite-population national total of cases per
category over the period, summed over every unit, searched or not).

Generative process (unit ``f``, category ``c``, year ``t`` of ``T``)::

    cases[f, c, t] ~ Poisson(pop[f] / 1e5 * rate[c] * type_ratio[type[f]] * unit[f] * cell[f, c] * trend[f, t])
    unit[f]    = exp(shared_sd * z[f] - shared_sd**2 / 2),  z[f] ~ Normal(0, 1)      (shared, mean one)
    cell[f, c] ~ Gamma(1 / dispersion**2, rate = 1 / dispersion**2)               (category-specific, mean one)
    trend[f, t] = exp((trend + trend_sd * u[f]) * (t - (T - 1) / 2)),  u[f] ~ Normal(0, 1)

so ``rate[c]`` is the *population-average* rate per 100,000 per year of the reference type (force effects
are mean-one on the rate scale). :meth:`Scenario.from_prior` instead draws every hyperparameter from the
hierarchical model's priors, in the model's own (median-force) parametrisation, for simulation-based
calibration.

Two truths, reported separately (see ``docs/calibration.md``):

* a *fixed scenario* (:class:`Scenario`): hyperparameters fixed at plausible values, countries (force
  effects, counts) and searched units redrawn each replicate. Coverage here depends on how the prior sits
  relative to the fixed values;
* *prior draws* (:meth:`Scenario.from_prior`): hyperparameters drawn from the prior each replicate; a
  correct sampler is then calibrated by construction (SBC).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from extent.constants import RATE_SCALE
from extent.exceptions import ConfigError
from extent.priors import Prior

if TYPE_CHECKING:
    from extent.data import ExtentData

REFERENCE_TYPE = "shire"
OTHER_TYPE = "metropolitan"


# -- unit frames --------------------------------------------------------------------------------------------
@functools.cache
def _cached_frame(name: str) -> pd.DataFrame:
    return _FRAME_BUILDERS[name]()


def uk_frame() -> pd.DataFrame:
    """The 52-force UK frame used by default: ``unit, population, type``.

    The 43 England and Wales police force areas with their 2011 Census populations (shipped in
    ``extent/datasets/ew_pfa_population_2011.csv``; 7 metropolitan, 36 shire), rescaled to the 2001 England
    and Wales total (52,041,916, a factor of 0.928) to match the report's period, plus eight Scottish forces
    (Scotland's 2001 population split equally; their own sizes are not in our data) and the Police Service of
    Northern Ireland (NI 2001), both ``shire``. Populations range from about 0.12 to 6.8 million.
    """
    from extent.datasets import (
        EW_POPULATION_2001,
        NI_POPULATION_2001,
        SCOTLAND_POPULATION_2001,
        load_ew_forces,
    )

    ew = load_ew_forces().rename(columns={"force": "unit"})
    ew["population"] = ew["population"] * EW_POPULATION_2001 / ew["population"].sum()
    scotland = pd.DataFrame({"unit": [f"Scotland force {i}" for i in range(1, 9)],
                             "population": SCOTLAND_POPULATION_2001 / 8, "type": REFERENCE_TYPE})
    ni = pd.DataFrame({"unit": ["Police Service of Northern Ireland"], "population": NI_POPULATION_2001,
                       "type": REFERENCE_TYPE})
    frame = pd.concat([ew[["unit", "population", "type"]], scotland, ni], ignore_index=True)
    frame["population"] = frame["population"].round().astype(np.int64)
    return frame


def ew_frame() -> pd.DataFrame:
    """The 43 England and Wales forces with their 2011 Census populations (unscaled): ``unit, population, type``."""
    from extent.datasets import load_ew_forces

    return load_ew_forces().rename(columns={"force": "unit"})[["unit", "population", "type"]]


FRAMES = {"uk52": uk_frame, "ew43": ew_frame}
"""Named unit frames: ``uk52`` (default, the report's 52 forces) and ``ew43``."""
_FRAME_BUILDERS = FRAMES


# -- search designs -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchDesign:
    """Which units are searched: a number per unit type, chosen at random within type.

    Parameters
    ----------
    name : str
        Label used in tables and on the command line.
    n_metropolitan, n_shire : int, optional
        Searched units of each type (stratified design). Give both, or neither and ``n_searched``.
    n_searched : int, optional
        Searched units drawn by simple random sampling from the whole frame, whatever their type.
    description : str
        One line for reports.
    """

    name: str
    n_metropolitan: int | None = None
    n_shire: int | None = None
    n_searched: int | None = None
    description: str = ""

    def __post_init__(self):
        stratified = self.n_metropolitan is not None or self.n_shire is not None
        if stratified == (self.n_searched is not None):
            raise ConfigError(f"design {self.name!r}: give n_metropolitan and n_shire, or n_searched, not both")
        if stratified and (self.n_metropolitan is None or self.n_shire is None):
            raise ConfigError(f"design {self.name!r}: give both n_metropolitan and n_shire")
        if self.size < 1 or min(v for v in (self.n_metropolitan, self.n_shire, self.n_searched) if v is not None) < 0:
            raise ConfigError(f"design {self.name!r}: numbers of searched units must be >= 0 and sum to >= 1")

    @property
    def size(self) -> int:
        """Number of searched units."""
        if self.n_searched is not None:
            return self.n_searched
        return int(self.n_metropolitan) + int(self.n_shire)

    def choose(self, units: pd.DataFrame, rng: np.random.Generator) -> list[str]:
        """Searched unit names, in frame order."""
        names = units["unit"].to_numpy()
        if self.n_searched is not None:
            if self.n_searched > len(units):
                raise ConfigError(f"design {self.name!r}: {self.n_searched} searched units but the frame has {len(units)}")
            picked = rng.choice(len(units), size=self.n_searched, replace=False)
        else:
            picked = []
            for typ, n in ((OTHER_TYPE, self.n_metropolitan), (REFERENCE_TYPE, self.n_shire)):
                pool = np.flatnonzero(units["type"].to_numpy() == typ)
                if n > len(pool):
                    raise ConfigError(f"design {self.name!r}: {n} {typ} units wanted but the frame has {len(pool)}")
                picked.extend(rng.choice(pool, size=n, replace=False).tolist())
        return [str(u) for u in names[np.sort(np.asarray(picked, dtype=int))]]


DESIGNS: dict[str, SearchDesign] = {
    d.name: d
    for d in (
        SearchDesign("report2", n_metropolitan=1, n_shire=1,
                     description="the report's Tables 7-8: one metropolitan and one shire force"),
        SearchDesign("report3", n_metropolitan=1, n_shire=2,
                     description="the report's Tables 10-12: one metropolitan and two shire forces "
                                 "(unrepresentative: 1 of 3 metropolitan vs 7 of 52 nationally)"),
        SearchDesign("random5", n_searched=5, description="five forces by simple random sampling"),
        SearchDesign("random10", n_searched=10, description="ten forces by simple random sampling"),
    )
}
"""Named search designs."""


def get_design(design: str | SearchDesign) -> SearchDesign:
    """A :class:`SearchDesign` by name (or the object itself)."""
    if isinstance(design, SearchDesign):
        return design
    if design not in DESIGNS:
        raise ConfigError(f"unknown design {design!r}; known: {', '.join(DESIGNS)}")
    return DESIGNS[design]


# -- scenarios ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """Hyperparameters of the data-generating process.

    Parameters
    ----------
    rates : dict of str to float
        Population-average cases per 100,000 per year for each category, in the reference (shire) type.
    shared_sd : float
        SD of the shared log unit effect (mean one on the rate scale).
    dispersion : float
        Coefficient of variation of the category-specific cell effect (0 = none).
    metropolitan_ratio : float
        Rate ratio of metropolitan to shire forces.
    years : int
        Length of the searched period.
    trend, trend_sd : float
        Common log-linear trend per year and SD of force-specific trends (0 = none).
    frame : str
        Unit frame name (see :data:`FRAMES`).
    from_prior : dict or None
        When set, a :class:`Prior` per hyperparameter: each replicate draws ``log_rate`` (median force,
        per category), ``shared_sd``, ``dispersion`` and ``type_effect`` from them (see :meth:`from_prior`).
    """

    rates: dict[str, float] = field(default_factory=lambda: {"rare": 0.25, "uncommon": 1.0, "common": 4.0})
    shared_sd: float = 0.3
    dispersion: float = 0.2
    metropolitan_ratio: float = 1.3
    years: int = 4
    trend: float = 0.0
    trend_sd: float = 0.0
    frame: str = "uk52"
    from_prior: dict[str, Prior] | None = None
    name: str = "default"

    def __post_init__(self):
        problems = []
        if not self.rates:
            problems.append("rates: give at least one category")
        if any(not r > 0 for r in self.rates.values()):
            problems.append(f"rates must be > 0, got {self.rates}")
        for k in ("shared_sd", "dispersion", "trend_sd"):
            if getattr(self, k) < 0:
                problems.append(f"{k} must be >= 0, got {getattr(self, k)!r}")
        if not self.metropolitan_ratio > 0:
            problems.append(f"metropolitan_ratio must be > 0, got {self.metropolitan_ratio!r}")
        if not (isinstance(self.years, int) and self.years >= 1):
            problems.append(f"years must be a positive integer, got {self.years!r}")
        if self.frame not in FRAMES:
            problems.append(f"frame must be one of {list(FRAMES)}, got {self.frame!r}")
        if problems:
            raise ConfigError(f"scenario {self.name!r}: " + "; ".join(problems))

    @classmethod
    def prior(cls, priors: dict | None = None, *, categories: tuple[str, ...] = ("a", "b"), years: int = 4,
              frame: str = "uk52") -> Scenario:
        """A scenario whose hyperparameters are drawn from the hierarchical model's priors each replicate.

        ``priors`` overrides :data:`extent.models.counts.builder.DEFAULT_PRIORS` by name, as in the estimator.
        """
        from extent.models.counts.builder import DEFAULT_PRIORS
        from extent.priors import resolve_priors

        resolved = resolve_priors(DEFAULT_PRIORS, priors)
        return cls(rates={c: 1.0 for c in categories}, years=years, frame=frame, from_prior=resolved,
                   name="prior")

    @property
    def categories(self) -> list[str]:
        return list(self.rates)

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("name", "rates", "shared_sd", "dispersion", "metropolitan_ratio",
                                             "years", "trend", "trend_sd", "frame")}
        out["from_prior"] = None if self.from_prior is None else {k: v.to_dict() for k, v in self.from_prior.items()}
        return out

    def with_(self, **changes) -> Scenario:
        return replace(self, **changes)


@dataclass(frozen=True)
class Truth:
    """The realised truth of one simulated country.

    Attributes
    ----------
    national : dict of str to int
        Finite-population national total of cases per category over the period (every unit).
    log_rate : dict of str to float
        Log cases per 100,000 per year of a median reference-type force (the model's ``log_rate``).
    shared_sd, dispersion, type_effect : float
        Hyperparameters in the model's parametrisation (``type_effect`` = log metropolitan/shire ratio).
    cases : pandas.DataFrame
        Cases per unit and category over the period (``unit, category, cases``), every unit.
    searched : list of str
        Searched units.
    """

    national: dict[str, int]
    log_rate: dict[str, float]
    shared_sd: float
    dispersion: float
    type_effect: float
    cases: pd.DataFrame
    searched: list[str]

    def hyperparameters(self) -> dict[str, float]:
        """Flat record of the scalar hyperparameters, e.g. ``{"shared_sd": 0.3, "log_rate[rare]": -1.4}``."""
        out = {"shared_sd": self.shared_sd, "dispersion": self.dispersion, "type_effect": self.type_effect}
        out.update({f"log_rate[{c}]": v for c, v in self.log_rate.items()})
        return out


@dataclass(frozen=True, eq=False)
class SimulatedCountry:
    """Searched data (what an analyst sees) and the truth (what they do not)."""

    data: ExtentData
    truth: Truth


def _draw(prior: Prior, rng: np.random.Generator, size=None) -> np.ndarray:
    p = prior.params
    if prior.distribution == "Normal":
        return rng.normal(p.get("mu", 0.0), p["sigma"], size)
    if prior.distribution == "HalfNormal":
        return np.abs(rng.normal(0.0, p["sigma"], size))
    if prior.distribution == "Exponential":
        return rng.exponential(1.0 / p["lam"], size) if "lam" in p else rng.exponential(p["scale"], size)
    if prior.distribution == "Gamma":
        return rng.gamma(p["alpha"], 1.0 / p["beta"], size)
    if prior.distribution == "LogNormal":
        return rng.lognormal(p.get("mu", 0.0), p["sigma"], size)
    if prior.distribution == "Beta":
        return rng.beta(p["alpha"], p["beta"], size)
    raise ConfigError(f"cannot simulate from a {prior.distribution} prior; use Normal, HalfNormal, Exponential, "
                      "Gamma, LogNormal or Beta")


def simulate_country(
    scenario: Scenario | None = None,
    design: str | SearchDesign = "report2",
    *,
    seed: int | np.random.SeedSequence | np.random.Generator = 0,
    name: str = "simulated",
) -> SimulatedCountry:
    """Simulate one country and search it.

    Parameters
    ----------
    scenario : Scenario, optional
        Data-generating hyperparameters (default :class:`Scenario()`).
    design : str or SearchDesign
        Which units are searched (see :data:`DESIGNS`).
    seed : int, SeedSequence or Generator
        The same seed gives the same country. The country and the searched units use separate child
        streams, so the same seed searches the same units under any scenario.

    Returns
    -------
    SimulatedCountry
        ``data`` holds every unit (``unit, population, type``, exact populations) and the searched units'
        counts for every category; ``truth`` the national totals and hyperparameters.
    """
    scenario = scenario or Scenario()
    design = get_design(design)
    if isinstance(seed, np.random.Generator):
        rng, design_rng = seed.spawn(2)
    else:
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        rng, design_rng = (np.random.default_rng(s) for s in ss.spawn(2))
    units = _cached_frame(scenario.frame).copy()
    categories = scenario.categories
    n_u, n_c, years = len(units), len(categories), scenario.years
    is_other = (units["type"] == OTHER_TYPE).to_numpy()

    if scenario.from_prior is not None:  # model parametrisation: median-force log rates
        p = scenario.from_prior
        log_rate = _draw(p["log_rate"], rng, n_c)
        unit_sd = float(_draw(p["unit_sd"], rng))
        shared = float(_draw(p["shared_fraction"], rng))
        shared_sd = unit_sd * np.sqrt(shared)
        dispersion = float(np.sqrt(np.expm1(unit_sd**2 * (1 - shared))))
        type_effect = float(_draw(p["type_effect"], rng))
        lp = np.log(units["population"].to_numpy(float))
        lp = lp - lp.mean()
        # the model's size-dependent spread: both components scaled by size_factor(spread_slope, lp)
        from extent.models.counts.builder import size_factor

        size_scale = size_factor(float(_draw(p["spread_slope"], rng)), lp) if "spread_slope" in p else np.ones(n_u)
        log_unit = shared_sd * size_scale * rng.standard_normal(n_u)
        if "log_population" in p:  # the model's size effect, on centred log population
            log_unit = log_unit + float(_draw(p["log_population"], rng)) * lp
    else:
        shared_sd, dispersion = scenario.shared_sd, scenario.dispersion
        type_effect = float(np.log(scenario.metropolitan_ratio))
        log_rate = np.log([scenario.rates[c] for c in categories]) - shared_sd**2 / 2
        log_unit = shared_sd * rng.standard_normal(n_u)
        size_scale = np.ones(n_u)
    type_eff = np.where(is_other, type_effect, 0.0)

    if dispersion > 0:
        shape = 1.0 / np.expm1(np.log1p(dispersion**2) * size_scale**2)[:, None]  # dispersion at the mean size
        cell = rng.gamma(np.broadcast_to(shape, (n_u, n_c)), 1.0 / shape)
    else:
        cell = np.ones((n_u, n_c))
    t = np.arange(years) - (years - 1) / 2
    slope = scenario.trend + scenario.trend_sd * rng.standard_normal(n_u)
    trend = np.exp(slope[:, None] * t[None, :])  # (unit, year)
    pop = units["population"].to_numpy(float)
    mu = (pop / RATE_SCALE * np.exp(log_unit + type_eff))[:, None, None] * np.exp(log_rate)[None, :, None] \
        * cell[:, :, None] * trend[:, None, :]
    counts = rng.poisson(mu).sum(axis=2)  # (unit, category) over the period

    searched = design.choose(units, design_rng)  # own stream: same units whatever the scenario
    pos = {u: i for i, u in enumerate(units["unit"])}
    rows = [
        {"unit": u, "category": c, "cases": int(counts[pos[u], j]), "years": float(years)}
        for j, c in enumerate(categories)
        for u in searched
    ]
    from extent.data import ExtentData

    data = ExtentData.from_frames(
        units.assign(population_cv=0.0), pd.DataFrame(rows), name=name,
        notes=(f"simulated: scenario {scenario.name!r}, design {design.name!r}",),
    )
    all_cases = pd.DataFrame({
        "unit": np.repeat(units["unit"].to_numpy(), n_c),
        "category": np.tile(categories, n_u),
        "cases": counts.ravel(),
    })
    truth = Truth(
        national={c: int(counts[:, j].sum()) for j, c in enumerate(categories)},
        log_rate={c: float(v) for c, v in zip(categories, log_rate)},
        shared_sd=float(shared_sd),
        dispersion=float(dispersion),
        type_effect=type_effect,
        cases=all_cases,
        searched=searched,
    )
    return SimulatedCountry(data=data, truth=truth)
