"""Write a report folder: Markdown and HTML report, forest plot, tidy estimates CSV and the fit itself."""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from extent import __version__
from extent.constants import CI_LEVEL, ESTIMANDS
from extent.exceptions import ExtentError
from extent.files import follow_umask
from extent.models.hierarchical import __doc__ as MODEL_DOC
from extent.reporting.plots import forest_plot
from extent.reporting.summary import comparison_table, format_number
from extent.results import ESTIMAND_LABELS, ExtentResult

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


@dataclass(frozen=True)
class Section:
    """An extra report section: paragraphs and an optional table."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None

    @property
    def markdown(self) -> str:
        parts = list(self.paragraphs)
        if self.table is not None:
            parts.append(markdown_table(self.table))
        return "\n\n".join(parts)

    @property
    def html(self) -> str:
        parts = [f"<p>{html.escape(p)}</p>" for p in self.paragraphs]
        if self.table is not None:
            parts.append(display_frame(self.table).to_html(index=False, border=0, na_rep=""))
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
    """``frame`` with every cell formatted by :func:`format_cell` (for Markdown and HTML alike)."""
    return frame.astype(object).map(format_cell)


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table of ``frame`` (no index), cells formatted by :func:`format_cell`."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in display_frame(frame).itertuples(index=False):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _rows(bayes: ExtentResult, naive: ExtentResult, level: float, published: pd.DataFrame | None) -> list[dict]:
    table = comparison_table(bayes, naive, level, published)
    counts = bayes.data.counts
    rows = []
    for r in table.itertuples(index=False):
        sel = counts[counts["category"] == r.category]
        e = r.estimand
        rows.append(
            {
                "category": r.category if e == ESTIMANDS[0] else "",
                "searched": len(sel) if e == ESTIMANDS[0] else "",
                "cases": int(sel["cases"].sum()) if e == ESTIMANDS[0] else "",
                "estimand": ESTIMAND_LABELS[e].replace("in total", f"total ({bayes.data.years(r.category):g} years)"),
                "naive": format_number(r.naive, e),
                "published": format_number(getattr(r, "published", float("nan")), e),
                "estimate": format_number(r.estimate, e),
                "interval": f"{format_number(r.lower, e)} to {format_number(r.upper, e)}",
            }
        )
    return rows


def write_report(
    out_dir: str | Path,
    bayes: ExtentResult,
    naive: ExtentResult,
    *,
    level: float = CI_LEVEL,
    title: str | None = None,
    published: pd.DataFrame | None = None,
    sections: list[Section] | None = None,
    save_fit: bool = True,
    claims: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``forest.png``, ``estimates.csv`` (and ``fit.nc``, and ``claims.csv``
    when ``claims`` is given: :func:`extent.reporting.claims.evaluate_claims`) into ``out_dir``.

    Files are written to a temporary folder beside ``out_dir`` and swapped in whole only when all succeed
    (:func:`_swap_in`): an interrupted run leaves the old report or none, never a mix. Temporary folders left by
    killed runs are removed first.

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
    context = {
        "title": title or bayes.data.name,
        "created_at": bayes.created_at,
        "version": __version__,
        "seed": bayes.settings.get("sampler", {}).get("random_seed"),
        "level_pct": f"{level:.0%}",
        "converged": bayes.converged,
        "problems": "; ".join(diag.problems) if diag else "",
        "intro": INTRO,
        "rows": _rows(bayes, naive, level, published),
        "figure": "forest.png",
        "sentences": [bayes.citation(c, level) for c in bayes.categories],
        "diagnostics": str(diag) if diag else "n/a",
        "model_text": " ".join(MODEL_DOC.strip().split("\n\n")[0].split()),
        "priors": [(k, _prior_text(v)) for k, v in bayes.settings.get("priors", {}).items()],
        "sampler": ", ".join(f"{k}={v}" for k, v in bayes.settings.get("sampler", {}).items()
                             if k != "progressbar"),
        "notes": list(bayes.data.notes),
        "sections": sections or [],
    }
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("extent.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    for s in context["sections"]:
        s.html  # noqa: B018  (fail before writing anything if a section cannot render)
    _remove_stale(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=TMP_SUFFIX, dir=parent))
    try:
        (tmp / "report.md").write_text(env.get_template("report.md.j2").render(**context), encoding="utf-8")
        html_context = dict(context, sections=[{"title": s.title, "html": jinja2.utils.markupsafe.Markup(s.html)}
                                               for s in context["sections"]])
        (tmp / "report.html").write_text(env.get_template("report.html.j2").render(**html_context), encoding="utf-8")
        fig = forest_plot(bayes, naive, level=level)
        fig.savefig(tmp / "forest.png", dpi=120)
        import matplotlib.pyplot as plt

        plt.close(fig)
        tidy = pd.concat([naive.national_extent(level), bayes.national_extent(level)], ignore_index=True)
        tidy.to_csv(tmp / "estimates.csv", index=False)
        if save_fit:
            bayes.to_netcdf(tmp / "fit.nc")
        if claims is not None:
            from extent.reporting.claims import write_claims_csv

            write_claims_csv(claims, tmp / "claims.csv")
        written = {f.stem if f.suffix != ".md" else "markdown": out_dir / f.name for f in sorted(tmp.iterdir())}
        follow_umask(tmp)
        _swap_in(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


REPORT_FILES = frozenset({"report.md", "report.html", "forest.png", "estimates.csv", "fit.nc", "claims.csv"})
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
