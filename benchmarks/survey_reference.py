"""The four survey models fitted the plain PyMC way, as the yardstick of ``extent survey --mechanism all``.

The same models (:func:`extent.models.survey.builder.build_survey_model`, its default priors) and the same
national prediction (:func:`extent.models.survey.predict.survey_totals`), sampled as a newcomer would:
``pm.sample`` with its defaults (PyMC's NUTS, 4 chains x 1,000 draws after 1,000 tuning steps) at the target
acceptance extent uses (0.95), one fresh compile per model. This is what ``extent survey`` itself did before
its default sampler became nutpie.

Usage: ``python benchmarks/survey_reference.py --units U.csv --survey S.csv [--years Y] [--cap N]``
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pymc as pm

from extent.data import read_survey_data
from extent.models.survey.builder import build_survey_model
from extent.models.survey.mechanisms import MECHANISMS
from extent.models.survey.predict import survey_totals


def main(argv=None):
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", required=True)
    ap.add_argument("--survey", required=True)
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--cap", type=int, default=None)
    args = ap.parse_args(argv)
    data = read_survey_data(args.units, args.survey, years=args.years, cap=args.cap)
    for mechanism in MECHANISMS:
        with build_survey_model(data, mechanism=mechanism):
            idata = pm.sample(target_accept=0.95, random_seed=20260, progressbar=False,
                              compute_convergence_checks=False)
        total = np.asarray(survey_totals(idata, data, seed=20261)).ravel()
        lo, med, hi = np.percentile(total, [5, 50, 95])
        print(f"{mechanism}: {med:,.0f} ({lo:,.0f}-{hi:,.0f})")


if __name__ == "__main__":
    main()
