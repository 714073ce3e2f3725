"""Coverage of the survey non-response models on SIMULATED surveys with a known truth (``docs/survey.md``).

Runs the studies of :data:`extent.calibrate.survey_coverage.STUDIES` (each model fitted to replicate surveys of a
scenario; does its central 90% interval of the national total cover the simulated truth?) and the
simulation-based calibration studies of :data:`extent.calibrate.survey_coverage.CALIBRATIONS` (truth drawn from the
model's own priors). Writes one CSV of replicate records per study and ``coverage.md`` with the table.

Every survey here is SIMULATED. Fits run one after another in this process (one compiled model per shape,
reused); on one core a replicate takes about 3 s per model.

Run: ``.venv/bin/python examples/survey_coverage.py [--reps 200] [--out DIR] [--only mnar joint ...]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from extent.calibrate.sbc import rank_uniformity
from extent.calibrate.survey_coverage import (
    CALIBRATIONS,
    STUDIES,
    calibration_study,
    coverage_study,
    coverage_summary,
)

LABELS = {
    ("mcar", "mcar", False): "mcar, cap ignored",
    ("mnar_stated", "mnar", True): "mnar, oracle `selection` prior Normal(-1, 0.5) (centred on the truth)",
    ("mnar_wrong_sign", "mnar", True): "mnar, mis-stated `selection` prior Normal(+1, 0.5) (wrong sign)",
    ("mnar_wrong_size", "mnar", True): "mnar, mis-stated `selection` prior Normal(-2, 0.5) (twice the truth)",
    ("mnar", "mnar", True): "mnar, default `selection` prior Normal(0, 1)",
    ("joint", "mar", True): "joint mar (records + survey)",
    ("mnar_joint", "mnar", True): "joint mnar (records + survey), default `selection` prior",
    ("mnar_joint", "mar", True): "joint mar (records + survey)",
}
"""Model labels by (study, model, censored); the model name otherwise."""

SCENARIOS = {
    "delta": "mar; non-responders x exp(delta), delta ~ Normal(0, 0.5)",
    "joint": "mar; 10 of 52 units searched, 42 surveyed",
    "mnar_joint": "mnar; 10 of 52 units searched, 42 surveyed",
}
"""Scenario labels by study; the scenario name otherwise."""


def run(out: Path, reps: int, only: list[str] | None = None) -> pd.DataFrame:
    out.mkdir(parents=True, exist_ok=True)
    summaries = []
    for name, spec in STUDIES.items():
        if only and name not in only:
            continue
        t = time.time()
        records = coverage_study(n_reps=reps, **spec).assign(study=name)
        records.to_csv(out / f"study_{name}.csv", index=False)
        summaries.append(_summary(records, name))
        print(f"{name}: {time.time() - t:.0f} s", flush=True)
    for name, spec in CALIBRATIONS.items():
        if only and f"sbc_{name}" not in only:
            continue
        t = time.time()
        records = calibration_study(n_reps=reps, **spec).assign(study=f"sbc_{name}")
        records.to_csv(out / f"sbc_{name}.csv", index=False)
        summaries.append(_summary(records, f"sbc_{name}").assign(scenario=f"drawn from the {name} model's priors"))
        print(f"sbc_{name}: {time.time() - t:.0f} s", flush=True)
        print(rank_uniformity(ranks(records)).round(3).to_string(index=False), flush=True)
    table = pd.concat(summaries, ignore_index=True)
    (out / "coverage.md").write_text(markdown(table))
    print(markdown(table))
    return table


def _summary(records: pd.DataFrame, study: str) -> pd.DataFrame:
    s = coverage_summary(records)
    s.insert(0, "study", study)
    s["label"] = [LABELS.get((study, m, c), m) for m, c in zip(s["model"], s["censored"])]
    s["scenario"] = SCENARIOS.get(study, s["scenario"].iloc[0])
    return s


def ranks(records: pd.DataFrame) -> pd.DataFrame:
    """Long table ``quantity, rank, n_draws`` of a calibration study (for ``rank_uniformity``)."""
    cols = [c for c in records if c.startswith("rank_")]
    long = records.melt(id_vars=["n_rank_draws"], value_vars=cols, var_name="quantity", value_name="rank")
    return long.dropna().rename(columns={"n_rank_draws": "n_draws"}).astype({"rank": int})


def markdown(table: pd.DataFrame) -> str:
    head = ("| scenario | model | reps | coverage of 90% interval | 90% CI (Clopper-Pearson) | 90% CI (Wilson) "
            "| median rel. error | median rel. width | below / above | fits passing diagnostics |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n")
    rows = [
        f"| {r.scenario} | {r.label} | {r.reps} | {r.covered}/{r.reps} = {r.coverage:.2f} | "
        f"{r.cp_lower:.2f}-{r.cp_upper:.2f} | {r.wilson_lower:.2f}-{r.wilson_upper:.2f} | "
        f"{r.median_rel_error:+.1%} | {r.median_rel_width:.2f} | {r.below} / {r.above} | {r.converged:.0%} |"
        for r in table.itertuples(index=False)
    ]
    return head + "\n".join(rows) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("survey_coverage"))
    parser.add_argument("--only", nargs="*", help="study names (STUDIES keys, sbc_<mechanism>)")
    args = parser.parse_args()
    run(args.out, args.reps, args.only)
