"""Survey non-response fits: :class:`SurveyResult` (the one national result type, built from a survey) and the
sensitivity analysis :class:`Sensitivity`."""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from extent.constants import CATEGORY, CI_LEVEL, ESTIMANDS
from extent.data.survey import SurveyData
from extent.exceptions import ConfigError
from extent.inference.diagnostics import Diagnostics
from extent.results import SURVEY_CATEGORY, Interval, NationalResult, _now


def _check_estimand(estimand: str) -> str:
    if estimand not in ESTIMANDS:
        raise ConfigError(f"estimand must be one of {ESTIMANDS}, got {estimand!r}")
    return estimand


def quantiles(x: np.ndarray, level: float) -> tuple[float, float, float]:
    """Median and central ``level`` interval of draws."""
    lo, med, hi = np.quantile(np.ravel(x), [(1 - level) / 2, 0.5, (1 + level) / 2])
    return float(med), float(lo), float(hi)


class SurveyResult(NationalResult):
    """A survey fit: a :class:`~extent.results.NationalResult` of kind ``"survey"``, built from the survey's
    own arguments.

    ``national`` may have dims ``(chain, draw)``: its category is then the settings' ``joint_category`` (a
    joint fit) or :data:`~extent.results.SURVEY_CATEGORY`. The survey's earlier call forms still work:
    ``interval(estimand, level)``, ``citation(estimand, level)`` and ``prob_below(threshold, estimand)``.
    :meth:`from_netcdf` loads survey fit files only.

    Parameters
    ----------
    mechanism : str
        ``mcar``, ``mar``, ``mnar`` or ``delta`` (``joint-`` prefixed when record searches were used too).
    data : SurveyData
        The survey fitted.
    national : xarray.DataArray
        Draws of the national total over ``years``.
    years : float
        Period of the total in years.
    idata : arviz.InferenceData
        Posterior.
    diagnostics : Diagnostics
        Convergence record.
    settings : dict
        Priors, fixed parameters, sampler and options (JSON-serialisable).
    """

    _file_kind = "survey"

    def __init__(self, mechanism: str, data: SurveyData, national: xr.DataArray, years: float,
                 idata: az.InferenceData | None = None, diagnostics: Diagnostics | None = None,
                 settings: dict | None = None, created_at: str | None = None, **fields):
        settings = dict(settings or {})
        if CATEGORY not in national.dims:
            national = national.expand_dims({CATEGORY: [settings.get("joint_category") or SURVEY_CATEGORY]},
                                            axis=-1)
        super().__init__(estimator=fields.pop("estimator", "survey"), data=data,
                         national=national.rename("national_total"), idata=idata, diagnostics=diagnostics,
                         settings=settings, created_at=created_at or _now(), mechanism=mechanism,
                         years=float(years), **fields)

    def _legacy(self, category) -> bool:
        return isinstance(category, str) and category in ESTIMANDS and category not in self.categories

    def interval(self, category: str | None = None, estimand: str | float | None = None,
                 level: float = CI_LEVEL) -> Interval:
        """As :meth:`NationalResult.interval`; ``interval(estimand, level)`` too."""
        if self._legacy(category):
            category, estimand, level = None, category, CI_LEVEL if estimand is None else estimand
        return super().interval(category, "per_annum" if estimand is None else estimand, level)

    def citation(self, category: str | None = None, level: float = CI_LEVEL, estimand: str = "per_annum", *,
                 force: bool = False) -> str:
        """As :meth:`NationalResult.citation`; ``citation(estimand, level)`` too."""
        if self._legacy(category):
            category, estimand = None, category
        return super().citation(category, level, estimand, force=force)

    def prob_below(self, category: str | float | None, threshold: float | str | None = None,
                   estimand: str = "per_annum") -> float:
        """As :meth:`NationalResult.prob_below`; ``prob_below(threshold, estimand)`` too."""
        if not isinstance(category, str | None):
            category, threshold, estimand = None, category, "per_annum" if threshold is None else threshold
        return super().prob_below(category, threshold, estimand)


