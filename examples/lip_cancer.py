"""Real data: predict the Scottish lip cancer total over 56 districts from a few "searched" districts.

The truth (536 cases, Clayton and Kaldor 1987) is known, so the coverage of each estimator's 90% interval can
be measured over many random choices of searched districts::

    python examples/lip_cancer.py [N_SEARCHED] [REPS]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from extent.calibrate import SubsampleStudy, run_study
from extent.datasets.lip_cancer import lip_cancer_data
from extent.estimators import HierarchicalExtent
from extent.inference import SamplerConfig


def main() -> None:
    warnings.filterwarnings("ignore")
    n_searched = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 10

    # one fit, as an analyst would do it
    rng = np.random.default_rng(1)
    searched = [f"district {i}" for i in sorted(rng.choice(np.arange(1, 57), size=n_searched, replace=False))]
    res = HierarchicalExtent(sampler=SamplerConfig(draws=500, tune=500, chains=2)).fit(lip_cancer_data(searched))
    print(f"searched {searched}: {res.interval('lip_cancer', 'total')} (truth 536)")

    # many random choices of searched districts
    study = SubsampleStudy(data=lip_cancer_data(), n_searched=n_searched, reps=reps, seed=2026)
    result = run_study(study, workers=2, progress=lambda d, n: print(f"  {d}/{n}", flush=True))
    cov = result.coverage()
    print(cov[(cov["category"] == "all")][["estimator", "level", "coverage", "coverage_lower", "coverage_upper",
                                            "relative_width"]].to_string(index=False))
    acc = result.accuracy()
    print(acc[acc["category"] == "all"][["estimator", "relative_bias", "median_abs_log_error"]].to_string(index=False))


if __name__ == "__main__":
    main()
