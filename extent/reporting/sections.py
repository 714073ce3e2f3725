"""Extra sections of ``extent report`` for the built-in dataset: the report's other tables."""

from __future__ import annotations

from extent.datasets import ReportDataset
from extent.reporting.npqs import npqs_section
from extent.reporting.render import Section


def sensitivity_section(table) -> Section:
    """How much of each interval's width comes from the between-unit spread prior (a refit under a wider one)."""
    shown = table.assign(**{
        "default prior": [f"{r.estimate:,.0f} ({r.lower:,.0f} to {r.upper:,.0f})" for r in table.itertuples()],
        "spread prior with twice the median": [f"{r.wider_estimate:,.0f} ({r.wider_lower:,.0f} to "
                                               f"{r.wider_upper:,.0f})" for r in table.itertuples()],
        "width ratio": [f"{r:.2f}" for r in table["width_ratio"]],
    })[["category", "default prior", "spread prior with twice the median", "width ratio"]]
    worst = float(table["width_ratio"].max())
    return Section(
        "How much of each interval comes from the spread prior",
        [f"With so few searched units the between-unit spread is barely identified, so its prior (derived from "
         f"real area-level tables, docs/validation.md) sets much of each interval's width. Refitted under a spread "
         f"prior with twice the median ({table['wider_prior'].iloc[0]}), the per annum intervals are up to "
         f"{worst:.1f} times as wide. Medians and {table['level'].iloc[0]:.0%} intervals per annum."],
        shown,
    )


def report_sections(dataset: ReportDataset, *, seed: int) -> list[Section]:
    """Sections on the searches, the published figures, the survey (NPQS) and the report's other tables."""
    published = dataset.published.copy()
    searches = dataset.searches[["category", "unit", "cases", "records", "search", "source", "note"]].fillna("")
    return [
        Section(
            "The record searches (the data)",
            [
                "Counts transcribed from the report, with its printing slips noted. Shire county 1 of Tables "
                "10-12 is the shire county of Tables 7-8 (paras 8.3.1, 9.3.2, 10.3.2); the metropolitan force is "
                "taken to be the same force in both searches."
            ],
            searches,
        ),
        Section(
            "The report's published naive figures",
            [
                "The report's figures imply scaling factors of about 19.2 (two forces, 'approximately three "
                "million') and 13.76 (three forces, 'approximately four million'); with the 2001 UK population of "
                "58.8 million those correspond to searched populations of 3.06 and 4.27 million."
            ],
            published,
        ),
        *npqs_section(dataset, seed=seed).as_sections(),
        Section("HMRC 'prosecutions' for importing indecent images (Table 9)", [], dataset.hmrc_prosecutions),
        Section("Computer Examination Unit workload in one force (Table 13)", [], dataset.ceu_workload),
        Section("Previous conviction status of suspected CAI users (Table 14)", [], dataset.conviction_status),
    ]
