"""Real-data validation: search a few units of a complete corpus table, predict its national total, score.

A :class:`ValidationStudy` crosses corpus datasets (:mod:`extent.datasets.corpus`), search designs
(:mod:`.search`) and numbers of searched units ``k``; each (dataset, design, k) cell has ``reps`` replicates,
and each replicate is one task for :func:`~extent.calibrate.runner.run_study`:

1. pick a table (year and category) of the dataset uniformly at random;
2. pick ``k`` units with the design;
3. fit :class:`~extent.estimators.NaiveScaling` and :class:`~extent.estimators.HierarchicalExtent` to the
   table with only those units' counts, and score each national total against the sum over all units.

With ``leave_one_dataset_out`` the hierarchical priors come from
:func:`extent.elicitation.corpus_priors` with the validated dataset excluded, so no table is scored with a
prior learnt from its own dataset.

Seeds (each a pure function of the study's ``seed`` and the task's labels, never of its position, so a task
gives the same record serially or on Dask, and adding a dataset, design or ``k`` leaves the others alone):
the table of replicate ``rep`` of a dataset comes from ``SeedSequence(seed, spawn_key=(D, rep))`` (the same
table for every design and ``k``: paired comparisons), the searched units and the sampler seed from
``SeedSequence(seed, spawn_key=(D, G, k, rep))``, where ``D`` and ``G`` are CRC-32 codes of the dataset and
design names.

Task ``t`` enumerates replicates first (replicate 0 of every cell, then replicate 1, ...), so a run stopped
part-way has scored every cell equally often; each worker compiles a model once per structure (dataset, ``k``)
and reuses it, with the data swapped in.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import itertools
import json
import time
import warnings
import zlib
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from extent.calibrate.search import KS, SEARCH_DESIGNS, search_units
from extent.calibrate.study import LEVELS, ReplicateRecord, _interval_row
from extent.exceptions import ConfigError, ConvergenceWarning
from extent.inference import SamplerConfig

VALIDATION_DESIGNS = tuple(SEARCH_DESIGNS)
RESERVED_OPTIONS = ("priors", "sampler")
PRIOR_OPTIONS = ("log_population", "spread_by_size")
"""Estimator options that the leave-one-dataset-out priors depend on (passed to ``corpus_priors``)."""


def _code(name: str) -> int:
    return zlib.crc32(name.encode())


def _corpus_datasets() -> tuple[str, ...]:
    from extent.datasets.corpus import DATASETS

    return DATASETS


def _known_datasets() -> tuple[str, ...]:
    """The real corpus datasets and the independent simulator's (:mod:`extent.simulate.independent`)."""
    from extent.simulate.independent import SIMULATED_DATASETS

    return _corpus_datasets() + SIMULATED_DATASETS


def dataset_tables(dataset: str) -> list:
    """The complete tables of a corpus or simulated dataset."""
    from extent.datasets.corpus import corpus_tables
    from extent.simulate.independent import SIMULATED_DATASETS, simulated_tables

    return simulated_tables(dataset) if dataset in SIMULATED_DATASETS else corpus_tables(dataset)


def dataset_frame(table) -> pd.DataFrame:
    """The rows ``unit, type, population, cases`` of a corpus or simulated table."""
    from extent.datasets.corpus import table_frame
    from extent.simulate.independent import SIMULATED_DATASETS, simulated_frame

    return simulated_frame(table) if table.dataset in SIMULATED_DATASETS else table_frame(table)


