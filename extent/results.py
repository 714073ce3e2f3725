"""The common result type of every extent estimator."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from extent.constants import CATEGORY, CHAIN, CI_LEVEL, DRAW, ESTIMANDS, TIDY_COLUMNS
from extent.data import ExtentData
from extent.exceptions import ConfigError, ConvergenceError, ExtentError
from extent.inference.diagnostics import Diagnostics
from extent.inference.summary import parameter_summary

ESTIMAND_LABELS = {"total": "in total", "per_annum": "per annum", "per_unit_per_annum": "per force per annum"}


@dataclass(frozen=True)
class Interval:
    """A point estimate (the median of the draws unless the estimator declares another) with a central interval."""

    category: str
    estimand: str
    estimate: float
    lower: float
    upper: float
    level: float

    def __str__(self) -> str:
        digits = 1 if self.estimand == "per_unit_per_annum" else 0
        if np.isnan(self.lower):
            return f"{self.estimate:,.{digits}f}"
        return f"{self.estimate:,.{digits}f} ({self.level:.0%} CI {self.lower:,.{digits}f} to {self.upper:,.{digits}f})"


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level!r}")
    return float(level)


@dataclass(frozen=True, eq=False)
class ExtentResult:
    """National extent estimates from one estimator.

    Attributes
    ----------
    estimator : str
        ``"naive"`` or ``"hierarchical"``.
    data : ExtentData
        The data fitted.
    national : xarray.DataArray
        Draws of the national total over each category's period, dims ``(chain, draw, category)``; a single
        draw for a point estimator.
    idata : arviz.InferenceData or None
        Posterior of a Bayesian fit.
    diagnostics : Diagnostics or None
        Convergence record of a Bayesian fit.
    settings : dict
        Everything needed to reproduce the fit (priors, sampler, estimator options), JSON-serialisable.
    """

    estimator: str
    data: ExtentData
    national: xr.DataArray
    idata: az.InferenceData | None = None
    diagnostics: Diagnostics | None = None
    settings: dict = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    # -- estimands ---------------------------------------------------------------------------------------
    @property
    def categories(self) -> list[str]:
        return [str(c) for c in self.national[CATEGORY].values]

    @property
    def interval_kind(self) -> str:
        """What the intervals are: ``"credible"`` (posterior draws) unless the estimator's settings declare
        another ``interval_kind`` (``"bootstrap"``)."""
        return str(self.settings.get("interval_kind", "credible"))

    @property
    def converged(self) -> bool:
        """True for point estimators and for Bayesian fits that pass every diagnostic check."""
        return self.diagnostics is None or self.diagnostics.converged

    def draws(self, estimand: str = "total") -> xr.DataArray:
        """National draws of ``estimand`` (``total``, ``per_annum`` or ``per_unit_per_annum``)."""
        return self._per_estimand(self.national, estimand)

    def _per_estimand(self, totals: xr.DataArray, estimand: str) -> xr.DataArray:
        if estimand not in ESTIMANDS:
            raise ConfigError(f"estimand must be one of {ESTIMANDS}, got {estimand!r}")
        years = xr.DataArray([self.data.years(c) for c in self.categories], dims=CATEGORY,
                             coords={CATEGORY: self.categories})
        if estimand == "total":
            return totals
        per_annum = totals / years
        return per_annum if estimand == "per_annum" else per_annum / self.data.n_units

    def interval(self, category: str, estimand: str = "per_annum", level: float = CI_LEVEL) -> Interval:
        """Point estimate and central interval of one national estimand.

        The estimate is the median of the draws, or, where the settings declare ``point_estimate: "plug_in"``
        (the GLM bootstrap), the estimator's plug-in national total ``settings["plug_in"]``.
        """
        level = _check_level(level)
        if category not in self.categories:
            raise ConfigError(f"unknown category {category!r}; known: {', '.join(self.categories)}")
        x = self.draws(estimand).sel({CATEGORY: category}).values.ravel()
        if x.size == 1:
            return Interval(category, estimand, float(x[0]), np.nan, np.nan, level)
        lo, med, hi = np.quantile(x, [(1 - level) / 2, 0.5, (1 + level) / 2])
        if self.settings.get("point_estimate") == "plug_in":
            plug_in = xr.DataArray([self.settings["plug_in"][c] for c in self.categories], dims=CATEGORY,
                                   coords={CATEGORY: self.categories})
            med = self._per_estimand(plug_in, estimand).sel({CATEGORY: category})
        return Interval(category, estimand, float(med), float(lo), float(hi), level)

    def national_extent(self, level: float = CI_LEVEL) -> pd.DataFrame:
        """Tidy table: ``category, estimator, estimand, estimate, lower, upper, level`` and the convergence of
        each row (``converged``, and ``rhat``, ``ess_bulk`` of the category's national draws; empty for point
        estimators)."""
        quality = self._national_diagnostics()
        rows = [
            {"estimator": self.estimator, **vars(self.interval(c, e, level)), "converged": self.converged,
             **quality.get(c, {"rhat": np.nan, "ess_bulk": np.nan})}
            for c in self.categories
            for e in ESTIMANDS
        ]
        return pd.DataFrame(rows)[TIDY_COLUMNS]

    def _national_diagnostics(self) -> dict[str, dict[str, float]]:
        """R-hat and bulk ESS of each category's national draws (none for a point estimate)."""
        nat = self.national
        if nat.sizes.get(CHAIN, 1) < 2 or nat.sizes.get(DRAW, 1) < 4:
            return {}
        ds = nat.to_dataset(name="national_total")
        rhat, ess = az.rhat(ds)["national_total"], az.ess(ds, method="bulk")["national_total"]
        return {c: {"rhat": float(rhat.sel({CATEGORY: c})), "ess_bulk": float(ess.sel({CATEGORY: c}))}
                for c in self.categories}

    def prob_below(self, category: str, threshold: float, estimand: str = "per_annum") -> float:
        """Posterior probability that the national ``estimand`` is below ``threshold``."""
        x = self.draws(estimand).sel({CATEGORY: category}).values.ravel()
        return float(np.mean(x < threshold))

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

    def citation(self, category: str, level: float = CI_LEVEL, estimand: str = "per_annum", *,
                 force: bool = False) -> str:
        """One sentence a report writer can cite.

        Raises
        ------
        ConvergenceError
            When the category is :meth:`withheld` (the fit has not converged) and ``force`` is false; with
            ``force`` the sentence comes with a loud warning attached.
        """
        iv = self.interval(category, estimand, level)
        reasons = self.withheld().get(category, [])
        if reasons and not force:
            raise ConvergenceError(f"{category}: citable sentence withheld: the fit has not converged "
                                   f"({'; '.join(reasons)}); rerun with more tuning and draws, or pass "
                                   "force=True for the sentence with a warning")
        label = category.replace("_", " ")
        digits = 1 if estimand == "per_unit_per_annum" else 0
        if np.isnan(iv.lower):
            return (f"{label}: about {iv.estimate:,.{digits}f} known cases {ESTIMAND_LABELS[estimand]} "
                    f"({self.estimator} estimate, no interval).")
        text = (
            f"{label}: about {iv.estimate:,.{digits}f} known cases {ESTIMAND_LABELS[estimand]} nationally "
            f"({level:.0%} {self.interval_kind} interval {iv.lower:,.{digits}f} to {iv.upper:,.{digits}f})"
        )
        return text + (unconverged_warning(reasons) if reasons else "") + "."

    def summary(self, level: float = CI_LEVEL) -> pd.DataFrame:
        """Parameter table: mean, sd, median, central interval, bulk/tail ESS and R-hat (Bayesian fits), or the
        sampled cases, population and scaling factor per category (naive)."""
        level = _check_level(level)
        if self.idata is None:
            return pd.DataFrame(self.settings.get("factors", {})).T
        post = self.idata.posterior
        names = [v for v in ("log_rate", "log_mean_rate", "force_sd", "dispersion", "spread_slope", "type_effect")
                 if v in post]
        return parameter_summary(post, names, level)

    # -- persistence --------------------------------------------------------------------------------------
    def to_netcdf(self, path: str | Path, *, keep_counts: bool = False) -> Path:
        """Save draws, posterior, data and settings to one netCDF file (written atomically).

        ArviZ reads it alone (``az.from_netcdf``): the posterior holds the model's parameters (``az.summary``),
        ``predictions["national_total"]`` the national total draws (``chain, draw, category``), and
        ``fit_data_units`` / ``fit_data_counts`` the data (one ``unit_row`` / ``cell`` per row).

        Parameters
        ----------
        path : str or Path
        keep_counts : bool
            Store the raw per-unit counts (the data's ``cases`` and the posterior's :data:`DATA_GROUPS`). By
            default they are withheld (disclosure control, :mod:`extent.disclosure`): the file keeps the units,
            the searched cells and everything needed to read the estimates, and loads with missing cases, which
            cannot be refitted.
        """
        path = Path(path)
        withheld = not keep_counts or self.data.counts_withheld
        data = self.data.withhold_counts() if withheld else self.data
        groups = stored_groups(self.idata, withhold=withheld)
        groups["predictions"] = self.national.to_dataset(name="national_total")
        units = data.units.reset_index()
        text = units.select_dtypes(exclude="number").columns
        units[text] = units[text].fillna("").astype(str)  # an empty text cell reads back as missing
        counts = data.counts.assign(cases=data.counts["cases"].astype(float)) if withheld else data.counts
        groups["fit_data_units"] = _table_group(units, "unit_row")
        groups["fit_data_counts"] = _table_group(counts, "cell")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = az.InferenceData(**groups)
        idata.predictions.attrs.update(
            {
                "extent_estimator": self.estimator,
                "extent_settings": json.dumps(self.settings, default=str),
                "extent_diagnostics": json.dumps(self.diagnostics.to_dict() if self.diagnostics else None),
                "extent_data_name": self.data.name,
                "extent_data_hash": data.hash(),
                "extent_counts": "withheld" if withheld else "kept",
                "extent_data_auxiliary": json.dumps({"covariates": list(self.data.covariates),
                                                     "exposure": self.data.exposure,
                                                     "records_exposure": self.data.records_exposure}),
                "extent_created_at": self.created_at,
                "extent_version": _version(),
            }
        )
        idata.predictions.attrs["extent_checksum"] = _checksum(self.national, idata.predictions.attrs)
        return write_netcdf(idata, path)

    @classmethod
    def from_netcdf(cls, path: str | Path) -> ExtentResult:
        """Load a result saved with :meth:`to_netcdf`."""
        path = Path(path)
        idata, attrs = read_netcdf(path)
        if "extent_estimator" not in attrs:
            raise ExtentError(f"{path}: not an extent result file")
        try:
            units = idata["fit_data_units"].to_dataframe().reset_index(drop=True)
            counts = idata["fit_data_counts"].to_dataframe().reset_index(drop=True)
            auxiliary = json.loads(attrs.get("extent_data_auxiliary", "{}"))
            withheld = attrs.get("extent_counts") == "withheld"
            if withheld and counts["cases"].notna().any():
                raise ExtentError(f"{path}: the file says its counts were withheld but it holds some (the file was "
                                  "modified)")
            data = ExtentData.from_frames(units, counts.assign(cases=0) if withheld else counts,
                                          name=attrs["extent_data_name"], **auxiliary)
            if withheld:
                data = data.withhold_counts()
            national = idata.predictions["national_total"].load()
            posterior_groups = {g: idata[g] for g in idata.groups()
                                if g in ("posterior", "sample_stats", "observed_data")}
            diag = json.loads(attrs["extent_diagnostics"])
            result = cls(
                estimator=attrs["extent_estimator"],
                data=data,
                national=national,
                idata=az.InferenceData(**posterior_groups) if "posterior" in posterior_groups else None,
                diagnostics=Diagnostics(**diag) if diag else None,
                settings=json.loads(attrs["extent_settings"]),
                created_at=attrs["extent_created_at"],
            )
        except (KeyError, TypeError, ValueError, AttributeError, ExtentError) as err:
            raise ExtentError(f"{path}: not a complete extent result file ({type(err).__name__}: {err})") from None
        _check_integrity(path, result, attrs)
        return result

    def __repr__(self) -> str:
        lines = [f"ExtentResult({self.estimator}, {self.data!r})"]
        for c in self.categories:
            lines.append(f"  {c}: {self.interval(c, 'per_annum')} per annum")
        if self.diagnostics is not None:
            lines.append(f"  diagnostics: {self.diagnostics}")
        return "\n".join(lines)


