"""Every quantitative claim of the report's extent sections, restated with an interval or marked unsupported.

The register (``extent/datasets/report_claims.csv``) lists each claim with its section, source paragraph or
table, the report's figure as printed, what the number counts, and how to compute it: ``method`` (the
estimator), ``inputs`` (a small spec, below), ``quantity`` (which of the estimator's quantities) and ``test``
(a threshold whose posterior probability the claim's words imply, e.g. ``<0.01`` for "less than 1%"). Claims the
report's own data cannot support have ``method`` ``unsupported`` and say why in ``note``.

``inputs`` by method:

* ``binomial``: ``successes/trials`` or ``successes/trials/population``;
* ``pooled_binomial``: ``label=successes/trials;label=...`` (fitted once per distinct spec);
* ``comparison``: ``x/n vs y/m`` (binomial rates) or ``x@exposure vs y@exposure`` (Poisson rates);
* ``trend``: ``table:column:family``, a series of the report's Table 9 or 13 (:func:`report_series`);
* ``national``: ``category:estimand`` of the hierarchical fit;
* ``force_level``: a category of the hierarchical fit (:class:`~extent.estimators.ForceLevel`);
* ``exact``: a value computed by arithmetic on published totals (no interval to give).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np
import pandas as pd

from extent.constants import CI_LEVEL
from extent.datasets import ReportDataset, read_table
from extent.disclosure import PRIMARY, SECOND, DisclosureRule, protect_counts
from extent.estimators.comparison import RateComparison
from extent.estimators.force_level import ForceLevel
from extent.estimators.proportion import BinomialProportion, PooledProportion
from extent.estimators.trend import CountTrend
from extent.exceptions import ConfigError
from extent.inference import SamplerConfig
from extent.measure_result import for_csv, format_measure
from extent.reporting.render import Section
from extent.reporting.summary import format_number
from extent.results import ExtentResult

CLAIM_COLUMNS = ["claim_id", "section", "source", "statement", "kind", "report_value", "estimate", "lower", "upper",
                 "level", "measure", "supported", "note", "sentence"]
"""Columns of ``claims.csv`` (``sentence``: one citable sentence per supported claim). :func:`evaluate_claims`
adds ``ours``, the estimate and interval as printed in the report."""
KINDS = ("national_count", "proportion", "comparison", "series", "force_level", "survey")
METHODS = ("binomial", "pooled_binomial", "comparison", "trend", "national", "force_level", "exact", "unsupported")
SECTION_ORDER = ["Key Findings", "5.3", "6.3", "7.3", "8.3", "9.3", "10.3", "10.4", "12.4", "13.5", "13.7",
                 "Appendix C"]
CEU_OBSERVED_MONTHS = 7
"""Table 13's 2002 figures are annual estimates from data to the end of July 2002 (footnote 54)."""
FORCE_THRESHOLD, FORCE_HIGH = 5.0, 100.0


def load_register() -> pd.DataFrame:
    """The shipped claims register, checked (kinds, methods, unique ids)."""
    reg = read_table("report_claims").fillna({"inputs": "", "quantity": "", "test": "", "note": ""})
    problems = [f"report_claims.csv, row {i}: unknown kind {k!r}" for i, k in enumerate(reg["kind"], 1)
                if k not in KINDS]
    problems += [f"report_claims.csv, row {i}: unknown method {m!r}" for i, m in enumerate(reg["method"], 1)
                 if m not in METHODS]
    if not reg["claim_id"].is_unique:
        problems.append("report_claims.csv: claim_id is not unique")
    if problems:
        raise ConfigError("; ".join(problems))
    return reg


