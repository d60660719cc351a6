"""The numbers the ``couponbound`` command prints, as library functions.

* :func:`dataset_table` -- the main job's rows (one :class:`DatasetRow` per
  data set: ``E[K+1]``, the ``K`` for each coverage level, the coverage at
  given batch sizes with its ``log10``) and :func:`render_summary` to print
  them as text, CSV, JSON or LaTeX;
* :func:`format_coverage` -- a coverage as the tables print it: tiny values
  as powers of ten from the logarithm (``2.27e-592``), values near one as
  ``1-3.3e-26``, a true zero as ``0``;
* :func:`coverage_values_table` -- ``upsilon_{K+1}`` for given ``K`` and priors
  (``couponbound coverage``);
* :func:`required_table` -- the smallest ``K`` per coverage level
  (``couponbound required``).

Data sets are named :class:`~couponbound.Prior` objects
(:mod:`couponbound.paper.datasets`); see :ref:`math-coverage`,
:ref:`math-completion-time` and :ref:`math-required` for the mathematics.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from couponbound._prior import Prior
from couponbound._validate import (
    check_flag,
    check_int_array,
    check_probability,
    check_real,
    short_repr,
)
from couponbound.coverage import (
    completion_time,
    coverage_prob,
    expected_draws,
    log_coverage_prob,
    required_negatives,
)
from couponbound.occupancy import expected_classes
from couponbound.paper._levels import check_confidences, pct
from couponbound.paper.datasets import DATASETS, TABLE_DATASETS, as_named_priors, dataset
from couponbound.paper.tables import Column, Table

__all__ = [
    "BATCH_SIZES",
    "CONFIDENCES",
    "SUMMARY_FORMATS",
    "DatasetRow",
    "coverage_values_table",
    "dataset_table",
    "format_coverage",
    "format_probability",
    "loader_negatives",
    "render_summary",
    "required_table",
]

#: Coverage levels of the main job's table.
CONFIDENCES: tuple[float, ...] = (0.5, 0.9, 0.99, 0.999)
#: Batch sizes ``K + 1`` at which the main job's table shows the coverage.
BATCH_SIZES: tuple[int, ...] = (256, 4096, 65536)
#: What :func:`render_summary` writes.
SUMMARY_FORMATS: tuple[str, ...] = ("text", "csv", "json", "latex")


_LOG10_E = 1.0 / math.log(10.0)


@dataclass(frozen=True)
class DatasetRow:
    """One row of the main job's table.

    The dicts are keyed by coverage level (``"99"``) or batch size
    (``"256"``).  ``coverage_at`` holds ``upsilon_{K+1}`` as a float (0.0 once
    it underflows), ``log10_coverage_at`` its ``log10`` from
    :func:`couponbound.log_coverage_prob` (finite far below 1e-308, ``-inf``
    only for a true zero, fewer draws than classes); ``miss_at`` and
    ``log10_miss_at`` the same for ``1 - upsilon`` (``nan`` where the
    coverage engine cannot resolve a miss below about 1e-16).  These are the
    values for independent draws (NS21's model).

    For a data set known by its class counts (a finite training set of
    ``data_size`` samples) the row also holds what a shuffled data loader
    sees, batches drawn without replacement: ``loader_negatives_for``, the
    smallest ``K`` per level.  A batch larger than the data set cannot be
    drawn from it: ``batch_exceeds_data`` flags those batch sizes, whose
    coverage is then ``None`` (JSON ``null``, printed ``> N``), and
    ``negatives_exceed_data`` flags the levels whose independent-draw ``K``
    needs a batch (``K + 1``) larger than the data set (printed with ``*``).
    ``expected_classes_at`` holds ``E[D]``, the expected number of distinct
    classes in a batch of each size (:func:`couponbound.expected_classes`):
    the shuffled loader's for a finite data set (``None`` where the batch
    exceeds it), independent draws' otherwise.
    """

    dataset: str
    classes: int
    expected_batch: float
    negatives_for: dict[str, int]
    coverage_at: dict[str, float | None]
    log10_coverage_at: dict[str, float | None]
    miss_at: dict[str, float | None]
    log10_miss_at: dict[str, float | None]
    data_size: int | None = None
    loader_negatives_for: dict[str, int] | None = None
    batch_exceeds_data: dict[str, bool] = field(default_factory=dict)
    negatives_exceed_data: dict[str, bool] = field(default_factory=dict)
    expected_classes_at: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Flat dict: ``K_for_99`` for the K needed; per batch size ``upsilon_at_256`` and
        ``log10_upsilon_at_256`` for the coverage, then ``miss_at_256`` and
        ``log10_miss_at_256`` for ``1 - upsilon`` (exact in the far tail, not rounded to 0);
        ``N``, ``loader_K_for_99``, ``K_for_99_exceeds_data`` and
        ``batch_256_exceeds_data`` for the shuffled loader of a finite data set
        (``None`` where there is no data set size)."""
        out: dict[str, object] = {
            "dataset": self.dataset,
            "classes": self.classes,
            "N": self.data_size,
            "expected_batch": self.expected_batch,
        }
        out.update({f"K_for_{k}": v for k, v in self.negatives_for.items()})
        loader = self.loader_negatives_for or {}
        out.update({f"loader_K_for_{k}": loader.get(k) for k in self.negatives_for})
        out.update({f"K_for_{k}_exceeds_data": self.negatives_exceed_data.get(k, False)
                    for k in self.negatives_for})
        for b, v in self.coverage_at.items():
            out[f"upsilon_at_{b}"] = v
            out[f"log10_upsilon_at_{b}"] = self.log10_coverage_at[b]
        for b, v in self.miss_at.items():
            out[f"miss_at_{b}"] = v
            out[f"log10_miss_at_{b}"] = self.log10_miss_at[b]
        out.update({f"batch_{b}_exceeds_data": self.batch_exceeds_data.get(b, False)
                    for b in self.coverage_at})
        out.update({f"expected_classes_at_{b}": v for b, v in self.expected_classes_at.items()})
        return out

    def classes_cells(self) -> list[str]:
        """``E[D]`` at each batch size: one decimal, ``C-3.3e-05`` just below ``C``,
        ``> N`` for a batch larger than the data set."""
        out = []
        for v in self.expected_classes_at.values():
            if v is None:
                out.append(f"> {self.data_size}")
            elif v < self.classes and self.classes - v < 0.05:
                out.append(f"{self.classes}-{self.classes - v:.1e}")
            else:
                out.append(f"{v:.1f}")
        return out

    def cells(self) -> list[str]:
        """The coverage at each batch size as :func:`format_coverage` prints it
        (``> N`` for a batch larger than the data set)."""
        out = []
        for b, v in self.coverage_at.items():
            lv, lm = self.log10_coverage_at[b], self.log10_miss_at[b]
            if v is None or lv is None or lm is None:
                out.append(f"> {self.data_size}")
            else:
                out.append(format_coverage(v, lv, lm))
        return out

    def k_cells(self) -> list[str]:
        """The ``K`` per level, ``*`` marking a batch larger than the data set."""
        return [f"{v}*" if self.negatives_exceed_data.get(k) else str(v)
                for k, v in self.negatives_for.items()]

    def loader_cells(self) -> list[str]:
        """The shuffled loader's ``K`` per level (``-`` without a data set size)."""
        loader = self.loader_negatives_for
        return [str(loader[k]) if loader is not None else "-" for k in self.negatives_for]


