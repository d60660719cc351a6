"""Measured runs as the tables and figures show them (private).

A run is a :class:`~couponbound.BoundReport` (from
:meth:`BoundMonitor.compute <couponbound.BoundMonitor.compute>`) or a
:class:`~couponbound.BoundTerms`; :func:`summarize_runs` turns a sequence (or
a mapping label -> run) into :class:`Run` rows, once for every table and figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from couponbound._validate import short_repr
from couponbound.bounds import BoundTerms, decompose
from couponbound.training import BoundReport


@dataclass(frozen=True)
class Run:
    """What tables and figures show of one measured run.

    ``run[key]`` gives a value by name: the measured ``contrastive``,
    ``upsilon``, ``tau``, ``collision``, ``d``; NS21's parts ``sup_term``,
    ``sub_term``, ``collision_term``; the bounds ``ns21_bound``,
    ``arora_bound``, ``ns21_sup_upper``, ``arora_sup_upper``; ``sup_measured``,
    ``theory_upsilon``, ``holds``, ``contrastive_se`` and ``ns21_bound_se``
    (``nan`` without a report).
    """

    label: str
    K: int | None
    C: int | None
    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _report_values(report: BoundReport) -> dict[str, Any]:
    """The bounds of a report, as :class:`Run` fields."""
    return {"ns21_bound": report.ns21_bound, "arora_bound": report.arora_bound,
            "ns21_sup_upper": report.ns21_sup_upper, "arora_sup_upper": report.arora_sup_upper,
            "sup_measured": report.sup_all, "theory_upsilon": report.theory_upsilon,
            "holds": report.holds, "contrastive_se": report.contrastive_se,
            "ns21_bound_se": report.ns21_bound_se,
            "collision_diagnostic": report.collision_diagnostic}


def _terms_values(terms: BoundTerms) -> dict[str, Any]:
    """The bounds of measured terms, as :class:`Run` fields (via ``BoundReport.from_terms``)."""
    return _report_values(BoundReport.from_terms(terms))


def summarize(run: Any, label: str | None, index: int) -> Run:
    """One run (BoundReport or BoundTerms) as a :class:`Run` called *label*."""
    if isinstance(run, BoundReport):
        terms, values = run.terms, _report_values(run)
    elif isinstance(run, BoundTerms):
        terms, values = run, _terms_values(run)
    else:
        raise TypeError(
            f"runs must be BoundReport or BoundTerms objects, got {type(run).__name__} at "
            f"position {index}: {short_repr(run)}"
        )
    parts = decompose(terms)
    K = terms.K
    if label is None:
        label = f"K+1 = {K + 1}" if K is not None else f"run {index + 1}"
    measured = {k: getattr(terms, k) for k in ("contrastive", "upsilon", "tau", "collision", "d")}
    split = {k: getattr(parts, k) for k in ("sup_term", "sub_term", "collision_term")}
    return Run(label, K, terms.C, {"contrastive_se": math.nan, "ns21_bound_se": math.nan,
                                   **measured, **split, **values})


def summarize_runs(runs: Any, labels: Sequence[str] | None, name: str = "runs") -> list[Run]:
    """A run, a sequence of runs, or a mapping label -> run, as :class:`Run` rows.

    Raises
    ------
    TypeError
        If a run is not a BoundReport or BoundTerms.
    ValueError
        If there is no run, or *labels* has the wrong length.
    """
    if isinstance(runs, BoundReport | BoundTerms):
        runs = [runs]
    if isinstance(runs, Mapping):
        if labels is not None:
            raise ValueError(f"give labels= or a mapping label -> run as {name}, not both")
        labels = [str(k) for k in runs]
        runs = list(runs.values())
    if isinstance(runs, str | bytes) or not isinstance(runs, Iterable):
        raise TypeError(
            f"{name} must be a sequence of BoundReport / BoundTerms (or a mapping label -> run), "
            f"got {short_repr(runs)}"
        )
    items = list(runs)
    if not items:
        raise ValueError(f"{name} must not be empty")
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(items):
            raise ValueError(f"labels has {len(labels)} entries but {name} has {len(items)}")
    return [summarize(r, None if labels is None else str(labels[i]), i)
            for i, r in enumerate(items)]