def unconverged_warning(reasons: list[str]) -> str:
    """What a forced citation of an unconverged quantity carries."""
    return f" [WARNING: NOT CONVERGED ({'; '.join(reasons)}); cited on request; do not publish this figure]"


def _checksum(national: xr.DataArray, attrs: dict) -> str:
    """SHA-256 of the national draws and the result's stored attrs (tamper evidence, not security)."""
    h = hashlib.sha256(np.ascontiguousarray(national.transpose(CHAIN, DRAW, CATEGORY).values, float).tobytes())
    h.update(json.dumps(list(map(str, national[CATEGORY].values))).encode())
    for key in sorted(k for k in attrs if k.startswith("extent_") and k != "extent_checksum"):
        h.update(f"{key}={attrs[key]}".encode())
    return h.hexdigest()


def _check_integrity(path: Path, result: ExtentResult, attrs: dict) -> None:
    """Refuse a loaded result whose data, draws, attrs or diagnostics are not the ones that were saved."""
    if result.data.hash() != attrs.get("extent_data_hash"):
        raise ExtentError(f"{path}: the data in the file do not match its stored data hash (the file was modified)")
    if "extent_checksum" not in attrs:
        warnings.warn(f"{path}: written by an older extent without a checksum; it cannot be checked for changes",
                      UserWarning, stacklevel=3)
    elif _checksum(result.national, attrs) != attrs["extent_checksum"]:
        raise ExtentError(f"{path}: the national draws or the stored settings and diagnostics do not match the "
                          "file's checksum (the file was modified)")
    spec = result.settings.get("diagnosed")
    if result.diagnostics is not None and result.idata is not None and spec:
        post = result.idata.posterior.assign(national_total=result.national)
        again = Diagnostics.from_idata(az.InferenceData(posterior=post, sample_stats=result.idata.sample_stats),
                                       spec["var_names"], unit_names=tuple(spec["unit_names"]))
        stored, fresh = result.diagnostics.to_dict(), again.to_dict()
        if any(not np.isclose(stored[k], fresh[k], rtol=1e-9, equal_nan=True) for k in stored
               if isinstance(stored[k], (int, float)) and isinstance(fresh[k], (int, float))):
            raise ExtentError(f"{path}: the stored diagnostics ({result.diagnostics}) are not those of the draws in "
                              f"the file ({again}); the file was modified")


