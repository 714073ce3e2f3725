"""Benchmark extent against the plain-PyMC reference, in one run, on this machine.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # everything (about 25 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # CLI timings and size S only (about 4 minutes)

Every measurement is a fresh process (``os.wait4`` gives its peak RSS). "Cold" points PyTensor's compile
directory (``PYTENSOR_FLAGS=base_compiledir=...``, which also holds the numba cache) at an empty folder;
"warm" reuses a folder filled by the cold run. Timings on a shared machine are noisy: compare the ratio
columns, which pit extent against the reference measured minutes apart in the same run. Results go to
``benchmarks/results/benchmark.csv`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
EXTENT = str(Path(PY).with_name("extent"))
sys.path.insert(0, str(HERE))


DRAWS = {"L": 500}
"""Draws (and tuning steps) per chain where the library default of 1,000 is not used: at L, 4 x 500 draws give
bulk ESS of several hundred for the national totals and hyperparameters in well under 10 minutes."""


class Runner:
    def __init__(self):
        self.rows = []

    def cold_warm(self, name, cmd, ref_cmd):
        """Cold and warm wall time of ``cmd`` and ``ref_cmd`` (each with its own compile folder)."""
        for impl, c in (("extent", cmd), ("reference", ref_cmd)):
            folder = tempfile.mkdtemp(prefix=f"bench-{impl}-")
            try:
                for phase in ("cold", "warm"):
                    s, rss, out, rc = run_measured(c, compiledir=folder)
                    if rc != 0:
                        print(out[-2000:])
                    self.rows.append(dict(bench=name, impl=impl, phase=phase, total_s=round(s, 2),
                                          peak_rss_mib=round(rss), ok=rc == 0))
                    print(f"  {name:<10} {impl:<9} {phase}: {s:6.1f} s  rc={rc}", flush=True)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    def fit(self, impl, size, compiledir, *extra):
        s, rss, out, rc = run_measured([PY, str(HERE / "fit_worker.py"), impl, size, *extra], compiledir=compiledir)
        line = [x for x in out.splitlines() if x.startswith("RESULT ")]
        if rc != 0 or not line:
            print(out[-3000:])
            self.rows.append(dict(bench=f"fit {size}", impl=impl, phase="warm", ok=False))
            return None
        r = json.loads(line[0][7:])
        forced = " non-centred" if "no" in extra else ""
        row = dict(bench=f"fit {size}{forced}", impl=impl, phase="warm", centered=r["centered"], draws=r["draws"],
                   target_accept=r["target_accept"],
                   total_s=round(s, 2), peak_rss_mib=round(rss), ok=True, cells=r["cells"],
                   build_s=round(r["build_s"], 2), sample_s=round(r["sample_s"], 2),
                   predict_s=round(r["predict_s"], 2), min_ess=round(r["min_ess"]),
                   ess_per_s=round(r["ess_per_s"], 1), ess_per_s_total=round(r["ess_per_s_total"], 1),
                   max_rhat=round(r["max_rhat"], 4), max_rhat_force=round(r["max_rhat_force"], 4),
                   divergences=r["divergences"])
        self.rows.append(row)
        print(f"  {row['bench']:<16} {impl:<9} build {row['build_s']:6.1f}  sample {row['sample_s']:7.1f}  "
              f"predict {row['predict_s']:5.1f}  ESS {row['min_ess']:5d}  ESS/s {row['ess_per_s']:7.1f}  "
              f"R-hat {row['max_rhat']:.3f} (forces {row['max_rhat_force']:.3f})  div {row['divergences']}  "
              f"RSS {row['peak_rss_mib']} MiB  {'centred' if row['centered'] else 'non-centred'}", flush=True)
        return row


def run_measured(cmd, *, compiledir, timeout=1800):
    """Like :func:`run`, with the child's own peak RSS from ``wait4``."""
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={compiledir}", PYTHONWARNINGS="ignore")
    with tempfile.TemporaryFile("w+") as fh:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=ROOT, text=True)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            proc.kill()
            raise
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        fh.seek(0)
        out = fh.read()
    return seconds, usage.ru_maxrss / 1024, out, proc.returncode


def write_s_csvs(folder: Path):
    from synthetic import SIZES, make_frames

    units, counts = make_frames(**SIZES["S"])
    u, c = folder / "units.csv", folder / "counts.csv"
    units.to_csv(u, index=False)
    counts.to_csv(c, index=False)
    return str(u), str(c)


def write_survey_csvs(folder: Path):
    """A SIMULATED survey shaped like the report's NPQS: 52 units, busier units answering less, returns capped at
    10 over four years (``examples/npqs_survey.py``)."""
    from extent.datasets import report_units
    from extent.simulate.survey import simulate_survey

    data = simulate_survey("mnar", seed=2002, years=4.0, cap=10,
                           populations=report_units()["population"].to_numpy(float)).data
    u, s = folder / "survey-units.csv", folder / "survey.csv"
    data.units.reset_index()[["unit", "population", "other_stages"]].to_csv(u, index=False)
    data.responses.drop(columns="cap").to_csv(s, index=False)
    return str(u), str(s)


