"""Write a report folder: Markdown and HTML report, forest plot, tidy estimates CSV and the fit itself."""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from extent.constants import CI_LEVEL, ESTIMANDS, VERSION
from extent.disclosure import (
    SECONDARY,
    CountProtection,
    DisclosureRule,
    design_warnings,
    fit_file_refusal,
    protect_counts,
    protect_estimates,
    withheld_figures,
)
from extent.exceptions import ConfigError, DisclosureWarning, ExtentError
from extent.files import follow_umask
from extent.models.counts.builder import __doc__ as MODEL_DOC
from extent.reporting.plots import forest_plot
from extent.reporting.summary import citations, comparison_table, format_number
from extent.reporting.survey_parts import SURVEY_INTRO, survey_disclosure_paragraphs, survey_model_text, survey_rows
from extent.results import ExtentResult, estimand_label

INTRO = (
    "The report searched the records of only two or three of the country's forces and scaled the counts up by "
    "population, with no interval. Here the same counts feed a hierarchical model: force effects shared across "
    "categories and partially pooled across forces, category-specific variation, a size effect (log "
    "population) and a spread that is smaller for larger forces, uncertain populations, and the national total "
    "of known cases as observed counts for searched "
    "forces plus posterior predictive counts for every other force. The between-force spread, which with two "
    "or three forces the counts cannot pin down, has a prior summarising hundreds of real area-level tables. "
    "The naive figure is shown next to each interval."
)

GENERIC_INTRO = (
    "Counts from the units that were searched are scaled up to the whole country. Naive scaling multiplies "
    "them by the ratio of the total population to the searched units' population and gives no interval. Here "
    "the same counts feed a hierarchical model: unit effects shared across categories and partially pooled "
    "across units, category-specific variation, a size effect (log population) and a spread that is smaller for "
    "larger units, and the national total of known cases as the observed counts of searched units plus "
    "posterior predictive counts for every other unit. The between-unit spread, which a few searched units "
    "cannot pin down, has a prior summarising hundreds of real area-level tables. The naive figure is shown "
    "next to each interval."
)


@dataclass(frozen=True)
class Section:
    """An extra report section: paragraphs and an optional table.

    ``suppressed`` counts the table's cells suppressed by disclosure control (primary, secondary), for the
    report's disclosure log; a section builder that shows observed counts protects its table itself.
    """

    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    suppressed: tuple[int, int] = (0, 0)
    figure: object | None = None
    """A matplotlib figure shown after the table, saved as :attr:`figure_file` in the report folder."""
    figure_file: str | None = None

    @property
    def markdown(self) -> str:
        parts = list(self.paragraphs)
        if self.table is not None:
            parts.append(markdown_table(self.table))
        if self.figure_file:
            parts.append(f"![{self.title}]({self.figure_file})")
        return "\n\n".join(parts)

    @property
    def html(self) -> str:
        parts = [f"<p>{prose_html(p)}</p>" for p in self.paragraphs]
        if self.table is not None:
            parts.append(html_table(self.table))
        if self.figure_file:
            parts.append(f'<img src="{html.escape(self.figure_file)}" alt="{html.escape(self.title)}">')
        return "\n".join(parts)


def format_cell(value) -> str:
    """A table cell as people read it: whole numbers with thousands separators (1,493, never ``1.49e+03``),
    other numbers to four significant figures in positional notation, missing values empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    x = float(value)
    if x.is_integer():
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return np.format_float_positional(x, precision=4, unique=False, fractional=False, trim="-")


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every cell formatted by :func:`format_cell` (for Markdown and HTML alike); a ``year``
    column is printed as years are (2001, not 2,001)."""
    out = frame.astype(object).map(format_cell)
    for c in frame.columns:
        if str(c) == "year":
            out[c] = out[c].str.replace(",", "", regex=False)
    return out


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?%?")
_CONNECTIVES = frozenset({"to", "of", "about", "exact", "points"})
_PLACEHOLDERS = frozenset({SECONDARY, "n/a"})


def is_numeric_text(text: str) -> bool:
    """Whether a formatted cell reads as a number, so is right-aligned: numbers joined only by "to", "of",
    "about", "exact", "points", brackets and dashes ('148 (63 to 406)', '18 of 23', '1-4', '23.3% (exact)'), or a
    suppressed or missing number."""
    if text in _PLACEHOLDERS:
        return True
    if not _NUMBER.search(text):
        return False
    rest = _NUMBER.sub(" ", text).translate(str.maketrans("()-", "   "))
    return all(w in _CONNECTIVES for w in rest.split())