def _miss(prior: Any, n: Any, log_cov: Any) -> tuple[list[float], list[float]]:
    """``1 - upsilon_n`` and its ``log10`` (``nan`` where the engine cannot resolve it).

    Up to ``upsilon = 0.99`` the complement of *log_cov* is accurate (relative
    error of the miss below ``1e-10``) and costs nothing; closer to one the
    completion time's survival function is evaluated (a saddle-point
    integral for a non-uniform prior, the slow part of a long-tailed row).
    """
    log_cov = np.asarray(log_cov, dtype=float)
    log_miss = np.empty(log_cov.shape)
    near = log_cov > math.log(0.99)
    with np.errstate(divide="ignore"):
        log_miss[~near] = np.log(-np.expm1(log_cov[~near]))
    if np.any(near):
        # far out the saddle-point tail may overflow (then the engine falls
        # back to the complement, -inf below 1e-16): reported as nan, not -inf
        T = completion_time(prior)
        with np.errstate(all="ignore"):
            log_miss[near] = T.logsf(np.asarray(n)[near])
    one = prior.C == 1 and prior.replacement
    log10 = [float(v) * _LOG10_E if (math.isfinite(v) or one) else math.nan for v in log_miss]
    return [10.0 ** v if math.isfinite(v) else (0.0 if one else math.nan) for v in log10], log10


