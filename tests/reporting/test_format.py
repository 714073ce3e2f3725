"""Numbers in report tables are formatted for people (no scientific notation)."""

import numpy as np
import pandas as pd

from extent.datasets import load_report
from extent.reporting.render import Section, format_cell, markdown_table


def test_cells_are_formatted_for_people():
    assert format_cell(1493.0) == "1,493"
    assert format_cell(np.int64(5972)) == "5,972"
    assert format_cell(3_000_000) == "3,000,000"
    assert format_cell(0.6) == "0.6"
    assert format_cell(13.76) == "13.76"
    assert format_cell(1234.56) == "1,234.6"
    assert format_cell(0.000061) == "0.000061"
    assert format_cell(np.nan) == ""
    assert format_cell(None) == ""
    assert format_cell("NA") == "NA"
    assert format_cell(True) == "True"


def test_the_published_table_prints_1493_not_scientific():
    published = load_report().published
    md = markdown_table(published)
    html = Section("published", [], published).html
    for text in (md, html):
        assert "1,493" in text
        assert "e+" not in text
    assert "| internet_cai | per_annum | 1,493 | 4,000,000 | 3 | para 10.3.3 |" in md


def test_markdown_table_keeps_empty_cells_empty():
    md = markdown_table(pd.DataFrame({"a": [1.5, np.nan], "b": ["x", None]}))
    assert md.splitlines()[2:] == ["| 1.5 | x |", "|  |  |"]


def test_html_tables_align_numbers_right_and_text_left():
    from extent.reporting.render import html_table

    frame = pd.DataFrame({"year": [2001, 2002], "cases_found": [1493.0, "[c]"], "note": ["Table 9", ""],
                          "interval": ["148 (63 to 406)", "not supported"]})
    html = html_table(frame)
    assert ('<th class="num">year</th><th class="num">cases found</th><th class="text">note</th>'
            '<th class="text">interval</th>') in html
    assert ('<tr><td class="num">2001</td><td class="num">1,493</td><td class="text short">Table 9</td>'
            '<td class="num">148 (63 to 406)</td></tr>') in html
    assert '<td class="num">[c]</td>' in html and '<td class="text short">not supported</td>' in html
    assert "| 2001 | 1,493 |" in markdown_table(frame)  # a year is 2001, never 2,001


def test_cells_are_classed_by_what_they_read_as():
    from extent.reporting.render import cell_class, is_numeric_text

    numeric = ["1,493", "0.7", "98.1% (92.3% to 100.0%)", "18 of 23", "35 of about 150", "1-4", "[c]", "n/a",
               "23.3% (exact)", "7.4 points (0.96 points to 15.8 points)"]
    assert [t for t in numeric if not is_numeric_text(t)] == []
    assert [t for t in ["less than five", "Table 14", "total (4 years)", "para 10.3.3", "14 against 2306", ""]
            if is_numeric_text(t)] == []
    assert cell_class("Table 14") == "text short" and cell_class("recorded CSA offences") == "text"
    assert cell_class("the four-year figure is missing from the printed sentence") == "text long"


def test_prose_turns_code_spans_into_html_and_escapes_the_rest():
    from extent.reporting.render import Section, prose_html

    assert prose_html("run `extent survey` on <your> data") == "run <code>extent survey</code> on &lt;your&gt; data"
    assert prose_html("an odd ` backtick") == "an odd ` backtick"
    assert "`" not in Section("s", ["`extent survey` fits MNAR models"]).html
