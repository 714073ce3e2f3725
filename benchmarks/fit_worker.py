"""One timed fit in a fresh process; prints one JSON line. Called by ``benchmarks/run.py``.

Usage: ``python benchmarks/fit_worker.py {extent,reference} SIZE [--centered] [--draws N] [--tune N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

T0 = time.perf_counter()
sys.path.insert(0, str(Path(__file__).parent))
warnings.filterwarnings("ignore")

import arviz as az  # noqa: E402
import numpy as np  # noqa: E402

HYPER = ["log_rate", "force_sd", "dispersion"]


def ess_rhat(idata, totals):
    """Min bulk ESS and max R-hat over the national totals and the hyperparameters."""
    post = idata.posterior
    tot = az.convert_to_dataset({"national_total": totals})
    ess = [float(az.ess(tot)["national_total"].min())]
    rhat = [float(az.rhat(tot)["national_total"].max())]
    for v in HYPER:
        ess.append(float(az.ess(post, var_names=[v])[v].min()))
        rhat.append(float(az.rhat(post, var_names=[v])[v].max()))
    return min(ess), max(rhat), min(ess[:1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("impl", choices=["extent", "reference"])
    ap.add_argument("size")
    ap.add_argument("--centered", action="store_true")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    args = ap.parse_args()
    from synthetic import SIZES, make_frames

    units, counts = make_frames(**SIZES[args.size])
    t_import = time.perf_counter() - T0
    out = {"impl": args.impl, "size": args.size, "cells": len(counts), "import_s": t_import}
    if args.impl == "extent":
        import nutpie

        from extent.data import ExtentData
        from extent.inference.cache import compile_nutpie
        from extent.models.design import Design
        from extent.models.hierarchical import build_extent_model
        from extent.models.predict import national_totals

        t = time.perf_counter()
        data = ExtentData.from_frames(units, counts)
        design = Design.from_data(data)
        model = build_extent_model(data, design=design, centered=args.centered)
        compiled = compile_nutpie(model)
        out["build_s"] = time.perf_counter() - t
        t = time.perf_counter()
        idata = nutpie.sample(compiled, draws=args.draws, tune=args.tune, chains=4, target_accept=0.98, seed=1,
                              cores=2, progress_bar=False, save_warmup=False,
                              low_rank_modified_mass_matrix=True)
        out["sample_s"] = time.perf_counter() - t
        t = time.perf_counter()
        totals = national_totals(idata, data, design, seed=2).values
        out["predict_s"] = time.perf_counter() - t
        out["centered"] = args.centered
    else:
        import pymc as pm

        from reference import fit_reference

        t = time.perf_counter()
        timings = {}
        orig_sample, orig_pp = pm.sample, pm.sample_posterior_predictive

        def timed(name, fn):
            def wrapper(*a, **k):
                s = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    timings[name] = time.perf_counter() - s
            return wrapper

        pm.sample = timed("sample", orig_sample)
        pm.sample_posterior_predictive = timed("predict", orig_pp)
        idata, totals = fit_reference(units, counts, draws=args.draws, tune=args.tune)
        total = time.perf_counter() - t
        # pm.sample compiles before it samples; its own sampling time is in sample_stats
        sampling = float(idata.sample_stats.attrs.get("sampling_time", timings["sample"]))
        out["build_s"] = total - timings["predict"] - sampling
        out["sample_s"] = sampling
        out["predict_s"] = timings["predict"]
        out["centered"] = False
    ess, rhat, ess_tot = ess_rhat(idata, totals)
    out.update(
        min_ess=ess, min_ess_totals=ess_tot, max_rhat=rhat,
        divergences=int(idata.sample_stats["diverging"].sum()),
        total_s=out["build_s"] + out["sample_s"] + out["predict_s"],
        medians=np.median(totals.reshape(-1, totals.shape[-1]), axis=0).round(1).tolist(),
    )
    out["ess_per_s"] = ess / (out["sample_s"] + out["predict_s"])
    out["ess_per_s_total"] = ess / out["total_s"]
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
