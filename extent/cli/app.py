"""The typer application that every command module registers on, and the error-to-exit-code mapping."""

from __future__ import annotations

import functools
import sys
import warnings

import typer
from rich.console import Console

from extent.exceptions import ConvergenceError, ConvergenceWarning, DisclosureWarning, ExtentError

app = typer.Typer(
    name="extent",
    help="National extent of rare case categories from a few local agencies, with honest uncertainty.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False)
errors = Console(stderr=True)


def handle_errors(fn):
    """Run a command: :class:`ExtentError` -> one-line message and exit 2; strict convergence failure -> 3;
    Ctrl-C -> "interrupted" and exit 130."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*BLAS.*")
                warnings.filterwarnings("ignore", category=FutureWarning)
                warnings.showwarning = _show_warning
                return fn(*args, **kwargs)
        except ConvergenceError as err:
            errors.print(f"extent: error: {err}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(3)
        except ExtentError as err:
            errors.print(f"extent: error: {err}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(2)
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


@app.callback()
def _root() -> None:
    """National extent of rare case categories from a few local agencies, with honest uncertainty."""
