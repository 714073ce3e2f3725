"""Run a calibration study serially or on Dask, streaming results, retrying and reporting lost replicates.

Each replicate is one task (:func:`~extent.calibrate.study.run_replicate`, a pure function of the study and
the replicate number). Results stream back as they finish; with ``checkpoint=`` each record is appended to a
JSON-lines file as it arrives, and a rerun with the same file skips the replicates already done, so a partial
study survives the client, a worker or the whole cluster going away. A task whose worker dies is rescheduled
by the Dask scheduler (up to ``distributed.scheduler.allowed-failures`` times); a task that raises is retried
``retries`` times; anything still failing is listed in :attr:`StudyResult.failed`, never silently dropped. A
worker that keeps dying on a task (``distributed.scheduler.allowed-failures`` deaths) fails that task with
``KilledWorker``. Ctrl-C stops the run and returns what finished (:attr:`StudyResult.interrupted`). Whatever
happened, :meth:`StudyResult.save` writes every table for the completed tasks and ``missing.csv`` naming the
tasks without a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from extent.calibrate.metrics import accuracy_table, coverage_table
from extent.calibrate.sbc import rank_uniformity
from extent.calibrate.study import (
    ReplicateRecord,
    Study,
    SubsampleStudy,
    run_replicate,
    run_subsample_replicate,
)
from extent.calibrate.survey_study import SurveyStudy, run_survey_replicate
from extent.calibrate.validation import ValidationStudy, run_validation_task
from extent.exceptions import ConfigError, ExtentError

Progress = Callable[[int, int], None]
"""``progress(done, total)``, called after every finished (or finally failed) replicate."""


def n_tasks(study) -> int:
    """Tasks of a study: its ``n_tasks`` where it has one (a grid of cells), else its ``reps``."""
    return int(getattr(study, "n_tasks", study.reps))


@dataclass(frozen=True, eq=False)
class StudyResult:
    """The records of a study, its lost replicates and summaries.

    Attributes
    ----------
    study : Study
    records : tuple of ReplicateRecord
        Sorted by replicate.
    failed : dict of int to str
        Replicates that could not be completed, with the error.
    engine : str
        ``"serial"`` or the Dask scheduler address.
    seconds : float
        Wall time of this run (excluding records loaded from a checkpoint).
    resumed : int
        Records loaded from the checkpoint.
    interrupted : bool
        The run was stopped (Ctrl-C) before every task had finished; the tasks not run are :meth:`missing`.
    """

    study: Study
    records: tuple[ReplicateRecord, ...]
    failed: dict[int, str] = field(default_factory=dict)
    engine: str = "serial"
    seconds: float = 0.0
    resumed: int = 0
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        return not self.failed and len(self.records) == n_tasks(self.study)

    def missing(self) -> pd.DataFrame:
        """Tasks without a record: ``rep``, ``status`` (``failed``, or ``not run`` when the run was interrupted)
        and ``error`` (empty when not run)."""
        have = {r.rep for r in self.records}
        rows = [{"rep": t, "status": "failed" if t in self.failed else "not run", "error": self.failed.get(t, "")}
                for t in range(n_tasks(self.study)) if t not in have]
        return pd.DataFrame(rows, columns=["rep", "status", "error"])

    def run_meta(self) -> dict:
        """What ``study.json`` says about the run: engine, timing, and what is missing."""
        missing = self.missing()
        return {"engine": self.engine, "seconds": self.seconds, "records": len(self.records),
                "resumed": self.resumed, "tasks": n_tasks(self.study), "complete": self.complete,
                "interrupted": self.interrupted, "missing": len(missing),
                "failed": {str(k): v for k, v in self.failed.items()}, "fits_per_minute": self.fits_per_minute}

    @property
    def fits_per_minute(self) -> float:
        """Replicates (simulate-and-fit tasks) finished per minute in this run."""
        run = len(self.records) - self.resumed
        return 60.0 * run / self.seconds if self.seconds > 0 else float("nan")

    def _label(self) -> dict:
        return {"design": self.study.design.name, "truth": self.study.truth_kind}

    def estimates(self) -> pd.DataFrame:
        """Tidy estimates: one row per replicate, estimator and category."""
        rows = [{**self._label(), "rep": r.rep, **e} for r in self.records for e in r.estimates]
        return pd.DataFrame(rows)

    def ranks(self) -> pd.DataFrame:
        """SBC ranks: one row per replicate and quantity (``truth_value`` is the true value)."""
        rows = [{**self._label(), "rep": r.rep, "quantity": k["quantity"], "truth_value": k["truth"],
                 "rank": k["rank"], "n_draws": k["n_draws"]} for r in self.records for k in r.ranks]
        return pd.DataFrame(rows, columns=["design", "truth", "rep", "quantity", "truth_value", "rank", "n_draws"])

    def fits(self) -> pd.DataFrame:
        """Diagnostics of each hierarchical fit and the replicate's wall time."""
        return pd.DataFrame([{**self._label(), "rep": r.rep, **r.fit, "seconds": r.seconds} for r in self.records])

    def coverage(self) -> pd.DataFrame:
        """Coverage with Wilson intervals, relative width and interval score (see :mod:`.metrics`)."""
        if not self.records:
            return pd.DataFrame()
        return coverage_table(self.estimates(), self.study.levels).assign(truth=self.study.truth_kind)

    def accuracy(self) -> pd.DataFrame:
        """Relative bias, median absolute log error and relative RMSE of the point estimates."""
        if not self.records:
            return pd.DataFrame()
        return accuracy_table(self.estimates()).assign(truth=self.study.truth_kind)

    def sbc(self) -> pd.DataFrame:
        """Rank uniformity per quantity (meaningful when the truth is drawn from the prior)."""
        ranks = self.ranks()
        return rank_uniformity(ranks) if len(ranks) else pd.DataFrame()

    def save(self, out: str | Path) -> list[Path]:
        """Write ``estimates.csv``, ``coverage.csv``, ``accuracy.csv``, ``ranks.csv``, ``sbc.csv``,
        ``fits.csv`` (the completed tasks), ``missing.csv`` (:meth:`missing`; only a header when complete) and
        ``study.json`` (spec, engine, whether complete or interrupted, lost replicates) into the folder ``out``."""
        from extent.files import write_csv

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, table in (("estimates", self.estimates()), ("coverage", self.coverage()),
                            ("accuracy", self.accuracy()), ("ranks", self.ranks()), ("sbc", self.sbc()),
                            ("fits", self.fits()), ("missing", self.missing())):
            paths.append(write_csv(table, out / f"{name}.csv"))
        meta = {"study": self.study.to_dict(), "study_id": self.study.id, **self.run_meta()}
        path = out / "study.json"
        path.write_text(json.dumps(meta, indent=2, default=str))
        return [*paths, path]


