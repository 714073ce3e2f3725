"""Calibration of survey estimators on the Dask runner: simulated surveys with a known national total.

A :class:`SurveyStudy` runs with :func:`~extent.calibrate.runner.run_study` like a count
:class:`~extent.calibrate.study.Study`: each replicate simulates one survey
(:func:`extent.simulate.survey.simulate_survey`), fits a :class:`~extent.estimators.SurveyEstimator` per
mechanism through the same estimator protocol and scoring (:func:`~extent.calibrate.study.fit_and_score`), and
returns a :class:`~extent.calibrate.study.ReplicateRecord`, so coverage, accuracy, checkpoints and lost
replicates work as for count studies.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

import numpy as np

from extent.calibrate.study import LEVELS, ReplicateRecord, Study, fit_and_score
from extent.exceptions import ConfigError
from extent.inference import SamplerConfig

SURVEY_STUDY_SAMPLER = SamplerConfig(draws=500, tune=500, chains=2, cores=1, target_accept=0.95,
                                     nuts_sampler="nutpie", random_seed=20260)
"""Sampler settings of a survey study fit (every field pinned, its ``random_seed`` replaced per replicate)."""


@dataclass(frozen=True)
class SurveyDesign:
    """What a survey study's tables call its design."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class SurveyStudy:
    """Coverage of survey non-response estimators on simulated surveys.

    Parameters
    ----------
    scenario : str
        The simulated response mechanism (``mcar``, ``mar``, ``mnar``; see
        :data:`extent.simulate.survey.SCENARIOS`).
    mechanisms : tuple of str
        The mechanisms fitted, one :class:`~extent.estimators.SurveyEstimator` each.
    reps, seed : int
        Replicates, and the root seed (replicate ``r`` uses ``SeedSequence(seed, spawn_key=(r,))``).
    sampler : SamplerConfig
        Sampler settings of each fit.
    levels : tuple of float
        Interval levels to score.
    simulate : dict
        Further arguments of :func:`~extent.simulate.survey.simulate_survey` (``n_units``, ``cap``,
        ``n_searched`` for joint fits with record searches, ...).
    """

    scenario: str = "mar"
    mechanisms: tuple[str, ...] = ("mcar", "mar")
    reps: int = 20
    seed: int = 2026
    sampler: SamplerConfig = SURVEY_STUDY_SAMPLER
    levels: tuple[float, ...] = LEVELS
    simulate: dict = field(default_factory=dict)

    truth_kind = "fixed"
    seed_sequence = Study.seed_sequence

    def __post_init__(self):
        from extent.models.survey.mechanisms import check_mechanism
        from extent.simulate.survey import SCENARIOS

        object.__setattr__(self, "mechanisms", tuple(self.mechanisms))
        object.__setattr__(self, "simulate", dict(self.simulate))
        problems = []
        if self.scenario not in SCENARIOS:
            problems.append(f"scenario must be one of {', '.join(SCENARIOS)}, got {self.scenario!r}")
        if not self.mechanisms:
            problems.append("mechanisms must name at least one mechanism")
        if not (isinstance(self.reps, int) and self.reps >= 1):
            problems.append(f"reps must be a positive integer, got {self.reps!r}")
        if any(not 0 < lv < 1 for lv in self.levels):
            problems.append(f"levels must be in (0, 1), got {self.levels}")
        if problems:
            raise ConfigError("; ".join(problems))
        for m in self.mechanisms:
            check_mechanism(m)

    @property
    def design(self) -> SurveyDesign:
        n = self.simulate.get("n_searched", 0)
        return SurveyDesign(f"survey-{self.scenario}" + (f"-{n}searched" if n else ""),
                            f"simulated {self.scenario} survey" + (f", {n} units record-searched" if n else ""))

    def estimators(self, fit_seed: np.random.SeedSequence) -> list:
        """One :class:`~extent.estimators.SurveyEstimator` per mechanism, seeded for one replicate."""
        from extent.estimators import SurveyEstimator

        sampler = self.sampler.with_(random_seed=int(fit_seed.generate_state(1)[0] % (2**31 - 2)))
        return [SurveyEstimator(mechanism=m, sampler=sampler) for m in self.mechanisms]

    def to_dict(self) -> dict:
        return {"kind": "survey", "scenario": self.scenario, "mechanisms": list(self.mechanisms), "reps": self.reps,
                "seed": self.seed, "sampler": self.sampler.to_dict(), "levels": list(self.levels),
                "simulate": self.simulate}

    @property
    def id(self) -> str:
        """Short hash of the spec: records from different specs are never mixed."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:12]


def run_survey_replicate(study: SurveyStudy, rep: int) -> ReplicateRecord:
    """Simulate one survey, fit every mechanism of ``study`` and score the national total against the truth."""
    from extent.simulate.survey import simulate_survey

    start = time.perf_counter()
    sim_seed, fit_seed = study.seed_sequence(rep).spawn(2)
    sim = simulate_survey(study.scenario, seed=int(sim_seed.generate_state(1)[0]), **study.simulate)
    data = sim.data if sim.records is None else sim.data.with_records(sim.records, "cases")
    estimates, _, fit = fit_and_score(study.estimators(fit_seed), data, {"cases": sim.total}, study.levels)
    return ReplicateRecord(rep=rep, estimates=estimates, ranks=[], fit=fit, seconds=time.perf_counter() - start)
