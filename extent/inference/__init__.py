"""Sampling and convergence diagnostics."""

from extent.inference.config import SamplerConfig
from extent.inference.diagnostics import Diagnostics
from extent.inference.sampling import sample

__all__ = ["Diagnostics", "SamplerConfig", "sample"]