def report_series(dataset: ReportDataset, table: str, column: str) -> pd.DataFrame:
    """A series of Table 9 or 13 as ``year, count, exposure``.

    Table 9 (HMRC, years to 31 March): 2004 is a part year of unpublished length, so it is left out. Table 13
    (one CEU): the 2002 figure is an annual estimate from January-July, entered as the part observed (figure x
    7/12) over 7/12 of a year, rounded to a whole count for examinations.
    """
    if table == "hmrc_prosecutions":
        frame = dataset.hmrc_prosecutions
        frame = frame[frame["year"] < 2004]
        return pd.DataFrame({"year": frame["year"], "count": frame[column], "exposure": 1.0})
    if table == "ceu_workload":
        frame = dataset.ceu_workload
        part = CEU_OBSERVED_MONTHS / 12
        counts = frame[column].astype(float).to_numpy().copy()
        exposure = np.where(frame["year"] == 2002, part, 1.0)
        counts = np.where(frame["year"] == 2002, counts * part, counts)
        if column == "examinations":
            counts = np.round(counts)
        return pd.DataFrame({"year": frame["year"], "count": counts, "exposure": exposure})
    raise ConfigError(f"no series for table {table!r}")


def _fraction(spec: str) -> dict:
    parts = [int(p) for p in spec.strip().split("/")]
    out = {"successes": parts[0], "trials": parts[1]}
    if len(parts) == 3:
        out["population"] = parts[2]
    return out


def _test(result, quantity: str, test: str) -> tuple[str, float] | None:
    if not test:
        return None
    m = re.fullmatch(r"(<|>|>=|<=)\s*([0-9.]+)", test)
    if not m:
        raise ConfigError(f"report_claims.csv: bad test {test!r}")
    op, x = m.group(1), float(m.group(2))
    above = result.prob_above(quantity, x) if op.startswith(">") else result.prob_below(quantity, x)
    return f"{op} {x:g}", above


def _probability(p: float) -> str:
    """``= 0.987``, or ``> 0.999`` / ``< 0.001`` at the ends (never ``= > 0.999``)."""
    return "> 0.999" if p > 0.999 else "< 0.001" if p < 0.001 else f"= {p:.3f}"


