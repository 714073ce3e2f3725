"""Replace the report's naive national figures by interval estimates, in a few lines of library code.

Run: .venv/bin/python examples/report_figures.py
"""

import extent
from extent.datasets import load_report

report = load_report()
naive = extent.NaiveScaling().fit(report.data)
fit = extent.HierarchicalExtent(sampler=extent.SamplerConfig(random_seed=1)).fit(report.data)

print(fit.diagnostics)
for category in fit.categories:
    published = report.published_value(category, "per_annum")
    print(f"{category:32s} report {published:7,.0f}  naive {naive.interval(category).estimate:7,.1f}  "
          f"extent {fit.interval(category)}")

# how much the between-force spread prior matters with two or three forces: the same fit under a spread prior
# with twice the median, side by side
print(extent.HierarchicalExtent(sampler=extent.SamplerConfig(random_seed=1)).prior_sensitivity(report.data, fit)
      [["category", "lower", "upper", "wider_lower", "wider_upper", "width_ratio"]].round(2).to_string(index=False))
