"""The estimator protocol: ``fit(data) -> NationalResult`` with a declared point-estimate rule."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from extent.results import POINT_ESTIMATES, NationalResult


@runtime_checkable
class Estimator(Protocol):
    """What every national estimator is: the calibration studies and the report need nothing else.

    Attributes
    ----------
    name : str
        The result's ``estimator`` and the label of its rows in tables and studies.
    point_estimate : {"posterior median", "plug-in"}
        The declared point-estimate rule (:data:`~extent.results.POINT_ESTIMATES`): the median of the national
        draws, or the estimator's own plug-in national total; ``result.interval(...).estimate`` follows it.
    """

    name: str
    point_estimate: str

    def fit(self, data, /) -> NationalResult:
        """Fit ``data`` (one object: :class:`~extent.data.ExtentData` or :class:`~extent.data.SurveyData`)."""
        ...


__all__ = ["POINT_ESTIMATES", "Estimator"]
