"""``extent report``: the main job, on the built-in dataset of the report."""

from __future__ import annotations

import time
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
    check_output_folder,
    check_target_accept,
    disclosure_rule,
    estimates_table,
    output,
    print_citations,
)
from extent.constants import CI_LEVEL, SMALL_MODEL_DRAWS
from extent.disclosure import protect_counts, withheld_figures
from extent.exceptions import ConfigError
from extent.inference import SamplerConfig


@app.command(epilog="Example: extent report --out my-report --seed 1 --draws 2000; on your own data: extent report "
                     "--units units.csv --counts counts.csv --out my-report")
@handle_errors
def report(
    out: Path = typer.Option(Path("extent-report"), "--out", help="Folder to write the report into."),
    units: Path | None = typer.Option(None, "--units", help="Your units CSV (with --counts): a report on your data "
                                                            "instead of the built-in UK study."),
    counts: Path | None = typer.Option(None, "--counts", help="Your counts CSV (with --units)."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(SamplerConfig.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    draws: int = typer.Option(SamplerConfig.draws, "--draws", help="Posterior draws per chain."),
    tune: int | None = tune_option(),
    target_accept: float | None = target_accept_option(),
    strict: bool = strict_option(),
    cite_unconverged: bool = cite_option(),
    disclosure_threshold: str | None = typer.Option(
        None, "--disclosure-threshold", metavar="N",
        help="Suppress observed per-unit counts below N (default 5) with secondary suppression."),
    disclosure_control: bool = flag(
        True, "--disclosure-control/--no-disclosure-control", "Show small counts (NOT for publication; warns loudly)."),
    keep_raw_counts: bool = flag(False, "--keep-raw-counts/--no-keep-raw-counts",
                                 "Store the raw per-unit counts in fit.nc (withheld by default)."),
    model_checks: bool = flag(False, "--model-checks/--no-model-checks",
                              "Refit the model variants that matter and add their LOO comparison (3-4 more fits)."),
    format_: str = format_option(),
) -> None:
    """Fit the record searches and write a report folder (Markdown, HTML, plot, CSV, fit).

    Without --units/--counts: the built-in UK study (its five categories, published figures and claims). The
    table on stdout is the report's estimates.csv."""
    start = time.perf_counter()
    from extent.data import read_extent_data
    from extent.datasets import load_report
    from extent.estimators import HierarchicalExtent, NaiveScaling
    from extent.reporting import citations, write_report
    from extent.reporting.claims import claims_sections, evaluate_claims, protect_claims
    from extent.reporting.render import INTRO
    from extent.reporting.sections import model_checks_section, report_sections, sensitivity_section
    from extent.results import unit_noun

    show = output(format_)
    say = show.messages
    rule = disclosure_rule(disclosure_threshold, not disclosure_control)
    check_level(level)
    check_target_accept(target_accept)
    check_output_folder(out, "--out")
    sampler = SamplerConfig(random_seed=seed, draws=draws, tune=tune, target_accept=target_accept,
                            progressbar=errors.is_terminal)
    if (units is None) != (counts is None):
        raise ConfigError("give both --units and --counts (a report on your data), or neither (the built-in study)")
    dataset = None if units is not None else load_report()
    data = read_extent_data(units, counts) if dataset is None else dataset.data
    say.print(f"Data: {data!r}")
    naive = NaiveScaling().fit(data)
    say.print(sampling_message(sampler), highlight=False)
    estimator = HierarchicalExtent(sampler=sampler, strict=strict)
    bayes = estimator.fit(data)  # nutpie shows its own progress (draws, time left) on stderr
    say.print(f"Diagnostics: {bayes.diagnostics}")
    withheld = withheld_figures((naive, bayes), protect_counts(data.counts, rule), level).get(bayes.estimator, ())
    say.print("Refitting under a wider spread prior (prior sensitivity)...")
    extra = [sensitivity_section(estimator.prior_sensitivity(data, bayes, level=level), withheld)]
    if model_checks:
        from extent.checking import compare_variants

        say.print("Refitting the model variants (model checks: PSIS-LOO)...")
        extra.append(model_checks_section(compare_variants(bayes, level=level), withheld))
    if dataset is None:
        say.print("Writing the report...")
        files = write_report(out, bayes, naive, level=level, title=data.name, sections=extra,
                             cite_unconverged=cite_unconverged, disclosure=rule, keep_counts=keep_raw_counts)
    else:
        say.print("Restating the report's claims (shares, comparisons, trends, force-level statements)...")
        trends: dict = {}
        claims = evaluate_claims(dataset, bayes, level=level, seed=seed,
                                 sampler=SamplerConfig(random_seed=seed, draws=max(draws, SMALL_MODEL_DRAWS),
                                                       tune=max(tune or 0, SMALL_MODEL_DRAWS)), trends=trends)
        claims, hidden_claims = protect_claims(claims, data.counts, rule,
                                               protected_totals=[int(dataset.conviction_status["all"].sum())])
        if hidden_claims:
            say.print(f"Disclosure control: {len(hidden_claims)} claims withheld (they quote a suppressed "
                      f"count): {', '.join(hidden_claims)}", highlight=False)
        say.print("Writing the report...")
        files = write_report(out, bayes, naive, level=level, title="international and Internet child sexual "
                             "abuse, UK 1999-2002", published=dataset.published,
                             sections=[*extra, *claims_sections(claims, trends),
                                       *report_sections(dataset, seed=seed, disclosure=rule)],
                             cite_unconverged=cite_unconverged, disclosure=rule, keep_counts=keep_raw_counts,
                             claims=claims, intro=INTRO, unit_word="forces")
    estimates = pd.read_csv(files["estimates"])
    show.table(estimates, estimates_table(estimates, title=f"National extent: {data.name}", unit=unit_noun(data)))
    print_citations(say, citations(bayes, level, force=cite_unconverged, hidden=withheld, rule=rule),
                    bayes.withheld(), forced=cite_unconverged)
    say.print(f"Report: {files['markdown']} and {files['report']} ({time.perf_counter() - start:.1f} s)")
