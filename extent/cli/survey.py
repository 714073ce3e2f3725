"""``extent survey``: national total from a survey with non-response, under each missingness mechanism."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from extent.cli.app import app, cite_option, format_option, handle_errors, strict_option, target_accept_option, tune_option
from extent.cli.output import (
    check_level,
    check_output_file,
    check_target_accept,
    output,
    print_citations,
    progress,
)
from extent.constants import CI_LEVEL
from extent.exceptions import ConfigError
from extent.files import write_csv
from extent.inference import SamplerConfig
from extent.models.survey.mechanisms import MECHANISMS, SENSITIVITY_PARAMETER


@app.command(epilog="Example: extent survey --units units.csv --survey survey.csv --mechanism all "
                     "--out survey-estimates.csv")
@handle_errors
def survey(
    units: Path = typer.Option(..., "--units", help="Units CSV: unit, population[, type, covariates...]."),
    survey_csv: Path = typer.Option(..., "--survey", help="Survey CSV: unit, responded, returned[, cap, covariates]."),
    mechanism: str = typer.Option("all", "--mechanism", help="mcar, mar, mnar, delta or all."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(SamplerConfig.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    out: Path | None = typer.Option(None, "--out", help="Write the tidy estimates CSV here."),
    years: float = typer.Option(1.0, "--years", help="Length in years of the period the survey asked about."),
    cap: int | None = typer.Option(None, "--cap", help="Cap for rows without a cap value (default: none)."),
    draws: int | None = typer.Option(None, "--draws", metavar="INT",
                                     help="Posterior draws per chain [default: the survey sampler's, 2,000]."),
    tune: int | None = tune_option(),
    chains: int = typer.Option(SamplerConfig.chains, "--chains", help="Chains."),
    target_accept: float | None = target_accept_option(),
    strict: bool = strict_option(),
    cite_unconverged: bool = cite_option(),
    threshold: float | None = typer.Option(
        None, "--threshold",
        help="Test the conclusion 'fewer than N cases per annum': for mnar and delta, refit along the sensitivity "
             "grid and print where the upper interval bound crosses N (the tipping point)."),
    sensitivity_out: Path | None = typer.Option(
        None, "--sensitivity-out", help="With --threshold: write the sensitivity grid and tipping points here."),
    format_: str = format_option(),
) -> None:
    """Estimate a national total from a survey whose non-responders may differ from its responders."""
    from extent.data import read_survey_data
    from extent.estimators.survey import DEFAULT_SAMPLER, SurveyEstimator
    from extent.reporting.summary import withheld_line

    show = output(format_)
    say = show.messages
    mechanisms = list(MECHANISMS) if mechanism == "all" else [mechanism]
    if mechanism != "all" and mechanism not in MECHANISMS:
        raise ConfigError(f"--mechanism must be one of {', '.join(MECHANISMS)} or all; got {mechanism!r}")
    check_level(level)
    check_target_accept(target_accept)
    for path, option in ((out, "--out"), (sensitivity_out, "--sensitivity-out")):
        check_output_file(path, option, inputs=(units, survey_csv))
    sensitive = [m for m in mechanisms if m in SENSITIVITY_PARAMETER]
    _check_threshold(threshold, sensitive, sensitivity_out)
    sampler = DEFAULT_SAMPLER.with_(random_seed=seed, draws=draws, tune=tune, chains=chains,
                                    target_accept=target_accept)
    data = read_survey_data(units, survey_csv, years=years, cap=cap)
    say.print(f"Data: {data!r}", highlight=False)
    tables, fits = [], {}
    with progress() as bar:
        task = bar.add_task("survey models", total=len(mechanisms))
        for m in mechanisms:
            bar.update(task, description=f"survey models ({m})")
            fit = SurveyEstimator(mechanism=m, sampler=sampler, strict=strict).fit(data)
            bar.advance(task)
            say.print(f"{m}: {fit.diagnostics}", highlight=False)
            tables.append(fit.national_extent(level))
            fits[m] = fit
    table = pd.concat(tables, ignore_index=True)
    show.table(table, _table(table, title=f"National total: {data.name}" + (" (SIMULATED)" if data.simulated else "")))
    if out is not None:
        write_csv(table, out)
        say.print(f"Wrote {out}")
    withheld = {m: reasons for m, fit in fits.items() for reasons in fit.withheld().values()}
    print_citations(say, {m: withheld_line(m, withheld[m]) if m in withheld and not cite_unconverged
                              else fit.citation("per_annum", level, force=cite_unconverged)
                              for m, fit in fits.items()}, withheld, forced=cite_unconverged)
    if threshold is not None:
        grid = pd.concat([_tipping(say, m, data, sampler, strict, level, threshold, cite_unconverged)
                          for m in sensitive], ignore_index=True)
        if sensitivity_out is not None:
            write_csv(grid, sensitivity_out)
            say.print(f"Wrote {sensitivity_out}")


def _check_threshold(threshold: float | None, sensitive: list[str], sensitivity_out: Path | None) -> None:
    if threshold is None:
        if sensitivity_out is not None:
            raise ConfigError("--sensitivity-out needs --threshold N (the conclusion 'fewer than N per annum')")
        return
    if not threshold > 0:
        raise ConfigError(f"--threshold must be > 0 (cases per annum), got {threshold!r}")
    if not sensitive:
        raise ConfigError("--threshold needs --mechanism mnar, delta or all: the tipping point is along the MNAR "
                          "sensitivity parameter (selection or delta)")


def _tipping(say, mechanism: str, data, sampler, strict: bool, level: float, threshold: float,
             cite_unconverged: bool) -> pd.DataFrame:
    """Sensitivity grid of one MNAR mechanism with the tipping point of 'fewer than threshold per annum'."""
    from extent.estimators.survey import SurveyEstimator

    with progress() as bar:
        task = bar.add_task(f"{mechanism} sensitivity grid", total=None)
        sens = SurveyEstimator(mechanism=mechanism, sampler=sampler, strict=strict).sensitivity(
            data, level=level, reference=(),
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    tp = sens.tipping_point(threshold, estimand="per_annum")
    if tp.reliable or cite_unconverged:
        say.print(f"Tipping point ({mechanism}): {tp.text}", highlight=False)
    else:
        say.print(f"Tipping point ({mechanism}): WITHHELD: {len(tp.unconverged)} of "
                      f"{sens.table['value'].nunique()} sensitivity fits have not converged. Rerun with more "
                      "--tune/--draws or a higher --target-accept; --cite-unconverged prints it with a warning.",
                      highlight=False)
    grid = sens.table[sens.table["estimand"] == "per_annum"].copy()
    grid.insert(0, "mechanism", mechanism)
    return grid.assign(threshold=threshold, holds=grid["upper"] < threshold, tipping_point=tp.value,
                       conclusion=tp.text, reliable=tp.reliable).reset_index(drop=True)


def _table(table: pd.DataFrame, *, title: str) -> Table:
    out = Table(title=title)
    for col in ("mechanism", "estimand", "estimate", "interval"):
        out.add_column(col, justify="left" if col in ("mechanism", "estimand") else "right")
    for r in table.itertuples(index=False):
        digits = 1 if r.estimand == "per_unit_per_annum" else 0
        out.add_row(r.mechanism, r.estimand, f"{r.estimate:,.{digits}f}",
                    f"{r.lower:,.{digits}f} - {r.upper:,.{digits}f}")
    level = float(table["level"].iloc[0])
    out.caption = f"Posterior median ({level:.0%} central credible interval) under each non-response mechanism."
    return out
