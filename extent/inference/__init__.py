"""Sampling and convergence diagnostics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports

if TYPE_CHECKING:
    from extent.inference.config import SamplerConfig
    from extent.inference.diagnostics import Diagnostics
    from extent.inference.sampling import sample

_EXPORTS = {
    "Diagnostics": "extent.inference.diagnostics",
    "SamplerConfig": "extent.inference.config",
    "sample": "extent.inference.sampling",
}
"""Where each public name lives; imported when first used."""

__all__ = ["Diagnostics", "SamplerConfig", "sample"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
