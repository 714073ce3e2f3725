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
