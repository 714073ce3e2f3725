"""Built-in datasets: the report's published numbers and a real police force frame.

Everything here is read from CSV files shipped inside the package (provenance in ``docs/datasets.md`` and in
each file's ``source``/``note`` columns); nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from extent.constants import REPORT_DATASET
from extent.data import ExtentData

UK_POPULATION_2001 = 58_789_194
"""UK usual-resident population, 2001 Census (ONS; E&W 52,041,916 + Scotland 5,062,011 + NI 1,685,267)."""
EW_POPULATION_2001 = 52_041_916
SCOTLAND_POPULATION_2001 = 5_062_011
NI_POPULATION_2001 = 1_685_267

N_FORCES = 52
"""UK police services in the report (43 England & Wales, 8 Scotland, 1 Northern Ireland)."""
SURVEY_YEARS = (1999, 2002)
"""Survey period, January 1999 - December 2002 (four years)."""
STATED_POPULATIONS = {2: 3_000_000, 3: 4_000_000}
"""'Approximately three million' (paras 5.3.4, 6.3.4) and 'approximately four million' (8.3.2, 9.3.3, 10.3.3)."""
IMPLIED_FACTORS = {2: 19.2, 3: 13.76}
"""Scaling factors implied by the published figures (e.g. 134/7 = 19.1, 442/23 = 19.2, 1,493 x 4/434 = 13.76)."""

REPORT_CATEGORIES = [
    "international_csa_victim",
    "international_child_sex_abuser",
    "internet_grooming",
    "internet_incitement_conspiracy",
    "internet_cai",
]

SEARCHED_POPULATION_CV = 0.2
"""Relative uncertainty given to each searched force's population (for the two forces of Tables 7-8: of their
split): the report states only rounded combined populations and never the split between forces."""
TWO_FORCE_GROUP_CV = 0.1
"""Relative uncertainty of the two forces' combined 'approximately three million' (rounded to the nearest
million: +-0.5 million uniform is an SD of 0.29 million, about 0.1)."""


def read_table(name: str) -> pd.DataFrame:
    """Read one shipped CSV (``name`` without ``.csv``)."""
    with resources.files(__name__).joinpath(f"{name}.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def load_ew_forces() -> pd.DataFrame:
    """The 43 police force areas of England and Wales with 2011 Census populations and type.

    ``type`` is ``metropolitan`` for the seven English metropolitan forces (Greater Manchester, Merseyside,
    Northumbria, South Yorkshire, West Midlands, West Yorkshire, the Metropolitan Police) and ``shire``
    (non-metropolitan) for the rest.
    """
    return read_table("ew_pfa_population_2011")


@dataclass(frozen=True)
class ReportDataset:
    """The report's record searches, published figures and other tables.

    Attributes
    ----------
    data : ExtentData
        Units (the 52 UK forces, see :func:`report_units`) and the record-search counts (Tables 7, 8, 10-12).
    searches : DataFrame
        The counts with their source table and notes on the report's printing slips.
    published : DataFrame
        The published naive national figures (``category, estimand, value, source, note``).
    hmrc_prosecutions, ceu_workload, conviction_status, npqs_response : DataFrame
        Tables 9, 13, 14 and Appendix C Table 1.
    """

    data: ExtentData
    searches: pd.DataFrame
    published: pd.DataFrame
    hmrc_prosecutions: pd.DataFrame
    ceu_workload: pd.DataFrame
    conviction_status: pd.DataFrame
    npqs_response: pd.DataFrame

    n_forces: int = N_FORCES
    survey_years: tuple[int, int] = SURVEY_YEARS
    stated_populations: tuple[tuple[int, int], ...] = tuple(STATED_POPULATIONS.items())

    def published_value(self, category: str, estimand: str) -> float:
        """One published naive figure (NaN where the report omits it)."""
        row = self.published[(self.published["category"] == category) & (self.published["estimand"] == estimand)]
        return float(row["value"].iloc[0])


def report_units() -> pd.DataFrame:
    """The 52 UK police forces for the report's period, with the three searched forces in place.

    The report names none of its forces, gives only rounded combined populations and no per-force figures,
    so this frame is an approximation, documented in ``docs/datasets.md``:

    * searched: ``metropolitan`` and ``shire_county_1`` (Tables 7-8, combined ~3 million) and
      ``shire_county_2`` (with them, ~4 million in Tables 10-12). Their nominal populations reproduce the
      report's implied scaling factors with the 2001 UK population (3,061,937 = 58,789,194 / 19.2 and
      4,272,470 = 58,789,194 / 13.76); the metropolitan/shire split (2.06 m / 1.0 m) is not published: the two
      are ``population_group`` ``tables_7_8``, a split (``population_cv`` = 0.2) of a combined "approximately
      three million" known to 10% (``population_group_cv``); shire county 2 (the difference of two rounded
      totals) carries ``population_cv`` = 0.2;
    * unsearched: the 43 England & Wales forces (2011 Census sizes), eight Scottish forces (Scotland's 2001
      total split equally: their populations are not in our data) and the PSNI (NI 2001 total), less the
      metropolitan force and two shire forces closest in size to the searched ones; the 49 left are rescaled
      so that all 52 sum to the 2001 UK population.
    """
    ew = load_ew_forces()
    ew["population"] = ew["population"] * EW_POPULATION_2001 / ew["population"].sum()
    scotland = pd.DataFrame(
        {"force": [f"Scotland force {i}" for i in range(1, 9)], "population": SCOTLAND_POPULATION_2001 / 8,
         "type": "shire"}
    )
    ni = pd.DataFrame({"force": ["Police Service of Northern Ireland"], "population": NI_POPULATION_2001,
                       "type": "shire"})
    frame = pd.concat([ew, scotland, ni], ignore_index=True)

    p2 = round(UK_POPULATION_2001 / IMPLIED_FACTORS[2])
    p3 = round(UK_POPULATION_2001 / IMPLIED_FACTORS[3])
    searched = pd.DataFrame(
        {
            "unit": ["metropolitan", "shire_county_1", "shire_county_2"],
            "population": [p2 - 1_000_000, 1_000_000, p3 - p2],
            "type": ["metropolitan", "shire", "shire"],
            "population_cv": SEARCHED_POPULATION_CV,
            "population_group": ["tables_7_8", "tables_7_8", None],
            "population_group_cv": [TWO_FORCE_GROUP_CV, TWO_FORCE_GROUP_CV, np.nan],
            "searched_in_report": True,
        }
    )
    drop = []
    for _, row in searched.iterrows():
        pool = frame[(frame["type"] == row["type"]) & ~frame.index.isin(drop)]
        drop.append(int((pool["population"] - row["population"]).abs().idxmin()))
    rest = frame.drop(index=drop).reset_index(drop=True)
    rest["population"] = rest["population"] * (UK_POPULATION_2001 - p3) / rest["population"].sum()
    rest = rest.rename(columns={"force": "unit"}).assign(population_cv=0.0, searched_in_report=False)
    units = pd.concat([searched, rest], ignore_index=True)
    units["population"] = units["population"].round().astype(np.int64)
    return units


def load_report() -> ReportDataset:
    """Load the report's numbers (Gallagher et al., international and Internet CSA, 1999-2002)."""
    searches = read_table("report_searches")
    counts = searches[["unit", "category", "cases", "records", "years"]]
    data = ExtentData.from_frames(
        report_units().drop(columns="searched_in_report"),
        counts,
        name=REPORT_DATASET,
        units_source="report units",
        counts_source="report searches",
        notes=(
            "Counts: record searches in Tables 7-8 (recorded CSA offences, two forces) and Tables 10-12 "
            "(CSA-related reports to Computer Examination Units, three forces), January 1999 - December 2002.",
            "Populations: the report states only 'approximately three/four million'; per-force populations are "
            "nominal and treated as uncertain.",
        ),
    )
    return ReportDataset(
        data=data,
        searches=searches,
        published=read_table("report_published"),
        hmrc_prosecutions=read_table("report_hmrc_prosecutions"),
        ceu_workload=read_table("report_ceu_workload"),
        conviction_status=read_table("report_conviction_status"),
        npqs_response=read_table("report_npqs_response"),
    )


def load_lip_cancer():
    """The Scottish lip cancer data (56 districts); see :mod:`extent.datasets.lip_cancer`."""
    from extent.datasets.lip_cancer import load_lip_cancer as _load

    return _load()


def load_dataset(name: str) -> ExtentData:
    """Load a built-in dataset's :class:`ExtentData` by name (``"report"``)."""
    if name == "report":
        return load_report().data
    from extent.exceptions import ConfigError

    raise ConfigError(f"unknown dataset {name!r}; available: 'report'")


__all__ = [
    "N_FORCES",
    "REPORT_CATEGORIES",
    "UK_POPULATION_2001",
    "ReportDataset",
    "load_dataset",
    "load_ew_forces",
    "load_lip_cancer",
    "load_report",
    "read_table",
    "report_units",
]
