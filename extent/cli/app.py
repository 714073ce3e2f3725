"""The typer application that every command module registers on, and the error-to-exit-code mapping."""

from __future__ import annotations

import functools
import importlib.metadata
import sys
import warnings

import typer
from rich.console import Console, ConsoleDimensions

from extent.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DisclosureWarning,
    ExtentError,
    IncompleteStudyError,
)

app = typer.Typer(
    name="extent",
    help="National extent of rare case categories from a few local agencies, with honest uncertainty.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
PIPED_WIDTH = 1000
"""Width of output that is not a terminal (a file, a pipe): wide enough that no line or table is wrapped."""


class _Console(Console):
    """A rich console that wraps at the terminal's width, and not at all when its output is not a terminal."""

    @property
    def size(self) -> ConsoleDimensions:
        if not self.is_terminal and self._width is None:
            return ConsoleDimensions(PIPED_WIDTH, 25)
        return super().size


console = _Console(stderr=False)
errors = _Console(stderr=True)


def handle_errors(fn):
    """Run a command: :class:`ExtentError` -> one-line message and exit 2; strict convergence failure -> 3;
    a study with missing fits (:class:`IncompleteStudyError`) -> 4; Ctrl-C -> "interrupted" and exit 130."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*BLAS.*")
                warnings.filterwarnings("ignore", category=FutureWarning)
                warnings.showwarning = _show_warning
                return fn(*args, **kwargs)
        except (IncompleteStudyError, ConvergenceError, ExtentError) as err:
            errors.print(f"extent: error: {err}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(4 if isinstance(err, IncompleteStudyError) else 3 if isinstance(err, ConvergenceError) else 2)
        except KeyboardInterrupt:
            errors.print("extent: interrupted (outputs not written are left as they were)", markup=False,
                         highlight=False, soft_wrap=True)
            sys.exit(130)

    return wrapper


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, (ConvergenceWarning, DisclosureWarning)):
        errors.print(f"WARNING: {message}", style="bold red", markup=False, highlight=False, soft_wrap=True)
    else:
        errors.print(f"warning: {message}", markup=False, highlight=False, soft_wrap=True)


def flag(default: bool, decls: str, help: str):
    """A boolean option as paired flags (``--name/--no-name``), shown without a metavar."""
    return typer.Option(default, decls, metavar="", help=help)


def strict_option():
    return flag(False, "--strict/--no-strict", "Exit 3 instead of warning when a fit has not converged.")


def cite_option():
    return flag(False, "--cite-unconverged/--no-cite-unconverged",
                "Print the citable sentences of fits that have not converged, with a loud warning (withheld by "
                "default).")


def format_option():
    """``--format``: how a command prints its table on stdout (checked by :func:`extent.cli.output.output`)."""
    return typer.Option("table", "--format", metavar="table|csv|json",
                        help="Print the table readable (table), or the tidy table as CSV or as JSON records on "
                             "stdout, with every other line on stderr.")


def target_accept_option():
    return typer.Option(None, "--target-accept", metavar="FLOAT",
                        help="NUTS target acceptance in (0, 1); raise it (e.g. 0.995) when a fit reports divergences "
                             "[default: the estimator's choice].")


def tune_option():
    return typer.Option(None, "--tune", metavar="INT",
                        help="Tuning steps per chain [default: the estimator's choice].")


def sampling_message(sampler) -> str:
    """What is about to be sampled, for the messages stream."""
    if sampler.tune is None:
        return (f"Sampling the hierarchical model: {sampler.chains} chains x {sampler.draws} draws after the "
                "estimator's choice of tuning steps...")
    return f"Sampling the hierarchical model: {sampler.chains} chains x ({sampler.tune} tune + {sampler.draws} draws)..."


def _version(value: bool) -> None:
    if value:
        console.print(f"extent {importlib.metadata.version('extent')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_version, metavar="",
                                 help="Print the version and exit."),
) -> None:
    """National extent of rare case categories from a few local agencies, with honest uncertainty."""
