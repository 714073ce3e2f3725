"""The one national result type of every extent estimator: :class:`NationalResult` (and :class:`Interval`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from extent.constants import CATEGORY, CHAIN, CI_LEVEL, DRAW, ESTIMANDS, REPORT_DATASET, TIDY_COLUMNS
from extent.data import ExtentData
from extent.data.survey import SurveyData
from extent.exceptions import ConfigError, ConvergenceError
from extent.inference.diagnostics import Diagnostics
from extent.inference.summary import parameter_summary
from extent.result_files import (  # noqa: F401 - re-exported: the fit-file helpers' historical home
    DATA_GROUPS,
    data_kind,
    load_result,
    read_netcdf,
    save_result,
    stored_groups,
    write_netcdf,
)
from extent.result_files import checksum as _checksum  # noqa: F401 - re-exported for tests of edited files

ESTIMAND_LABELS = {"total": "in total", "per_annum": "per annum", "per_unit_per_annum": "per unit per annum"}


def unit_noun(data) -> str:
    """What a unit of ``data`` is called in print: ``force`` for the built-in UK report dataset, else ``unit``."""
    return "force" if getattr(data, "name", None) == REPORT_DATASET else "unit"


def estimand_label(estimand: str, data=None) -> str:
    """How tables and citations say ``estimand`` (``per unit per annum``; ``per force`` for the UK report)."""
    return ESTIMAND_LABELS[estimand].replace("unit", unit_noun(data))

POINT_ESTIMATES = ("posterior median", "plug-in")
"""Point-estimate rules an estimator declares: the median of the draws, or its own plug-in national total (the
GLM bootstrap's fitted total, the naive scaling)."""

INTERVAL_KINDS = ("credible", "bootstrap", "none")
"""What a result's intervals are: central intervals of posterior draws, of bootstrap draws, or none (one draw)."""

SUMMARY_PARAMETERS = {
    "count": ("log_rate", "log_mean_rate", "shared_sd", "dispersion", "spread_slope", "type_effect"),
    "survey": ("log_rate", "unit_sd", "rate_coef", "response_intercept", "response_coef", "selection", "delta",
               "survey_effect"),
}
"""Parameters of :meth:`NationalResult.summary`, by kind of fit."""

SURVEY_CATEGORY = "cases"
"""The category of a survey fit's national draws when it measures no record-search category."""


@dataclass(frozen=True)
class Interval:
    """A point estimate (by the estimator's declared rule) with a central interval.

    Unpacks as ``estimate, lower, upper``.
    """

    category: str
    estimand: str
    estimate: float
    lower: float
    upper: float
    level: float

    def __iter__(self):
        return iter((self.estimate, self.lower, self.upper))

    def __str__(self) -> str:
        digits = 1 if self.estimand == "per_unit_per_annum" else 0
        if np.isnan(self.lower):
            return f"{self.estimate:,.{digits}f}"
        return f"{self.estimate:,.{digits}f} ({self.level:.0%} CI {self.lower:,.{digits}f} to {self.upper:,.{digits}f})"


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level!r}")
    return float(level)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, eq=False)
