"""Simulated countries with a known truth (calibration studies, tests, examples)."""

from extent.simulate.countries import (
    DESIGNS,
    FRAMES,
    Scenario,
    SearchDesign,
    SimulatedCountry,
    Truth,
    get_design,
    simulate_country,
    uk_frame,
)

__all__ = [
    "DESIGNS",
    "FRAMES",
    "Scenario",
    "SearchDesign",
    "SimulatedCountry",
    "Truth",
    "get_design",
    "simulate_country",
    "uk_frame",
]