def dataset_table(
    datasets: Any = TABLE_DATASETS,
    confidences: Sequence[float] = CONFIDENCES,
    batch_sizes: Sequence[int] = BATCH_SIZES,
) -> list[DatasetRow]:
    """The numbers of the main job, one :class:`DatasetRow` per data set.

    Parameters
    ----------
    datasets : data sets, default TABLE_DATASETS
        Named priors, or anything :func:`~couponbound.paper.datasets.as_named_priors`
        accepts.
    confidences : sequence of float
        Coverage levels in (0, 1).
    batch_sizes : sequence of int
        Batch sizes ``K + 1 >= 1`` (anchor included) for the coverage columns.

    Raises
    ------
    ValueError, TypeError
        For a bad data set, confidence or batch size, naming the value.

    Examples
    --------
    >>> row = dataset_table([("CIFAR-10", 10)], [0.99], [32])[0]
    >>> row.negatives_for, round(row.coverage_at["32"], 4)
    ({'99': 65}, 0.691)
    >>> row = dataset_table(["Wiki-3029"], [0.5], [4096])[0]
    >>> round(row.log10_coverage_at["4096"], 3), row.cells()
    (-591.644, ['2.27e-592'])
    """
    qs = check_confidences(confidences)
    sizes = _batch_sizes(batch_sizes)
    rows = []
    for prior in as_named_priors(_by_name(datasets)):
        if not prior.replacement:
            prior = prior.with_replacement(True)  # the row shows both models itself
        need = {pct(q): required_negatives(prior, confidence=q) for q in qs}
        n = np.array(sizes, dtype=np.int64)
        cov = np.asarray(coverage_prob(n - 1, prior), dtype=float)
        log_cov = np.asarray(log_coverage_prob(n - 1, prior), dtype=float)
        miss, lmiss = _miss(prior, n, log_cov)
        lcov = log_cov * _LOG10_E
        keys = [str(b) for b in sizes]
        N = prior.N
        loader = None
        exceeds: dict[str, bool] = {}
        k_exceeds: dict[str, bool] = {}
        if N is not None:
            shuffled = prior.with_replacement(False)
            loader = {pct(q): loader_negatives(shuffled, q) for q in qs}
            exceeds = {k: b > N for k, b in zip(keys, sizes, strict=True)}
            k_exceeds = {k: v + 1 > N for k, v in need.items()}

        cols = [{k: (None if exceeds.get(k) else float(v))
                 for k, v in zip(keys, values, strict=True)} for values in (cov, lcov, miss, lmiss)]
        batches = prior if N is None else prior.with_replacement(False)
        drawable = np.array([b for b in sizes if N is None or b <= N], dtype=np.int64)
        e_d = iter(np.atleast_1d(expected_classes(drawable - 1, batches)).tolist()
                   if drawable.size else [])
        classes = {k: (None if exceeds.get(k) else float(next(e_d))) for k in keys}
        rows.append(DatasetRow(prior.label, prior.C, float(expected_draws(prior)), need,
                               cols[0], cols[1], cols[2], cols[3], N, loader, exceeds, k_exceeds,
                               classes))
    return rows


