"""``extent proportion``, ``extent compare`` and ``extent trend``: the claims' models on the user's own tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import typer
from rich.table import Table

from extent.cli.app import app, errors, flag, format_option, handle_errors
from extent.cli.output import Output, check_level, check_output_file, output
from extent.constants import CI_LEVEL, SMALL_MODEL_DRAWS
from extent.exceptions import ConfigError
from extent.files import write_csv
from extent.inference import SamplerConfig

if TYPE_CHECKING:
    from extent.measure_result import MeasureResult


def _rich(result: MeasureResult, level: float, title: str) -> Table:
    from extent.measure_result import format_measure

    table = Table(title=title)
    for col in ("quantity", "observed", "estimate", f"{level:.0%} interval"):
        table.add_column(col, justify="left" if col == "quantity" else "right")
    for r in result.table(level).itertuples(index=False):
        table.add_row(r.quantity, format_measure(r.observed, r.scale), format_measure(r.estimate, r.scale),
                      f"{format_measure(r.lower, r.scale)} to {format_measure(r.upper, r.scale)}")
    return table


def _finish(show: Output, result: MeasureResult, level: float, out: Path | None, title: str,
            scenario: MeasureResult | None = None) -> None:
    """Print (and with ``out`` write) ``result``'s table; a ``scenario``'s rows follow it, labelled as one."""
    from extent.measure_result import for_csv

    table = result.table(level)
    if scenario is not None:
        table = pd.concat([table, scenario.table(level)], ignore_index=True)
    show.table(table, _rich(result, level, title), as_csv=for_csv)
    if scenario is not None:
        if show.format == "table":
            show.messages.print(_rich(scenario, level, "SCENARIO, not an estimate: all cases if the stated detection "
                                                       "rate held"))
        show.messages.print(f"Assumption: {scenario.settings['scenario']}. Every scenario figure follows from it; "
                            "do not cite it as an estimate.")
    if result.diagnostics is not None:
        show.messages.print(f"Diagnostics: {result.diagnostics}")
    if out is not None:
        write_csv(for_csv(table), out)
        show.messages.print(f"Wrote {out}")


def _sampler(seed: int, draws: int, tune: int) -> SamplerConfig:
    return SamplerConfig(random_seed=seed, draws=draws, tune=tune, progressbar=errors.is_terminal)


@app.command(epilog="Example: extent proportion --table shares.csv --combined all --out shares-estimates.csv")
@handle_errors
def proportion(
    table: Path = typer.Option(..., "--table", help="CSV: unit, successes, trials[, population]."),
    pooled: bool = flag(False, "--pooled/--no-pooled", "Partially pool the rows' shares (MCMC)."),
    combined: str | None = typer.Option(None, "--combined", help="Add a row of all rows together, so labelled."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(SamplerConfig.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    draws: int = typer.Option(SMALL_MODEL_DRAWS, "--draws", help="Posterior draws per chain (--pooled)."),
    tune: int = typer.Option(SMALL_MODEL_DRAWS, "--tune", help="Tuning steps per chain (--pooled)."),
    out: Path | None = typer.Option(None, "--out", help="Write the tidy CSV here."),
    format_: str = format_option(),
) -> None:
    """Shares with known denominators, with intervals (finite-population corrected with a population column)."""
    from extent.data.io import read_csv
    from extent.estimators import BinomialProportion, PooledProportion

    show = output(format_)
    check_level(level)
    check_output_file(out, "--out", inputs=(table,))
    if pooled and combined:
        raise ConfigError("--combined is for the unpooled shares; --pooled reports the typical share instead")
    frame = read_csv(table)
    result = (PooledProportion(sampler=_sampler(seed, draws, tune)).fit(frame, source=str(table)) if pooled
              else BinomialProportion(seed=seed, combined=combined).fit(frame, source=str(table)))
    _finish(show, result, level, out, f"Shares: {table.name}")


@app.command(epilog="Example: extent compare --table rates.csv --out comparison.csv")
@handle_errors
def compare(
    table: Path = typer.Option(..., "--table", help="CSV of two rows: unit, events, and trials or exposure."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(SamplerConfig.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    out: Path | None = typer.Option(None, "--out", help="Write the tidy CSV here."),
    format_: str = format_option(),
) -> None:
    """Compare two rates: ratio and difference with intervals, and the probability that the first is higher."""
    from extent.data.io import read_csv
    from extent.estimators import RateComparison

    show = output(format_)
    check_level(level)
    check_output_file(out, "--out", inputs=(table,))
    result = RateComparison(seed=seed).fit(read_csv(table), source=str(table))
    _finish(show, result, level, out, f"Rates: {table.name}")
    first, second = result.settings["first"], result.settings["second"]
    show.messages.print(f"P({first} > {second}) = {result.prob_above('difference', 0):.3f}")


@app.command(epilog="Example: extent trend --series series.csv --out trend.csv")
@handle_errors
def trend(
    series: Path = typer.Option(..., "--series", help="CSV: year, count[, exposure, unit]."),
    family: str = typer.Option("negative_binomial", "--family", help="negative_binomial, poisson or lognormal."),
    horizon: int = typer.Option(1, "--horizon", help="Years ahead of the last for the projection."),
    level: float = typer.Option(CI_LEVEL, "--level", help="Central credible interval probability."),
    seed: int = typer.Option(SamplerConfig.random_seed, "--seed", help="Random seed (same seed, same numbers)."),
    draws: int = typer.Option(SMALL_MODEL_DRAWS, "--draws", help="Posterior draws per chain."),
    tune: int = typer.Option(SMALL_MODEL_DRAWS, "--tune", help="Tuning steps per chain."),
    detection_rate: str | None = typer.Option(
        None, "--detection-rate",
        help="Add a SCENARIO of all cases (known and undetected) under a stated detection rate: LOW,HIGH "
             "(log-uniform, e.g. 0.1%,10%) or beta:ALPHA,BETA. Its figures are set by the assumption, not data."),
    detection_basis: str = typer.Option("stated by the user", "--detection-basis",
                                        help="Where the detection-rate assumption comes from, printed with it."),
    out: Path | None = typer.Option(None, "--out", help="Write the tidy CSV here."),
    format_: str = format_option(),
) -> None:
    """Annual growth, fitted yearly rates and a projection of a count series with part-year exposure."""
    from extent.data.io import read_csv
    from extent.estimators import CountTrend
    from extent.scenarios import DetectionRate, detection_scenario

    show = output(format_)
    check_level(level)
    check_output_file(out, "--out", inputs=(series,))
    detection = DetectionRate.parse(detection_rate, detection_basis) if detection_rate is not None else None
    if detection is not None and family == "lognormal":
        raise ConfigError("--detection-rate scales counts of known cases; a lognormal series is not a count")
    estimator = CountTrend(family=family, horizon=horizon, sampler=_sampler(seed, draws, tune))
    frame = read_csv(series)
    show.messages.print("Sampling the trend model...")
    result = estimator.fit(frame, source=str(series))  # the sampler shows its own progress on stderr
    scenario = detection_scenario(result, detection, seed=seed) if detection is not None else None
    _finish(show, result, level, out, f"Trend: {series.name}", scenario)
