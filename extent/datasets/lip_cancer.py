"""The Scottish lip cancer data: a real small-area count dataset for checking national-total intervals.

Provenance: observed and expected cases of lip cancer in the 56 districts of Scotland, 1975-1980, and the
percentage of the workforce in agriculture, fishing and forestry (Clayton and Kaldor 1987, *Biometrics*
43:671-681), as shipped in ``extent/datasets/scotland_lip_cancer.csv``, copied unchanged from the stan-dev
``example-models`` repository (commit b23dd485, via ``/work/shared/data/scotland_lip_cancer.csv``).

For ``extent`` a district is a unit and its *expected* cases (indirect standardisation for age) are its
exposure: :func:`lip_cancer_data` sets ``population = expected x 100,000``, so the model's rate per 100,000
is the standardised incidence ratio (SIR) and the national total is the 536 observed cases. Districts with
``pct_aff`` >= 10 get ``type = "rural"`` (26 of 56), the rest ``"other"``, when ``types=True``.
"""

from __future__ import annotations

import pandas as pd

from extent.data import ExtentData
from extent.datasets import read_table

RURAL_PCT_AFF = 10
"""Districts with at least this % of the workforce in agriculture, fishing and forestry are ``rural``."""


def load_lip_cancer() -> pd.DataFrame:
    """The 56 districts: ``district, observed, expected, pct_aff`` (``district`` is ``"district 1"`` ...)."""
    raw = read_table("scotland_lip_cancer")
    return pd.DataFrame({
        "district": [f"district {i}" for i in raw["district_index"]],
        "observed": raw["observed_cases"].astype("int64"),
        "expected": raw["expected_cases"].astype(float),
        "pct_aff": raw["pct_aff"].astype(float),
    })


def lip_cancer_data(searched: list[str] | None = None, *, types: bool = False) -> ExtentData:
    """The lip cancer data as :class:`ExtentData` (one category, ``lip_cancer``, one period).

    Parameters
    ----------
    searched : list of str, optional
        Districts whose counts are kept (default: all 56, for the truth).
    types : bool
        Give districts a ``type`` (``rural`` / ``other`` by ``pct_aff``).
    """
    table = load_lip_cancer()
    units = pd.DataFrame({"unit": table["district"], "population": table["expected"] * 1e5})
    if types:
        units["type"] = ["rural" if p >= RURAL_PCT_AFF else "other" for p in table["pct_aff"]]
    keep = table if searched is None else table[table["district"].isin(searched)]
    counts = pd.DataFrame({"unit": keep["district"], "category": "lip_cancer", "cases": keep["observed"],
                           "years": 1.0})
    return ExtentData.from_frames(units, counts, name="scotland_lip_cancer",
                                  notes=(("Clayton and Kaldor (1987): Scottish lip cancer, 56 districts, 1975-80; "
                                          "population = expected cases x 1e5."),))


__all__ = ["RURAL_PCT_AFF", "lip_cancer_data", "load_lip_cancer"]