def cell_class(text: str) -> str:
    """The HTML class of a cell: ``num`` (right-aligned, one line) or ``text``, plus ``short`` for a label of a
    few words that should not wrap and ``long`` for prose that needs a column wide enough to read."""
    if is_numeric_text(text):
        return "num"
    words = len(text.split())
    if len(text) <= 16 and words <= 3:
        return "text short"
    return "text long" if words >= 8 else "text"


def html_table(frame: pd.DataFrame) -> str:
    """An HTML table of ``frame`` (no index): cells formatted by :func:`format_cell` and classed by
    :func:`cell_class`, headers with spaces for underscores (so they can wrap) and aligned with a numeric column."""
    shown = display_frame(frame)
    head = []
    for c in shown.columns:
        cells = [v for v in shown[c] if v]
        numeric = bool(cells) and all(is_numeric_text(v) for v in cells)
        head.append(f'<th class="{"num" if numeric else "text"}">{html.escape(str(c).replace("_", " "))}</th>')
    rows = ["<tr>" + "".join(f'<td class="{cell_class(v)}">{html.escape(v)}</td>' for v in row) + "</tr>"
            for row in shown.itertuples(index=False)]
    return "<table>\n<thead><tr>" + "".join(head) + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>"


def prose_html(text: str) -> Markup:
    """Report prose as HTML: escaped, with Markdown code spans (```extent survey```) as ``<code>``."""
    parts = html.escape(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return Markup("`".join(parts))
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table of ``frame`` (no index), cells formatted by :func:`format_cell`."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in display_frame(frame).itertuples(index=False):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _rows(bayes: ExtentResult, naive: ExtentResult, level: float, published: pd.DataFrame | None,
          protection: CountProtection, withheld: dict[str, set[str]]) -> list[dict]:
    table = comparison_table(bayes, naive, level, published)
    counts = bayes.data.counts
    rows = []
    for r in table.itertuples(index=False):
        sel = counts[counts["category"] == r.category]
        e, first = r.estimand, r.estimand == ESTIMANDS[0]
        hide_naive, hide = r.category in withheld.get(naive.estimator, ()), r.category in withheld.get(
            bayes.estimator, ())
        rows.append(
            {
                "category": r.category if first else "",
                "searched": len(sel) if first else "",
                "cases": protection.total(r.category) if first else "",
                "estimand": estimand_label(e, bayes.data).replace("in total", f"total ({bayes.data.years(r.category):g} years)"),
                "naive": SECONDARY if hide_naive else format_number(r.naive, e),
                "published": SECONDARY if hide_naive else format_number(getattr(r, "published", float("nan")), e),
                "estimate": SECONDARY if hide else format_number(r.estimate, e),
                "interval": SECONDARY if hide else f"{format_number(r.lower, e)} to {format_number(r.upper, e)}",
            }
        )
    return rows


def disclosure_section(rule: DisclosureRule | None, protection: CountProtection, withheld: dict[str, set[str]],
                       design: list[str], sections: list[Section]) -> Section:
    """The report's disclosure log: the rule, what was suppressed, and the designs that could give counts back."""
    if rule is None:
        return Section("Disclosure control", [
            "WARNING: disclosure control was OFF for this report: small per-unit counts are shown as observed and "
            "national figures that give them back are published. Do not publish this folder as it is.",
            *[f"Design: {d}." for d in design]])
    n_primary = protection.n_primary + sum(s.suppressed[0] for s in sections)
    n_secondary = protection.n_secondary + sum(s.suppressed[1] for s in sections)
    cats = list(protection.totals)
    table = pd.DataFrame({
        "category": cats,
        "units searched": [sum(k[0] == c for k in protection.status) for c in cats],
        "suppressed (primary)": [sum(k[0] == c and s == "primary" for k, s in protection.status.items())
                                 for c in cats],
        "suppressed (secondary)": [sum(k[0] == c and s == "secondary" for k, s in protection.status.items())
                                   for c in cats],
        "total suppressed": ["yes" if protection.total_suppressed[c] else "no" for c in cats],
        "national figures withheld": [", ".join(e for e, w in withheld.items() if c in w) or "none" for c in cats],
    })
    paragraphs = [
        f"Statistical disclosure control (threshold rule of ONS and Eurostat practice, threshold "
        f"{rule.threshold}): {rule.describe()}. National model-based estimates are published unless they would "
        "give a suppressed count back. The fit file (fit.nc) holds no per-unit counts unless it was written with "
        "raw counts kept.",
        f"Suppressed in this report: {n_primary} cell{'s' * (n_primary != 1)} below the threshold (primary) and "
        f"{n_secondary} more so that totals cannot be differenced back (secondary), over all tables; the table "
        "gives the record searches by category.",
        *[f"Design warning: {d}." for d in design],
    ]
    return Section("Disclosure control", paragraphs, table)


