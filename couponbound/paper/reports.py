"""Saved runs: read monitor states and reports back from JSON.

:func:`load_reports` reads what a training run saved -- a
:meth:`BoundMonitor.state_dict <couponbound.BoundMonitor.state_dict>` or a
:meth:`BoundReport.to_dict <couponbound.BoundReport.to_dict>`, one or many --
and returns ``(label, BoundReport)`` pairs for
:func:`~couponbound.paper.tables.decomposition_table` and the bound figures of
:mod:`couponbound.paper.plots`.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

from couponbound._validate import short_repr
from couponbound.paper._inputs import load_json_file, strict_bool
from couponbound.training.monitor import BoundMonitor, BoundReport

__all__ = ["load_reports"]

_REPORT_FIELDS = {f.name: str(f.type) for f in fields(BoundReport)}
#: Fields with a default: a saved report may lack them (older versions).
_OPTIONAL = frozenset(f.name for f in fields(BoundReport)
                      if f.default is not MISSING or f.default_factory is not MISSING)
#: The fields a report may hold as +inf: a vacuous bound on the supervised loss
#: (it divides by upsilon or by 1 - tau, which can be 0).
_MAY_BE_INFINITE = frozenset({"ns21_sup_upper", "arora_sup_upper"})


def _report_from_dict(d: Mapping[str, Any], where: str) -> BoundReport:
    missing = [k for k in _REPORT_FIELDS if k not in d and k not in _OPTIONAL]
    if missing:
        raise ValueError(f"{where}: not a BoundReport dict, missing {missing[:5]}"
                         + (" ..." if len(missing) > 5 else ""))
    kw: dict[str, Any] = {}
    for name, kind in _REPORT_FIELDS.items():
        if name not in d:  # an optional field, from a report saved before it existed
            continue
        v = d[name]
        field = f"{where}.{name}"
        if kind == "bool":
            # BoundReport.to_dict() writes booleans as 1.0 / 0.0; a string is refused
            kw[name] = (bool(v) if isinstance(v, int | float) and not isinstance(v, bool)
                        and v in (0, 1) else strict_bool(v, field))
        elif kind in ("int", "int | None"):
            # to_dict() writes integers as floats and K = None as nan
            if kind == "int | None" and (v is None or (isinstance(v, float) and math.isnan(v))):
                kw[name] = None
            elif isinstance(v, float) and v.is_integer() and abs(v) < 2.0**62:
                kw[name] = int(v)
            elif isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{field} must be an integer, got {short_repr(v)}")
            else:
                kw[name] = int(v)
        elif v is None:
            kw[name] = math.nan
        elif isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{field} must be a number, got {short_repr(v)}")
        elif math.isinf(v) and not (float(v) > 0 and name in _MAY_BE_INFINITE):
            raise ValueError(f"{field} must be finite, got {v!r}")
        else:
            kw[name] = float(v)
    return BoundReport(**kw)


def _report_from_state(state: Mapping[str, Any], where: str) -> BoundReport:
    if not isinstance(state.get("config"), Mapping):
        raise ValueError(f"{where}: a monitor state needs a 'config' dict")
    try:
        return BoundMonitor.from_state_dict(dict(state)).compute()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _load_one(obj: Any, where: str) -> BoundReport:
    if isinstance(obj, BoundReport):
        return obj
    if isinstance(obj, BoundMonitor):
        return obj.compute()
    if isinstance(obj, Mapping):
        if obj.get("format") == "couponbound.BoundMonitor":
            return _report_from_state(obj, where)
        if "contrastive" in obj and "ns21_bound" in obj:
            return _report_from_dict(obj, where)
    raise ValueError(
        f"{where}: expected a BoundMonitor state_dict() or a BoundReport.to_dict(), "
        f"got {short_repr(obj)}"
    )


def load_reports(source: Any) -> list[tuple[str, BoundReport]]:
    """Read saved runs: monitor states or reports, one or many, from JSON.

    Parameters
    ----------
    source : str, os.PathLike, or object
        A JSON file, or the object it would hold: a
        :meth:`BoundMonitor.state_dict <couponbound.BoundMonitor.state_dict>`
        (its report is computed), a :meth:`BoundReport.to_dict
        <couponbound.BoundReport.to_dict>`, a list of those, a mapping
        ``label -> state or report``, or ``{"runs": [...]}``.

    Returns
    -------
    list of (str, BoundReport)
        Labels (``"K+1 = 32"`` by default, the mapping's keys otherwise) and reports.

    A file is read with limits (at most
    16 MiB, checked before reading; nesting at most 64 deep; no number
    literal beyond the float range such as ``1e400``; no duplicate keys), and
    every field must have its type and be finite, except ``NaN`` for a missing
    value and ``Infinity`` for a vacuous bound on the supervised loss, as
    ``BoundReport.to_dict`` writes them (``"holds": "false"`` is refused, not read as true; ``true``,
    ``1.0`` and their opposites are accepted).

    Raises
    ------
    ValueError, TypeError
        Naming the file and entry that could not be read.

    Examples
    --------
    >>> from couponbound import BoundMonitor
    >>> mon = BoundMonitor(num_classes=2, temperature=0.5)
    >>> _ = mon.update_losses(contrastive=[2.0, 2.2], sup=[1.0, 1.4], d=-0.5, labels=[0, 1], in_batch=True)
    >>> [(lab, r.contrastive) for lab, r in load_reports([mon.state_dict()])]
    [('K+1 = 2', 2.1)]
    """
    where = "runs"
    obj = source
    if isinstance(source, str | os.PathLike):
        where = str(os.fspath(source))
        # BoundReport.to_dict() writes NaN for a missing value and Infinity for
        # a vacuous bound; _report_from_dict accepts them only there
        obj = load_json_file(source, allow_nan=True)
    if isinstance(obj, Mapping) and set(obj) == {"runs"}:
        obj = obj["runs"]
    out: list[tuple[str | None, BoundReport]] = []
    if isinstance(obj, Mapping) and not (
        obj.get("format") == "couponbound.BoundMonitor" or "contrastive" in obj
    ):
        for key, val in obj.items():
            out.append((str(key), _load_one(val, f"{where}[{key!r}]")))
    elif isinstance(obj, list):
        if not obj:
            raise ValueError(f"{where} holds an empty list of runs")
        for i, val in enumerate(obj):
            out.append((None, _load_one(val, f"{where}[{i}]")))
    else:
        out.append((None, _load_one(obj, where)))
    result = []
    for i, (lab, rep) in enumerate(out):
        if lab is None:
            lab = f"K+1 = {rep.K + 1}" if rep.K is not None else f"run {i + 1}"
        result.append((lab, rep))
    return result
