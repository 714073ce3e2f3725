"""``extent validate``: coverage and accuracy of the national total on the real corpus, serially or on Dask."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from extent.calibrate.search import KS, SEARCH_DESIGNS
from extent.cli.app import app, flag, format_option, handle_errors, target_accept_option, tune_option
from extent.cli.output import check_target_accept, missing_line, output, progress
from extent.exceptions import ConfigError, IncompleteStudyError
from extent.inference import SamplerConfig

DEFAULT_SAMPLER = SamplerConfig()


def _names(value: str, option: str, known: tuple[str, ...] | None) -> tuple[str, ...]:
    if known is not None and value.strip() == "all":
        return known
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    if not names:
        raise ConfigError(f"{option} needs at least one name")
    unknown = [n for n in names if known is not None and n not in known]
    if unknown:
        raise ConfigError(f"{option}: unknown {', '.join(map(repr, unknown))}; available: {', '.join(known)}")
    return names


def _ks(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"--k must be comma-separated integers, got {value!r}") from None


def _options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option must be KEY=VALUE, got {pair!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        options[key.strip()] = value
    return options


def summary_rich_table(summary, levels, *, title: str) -> Table:
    """Hierarchical coverage (90% with its Wilson interval), point error against naive, width, failed fits."""
    out = Table(title=title)
    for col in ("dataset", "design", "k", "n"):
        out.add_column(col, no_wrap=True)
    for lv in levels:
        out.add_column(f"{lv:.0%}", justify="right", no_wrap=True)
    for col in ("|log err| (naive)", "90% width", "failed", "fits/min"):
        out.add_column(col, justify="right", no_wrap=True)
    for _, r in summary.iterrows():
        cells = [f"{r[f'coverage_{lv:g}']:.0%}" + (f" ({r['coverage_lower_0.9']:.0%}-{r['coverage_upper_0.9']:.0%})"
                                                    if lv == 0.9 else "") for lv in levels]
        has_fits = r.get("fits") == r.get("fits")  # NaN for the equal-weight rows
        out.add_row(str(r["dataset"]), str(r["design"]), str(int(r["k"])), str(int(r["n"])), *cells,
                    f"{r['median_abs_log_error']:.3f} ({r['naive_median_abs_log_error']:.3f})",
                    f"{r['median_relative_width_0.9']:.2f}",
                    f"{int(r['failed_diagnostics'])}/{int(r['fits'])}" if has_fits else "-",
                    f"{r['fits_per_minute']:.1f}" if has_fits else "-")
    out.caption = ("Coverage of central intervals of the national total (90%: 95% Wilson interval); |log err|: "
                   "median absolute log error of the posterior median (naive scaling's); width: median 90% width "
                   "/ truth; failed: fits whose diagnostics failed (kept in coverage); fits/min: per worker.")
    return out


@app.command(epilog="Example: extent validate --datasets ew_recorded_crime --k 2,3 --reps 5 --workers 2 "
                     "--out validation")
@handle_errors
def validate(
    datasets: str = typer.Option("all", "--datasets",
                                 help="Corpus datasets: 'all' (the real corpus) or comma-separated names, "
                                      "sim_offenders for the independent simulator."),
    designs: str = typer.Option(",".join(SEARCH_DESIGNS), "--designs", help="Comma-separated search designs."),
    k: str = typer.Option(",".join(map(str, KS)), "--k", help="Comma-separated numbers of searched units."),
    reps: int = typer.Option(20, "--reps", help="Replicates per dataset, design and k."),
    workers: int = typer.Option(2, "--workers", help="Worker processes of the embedded local Dask cluster."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
    serial: bool = flag(False, "--serial/--no-serial", "Run in this process, without Dask."),
    seed: int = typer.Option(2026, "--seed", help="Root seed (same seed, same study)."),
    draws: int = typer.Option(DEFAULT_SAMPLER.draws, "--draws", help="Posterior draws per chain."),
    tune: int | None = tune_option(),
    chains: int = typer.Option(DEFAULT_SAMPLER.chains, "--chains", help="Chains per fit."),
    target_accept: float | None = target_accept_option(),
    lodo: bool = flag(True, "--lodo/--no-lodo",
                      "Priors from the corpus without the validated dataset (or the defaults)."),
    option: list[str] | None = typer.Option(None, "--option",
                                            help="HierarchicalExtent option KEY=VALUE (JSON value), repeatable."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint",
                                           help="JSON-lines checkpoint (default OUT/records.jsonl with --out)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the tables, plot, study.json, validation.md."),
    format_: str = format_option(),
) -> None:
    """Real-data validation: search k units of complete corpus tables, predict the national total, score."""
    from extent.calibrate.validation import ValidationStudy, run_validation
    from extent.datasets.corpus import DATASETS
    from extent.simulate.independent import SIMULATED_DATASETS

    show = output(format_)
    say = show.messages

    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    if serial and scheduler:
        raise ConfigError("--serial cannot be combined with --scheduler")
    check_target_accept(target_accept)
    sampler = SamplerConfig(draws=draws, tune=tune, chains=chains, target_accept=target_accept)
    names = DATASETS if datasets.strip() == "all" else _names(datasets, "--datasets", DATASETS + SIMULATED_DATASETS)
    study = ValidationStudy(datasets=names,
                            designs=_names(designs, "--designs", tuple(SEARCH_DESIGNS)), ks=_ks(k), reps=reps,
                            seed=seed, sampler=sampler, leave_one_dataset_out=lodo,
                            estimator_options=_options(option or []))
    if checkpoint is None and out is not None:
        checkpoint = out / "records.jsonl"
    for folder in (out, None if checkpoint is None else checkpoint.parent):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    engine = "serial" if serial else (scheduler or f"local Dask cluster, {workers} workers")
    say.print(f"Validation {study.id}: {len(study.datasets)} dataset(s) x {len(study.designs)} design(s) x "
              f"{len(study.ks)} k x {reps} replicates = {study.n_tasks} fits on {engine}")
    with progress() as bar:
        task = bar.add_task("validate", total=study.n_tasks)
        result = run_validation(study, serial=serial, scheduler=scheduler,
                                workers=None if (serial or scheduler) else workers, checkpoint=checkpoint,
                                progress=lambda done, total: bar.update(task, completed=done))
    if out is not None:  # the tables first: nothing printed below can lose them
        result.save(out)
    if result.records and not result.interrupted:
        summary = result.summary()
        show.table(summary, summary_rich_table(summary, study.levels, title="Validation on the real corpus"))
    say.print(f"{len(result.records)} fits in {result.run.seconds:.0f} s ({result.fits_per_minute:.1f} per "
              f"minute, all workers){f'; {result.run.resumed} from the checkpoint' if result.run.resumed else ''}")
    lost = result.missing()
    if len(lost):
        say.print(missing_line(lost, study.n_tasks, _task), style="bold red", markup=False, highlight=False,
                  soft_wrap=True)
    if out is not None:
        say.print(f"Wrote tables{', validation-coverage.png' if result.records else ''} and validation.md to "
                  f"{out}" + (" (missing.csv lists the missing fits)" if len(lost) else ""))
    if result.interrupted:
        raise KeyboardInterrupt
    if len(lost):
        raise IncompleteStudyError(f"validation incomplete: {len(lost)} of {study.n_tasks} fits missing"
                                   + (f"; listed in {out / 'missing.csv'}" if out is not None else ""))


def _task(row) -> str:
    return f"task {row.task} ({row.dataset}, {row.design}, k={row.k}, rep {row.rep})"