DATA_GROUPS = ("observed_data", "constant_data", "log_likelihood", "posterior_predictive")
"""Groups of a posterior that hold the observed values or pointwise functions of them (PyMC's sampler mirrors
each observation's ``pm.Data`` in ``constant_data``); a fit file withholding its counts stores none of them."""


def stored_groups(idata: az.InferenceData | None, *, withhold: bool) -> dict[str, xr.Dataset]:
    """The groups of ``idata`` a fit file stores: all of them, or without :data:`DATA_GROUPS` when ``withhold``;
    the posterior without the sampler's transformed values (``unit_sd_log__``: nutpie stores them, ``pm.sample``
    does not), so that ``az.summary`` of the file lists the model's parameters."""
    if idata is None:
        return {}
    groups = {g: idata[g] for g in idata.groups() if not (withhold and g in DATA_GROUPS)}
    if "posterior" in groups:
        from pymc.util import is_transformed_name

        post = groups["posterior"]
        groups["posterior"] = post.drop_vars([v for v in post.data_vars if is_transformed_name(str(v))])
    return groups


def _table_group(table: pd.DataFrame, dim: str) -> xr.Dataset:
    """A table as a group of a fit file, one ``dim`` per row (not xarray's default ``index``)."""
    return xr.Dataset.from_dataframe(table.reset_index(drop=True)).rename({"index": dim})


