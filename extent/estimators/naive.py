"""The report's naive estimator: scale the searched units' cases up by population."""

from __future__ import annotations

from extent.data import ExtentData
from extent.exceptions import ConfigError
from extent.results import NationalResult, point_result


class NaiveScaling:
    """National total = sampled cases x national population / sampled population.

    This is the estimator of the report ("these forces cover ~3 million people, so multiply by ~19"). Per annum
    divides by the period length and per unit per annum by the number of units. It has no interval. With an
    exposure column (``ExtentData.exposure``) it is the classic ratio estimator on that exposure, and with
    ``records_exposure`` the ratio of cases to records searched times the national exposure over the period.

    Parameters
    ----------
    national_population : float, optional
        Population of the whole country; defaults to the sum over the units table.
    """

    name = "naive"
    point_estimate = "plug-in"

    def __init__(self, *, national_population: float | None = None):
        if national_population is not None and not national_population > 0:
            raise ConfigError(f"national_population must be > 0, got {national_population!r}")
        self.national_population = national_population

    def factor(self, data: ExtentData, category: str) -> float:
        """The scaling factor national population / sampled population for ``category``."""
        exposure = data.exposure_values
        national = (self.national_population if data.exposure is None else None) or float(exposure.sum())
        if data.records_exposure:  # records over the period against the national exposure over the period
            rows = data.counts["category"] == category
            return national * data.years(category) / float(data.counts.loc[rows, "records"].sum())
        sampled = float(exposure.loc[data.searched(category)].sum())
        return national / sampled

    def fit(self, data: ExtentData) -> NationalResult:
        """Scale each category's sampled cases to a national total."""
        data.require_counts()
        totals, factors = {}, {}
        for c in data.categories:
            cases = int(data.counts.loc[data.counts["category"] == c, "cases"].sum())
            f = self.factor(data, c)
            totals[c] = cases * f
            factors[c] = {"sampled_cases": cases, "scaling_factor": f}
        settings = {"national_population": self.national_population, "factors": factors}
        return point_result(self.name, data, totals, settings)
