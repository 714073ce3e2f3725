"""Throughput of a calibration study on the embedded Dask cluster: fits per minute with 1 and 2 workers.

Each task is one simulate-and-fit replicate of the report's design (hierarchical fit with the study sampler,
2 chains x 500 draws, plus the GLM bootstrap and the naive estimator). The cluster is started and warmed up
(one replicate per worker, which also fills the compile cache) before the clock starts. Prints a table and
writes ``benchmarks/results/calibration_throughput.csv``::

    python benchmarks/calibration_throughput.py [REPS_PER_RUN]
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from extent.calibrate import Study, local_cluster, run_study


def measure(workers: int, reps: int) -> dict:
    from distributed import Client

    with local_cluster(workers) as cluster, Client(cluster) as client:
        run_study(Study(design="report2", reps=workers, seed=99), client=client)  # warm-up
        start = time.perf_counter()
        res = run_study(Study(design="report2", reps=reps, seed=100), client=client)
        seconds = time.perf_counter() - start
    return {"workers": workers, "fits": len(res.records), "lost": len(res.failed), "seconds": round(seconds, 1),
            "fits_per_minute": round(60 * len(res.records) / seconds, 2)}


def main() -> None:
    warnings.filterwarnings("ignore")
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    rows = [measure(w, reps) for w in (1, 2)]
    table = pd.DataFrame(rows).assign(
        cpus=os.cpu_count(), load_1min=os.getloadavg()[0], python=platform.python_version(),
        date=datetime.now(UTC).isoformat(timespec="seconds"))
    table["speedup"] = (table["fits_per_minute"] / table["fits_per_minute"].iloc[0]).round(2)
    print(table.to_string(index=False))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / "calibration_throughput.csv"
    table.to_csv(path, mode="a", header=not path.exists(), index=False)
    print(f"appended to {path}")


if __name__ == "__main__":
    main()
