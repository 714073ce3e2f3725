"""Convergence diagnostics gathered into one record, and the loud warning for unreliable fits."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import arviz as az
import numpy as np

from extent.constants import ESS_MIN, RHAT_MAX
from extent.exceptions import ConvergenceError, ConvergenceWarning

MANY_UNITS = 100
"""Above this many unit-level effects their largest R-hat is held to :data:`RHAT_MAX_MANY` instead."""

RHAT_MAX_MANY = 1.05
"""R-hat limit for the largest of many unit-level effects. Of 12,000 effects sampled exactly (independent
AR(1) chains, 4 x 500 draws, a third of them effective: size L of the benchmark) the largest R-hat is 1.026
and 5% exceed 1.01, so 1.01 would call every large converged fit unreliable; a chain that has not mixed gives
far more (2.5 in the mis-specified L model of ``docs/performance.md``)."""


@dataclass(frozen=True)
class Diagnostics:
    """R-hat, effective sample size and divergences of a fit.

    ``max_rhat`` covers the diagnosed parameters other than unit-level effects; ``max_rhat_units`` the
    unit-level effects (``n_units`` of them), held to :data:`RHAT_MAX` when there are at most
    :data:`MANY_UNITS` and to :data:`RHAT_MAX_MANY` above. ESS minima cover both.
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    draws: int
    chains: int
    max_rhat_units: float | None = None
    n_units: int = 0

    @classmethod
    def from_idata(
        cls, idata: az.InferenceData, var_names: list[str] | None = None, *, unit_names: tuple[str, ...] = ()
    ) -> Diagnostics:
        """Diagnose ``var_names`` (default: every posterior variable); ``unit_names`` are unit-level effects."""
        post = idata.posterior
        names = [v for v in (var_names or list(post.data_vars)) if v in post]
        units = [v for v in names if v in unit_names]
        rhat = az.rhat(post, var_names=names)
        ess_b = az.ess(post, var_names=names, method="bulk")
        ess_t = az.ess(post, var_names=names, method="tail")
        div = int(idata.sample_stats["diverging"].sum()) if "sample_stats" in idata else 0

        def extreme(ds, fn):
            vals = np.concatenate([np.ravel(ds[v].values) for v in ds.data_vars]) if ds.data_vars else np.array([])
            vals = vals[np.isfinite(vals)]
            return float(fn(vals)) if vals.size else float("nan")

        n_units = sum(int(post[v].isel(chain=0, draw=0).size) for v in units)
        return cls(
            max_rhat=extreme(rhat[[v for v in names if v not in units]], np.max),
            min_ess_bulk=extreme(ess_b, np.min),
            min_ess_tail=extreme(ess_t, np.min),
            divergences=div,
            draws=int(post.sizes["draw"]),
            chains=int(post.sizes["chain"]),
            max_rhat_units=extreme(rhat[units], np.max) if units else None,
            n_units=n_units,
        )

    @property
    def ess_required(self) -> int:
        """The smallest acceptable ESS: min(:data:`ESS_MIN`, 100 x chains)."""
        return min(ESS_MIN, 100 * self.chains)

    @property
    def problems(self) -> list[str]:
        """What is wrong, in words (empty when the fit looks converged)."""
        out = []
        if not self.max_rhat <= RHAT_MAX:
            out.append(f"max R-hat {self.max_rhat:.3f} > {RHAT_MAX}")
        if self.n_units:
            limit = RHAT_MAX if self.n_units <= MANY_UNITS else RHAT_MAX_MANY
            if not self.max_rhat_units <= limit:
                out.append(f"max R-hat of {self.n_units} unit effects {self.max_rhat_units:.3f} > {limit}")
        if not self.min_ess_bulk >= self.ess_required:
            out.append(f"min bulk ESS {self.min_ess_bulk:.0f} < {self.ess_required}")
        if not self.min_ess_tail >= self.ess_required:
            out.append(f"min tail ESS {self.min_ess_tail:.0f} < {self.ess_required}")
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions")
        return out

    @property
    def converged(self) -> bool:
        return not self.problems

    def check(self, *, strict: bool = False, what: str = "fit") -> None:
        """Warn (or raise :class:`ConvergenceError` when ``strict``) if the fit is unreliable."""
        if self.converged:
            return
        message = (
            f"UNRELIABLE {what}: {'; '.join(self.problems)}. Intervals from this fit may not mean what they "
            "say; rerun with more tuning and draws or a higher target_accept (on the command line --tune, "
            "--draws, --target-accept) before citing them."
        )
        if strict:
            raise ConvergenceError(message)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)

    def withheld(self, rhat: float, ess_bulk: float) -> list[str]:
        """Why one quantity may not be cited: the fit's :attr:`problems` and, where they fail, the R-hat and bulk
        ESS of the quantity's own draws (``rhat``, ``ess_bulk``; NaN when not computable). Empty: citable."""
        own = []
        if rhat > RHAT_MAX:
            own.append(f"R-hat {rhat:.3f} of its own draws > {RHAT_MAX}")
        if ess_bulk < self.ess_required:
            own.append(f"bulk ESS {ess_bulk:.0f} of its own draws < {self.ess_required}")
        return [*self.problems, *own]

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        status = "converged" if self.converged else "NOT CONVERGED: " + "; ".join(self.problems)
        units = f" (unit effects {self.max_rhat_units:.3f})" if self.n_units else ""
        return (
            f"R-hat max {self.max_rhat:.3f}{units}, bulk ESS min {self.min_ess_bulk:.0f}, tail ESS min "
            f"{self.min_ess_tail:.0f}, {self.divergences} divergences ({self.chains} chains x {self.draws} draws): "
            f"{status}"
        )
