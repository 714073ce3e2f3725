"""``extent report``: the main job, on the built-in dataset of the report."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from extent.cli.app import app, console, handle_errors
from extent.cli.output import check_level, check_output_folder
from extent.constants import CI_LEVEL
from extent.datasets import load_report
from extent.estimators import HierarchicalExtent, NaiveScaling
from extent.inference import SamplerConfig
from extent.models.rates import SMALL_MODEL_DRAWS
from extent.reporting import write_report
from extent.reporting.claims import claims_sections, evaluate_claims
from extent.reporting.sections import report_sections, sensitivity_section


@app.command()
@handle_errors
def report(
    out: Path = typer.Option(Path("extent-report"), "--out", help="Folder to write the report into."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(SamplerConfig.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    draws: int = typer.Option(SamplerConfig.draws, "--draws", help="Posterior draws per chain."),
    tune: int = typer.Option(SamplerConfig.tune, "--tune", help="Tuning steps per chain."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 instead of warning when the fit has not converged."),
) -> None:
    """Fit the report's five record-search categories and write a report folder (Markdown, HTML, plot, CSV)."""
    start = time.perf_counter()
    check_level(level)
    check_output_folder(out, "--out")
    sampler = SamplerConfig(random_seed=seed, draws=draws, tune=tune, progressbar=console.is_terminal)
    dataset = load_report()
    data = dataset.data
    console.print(f"Data: {data!r}")
    naive = NaiveScaling().fit(data)
    console.print(
        f"Sampling the hierarchical model: {sampler.chains} chains x ({sampler.tune} tune + {sampler.draws} draws)..."
    )
    estimator = HierarchicalExtent(sampler=sampler, strict=strict)
    with console.status("sampling...") if not console.is_terminal else _null():
        bayes = estimator.fit(data)
    console.print(f"Diagnostics: {bayes.diagnostics}")
    console.print("Refitting under a wider spread prior (prior sensitivity)...")
    sensitivity = sensitivity_section(estimator.prior_sensitivity(data, bayes, level=level))
    console.print("Restating the report's claims (shares, comparisons, trends, force-level statements)...")
    claims = evaluate_claims(dataset, bayes, level=level, seed=seed,
                             sampler=SamplerConfig(random_seed=seed, draws=max(draws, SMALL_MODEL_DRAWS),
                                                   tune=max(tune, SMALL_MODEL_DRAWS)))
    console.print("Writing the report...")
    files = write_report(out, bayes, naive, level=level, title="international and Internet child sexual abuse, "
                         "UK 1999-2002", published=dataset.published,
                         sections=[sensitivity, *claims_sections(claims), *report_sections(dataset, seed=seed)],
                         claims=claims)
    for sentence in (bayes.citation(c, level) for c in bayes.categories):
        console.print(f"  {sentence}", highlight=False)
    console.print(f"Report: {files['markdown']} and {files['report']} ({time.perf_counter() - start:.1f} s)")


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
