"""Extra sections of ``extent report`` for the built-in dataset: the report's other tables."""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from extent.datasets import ReportDataset
from extent.disclosure import SECONDARY, DisclosureRule, protect_counts, protect_table
from extent.reporting.npqs import npqs_section
from extent.reporting.plots import sensitivity_plot
from extent.reporting.render import Section


def sensitivity_section(table, withheld: Collection[str] = ()) -> Section:
    """How much of each interval's width comes from the between-unit spread prior (a refit under a wider one).

    Rows of ``withheld`` categories (disclosure control) show ``[c]``.
    """
    def shown(r, prefix=""):
        if r.category in withheld:
            return SECONDARY
        est, lo, hi = (getattr(r, f"{prefix}{k}") for k in ("estimate", "lower", "upper"))
        return f"{est:,.0f} ({lo:,.0f} to {hi:,.0f})"

    rows = list(table.itertuples())
    shown_table = table.assign(**{
        "default prior": [shown(r) for r in rows],
        "spread prior with twice the median": [shown(r, "wider_") for r in rows],
        "width ratio": [SECONDARY if r.category in withheld else f"{r.width_ratio:.2f}" for r in rows],
    })[["category", "default prior", "spread prior with twice the median", "width ratio"]]
    worst = float(table.loc[~table["category"].isin(list(withheld)), "width_ratio"].max())
    return Section(
        "How much of each interval comes from the spread prior",
        [f"With so few searched units the between-unit spread is barely identified, so its prior (derived from "
         f"real area-level tables, docs/validation.md) sets much of each interval's width. Refitted under a spread "
         f"prior with twice the median ({table['wider_prior'].iloc[0]}), the per annum intervals are up to "
         f"{worst:.1f} times as wide. Medians and {table['level'].iloc[0]:.0%} intervals per annum."],
        shown_table,
        figure=sensitivity_plot(table, withheld),
        figure_file="sensitivity.png",
    )


def model_checks_section(comparison, withheld: Collection[str] = ()) -> Section:
    """The LOO comparison of model variants (:func:`extent.compare_variants`) beside each variant's national
    intervals per annum; categories in ``withheld`` (disclosure control) show ``[c]``."""
    nat = comparison.national
    loo = comparison.loo
    rows = []
    for variant in loo.index:
        r = loo.loc[variant]
        g = nat[nat["variant"] == variant].set_index("category")
        row = {"variant": variant, "rank": int(r["rank"]), "elpd_loo": f"{r['elpd_loo']:.1f}",
               "elpd difference (se)": "0" if r["elpd_diff"] == 0 else f"{-r['elpd_diff']:.1f} ({r['dse']:.1f})",
               "converged": "yes" if bool(g["converged"].all()) else "NO"}
        for c, x in g.iterrows():
            row[c.replace("_", " ")] = (SECONDARY if c in withheld
                                        else f"{x['estimate']:,.0f} ({x['lower']:,.0f} to {x['upper']:,.0f})")
        rows.append(row)
    level = float(nat["level"].iloc[0])
    return Section(
        "Model checks: variants compared by leave-one-out cross-validation",
        ["Each variant was refitted to the same counts and scored by PSIS-LOO over the searched cells (elpd_loo: "
         "higher predicts a held-out cell better; the difference is to the best variant, with its standard "
         "error). LOO can only score the searched cells, not the unsearched units that make most of a national "
         "total, so the table shows each variant's national medians and "
         f"{level:.0%} intervals per annum beside it: a variant that predicts the cells about as well but moves "
         "a figure says how much that figure rests on the model's form. Variants: the fitted model; nearly "
         "Poisson counts (all of the between-unit spread shared across categories); all of the spread "
         "category-specific (negative binomial per cell); without log population; without the covariates "
         "(where there are any)."],
        pd.DataFrame(rows),
    )


def report_sections(dataset: ReportDataset, *, seed: int,
                    disclosure: DisclosureRule | None = DisclosureRule()) -> list[Section]:
    """Sections on the searches, the published figures, the survey (NPQS) and the report's other tables.

    Observed counts of cases and people (the searches, Tables 9 and 14, and 13's examinations) are protected by
    ``disclosure`` like the main table (``None``: shown as transcribed); the NPQS tables count forces, which are
    public bodies, and are shown as they are.
    """
    protection = protect_counts(dataset.data.counts, disclosure)
    searches = dataset.searches[["category", "unit", "cases", "records", "search", "source", "note"]].fillna("")
    searches = protection.apply(searches)
    published = dataset.published.copy()
    hidden = published["category"].map(protection.total_suppressed).fillna(False).astype(bool)
    published = published.astype({"value": object})
    published.loc[hidden, ["value", "note"]] = [SECONDARY, ""]
    hmrc, *hmrc_n = protect_table(dataset.hmrc_prosecutions, ["indicative", "indecent", "indecent_and_obscene"],
                                  disclosure, total="all")
    ceu, *ceu_n = protect_table(dataset.ceu_workload, ["examinations"], disclosure)
    convictions, *conv_n = protect_table(dataset.conviction_status, ["sexual_offence", "other_offence", "none"],
                                         disclosure, total="all")
    return [
        Section(
            "The record searches (the data)",
            [
                "Counts transcribed from the report, with its printing slips noted. Shire county 1 of Tables "
                "10-12 is the shire county of Tables 7-8 (paras 8.3.1, 9.3.2, 10.3.2); the metropolitan force is "
                "taken to be the same force in both searches."
                + (" Small counts are suppressed (see Disclosure control); notes that quote them are withheld."
                   if disclosure is not None else "")
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
        Section("HMRC 'prosecutions' for importing indecent images (Table 9)", [], hmrc, tuple(hmrc_n)),
        Section("Computer Examination Unit workload in one force (Table 13)", [], ceu, tuple(ceu_n)),
        Section("Previous conviction status of suspected CAI users (Table 14)", [], convictions, tuple(conv_n)),
    ]
