"""Shared constants: the package version, interval level, dimension names, estimand names, the rate scale, the small
models' draws."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("extent")
    """The installed package's version (``pyproject.toml``), written into every fit file and report."""
except PackageNotFoundError:  # a source tree that was never installed
    VERSION = "0+unknown"

CI_LEVEL = 0.9
"""Default probability of central (equal-tailed) credible intervals."""

UNIT, CATEGORY, YEAR, CHAIN, DRAW = "unit", "category", "year", "chain", "draw"

ESTIMANDS = ("total", "per_annum", "per_unit_per_annum")
"""National estimands: total over the period, per year, per unit per year."""

REPORT_DATASET = "report"
"""Name of the built-in UK dataset (:func:`extent.datasets.load_report`), the only data whose units print as
"forces" (:func:`extent.results.unit_noun`)."""

CONVERGENCE_COLUMNS = ["converged", "rhat", "ess_bulk"]
"""Carried with every estimate: the fit's convergence verdict and the R-hat and bulk ESS of the row's own
national draws (empty for point estimators), so a number keeps its warning once the file leaves its folder."""

TIDY_COLUMNS = ["category", "estimator", "estimand", "estimate", "lower", "upper", "level", *CONVERGENCE_COLUMNS]
"""Columns of every tidy estimates table."""

PUBLISHED_COLUMNS = [*TIDY_COLUMNS, "disclosure"]
"""Columns of the CSV output of ``extent estimate`` and ``extent report``: the tidy columns and why a row's
figures are withheld by disclosure control (empty when they are not; :mod:`extent.disclosure`)."""

RHAT_MAX = 1.01
ESS_MIN = 400

RATE_SCALE = 1e5
"""Rates are modelled per 100,000 population per year, which keeps ``log_rate`` near zero for rare crimes.
With another exposure (``ExtentData.exposure``) rates are per unit of that exposure per year."""

SMALL_MODEL_DRAWS = 2000
"""Draws and tuning steps per chain of the small share, rate and trend models (:mod:`extent.models.rates`) from the
command line (``extent report``'s claims, ``extent trend``, ``extent proportion --pooled``): at 1,000 the lognormal
trend of Table 13's gigabytes and the pooled CEU shares had R-hat up to 1.02; sampling them is cheap, compiling
dominates."""
