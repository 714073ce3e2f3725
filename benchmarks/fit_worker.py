"""One timed fit in a fresh process; prints one JSON line. Called by ``benchmarks/run.py``.

Usage: ``python benchmarks/fit_worker.py {extent,reference} SIZE [--centered auto|yes|no] [--draws N] [--tune N]``
(without ``--tune``: the estimator's choice for extent, 1,000 for the reference).

The extent row is ``HierarchicalExtent().fit(data)`` with the library's defaults (the parameterisation and
target acceptance it chooses for the data); its compile, sampling and prediction seconds come from the
attrs the library stamps on the result. The reference runs the plain model with the same target acceptance.
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

HYPER = ["log_rate", "unit_sd", "shared_fraction"]


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
    ap.add_argument("--centered", choices=["auto", "yes", "no"], default="auto")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=None, help="default: the estimator's choice (the reference: 1000)")
    args = ap.parse_args()
    from synthetic import SIZES, make_frames

    from extent.data import ExtentData
    from extent.estimators.hierarchical import TARGET_ACCEPT, HierarchicalExtent
    from extent.inference import SamplerConfig
    from extent.models.counts.builder import prefer_centered
    from extent.models.counts.design import Design

    units, counts = make_frames(**SIZES[args.size])
    t_import = time.perf_counter() - T0
    out = {"impl": args.impl, "size": args.size, "cells": len(counts), "import_s": t_import, "draws": args.draws}
    sampler = SamplerConfig(draws=args.draws, tune=args.tune, random_seed=1)
    if args.impl == "extent":
        t = time.perf_counter()
        data = ExtentData.from_frames(units, counts)
        centered = {"auto": None, "yes": True, "no": False}[args.centered]
        fit = HierarchicalExtent(sampler=sampler, centered=centered).fit(data)
        total = time.perf_counter() - t
        idata, totals = fit.idata, fit.national.values
        attrs = idata.sample_stats.attrs
        out["sample_s"], out["predict_s"] = attrs["sampling_time"], attrs["prediction_time"]
        out["build_s"] = total - out["sample_s"] - out["predict_s"]  # validation, design, model, compile
        out["centered"] = fit.settings["centered"]
        out["target_accept"] = fit.settings["sampler"]["target_accept"]
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
        target_accept = TARGET_ACCEPT[prefer_centered(Design.from_data(ExtentData.from_frames(units, counts)))]
        idata, totals = fit_reference(units, counts, draws=args.draws, tune=args.tune or 1000,
                                      target_accept=target_accept)
        total = time.perf_counter() - t
        # pm.sample compiles before it samples; its own sampling time is in sample_stats
        sampling = float(idata.sample_stats.attrs.get("sampling_time", timings["sample"]))
        out["build_s"] = total - timings["predict"] - sampling
        out["sample_s"] = sampling
        out["predict_s"] = timings["predict"]
        out["centered"] = False
        out["target_accept"] = target_accept
    ess, rhat, ess_tot = ess_rhat(idata, totals)
    effects = next(v for v in ("unit_offset", "unit_z", "force_z") if v in idata.posterior)  # force_z: reference
    out["max_rhat_force"] = float(az.rhat(idata.posterior, var_names=[effects])[effects].max())
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
