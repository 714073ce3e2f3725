"""Tables and prose for reports: naive vs interval estimates side by side, one citable sentence each."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from extent.constants import CI_LEVEL
from extent.disclosure import DisclosureRule, withheld_sentence
from extent.results import ExtentResult


def comparison_table(bayes: ExtentResult, naive: ExtentResult, level: float = CI_LEVEL,
                     published: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per category and estimand: naive figure, published figure (if given), median and interval."""
    b = bayes.national_extent(level).set_index(["category", "estimand"])
    n = naive.national_extent(level).set_index(["category", "estimand"])
    out = pd.DataFrame(
        {
            "naive": n["estimate"],
            "estimate": b["estimate"],
            "lower": b["lower"],
            "upper": b["upper"],
        }
    )
    if published is not None:
        pub = published.set_index(["category", "estimand"])["value"]
        out.insert(0, "published", pub.reindex(out.index))
    out["naive_in_interval"] = (out["naive"] >= out["lower"]) & (out["naive"] <= out["upper"])
    out["level"] = level
    return out.reset_index()


def format_number(x: float, estimand: str) -> str:
    """Numbers as a report writer would print them (one decimal per unit per annum)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "n/a"
    return f"{x:,.1f}" if estimand == "per_unit_per_annum" else f"{x:,.0f}"


def citations(bayes: ExtentResult, level: float = CI_LEVEL, *, force: bool = False,
              hidden: Collection[str] = (), rule: DisclosureRule | None = None) -> dict[str, str]:
    """One sentence per category (per annum, with its interval).

    A category in ``hidden`` (its figures would give back a count that ``rule`` suppresses) gets the disclosure
    line, always. A category :meth:`~ExtentResult.withheld` for non-convergence gets a line saying so and why,
    unless ``force`` (then the sentence with its warning).
    """
    withheld = bayes.withheld()
    out = {}
    for c in bayes.categories:
        if c in hidden and rule is not None:
            out[c] = withheld_sentence(c, rule)
        elif force or c not in withheld:
            out[c] = bayes.citation(c, level, force=force)
        else:
            out[c] = withheld_line(c, withheld[c])
    return out


def withheld_line(name: str, reasons: list[str]) -> str:
    """The line that stands in for a withheld citable sentence."""
    return (f"{name.replace('_', ' ')}: WITHHELD, not cited because the fit has not converged "
            f"({'; '.join(reasons)}).")
