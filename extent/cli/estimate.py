"""``extent estimate``: national extent per category from a units CSV and a counts CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from extent.cli.app import app, console, handle_errors
from extent.cli.output import estimates_table, write_csv
from extent.constants import CI_LEVEL
from extent.data import read_extent_data
from extent.estimators import HierarchicalExtent, NaiveScaling
from extent.inference import SamplerConfig


@app.command()
@handle_errors
def estimate(
    units: Path = typer.Option(..., "--units", help="Units CSV: unit, population[, type, population_cv, ...]."),
    counts: Path = typer.Option(..., "--counts", help="Counts CSV: unit, category, cases[, records, years]."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(SamplerConfig.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    out: Path | None = typer.Option(None, "--out", help="Write the tidy estimates CSV here."),
    draws: int = typer.Option(SamplerConfig.draws, "--draws", help="Posterior draws per chain."),
    tune: int = typer.Option(SamplerConfig.tune, "--tune", help="Tuning steps per chain."),
    chains: int = typer.Option(SamplerConfig.chains, "--chains", help="Chains."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 instead of warning when the fit has not converged."),
) -> None:
    """Estimate the national extent of each category: naive scaling and the hierarchical model."""
    data = read_extent_data(units, counts)
    sampler = SamplerConfig(random_seed=seed, draws=draws, tune=tune, chains=chains, progressbar=console.is_terminal)
    naive = NaiveScaling().fit(data)
    with console.status("Sampling the hierarchical model..."):
        bayes = HierarchicalExtent(sampler=sampler, strict=strict).fit(data)
    table = pd.concat([naive.national_extent(level), bayes.national_extent(level)], ignore_index=True)
    console.print(estimates_table(table, title=f"National extent: {data.name}"))
    console.print(f"Diagnostics: {bayes.diagnostics}")
    if out is not None:
        write_csv(table, out)
        console.print(f"Wrote {out}")
