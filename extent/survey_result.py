"""Results of survey non-response fits: :class:`SurveyResult` and the sensitivity analysis :class:`Sensitivity`."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from extent.constants import CI_LEVEL, CONVERGENCE_COLUMNS, ESTIMANDS
from extent.data.survey import SurveyData
from extent.exceptions import ConfigError, ConvergenceError, ExtentError
from extent.inference.diagnostics import Diagnostics
from extent.inference.summary import parameter_summary
from extent.results import ESTIMAND_LABELS, read_netcdf, stored_groups, unconverged_warning, write_netcdf

SURVEY_COLUMNS = ["mechanism", "estimand", "estimate", "lower", "upper", "level", *CONVERGENCE_COLUMNS]
"""Columns of the tidy table of ``extent survey``."""

PARAMETERS = ["log_rate", "unit_sd", "rate_coef", "response_intercept", "response_coef", "selection", "delta",
              "survey_effect"]


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level!r}")
    return float(level)


def _check_estimand(estimand: str) -> str:
    if estimand not in ESTIMANDS:
        raise ConfigError(f"estimand must be one of {ESTIMANDS}, got {estimand!r}")
    return estimand


def quantiles(x: np.ndarray, level: float) -> tuple[float, float, float]:
    """Median and central ``level`` interval of draws."""
    lo, med, hi = np.quantile(np.ravel(x), [(1 - level) / 2, 0.5, (1 + level) / 2])
    return float(med), float(lo), float(hi)


@dataclass(frozen=True, eq=False)
class SurveyResult:
    """National total from a survey with non-response, under one named mechanism.

    Attributes
    ----------
    mechanism : str
        ``mcar``, ``mar``, ``mnar`` or ``delta`` (``joint-`` prefixed when record searches were used too).
    data : SurveyData
        The survey fitted.
    national : xarray.DataArray
        Draws of the national total over ``years``, dims ``(chain, draw)``.
    years : float
        Period of the total in years.
    idata : arviz.InferenceData
        Posterior.
    diagnostics : Diagnostics
        Convergence record.
    settings : dict
        Priors, fixed parameters, sampler and options (JSON-serialisable).
    """

    mechanism: str
    data: SurveyData
    national: xr.DataArray
    years: float
    idata: az.InferenceData
    diagnostics: Diagnostics
    settings: dict = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def converged(self) -> bool:
        return self.diagnostics.converged

    def draws(self, estimand: str = "total") -> np.ndarray:
        """Flat draws of ``total``, ``per_annum`` or ``per_unit_per_annum``."""
        x = self.national.values.ravel().astype(float)
        if _check_estimand(estimand) == "total":
            return x
        x = x / self.years
        return x if estimand == "per_annum" else x / self.data.n_units

    def interval(self, estimand: str = "total", level: float = CI_LEVEL) -> tuple[float, float, float]:
        """``(median, lower, upper)`` of one estimand."""
        return quantiles(self.draws(estimand), _check_level(level))

    def national_extent(self, level: float = CI_LEVEL) -> pd.DataFrame:
        """Tidy table: ``mechanism, estimand, estimate, lower, upper, level`` (one row per estimand) and the
        fit's convergence (``converged``; ``rhat`` and ``ess_bulk`` of the national draws)."""
        level = _check_level(level)
        quality = {"converged": self.converged, **self._national_quality()}
        rows = []
        for estimand in ESTIMANDS:
            est, lo, hi = self.interval(estimand, level)
            rows.append({"mechanism": self.mechanism, "estimand": estimand, "estimate": est, "lower": lo,
                         "upper": hi, "level": level, **quality})
        return pd.DataFrame(rows, columns=SURVEY_COLUMNS)

    def _national_quality(self) -> dict[str, float]:
        ds = self.national.to_dataset(name="national_total")
        return {"rhat": float(az.rhat(ds)["national_total"]),
                "ess_bulk": float(az.ess(ds, method="bulk")["national_total"])}

    def withheld(self) -> list[str]:
        """Why this fit's citable sentence is withheld (the fit's diagnostic problems, and the national draws' own
        R-hat or bulk ESS where they fail); empty when it may be cited."""
        q = self._national_quality()
        return self.diagnostics.withheld(q["rhat"], q["ess_bulk"])

    def citation(self, estimand: str = "per_annum", level: float = CI_LEVEL, *, force: bool = False) -> str:
        """One sentence a report writer can cite.

        Raises
        ------
        ConvergenceError
            When the fit is :meth:`withheld` and ``force`` is false; with ``force`` the sentence comes with a
            loud warning attached.
        """
        est, lo, hi = self.interval(estimand, level)
        reasons = self.withheld()
        if reasons and not force:
            raise ConvergenceError(f"{self.mechanism}: citable sentence withheld: the fit has not converged "
                                   f"({'; '.join(reasons)}); rerun with more tuning and draws, or pass "
                                   "force=True for the sentence with a warning")
        digits = 1 if estimand == "per_unit_per_annum" else 0
        text = (f"{self.mechanism}: about {est:,.{digits}f} cases {ESTIMAND_LABELS[estimand]} nationally "
                f"({level:.0%} credible interval {lo:,.{digits}f} to {hi:,.{digits}f}"
                f"{', SIMULATED data' if self.data.simulated else ''})")
        return text + (unconverged_warning(reasons) if reasons else "") + "."

    def prob_below(self, threshold: float, estimand: str = "per_annum") -> float:
        """Posterior probability that the national ``estimand`` is below ``threshold``."""
        return float(np.mean(self.draws(estimand) < threshold))

    def response_rate(self) -> float:
        """Posterior mean of the average response probability over surveyed units."""
        return float(self.idata.posterior["response_prob"].mean())

    def summary(self, level: float = CI_LEVEL) -> pd.DataFrame:
        """Parameter table: mean, sd, median, equal-tailed interval (``eti_`` columns), ESS and R-hat."""
        level = _check_level(level)
        return parameter_summary(self.idata.posterior, [v for v in PARAMETERS if v in self.idata.posterior], level)

    def to_netcdf(self, path: str | Path, *, keep_counts: bool = False) -> Path:
        """Save posterior, national draws, survey data and settings to one netCDF file (atomically).

        Parameters
        ----------
        path : str or Path
        keep_counts : bool
            Store each unit's survey return (and, for a joint fit, its record-search count) with the posterior's
            data groups (:data:`~extent.results.DATA_GROUPS`). By default they are withheld (disclosure
            control, :mod:`extent.disclosure`): the file keeps the units, who responded, the caps and everything
            needed to read the estimates, and loads with missing returns, which cannot be refitted.
        """
        path = Path(path)
        withheld = not keep_counts or self.data.returns_withheld
        data = self.data.withhold_returns() if withheld else self.data
        groups = stored_groups(self.idata, withhold=withheld)
        groups["predictions"] = self.national.rename("national_total").to_dataset()
        units = data.units.reset_index()
        groups["fit_data_units"] = xr.Dataset.from_dataframe(
            units.astype({c: str for c in units.select_dtypes(exclude="number").columns}))
        groups["fit_data_survey"] = xr.Dataset.from_dataframe(data.responses)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = az.InferenceData(**groups)
        idata.predictions.attrs.update({
            "extent_estimator": "survey",
            "extent_mechanism": self.mechanism,
            "extent_years": self.years,
            "extent_settings": json.dumps(self.settings, default=str),
            "extent_diagnostics": json.dumps(self.diagnostics.to_dict()),
            "extent_data_name": data.name,
            "extent_data_hash": data.hash(),
            "extent_counts": "withheld" if withheld else "kept",
            "extent_data_simulated": int(data.simulated),
            "extent_data_notes": json.dumps(list(data.notes)),
            "extent_survey_years": data.years,
            "extent_survey_covariates": json.dumps(list(data.covariates)),
            "extent_created_at": self.created_at,
        })
        return write_netcdf(idata, path)

    @classmethod
    def from_netcdf(cls, path: str | Path) -> SurveyResult:
        """Load a result saved with :meth:`to_netcdf` (posterior, national draws, survey data, settings).

        Raises
        ------
        ExtentError
            When the file is missing, is not a survey result of ``extent``, or its survey data do not match its
            stored data hash (a modified file).
        """
        path = Path(path)
        idata, attrs = read_netcdf(path)
        if attrs.get("extent_estimator") != "survey":
            raise ExtentError(f"{path}: not an extent survey result file (save one with SurveyResult.to_netcdf)")
        data = _survey_data(idata, attrs, path)
        if "extent_data_hash" in attrs and data.hash() != attrs["extent_data_hash"]:
            raise ExtentError(f"{path}: the survey data in the file do not match its stored data hash (the file was "
                              "modified)")
        fitted = {g: idata[g] for g in idata.groups() if g != "predictions" and not g.startswith("fit_data_")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            posterior = az.InferenceData(**fitted)
        return cls(
            mechanism=attrs["extent_mechanism"],
            data=data,
            national=idata.predictions["national_total"].load(),
            years=float(attrs["extent_years"]),
            idata=posterior,
            diagnostics=Diagnostics(**json.loads(attrs["extent_diagnostics"])),
            settings=json.loads(attrs["extent_settings"]),
            created_at=attrs["extent_created_at"],
        )

    def __repr__(self) -> str:
        est, lo, hi = self.interval("total")
        label = " (SIMULATED data)" if self.data.simulated else ""
        return (
            f"SurveyResult({self.mechanism}, {self.data!r}){label}\n"
            f"  national total over {self.years:g} years: {est:,.0f} (90% CI {lo:,.0f} to {hi:,.0f})\n"
            f"  diagnostics: {self.diagnostics}"
        )


def _survey_data(idata: az.InferenceData, attrs: dict, path: Path) -> SurveyData:
    """The fitted survey, rebuilt (and validated again) from the groups written by ``to_netcdf``; returns may be
    missing only where the file says they were withheld."""
    units = idata["fit_data_units"].to_dataframe().reset_index(drop=True)
    responses = idata["fit_data_survey"].to_dataframe().reset_index(drop=True)
    responses["cap"] = responses["cap"].where(np.isfinite(responses["cap"]))  # inf: uncapped
    withheld = attrs.get("extent_counts") == "withheld"
    if withheld:
        if responses["returned"].notna().any():
            raise ExtentError(f"{path}: the file says its survey returns were withheld but it holds some (the file "
                              "was modified)")
        responses["returned"] = responses["returned"].where(responses["responded"] != 1, 0.0)
    data = SurveyData.from_frames(
        units, responses,
        years=float(attrs.get("extent_survey_years", attrs["extent_years"])),
        covariates=json.loads(attrs.get("extent_survey_covariates", "null")),
        name=attrs["extent_data_name"],
        units_source=f"{path} (units)",
        survey_source=f"{path} (survey)",
        simulated=bool(int(attrs.get("extent_data_simulated", 0))),
        notes=tuple(json.loads(attrs.get("extent_data_notes", "[]"))),
    )
    return data.withhold_returns() if withheld else data


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
