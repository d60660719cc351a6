"""The numbers the ``couponbound`` command prints, as library functions.

* :func:`dataset_table` -- the main job's rows (one :class:`DatasetRow` per
  data set: ``E[K+1]``, the ``K`` for each coverage level, the coverage at
  given batch sizes) and :func:`render_summary` to print them as text, CSV,
  JSON or LaTeX;
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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from couponbound.coverage import completion_time, coverage_prob, expected_draws, required_negatives
from couponbound.paper._levels import check_confidences, pct
from couponbound.paper.datasets import NS21_DATASETS, as_named_priors
from couponbound.paper.tables import Column, Table

__all__ = [
    "BATCH_SIZES",
    "CONFIDENCES",
    "SUMMARY_FORMATS",
    "DatasetRow",
    "coverage_values_table",
    "dataset_table",
    "render_summary",
    "required_table",
]

#: Coverage levels of the main job's table.
CONFIDENCES: tuple[float, ...] = (0.5, 0.9, 0.99, 0.999)
#: Batch sizes ``K + 1`` at which the main job's table shows the coverage.
BATCH_SIZES: tuple[int, ...] = (256, 4096, 65536)
#: What :func:`render_summary` writes.
SUMMARY_FORMATS: tuple[str, ...] = ("text", "csv", "json", "latex")


@dataclass(frozen=True)
class DatasetRow:
    """One row of the main job's table."""

    dataset: str
    classes: int
    expected_batch: float
    negatives_for: dict[str, int]
    coverage_at: dict[str, float]
    miss_at: dict[str, float]
    log10_miss_at: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """Flat dict: ``K_for_99`` for the K needed, ``upsilon_at_256`` for the coverage
        and ``miss_at_256`` for ``1 - upsilon`` (exact in the far tail, not rounded to 0)."""
        out: dict[str, object] = {
            "dataset": self.dataset,
            "classes": self.classes,
            "expected_batch": self.expected_batch,
        }
        out.update({f"K_for_{k}": v for k, v in self.negatives_for.items()})
        out.update({f"upsilon_at_{k}": v for k, v in self.coverage_at.items()})
        out.update({f"miss_at_{k}": v for k, v in self.miss_at.items()})
        out.update({f"log10_miss_at_{k}": v for k, v in self.log10_miss_at.items()})
        return out


def dataset_table(
    datasets: Any = NS21_DATASETS,
    confidences: Sequence[float] = CONFIDENCES,
    batch_sizes: Sequence[int] = BATCH_SIZES,
) -> list[DatasetRow]:
    """The numbers of the main job, one :class:`DatasetRow` per data set.

    Parameters
    ----------
    datasets : data sets, default NS21_DATASETS
        Named priors, or anything :func:`~couponbound.paper.datasets.as_named_priors`
        accepts.
    confidences : sequence of float
        Coverage levels in (0, 1).
    batch_sizes : sequence of int
        Batch sizes ``K + 1`` (anchor included) for the coverage columns.

    Examples
    --------
    >>> row = dataset_table([("CIFAR-10", 10)], [0.99], [32])[0]
    >>> row.negatives_for, round(row.coverage_at["32"], 4)
    ({'99': 65}, 0.691)
    """
    qs = check_confidences(confidences)
    rows = []
    for prior in as_named_priors(datasets):
        need = {pct(q): required_negatives(prior, confidence=q) for q in qs}
        cov = {str(b): float(coverage_prob(b - 1, prior)) for b in batch_sizes}
        T = completion_time(prior)
        miss = {str(b): float(T.sf(b)) for b in batch_sizes}
        lmiss = {str(b): float(T.logsf(b)) / math.log(10) for b in batch_sizes}
        rows.append(DatasetRow(prior.label, prior.C, float(expected_draws(prior)), need, cov,
                               miss, lmiss))
    return rows


def _fmt_prob(v: float, miss: float, log10_miss: float) -> str:
    """A coverage close to 1 as ``1-2.3e-40`` (from the exact tail), else plain."""
    if v == 0.0:
        return "0"
    if v < 1e-3:
        return f"{v:.3e}"
    if miss >= 1e-6:
        return f"{v:.6f}"
    if miss > 0:
        return f"1-{miss:.1e}"
    expo = math.floor(log10_miss)
    mant = round(10 ** (log10_miss - expo), 1)
    if mant >= 10.0:
        mant, expo = mant / 10.0, expo + 1
    return f"1-{mant:.1f}e{expo}"


def _probs(r: DatasetRow) -> list[str]:
    return [_fmt_prob(v, m, lm) for v, m, lm in
            zip(r.coverage_at.values(), r.miss_at.values(), r.log10_miss_at.values(), strict=True)]