def loader_negatives(prior: Prior, confidence: float) -> int:
    """The smallest ``K`` with ``upsilon_{K+1} >= confidence`` for batches drawn
    without replacement (*prior* with ``replacement=False``): a shuffled loader.

    The same answer as :func:`couponbound.required_negatives`, found by
    bisection on :func:`couponbound.coverage_prob` (accurate to 1e-12
    relative); when the coverage on either side of the answer is within
    1e-9 of *confidence*, :func:`~couponbound.required_negatives` decides the
    tie exactly.

    Examples
    --------
    >>> from couponbound.paper.datasets import dataset
    >>> lt = dataset("CIFAR-100-LT (r=100)").with_replacement(False)
    >>> loader_negatives(lt, 0.5), loader_negatives(lt, 0.99)
    (4323, 7765)
    """
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a Prior drawn without replacement, got {short_repr(prior)}")
    if prior.replacement or prior.N is None:
        raise ValueError("loader_negatives needs a prior drawn without replacement "
                         "(Prior.from_counts(counts, replacement=False))")
    q = check_confidences([confidence])[0]
    lo, hi = prior.C - 1, prior.N - 1  # coverage is 0 below C draws and 1 at N
    while lo < hi:
        mid = (lo + hi) // 2
        if float(coverage_prob(mid, prior)) >= q:
            hi = mid
        else:
            lo = mid + 1
    above = float(coverage_prob(lo, prior))
    below = float(coverage_prob(lo - 1, prior)) if lo > 0 else 0.0
    if above - q <= 1e-9 or q - below <= 1e-9:
        return int(required_negatives(prior, confidence=q))
    return lo


def _batch_sizes(batch_sizes: Any) -> list[int]:
    arr, _ = check_int_array(batch_sizes, "batch_sizes", minimum=1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"batch_sizes must be a non-empty sequence of ints, got "
                         f"{short_repr(batch_sizes)}")
    return [int(b) for b in arr]


def _by_name(datasets: Any) -> Any:
    """Registry names (``"Wiki-3029"``) replaced by their priors."""
    if isinstance(datasets, str):
        return [dataset(datasets)]
    if isinstance(datasets, list | tuple):
        return [DATASETS[d] if isinstance(d, str) and d in DATASETS else d for d in datasets]
    return datasets


def _power_of_ten(log10: float) -> tuple[float, int]:
    """``10**log10`` as ``(mantissa, exponent)``, the mantissa rounded to 3 digits."""
    expo = math.floor(log10)
    mant = round(10.0 ** (log10 - expo), 2)
    if mant >= 10.0:
        mant, expo = mant / 10.0, expo + 1
    return mant, expo


def format_probability(log10_value: float) -> str:
    """A probability from its ``log10``: ``0`` for ``-inf`` (a true zero), a power
    of ten below 1e-3 (``3.30e-26``), else six significant digits.

    Examples
    --------
    >>> format_probability(-591.6437), format_probability(math.log10(0.0357142857))
    ('2.27e-592', '0.0357143')
    >>> format_probability(-math.inf), format_probability(0.0)
    ('0', '1')
    """
    lv = check_real(log10_value, "log10_value", nonfinite=True)
    if math.isnan(lv) or lv > 1e-12:
        raise ValueError(f"log10_value must be a log10 probability <= 0, got {short_repr(log10_value)}")
    if lv == -math.inf:
        return "0"
    if lv < -3.0:
        mant, expo = _power_of_ten(lv)
        return f"{mant:.2f}e{expo:+03d}".replace("e+", "e")
    return f"{10.0 ** min(lv, 0.0):.6g}"


