"""couponbound: exact, fast coupon-collector coverage and the NS21 bounds.

How many negative samples does a contrastive batch need, and what does the
theory of Nozawa & Sato (NS21, NeurIPS 2021) then promise about downstream
classification?  The public API:

* coverage: :func:`coverage_prob`, :func:`log_coverage_prob`,
  :func:`coverage_bounds`, :func:`completion_time`, :func:`expected_draws`,
  :func:`required_negatives`;
* partial coverage and false negatives: :func:`distinct_classes`,
  :func:`expected_classes`, :func:`false_negative_rate`,
  :func:`expected_false_negatives`;
* collisions: :func:`collision_prob`, :func:`collision_pmf`,
  :func:`expected_log_collision`;
* bounds: :class:`BoundTerms`, :func:`ns21_lower_bound`,
  :func:`ns21_sup_upper_bound`, :func:`arora_lower_bound`,
  :func:`arora_sup_upper_bound`, :func:`decompose`, :func:`sup_upper_bounds`,
  :func:`ns21_bound_curve`, :func:`bao22_min_contrastive`,
  :func:`bao22_min_supervised`;
* the class prior: :class:`Prior`;
* the training hook: :class:`BoundMonitor`, :class:`BoundReport`,
  :class:`NonRandomBatchWarning`, :func:`collision_diagnostic`;
* exact values (:class:`fractions.Fraction`, mpmath) in :mod:`couponbound.exact`,
  named approximations in :mod:`couponbound.asymptotic`.

``import couponbound`` is light: it loads nothing but this file, and each
public name imports its module on first use (PEP 562), so the command's
``--help`` and ``--version`` start as fast as Python itself.  matplotlib,
sympy and any deep-learning framework are imported only by the functions that
need them (:mod:`couponbound.paper.plots`, :mod:`couponbound.symbolic`,
:mod:`couponbound.training`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it, imported on first access.
_LAZY: dict[str, str] = {
    # the class prior
    "Prior": "._prior",
    # coverage
    "CompletionTime": ".coverage",
    "completion_time": ".coverage",
    "coverage_prob": ".coverage",
    "expected_draws": ".coverage",
    "log_coverage_prob": ".coverage",
    "required_negatives": ".coverage",
    "CoverageBounds": ".asymptotic",
    "coverage_bounds": ".asymptotic",
    # collisions
    "collision_pmf": ".collision",
    "collision_prob": ".collision",
    "expected_log_collision": ".collision",
    # partial coverage and false negatives
    "DistinctClasses": ".occupancy",
    "distinct_classes": ".occupancy",
    "expected_classes": ".occupancy",
    "expected_false_negatives": ".occupancy",
    "false_negative_rate": ".occupancy",
    # bounds
    "BoundTerms": ".bounds",
    "NS21Decomposition": ".bounds",
    "RestatedBoundWarning": ".bounds",
    "SupUpperBounds": ".bounds",
    "VacuousBoundWarning": ".bounds",
    "arora_lower_bound": ".bounds",
    "arora_sup_upper_bound": ".bounds",
    "bao22_min_contrastive": ".bounds",
    "bao22_min_supervised": ".bounds",
    "decompose": ".bounds",
    "ns21_bound_curve": ".bounds",
    "ns21_lower_bound": ".bounds",
    "ns21_sup_upper_bound": ".bounds",
    "sup_upper_bounds": ".bounds",
    # the training hook
    "BoundMonitor": ".training",
    "BoundReport": ".training",
    "NonRandomBatchWarning": ".training",
    "collision_diagnostic": ".training",
}

#: Submodules reachable as attributes (``couponbound.exact``) without an import statement.
_SUBMODULES = frozenset({"asymptotic", "bounds", "cli", "collision", "coverage", "exact",
                         "occupancy", "paper", "symbolic", "testing", "training"})

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports on demand
    from . import exact as exact
    from ._prior import Prior
    from .asymptotic import CoverageBounds, coverage_bounds
    from .bounds import (
        BoundTerms,
        NS21Decomposition,
        RestatedBoundWarning,
        SupUpperBounds,
        VacuousBoundWarning,
        arora_lower_bound,
        arora_sup_upper_bound,
        bao22_min_contrastive,
        bao22_min_supervised,
        decompose,
        ns21_bound_curve,
        ns21_lower_bound,
        ns21_sup_upper_bound,
        sup_upper_bounds,
    )
    from .collision import collision_pmf, collision_prob, expected_log_collision
    from .coverage import (
        CompletionTime,
        completion_time,
        coverage_prob,
        expected_draws,
        log_coverage_prob,
        required_negatives,
    )
    from .occupancy import (
        DistinctClasses,
        distinct_classes,
        expected_classes,
        expected_false_negatives,
        false_negative_rate,
    )
    from .training import BoundMonitor, BoundReport, NonRandomBatchWarning, collision_diagnostic


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562) and cache the name."""
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


__all__ = [
    "Prior",
    "BoundMonitor",
    "BoundReport",
    "BoundTerms",
    "NonRandomBatchWarning",
    "CompletionTime",
    "CoverageBounds",
    "DistinctClasses",
    "NS21Decomposition",
    "RestatedBoundWarning",
    "SupUpperBounds",
    "VacuousBoundWarning",
    "arora_lower_bound",
    "arora_sup_upper_bound",
    "bao22_min_contrastive",
    "bao22_min_supervised",
    "collision_diagnostic",
    "collision_pmf",
    "collision_prob",
    "completion_time",
    "coverage_bounds",
    "coverage_prob",
    "decompose",
    "distinct_classes",
    "expected_classes",
    "expected_false_negatives",
    "false_negative_rate",
    "expected_draws",
    "expected_log_collision",
    "log_coverage_prob",
    "ns21_bound_curve",
    "ns21_lower_bound",
    "ns21_sup_upper_bound",
    "required_negatives",
    "sup_upper_bounds",
]
