"""Assumption-driven scenarios: from known cases to all cases under a stated detection rate.

A count of *known* cases (HMRC's importation 'prosecutions', say) says nothing by itself about the cases that
were never detected. The report can only say that the incidence of unknown cases is "possibly much higher"
(para 7.3.3), and gives search rates that bound nothing (0.006% of transits searched, 0.001% of postal items
examined, paras 12.4.6 and 12.4.8: a share of items *searched* is not a share of offences *detected*).

:func:`detection_scenario` turns known counts into all counts only under a detection rate the user states,
and labels every number it gives as a scenario: its interval is as wide as the stated assumption makes it,
and it is never an estimate. With ``K`` known cases and detection rate ``p`` (each case detected
independently with probability ``p``), the number of all cases ``N`` has, under a flat prior on ``N``,
``N - K ~ NegativeBinomial(K + 1, p)`` (failures before the ``K + 1``-th success); for large ``K`` this is about
``K / p``. The known counts' own uncertainty (posterior draws of a rate or projection) is carried through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from extent.exceptions import ConfigError
from extent.measure_result import MeasureResult

SCENARIO_ESTIMATOR = "detection_scenario"


@dataclass(frozen=True)
class DetectionRate:
    """A stated assumption about the share of all cases that become known.

    Use :meth:`log_uniform` for a range spanning orders of magnitude (every factor of ten within it equally
    likely) or :meth:`beta` for a rate with a stated centre.

    Attributes
    ----------
    kind : {"log_uniform", "beta"}
    a, b : float
        ``low, high`` of the log-uniform range, or ``alpha, beta`` of the Beta distribution.
    basis : str
        Where the assumption comes from, in words; printed with every scenario figure.
    """

    kind: str
    a: float
    b: float
    basis: str = "stated by the user"

    def __post_init__(self):
        if self.kind == "log_uniform":
            if not (0 < self.a <= self.b <= 1):
                raise ConfigError(f"a detection rate range needs 0 < low <= high <= 1, got {self.a!r} to {self.b!r}")
        elif self.kind == "beta":
            if not (self.a > 0 and self.b > 0 and math.isfinite(self.a) and math.isfinite(self.b)):
                raise ConfigError(f"Beta detection rate needs positive alpha and beta, got {self.a!r}, {self.b!r}")
        else:
            raise ConfigError(f"detection rate kind must be 'log_uniform' or 'beta', got {self.kind!r}")

    @classmethod
    def log_uniform(cls, low: float, high: float, basis: str = "stated by the user") -> DetectionRate:
        return cls("log_uniform", float(low), float(high), basis)

    @classmethod
    def beta(cls, alpha: float, beta: float, basis: str = "stated by the user") -> DetectionRate:
        return cls("beta", float(alpha), float(beta), basis)

    @classmethod
    def parse(cls, text: str, basis: str = "stated by the user") -> DetectionRate:
        """``"LOW,HIGH"`` (a log-uniform range, shares or percentages such as ``"0.1%,10%"``) or
        ``"beta:ALPHA,BETA"``."""
        body = text.strip()
        kind = "log_uniform"
        if body.lower().startswith("beta:"):
            kind, body = "beta", body[5:]
        parts = [p.strip() for p in body.split(",")]
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"detection rate {text!r}: give LOW,HIGH (e.g. 0.1%,10%) or beta:ALPHA,BETA")
        try:
            values = [float(p[:-1]) / 100 if p.endswith("%") else float(p) for p in parts]
        except ValueError:
            raise ConfigError(f"detection rate {text!r}: {parts[0]!r} and {parts[1]!r} must be numbers") from None
        return cls(kind, values[0], values[1], basis)

    def draws(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        if self.kind == "beta":
            return rng.beta(self.a, self.b, size=shape)
        return np.exp(rng.uniform(np.log(self.a), np.log(self.b), size=shape))

    def __str__(self) -> str:
        if self.kind == "beta":
            mean = self.a / (self.a + self.b)
            return f"a detection rate ~ Beta({self.a:g}, {self.b:g}) (mean {_pct(mean)}; {self.basis})"
        return f"a detection rate between {_pct(self.a)} and {_pct(self.b)}, log-uniform ({self.basis})"


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%"


def detection_scenario(known: MeasureResult, detection: DetectionRate, *, quantities: list[str] | None = None,
                       seed: int = 0) -> MeasureResult:
    """All cases implied by known-case draws under a stated detection rate: a scenario, never an estimate.

    Parameters
    ----------
    known : MeasureResult
        Draws of counts of known cases (quantities on the ``count`` or ``rate`` scale, e.g. a
        :class:`~extent.estimators.CountTrend` result's ``rate_<year>`` and ``projection_<year>``).
    detection : DetectionRate
        The stated assumption.
    quantities : list of str, optional
        Which of ``known``'s quantities to scale (default: every count or rate).
    seed : int
        Seed of the detection-rate and negative-binomial draws.

    Returns
    -------
    MeasureResult
        Estimator ``detection_scenario``, quantities named ``scenario_all_<quantity>``; ``settings["scenario"]`` holds
        the assumption in words, and its citations say that the figures are a scenario.
    """
    counts = [q for q in known.quantities if known.scales[q] in ("count", "rate")]
    chosen = counts if quantities is None else list(quantities)
    bad = [q for q in chosen if q not in counts]
    if bad:
        raise ConfigError(f"detection scenario needs counts of known cases; {', '.join(map(repr, bad))} "
                          f"{'is' if len(bad) == 1 else 'are'} not among {', '.join(counts) or 'none'}")
    if not chosen:
        raise ConfigError("detection scenario: the result has no count or rate quantities to scale")
    rng = np.random.default_rng(seed)
    draws = {}
    for q in chosen:
        k = np.asarray(known.draws[q], dtype=float)
        p = detection.draws(k.shape, rng)
        # N - K ~ NegBin(K + 1, p); numpy's negative_binomial needs n > 0 and integer-valued K in practice
        kk = np.maximum(np.round(k), 0.0)
        draws[f"scenario_all_{q}"] = kk + rng.negative_binomial(kk + 1, p).astype(float)
    scales = dict.fromkeys(draws, "count")
    return MeasureResult(SCENARIO_ESTIMATOR, f"all cases, known and undetected, under {detection}", draws, scales,
                         diagnostics=known.diagnostics,
                         settings={"scenario": str(detection), "detection": detection.__dict__.copy(),
                                   "known_estimator": known.estimator, "known_measure": known.measure,
                                   "seed": seed})
