"""``extent calibrate``: coverage of the national intervals on simulated countries, serially or on Dask."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from extent.calibrate import ESTIMATORS, STUDY_SAMPLER, Study, run_study
from extent.cli.app import app, flag, format_option, handle_errors
from extent.cli.output import missing_line, output, progress
from extent.exceptions import ConfigError, IncompleteStudyError
from extent.simulate import DESIGNS, Scenario


def coverage_rich_table(coverage, *, title: str) -> Table:
    """Coverage per estimator and category with its 95% Wilson interval, one column per level."""
    out = Table(title=title)
    if coverage.empty:
        out.add_column("coverage")
        out.add_row("no interval estimator in this study (naive scaling gives points only)")
        return out
    levels = sorted(coverage["level"].unique())
    for col in ("estimator", "category", "n"):
        out.add_column(col, no_wrap=True)
    for lv in levels:
        out.add_column(f"{lv:.0%}", justify="right", no_wrap=True)
    out.add_column("width", justify="right")
    for (est, cat), g in coverage.groupby(["estimator", "category"], sort=False):
        g = g.set_index("level")
        cells = [f"{100 * g.at[lv, 'coverage']:.0f}% ({100 * g.at[lv, 'coverage_lower']:.0f}-"
                 f"{100 * g.at[lv, 'coverage_upper']:.0f})" for lv in levels]
        width = f"{g.at[0.9, 'relative_width']:.2f}" if 0.9 in g.index else "-"
        out.add_row(est, cat, str(int(g["n"].iloc[0])), *cells, width)
    out.caption = ("Coverage of central intervals of the national total (95% Wilson interval); width: mean 90% "
                   "interval width / truth.")
    return out


@app.command(epilog="Example: extent calibrate --design report2 --reps 20 --workers 2 --out calibration")
@handle_errors
def calibrate(
    design: list[str] | None = typer.Option(None, "--design", help=f"Search design(s): {', '.join(DESIGNS)} (default report2)."),
    reps: int = typer.Option(20, "--reps", help="Replicates (simulate-and-fit tasks) per design."),
    workers: int = typer.Option(2, "--workers", help="Worker processes of the embedded local Dask cluster."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
    serial: bool = flag(False, "--serial/--no-serial", "Run in this process, without Dask."),
    truth: str = typer.Option("fixed", "--truth", help="'fixed' scenario or 'prior' draws (SBC)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the CSV tables, plots and a checkpoint."),
    seed: int = typer.Option(2026, "--seed", help="Root seed (same seed, same study)."),
    draws: int = typer.Option(STUDY_SAMPLER.draws, "--draws", help="Posterior draws per chain."),
    tune: int = typer.Option(STUDY_SAMPLER.tune, "--tune", help="Tuning steps per chain."),
    chains: int = typer.Option(STUDY_SAMPLER.chains, "--chains", help="Chains per fit."),
    shared_sd: float = typer.Option(Scenario.shared_sd, "--shared-sd", "--force-sd",
                                    help="True SD of the unit effect shared by all categories (fixed truth)."),
    estimators: str = typer.Option(",".join(ESTIMATORS), "--estimators", help="Comma-separated estimators."),
    format_: str = format_option(),
) -> None:
    """Calibration study: repeat simulate -> fit -> compare and report coverage of the national intervals.

    The table on stdout: coverage per design, estimator, category and level (with --format csv/json, of every
    design at the end)."""
    show = output(format_)
    say = show.messages
    if truth not in ("fixed", "prior"):
        raise ConfigError(f"--truth must be 'fixed' or 'prior', got {truth!r}")
    scenario = Scenario(shared_sd=shared_sd) if truth == "fixed" else Scenario.prior()
    sampler = STUDY_SAMPLER.with_(draws=draws, tune=tune, chains=chains)
    design = design or ["report2"]
    chosen = tuple(e.strip() for e in estimators.split(",") if e.strip())
    studies = [Study(design=d, scenario=scenario, reps=reps, seed=seed, sampler=sampler, estimators=chosen)
               for d in design]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    engine = "serial" if serial else (scheduler or f"local Dask cluster, {workers} workers")
    say.print(f"Calibration: {len(studies)} design(s) x {reps} replicates on {engine}")
    missing, total, coverages = 0, 0, []
    for study in studies:
        where = None if out is None else out / study.design.name
        with progress() as bar:
            task = bar.add_task(study.design.name, total=study.reps)
            if where is not None:
                where.mkdir(parents=True, exist_ok=True)
            result = run_study(
                study, serial=serial, scheduler=scheduler, workers=None if (serial or scheduler) else workers,
                checkpoint=None if where is None else where / "records.jsonl",
                progress=lambda done, total, t=task: bar.update(t, completed=done),
            )
        if where is not None:  # the tables first: nothing printed below can lose them
            result.save(where)
        lost = result.missing()
        missing, total = missing + len(lost), total + study.reps
        if result.interrupted:
            say.print(f"{study.design.name}: {missing_line(lost, study.reps, _rep)}"
                      + (f"; the tables of the completed fits are in {where}" if where is not None else ""),
                      style="bold red", markup=False, highlight=False, soft_wrap=True)
            raise KeyboardInterrupt
        if not result.records:
            say.print(f"{study.design.name}: {missing_line(lost, study.reps, _rep)}", style="bold red",
                      markup=False, highlight=False, soft_wrap=True)
            continue
        cov = result.coverage()
        coverages.append(cov)
        say.print(coverage_rich_table(cov, title=f"Coverage: {study.design.name} ({study.design.description})"))
        acc = result.accuracy()
        pooled = acc[acc["category"] == "all"]
        for _, r in pooled.iterrows():
            say.print(f"  {r['estimator']}: relative bias {r['relative_bias']:+.1%} (se {r['relative_bias_se']:.1%}), "
                      f"median |log error| {r['median_abs_log_error']:.3f}")
        say.print(f"  {len(result.records)} replicates in {result.seconds:.0f} s "
                  f"({result.fits_per_minute:.1f} per minute)")
        if len(lost):
            say.print(f"{study.design.name}: {missing_line(lost, study.reps, _rep)}", style="bold red",
                      markup=False, highlight=False, soft_wrap=True)
        if where is not None:
            if not cov.empty:
                from extent.calibrate.plots import save_plots

                save_plots(result, where)
            say.print(f"Wrote tables{' and plots' if not cov.empty else ''} to {where}")
    show.table(pd.concat(coverages, ignore_index=True) if coverages else pd.DataFrame(), None)
    if missing:
        where = "" if out is None else f"; listed in {out}/<design>/missing.csv"
        raise IncompleteStudyError(f"calibration incomplete: {missing} of {total} fits missing{where}")


def _rep(row) -> str:
    return f"rep {row.rep}"
