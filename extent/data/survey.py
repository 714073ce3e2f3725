"""Survey responses with non-response: the :class:`SurveyData` container and its CSV reader.

A survey went to some (usually all) units of the country. Each surveyed unit either responded, returning a
count of cases (at most ``cap``, the number it was asked to return, so a return at the cap means "that many or
more"), or stayed silent. Units not in the survey table were not surveyed. Covariates for the response and
rate models come from extra numeric columns of the survey table and of the units table, plus each unit's
population and ``type``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from extent.data.containers import ExtentData
from extent.data.io import read_csv
from extent.data.schema import SURVEY, UNITS, unknown_units, validate_frame, where
from extent.exceptions import ConfigError, DataValidationError

RESERVED = {"unit", "population", "population_cv", "type", "responded", "returned", "cap"}
"""Column names that are never taken as covariates."""


@dataclass(frozen=True, eq=False)
class SurveyData:
    """A validated survey of units with non-response and capped returns.

    Build it with :meth:`from_frames` or :func:`read_survey_data`; both raise
    :class:`~extent.exceptions.DataValidationError` naming source, row and column.

    Attributes
    ----------
    units : pandas.DataFrame
        Every unit of the country, indexed by ``unit``: ``population``, ``population_cv``, optional ``type`` and
        the covariate columns.
    responses : pandas.DataFrame
        One row per surveyed unit: ``unit``, ``responded`` (0/1), ``returned`` (float, NaN for non-responders),
        ``cap`` (float, ``inf`` when uncapped).
    covariates : tuple of str
        Raw covariate columns of ``units`` used by the MAR/MNAR models (besides log population and type).
    years : float
        Length of the period the survey asked about, in years.
    simulated : bool
        True for surveys made by :mod:`extent.simulate.survey`; reports label them as simulated.
    records : ExtentData or None
        Record searches of some of the same units (:meth:`with_records`), for a joint fit; not part of the
        :meth:`hash` and not stored in a fit file.
    records_category : str or None
        The record-search category the survey measures.
    """

    units: pd.DataFrame
    responses: pd.DataFrame
    covariates: tuple[str, ...] = ()
    years: float = 1.0
    name: str = "survey"
    simulated: bool = False
    notes: tuple[str, ...] = field(default=())
    records: ExtentData | None = None
    records_category: str | None = None

    @classmethod
    def from_frames(
        cls,
        units: pd.DataFrame,
        survey: pd.DataFrame,
        *,
        years: float = 1.0,
        cap: float | None = None,
        covariates: list[str] | None = None,
        name: str = "survey",
        units_source: str = "units",
        survey_source: str = "survey",
        simulated: bool = False,
        notes: tuple[str, ...] = (),
    ) -> SurveyData:
        """Validate and copy a units table and a survey table.

        Parameters
        ----------
        units : pandas.DataFrame
            ``unit``, ``population`` (> 0), optional ``type``, ``population_cv`` and numeric covariates.
        survey : pandas.DataFrame
            ``unit``, ``responded`` (0/1), ``returned`` (whole number >= 0, empty when not responded), optional
            ``cap`` (whole number > 0) and numeric covariates.
        years : float
            Period length in years (> 0).
        cap : float, optional
            Cap for rows without a ``cap`` value (default: uncapped).
        covariates : list of str, optional
            Covariate columns to use; default every extra numeric column of either table.
        name : str
            Label for reports.
        units_source : str
            Name of the units table in error messages.
        survey_source : str
            Name of the survey table in error messages.
        simulated : bool
            Mark the survey as simulated.
        notes : tuple of str
            Provenance notes carried into reports.
        """
        for frame, source in ((units, units_source), (survey, survey_source)):
            if not isinstance(frame, pd.DataFrame):
                raise DataValidationError([f"{source}: expected a pandas DataFrame, got {type(frame).__name__}"])
        if not (isinstance(years, int | float) and years > 0):
            raise DataValidationError([f"{survey_source}: years must be > 0, got {years!r}"])
        if cap is not None and not (cap > 0 and float(cap).is_integer()):
            raise DataValidationError([f"{survey_source}: cap must be a whole number > 0, got {cap!r}"])
        u = validate_frame(units, UNITS, units_source)
        s = validate_frame(survey, SURVEY, survey_source)
        _check_survey(u, s, survey_source, default_cap=cap)
        u = u.set_index("unit")
        if "population_cv" not in u:
            u["population_cv"] = 0.0
        chosen = _covariates(u, s, covariates, units_source, survey_source)
        extra = [c for c in chosen if c in s.columns]
        if extra:
            merged = s.set_index("unit")[extra].reindex(u.index)
            for c in extra:
                u[c] = merged[c].where(merged[c].notna(), u.get(c, np.nan))
        missing = [c for c in chosen if u[c].isna().any()]
        if missing:
            units_missing = list(u.index[u[missing[0]].isna()])
            raise DataValidationError([
                (f"{survey_source}: covariate '{missing[0]}' is missing for unit(s) {units_missing[:5]} "
                "(units not in the survey need it in the units table)")
            ])
        responses = pd.DataFrame({
            "unit": s["unit"].astype(str).to_numpy(),
            "responded": s["responded"].astype(np.int64).to_numpy(),
            "returned": s["returned"].to_numpy(float),
            "cap": (s["cap"] if "cap" in s else pd.Series(np.nan, index=s.index)).fillna(
                np.inf if cap is None else float(cap)).to_numpy(float),
        })
        return cls(units=u, responses=responses, covariates=tuple(chosen), years=float(years), name=name,
                   simulated=simulated, notes=tuple(notes))

    # -- views ---------------------------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        """Number of units in the country."""
        return len(self.units)

    @property
    def n_surveyed(self) -> int:
        return len(self.responses)

    @property
    def n_responded(self) -> int:
        return int(self.responses["responded"].sum())

    @property
    def responders(self) -> list[str]:
        """Units that responded, in survey order."""
        return list(self.responses.loc[self.responses["responded"] == 1, "unit"])

    @property
    def at_cap(self) -> np.ndarray:
        """For each responder, whether its return is at the cap (right-censored)."""
        self.require_returns()
        r = self.responses[self.responses["responded"] == 1]
        return (r["returned"] >= r["cap"]).to_numpy()

    @property
    def n_capped(self) -> int:
        return int(self.at_cap.sum())

    @property
    def returned_total(self) -> int:
        self.require_returns()
        return int(self.responses["returned"].sum())

    @property
    def returns_withheld(self) -> bool:
        """Whether the responders' returns are missing: data loaded from a fit saved without them."""
        r = self.responses
        return bool(r.loc[r["responded"] == 1, "returned"].isna().any())

    def require_returns(self) -> None:
        """Refuse to fit (or total) a survey whose returns were withheld when the fit was saved."""
        if self.returns_withheld:
            raise DataValidationError([f"{self.name}: the per-unit survey returns were withheld when this fit was "
                                       "saved (disclosure control); refit from the original survey"])

    def with_records(self, records: ExtentData, category: str) -> SurveyData:
        """The same survey with record searches of ``category`` in some of its units: one object for a joint
        fit (:class:`~extent.estimators.SurveyEstimator`)."""
        if not isinstance(records, ExtentData):
            raise DataValidationError([f"{self.name}: records must be ExtentData, got {type(records).__name__}"])
        if category not in records.categories:
            raise ConfigError(f"unknown category {category!r}; known: {', '.join(records.categories)}")
        return replace(self, records=records, records_category=category)

    def withhold_returns(self) -> SurveyData:
        """The same survey without its returns (missing), as a fit saved without raw counts stores it."""
        return replace(self, responses=self.responses.assign(returned=np.nan))

    def covariate_matrix(self) -> pd.DataFrame:
        """Standardised covariates per unit (rows in units order).

        Columns: ``log_population`` (centred, unit sd), one 0/1 column ``type[level]`` per non-reference
        type (centred), and each covariate column (centred, unit sd). Constant columns are dropped.
        """
        u = self.units
        cols = {"log_population": np.log(u["population"].to_numpy(float))}
        if "type" in u and u["type"].nunique() > 1:
            reference = u["type"].value_counts().index[0]
            for level in sorted(t for t in u["type"].unique() if t != reference):
                cols[f"type[{level}]"] = (u["type"] == level).to_numpy(float)
        for c in self.covariates:
            cols[c] = u[c].to_numpy(float)
        out = {}
        for name, x in cols.items():
            sd = x.std()
            if sd > 0:
                out[name] = (x - x.mean()) / (sd if not name.startswith("type[") else 1.0)
        return pd.DataFrame(out, index=u.index)

    def hash(self) -> str:
        """Short SHA-256 of the validated tables."""
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.units.reset_index().astype(str), index=False).to_numpy().tobytes())
        h.update(pd.util.hash_pandas_object(self.responses, index=False).to_numpy().tobytes())
        h.update(repr((self.covariates, self.years)).encode())
        return h.hexdigest()[:12]

    def __repr__(self) -> str:
        label = "SIMULATED " if self.simulated else ""
        returns = ("returns withheld" if self.returns_withheld else
                   f"{self.returned_total} returned, {self.n_capped} at cap")
        return (f"SurveyData({label}{self.name!r}: {self.n_units} units, {self.n_surveyed} surveyed, "
                f"{self.n_responded} responded, {returns})")