@dataclass(frozen=True)
class TippingPoint:
    """Where a stated conclusion about the national estimand flips along the sensitivity parameter.

    Attributes
    ----------
    parameter : str
        ``selection`` or ``delta``.
    threshold : float
        The ``N`` of "fewer than N".
    estimand : str
        The estimand of the conclusion.
    value : float
        Parameter value at which the conclusion flips (linear interpolation on the grid); NaN if it holds
        everywhere or nowhere on the grid.
    holds_at : tuple of float
        Grid values at which the conclusion holds.
    text : str
        One sentence.
    unconverged : tuple of float
        Grid values whose fit has not converged: when any, the tipping point is not reliable and ``text`` says so.
    """

    parameter: str
    threshold: float
    estimand: str
    value: float
    holds_at: tuple[float, ...]
    text: str
    unconverged: tuple[float, ...] = ()

    @property
    def reliable(self) -> bool:
        """Whether every fit of the grid converged."""
        return not self.unconverged


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """National estimate as a function of the MNAR parameter (``selection``) or the delta adjustment.

    Attributes
    ----------
    parameter : str
        ``selection`` (MNAR selection model, refitted at each value) or ``delta`` (pattern mixture).
    table : pandas.DataFrame
        ``parameter, value, estimand, estimate, lower, upper, level, converged`` (``converged``: the grid fit's
        diagnostics passed).
    reference : pandas.DataFrame
        Tidy rows (``mechanism, estimand, ...``) of the reference fits (MCAR, MAR) for comparison.
    level : float
        Interval probability.
    simulated : bool
        Whether the data were simulated.
    """

    parameter: str
    table: pd.DataFrame
    reference: pd.DataFrame
    level: float = CI_LEVEL
    simulated: bool = False

    def tipping_point(self, threshold: float, *, estimand: str = "per_annum") -> TippingPoint:
        """Where "fewer than ``threshold``" (upper interval bound below it) starts or stops holding."""
        _check_estimand(estimand)
        t = self.table[self.table["estimand"] == estimand].sort_values("value")
        values, upper = t["value"].to_numpy(float), t["upper"].to_numpy(float)
        holds = upper < threshold
        value = float("nan")
        for i in range(len(values) - 1):
            if holds[i] != holds[i + 1]:
                a, b = upper[i] - threshold, upper[i + 1] - threshold
                value = float(values[i] + (values[i + 1] - values[i]) * a / (a - b))
                break
        claim = f"fewer than {threshold:,.0f} cases {estimand.replace('_', ' ')}"
        name = self.parameter
        if holds.all():
            text = f"'{claim}' holds ({self.level:.0%} upper bound) for every {name} in [{values[0]:g}, {values[-1]:g}]."
        elif not holds.any():
            text = f"'{claim}' fails ({self.level:.0%} upper bound) for every {name} in [{values[0]:g}, {values[-1]:g}]."
        else:
            side = "above" if holds[-1] else "below"
            text = (f"'{claim}' holds ({self.level:.0%} upper bound below {threshold:,.0f}) only for {name} {side} "
                    f"{value:.2f}; it flips at {name} = {value:.2f}.")
        if self.simulated:
            text += " (SIMULATED data.)"
        bad = (tuple(float(v) for v in values[~t["converged"].to_numpy(bool)]) if "converged" in t else ())
        if bad:
            text = (f"UNRELIABLE: {len(bad)} of {len(values)} sensitivity fits have not converged ({name} = "
                    f"{', '.join(f'{v:g}' for v in bad)}); do not cite this: " + text)
        return TippingPoint(parameter=name, threshold=float(threshold), estimand=estimand, value=value,
                            holds_at=tuple(float(v) for v in values[holds]), text=text, unconverged=bad)

    def plot(self, *, estimand: str = "total", threshold: float | None = None, ax=None):
        """Estimate and interval against the parameter, with reference fits and an optional threshold."""
        import matplotlib.pyplot as plt

        _check_estimand(estimand)
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        else:
            fig = ax.figure
        t = self.table[self.table["estimand"] == estimand].sort_values("value")
        ax.fill_between(t["value"], t["lower"], t["upper"], alpha=0.25, label=f"{self.level:.0%} interval")
        ax.plot(t["value"], t["estimate"], marker="o", label=f"{self.parameter} fixed")
        ref = self.reference[self.reference["estimand"] == estimand]
        for (_, r), style in zip(ref.iterrows(), ("--", ":", "-.")):
            ax.axhline(r["estimate"], linestyle=style, color="grey", label=f"{r['mechanism']} estimate")
        if threshold is not None:
            ax.axhline(threshold, color="red", linewidth=1, label=f"threshold {threshold:,.0f}")
        ax.set_xlabel({"selection": "selection (log-odds of response per sd of latent caseload)",
                       "delta": "delta (log rate ratio, non-responders / responders)"}.get(self.parameter,
                                                                                          self.parameter))
        ax.set_ylabel(f"national {estimand.replace('_', ' ')}")
        ax.set_title("Sensitivity to the non-response assumption" + (" (SIMULATED data)" if self.simulated else ""))
        ax.legend(fontsize=8)
        return fig
