"""Real partial reporting: a national homicide series from incomplete agency reporting (FBI UCR, 1975-2015).

Data: ``../shared/data/us_ucr_city_crime_1975_2015.csv`` (FBI Uniform Crime Reports for about 70 large US city
agencies, via The Marshall Project's city-crime repository; see ``/work/shared/data/README.md``). Some
agency-years were reported for fewer than 12 months or not at all; the file also has the published national
rows.

Each year is a "survey" of the agencies:

* 12 months reported: a responder with an exact count;
* 1-11 months reported with ``h`` homicides: a responder whose count is *at least* ``h`` (right-censored at
  ``h``: the same censoring as a survey return at its cap);
* 0 months or nothing reported (or a partial year with no homicide): a non-responder;
* no month count but a published count (the 2015 rows, from "Crime in the U.S. 2015"): a full year.

The survey models estimate the agencies' total homicides per year under MCAR and MAR (response and rates
depending on log population). The agencies' total is then compared with the published national count (their
share), and the agencies' rate per head is scaled to the national population, the report's naive estimator,
to show how far big cities are from the nation.

Run: ``.venv/bin/python examples/ucr_partial_reporting.py [--years 1975 1985 ...] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from extent.data import SurveyData
from extent.estimators.survey import SurveyEstimator
from extent.exceptions import ConvergenceWarning
from extent.inference import SamplerConfig

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "us_ucr_city_crime_1975_2015.csv"


def load(path: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agency-years (population filled within each agency where missing) and the national rows."""
    raw = pd.read_csv(path)
    national = raw[raw["department_name"] == "National"].copy()
    national["population"] = national["homs_sum"] / national["homs_per_100k"] * 1e5
    agencies = raw[raw["department_name"] != "National"].copy()
    agencies = agencies.sort_values(["ORI", "year"])
    # non-reporting years often lack a population: use the agency's nearest reported year
    agencies["population"] = agencies.groupby("ORI")["total_pop"].transform(lambda s: s.interpolate().bfill().ffill())
    return agencies, national.set_index("year")


def year_survey(agencies: pd.DataFrame, year: int) -> SurveyData:
    """One year's agencies as a survey: full years exact, partial years censored, no report silent."""
    a = agencies[(agencies["year"] == year) & agencies["population"].notna()].drop_duplicates("ORI")
    homs = a["homs_sum"].to_numpy(float)
    # 2015 rows come from "Crime in the U.S. 2015" without a month count: a published count is a full year
    months = np.where(a["months_reported"].isna() & np.isfinite(homs), 12, a["months_reported"].fillna(0))
    responded = (months > 0) & np.isfinite(homs)
    responded &= ~((months < 12) & (np.nan_to_num(homs) == 0))  # "at least 0" carries no information
    partial = responded & (months < 12)
    cap = np.where(partial, homs, np.nan)
    returned = np.where(responded, homs, np.nan)
    units = pd.DataFrame({"unit": a["ORI"].to_numpy(), "population": a["population"].to_numpy()})
    survey = pd.DataFrame({"unit": units["unit"], "responded": responded.astype(int), "returned": returned,
                           "cap": cap})
    return SurveyData.from_frames(units, survey, name=f"UCR agencies {year}",
                                  notes=("FBI UCR via themarshallproject/city-crime; partial years censored.",))


def main(years: list[int], out: Path, draws: int = 500) -> pd.DataFrame:
    agencies, national = load()
    sampler = SamplerConfig(draws=draws, tune=draws, chains=2, target_accept=0.95, nuts_sampler="pymc")
    rows = []
    for year in years:
        data = year_survey(agencies, year)
        nat = national.loc[year]
        reported = data.responses
        for mechanism in ("mcar", "mar"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fit = SurveyEstimator(mechanism=mechanism, sampler=sampler.with_(random_seed=year)).fit(data)
            est, lo, hi = fit.interval("total", 0.9)
            rate = fit.draws("total") / data.units["population"].sum()
            naive = np.quantile(rate * nat["population"], [0.5, 0.05, 0.95])
            rows.append({
                "year": year, "mechanism": mechanism, "agencies": data.n_units,
                "full_year": int(((reported["responded"] == 1) & ~np.isfinite(reported["cap"])).sum()),
                "partial_year": data.n_capped, "not_reported": data.n_units - data.n_responded,
                "reported_homicides": data.returned_total,
                "agencies_total": est, "lower": lo, "upper": hi,
                "national_published": float(nat["homs_sum"]),
                "agencies_share_of_national": est / float(nat["homs_sum"]),
                "naive_national_from_agencies": naive[0],
                "converged": fit.converged,
            })
            print(f"{year} {mechanism}: agencies' total {est:,.0f} (90% CI {lo:,.0f}-{hi:,.0f}); "
                  f"reported {data.returned_total:,}; national published {nat['homs_sum']:,.0f}; "
                  f"scaled by population {naive[0]:,.0f}", flush=True)
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "ucr_partial_reporting.csv", index=False)
    _plot(table, national, out / "ucr_partial_reporting.png")
    return table


def _plot(table: pd.DataFrame, national: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(national.index, national["homs_sum"], color="black", label="published national homicides")
    mar = table[table["mechanism"] == "mar"]
    ax.errorbar(mar["year"], mar["agencies_total"], yerr=[mar["agencies_total"] - mar["lower"],
                mar["upper"] - mar["agencies_total"]], fmt="o", label="large-city agencies' total (MAR, 90%)")
    ax.plot(mar["year"], mar["naive_national_from_agencies"], "s--", label="agencies' rate x national population")
    ax.set_ylabel("homicides per year")
    ax.set_title("FBI UCR: incomplete agency reporting vs the published national count")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, nargs="+", default=[1975, 1981, 1988, 1999, 2014])
    parser.add_argument("--out", type=Path, default=Path("example-output"))
    parser.add_argument("--draws", type=int, default=500)
    args = parser.parse_args()
    main(args.years, args.out, args.draws)
