"""A small calibration study: do the hierarchical model's 90% intervals cover the truth 90% of the time?

Simulates countries of 52 forces with a known truth, searches them with the report's design (one
metropolitan and one shire force), fits the hierarchical model, a Poisson GLM with a bootstrap interval and
the naive scaling, and prints coverage with 95% Wilson intervals. Runs on an embedded Dask cluster; pass a
scheduler address to use an existing one::

    python examples/calibration_study.py [REPS] [tcp://scheduler:8786]

The published tables in ``docs/calibration.md`` come from the same code with more replicates.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from extent.calibrate import Study, run_study
from extent.calibrate.plots import save_plots


def main() -> None:
    warnings.filterwarnings("ignore")
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    scheduler = sys.argv[2] if len(sys.argv) > 2 else None
    study = Study(design="report2", reps=reps, seed=2026)
    result = run_study(study, scheduler=scheduler, workers=None if scheduler else 2,
                       progress=lambda done, total: print(f"  {done}/{total} replicates", flush=True))
    cov = result.coverage()
    print(cov[cov["category"] == "all"][["estimator", "level", "n", "coverage", "coverage_lower",
                                         "coverage_upper", "relative_width", "interval_score"]].to_string(index=False))
    acc = result.accuracy()
    print(acc[acc["category"] == "all"][["estimator", "relative_bias", "median_abs_log_error"]].to_string(index=False))
    print(f"{len(result.records)} replicates, {result.fits_per_minute:.1f} per minute, lost: {result.failed or 'none'}")
    out = Path("calibration-example")
    result.save(out)
    save_plots(result, out)
    print(f"tables and plots in {out}/")


if __name__ == "__main__":
    main()
