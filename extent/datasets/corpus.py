"""The real-data corpus: complete area-level tables with a known national total.

Four published datasets (provenance in ``extent/datasets/corpus/PROVENANCE.md``), each in long format
``unit, year, category, cases, population``; every (year, category) *table* covers every unit, so its national
total is known exactly. They are the ground for the default between-unit spread prior
(:mod:`extent.elicitation`) and for real-data validation (:mod:`extent.calibrate.validation`).

Each unit gets a ``type``: for England and Wales the seven metropolitan forces (as in
:func:`~extent.datasets.load_ew_forces`; the City of London, inside the capital, is counted with them) against
the shire forces; for US states the four Census regions (Northeast, Midwest, South, West).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

from extent.data import ExtentData
from extent.exceptions import ConfigError

FILES = {
    "ew_recorded_crime": "england_wales_pfa_recorded_crime_2017_2019.csv",
    "us_ucr_crime": "us_states_fbi_ucr_crime_1979_2020.csv",
    "us_tycho_diseases": "us_states_tycho_notifiable_diseases.csv",
    "us_gun_murders": "us_states_gun_murders_2010.csv",
}
"""Corpus dataset name -> shipped file."""
DATASETS = tuple(FILES)

EW_METROPOLITAN = ("Metropolitan Police", "London, City of", "Greater Manchester", "Merseyside", "Northumbria",
                   "South Yorkshire", "West Midlands", "West Yorkshire")

US_REGIONS = {
    "Northeast": ("Connecticut", "Maine", "Massachusetts", "New Hampshire", "Rhode Island", "Vermont", "New Jersey",
                  "New York", "Pennsylvania"),
    "Midwest": ("Illinois", "Indiana", "Michigan", "Ohio", "Wisconsin", "Iowa", "Kansas", "Minnesota", "Missouri",
                "Nebraska", "North Dakota", "South Dakota"),
    "South": ("Delaware", "District of Columbia", "Florida", "Georgia", "Maryland", "North Carolina",
              "South Carolina", "Virginia", "West Virginia", "Alabama", "Kentucky", "Mississippi", "Tennessee",
              "Arkansas", "Louisiana", "Oklahoma", "Texas"),
    "West": ("Arizona", "Colorado", "Idaho", "Montana", "Nevada", "New Mexico", "Utah", "Wyoming", "Alaska",
             "California", "Hawaii", "Oregon", "Washington"),
}
"""US Census Bureau regions (50 states and DC)."""
_US_REGION_OF = {state.lower(): region for region, states in US_REGIONS.items() for state in states}


@dataclass(frozen=True)
class CorpusTable:
    """One complete table: every unit's count of one category in one year."""

    dataset: str
    year: str
    category: str

    @property
    def name(self) -> str:
        return f"{self.dataset}:{self.category}:{self.year}"


@cache
def load_corpus(dataset: str) -> pd.DataFrame:
    """The long table of one corpus dataset with a ``type`` per unit (``year`` as text).

    Raises
    ------
    ConfigError
        For an unknown dataset name.
    """
    if dataset not in FILES:
        raise ConfigError(f"unknown corpus dataset {dataset!r}; available: {', '.join(DATASETS)}")
    with resources.files("extent.datasets").joinpath("corpus", FILES[dataset]).open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype={"year": str})
    if dataset == "ew_recorded_crime":
        frame["type"] = frame["unit"].map(lambda u: "metropolitan" if u in EW_METROPOLITAN else "shire")
    else:
        frame["type"] = frame["unit"].str.lower().map(_US_REGION_OF)
    if frame["type"].isna().any():  # a unit missing from the lists above is a bug in this module
        raise ConfigError(f"{dataset}: units without a type: {sorted(set(frame.loc[frame['type'].isna(), 'unit']))}")
    return frame.drop(columns=[c for c in ("weeks_reporting",) if c in frame])


def corpus_tables(dataset: str | None = None) -> list[CorpusTable]:
    """Every (year, category) table of ``dataset`` (or of the whole corpus), in file order."""
    names = DATASETS if dataset is None else (dataset,)
    out = []
    for name in names:
        frame = load_corpus(name)
        keys = frame[["year", "category"]].drop_duplicates()
        out += [CorpusTable(name, y, c) for y, c in keys.itertuples(index=False)]
    return out


def table_frame(table: CorpusTable) -> pd.DataFrame:
    """The rows of one table: ``unit, type, population, cases``."""
    frame = load_corpus(table.dataset)
    rows = frame[(frame["year"] == table.year) & (frame["category"] == table.category)]
    return rows[["unit", "type", "population", "cases"]].reset_index(drop=True)


def table_data(table: CorpusTable, searched: list[str] | None = None) -> ExtentData:
    """A table as :class:`~extent.data.ExtentData`: all units, counts of ``searched`` ones (default all)."""
    rows = table_frame(table)
    units = rows[["unit", "population", "type"]]
    counts = rows[["unit", "cases"]].assign(category=table.category)
    if searched is not None:
        counts = counts[counts["unit"].isin(set(searched))]
    return ExtentData.from_frames(units, counts[["unit", "category", "cases"]], name=table.name,
                                  units_source=f"{table.name} units", counts_source=f"{table.name} counts")
