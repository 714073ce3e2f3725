"""What the report's own postal survey (NPQS) aggregates support, and what they cannot.

The report publishes only aggregates: 52 forces surveyed, 24 responded, 113 questionnaires returned (para
3.1.3), responders asked for about ten cases each (Appendix C para 3), and the participation pattern of
Appendix C Table 1. It publishes no per-force returns, so none of the survey models of
:mod:`extent.models.survey.builder` can be fitted to it, and nothing here invents per-force figures. This module
computes, without MCMC:

* response-rate models by participation pattern (Beta(1, 1) priors, conjugate posteriors);
* what 113 returns capped at ten from 24 responders imply for the mean caseload per responder, under a
  lognormal-Poisson caseload with an assumed between-force spread, and the national totals those imply under
  MCAR and under a "non-responders twice as busy" pattern mixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from extent.reporting.render import Section

N_SURVEYED = 52
N_RESPONDED = 24
N_RETURNED = 113
CAP = 10
SURVEY_YEARS = 4.0
"""January 1999 to December 2002 (para 3.1.2)."""
SPREADS = (0.0, 0.5, 1.0, 1.5, 2.0)
"""Assumed between-force sd of the log caseload (the aggregates cannot estimate it)."""
DELTA_BUSY = float(np.log(2.0))
"""Pattern-mixture assumption shown: non-responders have twice the responders' caseload."""


@dataclass(frozen=True)
class NpqsSection:
    """The NPQS section of ``extent report``: paragraphs and two tables.

    Attributes
    ----------
    title : str
    paragraphs : list of str
    response_table : pandas.DataFrame
        Response rate by participation pattern (Appendix C Table 1) with 90% intervals.
    table : pandas.DataFrame
        Implied caseload per responder and national totals for each assumed between-force spread.
    """

    title: str
    paragraphs: list[str]
    response_table: pd.DataFrame
    table: pd.DataFrame

    @property
    def markdown(self) -> str:
        return "\n\n".join(s.markdown for s in self.as_sections())

    def as_sections(self) -> list[Section]:
        """The section as two :class:`~extent.reporting.render.Section` objects (response, then returns)."""
        return [
            Section(self.title, self.paragraphs[:2], self.response_table),
            Section("What 113 capped returns from 24 responders imply", self.paragraphs[2:], self.table),
        ]


def mean_capped_return(mean: float, spread: float, cap: int = CAP, nodes: int = 40) -> float:
    """Expected ``min(Y, cap)`` for ``Y ~ Poisson(mean x exp(spread z - spread^2 / 2))``, ``z ~ N(0, 1)``."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    mu = mean * np.exp(spread * x - spread**2 / 2)
    k = np.arange(1, cap + 1)
    at_least = special.gammainc(k[:, None], mu[None, :])  # P(Y >= k | mu)
    return float((at_least.sum(axis=0) * w).sum() / w.sum())


def share_at_cap(mean: float, spread: float, cap: int = CAP, nodes: int = 40) -> float:
    """Expected share of responders whose caseload reaches the cap."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    mu = mean * np.exp(spread * x - spread**2 / 2)
    return float((special.gammainc(cap, mu) * w).sum() / w.sum())


def implied_mean(average_return: float, spread: float, cap: int = CAP) -> float:
    """Mean caseload per responder at which the expected capped return equals ``average_return``."""
    return float(np.exp(optimize.brentq(lambda lm: mean_capped_return(np.exp(lm), spread, cap) - average_return,
                                        np.log(1e-3), np.log(1e7), xtol=1e-10)))


def response_by_pattern(npqs_response: pd.DataFrame, *, seed: int, level: float = 0.9) -> pd.DataFrame:
    """Posterior response rate (Beta(1, 1) prior) of forces that did / did not take part in other stages."""
    rng = np.random.default_rng(seed)
    rows, draws = [], {}
    for other, g in npqs_response.groupby("other_stages", sort=False):
        n, k = int(g["forces"].sum()), int(g.loc[g["responded_npqs"] == 1, "forces"].sum())
        x = rng.beta(1 + k, 1 + n - k, 20_000)
        draws[int(other)] = x
        lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
        rows.append({"took_part_in_other_stages": "yes" if other else "no", "forces": n, "responded": k,
                     "response_rate": k / n, "lower": float(lo), "upper": float(hi), "level": level})
    diff = draws[1] - draws[0]
    lo, hi = np.quantile(diff, [(1 - level) / 2, (1 + level) / 2])
    rows.append({"took_part_in_other_stages": "difference (yes - no)", "forces": np.nan, "responded": np.nan,
                 "response_rate": float(np.median(diff)), "lower": float(lo), "upper": float(hi), "level": level})
    return pd.DataFrame(rows)


