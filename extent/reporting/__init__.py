"""Reports: tables, citable sentences, the forest plot and the Markdown/HTML report folder."""

from extent.reporting.plots import forest_plot
from extent.reporting.render import Section, write_report
from extent.reporting.summary import citations, comparison_table

__all__ = ["Section", "citations", "comparison_table", "forest_plot", "write_report"]
