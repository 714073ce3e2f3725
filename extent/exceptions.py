"""Exception and warning types raised by extent.

Every error caused by user input derives from :class:`ExtentError`, so callers
(and the command line, which maps it to exit code 2) can catch one type.
"""

from __future__ import annotations


class ExtentError(Exception):
    """Base class for every error extent raises on bad input or bad state."""


class DataValidationError(ExtentError, ValueError):
    """Input data failed validation.

    Parameters
    ----------
    problems : list of str
        One line per problem, each naming the source, row and column.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "invalid data"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))


class PriorConfigError(ExtentError, ValueError):
    """A prior setting is unknown or has invalid parameters."""


class ConfigError(ExtentError, ValueError):
    """A sampler or estimator setting is invalid."""


class NotFittedError(ExtentError):
    """A result was requested from an estimator that has not been fitted."""


class ConvergenceError(ExtentError):
    """Sampling did not converge (raised only when ``strict=True``)."""


class IncompleteStudyError(ExtentError):
    """A calibration or validation study ended with tasks missing (failed or not run); its tables were written
    for the completed ones (the command line exits 4)."""


class ConvergenceWarning(UserWarning):
    """Sampling diagnostics (R-hat, ESS, divergences) indicate an unreliable fit."""


class ExtrapolationWarning(UserWarning):
    """The searched units are unlike the unsearched ones (on size or a covariate): the estimate extrapolates."""


class DisclosureWarning(UserWarning):
    """A published figure could give back a small observed count (or disclosure control is off)."""