def write_report(
    out_dir: str | Path,
    bayes: ExtentResult,
    naive: ExtentResult | None = None,
    *,
    level: float = CI_LEVEL,
    title: str | None = None,
    published: pd.DataFrame | None = None,
    sections: list[Section] | None = None,
    save_fit: bool = True,
    cite_unconverged: bool = False,
    disclosure: DisclosureRule | None = DisclosureRule(),
    keep_counts: bool = False,
    claims: pd.DataFrame | None = None,
    intro: str | None = None,
    unit_word: str = "units",
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``forest.png``, ``estimates.csv`` (and ``fit.nc``, and ``claims.csv``
    when ``claims`` is given: :func:`extent.reporting.claims.evaluate_claims`) into ``out_dir``.

    Disclosure control (:mod:`extent.disclosure`) is on by default: small per-unit counts are suppressed in
    every table, figures that would give them back are withheld (in the tables, the citable sentences, the plot
    and ``estimates.csv``, whose ``disclosure`` column says why), ``fit.nc`` holds no per-unit counts unless
    ``keep_counts`` (and is not written when its national draws would give a suppressed count back), and a
    "Disclosure control" section logs what was done. ``disclosure=None`` turns it off
    (with a :class:`~extent.exceptions.DisclosureWarning`). Sections that show observed counts protect their own
    tables with the same rule.

    Files are written to a temporary folder beside ``out_dir`` and swapped in whole only when all succeed
    (:func:`_swap_in`): an interrupted run leaves the old report or none, never a mix. Temporary folders left by
    killed runs are removed first.

    The citable sentences of categories whose fit has not converged are withheld (a line says why) unless
    ``cite_unconverged``.

    ``bayes`` is any :class:`~extent.results.NationalResult`. A count fit is compared with ``naive`` (required);
    a survey fit has no record-search tables or naive figure (:mod:`extent.reporting.survey_parts`), and
    ``intro`` defaults to the text for its kind.

    Returns
    -------
    dict
        Paths of the files written, by kind.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExtentError(f"{out_dir}: exists and is not a folder")
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    diag = bayes.diagnostics
    survey = bayes.kind == "survey"
    if survey:
        withheld, design = {}, []
    elif naive is None:
        raise ConfigError("a report of a count fit compares it with the naive scaling: pass naive")
    else:
        protection = protect_counts(bayes.data.counts, disclosure)
        withheld = withheld_figures((naive, bayes), protection, level)
        design = design_warnings(bayes.data.counts, bayes.data.n_units, disclosure)
    if disclosure is None:
        warnings.warn("disclosure control is OFF: the report shows small per-unit counts and figures that give "
                      "them back; do not publish it", DisclosureWarning, stacklevel=2)
    for d in design:
        warnings.warn(f"disclosure: {d}", DisclosureWarning, stacklevel=2)
    hidden = withheld.get(bayes.estimator, set())
    refusal = fit_file_refusal("fit.nc", hidden, keep_counts) if save_fit else None
    if refusal:
        save_fit = False
        design.append(refusal)
        warnings.warn(f"disclosure: {refusal}", DisclosureWarning, stacklevel=2)
    log = (Section("Disclosure control", survey_disclosure_paragraphs(disclosure)) if survey
           else disclosure_section(disclosure, protection, withheld, design, sections or []))
    sections = [log, *(sections or [])]
    context = {
        "title": title or bayes.data.name,
        "created_at": bayes.created_at,
        "version": VERSION,
        "seed": bayes.settings.get("sampler", {}).get("random_seed"),
        "level_pct": f"{level:.0%}",
        "converged": bayes.converged,
        "problems": "; ".join(diag.problems) if diag else "",
        "intro": intro if intro is not None else SURVEY_INTRO if survey else GENERIC_INTRO,
        "unit_word": unit_word,
        "has_published": published is not None,
        "rows": survey_rows(bayes, level) if survey else _rows(bayes, naive, level, published, protection, withheld),
        "figure": "forest.png",
        "sentences": list(citations(bayes, level, force=cite_unconverged, hidden=hidden, rule=disclosure).values()),
        "disclosure_off": disclosure is None,
        "diagnostics": str(diag) if diag else "n/a",
        "model_text": survey_model_text(bayes.mechanism) if survey else " ".join(MODEL_DOC.strip().split("\n\n")[0].split()),
        "priors": [(k, _prior_text(v)) for k, v in bayes.settings.get("priors", {}).items()],
        "sampler": ", ".join(f"{k}={v}" for k, v in bayes.settings.get("sampler", {}).items()
                             if k != "progressbar"),
        "notes": list(bayes.data.notes),
        "sections": sections,
    }
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("extent.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    env.filters["prose"] = prose_html
    for s in context["sections"]:
        s.html  # noqa: B018  (fail before writing anything if a section cannot render)
    _remove_stale(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=TMP_SUFFIX, dir=parent))
    try:
        (tmp / "report.md").write_text(env.get_template("report.md.j2").render(**context), encoding="utf-8")
        html_context = dict(context, sections=[{"title": s.title, "html": Markup(s.html)}
                                               for s in context["sections"]])
        (tmp / "report.html").write_text(env.get_template("report.html.j2").render(**html_context), encoding="utf-8")
        fig = forest_plot(bayes, naive, level=level, withheld=hidden,
                          naive_withheld=withheld.get(naive.estimator, ()) if naive is not None else ())
        fig.savefig(tmp / "forest.png", dpi=120)
        import matplotlib.pyplot as plt

        plt.close(fig)
        for s in context["sections"]:
            if s.figure is not None:
                s.figure.savefig(tmp / s.figure_file, dpi=120)
                plt.close(s.figure)
        tidy = pd.concat([r.national_extent(level) for r in (naive, bayes) if r is not None], ignore_index=True)
        protect_estimates(tidy, withheld, disclosure).to_csv(tmp / "estimates.csv", index=False)
        if save_fit:
            bayes.to_netcdf(tmp / "fit.nc", keep_counts=keep_counts)
        if claims is not None:
            from extent.reporting.claims import write_claims_csv

            write_claims_csv(claims, tmp / "claims.csv")
        written = {f.stem if f.suffix != ".md" else "markdown": out_dir / f.name for f in sorted(tmp.iterdir())}
        follow_umask(tmp)
        _swap_in(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


REPORT_FILES = frozenset({"report.md", "report.html", "forest.png", "sensitivity.png", "claims-shares.png",
                          "claims-trends.png", "estimates.csv", "fit.nc", "claims.csv"})
"""What a report folder holds; a folder with anything else is not replaced whole (see :func:`_swap_in`)."""
TMP_SUFFIX = ".extent-tmp"
STALE_SECONDS = 3600
"""Temporary report folders older than this are left-overs of killed runs."""


def _swap_in(tmp: Path, out_dir: Path) -> None:
    """Put the finished folder ``tmp`` at ``out_dir`` by renames.

    A new folder is one rename. An existing report folder (only :data:`REPORT_FILES`) is renamed aside, the new
    one renamed in, and the old one removed: a kill between the renames leaves the old report aside (hidden)
    and none in place, never a mix. A folder holding other files too (the user's) keeps them: the report's
    files are then replaced one by one.
    """
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    if {f.name for f in out_dir.iterdir()} <= REPORT_FILES:
        aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", suffix=TMP_SUFFIX, dir=out_dir.parent))
        aside.rmdir()
        os.replace(out_dir, aside)
        os.replace(tmp, out_dir)
        shutil.rmtree(aside, ignore_errors=True)
        return
    for f in sorted(tmp.iterdir()):
        os.replace(f, out_dir / f.name)


def _remove_stale(out_dir: Path) -> None:
    """Remove this report's temporary folders that killed runs left behind (older than an hour)."""
    for d in out_dir.parent.glob(f".{out_dir.name}.*{TMP_SUFFIX}"):
        try:
            if d.is_dir() and time.time() - d.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def _prior_text(spec: dict) -> str:
    spec = dict(spec)
    dist = spec.pop("distribution")
    return f"{dist}(" + ", ".join(f"{k}={v:g}" for k, v in spec.items()) + ")"