class _Evaluator:
    """Computes each register row, fitting each distinct model once."""

    def __init__(self, dataset: ReportDataset, bayes: ExtentResult | None, level: float, seed: int,
                 sampler: SamplerConfig):
        self.dataset, self.bayes, self.level, self.seed, self.sampler = dataset, bayes, level, seed, sampler
        self._cache: dict = {}

    def _once(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def result(self, row) -> tuple[object, str]:
        """The fitted result and the quantity of ``row``."""
        method, inputs, quantity = row.method, row.inputs, row.quantity
        if method == "binomial":
            table = pd.DataFrame([{"unit": "share", **_fraction(inputs)}])
            return BinomialProportion(seed=self.seed).fit(table, source=row.claim_id), "share"
        if method == "pooled_binomial":
            def make():
                rows = [{"unit": k, **_fraction(v)} for k, v in (p.split("=") for p in inputs.split(";"))]
                return PooledProportion(sampler=self.sampler).fit(pd.DataFrame(rows), source=row.claim_id)
            return self._once(("pooled", inputs), make), quantity
        if method == "comparison":
            a, b = (s.strip() for s in inputs.split(" vs "))
            if "@" in a:
                rows = [{"unit": lab, "events": int(s.split("@")[0]), "exposure": float(s.split("@")[1])}
                        for lab, s in (("first", a), ("second", b))]
            else:
                rows = [{"unit": lab, "events": int(s.split("/")[0]), "trials": int(s.split("/")[1])}
                        for lab, s in (("first", a), ("second", b))]
            return RateComparison(seed=self.seed).fit(pd.DataFrame(rows), source=row.claim_id), quantity
        if method == "trend":
            table, column, family = inputs.split(":")
            def make():
                series = report_series(self.dataset, table, column)
                return CountTrend(family=family, sampler=self.sampler, measure=row.measure).fit(series,
                                                                                               source=row.claim_id)
            return self._once(("trend", inputs), make), quantity
        if method == "force_level":
            fl = self._once("force_level", lambda: ForceLevel(threshold=FORCE_THRESHOLD, high=FORCE_HIGH)
                            .fit(self.bayes))
            return fl, f"{inputs}:{quantity}"
        raise ConfigError(f"{row.claim_id}: method {method!r} has no result")

    def evaluate(self, row) -> dict:
        base = {c: getattr(row, c) for c in ("claim_id", "section", "source", "statement", "kind", "report_value",
                                             "measure")}
        out = {**base, "estimate": np.nan, "lower": np.nan, "upper": np.nan, "level": self.level,
               "supported": row.method != "unsupported", "note": row.note, "sentence": "", "ours": ""}
        if row.method == "unsupported":
            return out
        if row.method == "exact":
            v = float(row.inputs)
            out.update(estimate=v, lower=v, upper=v)
            shown = format_measure(v, "proportion") if v < 1 else f"{v:,.0f}"
            out["ours"] = f"{shown} (exact)"
            out["sentence"] = f"{_cap(row.measure)}: {shown} (arithmetic on published totals; report: " \
                              f"{row.report_value}, {row.source})."
            return out
        if row.method == "national":
            if self.bayes is None:
                out.update(supported=False, note="needs the hierarchical fit")
                return out
            category, estimand = row.inputs.split(":")
            iv = self.bayes.interval(category, estimand, self.level)
            out.update(estimate=iv.estimate, lower=iv.lower, upper=iv.upper)
            shown = [format_number(x, estimand) for x in (iv.estimate, iv.lower, iv.upper)]
            out["ours"] = f"{shown[0]} ({shown[1]} to {shown[2]})"
            out["sentence"] = (f"{_cap(row.measure)}, {category.replace('_', ' ')}: about {shown[0]} "
                               f"({self.level:.0%} credible interval {shown[1]} to {shown[2]}; the report's naive "
                               f"figure: {row.report_value}, {row.source}).")
            if not self.bayes.converged:
                out["sentence"] += " [WARNING: fit not converged; do not cite]"
            return out
        result, quantity = self.result(row)
        iv = result.interval(quantity, self.level)
        out.update(estimate=iv.estimate, lower=iv.lower, upper=iv.upper)
        out["ours"] = (f"{format_measure(iv.estimate, iv.scale)} ({format_measure(iv.lower, iv.scale)} to "
                       f"{format_measure(iv.upper, iv.scale)})")
        text = (f"{_cap(row.measure)}: {format_measure(iv.estimate, iv.scale)} ({self.level:.0%} credible interval "
                f"{format_measure(iv.lower, iv.scale)} to {format_measure(iv.upper, iv.scale)}; report: "
                f"{row.report_value}, {row.source})")
        tested = _test(result, quantity, row.test)
        if tested:
            op, x = tested[0].split()
            shown = format_measure(float(x), iv.scale) if iv.scale in ("proportion", "ratio") else x
            label = quantity.split(":")[-1].replace("_", " ")
            probability = f"P({label} {op} {shown}) {_probability(tested[1])}"
            text += f"; {probability}"
            out["note"] = "; ".join(n for n in (probability, row.note) if n)
        if not result.converged:
            text += " [WARNING: fit not converged; do not cite]"
        out["sentence"] = text + "."
        return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def evaluate_claims(dataset: ReportDataset, bayes: ExtentResult | None, *, level: float = CI_LEVEL,
                    seed: int = 20260, sampler: SamplerConfig | None = None,
                    register: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every claim of the register restated: one row per claim, :data:`CLAIM_COLUMNS`.

    Parameters
    ----------
    dataset : ReportDataset
    bayes : ExtentResult or None
        The hierarchical fit of the record searches (national and force-level claims); without it those claims
        are marked unsupported ("needs the hierarchical fit").
    level : float
        Interval probability.
    seed : int
        Seed of the Monte Carlo estimators.
    sampler : SamplerConfig, optional
        Settings of the MCMC fits (pooled shares, trends).
    """
    register = load_register() if register is None else register
    ev = _Evaluator(dataset, bayes, level, seed, sampler or SamplerConfig(random_seed=seed))
    rows = []
    for row in register.itertuples(index=False):
        if bayes is None and row.method == "force_level":
            rows.append({**ev.evaluate(row._replace(method="unsupported")), "note": "needs the hierarchical fit",
                         "supported": False})
            continue
        rows.append(ev.evaluate(row))
    return pd.DataFrame(rows, columns=[*CLAIM_COLUMNS, "ours"])


WITHHELD_CLAIM = "[withheld: quotes a per-force count that disclosure control suppresses]"


def protect_claims(claims: pd.DataFrame, counts: pd.DataFrame, rule: DisclosureRule | None,
                   register: pd.DataFrame | None = None,
                   protected_totals: Collection[int] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Claims with every figure withheld that would give back a count the report's tables suppress.

    A claim is withheld when one of its inputs (``x/n``) is a suppressed cell of ``counts`` (``cases`` ``x`` of
    ``records`` ``n``), or a count below the threshold out of a searched force's records or out of one of
    ``protected_totals`` (the totals of other tables the report protects, such as Table 14's 199 suspects of
    one force): its statement (which quotes the count), the report's figure (a share of a known denominator)
    and our estimate (a share's median gives the count back the same way). National totals and shares of them
    stay published.

    Returns
    -------
    (claims, withheld_ids)
    """
    if rule is None or "records" not in counts:
        return claims, []
    register = load_register() if register is None else register
    protection = protect_counts(counts, rule)
    hidden, forces, totals = set(), set(), {int(t) for t in protected_totals}
    for r in counts.itertuples(index=False):
        if pd.isna(r.records) or pd.isna(r.cases):
            continue
        forces.add(int(r.records))
        if protection.status.get((str(r.category), str(r.unit))) in (PRIMARY, SECOND):
            hidden.add((int(r.cases), int(r.records)))
    inputs = dict(zip(register["claim_id"], register["inputs"].fillna("").astype(str), strict=True))
    withheld = []
    for claim_id in claims["claim_id"]:
        for part in inputs.get(claim_id, "").split(" vs "):
            x, _, n = part.strip().partition("/")
            if not (x.isdigit() and n.isdigit()):
                continue
            x, n = int(x), int(n)
            if (x, n) in hidden or ((n in forces or n in totals) and 0 < x < rule.threshold):
                withheld.append(claim_id)
                break
    out = claims.copy()
    rows = out["claim_id"].isin(withheld)
    out.loc[rows, ["statement", "sentence"]] = WITHHELD_CLAIM
    out.loc[rows, ["report_value", "ours"]] = "[c]"
    out.loc[rows, ["estimate", "lower", "upper"]] = np.nan
    out.loc[rows, "note"] = f"disclosure control (threshold {rule.threshold}): see the Disclosure control section"
    return out, withheld


def write_claims_csv(claims: pd.DataFrame, path) -> None:
    """``claims.csv``: numbers in positional notation (never ``1.49e+03``), four significant figures."""
    for_csv(claims[CLAIM_COLUMNS], ("estimate", "lower", "upper")).to_csv(path, index=False)


def claims_sections(claims: pd.DataFrame) -> list[Section]:
    """The claims grouped by the report's section, one report section each, after an overview."""
    n_sup = int(claims["supported"].sum())
    intro = Section(
        "The report's claims, restated",
        [f"Every quantitative claim of the report's extent sections ({len(claims)}; {n_sup} restated with an "
         f"interval, {len(claims) - n_sup} that its own data cannot support, each with the reason). The same rows "
         "are in claims.csv. Intervals are central credible intervals; shares use Jeffreys priors (with a "
         "finite-population correction where the sample is a known finite total), comparisons independent "
         "posteriors, trends log-linear models with part-year exposure, force-level statements the hierarchical "
         "fit's per-force predictive counts. Where the search was a census of a force's records the interval is "
         "for forces like these, not a sampling error."],
    )
    sections = [intro]
    order = {s: i for i, s in enumerate(SECTION_ORDER)}
    for section, group in sorted(claims.groupby("section", sort=False), key=lambda g: order.get(g[0], 99)):
        table = pd.DataFrame({
            "claim": group["statement"],
            "source": group["source"],
            "report": group["report_value"],
            "ours (median and interval)": [o if sup else "not supported" for o, sup in zip(group["ours"],
                                                                                         group["supported"],
                                                                                         strict=True)],
            "citable sentence": group["sentence"],
            "note": group["note"],
        })
        title = f"Claims: {section}" if section in ("Key Findings", "Appendix C") else f"Claims: section {section}"
        sections.append(Section(title, [], table))
    return sections
