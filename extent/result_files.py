"""netCDF files of national results: one writer and one reader for every kind of fit (count, survey).

A file holds the national draws (``predictions``), the posterior groups of a Bayesian fit, the fitted data
(``fit_data_*`` groups, per-unit counts withheld unless asked for) and the result's fields as ``extent_*``
attributes of ``predictions``, with the data's hash and a checksum of draws and attributes; loading refuses a
foreign, incomplete or modified file with :class:`~extent.exceptions.ExtentError`.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from extent.constants import CATEGORY, CHAIN, DRAW, VERSION
from extent.data import ExtentData
from extent.data.survey import SurveyData
from extent.exceptions import ExtentError
from extent.inference.diagnostics import Diagnostics

KINDS = ("count", "survey")
"""Kinds of fit file: record-search counts (:class:`~extent.data.ExtentData`) or a survey with non-response
(:class:`~extent.data.survey.SurveyData`)."""

DATA_GROUPS = ("observed_data", "constant_data", "log_likelihood", "posterior_predictive")
"""Groups of a posterior that hold the observed values or pointwise functions of them (PyMC's sampler mirrors
each observation's ``pm.Data`` in ``constant_data``); a fit file withholding its counts stores none of them."""


LEGACY_NAMES = {"force": "unit", "searched_force": "searched_unit", "force_effect": "unit_offset",
                "force_sd": "shared_sd", "force_z": "unit_z", "force_lp": "searched_lp", "force_x": "searched_x"}
"""Dims and variables of fit files written before the models named units ``unit``: renamed on load."""


def renamed_legacy(idata: az.InferenceData) -> az.InferenceData:
    """``idata`` with the dims and variables of :data:`LEGACY_NAMES` renamed (unchanged when it has none)."""
    groups = {}
    for g in idata.groups():
        ds = idata[g]
        names = {old: new for old, new in LEGACY_NAMES.items() if old in ds.variables or old in ds.dims}
        groups[g] = ds.rename(names) if names else ds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.InferenceData(**groups)


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


def kind_of(attrs: dict) -> str | None:
    """The kind of fit a file's attrs describe (files from before ``extent_kind`` say it by their estimator);
    ``None`` for a file that is not an extent result."""
    if "extent_estimator" not in attrs:
        return None
    return str(attrs.get("extent_kind", "survey" if attrs["extent_estimator"] == "survey" else "count"))


# -- the fitted data, by kind ---------------------------------------------------------------------------------
def _text_columns_as_str(units):
    text = units.select_dtypes(exclude="number").columns
    units[text] = units[text].fillna("").astype(str)  # an empty text cell reads back as missing
    return units


def _count_groups(data: ExtentData, withheld: bool) -> tuple[dict, dict]:
    counts = data.counts.assign(cases=data.counts["cases"].astype(float)) if withheld else data.counts
    groups = {"fit_data_units": _table_group(_text_columns_as_str(data.units.reset_index()), "unit_row"),
              "fit_data_counts": _table_group(counts, "cell")}
    attrs = {"extent_data_auxiliary": json.dumps({"covariates": list(data.covariates), "exposure": data.exposure,
                                                  "records_exposure": data.records_exposure})}
    return groups, attrs


def _count_data(idata: az.InferenceData, attrs: dict, path: Path) -> ExtentData:
    units = idata["fit_data_units"].to_dataframe().reset_index(drop=True)
    counts = idata["fit_data_counts"].to_dataframe().reset_index(drop=True)
    auxiliary = json.loads(attrs.get("extent_data_auxiliary", "{}"))
    withheld = attrs.get("extent_counts") == "withheld"
    if withheld and counts["cases"].notna().any():
        raise ExtentError(f"{path}: the file says its counts were withheld but it holds some (the file was "
                          "modified)")
    data = ExtentData.from_frames(units, counts.assign(cases=0) if withheld else counts,
                                  name=attrs["extent_data_name"], **auxiliary)
    return data.withhold_counts() if withheld else data


def _survey_groups(data: SurveyData, withheld: bool) -> tuple[dict, dict]:
    units = data.units.reset_index()
    groups = {"fit_data_units": xr.Dataset.from_dataframe(
                  units.astype({c: str for c in units.select_dtypes(exclude="number").columns})),
              "fit_data_survey": xr.Dataset.from_dataframe(data.responses)}
    attrs = {"extent_data_simulated": int(data.simulated), "extent_data_notes": json.dumps(list(data.notes)),
             "extent_survey_years": data.years, "extent_survey_covariates": json.dumps(list(data.covariates))}
    return groups, attrs


def _survey_data(idata: az.InferenceData, attrs: dict, path: Path) -> SurveyData:
    """The fitted survey, rebuilt (and validated again); returns may be missing only where the file says they
    were withheld."""
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
        years=float(attrs.get("extent_survey_years", attrs.get("extent_years", 1.0))),
        covariates=json.loads(attrs.get("extent_survey_covariates", "null")),
        name=attrs["extent_data_name"],
        units_source=f"{path} (units)",
        survey_source=f"{path} (survey)",
        simulated=bool(int(attrs.get("extent_data_simulated", 0))),
        notes=tuple(json.loads(attrs.get("extent_data_notes", "[]"))),
    )
    return data.withhold_returns() if withheld else data


