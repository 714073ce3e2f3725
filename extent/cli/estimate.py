"""``extent estimate``: national extent per category from a units CSV and a counts CSV."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import typer

from extent.cli.app import app, console, handle_errors
from extent.cli.output import check_level, check_output_file, disclosure_rule, estimates_table, write_csv
from extent.constants import CI_LEVEL
from extent.data import read_extent_data
from extent.disclosure import protect_counts, protect_estimates, warn_design, withheld_figures
from extent.estimators import HierarchicalExtent, NaiveScaling
from extent.exceptions import DisclosureWarning
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
    covariates: str = typer.Option("", "--covariates", help="Comma-separated units columns to use as covariates."),
    exposure: str | None = typer.Option(None, "--exposure",
                                        help="Units column to use as exposure instead of population."),
    records_exposure: bool = typer.Option(False, "--records-are-exposure",
                                          help="The counts' records measure the exposure over the period."),
    log_population: bool = typer.Option(True, "--log-population/--no-log-population",
                                        help="Centred log population as a covariate."),
    unit_effect: str = typer.Option("normal", "--unit-effect", help="Unit effect: normal or student_t."),
    spread_by_size: bool = typer.Option(True, "--spread-by-size/--no-spread-by-size",
                                        help="Between-unit SD depends on log population (larger units vary less)."),
    ignore_columns: bool = typer.Option(False, "--ignore-columns",
                                        help="Drop unknown columns with a warning instead of refusing them."),
    disclosure_threshold: str | None = typer.Option(
        None, "--disclosure-threshold", metavar="N",
        help="Withhold national figures that give back an observed count below N (default 5)."),
    no_disclosure_control: bool = typer.Option(
        False, "--no-disclosure-control", help="Publish every figure (NOT for publication; warns loudly)."),
) -> None:
    """Estimate the national extent of each category: naive scaling and the hierarchical model."""
    rule = disclosure_rule(disclosure_threshold, no_disclosure_control)
    check_level(level)
    check_output_file(out, "--out", inputs=(units, counts))
    names = [c.strip() for c in covariates.split(",") if c.strip()]
    estimator = HierarchicalExtent(sampler=SamplerConfig(random_seed=seed, draws=draws, tune=tune, chains=chains,
                                                         progressbar=console.is_terminal),
                                   strict=strict, log_population=log_population, unit_effect=unit_effect,
                                   spread_by_size=spread_by_size)
    data = read_extent_data(units, counts, covariates=names, exposure=exposure, records_exposure=records_exposure,
                            extra_columns="ignore" if ignore_columns else "error")
    if rule is None:
        warnings.warn("disclosure control is OFF: figures that give back small observed counts are published",
                      DisclosureWarning, stacklevel=1)
    warn_design(data.counts, data.n_units, rule)
    naive = NaiveScaling().fit(data)
    with console.status("Sampling the hierarchical model..."):
        bayes = estimator.fit(data)
    table = pd.concat([naive.national_extent(level), bayes.national_extent(level)], ignore_index=True)
    table = protect_estimates(table, withheld_figures((naive, bayes), protect_counts(data.counts, rule), level), rule)
    console.print(estimates_table(table, title=f"National extent: {data.name}"))
    console.print(f"Diagnostics: {bayes.diagnostics}")
    if out is not None:
        write_csv(table, out)
        console.print(f"Wrote {out}")