class NationalResult:
    """National estimates from one estimator: record-search counts or a survey with non-response.

    Attributes
    ----------
    estimator : str
        The estimator's ``name`` (``"naive"``, ``"hierarchical"``, ``"glm_bootstrap"``, ``"survey"``).
    data : ExtentData or SurveyData
        The data fitted; its type is the result's :attr:`kind` (``"count"`` or ``"survey"``).
    national : xarray.DataArray
        Draws of the national total over each category's period, dims ``(chain, draw, category)``; a single
        draw for a point estimator.
    idata : arviz.InferenceData or None
        Posterior of a Bayesian fit.
    diagnostics : Diagnostics or None
        Convergence record of a Bayesian fit.
    settings : dict
        Everything needed to reproduce the fit (priors, sampler, estimator options), JSON-serialisable.
    mechanism : str or None
        Non-response mechanism of a survey fit (``mcar``, ``mar``, ``mnar``, ``delta``, ``joint-`` prefixed
        when record searches were used too).
    years : float or None
        Period of the totals in years where it is not the data's own per category (a survey fit).
    point_estimate : {"posterior median", "plug-in"}
        The estimator's declared point-estimate rule (:data:`POINT_ESTIMATES`).
    interval_kind : {"credible", "bootstrap", "none"}
        What the intervals are (:data:`INTERVAL_KINDS`); citations say it.
    plug_in : dict or None
        The estimator's plug-in national total per category, the estimate when ``point_estimate`` is
        ``"plug-in"``.
    """

    estimator: str
    data: ExtentData | SurveyData
    national: xr.DataArray
    idata: az.InferenceData | None = None
    diagnostics: Diagnostics | None = None
    settings: dict = field(default_factory=dict)
    created_at: str = field(default_factory=_now)
    mechanism: str | None = None
    years: float | None = None
    point_estimate: str = "posterior median"
    interval_kind: str = "credible"
    plug_in: dict[str, float] | None = None

    _file_kind = None
    """The kind of file :meth:`from_netcdf` accepts (any for this class)."""

    def __post_init__(self):
        if set(self.national.dims) != {CHAIN, DRAW, CATEGORY}:
            raise ConfigError(f"national draws need dims ({CHAIN}, {DRAW}, {CATEGORY}), got {self.national.dims}")
        if self.point_estimate not in POINT_ESTIMATES:
            raise ConfigError(f"point_estimate must be one of {POINT_ESTIMATES}, got {self.point_estimate!r}")
        if self.interval_kind not in INTERVAL_KINDS:
            raise ConfigError(f"interval_kind must be one of {INTERVAL_KINDS}, got {self.interval_kind!r}")
        if self.point_estimate == "plug-in" and set(self.plug_in or ()) != set(self.categories):
            raise ConfigError("a plug-in point estimate needs plug_in, the national total of every category")

    # -- estimands ---------------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``"count"`` (record searches, :class:`ExtentData`) or ``"survey"`` (:class:`SurveyData`)."""
        return data_kind(self.data)

    @property
    def label(self) -> str:
        """The result's name in studies and comparisons: the estimator, with the mechanism of a survey fit
        (``survey-mar``)."""
        return self.estimator if self.mechanism is None else f"{self.estimator}-{self.mechanism}"

    @property
    def categories(self) -> list[str]:
        return [str(c) for c in self.national[CATEGORY].values]

    @property
    def converged(self) -> bool:
        """True for point estimators and for Bayesian fits that pass every diagnostic check."""
        return self.diagnostics is None or self.diagnostics.converged

    def _category(self, category: str | None) -> str:
        if category is None:
            if len(self.categories) != 1:
                raise ConfigError(f"name the category: the result has {len(self.categories)} "
                                  f"({', '.join(self.categories)})")
            return self.categories[0]
        if category not in self.categories:
            raise ConfigError(f"unknown category {category!r}; known: {', '.join(self.categories)}")
        return category

    def period(self, category: str) -> float:
        """Length in years of the period of ``category``'s national total."""
        return float(self.years) if self.years is not None else float(self.data.years(category))

    def draws(self, estimand: str = "total") -> xr.DataArray:
        """National draws of ``estimand`` (``total``, ``per_annum`` or ``per_unit_per_annum``)."""
        return self._per_estimand(self.national, estimand)

    def _per_estimand(self, totals: xr.DataArray, estimand: str) -> xr.DataArray:
        if estimand not in ESTIMANDS:
            raise ConfigError(f"estimand must be one of {ESTIMANDS}, got {estimand!r}")
        if estimand == "total":
            return totals
        years = xr.DataArray([self.period(c) for c in self.categories], dims=CATEGORY,
                             coords={CATEGORY: self.categories})
        per_annum = totals / years
        return per_annum if estimand == "per_annum" else per_annum / self.data.n_units

    def interval(self, category: str | None = None, estimand: str = "per_annum",
                 level: float = CI_LEVEL) -> Interval:
        """Point estimate (by :attr:`point_estimate`) and central interval of one national estimand.

        ``category`` may be left out when the result has only one (a survey fit).
        """
        level = _check_level(level)
        category = self._category(category)
        x = self.draws(estimand).sel({CATEGORY: category}).values.ravel()
        lo, estimate, hi = (float(q) for q in np.quantile(x, [(1 - level) / 2, 0.5, (1 + level) / 2]))
        if self.point_estimate == "plug-in":
            plug_in = xr.DataArray([self.plug_in[c] for c in self.categories], dims=CATEGORY,
                                   coords={CATEGORY: self.categories})
            estimate = float(self._per_estimand(plug_in, estimand).sel({CATEGORY: category}))
        if x.size == 1:
            return Interval(category, estimand, estimate, np.nan, np.nan, level)
        return Interval(category, estimand, estimate, lo, hi, level)

    def national_extent(self, level: float = CI_LEVEL) -> pd.DataFrame:
        """Tidy table: ``category, estimator, estimand, estimate, lower, upper, level`` (``mechanism`` after
        ``estimator`` for a survey fit) and the convergence of each row (``converged``, and ``rhat``,
        ``ess_bulk`` of the category's national draws; empty for point estimators)."""
        level = _check_level(level)
        quality = self._national_diagnostics()
        columns = list(TIDY_COLUMNS)
        extra = {}
        if self.mechanism is not None:
            columns.insert(columns.index("estimator") + 1, "mechanism")
            extra = {"mechanism": self.mechanism}
        rows = [
            {"estimator": self.estimator, **extra, **vars(self.interval(c, e, level)), "converged": self.converged,
             **quality.get(c, {"rhat": np.nan, "ess_bulk": np.nan})}
            for c in self.categories
            for e in ESTIMANDS
        ]
        return pd.DataFrame(rows)[columns]

    def _national_diagnostics(self) -> dict[str, dict[str, float]]:
        """R-hat and bulk ESS of each category's national draws (none for fewer than 2 chains of 4 draws)."""
        nat = self.national
        if nat.sizes.get(CHAIN, 1) < 2 or nat.sizes.get(DRAW, 1) < 4:
            return {}
        ds = nat.to_dataset(name="national_total")
        rhat, ess = az.rhat(ds)["national_total"], az.ess(ds, method="bulk")["national_total"]
        return {c: {"rhat": float(rhat.sel({CATEGORY: c})), "ess_bulk": float(ess.sel({CATEGORY: c}))}
                for c in self.categories}

    def prob_below(self, category: str | None, threshold: float, estimand: str = "per_annum") -> float:
        """Probability (share of the draws) that the national ``estimand`` of ``category`` is below
        ``threshold``."""
        x = self.draws(estimand).sel({CATEGORY: self._category(category)}).values.ravel()
        return float(np.mean(x < threshold))

    def response_rate(self) -> float:
        """Posterior mean of the average response probability over surveyed units (a survey fit)."""
        if self.idata is None or "response_prob" not in self.idata.posterior:
            raise ConfigError("a response rate needs a survey fit (its posterior's response_prob)")
        return float(self.idata.posterior["response_prob"].mean())

    def withheld(self) -> dict[str, list[str]]:
        """Categories whose citable sentence is withheld, with the reasons: the fit's diagnostic problems (shared
        by every category: a divergence or an unmixed shared parameter makes every total unreliable) and the
        category's own national R-hat or bulk ESS where they fail. Empty for a converged fit or a point
        estimator."""
        if self.diagnostics is None:
            return {}
        quality = self._national_diagnostics()
        out = {}
        for c in self.categories:
            q = quality.get(c, {"rhat": np.nan, "ess_bulk": np.nan})
            reasons = self.diagnostics.withheld(q["rhat"], q["ess_bulk"])
            if reasons:
                out[c] = reasons
        return out

    def subject(self, category: str) -> str:
        """What a citation of ``category`` is about: the mechanism of a survey fit, else the category."""
        return self.mechanism if self.mechanism is not None else category.replace("_", " ")

    def citation(self, category: str | None = None, level: float = CI_LEVEL, estimand: str = "per_annum", *,
                 force: bool = False) -> str:
        """One sentence a report writer can cite, naming the interval's kind (credible or bootstrap).

        Raises
        ------
        ConvergenceError
            When the category is :meth:`withheld` (the fit has not converged) and ``force`` is false; with
            ``force`` the sentence comes with a loud warning attached.
        """
        category = self._category(category)
        iv = self.interval(category, estimand, level)
        reasons = self.withheld().get(category, [])
        label = self.subject(category)
        if reasons and not force:
            raise ConvergenceError(f"{label}: citable sentence withheld: the fit has not converged "
                                   f"({'; '.join(reasons)}); rerun with more tuning and draws, or pass "
                                   "force=True for the sentence with a warning")
        digits = 1 if estimand == "per_unit_per_annum" else 0
        cases = "cases" if self.kind == "survey" else "known cases"
        if np.isnan(iv.lower):
            return (f"{label}: about {iv.estimate:,.{digits}f} {cases} {estimand_label(estimand, self.data)} "
                    f"({self.estimator} estimate, no interval).")
        simulated = ", SIMULATED data" if getattr(self.data, "simulated", False) else ""
        text = (
            f"{label}: about {iv.estimate:,.{digits}f} {cases} {estimand_label(estimand, self.data)} nationally "
            f"({level:.0%} {self.interval_kind} interval {iv.lower:,.{digits}f} to {iv.upper:,.{digits}f}"
            f"{simulated})"
        )
        return text + (unconverged_warning(reasons) if reasons else "") + "."

    def summary(self, level: float = CI_LEVEL) -> pd.DataFrame:
        """Parameter table: mean, sd, median, equal-tailed interval (``eti_`` columns: quantiles of the draws),
        bulk/tail ESS and R-hat (Bayesian fits), or the sampled cases, population and scaling factor per category
        (naive)."""
        level = _check_level(level)
        if self.idata is None:
            return pd.DataFrame(self.settings.get("factors", {})).T
        post = self.idata.posterior
        return parameter_summary(post, [v for v in SUMMARY_PARAMETERS[self.kind] if v in post], level)

    def plot(self, *, level: float = CI_LEVEL, estimand: str = "per_annum", ax=None):
        """The forest plot of the national intervals (:func:`extent.reporting.plots.forest_plot`)."""
        from extent.reporting.plots import forest_plot

        return forest_plot(self, level=level, estimand=estimand, ax=ax)

    # -- persistence --------------------------------------------------------------------------------------
    def to_netcdf(self, path: str | Path, *, keep_counts: bool = False, model_checks: bool = False) -> Path:
        """Save draws, posterior, data and settings to one netCDF file (written atomically).

        Parameters
        ----------
        path : str or Path
        keep_counts : bool
            Store the raw per-unit counts (the data's ``cases`` or survey returns, and the posterior's
            :data:`~extent.result_files.DATA_GROUPS`). By default they are withheld (disclosure control,
            :mod:`extent.disclosure`): the file keeps the units, the searched cells (who responded) and everything
            needed to read the estimates, and loads with missing counts, which cannot be refitted.
        model_checks : bool
            Also store the ``log_likelihood`` and ``posterior_predictive`` groups of
            :func:`extent.model_checks`, so that ``az.loo`` and ``az.plot_ppc`` work on the file itself (a
            hierarchical fit; needs ``keep_counts``, since both give the counts back).
        """
        if model_checks:
            if not keep_counts:
                raise ConfigError("model_checks=True stores per-cell functions of the counts: it needs keep_counts=True")
            from extent.checking import model_checks as checks

            return save_result(dataclasses.replace(self, idata=checks(self)), path, keep_counts=True)
        return save_result(self, path, keep_counts=keep_counts)

    @classmethod
    def from_netcdf(cls, path: str | Path) -> NationalResult:
        """Load a result saved with :meth:`to_netcdf`, of either kind (count or survey fit).

        Raises
        ------
        ExtentError
            A missing, unreadable or foreign file, or one whose data hash, checksum or recomputed diagnostics do
            not match what was saved.
        """
        return cls._from_fields(load_result(path, expect=cls._file_kind))

    @classmethod
    def _from_fields(cls, fields: dict) -> NationalResult:
        obj = object.__new__(cls)
        NationalResult.__init__(obj, **fields)
        return obj

    def __repr__(self) -> str:
        what = self.estimator if self.mechanism is None else f"{self.estimator} {self.mechanism}"
        simulated = " (SIMULATED data)" if getattr(self.data, "simulated", False) else ""
        lines = [f"{type(self).__name__}({what}, {self.data!r}){simulated}"]
        for c in self.categories:
            lines.append(f"  {c}: {self.interval(c, 'per_annum')} per annum")
        if self.diagnostics is not None:
            lines.append(f"  diagnostics: {self.diagnostics}")
        return "\n".join(lines)


ExtentResult = NationalResult
"""The historical name of :class:`NationalResult` (count fits were its first kind)."""


def unconverged_warning(reasons: list[str]) -> str:
    """What a forced citation of an unconverged quantity carries."""
    return f" [WARNING: NOT CONVERGED ({'; '.join(reasons)}); cited on request; do not publish this figure]"


def point_result(estimator: str, data: ExtentData, totals: dict[str, float], settings: dict) -> NationalResult:
    """A :class:`NationalResult` for a point estimator (one draw, its own plug-in estimate, no interval)."""
    categories = list(totals)
    national = xr.DataArray(
        np.array([totals[c] for c in categories], dtype=float).reshape(1, 1, -1),
        dims=(CHAIN, DRAW, CATEGORY),
        coords={CHAIN: [0], DRAW: [0], CATEGORY: categories},
        name="national_total",
    )
    return NationalResult(estimator=estimator, data=data, national=national, settings=settings,
                          point_estimate="plug-in", interval_kind="none",
                          plug_in={c: float(v) for c, v in totals.items()})