def format_coverage(value: float, log10_value: float, log10_miss: float) -> str:
    """A coverage probability as the tables print it.

    ``0`` for a true zero (``log10_value = -inf``: fewer draws than classes);
    a power of ten from the logarithm below 1e-3 (``2.27e-592``, where the
    float has long underflowed to 0); six decimals in between; ``1-3.3e-26``
    from ``log10(1 - value)`` near one; ``>1-1e-16`` where the miss is known
    only to be below float precision (``log10_miss`` is ``nan``); ``1`` for a
    true one.

    Raises
    ------
    TypeError, ValueError
        ``value`` not in [0, 1], a ``log10`` above 0, or a ``log10_value``
        that is NaN; the message names the argument.

    Examples
    --------
    >>> format_coverage(0.0, -591.6437, -1.1e-592)
    '2.27e-592'
    >>> format_coverage(0.0, -math.inf, 0.0)
    '0'
    >>> format_coverage(0.690976, -0.16053, -0.51)
    '0.690976'
    >>> format_coverage(1.0, -1.45e-26, -25.476)
    '1-3.3e-26'
    """
    value = check_probability(value, "value", open_left=False, open_right=False)
    log10_value = check_real(log10_value, "log10_value", nonfinite=True)
    log10_miss = check_real(log10_miss, "log10_miss", nonfinite=True)
    for name, lv in (("log10_value", log10_value), ("log10_miss", log10_miss)):
        if lv > 1e-12 or (name == "log10_value" and math.isnan(lv)):
            raise ValueError(f"{name} must be a log10 probability <= 0, got {lv!r}")
    if log10_value == -math.inf:
        return "0"
    if log10_value < -3.0:
        mant, expo = _power_of_ten(log10_value)
        return f"{mant:.2f}e{expo:+03d}".replace("e+", "e")
    if math.isnan(log10_miss):
        return ">1-1e-16"
    if log10_miss == -math.inf:
        return "1"
    if log10_miss >= -6.0:
        return f"{value:.6f}"
    expo = math.floor(log10_miss)
    mant = round(10 ** (log10_miss - expo), 1)
    if mant >= 10.0:
        mant, expo = mant / 10.0, expo + 1
    return f"1-{mant:.1f}e{expo}"


def _text(rows: list[DatasetRow]) -> str:
    confs = list(rows[0].negatives_for)
    sizes = list(rows[0].coverage_at)
    head = (["data set", "C", "N", "E[K+1]"] + [f"K@{c}%" for c in confs]
            + [f"loader K@{c}%" for c in confs] + [f"u(K+1={s})" for s in sizes]
            + [f"E[D]({s})" for s in sizes])
    body = [[r.dataset, str(r.classes), "-" if r.data_size is None else str(r.data_size),
             f"{r.expected_batch:.1f}", *r.k_cells(), *r.loader_cells(), *r.cells(),
             *r.classes_cells()] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]

    def join(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in pairs)

    lines = [join(head), "  ".join("-" * w for w in widths)] + [join(b) for b in body]
    notes = [
        "",
        "Class priors of the training sets (ImageNet-1k and Wiki-3029 uniform; -LT: long-tailed,",
        "r = largest/smallest class); N = training-set size; K = negatives per anchor, K+1 = batch",
        "draws with the anchor. E[K+1] = expected draws to see every class (C*H_C if uniform;",
        "NS21 Table 3); K@q% = smallest K with coverage upsilon_{K+1} >= q for independent draws",
        "(NS21's model); loader K@q% = the same for a shuffled data loader (batches drawn without",
        "replacement from the N samples); u(K+1=b) = upsilon_{K+1}, the probability that a batch",
        "of b independent draws contains every class (0: b < C); E[D](b) = expected number of",
        "distinct classes in a batch of b (the shuffled loader's where N is known).",
        "* the batch K+1 is larger than the data set: only independent draws (with replacement)",
        "can make it; > N: a batch of b > N samples cannot be drawn from the data set.",
    ]
    return "\n".join(lines + notes)


def _csv(rows: list[DatasetRow]) -> str:
    buf = io.StringIO()
    dicts = [r.to_dict() for r in rows]
    writer = csv.DictWriter(buf, fieldnames=list(dicts[0]), lineterminator="\n")
    writer.writeheader()
    for d in dicts:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in d.items()})
    return buf.getvalue().rstrip("\n")