def implied_totals(spreads: tuple[float, ...] = SPREADS) -> pd.DataFrame:
    """Mean caseload per responder implied by 113 / 24 capped returns, and national totals, per spread."""
    average = N_RETURNED / N_RESPONDED
    rows = []
    for s in spreads:
        m = implied_mean(average, s)
        silent = N_SURVEYED - N_RESPONDED
        rows.append({
            "between_force_sd": s,
            "mean_cases_per_responder": m,
            "responders_at_cap": N_RESPONDED * share_at_cap(m, s),
            "national_total_mcar": N_SURVEYED * m,
            "national_per_annum_mcar": N_SURVEYED * m / SURVEY_YEARS,
            "national_total_nonresponders_x2": N_RESPONDED * m + silent * m * np.exp(DELTA_BUSY),
        })
    return pd.DataFrame(rows)


def npqs_section(report_dataset, *, seed: int) -> NpqsSection:
    """The NPQS section: what the report's survey aggregates support and what they cannot.

    Parameters
    ----------
    report_dataset : extent.datasets.ReportDataset
        Its ``npqs_response`` table (Appendix C Table 1) is used.
    seed : int
        Seeds the Monte Carlo of the response-rate intervals.
    """
    resp = response_by_pattern(report_dataset.npqs_response, seed=seed)
    table = implied_totals()
    yes, no, diff = resp.iloc[0], resp.iloc[1], resp.iloc[2]
    first, last = table.iloc[0], table.iloc[-1]
    max_at_cap = N_RETURNED // CAP
    paragraphs = [
        (f"The postal survey (NPQS) went to all {N_SURVEYED} UK forces; {N_RESPONDED} responded "
        f"({N_RESPONDED / N_SURVEYED:.1%}) and returned {N_RETURNED} case questionnaires (para 3.1.3). Appendix C "
        "Table 1 splits the forces by whether they took part in other stages of the research. These aggregates are "
        "all the report publishes: there are no per-force returns, and extent does not invent any."),
        (f"Response rate by participation pattern (Beta(1, 1) prior): forces that took part in other stages "
        f"responded at {yes['response_rate']:.1%} (90% interval {yes['lower']:.1%} to {yes['upper']:.1%}), the "
        f"others at {no['response_rate']:.1%} ({no['lower']:.1%} to {no['upper']:.1%}); difference "
        f"{diff['response_rate']:.0%} ({diff['lower']:.0%} to {diff['upper']:.0%}). Response is strongly tied to "
        "engagement with the research (consistent with MAR given participation); the report's own explanation, "
        "workload under Operation Ore, points to busier forces answering less (MNAR). The aggregates cannot tell "
        "these apart."),
        (f"Responders were asked for a sample of about {CAP} cases each, so a return of {CAP} means '{CAP} or "
        f"more'. {N_RETURNED} returns from {N_RESPONDED} responders average {N_RETURNED / N_RESPONDED:.2f}, so "
        f"not every responder was at the cap, at most {max_at_cap} could have been, and responders knew of at least "
        f"{N_RETURNED} cases (if each questionnaire is a distinct case). The table gives, for an assumed "
        "between-force spread of caseloads (lognormal-Poisson), the mean caseload per responder that makes the "
        f"expected capped return {N_RETURNED / N_RESPONDED:.2f}, and the national totals for Jan 1999 - Dec 2002 "
        "if non-responders are like responders (MCAR) or have twice their caseload. The implied mean per responder "
        f"runs from {first['mean_cases_per_responder']:.1f} (no spread) to "
        f"{last['mean_cases_per_responder']:,.0f} (sd {last['between_force_sd']:g}): the capped returns say "
        "almost nothing about the total."),
        ("What the aggregates cannot support: a national estimate of extent. Without per-force returns the number "
        "of capped returns, the between-force spread and the responders' populations are unknown, so no survey "
        "model can be fitted; the returned cases were, in the report's words, 'in all likelihood' not selected at "
        "random; and the strength of any MNAR dependence cannot be estimated from who answered. The report was "
        "right to abandon the survey as a measure of extent. With per-force returns (unit, responded, returned, "
        "cap) `extent survey` fits MCAR, MAR, MNAR selection and delta-adjustment models and shows the "
        "sensitivity of the total to the MNAR assumption; the examples do so on SIMULATED surveys, labelled as such."),
    ]
    return NpqsSection(title="The police postal survey (NPQS): non-response", paragraphs=paragraphs,
                       response_table=resp.round(3), table=_rounded(table))


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    out = table.round({"mean_cases_per_responder": 1, "responders_at_cap": 1})
    for c in ("national_total_mcar", "national_per_annum_mcar", "national_total_nonresponders_x2"):
        out[c] = out[c].round().astype(np.int64)
    return out
