"""Calibration studies: do the intervals mean what they say?

Simulate countries with a known truth (:mod:`extent.simulate`), fit each estimator, and score the national
intervals (:mod:`.metrics`) and posterior ranks (:mod:`.sbc`), serially or on Dask (:mod:`.runner`); survey
estimators likewise on simulated surveys (:mod:`.survey_study`; the serial survey coverage and SBC studies
of ``docs/survey.md`` in :mod:`.survey_coverage`). On the
real corpus, :mod:`.validation` searches a few units of complete tables by the designs of :mod:`.search`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from extent._lazy import lazy_exports

if TYPE_CHECKING:
    from extent.calibrate.metrics import (
        accuracy_table,
        coverage_table,
        interval_score,
        wilson_interval,
    )
    from extent.calibrate.runner import StudyResult, local_cluster, run_study
    from extent.calibrate.sbc import rank_of, rank_uniformity
    from extent.calibrate.search import SEARCH_DESIGNS, metropolitan_like, search_units
    from extent.calibrate.study import (
        ESTIMATORS,
        LEVELS,
        STUDY_SAMPLER,
        ReplicateRecord,
        Study,
        SubsampleStudy,
        run_replicate,
        run_subsample_replicate,
    )
    from extent.calibrate.survey_study import SurveyStudy, run_survey_replicate
    from extent.calibrate.validation import (
        ValidationResult,
        ValidationStudy,
        run_validation,
        run_validation_task,
    )

_EXPORTS = {
    "ESTIMATORS": "extent.calibrate.study",
    "LEVELS": "extent.calibrate.study",
    "ReplicateRecord": "extent.calibrate.study",
    "SEARCH_DESIGNS": "extent.calibrate.search",
    "STUDY_SAMPLER": "extent.calibrate.study",
    "Study": "extent.calibrate.study",
    "StudyResult": "extent.calibrate.runner",
    "SubsampleStudy": "extent.calibrate.study",
    "SurveyStudy": "extent.calibrate.survey_study",
    "ValidationResult": "extent.calibrate.validation",
    "ValidationStudy": "extent.calibrate.validation",
    "accuracy_table": "extent.calibrate.metrics",
    "coverage_table": "extent.calibrate.metrics",
    "interval_score": "extent.calibrate.metrics",
    "local_cluster": "extent.calibrate.runner",
    "metropolitan_like": "extent.calibrate.search",
    "rank_of": "extent.calibrate.sbc",
    "rank_uniformity": "extent.calibrate.sbc",
    "run_replicate": "extent.calibrate.study",
    "run_study": "extent.calibrate.runner",
    "run_subsample_replicate": "extent.calibrate.study",
    "run_survey_replicate": "extent.calibrate.survey_study",
    "run_validation": "extent.calibrate.validation",
    "run_validation_task": "extent.calibrate.validation",
    "search_units": "extent.calibrate.search",
    "wilson_interval": "extent.calibrate.metrics",
}
"""Where each public name lives; imported when first used."""

__all__ = [
    "ESTIMATORS",
    "LEVELS",
    "SEARCH_DESIGNS",
    "STUDY_SAMPLER",
    "ReplicateRecord",
    "Study",
    "StudyResult",
    "SubsampleStudy",
    "SurveyStudy",
    "ValidationResult",
    "ValidationStudy",
    "accuracy_table",
    "coverage_table",
    "interval_score",
    "local_cluster",
    "metropolitan_like",
    "rank_of",
    "rank_uniformity",
    "run_replicate",
    "run_study",
    "run_subsample_replicate",
    "run_survey_replicate",
    "run_validation",
    "run_validation_task",
    "search_units",
    "wilson_interval",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