def _latex(rows: list[DatasetRow]) -> str:
    confs = list(rows[0].negatives_for)
    sizes = list(rows[0].coverage_at)
    recs = []
    for r in rows:
        rec: dict[str, object] = {"dataset": r.dataset, "classes": r.classes,
                                  "N": "--" if r.data_size is None else str(r.data_size),
                                  "expected_batch": f"{r.expected_batch:.1f}"}
        rec.update({f"K_for_{c}": v for c, v in zip(confs, r.k_cells(), strict=True)})
        rec.update({f"loader_K_for_{c}": v
                    for c, v in zip(confs, r.loader_cells(), strict=True)})
        rec.update({f"u_{s}": p
                    for s, p in zip(sizes, r.cells(), strict=True)})
        rec.update({f"d_{s}": p for s, p in zip(sizes, r.classes_cells(), strict=True)})
        recs.append(rec)
    cols = [Column("dataset", "data set", "data set", str, "l"), Column("classes", "C", "$C$"),
            Column("N", "N", "$N$", str),
            Column("expected_batch", "E[K+1]", r"$\mathrm{E}[K+1]$", str)]
    cols += [Column(f"K_for_{c}", f"K@{c}%", rf"$K_{{{c}\%}}$", str) for c in confs]
    cols += [Column(f"loader_K_for_{c}", f"loader K@{c}%", rf"$K^{{\mathrm{{loader}}}}_{{{c}\%}}$",
                    str) for c in confs]
    cols += [Column(f"u_{s}", f"u({s})", rf"$\upsilon_{{{s}}}$", str) for s in sizes]
    cols += [Column(f"d_{s}", f"E[D]({s})", rf"$\mathrm{{E}}[D_{{{s}}}]$", str) for s in sizes]
    return Table(tuple(cols), tuple(recs)).to_latex()


