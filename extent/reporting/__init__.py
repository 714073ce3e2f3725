"""Reports: tables, citable sentences, the forest plot and the Markdown/HTML report folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports

if TYPE_CHECKING:
    from extent.reporting.plots import forest_plot
    from extent.reporting.render import Section, write_report
    from extent.reporting.summary import citations, comparison_table

_EXPORTS = {
    "Section": "extent.reporting.render",
    "citations": "extent.reporting.summary",
    "comparison_table": "extent.reporting.summary",
    "forest_plot": "extent.reporting.plots",
    "write_report": "extent.reporting.render",
}
"""Where each public name lives; imported when first used."""

__all__ = ["Section", "citations", "comparison_table", "forest_plot", "write_report"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