@dataclass(frozen=True)
class ValidationStudy:
    """Coverage and accuracy of the national total on the real corpus, by dataset, design and ``k``.

    Parameters
    ----------
    datasets : tuple of str
        Corpus datasets (default: all of :data:`extent.datasets.corpus.DATASETS`).
    designs : tuple of str
        Search designs (see :mod:`extent.calibrate.search`).
    ks : tuple of int
        Numbers of searched units.
    reps : int
        Replicates per (dataset, design, k) cell.
    seed : int
        Root seed (see the module docstring).
    levels : tuple of float
        Central interval levels scored.
    sampler : SamplerConfig
        Sampler settings of each hierarchical fit (its ``random_seed`` is replaced per task). The default is
        the library's default: the default settings are what is validated.
    leave_one_dataset_out : bool
        Priors from :func:`extent.elicitation.corpus_priors` excluding the validated dataset; otherwise the
        estimator's default priors.
    estimator_options : dict
        Keyword arguments of :class:`~extent.estimators.HierarchicalExtent` other than ``priors`` and
        ``sampler`` (e.g. to switch a model feature off for a comparison).
    """

    datasets: tuple[str, ...] | None = None
    designs: tuple[str, ...] = VALIDATION_DESIGNS
    ks: tuple[int, ...] = KS
    reps: int = 20
    seed: int = 2026
    levels: tuple[float, ...] = LEVELS
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    leave_one_dataset_out: bool = True
    estimator_options: dict = field(default_factory=dict)

    def __post_init__(self):
        datasets = _corpus_datasets() if self.datasets is None else tuple(self.datasets)
        for name, value in (("datasets", datasets), ("designs", tuple(self.designs)), ("ks", tuple(self.ks)),
                            ("levels", tuple(self.levels))):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "estimator_options", dict(self.estimator_options))
        problems = []
        known = _known_datasets()
        unknown = [d for d in self.datasets if d not in known]
        if unknown or not self.datasets or len(set(self.datasets)) != len(self.datasets):
            problems.append(f"datasets must be distinct names among {', '.join(known)}, got {list(self.datasets)}")
        bad = [d for d in self.designs if d not in SEARCH_DESIGNS]
        if bad or not self.designs or len(set(self.designs)) != len(self.designs):
            problems.append(f"designs must be distinct names among {', '.join(SEARCH_DESIGNS)}, "
                            f"got {list(self.designs)}")
        if (not self.ks or len(set(self.ks)) != len(self.ks)
                or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in self.ks)):
            problems.append(f"ks must be distinct positive integers, got {list(self.ks)}")
        elif not unknown:
            for d in self.datasets:
                n = len(dataset_frame(dataset_tables(d)[0]))
                if max(self.ks) >= n:
                    problems.append(f"k = {max(self.ks)} leaves no unit unsearched in {d} ({n} units)")
        if not (isinstance(self.reps, int) and self.reps >= 1):
            problems.append(f"reps must be a positive integer, got {self.reps!r}")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            problems.append(f"seed must be a non-negative integer, got {self.seed!r}")
        if not self.levels or any(not 0 < lv < 1 for lv in self.levels):
            problems.append(f"levels must be in (0, 1), got {list(self.levels)}")
        if not isinstance(self.sampler, SamplerConfig):
            problems.append(f"sampler must be a SamplerConfig, got {type(self.sampler).__name__}")
        reserved = [k for k in self.estimator_options if k in RESERVED_OPTIONS]
        if reserved:
            problems.append(f"estimator_options cannot set {reserved} (the study sets them)")
        elif self.estimator_options:
            from extent.estimators import HierarchicalExtent

            try:
                inspect.signature(HierarchicalExtent).bind(**self.estimator_options)
            except TypeError as err:
                problems.append(f"estimator_options: {err}")
        if problems:
            raise ConfigError("; ".join(problems))

    # -- what run_study needs -------------------------------------------------------------------------------
    truth_kind = "real"

    @property
    def cells(self) -> list[tuple[str, str, int]]:
        """The (dataset, design, k) cells in task order."""
        return [(d, g, k) for d, k, g in itertools.product(self.datasets, self.ks, self.designs)]

    @property
    def n_tasks(self) -> int:
        """Number of tasks: cells x replicates."""
        return len(self.cells) * self.reps

    def task(self, t: int) -> tuple[str, str, int, int]:
        """``(dataset, design, k, rep)`` of task ``t``."""
        if not (isinstance(t, (int, np.integer)) and 0 <= t < self.n_tasks):
            raise ConfigError(f"task {t!r} out of range 0..{self.n_tasks - 1}")
        rep, cell = divmod(int(t), len(self.cells))  # replicate-major: a partial run covers every cell
        return (*self.cells[cell], rep)

    def seed_sequence(self, t: int) -> np.random.SeedSequence:
        """Seed of the searched units and the fit of task ``t``."""
        dataset, design, k, rep = self.task(t)
        return np.random.SeedSequence(self.seed, spawn_key=(_code(dataset), _code(design), k, rep))

    def table_seed(self, dataset: str, rep: int) -> np.random.SeedSequence:
        """Seed of the table of replicate ``rep`` of ``dataset`` (shared by every design and ``k``)."""
        return np.random.SeedSequence(self.seed, spawn_key=(_code(dataset), rep))

    @property
    def design(self):
        from extent.simulate import SearchDesign

        return SearchDesign("validation", n_searched=max(self.ks),
                            description=f"{', '.join(self.designs)} with k in {list(self.ks)}")

    def to_dict(self) -> dict:
        return {
            "kind": "validation",
            "datasets": list(self.datasets), "corpus": corpus_fingerprint(self.datasets),
            "designs": list(self.designs), "ks": list(self.ks), "reps": self.reps, "seed": self.seed,
            "levels": list(self.levels), "sampler": self.sampler.to_dict(),
            "leave_one_dataset_out": self.leave_one_dataset_out,
            "estimator_options": {k: self.estimator_options[k] for k in sorted(self.estimator_options)},
        }

    @property
    def id(self) -> str:
        """Short hash of the spec (and of the corpus files): records of different specs are never mixed."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:12]


def corpus_fingerprint(datasets) -> str:
    """Short hash of the shipped files of ``datasets``."""
    from extent.datasets.corpus import FILES

    h = hashlib.sha256()
    for d in datasets:
        if d in FILES:
            h.update(resources.files("extent.datasets").joinpath("corpus", FILES[d]).read_bytes())
        else:  # simulated: the simulator's source is the data
            h.update(resources.files("extent.simulate").joinpath("independent.py").read_bytes())
    return h.hexdigest()[:12]


# -- the task ---------------------------------------------------------------------------------------------------
_PRIORS: dict = {}


def loo_priors(dataset: str, **options) -> dict:
    """``extent.elicitation.corpus_priors(exclude=dataset, **options)``, computed once per process."""
    elicitation = importlib.import_module("extent.elicitation")
    key = (elicitation.corpus_priors, dataset, tuple(sorted(options.items())))
    if key not in _PRIORS:
        _PRIORS[key] = elicitation.corpus_priors(exclude=dataset, **options)
    return _PRIORS[key]


def study_priors(study: ValidationStudy, dataset: str) -> dict | None:
    """Priors of the hierarchical fits of ``dataset``: leave-one-dataset-out corpus priors, or ``None`` (the
    defaults: without leave-one-out, or for a simulated dataset, which no default was derived from).

    A ``log_population`` estimator option is passed on, so the priors match the model with or without the
    covariate.
    """
    if not study.leave_one_dataset_out:
        return None
    if dataset not in _corpus_datasets():  # a simulated dataset: the defaults never saw it
        return None
    options = {k: study.estimator_options[k] for k in PRIOR_OPTIONS if k in study.estimator_options}
    return loo_priors(dataset, **options)


def searched_data(table, searched: list[str]):
    """The table as ExtentData with counts of ``searched`` only, units and counts ordered by type and name.

    The ordering makes the model's constant index arrays depend only on how many searched units of each type
    there are, not on which, so more fits share one compiled model.
    """
    from extent.data import ExtentData

    rows = dataset_frame(table).sort_values(["type", "unit"], kind="stable")
    counts = rows.loc[rows["unit"].isin(set(searched)), ["unit", "cases"]].assign(category=table.category)
    return ExtentData.from_frames(rows[["unit", "population", "type"]], counts[["unit", "category", "cases"]],
                                  name=table.name, units_source=f"{table.name} units",
                                  counts_source=f"{table.name} counts")


def fit_hierarchical(study: ValidationStudy, data, priors: dict | None, random_seed: int):
    """Fit the hierarchical estimator; its national draws, diagnostics and wall times.

    Warnings are not shown; the names of their categories are kept in the diagnostics (``warnings``).
    """
    from extent.estimators import HierarchicalExtent

    sampler = study.sampler.with_(random_seed=random_seed)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = HierarchicalExtent(priors=priors, sampler=sampler, **study.estimator_options).fit(data)
    kinds = sorted({w.category.__name__ for w in caught if issubclass(w.category, ConvergenceWarning)
                    or w.category.__module__.startswith("extent")})
    draws = res.national.sel(category=data.categories[0]).values.ravel()
    d, stats = res.diagnostics, res.idata.sample_stats.attrs
    steps = res.idata.sample_stats.get("n_steps")
    fit = {"divergences": int(d.divergences), "max_rhat": float(d.max_rhat), "min_ess_bulk": float(d.min_ess_bulk),
           "converged": bool(d.converged), "warnings": ";".join(kinds),
           # leapfrog steps of the kept draws: the sampler's cost, whatever else the machine is doing
           "gradient_evaluations": int(steps.sum()) if steps is not None else -1}
    timings = {"fit": time.perf_counter() - start, "compile": float(stats.get("compile_time", np.nan)),
               "sampling": float(stats.get("sampling_time", np.nan))}
    return draws, fit, timings


def run_validation_task(study: ValidationStudy, t: int) -> ReplicateRecord:
    """One replicate: pick a table and units, fit the naive and hierarchical estimators, score the total."""
    from extent.estimators import NaiveScaling

    start = time.perf_counter()
    dataset, design, k, rep = study.task(t)
    tables = dataset_tables(dataset)
    table = tables[int(np.random.default_rng(study.table_seed(dataset, rep)).integers(len(tables)))]
    pick_seed, fit_seed = study.seed_sequence(t).spawn(2)
    frame = dataset_frame(table)
    chosen = search_units(design, frame, k, np.random.default_rng(pick_seed))
    truth = float(frame["cases"].sum())
    data = searched_data(table, chosen)
    label = {"dataset": dataset, "design": design, "k": k, "table": table.name, "category": table.category,
             "year": table.year, "searched": ";".join(sorted(chosen))}

    naive = NaiveScaling().fit(data)
    value = float(naive.national.sel(category=table.category).values.ravel()[0])
    rows = [{**label, **_interval_row("naive", table.category, truth, np.array([value]), value, study.levels)}]
    seed = int(fit_seed.generate_state(1)[0] % (2**31 - 2))
    draws, fit, timings = fit_hierarchical(study, data, study_priors(study, dataset), seed)
    rows.append({**label, **_interval_row("hierarchical", table.category, truth, draws, float(np.median(draws)),
                                          study.levels)})
    return ReplicateRecord(rep=int(t), estimates=rows, ranks=[], fit={**label, **fit},
                           seconds=time.perf_counter() - start, timings=timings)


# -- running and results ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ValidationResult:
    """The records of a validation run (a :class:`~extent.calibrate.runner.StudyResult`) and their scores."""

    run: object

    @property
    def study(self) -> ValidationStudy:
        return self.run.study

    @property
    def records(self) -> tuple[ReplicateRecord, ...]:
        return self.run.records

    @property
    def failed(self) -> dict[int, str]:
        """Tasks that could not be completed, with the error (``task(t)`` names them)."""
        return self.run.failed

    @property
    def fits_per_minute(self) -> float:
        """Tasks finished per minute of this run's wall time (all workers together)."""
        return self.run.fits_per_minute

    @property
    def complete(self) -> bool:
        return self.run.complete

    @property
    def interrupted(self) -> bool:
        return self.run.interrupted

    def missing(self) -> pd.DataFrame:
        """Tasks without a record: ``task, dataset, design, k, rep, status, error`` (``status`` ``failed``, or
        ``not run`` when the run was interrupted)."""
        missing = self.run.missing().rename(columns={"rep": "task"})
        labels = pd.DataFrame([self.study.task(t) for t in missing["task"]], columns=["dataset", "design", "k", "rep"],
                              index=missing.index)
        return pd.concat([missing[["task"]], labels, missing[["status", "error"]]], axis=1)

    def estimates(self) -> pd.DataFrame:
        """One row per task and estimator: labels, truth, estimate and interval bounds."""
        return pd.DataFrame([{"task": r.rep, **e} for r in self.records for e in r.estimates])

    def fits(self) -> pd.DataFrame:
        """Diagnostics of each hierarchical fit, with the task's wall times (``seconds``, ``fit_seconds``...)."""
        return pd.DataFrame([{"task": r.rep, **r.fit, "seconds": r.seconds,
                              **{f"{k}_seconds": v for k, v in r.timings.items()}} for r in self.records])

    def coverage(self) -> pd.DataFrame:
        from extent.calibrate.validation_scores import validation_coverage

        return validation_coverage(self.estimates(), self.study.levels) if self.records else pd.DataFrame()

    def accuracy(self) -> pd.DataFrame:
        from extent.calibrate.validation_scores import validation_accuracy

        return validation_accuracy(self.estimates()) if self.records else pd.DataFrame()

    def summary(self) -> pd.DataFrame:
        """One row per dataset, design and ``k`` (see :func:`~.validation_scores.validation_summary`)."""
        from extent.calibrate.validation_scores import validation_summary

        if not self.records:
            return pd.DataFrame()
        return validation_summary(self.coverage(), self.accuracy(), self.fits())

    def markdown(self) -> str:
        """All replicates and the margins by dataset, design and ``k`` (the tables of ``docs/validation.md``),
        then every dataset, design and ``k``."""
        from extent.calibrate.validation_scores import coverage_markdown, margin_tables, margins_markdown

        margins = margin_tables(self.estimates(), self.fits(), self.study.levels)
        return (margins_markdown(margins, self.study.levels) + "\nBy dataset, design and k:\n\n"
                + coverage_markdown(self.summary(), self.study.levels))

    def save(self, out) -> list:
        """Write ``estimates.csv``, ``coverage.csv``, ``accuracy.csv``, ``fits.csv``, ``summary.csv`` (the completed
        tasks), ``missing.csv`` (:meth:`missing`; only a header when complete), ``study.json``, ``validation.md``
        and ``validation-coverage.png`` into the folder ``out``."""
        from pathlib import Path

        import matplotlib.pyplot as plt

        from extent.calibrate.validation_scores import plot_validation_coverage
        from extent.files import write_csv

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = [write_csv(table, out / f"{name}.csv") for name, table in (
            ("estimates", self.estimates()), ("coverage", self.coverage()), ("accuracy", self.accuracy()),
            ("fits", self.fits()), ("summary", self.summary()), ("missing", self.missing()))]
        meta = {"study": self.study.to_dict(), "study_id": self.study.id, **self.run.run_meta(),
                "failed": {str(t): {"task": list(self.study.task(t)), "error": e} for t, e in self.failed.items()}}
        (out / "study.json").write_text(json.dumps(meta, indent=2, default=str))
        (out / "validation.md").write_text(self.markdown() if self.records else "")
        paths += [out / "study.json", out / "validation.md"]
        if self.records:
            fig = plot_validation_coverage(self.coverage())
            fig.savefig(out / "validation-coverage.png", dpi=110)
            plt.close(fig)
            paths.append(out / "validation-coverage.png")
        return paths


def run_validation(study: ValidationStudy, **runner_options) -> ValidationResult:
    """Run every task of ``study`` with :func:`~extent.calibrate.runner.run_study` (same options)."""
    from extent.calibrate.runner import run_study

    return ValidationResult(run_study(study, task=run_validation_task, **runner_options))
