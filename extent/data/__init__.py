"""Input containers, schemas and readers."""

from extent.data.containers import ExtentData
from extent.data.io import read_csv, read_extent_data

__all__ = ["ExtentData", "read_csv", "read_extent_data"]
