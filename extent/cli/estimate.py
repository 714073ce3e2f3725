"""``extent estimate``: national extent per category from a units CSV and a counts CSV."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import typer

from extent.cli.app import (
    app,
    cite_option,
    errors,
    flag,
    format_option,
    handle_errors,
    sampling_message,
    strict_option,
    target_accept_option,
    tune_option,
)
from extent.cli.output import (
    check_level,
    check_output_file,
    check_target_accept,
    disclosure_rule,
    estimates_table,
    output,
    print_citations,
)
from extent.constants import CI_LEVEL
from extent.disclosure import fit_file_refusal, protect_counts, protect_estimates, warn_design, withheld_figures
from extent.exceptions import DisclosureWarning
from extent.files import write_csv
from extent.inference import SamplerConfig


@app.command(epilog="Example: extent estimate --units units.csv --counts counts.csv --level 0.9 --seed 1 "
                     "--out estimates.csv")
@handle_errors
def estimate(
    units: Path = typer.Option(..., "--units", help="Units CSV: unit, population[, type, population_cv, ...]."),
    counts: Path = typer.Option(..., "--counts", help="Counts CSV: unit, category, cases[, records, years]."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(SamplerConfig.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    out: Path | None = typer.Option(None, "--out", help="Write the tidy estimates CSV here."),
    fit_out: Path | None = typer.Option(None, "--fit-out",
                                        help="Save the hierarchical fit here (netCDF for ArviZ; national totals "
                                             "in predictions/national_total; per-unit counts withheld unless "
                                             "--keep-raw-counts)."),
    keep_raw_counts: bool = flag(False, "--keep-raw-counts/--no-keep-raw-counts",
                                 "Store the raw per-unit counts in the --fit-out file (withheld by default)."),
    draws: int = typer.Option(SamplerConfig.draws, "--draws", help="Posterior draws per chain."),
    tune: int | None = tune_option(),
    chains: int = typer.Option(SamplerConfig.chains, "--chains", help="Chains."),
    target_accept: float | None = target_accept_option(),
    strict: bool = strict_option(),
    cite_unconverged: bool = cite_option(),
    covariates: str = typer.Option("", "--covariates", help="Comma-separated units columns to use as covariates."),
    exposure: str | None = typer.Option(None, "--exposure",
                                        help="Units column to use as exposure instead of population."),
    records_exposure: bool = flag(False, "--records-are-exposure/--no-records-are-exposure",
                                  "The counts' records measure the exposure over the period."),
    log_population: bool = flag(True, "--log-population/--no-log-population",
                                "Centred log population as a covariate."),
    unit_effect: str = typer.Option("normal", "--unit-effect", help="Unit effect: normal or student_t."),
    spread_by_size: bool = flag(True, "--spread-by-size/--no-spread-by-size",
                                "Between-unit SD depends on log population (larger units vary less)."),
    ignore_columns: bool = flag(False, "--ignore-columns/--no-ignore-columns",
                                "Drop unknown columns with a warning instead of refusing them."),
    disclosure_threshold: str | None = typer.Option(
        None, "--disclosure-threshold", metavar="N",
        help="Withhold national figures that give back an observed count below N (default 5)."),
    disclosure_control: bool = flag(
        True, "--disclosure-control/--no-disclosure-control", "Publish every figure (NOT for publication; warns loudly)."),
    format_: str = format_option(),
) -> None:
    """Estimate the national extent of each category: naive scaling and the hierarchical model."""
    from extent.data import read_extent_data

    show = output(format_)
    say = show.messages
    rule = disclosure_rule(disclosure_threshold, not disclosure_control)
    check_level(level)
    check_target_accept(target_accept)
    check_output_file(out, "--out", inputs=(units, counts))
    check_output_file(fit_out, "--fit-out", inputs=(units, counts, out))
    names = [c.strip() for c in covariates.split(",") if c.strip()]
    sampler = SamplerConfig(random_seed=seed, draws=draws, tune=tune, chains=chains, target_accept=target_accept,
                            progressbar=errors.is_terminal)
    data = read_extent_data(units, counts, covariates=names, exposure=exposure, records_exposure=records_exposure,
                            extra_columns="ignore" if ignore_columns else "error")
    # PyMC (and ArviZ with it) loads only now, after the inputs are checked: a bad file fails in a second
    from extent.estimators import HierarchicalExtent, NaiveScaling
    from extent.reporting.summary import citations
    from extent.results import unit_noun

    estimator = HierarchicalExtent(sampler=sampler, strict=strict, log_population=log_population,
                                   unit_effect=unit_effect, spread_by_size=spread_by_size)
    if rule is None:
        warnings.warn("disclosure control is OFF: figures that give back small observed counts are published",
                      DisclosureWarning, stacklevel=1)
    warn_design(data.counts, data.n_units, rule)
    naive = NaiveScaling().fit(data)
    say.print(sampling_message(sampler), highlight=False)
    bayes = estimator.fit(data)  # nutpie shows its own progress (draws, time left) on stderr
    table = pd.concat([naive.national_extent(level), bayes.national_extent(level)], ignore_index=True)
    withheld = withheld_figures((naive, bayes), protect_counts(data.counts, rule), level)
    table = protect_estimates(table, withheld, rule)
    show.table(table, estimates_table(table, title=f"National extent: {data.name}", unit=unit_noun(data)))
    say.print(f"Diagnostics: {bayes.diagnostics}")
    if out is not None:
        write_csv(table, out)
        say.print(f"Wrote {out}")
    if fit_out is not None:
        refusal = fit_file_refusal(str(fit_out), withheld.get(bayes.estimator, ()), keep_raw_counts)
        if refusal:
            warnings.warn(f"disclosure: {refusal}", DisclosureWarning, stacklevel=1)
        else:
            # with the counts kept, the file also carries the model checks (az.loo, az.plot_ppc on the file)
            bayes.to_netcdf(fit_out, keep_counts=keep_raw_counts, model_checks=keep_raw_counts)
            say.print(f"Wrote {fit_out}" + ("" if keep_raw_counts else " (per-unit counts withheld)"))
    print_citations(say, citations(bayes, level, force=cite_unconverged,
                                       hidden=withheld.get(bayes.estimator, ()), rule=rule),
                    bayes.withheld(), forced=cite_unconverged)
