"""What a report of a survey fit shows where a count report shows record-search tables (:func:`write_report`).

A survey fit has no record-search counts and no naive scaling: its table gives the surveyed and responding
units and the national estimate per estimand; per-unit returns and their totals are never shown, so the
disclosure log says so instead of listing suppressed cells.
"""

from __future__ import annotations

from extent.constants import CI_LEVEL, ESTIMANDS
from extent.disclosure import DisclosureRule
from extent.models.survey.builder import __doc__ as SURVEY_MODEL_DOC
from extent.reporting.summary import format_number
from extent.results import ESTIMAND_LABELS

SURVEY_INTRO = (
    "A survey asked every unit for its count of cases; some answered and some did not, and a return at the cap "
    "means that many or more. The national total is the responders' returns (capped returns treated as "
    "censored) plus predictive counts for the units that did not respond, under a named assumption about why "
    "they did not (the non-response mechanism)."
)

NOT_SHOWN = "not shown"
"""The table cell of a survey's returned cases: per-unit returns are never published."""


def survey_rows(result, level: float = CI_LEVEL) -> list[dict]:
    """Rows of the report's national table for a survey fit (the count report's columns)."""
    data = result.data
    rows = []
    for c in result.categories:
        for e in ESTIMANDS:
            iv = result.interval(c, e, level)
            first = e == ESTIMANDS[0]
            rows.append({
                "category": f"{c.replace('_', ' ')} ({result.mechanism})" if first else "",
                "searched": f"{data.n_surveyed} surveyed, {data.n_responded} responded" if first else "",
                "cases": NOT_SHOWN if first else "",
                "estimand": ESTIMAND_LABELS[e].replace("in total", f"total ({result.period(c):g} years)"),
                "naive": "n/a",
                "published": "n/a",
                "estimate": format_number(iv.estimate, e),
                "interval": f"{format_number(iv.lower, e)} to {format_number(iv.upper, e)}",
            })
    return rows


def survey_disclosure_paragraphs(rule: DisclosureRule | None) -> list[str]:
    """The disclosure log of a survey report: nothing per unit is shown."""
    if rule is None:
        return ["WARNING: disclosure control was OFF for this report. A survey report shows no per-unit returns, "
                "but the fit file may hold them; do not publish this folder as it is."]
    return [f"Statistical disclosure control (threshold rule, threshold {rule.threshold}): this report shows no "
            "per-unit survey return and no total of returns, only which units were surveyed and responded and the "
            "national model-based estimates. The fit file (fit.nc) holds no per-unit returns unless it was "
            "written with raw counts kept."]


def survey_model_text(mechanism: str | None = None) -> str:
    """The non-response models' description: its first paragraph and what ``mechanism`` assumes."""
    paragraphs = SURVEY_MODEL_DOC.strip().split("\n\n")
    text = " ".join(paragraphs[0].split())
    base = (mechanism or "").removeprefix("joint-")
    lines = SURVEY_MODEL_DOC.splitlines()
    if f"``{base}``" in [line.split(" (")[0].strip() for line in lines]:
        start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"``{base}``"))
        body = []
        for line in lines[start + 1:]:
            if not line.startswith("    "):
                break
            body.append(line.strip())
        text += f" Mechanism {mechanism}: " + " ".join(body).replace("``", "")
    return text