def _text(rows: list[DatasetRow]) -> str:
    confs = list(rows[0].negatives_for)
    sizes = list(rows[0].coverage_at)
    head = ["data set", "C", "E[K+1]"] + [f"K@{c}%" for c in confs] + [f"u(K+1={s})" for s in sizes]
    body = [[r.dataset, str(r.classes), f"{r.expected_batch:.1f}",
             *(str(v) for v in r.negatives_for.values()), *_probs(r)] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]

    def join(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in pairs)

    lines = [join(head), "  ".join("-" * w for w in widths)] + [join(b) for b in body]
    notes = [
        "",
        "Uniform class prior; K = negatives per anchor, K+1 = batch draws with the anchor (NS21).",
        "E[K+1] = C*H_C (NS21 Table 3); K@q% = smallest K with coverage upsilon_{K+1} >= q;",
        "u(K+1=b) = upsilon_{K+1}, the probability that a batch of b samples contains every class.",
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
                                  "expected_batch": f"{r.expected_batch:.1f}"}
        rec.update({f"K_for_{c}": v for c, v in r.negatives_for.items()})
        rec.update({f"u_{s}": p for s, p in zip(sizes, _probs(r), strict=True)})
        recs.append(rec)
    cols = [Column("dataset", "data set", "data set", str, "l"), Column("classes", "C", "$C$"),
            Column("expected_batch", "E[K+1]", r"$\mathrm{E}[K+1]$", str)]
    cols += [Column(f"K_for_{c}", f"K@{c}%", rf"$K_{{{c}\%}}$") for c in confs]
    cols += [Column(f"u_{s}", f"u({s})", rf"$\upsilon_{{{s}}}$", str) for s in sizes]
    return Table(tuple(cols), tuple(recs)).to_latex()


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
    dataset,classes,expected_batch,K_for_99,upsilon_at_32,miss_at_32,log10_miss_at_32
    CIFAR-10,10,29.289682539682538,65,0.69097563244681...,0.30902436755318...,-0.51000727...
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows must not be empty")
    if fmt == "text":
        return _text(rows)
    if fmt == "csv":
        return _csv(rows)
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2, allow_nan=False)
    if fmt == "latex":
        return _latex(rows)
    raise ValueError(f"fmt must be one of {', '.join(SUMMARY_FORMATS)}; got {fmt!r}")


def coverage_values_table(priors: Any, K: Sequence[int], *, include_anchor: bool = True) -> Table:
    """``upsilon`` and ``1 - upsilon`` for each prior and each ``K`` (``couponbound coverage``).

    Records: ``prior`` (the label), ``classes``, ``K``, ``draws`` (``K + 1``, or
    ``K`` without the anchor), ``upsilon``, ``miss`` and ``log10_miss`` (from
    the completion time's survival function, exact in the far tail).

    Raises
    ------
    ValueError
        If some ``K`` is negative.

    Examples
    --------
    >>> t = coverage_values_table([10], [31])
    >>> round(t.to_records()[0]["upsilon"], 6)
    0.690976
    """
    if any(k < 0 for k in K):
        raise ValueError(f"K must be >= 0, got {min(K)}")
    rows = []
    for prior in as_named_priors(priors, "priors"):
        T = completion_time(prior)
        for k in K:
            n = k + 1 if include_anchor else k
            rows.append({"prior": prior.label, "classes": prior.C, "K": k, "draws": n,
                         "upsilon": float(coverage_prob(k, prior, include_anchor=include_anchor)),
                         "miss": float(T.sf(n)), "log10_miss": float(T.logsf(n)) / math.log(10)})

    def prob(v: Any) -> str:
        return f"{v:.6g}"

    cols = (Column("prior", "prior", "prior", str, "l"), Column("classes", "C", "$C$"),
            Column("K", "K", "$K$"), Column("draws", "draws", "draws"),
            Column("upsilon", "upsilon", r"$\upsilon$", prob),
            Column("miss", "1 - upsilon", r"$1-\upsilon$", prob))
    cap = ("upsilon: probability that the draws (K negatives" +
           (" + the anchor)" if include_anchor else ")") + " contain every class.")
    return Table(cols, tuple(rows), caption=cap)


def required_table(priors: Any, confidences: Sequence[float] = (0.99,), *,
                   replacement: bool = True) -> Table:
    """The smallest ``K`` per coverage level, and ``E[K+1]`` (``couponbound required``).

    ``replacement=False`` counts batches drawn without replacement from the
    data set of each prior's class ``counts``.

    Examples
    --------
    >>> required_table([10, 100], [0.5, 0.99]).to_records()[1]["K_for_99"]
    915
    """
    qs = check_confidences(confidences)
    rows = []
    for prior in as_named_priors(priors, "priors"):
        row: dict[str, Any] = {"prior": prior.label, "classes": prior.C,
                               "expected_batch": float(expected_draws(prior))}
        batches = prior.with_replacement(replacement)
        for q in qs:
            row[f"K_for_{pct(q)}"] = required_negatives(batches, confidence=q)
        rows.append(row)
    cols = [Column("prior", "prior", "prior", str, "l"), Column("classes", "C", "$C$"),
            Column("expected_batch", "E[K+1]", r"$\mathrm{E}[K+1]$")]
    cols += [Column(f"K_for_{pct(q)}", f"K ({pct(q)} %)", rf"$K_{{{pct(q)}\%}}$") for q in qs]
    cap = ("K (q %): smallest number of negatives K with coverage upsilon_{K+1} >= q "
           "(anchor included)" + ("" if replacement else
                                  ", batches drawn without replacement from the data set")
           + "; E[K+1]: expected draws (with replacement) until every class appears.")
    return Table(tuple(cols), tuple(rows), caption=cap)