# -- checkpoint -----------------------------------------------------------------------------------------------
def _load_checkpoint(path: Path, study: Study) -> dict[int, ReplicateRecord]:
    done = {}
    if not path.is_file():
        return done
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
        if d.get("study_id") != study.id:
            raise ExtentError(f"{path}: line {i} belongs to another study ({d.get('study_id')} != {study.id}); "
                              "use a new checkpoint file for a changed study")
        rec = ReplicateRecord.from_dict(d["record"])
        if rec.rep < n_tasks(study):
            done[rec.rep] = rec
    return done


def _append(path: Path | None, study: Study, rec: ReplicateRecord) -> None:
    if path is None:
        return
    with path.open("a") as fh:
        fh.write(json.dumps({"study_id": study.id, "record": rec.to_dict()}) + "\n")


# -- runners ------------------------------------------------------------------------------------------------
def run_study(
    study: Study,
    *,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    retries: int = 2,
    checkpoint: str | Path | None = None,
    progress: Progress | None = None,
    task: Callable[[Study, int], ReplicateRecord] | None = None,
) -> StudyResult:
    """Run every replicate of ``study`` and collect the records.

    Parameters
    ----------
    study : Study
    client : distributed.Client, optional
        Send the tasks to this client's cluster.
    scheduler : str, optional
        Address of an existing Dask scheduler (e.g. ``tcp://10.0.0.5:8786``) to connect to.
    workers : int, optional
        Worker processes of the embedded local cluster (default 2) when neither ``client`` nor ``scheduler``
        is given.
    serial : bool
        Run in this process without Dask.
    retries : int
        Extra attempts for a replicate that raises.
    checkpoint : path, optional
        JSON-lines file: records are appended as they arrive, and replicates already in it are skipped.
    progress : callable, optional
        ``progress(done, total)`` after each replicate.
    task : callable, optional
        The replicate function (default :func:`run_replicate`, :func:`run_subsample_replicate` for a
        :class:`SubsampleStudy`, :func:`~extent.calibrate.survey_study.run_survey_replicate` for a
        :class:`~extent.calibrate.survey_study.SurveyStudy`, :func:`~extent.calibrate.validation.run_validation_task` for a
        :class:`~extent.calibrate.validation.ValidationStudy`); must be importable on the workers. It is
        called as ``task(study, t)`` for ``t`` in ``range(study.n_tasks)`` (``range(study.reps)`` for a
        study without ``n_tasks``).

    Returns
    -------
    StudyResult
        With ``interrupted=True`` and the records that finished when Ctrl-C stopped the run.
    """
    if task is None:
        task = (run_validation_task if isinstance(study, ValidationStudy)
                else run_subsample_replicate if isinstance(study, SubsampleStudy)
                else run_survey_replicate if isinstance(study, SurveyStudy) else run_replicate)
    if retries < 0:
        raise ConfigError(f"retries must be >= 0, got {retries!r}")
    if serial and (client is not None or scheduler is not None):
        raise ConfigError("serial=True cannot be combined with client or scheduler")
    ck = Path(checkpoint) if checkpoint is not None else None
    done = _load_checkpoint(ck, study) if ck is not None else {}
    resumed = len(done)
    total = n_tasks(study)
    todo = [r for r in range(total) if r not in done]
    failed: dict[int, str] = {}

    def finish(rec: ReplicateRecord | None, rep: int, error: str | None):
        if rec is not None:
            done[rep] = rec
            _append(ck, study, rec)
        else:
            failed[rep] = error
        if progress is not None:
            progress(len(done) + len(failed), total)

    start = time.perf_counter()
    if serial:
        engine, interrupted = "serial", False
        try:
            for rep in todo:
                for attempt in range(retries + 1):
                    try:
                        rec = task(study, rep)
                    except Exception as err:  # noqa: BLE001 - reported, never dropped
                        if attempt == retries:
                            finish(None, rep, f"{type(err).__name__}: {err}")
                        continue
                    finish(rec, rep, None)
                    break
        except KeyboardInterrupt:
            interrupted = True
    else:
        engine, interrupted = _run_dask(study, todo, finish, client=client, scheduler=scheduler, workers=workers,
                                        retries=retries, task=task)
    seconds = time.perf_counter() - start
    records = tuple(done[r] for r in sorted(done))
    return StudyResult(study=study, records=records, failed=dict(sorted(failed.items())), engine=engine,
                       seconds=seconds, resumed=resumed, interrupted=interrupted)