def write_netcdf(idata: az.InferenceData, path: Path) -> Path:
    """Write ``idata`` to ``path`` through a temporary file, so a failure leaves nothing half-written."""
    tmp = path.with_name(path.name + ".part")
    try:
        idata.to_netcdf(str(tmp))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_netcdf(path: Path) -> tuple[az.InferenceData, dict]:
    """Read a file written by :func:`write_netcdf`: the groups and the result's attrs (``{}`` if none)."""
    if not path.is_file():
        raise ExtentError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = az.from_netcdf(str(path))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise ExtentError(f"{path}: not a readable netCDF file ({type(err).__name__}: {err})") from None
    return idata, dict(idata.predictions.attrs) if "predictions" in idata.groups() else {}


def _version() -> str:
    from extent import __version__

    return __version__


def point_result(estimator: str, data: ExtentData, totals: dict[str, float], settings: dict) -> ExtentResult:
    """An :class:`ExtentResult` for a point estimator (one draw)."""
    categories = list(totals)
    national = xr.DataArray(
        np.array([totals[c] for c in categories], dtype=float).reshape(1, 1, -1),
        dims=(CHAIN, DRAW, CATEGORY),
        coords={CHAIN: [0], DRAW: [0], CATEGORY: categories},
        name="national_total",
    )
    return ExtentResult(estimator=estimator, data=data, national=national, settings=settings)