def _check_survey(units: pd.DataFrame, survey: pd.DataFrame, source: str, *, default_cap=None) -> None:
    problems = unknown_units(units, survey, source)
    for i, r in enumerate(survey.itertuples(index=False), start=1):
        if r.responded == 1 and np.isnan(r.returned):
            problems.append(f"{where(source, i, 'returned')}: is missing (the unit responded)")
        if r.responded == 0 and not np.isnan(r.returned):
            problems.append(f"{where(source, i, 'returned')}: {r.returned:g} given but responded is 0; leave it empty")
        cap, given = getattr(r, "cap", np.nan), ""
        if np.isnan(cap) and default_cap is not None:
            cap, given = float(default_cap), " given for rows without one (--cap)"
        if not np.isnan(r.returned) and not np.isnan(cap) and r.returned > cap:
            problems.append(f"{where(source, i, 'returned')}: {r.returned:g} exceeds the cap {cap:g}{given}")
    if problems:
        raise DataValidationError(problems)


def _covariates(units: pd.DataFrame, survey: pd.DataFrame, chosen: list[str] | None, units_source: str,
                survey_source: str) -> list[str]:
    """Pick covariate columns; every survey extra column must be numeric, units extras only if numeric."""
    problems, numeric = [], {}
    for frame, source, strict in ((survey, survey_source, True), (units, units_source, False)):
        for c in frame.columns:
            if c in RESERVED or c in numeric:
                continue
            text = frame[c].map(lambda v: v.strip() if isinstance(v, str) else v).replace("", np.nan)
            values = pd.to_numeric(text, errors="coerce")
            bad = np.flatnonzero(values.isna().to_numpy() & text.notna().to_numpy())
            if bad.size and (strict or (chosen is not None and c in chosen)):
                problems.append(f"{where(source, int(bad[0]) + 1, c)}: {frame[c].iloc[bad[0]]!r} is not a number")
            elif not bad.size:
                numeric[c] = values.astype(float).to_numpy()
                if frame is units:
                    units[c] = values.astype(float).to_numpy()
                else:
                    survey[c] = values.astype(float).to_numpy()
    if chosen is not None:
        for c in chosen:
            if c not in numeric and not any(p.split(": ")[0].endswith(f"column '{c}'") for p in problems):
                problems.append(f"{survey_source}: covariate '{c}' is in neither the units nor the survey table")
    if problems:
        raise DataValidationError(problems)
    return list(chosen) if chosen is not None else list(numeric)


def read_survey_data(
    units_csv: str | Path,
    survey_csv: str | Path,
    *,
    years: float = 1.0,
    cap: float | None = None,
    covariates: list[str] | None = None,
    name: str | None = None,
) -> SurveyData:
    """Read and validate a units CSV and a survey CSV (see :meth:`SurveyData.from_frames`)."""
    return SurveyData.from_frames(
        read_csv(units_csv),
        read_csv(survey_csv),
        years=years,
        cap=cap,
        covariates=covariates,
        name=name or Path(survey_csv).stem,
        units_source=str(units_csv),
        survey_source=str(survey_csv),
    )