def local_cluster(workers: int = 2):
    """An embedded Dask cluster on this machine: ``workers`` processes with one thread each."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                        silence_logs=logging.ERROR)


def _run_dask(study, todo, finish, *, client, scheduler, workers, retries, task) -> tuple[str, bool]:
    """Run ``todo`` on Dask; returns the scheduler address and whether the run was interrupted (Ctrl-C)."""
    from distributed import Client, as_completed

    owned, futures, engine = [], [], "dask (not started)"
    try:
        if client is None:
            if scheduler is not None:
                client = Client(scheduler)
            else:
                cluster = local_cluster(workers or 2)
                owned.append(cluster)
                client = Client(cluster)
            owned.insert(0, client)
        elif workers is not None or scheduler is not None:
            raise ConfigError("give client, or scheduler/workers, not both")
        engine = str(client.scheduler.address)
        keys = [f"extent-replicate-{study.id}-{rep}" for rep in todo]
        futures = client.map(task, [study] * len(todo), todo, key=keys, retries=retries, pure=False)
        rep_of = {f.key: rep for f, rep in zip(futures, todo)}
        for fut in as_completed(futures):
            rep = rep_of[fut.key]
            try:
                rec = fut.result()
            except (Exception, asyncio.CancelledError) as err:  # noqa: BLE001 - the task's error, KilledWorker, a cancelled future
                finish(None, rep, f"{type(err).__name__}: {err}")
            else:
                finish(rec, rep, None)
            fut.release()
        return engine, False
    except KeyboardInterrupt:
        if futures:
            with contextlib.suppress(Exception):
                client.cancel(futures)
        return engine, True
    finally:
        for obj in owned:
            obj.close()