def _finite(obj: Any) -> Any:
    """*obj* with every non-finite float replaced by ``None`` (JSON ``null``)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def render_summary(rows: Sequence[DatasetRow], fmt: str = "text") -> str:
    """The main job's table as ``"text"`` (aligned columns and notes), ``"csv"``,
    ``"json"`` or ``"latex"`` (a booktabs tabular).

    Raises
    ------
    ValueError
        For an unknown *fmt* or no rows.

    Examples
    --------
    >>> print(render_summary(dataset_table([("CIFAR-10", 10)], [0.99], [32]), "csv"))
    dataset,classes,N,expected_batch,K_for_99,loader_K_for_99,K_for_99_exceeds_data,upsilon_at_32,log10_upsilon_at_32,miss_at_32,log10_miss_at_32,batch_32_exceeds_data,expected_classes_at_32
    CIFAR-10,10,,29.289682539682538,65,,False,0.69097563244681...,-0.16053...,0.30902436755318...,-0.51000727...,False,9.65663161797...

    In JSON a non-finite ``log10`` (``-inf`` for a true zero) is ``null``.
    """
    if isinstance(rows, str | bytes | DatasetRow) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be a sequence of DatasetRow, got {short_repr(rows)}")
    rows = list(rows)
    if not rows:
        raise ValueError("rows must not be empty")
    bad = next((r for r in rows if not isinstance(r, DatasetRow)), None)
    if bad is not None:
        raise TypeError(f"rows must be DatasetRow objects (from dataset_table), got {short_repr(bad)}")
    if len({(tuple(r.negatives_for), tuple(r.coverage_at)) for r in rows}) > 1:
        raise ValueError("rows must share their coverage levels and batch sizes")
    if fmt == "text":
        return _text(rows)
    if fmt == "csv":
        return _csv(rows)
    if fmt == "json":
        return json.dumps([_finite(asdict(r)) for r in rows], indent=2, allow_nan=False)
    if fmt == "latex":
        return _latex(rows)
    raise ValueError(f"fmt must be one of {', '.join(SUMMARY_FORMATS)}; got {fmt!r}")


def coverage_values_table(priors: Any, K: Any, *, include_anchor: bool = True) -> Table:
    """``upsilon`` and ``1 - upsilon`` for each prior and each ``K`` (``couponbound coverage``).

    Records: ``prior`` (the label), ``classes``, ``replacement``, ``K``,
    ``draws`` (``K + 1``, or ``K`` without the anchor), ``upsilon`` and
    ``log10_upsilon`` (from :func:`couponbound.log_coverage_prob`: finite far
    below the float range, where ``upsilon`` underflows to 0), ``miss`` and
    ``log10_miss`` for ``1 - upsilon`` (from the completion time's survival
    function, exact in the far tail).  Markdown and LaTeX print both from
    their logarithms, a tiny value as a power of ten (``2.27e-592``), never
    as 0 unless it is 0.  A prior drawn without replacement gives the
    shuffled loader's values.

    Raises
    ------
    TypeError, ValueError
        If ``K`` is not one or more integers ``>= 0``, naming the value.

    Examples
    --------
    >>> t = coverage_values_table([10], [31])
    >>> round(t.to_records()[0]["upsilon"], 6)
    0.690976
    >>> coverage_values_table([3029], [4095]).to_records()[0]["log10_upsilon"]
    -591.64...
    """
    k_arr, _ = check_int_array(K, "K", minimum=0)
    if k_arr.ndim > 1:
        raise ValueError(f"K must be one integer or a 1-d sequence, got shape {k_arr.shape}")
    ks = [int(k) for k in k_arr.ravel()]
    anchor = check_flag(include_anchor, "include_anchor")
    rows = []
    ln10 = math.log(10.0)
    for prior in as_named_priors(priors, "priors"):
        T = completion_time(prior)
        ups = np.asarray(coverage_prob(ks, prior, include_anchor=anchor), dtype=float)
        lups = np.asarray(log_coverage_prob(ks, prior, include_anchor=anchor), dtype=float)
        for k, u, lu in zip(ks, ups, lups, strict=True):
            n = k + 1 if anchor else k
            with np.errstate(all="ignore"):
                lmiss = float(T.logsf(n)) / ln10
            rows.append({"prior": prior.label, "classes": prior.C,
                         "replacement": prior.replacement, "K": k, "draws": n,
                         "upsilon": float(u), "log10_upsilon": float(lu) / ln10,
                         "miss": float(T.sf(n)), "log10_miss": lmiss})

    def upsilon(row: dict[str, Any]) -> str:
        return format_coverage(row["upsilon"], row["log10_upsilon"], row["log10_miss"])

    def miss(row: dict[str, Any]) -> str:
        if math.isnan(row["log10_miss"]):
            return "<1e-16" if row["upsilon"] == 1.0 else f"{row['miss']:.6g}"
        return format_probability(row["log10_miss"])

    cols = (Column("prior", "prior", "prior", str, "l"), Column("classes", "C", "$C$"),
            Column("K", "K", "$K$"), Column("draws", "draws", "draws"),
            Column("upsilon", "upsilon", r"$\upsilon$", show=upsilon),
            Column("miss", "1 - upsilon", r"$1-\upsilon$", show=miss))
    wor = any(not r["replacement"] for r in rows)
    cap = ("upsilon: probability that the draws (K negatives" +
           (" + the anchor)" if anchor else ")") + " contain every class" +
           (", batches drawn without replacement from the data set" if wor else "") + ".")
    return Table(cols, tuple(rows), caption=cap)


def required_table(priors: Any, confidences: Sequence[float] = (0.99,), *,
                   replacement: bool | None = None) -> Table:
    """The smallest ``K`` per coverage level, and ``E[K+1]`` (``couponbound required``).

    ``replacement=False`` counts batches drawn without replacement from the
    data set of each prior's class ``counts`` (``K`` and ``E[K+1]`` alike); a
    prior that is already drawn without replacement keeps its scheme.

    Examples
    --------
    >>> required_table([10, 100], [0.5, 0.99]).to_records()[1]["K_for_99"]
    915
    """
    qs = check_confidences(confidences)
    rows = []
    for prior in as_named_priors(priors, "priors"):
        batches = prior if replacement is None else prior.with_replacement(replacement)
        row: dict[str, Any] = {"prior": prior.label, "classes": prior.C,
                               "replacement": batches.replacement,
                               "expected_batch": float(expected_draws(batches))}
        for q in qs:
            row[f"K_for_{pct(q)}"] = required_negatives(batches, confidence=q)
        rows.append(row)
    cols = [Column("prior", "prior", "prior", str, "l"), Column("classes", "C", "$C$"),
            Column("expected_batch", "E[K+1]", r"$\mathrm{E}[K+1]$")]
    cols += [Column(f"K_for_{pct(q)}", f"K ({pct(q)} %)", rf"$K_{{{pct(q)}\%}}$") for q in qs]
    cap = ("K (q %): smallest number of negatives K with coverage upsilon_{K+1} >= q "
           "(anchor included)" + ("" if all(r["replacement"] for r in rows) else
                                  ", batches drawn without replacement from the data set")
           + "; E[K+1]: expected draws until every class appears.")
    return Table(tuple(cols), tuple(rows), caption=cap)
