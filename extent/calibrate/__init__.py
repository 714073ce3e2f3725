"""Calibration studies: do the intervals mean what they say?

Simulate countries with a known truth (:mod:`extent.simulate`), fit each estimator, and score the national
intervals (:mod:`.metrics`) and posterior ranks (:mod:`.sbc`), serially or on Dask (:mod:`.runner`).
"""

from extent.calibrate.metrics import (
    accuracy_table,
    coverage_table,
    interval_score,
    wilson_interval,
)
from extent.calibrate.runner import StudyResult, local_cluster, run_study
from extent.calibrate.sbc import rank_of, rank_uniformity
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

__all__ = [
    "ESTIMATORS",
    "LEVELS",
    "STUDY_SAMPLER",
    "ReplicateRecord",
    "Study",
    "StudyResult",
    "SubsampleStudy",
    "accuracy_table",
    "coverage_table",
    "interval_score",
    "local_cluster",
    "rank_of",
    "rank_uniformity",
    "run_replicate",
    "run_study",
    "run_subsample_replicate",
    "wilson_interval",
]