_DATA = {"count": (_count_groups, _count_data), "survey": (_survey_groups, _survey_data)}


def data_kind(data) -> str:
    """``"survey"`` for :class:`~extent.data.survey.SurveyData`, else ``"count"``."""
    return "survey" if isinstance(data, SurveyData) else "count"


def _withhold(data):
    return data.withhold_returns() if isinstance(data, SurveyData) else data.withhold_counts()


def _is_withheld(data) -> bool:
    return data.returns_withheld if isinstance(data, SurveyData) else data.counts_withheld


# -- writer and reader ----------------------------------------------------------------------------------------
def save_result(result, path: str | Path, *, keep_counts: bool = False) -> Path:
    """Write a :class:`~extent.results.NationalResult` to ``path`` (atomically); see its ``to_netcdf``."""
    path = Path(path)
    kind = data_kind(result.data)
    withheld = not keep_counts or _is_withheld(result.data)
    data = _withhold(result.data) if withheld else result.data
    groups = stored_groups(result.idata, withhold=withheld)
    groups["predictions"] = result.national.to_dataset(name="national_total")
    data_groups, data_attrs = _DATA[kind][0](data, withheld)
    groups.update(data_groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = az.InferenceData(**groups)
    attrs = {
        "extent_kind": kind,
        "extent_estimator": result.estimator,
        "extent_mechanism": result.mechanism or "",
        "extent_years": json.dumps(result.years),
        "extent_point_estimate": result.point_estimate,
        "extent_interval_kind": result.interval_kind,
        "extent_plug_in": json.dumps(result.plug_in),
        "extent_settings": json.dumps(result.settings, default=str),
        "extent_diagnostics": json.dumps(result.diagnostics.to_dict() if result.diagnostics else None),
        "extent_data_name": data.name,
        "extent_data_hash": data.hash(),
        "extent_counts": "withheld" if withheld else "kept",
        **data_attrs,
        "extent_created_at": result.created_at,
        "extent_version": VERSION,
    }
    idata.predictions.attrs.update(attrs)
    idata.predictions.attrs["extent_checksum"] = checksum(result.national, idata.predictions.attrs)
    return write_netcdf(idata, path)


def load_result(path: str | Path, *, expect: str | None = None) -> dict:
    """The fields of the result saved at ``path`` (for the result class to construct itself from).

    Parameters
    ----------
    expect : {"count", "survey"}, optional
        Refuse a file of the other kind.

    Raises
    ------
    ExtentError
        A missing, unreadable or foreign file, one of the other kind than ``expect``, or one whose data, draws,
        attributes or diagnostics are not the ones that were saved.
    """
    path = Path(path)
    idata, attrs = read_netcdf(path)
    kind = kind_of(attrs)
    if kind not in KINDS:
        what = f"an extent {expect} result file" if expect else "an extent result file"
        raise ExtentError(f"{path}: not {what}")
    if expect is not None and kind != expect:
        raise ExtentError(f"{path}: not an extent {expect} result file: it holds a {kind} fit (load it with "
                          "NationalResult.from_netcdf)")
    try:
        data = _DATA[kind][1](idata, attrs, path)
        settings = json.loads(attrs["extent_settings"])
        diag = json.loads(attrs["extent_diagnostics"])
        fitted = {g: idata[g] for g in idata.groups() if g != "predictions" and not g.startswith("fit_data_")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            posterior = az.InferenceData(**fitted) if "posterior" in fitted else None
        national = idata.predictions["national_total"].load()
        if CATEGORY not in national.dims:  # survey files from before the one result type
            national = national.expand_dims({CATEGORY: [settings.get("joint_category") or "cases"]}, axis=-1)
        years = attrs.get("extent_years")
        fields = {
            "estimator": attrs["extent_estimator"],
            "data": data,
            "national": national,
            "idata": posterior,
            "diagnostics": Diagnostics(**diag) if diag else None,
            "settings": settings,
            "created_at": attrs["extent_created_at"],
            "mechanism": attrs.get("extent_mechanism") or None,
            "years": None if years is None else json.loads(str(years)),
            # files from before the declared rule said it in the GLM bootstrap's settings
            "point_estimate": attrs.get("extent_point_estimate", "plug-in" if settings.get("point_estimate") ==
                                        "plug_in" else "posterior median"),
            "interval_kind": attrs.get("extent_interval_kind", settings.get("interval_kind", "credible")),
            "plug_in": json.loads(attrs.get("extent_plug_in", json.dumps(settings.get("plug_in")))),
        }
    except (KeyError, TypeError, ValueError, AttributeError, ExtentError) as err:
        raise ExtentError(f"{path}: not a complete extent result file ({type(err).__name__}: {err})") from None
    _check_integrity(path, fields, attrs)  # on the names as stored: the checksum covers them
    if fields["idata"] is not None:
        fields["idata"] = renamed_legacy(fields["idata"])
        diagnosed = fields["settings"].get("diagnosed")
        if diagnosed:
            fields["settings"]["diagnosed"] = {k: [LEGACY_NAMES.get(v, v) for v in names]
                                               for k, names in diagnosed.items()}
    return fields


def checksum(national: xr.DataArray, attrs: dict) -> str:
    """SHA-256 of the national draws and the result's stored attrs (tamper evidence, not security)."""
    dims = (CHAIN, DRAW, CATEGORY) if CATEGORY in national.dims else (CHAIN, DRAW)
    h = hashlib.sha256(np.ascontiguousarray(national.transpose(*dims).values, float).tobytes())
    if CATEGORY in national.dims:
        h.update(json.dumps(list(map(str, national[CATEGORY].values))).encode())
    for key in sorted(k for k in attrs if k.startswith("extent_") and k != "extent_checksum"):
        h.update(f"{key}={attrs[key]}".encode())
    return h.hexdigest()


def _check_integrity(path: Path, fields: dict, attrs: dict) -> None:
    """Refuse loaded fields whose data, draws, attrs or diagnostics are not the ones that were saved."""
    if fields["data"].hash() != attrs.get("extent_data_hash"):
        raise ExtentError(f"{path}: the data in the file do not match its stored data hash (the file was modified)")
    if "extent_checksum" not in attrs:
        warnings.warn(f"{path}: written by an older extent without a checksum; it cannot be checked for changes",
                      UserWarning, stacklevel=4)
    elif checksum(fields["national"], attrs) != attrs["extent_checksum"]:
        raise ExtentError(f"{path}: the national draws or the stored settings and diagnostics do not match the "
                          "file's checksum (the file was modified)")
    spec, diagnostics, idata = fields["settings"].get("diagnosed"), fields["diagnostics"], fields["idata"]
    if diagnostics is not None and idata is not None and spec:
        post = idata.posterior.assign(national_total=fields["national"])
        again = Diagnostics.from_idata(az.InferenceData(posterior=post, sample_stats=idata.sample_stats),
                                       spec["var_names"], unit_names=tuple(spec["unit_names"]))
        stored, fresh = diagnostics.to_dict(), again.to_dict()
        if any(not np.isclose(stored[k], fresh[k], rtol=1e-9, equal_nan=True) for k in stored
               if isinstance(stored[k], (int, float)) and isinstance(fresh[k], (int, float))):
            raise ExtentError(f"{path}: the stored diagnostics ({diagnostics}) are not those of the draws in "
                              f"the file ({again}); the file was modified")
