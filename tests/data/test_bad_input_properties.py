"""Property-based: any table broken in a known way gets exit 2, one error line, no traceback and no output.

Hypothesis builds a valid units and counts table, breaks one cell (or the layout) in one of many ways, and runs
``extent estimate --out``. The fit is replaced by a failure, so a broken table that slipped through to the
sampler fails the test; the output file must not exist afterwards.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from extent.cli.main import app

BAD_NUMBERS = ["-1", "abc", "1e19", "inf", "-inf", "nan", "1,5", "3.5e", "--2", "0x10", "∞"]
"""Values no count, population or period may take (``3.5`` is bad only for counts: see below)."""


@st.composite
def broken_tables(draw):
    n_units = draw(st.integers(2, 6))
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(n_units)],
                          "population": [str(draw(st.integers(1_000, 5_000_000))) for _ in range(n_units)]})
    searched = draw(st.integers(1, n_units))
    counts = pd.DataFrame({"unit": units["unit"][:searched], "category": "c",
                           "cases": [str(draw(st.integers(0, 500))) for _ in range(searched)]})
    kind = draw(st.sampled_from(["cases", "population", "years", "records", "unknown_unit", "duplicate",
                                 "case_clash", "extra_column", "missing_column", "empty_category"]))
    row = draw(st.integers(0, searched - 1))
    if kind == "cases":
        counts.loc[row, "cases"] = draw(st.sampled_from([*BAD_NUMBERS, "3.5", ""]))
    elif kind == "population":
        units.loc[row, "population"] = draw(st.sampled_from([*BAD_NUMBERS, "0", "1e11", ""]))
    elif kind == "years":
        counts["years"] = "1"
        counts.loc[row, "years"] = draw(st.sampled_from([*BAD_NUMBERS, "0", "5000"]))
    elif kind == "records":
        counts["records"] = [str(int(c) + 10) for c in counts["cases"]]
        counts.loc[row, "records"] = str(int(counts.loc[row, "cases"]) - 1) if int(counts.loc[row, "cases"]) > 0 \
            else "-1"
    elif kind == "unknown_unit":
        counts.loc[row, "unit"] = draw(st.sampled_from(["Atlantis", "u99", "U0 x"]))
    elif kind == "duplicate":
        counts = pd.concat([counts, counts.iloc[[row]]], ignore_index=True)
    elif kind == "case_clash":
        clash = counts.iloc[[row]].assign(category="C")
        counts = pd.concat([counts, clash], ignore_index=True)
    elif kind == "extra_column":
        name = draw(st.sampled_from(["year", "case", "populaton", "notes"]))
        (units if name == "populaton" else counts)[name] = "1"
    elif kind == "missing_column":
        counts = counts.drop(columns=draw(st.sampled_from(["cases", "category", "unit"])))
    elif kind == "empty_category":
        counts.loc[row, "category"] = ""
    return units, counts, kind


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=broken_tables())
def test_broken_tables_exit_2_with_one_line_and_nothing_written(table, tmp_path, monkeypatch):
    import extent.estimators.hierarchical as hierarchical

    units, counts, kind = table
    monkeypatch.setattr(hierarchical.HierarchicalExtent, "fit", lambda *a, **k: pytest.fail(f"{kind} reached the fit"))
    u, c, out = tmp_path / "units.csv", tmp_path / "counts.csv", tmp_path / "estimates.csv"
    out.unlink(missing_ok=True)
    units.to_csv(u, index=False)
    counts.to_csv(c, index=False)
    res = CliRunner().invoke(app, ["estimate", "--units", str(u), "--counts", str(c), "--out", str(out)])
    assert res.exit_code == 2, (kind, res.output, res.exception)
    errors = [line for line in res.output.splitlines() if line.startswith("extent: error:")]
    assert len(errors) == 1, (kind, res.output)
    assert "Traceback" not in res.output
    assert not out.exists() and not list(tmp_path.glob(".estimates.csv.*"))
