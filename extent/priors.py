"""Prior specifications: small, documented, overridable objects.

A :class:`Prior` names a PyMC distribution and its parameters. Each model declares its ``DEFAULT_PRIORS``;
users override any of them by name (``priors={"unit_sd": Prior("LogNormal", mu=-0.3, sigma=0.5)}``) and every bad
entry is reported at once in a :class:`~extent.exceptions.PriorConfigError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from extent.exceptions import PriorConfigError


@dataclass(frozen=True)
class Prior:
    """A PyMC distribution by name with fixed parameters, e.g. ``Prior("HalfNormal", sigma=0.5)``."""

    distribution: str
    params: dict[str, float] = field(default_factory=dict)

    def __init__(self, distribution: str, **params: float):
        object.__setattr__(self, "distribution", distribution)
        object.__setattr__(self, "params", dict(params))

    def create(self, name: str, **kwargs: Any):
        """Create the random variable ``name`` inside the current model context."""
        import pymc as pm

        return getattr(pm, self.distribution)(name, **self.params, **kwargs)

    def to_dict(self) -> dict:
        return {"distribution": self.distribution, **self.params}

    @classmethod
    def from_dict(cls, spec: dict) -> Prior:
        spec = dict(spec)
        return cls(spec.pop("distribution"), **spec)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.distribution}({args})"


def resolve_priors(defaults: dict[str, Prior], overrides: dict[str, Prior | dict] | None) -> dict[str, Prior]:
    """Merge user overrides over the defaults, checking every entry; raise one error listing all problems."""
    import pymc as pm

    priors = dict(defaults)
    problems = []
    for name, spec in (overrides or {}).items():
        if name not in defaults:
            problems.append(f"unknown prior {name!r}; known: {', '.join(defaults)}")
            continue
        try:
            prior = spec if isinstance(spec, Prior) else Prior.from_dict(spec)
            dist = getattr(pm, prior.distribution, None)
            if not (isinstance(dist, type) and issubclass(dist, pm.Distribution)):
                raise PriorConfigError(f"{prior.distribution!r} is not a PyMC distribution")
            dist.dist(**prior.params)  # checks the parameter names
        except (PriorConfigError, TypeError, KeyError, ValueError) as err:
            problems.append(f"prior {name!r}: {err}")
            continue
        priors[name] = prior
    if problems:
        raise PriorConfigError("; ".join(problems))
    return priors


def priors_to_json(priors: dict[str, Prior]) -> str:
    return json.dumps({k: v.to_dict() for k, v in priors.items()}, sort_keys=True)


def priors_from_json(text: str) -> dict[str, Prior]:
    return {k: Prior.from_dict(v) for k, v in json.loads(text).items()}
