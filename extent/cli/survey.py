"""``extent survey``: national total from a survey with non-response, under each missingness mechanism."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from extent.cli.app import app, console, handle_errors
from extent.cli.output import write_csv
from extent.constants import CI_LEVEL
from extent.data import read_survey_data
from extent.estimators.survey import DEFAULT_SAMPLER, SurveyEstimator
from extent.exceptions import ConfigError
from extent.models.nonresponse import MECHANISMS


@app.command()
@handle_errors
def survey(
    units: Path = typer.Option(..., "--units", help="Units CSV: unit, population[, type, covariates...]."),
    survey_csv: Path = typer.Option(..., "--survey", help="Survey CSV: unit, responded, returned[, cap, covariates]."),
    mechanism: str = typer.Option("all", "--mechanism", help="mcar, mar, mnar, delta or all."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(DEFAULT_SAMPLER.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    out: Path | None = typer.Option(None, "--out", help="Write the tidy estimates CSV here."),
    years: float = typer.Option(1.0, "--years", help="Length in years of the period the survey asked about."),
    cap: int | None = typer.Option(None, "--cap", help="Cap for rows without a cap value (default: none)."),
    draws: int = typer.Option(DEFAULT_SAMPLER.draws, "--draws", help="Posterior draws per chain."),
    tune: int = typer.Option(DEFAULT_SAMPLER.tune, "--tune", help="Tuning steps per chain."),
    chains: int = typer.Option(DEFAULT_SAMPLER.chains, "--chains", help="Chains."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 instead of warning when a fit has not converged."),
) -> None:
    """Estimate a national total from a survey whose non-responders may differ from its responders."""
    mechanisms = list(MECHANISMS) if mechanism == "all" else [mechanism]
    if mechanism != "all" and mechanism not in MECHANISMS:
        raise ConfigError(f"--mechanism must be one of {', '.join(MECHANISMS)} or all; got {mechanism!r}")
    if not 0 < level < 1:
        raise ConfigError(f"--level must be in (0, 1), got {level!r}")
    data = read_survey_data(units, survey_csv, years=years, cap=cap)
    console.print(f"Data: {data!r}", highlight=False)
    sampler = DEFAULT_SAMPLER.with_(random_seed=seed, draws=draws, tune=tune, chains=chains)
    tables = []
    for m in mechanisms:
        with console.status(f"Sampling the {m} model..."):
            fit = SurveyEstimator(mechanism=m, sampler=sampler, strict=strict).fit(data)
        console.print(f"{m}: {fit.diagnostics}", highlight=False)
        tables.append(fit.national_extent(level))
    table = pd.concat(tables, ignore_index=True)
    console.print(_table(table, title=f"National total: {data.name}" + (" (SIMULATED)" if data.simulated else "")))
    if out is not None:
        write_csv(table, out)
        console.print(f"Wrote {out}")


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