def report_command(tmp: Path):
    """``extent report`` if the installed CLI has it, else the same fit through the library."""
    probe = subprocess.run([EXTENT, "report", "--help"], capture_output=True, text=True)
    if probe.returncode == 0:
        return [EXTENT, "report", "--out", str(tmp / "report")], "extent report"
    code = ("import warnings; warnings.filterwarnings('ignore');"
            "from extent.datasets import load_report; from extent.estimators import HierarchicalExtent;"
            "print(HierarchicalExtent().fit(load_report().data).diagnostics)")
    return [PY, "-c", code], "report fit (library; `extent report` not installed)"


def ratios(rows):
    """Attach extent/reference ratios (time) and extent/reference (ESS/s) to the extent rows."""
    ref = {(r["bench"], r["phase"]): r for r in rows if r["impl"] == "reference" and r.get("ok")}
    for r in rows:
        if r["impl"] != "extent" or not r.get("ok"):
            continue
        key = (r["bench"].replace(" non-centred", ""), r["phase"])
        q = ref.get(key)
        if q is None:
            continue
        r["time_ratio"] = round(r["total_s"] / q["total_s"], 3)
        if "ess_per_s" in r and q.get("ess_per_s"):
            r["ess_per_s_ratio"] = round(r["ess_per_s"] / q["ess_per_s"], 2)
            r["ess_per_s_total_ratio"] = round(r["ess_per_s_total"] / q["ess_per_s_total"], 2)
        r["rss_ratio"] = round(r["peak_rss_mib"] / q["peak_rss_mib"], 2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CLI timings and size S only")
    ap.add_argument("--sizes", default="SML", help="Model sizes to fit (default SML)")
    ap.add_argument("--reference-l", action="store_true", help="Also fit the plain reference at size L (hours)")
    ap.add_argument("--out", default=str(HERE / "results" / "benchmark.csv"))
    args = ap.parse_args(argv)
    sizes = "S" if args.quick else args.sizes
    runner = Runner()
    tmp = Path(tempfile.mkdtemp(prefix="bench-data-"))
    start = time.perf_counter()
    try:
        print("CLI, cold (empty compile cache) and warm:", flush=True)
        cmd, label = report_command(tmp)
        runner.cold_warm("report", cmd, [PY, str(HERE / "reference.py"), "--report"])
        units, counts = write_s_csvs(tmp)
        runner.cold_warm("estimate S", [EXTENT, "estimate", "--units", units, "--counts", counts],
                         [PY, str(HERE / "reference.py"), "--units", units, "--counts", counts])
        survey_units, survey = write_survey_csvs(tmp)
        survey_args = ["--units", survey_units, "--survey", survey, "--years", "4", "--cap", "10"]
        runner.cold_warm("survey all", [EXTENT, "survey", "--mechanism", "all", *survey_args],
                         [PY, str(HERE / "survey_reference.py"), *survey_args])
        print("Model fits (warm compile cache), HierarchicalExtent defaults: 4 chains x 1000 draws after the "
              f"estimator's tuning (500 steps non-centred, 1000 centred; except {DRAWS}); the reference 1000 + "
              "1000:", flush=True)
        for impl in ("extent", "reference"):
            folder = tempfile.mkdtemp(prefix=f"bench-fit-{impl}-")
            try:
                runner.fit(impl, "S", folder)  # fills the cache
                runner.rows.pop()
                for size in sizes:
                    if impl == "reference" and size == "L" and not args.reference_l:
                        continue
                    n = str(DRAWS.get(size, 1000))
                    runner.fit(impl, size, folder, "--draws", n, *(["--tune", n] if size in DRAWS else []))
                    if impl == "extent" and size == "M":  # the parameterisation the library did not choose
                        runner.fit(impl, size, folder, "--centered", "no")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        dask_csv = HERE / "results" / "calibration_throughput.csv"
        if dask_csv.exists():
            with open(dask_csv) as fh:
                for r in csv.DictReader(fh):
                    runner.rows.append(dict(bench=f"dask {r.get('workers')} worker(s)", impl="extent", phase="warm",
                                            ok=True, fits_per_min=r.get("fits_per_minute")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratios(runner.rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fields = sorted({k for r in runner.rows for k in r}, key=lambda k: list(runner.rows[0]).index(k)
                    if k in runner.rows[0] else 100)
    with open(args.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(runner.rows)
    print_table(runner.rows, label)
    print(f"\nWrote {args.out}; benchmark took {(time.perf_counter() - start) / 60:.1f} min")


def print_table(rows, report_label):
    cols = ["bench", "impl", "phase", "total_s", "time_ratio", "build_s", "sample_s", "predict_s", "min_ess",
            "ess_per_s", "ess_per_s_ratio", "max_rhat", "max_rhat_force", "divergences", "peak_rss_mib",
            "fits_per_min"]
    print(f"\n(report = {report_label}; ratios are extent / reference in this run)")
    print(" | ".join(f"{c:>10}" for c in cols))
    for r in rows:
        print(" | ".join(f"{r.get(c, '')!s:>10}" for c in cols))


if __name__ == "__main__":
    main()
