"""Tables for papers: NS21's Table 3 and its Table 2 (the bound, term by term).

Two tables, each a :class:`Table` that renders as Markdown, LaTeX
(``booktabs``), CSV or a plain list of dicts (no pandas needed):

* :func:`coverage_table` -- NS21's Table 3: for each data set (or class
  prior) the number of classes, the expected batch size ``E[K+1]`` needed to
  see every class, and the number of negatives ``K`` needed for 90 % and 99 %
  coverage;
* :func:`decomposition_table` -- NS21's Table 2: the measured contrastive loss
  next to NS21's lower bound split into its terms (and ARORA19's CURL bound),
  one column per batch size, from :class:`~couponbound.BoundReport`\\ s or
  :class:`~couponbound.BoundTerms`.

Data sets are :class:`Dataset` objects; anything :func:`as_dataset` accepts
works too (an ``int`` for ``C`` uniform classes, ``("name", C)``,
``("name", {"counts": [...]})``).

References
----------
NS21  K. Nozawa, I. Sato. Understanding Negative Samples in Instance
      Discriminative Self-supervised Representation Learning. NeurIPS 2021.
ARORA19  S. Arora et al. A Theoretical Analysis of Contrastive Unsupervised
      Representation Learning. ICML 2019.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from couponbound._prior import as_prior
from couponbound._validate import short_repr
from couponbound.bounds import (
    BoundTerms,
    VacuousBoundWarning,
    arora_lower_bound,
    arora_sup_upper_bound,
    decompose,
    ns21_lower_bound,
    ns21_sup_upper_bound,
)
from couponbound.coverage import coverage_prob, expected_draws, required_negatives
from couponbound.training.monitor import BoundMonitor, BoundReport

__all__ = [
    "DEFAULT_DATASETS",
    "NS21_DATASETS",
    "Column",
    "Dataset",
    "Table",
    "as_dataset",
    "coverage_table",
    "decomposition_table",
    "load_reports",
]

TableFormat = Literal["markdown", "latex", "csv", "json", "records"]
FORMATS: tuple[str, ...] = ("markdown", "latex", "csv", "json", "records")


# ---------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """A named class prior: ``C`` uniform classes, or class ``probs`` or ``counts``.

    Parameters
    ----------
    name : str
        What tables and legends call it.
    C : int, optional
        Number of classes (uniform prior) unless *probs* or *counts* is given.
    probs : sequence of float, optional
        Class probabilities (positive, summing to 1).
    counts : sequence of int, optional
        Class counts, e.g. a training set's class histogram.

    Raises
    ------
    ValueError, TypeError
        From the prior's validation, naming the argument.

    Examples
    --------
    >>> Dataset("CIFAR-10", 10).num_classes
    10
    >>> d = Dataset("skewed", counts=[5, 3, 2])
    >>> d.num_classes, d.uniform, d.prior_kwargs()
    (3, False, {'counts': (5, 3, 2)})
    """

    name: str
    C: int | None = None
    probs: tuple[float, ...] | None = None
    counts: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"Dataset.name must be a non-empty str, got {short_repr(self.name)}")
        if self.probs is not None:
            object.__setattr__(self, "probs", tuple(float(p) for p in np.ravel(self.probs)))
        if self.counts is not None:
            object.__setattr__(self, "counts", tuple(np.ravel(np.asarray(self.counts)).tolist()))
        as_prior(self.C, probs=self.probs, counts=self.counts)  # validates, naming the argument

    @property
    def num_classes(self) -> int:
        """``C``, the number of classes."""
        return as_prior(self.C, probs=self.probs, counts=self.counts).C

    @property
    def uniform(self) -> bool:
        """``True`` when every class is equally likely."""
        return as_prior(self.C, probs=self.probs, counts=self.counts).is_uniform

    def prior_kwargs(self) -> dict[str, Any]:
        """The prior as keyword arguments of :func:`couponbound.coverage_prob` and friends."""
        if self.counts is not None:
            return {"counts": self.counts}
        if self.probs is not None:
            return {"probs": self.probs}
        return {"C": self.C}


def as_dataset(spec: Any) -> Dataset:
    """Turn a data-set specification into a :class:`Dataset`.

    Accepted: a :class:`Dataset`; an ``int`` ``C`` (named ``"C = 10"``); a
    pair ``(name, C)``; a pair ``(name, prior)`` where *prior* is a mapping
    with one of the keys ``"C"``, ``"probs"``, ``"counts"``, or a sequence of
    numbers (integers are class counts, anything else probabilities); a
    mapping with ``"name"`` and one of those keys.

    Raises
    ------
    TypeError
        For anything else, naming the value.

    Examples
    --------
    >>> as_dataset(100)
    Dataset(name='C = 100', C=100, probs=None, counts=None)
    >>> as_dataset(("ImageNet-1k", 1000)).name
    'ImageNet-1k'
    >>> as_dataset(("long tail", [50, 30, 20])).counts
    (50, 30, 20)
    """
    if isinstance(spec, Dataset):
        return spec
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        return Dataset(f"C = {int(spec)}", int(spec))
    if isinstance(spec, Mapping):
        extra = set(spec) - {"name", "C", "probs", "counts"}
        if extra or "name" not in spec:
            raise TypeError(
                "a data set given as a mapping needs 'name' and one of 'C', 'probs', 'counts' "
                f"(and nothing else), got keys {sorted(spec)}"
            )
        return Dataset(str(spec["name"]), spec.get("C"), spec.get("probs"), spec.get("counts"))
    if isinstance(spec, tuple | list) and len(spec) == 2 and isinstance(spec[0], str):
        name, prior = spec
        if isinstance(prior, numbers.Integral) and not isinstance(prior, bool):
            return Dataset(name, int(prior))
        if isinstance(prior, Mapping):
            keys = set(prior)
            if len(keys) != 1 or not keys <= {"C", "probs", "counts"}:
                raise TypeError(
                    f"the prior of data set {name!r} must be a mapping with one key of "
                    f"'C', 'probs', 'counts', got keys {sorted(keys)}"
                )
            return Dataset(name, **dict(prior))
        if isinstance(prior, Sequence | np.ndarray) and not isinstance(prior, str | bytes):
            arr = np.asarray(prior)
            if arr.dtype.kind in "iu":
                return Dataset(name, counts=tuple(int(v) for v in arr.ravel()))
            return Dataset(name, probs=tuple(float(v) for v in arr.ravel()))
    raise TypeError(
        "a data set must be a Dataset, an int C, (name, C), (name, {'counts': ...}), "
        f"(name, probs-or-counts) or a mapping with 'name'; got {short_repr(spec)}"
    )


def _datasets(specs: Any, name: str) -> list[Dataset]:
    if isinstance(specs, Dataset | numbers.Integral | Mapping) or (
        isinstance(specs, tuple) and len(specs) == 2 and isinstance(specs[0], str)
    ):
        specs = [specs]
    if isinstance(specs, str | bytes) or not isinstance(specs, Iterable):
        raise TypeError(f"{name} must be a data set or a sequence of them, got {short_repr(specs)}")
    out = [as_dataset(s) for s in specs]
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


#: NS21's data sets (Table 3), each with a uniform prior.  NS21 used
#: ImageNet's real, non-uniform training-set counts (E[K+1] = 7709); the
#: uniform 1000-class prior here gives 7486.
NS21_DATASETS: tuple[Dataset, ...] = (
    Dataset("binary", 2),
    Dataset("AG News", 4),
    Dataset("CIFAR-10", 10),
    Dataset("CIFAR-100", 100),
    Dataset("ImageNet-1k (uniform)", 1000),
    Dataset("Wiki-3029", 3029),
)

#: The figures' built-in defaults: CIFAR-10, CIFAR-100 and an ImageNet-scale
#: 1000-class data set, uniform priors.
DEFAULT_DATASETS: tuple[Dataset, ...] = (
    Dataset("CIFAR-10", 10),
    Dataset("CIFAR-100", 100),
    Dataset("ImageNet-1k (uniform)", 1000),
)


# ---------------------------------------------------------------------------
# the table object
# ---------------------------------------------------------------------------


def _num(x: Any, digits: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, numbers.Integral):
        return str(int(x))
    v = float(x)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 10.0 ** -digits):
        return f"{v:.{max(digits - 1, 1)}e}"
    return f"{v:.{digits}f}"


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Table`.

    Attributes
    ----------
    key : str
        The key of the value in each row (also the CSV/JSON field name).
    header : str
        Plain-text header (Markdown).
    latex : str
        LaTeX header (math allowed).
    fmt : callable
        Formats a value for Markdown and LaTeX.
    align : {"l", "r"}
        Alignment.
    """

    key: str
    header: str
    latex: str
    fmt: Callable[[Any], str] = _num
    align: str = "r"


_LATEX_ESCAPES = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                  "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\\": r"\textbackslash{}", "∞": r"$\infty$", "−": "$-$", "–": "--",
                  "υ": r"$\upsilon$", "μ": r"$\mu$", "τ": r"$\tau$", "ρ": r"$\rho$",
                  "·": r"$\cdot$", "≥": r"$\geq$", "≤": r"$\leq$", "×": r"$\times$",
                  "±": r"$\pm$", "𝔼": r"$\mathbb{E}$"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def _plain(value: Any) -> Any:
    """A JSON/CSV-safe Python value (numpy scalars unwrapped; nan/inf kept as floats)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Fraction):
        return float(value)
    return value


@dataclass(frozen=True)
class Table:
    """A small table that renders itself for papers and for machines.

    Attributes
    ----------
    columns : tuple of Column
        What Markdown and LaTeX show, in order.
    rows : tuple of dict
        One dict per row; it may hold more keys than the columns show (CSV,
        JSON and :meth:`to_records` give every key).
    caption : str
        A caption (notes on the numbers); Markdown prints it below the table.
    title : str
        A short title.

    Examples
    --------
    >>> t = coverage_table([("CIFAR-10", 10)])
    >>> print(t.to_markdown(caption=False))
    | data set | classes | E[K+1] | K (90 %) | K (99 %) |
    |:---------|--------:|-------:|---------:|---------:|
    | CIFAR-10 |      10 |     30 |       43 |       65 |
    >>> t.to_records()[0]["K_for_99"]
    65
    """

    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    caption: str = ""
    title: str = ""

    def keys(self) -> list[str]:
        """Every key of the rows, in first-seen order (the CSV header)."""
        seen: dict[str, None] = {}
        for row in self.rows:
            for k in row:
                seen.setdefault(k, None)
        return list(seen)

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as a list of plain dicts (copies; no pandas needed)."""
        return [{k: _plain(v) for k, v in row.items()} for row in self.rows]

    def _cells(self, latex: bool) -> list[list[str]]:
        out = []
        for row in self.rows:
            cells = [c.fmt(row.get(c.key)) for c in self.columns]
            out.append([_latex_escape(s) for s in cells] if latex else cells)
        return out

    def to_markdown(self, *, caption: bool = True) -> str:
        """GitHub-flavoured Markdown (pipe table), with the caption below it."""
        head = [c.header for c in self.columns]
        body = self._cells(latex=False)
        widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
                  for i, h in enumerate(head)]

        def line(cells: list[str]) -> str:
            parts = [s.ljust(w) if c.align == "l" else s.rjust(w)
                     for s, w, c in zip(cells, widths, self.columns, strict=True)]
            return "| " + " | ".join(parts) + " |"

        rule = "|" + "|".join(
            (":" + "-" * (w + 1)) if c.align == "l" else ("-" * (w + 1) + ":")
            for w, c in zip(widths, self.columns, strict=True)
        ) + "|"
        lines = [line(head), rule] + [line(r) for r in body]
        if caption and self.caption:
            lines += ["", self.caption]
        return "\n".join(lines)

    def to_latex(self, *, caption: str | bool | None = None, label: str | None = None) -> str:
        """A LaTeX ``booktabs`` tabular (needs ``\\usepackage{booktabs}``).

        Parameters
        ----------
        caption : str or bool, optional
            ``True`` uses the table's own caption, a string replaces it; with a
            caption or a *label* the tabular is wrapped in a ``table`` float.
        label : str, optional
            ``\\label`` of the float.
        """
        spec = "".join(c.align for c in self.columns)
        head = " & ".join(c.latex for c in self.columns) + r" \\"
        body = [" & ".join(r) + r" \\" for r in self._cells(latex=True)]
        tab = [rf"\begin{{tabular}}{{{spec}}}", r"\toprule", head, r"\midrule", *body,
               r"\bottomrule", r"\end{tabular}"]
        cap = self.caption if caption is True else (caption or None)
        if cap is None and label is None:
            return "\n".join(tab)
        out = [r"\begin{table}[t]", r"\centering"]
        if cap:
            out.append(rf"\caption{{{_latex_escape(cap)}}}")
        if label:
            out.append(rf"\label{{{label}}}")
        return "\n".join(out + tab + [r"\end{table}"])

    def to_csv(self) -> str:
        """CSV with every key of the rows; floats at full precision (``repr``)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.keys(), lineterminator="\n")
        writer.writeheader()
        for row in self.to_records():
            writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
        return buf.getvalue().rstrip("\n")

    def to_json(self) -> str:
        """JSON list of the records (``inf``/``nan`` become ``null``)."""
        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return json.dumps([{k: clean(v) for k, v in r.items()} for r in self.to_records()],
                          indent=2, allow_nan=False)

    def render(self, fmt: str = "markdown") -> str | list[dict[str, Any]]:
        """The table as ``"markdown"``, ``"latex"``, ``"csv"``, ``"json"`` or ``"records"``."""
        if fmt == "markdown":
            return self.to_markdown()
        if fmt == "latex":
            return self.to_latex()
        if fmt == "csv":
            return self.to_csv()
        if fmt == "json":
            return self.to_json()
        if fmt == "records":
            return self.to_records()
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}; got {short_repr(fmt)}")

    def __str__(self) -> str:
        return self.to_markdown()


# ---------------------------------------------------------------------------
# NS21 Table 3
# ---------------------------------------------------------------------------


def _ceil_expected(ds: Dataset) -> int:
    """``ceil(E[T])`` without a float rounding up an exact integer (``C = 2``: 3)."""
    if ds.uniform:
        c = ds.num_classes
        exact = c * sum((Fraction(1, j) for j in range(1, c + 1)), Fraction(0))
        return math.ceil(exact)
    value = float(expected_draws(**ds.prior_kwargs()))
    return math.ceil(value * (1.0 - 1e-12))


def _pct(q: float) -> str:
    return f"{q * 100:g}"


def _check_confidences(confidences: Any) -> tuple[float, ...]:
    if isinstance(confidences, numbers.Real):
        confidences = (confidences,)
    try:
        qs = tuple(confidences)
    except TypeError as exc:
        raise TypeError(f"confidences must be a sequence of numbers in (0, 1), got "
                        f"{short_repr(confidences)}") from exc
    for q in qs:
        if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0.0 < float(q) < 1.0:
            raise ValueError(f"confidences must lie in (0, 1), got {short_repr(q)} in "
                             f"{short_repr(confidences)}")
    return tuple(float(q) for q in qs)


def coverage_table(
    datasets: Any = NS21_DATASETS,
    confidences: Sequence[float] = (0.9, 0.99),
) -> Table:
    """NS21's Table 3: classes, expected batch size ``E[K+1]`` and ``K`` for coverage.

    For each data set: the number of classes ``C``; ``E[K+1] = E[T]``, the
    expected number of draws (anchor included) until every class has been
    seen, rounded up as NS21 print it (``C H_C`` for uniform classes, FGT92's
    integral otherwise; :func:`couponbound.expected_draws`); and for each
    confidence ``q`` the smallest number of negatives ``K`` with
    ``upsilon_{K+1} >= q`` (:func:`couponbound.required_negatives`).

    Parameters
    ----------
    datasets : sequence of data sets, default NS21_DATASETS
        Anything :func:`as_dataset` accepts: ``[10, 100]``,
        ``[("CIFAR-10", 10), ("my data", {"counts": counts})]``, ...
    confidences : sequence of float, default (0.9, 0.99)
        Coverage levels in (0, 1).

    Returns
    -------
    Table
        Records with keys ``dataset``, ``classes``, ``prior`` (``"uniform"``,
        ``"probs"`` or ``"counts"``), ``expected_batch`` (``E[T]``, a float),
        ``expected_batch_ceil`` (what the table shows) and ``K_for_<pct>``
        (e.g. ``K_for_99``).

    Raises
    ------
    ValueError, TypeError
        For a bad data set or a confidence outside (0, 1), naming the value.

    References
    ----------
    NS21, Table 3; FGT92.

    Examples
    --------
    >>> rows = coverage_table([2, 4, 10, 100]).to_records()
    >>> [r["expected_batch_ceil"] for r in rows]     # NS21 Table 3: 3, 9, 30, 519
    [3, 9, 30, 519]
    >>> print(coverage_table([("CIFAR-100", 100)], [0.5]).to_latex())
    \\begin{tabular}{lrrr}
    \\toprule
    data set & $C$ & $\\mathrm{E}[K+1]$ & $K_{50\\%}$ \\\\
    \\midrule
    CIFAR-100 & 100 & 519 & 496 \\\\
    \\bottomrule
    \\end{tabular}
    """
    sets = _datasets(datasets, "datasets")
    qs = _check_confidences(confidences)
    rows = []
    for ds in sets:
        kw = ds.prior_kwargs()
        row: dict[str, Any] = {
            "dataset": ds.name,
            "classes": ds.num_classes,
            "prior": "uniform" if ds.uniform else ("counts" if ds.counts is not None else "probs"),
            "expected_batch": float(expected_draws(**kw)),
            "expected_batch_ceil": _ceil_expected(ds),
        }
        for q in qs:
            row[f"K_for_{_pct(q)}"] = required_negatives(confidence=q, **kw)
        rows.append(row)
    cols = [
        Column("dataset", "data set", "data set", str, "l"),
        Column("classes", "classes", "$C$"),
        Column("expected_batch_ceil", "E[K+1]", r"$\mathrm{E}[K+1]$"),
    ] + [Column(f"K_for_{_pct(q)}", f"K ({_pct(q)} %)", rf"$K_{{{_pct(q)}\%}}$") for q in qs]
    nonuniform = [ds.name for ds in sets if not ds.uniform]
    caption = (
        "E[K+1]: expected number of samples (anchor included) until every class appears, "
        "rounded up (NS21 Table 3); K (q %): smallest number of negatives K with coverage "
        "upsilon_{K+1} >= q. "
        + ("Uniform class priors." if not nonuniform else
           f"Non-uniform class priors: {', '.join(nonuniform)}; the others uniform.")
    )
    return Table(tuple(cols), tuple(rows), caption=caption, title="Negatives needed to cover every class")


# ---------------------------------------------------------------------------
# runs: BoundReport / BoundTerms, summarised once for tables and figures
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """What tables and figures show of one measured run (private)."""

    label: str
    K: int | None
    C: int | None
    contrastive: float
    upsilon: float
    tau: float
    collision: float
    d: float
    sup_term: float
    sub_term: float
    collision_term: float
    ns21_bound: float
    curl_bound: float
    ns21_sup_upper: float
    curl_sup_upper: float
    sup_measured: float
    theory_upsilon: float
    holds: bool
    contrastive_se: float = math.nan
    ns21_bound_se: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _quiet(fn: Callable[[BoundTerms], float], terms: BoundTerms) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VacuousBoundWarning)
        return fn(terms)


def _summarize(run: Any, label: str | None, index: int) -> _Run:
    if isinstance(run, BoundReport):
        terms = run.terms
    elif isinstance(run, BoundTerms):
        terms = run
    else:
        raise TypeError(
            f"runs must be BoundReport or BoundTerms objects, got {type(run).__name__} at "
            f"position {index}: {short_repr(run)}"
        )
    parts = decompose(terms)
    K, C = terms.K, terms.C
    if label is None:
        label = f"K+1 = {K + 1}" if K is not None else f"run {index + 1}"
    if isinstance(run, BoundReport):
        ns21, curl = run.ns21_bound, run.curl_bound
        ns21_up, curl_up = run.ns21_sup_upper, run.curl_sup_upper
        sup_meas, theory_u, holds = run.sup_all, run.theory_upsilon, run.holds
        extra = {"contrastive_se": run.contrastive_se, "ns21_bound_se": run.ns21_bound_se}
    else:
        ns21 = ns21_lower_bound(terms)
        ns21_up = _quiet(ns21_sup_upper_bound, terms)
        has_tau = not math.isnan(terms.tau)
        curl_ok = has_tau and (terms.tau == 1.0 or not math.isnan(terms.curl_sub))
        curl = arora_lower_bound(terms) if curl_ok else math.nan
        curl_up = _quiet(arora_sup_upper_bound, terms) if has_tau else math.nan
        sup_meas = terms.sup
        theory_u = float(coverage_prob(K, C)) if K is not None and C is not None else math.nan
        holds = bool(ns21 <= terms.contrastive)
        extra = {}
    return _Run(
        label=label, K=K, C=C, contrastive=terms.contrastive, upsilon=terms.upsilon,
        tau=terms.tau, collision=terms.collision, d=terms.d, sup_term=parts.sup_term,
        sub_term=parts.sub_term, collision_term=parts.collision_term, ns21_bound=ns21,
        curl_bound=curl, ns21_sup_upper=ns21_up, curl_sup_upper=curl_up,
        sup_measured=sup_meas, theory_upsilon=theory_u, holds=holds, **extra,
    )


def _runs(runs: Any, labels: Sequence[str] | None, name: str = "runs") -> list[_Run]:
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
    return [_summarize(r, None if labels is None else str(labels[i]), i)
            for i, r in enumerate(items)]


_DECOMP_ROWS: tuple[tuple[str, str, str], ...] = (
    ("contrastive", "L_Info (measured)", r"$L_\mathrm{Info}$ (measured)"),
    ("ns21_bound", "NS21 bound on L_Info", r"NS21 bound on $L_\mathrm{Info}$"),
    ("sup_term", "  υ·L^μ_sup / 2", r"\quad $\upsilon L^\mu_\mathrm{sup}/2$"),
    ("sub_term", "  (1−υ)·L^μ_sub / 2", r"\quad $(1-\upsilon) L^\mu_\mathrm{sub}/2$"),
    ("collision_term", "  E ln(1+Col) / 2", r"\quad $\mathrm{E}\ln(1+\mathrm{Col})/2$"),
    ("d", "  d", r"\quad $d$"),
    ("upsilon", "υ (measured)", r"$\hat\upsilon$"),
    ("theory_upsilon", "υ_{K+1} (theory)", r"$\upsilon_{K+1}$ (theory)"),
    ("curl_bound", "CURL bound on L_Info", r"CURL bound on $L_\mathrm{Info}$"),
    ("tau", "τ (measured)", r"$\hat\tau$"),
    ("ns21_sup_upper", "NS21 bound on L^μ_sup", r"NS21 bound on $L^\mu_\mathrm{sup}$"),
    ("curl_sup_upper", "CURL bound on L^μ_sup", r"CURL bound on $L^\mu_\mathrm{sup}$"),
    ("holds", "NS21 bound ≤ L_Info", r"NS21 bound $\le L_\mathrm{Info}$"),
)


def decomposition_table(
    runs: Any,
    labels: Sequence[str] | None = None,
    *,
    transpose: bool = True,
    digits: int = 2,
) -> Table:
    """NS21's Table 2: the measured ``L_Info`` next to NS21's bound, term by term.

    For each run (a :class:`~couponbound.BoundReport` from
    :meth:`BoundMonitor.compute <couponbound.BoundMonitor.compute>`, or a
    :class:`~couponbound.BoundTerms`): the contrastive loss, NS21's lower
    bound ``½[υ L^μ_sup + (1-υ) L^μ_sub + E ln(1+Col)] + d`` and its four
    terms (:func:`couponbound.decompose`; NS21's Table 2 prints the halves
    ``υ L^μ_sup / 2`` and ``(1-υ) L^μ_sub / 2``), the measured and theoretical
    coverage, ARORA19's CURL bound and collision rate, and both bounds solved
    for the supervised loss.

    Parameters
    ----------
    runs : sequence of BoundReport or BoundTerms, or mapping label -> run
        Usually one per batch size.
    labels : sequence of str, optional
        Column (or row) names; default ``"K+1 = 32"`` from each run's ``K``.
    transpose : bool, default True
        ``True``: terms as rows and runs as columns, like NS21's Table 2
        (records are then one dict per term, keyed by ``term`` and the labels).
        ``False``: one row per run, keyed by field name.
    digits : int, default 2
        Decimals shown in Markdown and LaTeX (records keep full precision).

    Returns
    -------
    Table

    Raises
    ------
    TypeError
        If a run is not a BoundReport or BoundTerms.
    ValueError
        If *runs* is empty or *labels* has the wrong length.

    Examples
    --------
    NS21's CIFAR-10 run at ``K + 1 = 32`` (Table 2):

    >>> from couponbound import BoundTerms
    >>> t = BoundTerms(contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31, collision=1.32,
    ...                d=-1.16, upsilon=0.69, tau=0.96, curl_sub=1.75, K=31, C=10)
    >>> print(decomposition_table([t]).to_markdown(caption=False))
    | term                  | K+1 = 32 |
    |:----------------------|---------:|
    | L_Info (measured)     |     2.02 |
    | NS21 bound on L_Info  |     0.39 |
    |   υ·L^μ_sup / 2       |     0.63 |
    |   (1−υ)·L^μ_sub / 2   |     0.26 |
    |   E ln(1+Col) / 2     |     0.66 |
    |   d                   |    −1.16 |
    | υ (measured)          |     0.69 |
    | υ_{K+1} (theory)      |     0.69 |
    | CURL bound on L_Info  |     0.23 |
    | τ (measured)          |     0.96 |
    | NS21 bound on L^μ_sup |     6.55 |
    | CURL bound on L^μ_sup |    67.39 |
    | NS21 bound ≤ L_Info   |      yes |
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 10:
        raise ValueError(f"digits must be an int in [0, 10], got {short_repr(digits)}")
    summaries = _runs(runs, labels)

    def fmt(x: Any) -> str:
        s = _num(x, digits)
        return s.replace("-", "−", 1) if s.startswith("-") else s

    caption = (
        "NS21's bound on the contrastive loss, term by term (NS21 Table 2): "
        "L_Info >= υ·L^μ_sup/2 + (1−υ)·L^μ_sub/2 + E ln(1+Col)/2 + d; "
        "CURL: ARORA19's bound (1−τ)·L^μ_sub,distinct + E ln(1+Col) + d. "
        "The last bounds solve each inequality for the supervised loss L^μ_sup."
    )
    if not transpose:
        keys = [k for k, _, _ in _DECOMP_ROWS]
        rows = []
        for s in summaries:
            d = s.to_dict()
            rows.append({"label": s.label, "K": s.K, "C": s.C, **{k: d[k] for k in keys},
                         "contrastive_se": s.contrastive_se, "ns21_bound_se": s.ns21_bound_se})
        cols = [Column("label", "run", "run", str, "l")] + [
            Column(k, h.strip(), lx.replace(r"\quad ", ""), fmt) for k, h, lx in _DECOMP_ROWS
        ]
        return Table(tuple(cols), tuple(rows), caption=caption, title="NS21 bound decomposition")
    seen: dict[str, int] = {}
    labs = []
    for s in summaries:
        n = seen.get(s.label, 0)
        seen[s.label] = n + 1
        labs.append(s.label if n == 0 else f"{s.label} ({n + 1})")
    rows = []
    for key, header, latex in _DECOMP_ROWS:
        row: dict[str, Any] = {"term": header, "key": key, "latex": latex}
        for lab, s in zip(labs, summaries, strict=True):
            row[lab] = getattr(s, key)
        rows.append(row)

    def term_fmt(x: Any) -> str:
        return str(x)

    cols = [Column("term", "term", "term", term_fmt, "l")] + [
        Column(lab, lab, _latex_escape(lab).replace("K+1", "$K+1$"), fmt) for lab in labs
    ]
    return _TermTable(tuple(cols), tuple(rows), caption=caption, title="NS21 bound decomposition")


@dataclass(frozen=True)
class _TermTable(Table):
    """A transposed decomposition table: the first column holds LaTeX-ready term names."""

    def _cells(self, latex: bool) -> list[list[str]]:
        out = []
        for row in self.rows:
            first = row["latex"] if latex else row["term"]
            rest = [c.fmt(row.get(c.key)) for c in self.columns[1:]]
            out.append([first] + ([_latex_escape(s) for s in rest] if latex else rest))
        return out

    def to_records(self) -> list[dict[str, Any]]:
        return [{k: _plain(v) for k, v in row.items() if k != "latex"} for row in self.rows]


# ---------------------------------------------------------------------------
# loading saved runs
# ---------------------------------------------------------------------------

_REPORT_FIELDS = {f.name: f for f in fields(BoundReport)}
_INT_FIELDS = {"C", "n_anchors", "n_batches"}
_BOOL_FIELDS = {"holds", "curl_holds"}


def _report_from_dict(d: Mapping[str, Any], where: str) -> BoundReport:
    missing = [k for k in _REPORT_FIELDS if k not in d]
    if missing:
        raise ValueError(f"{where}: not a BoundReport dict, missing {missing[:5]}"
                         + (" ..." if len(missing) > 5 else ""))
    kw: dict[str, Any] = {}
    for name in _REPORT_FIELDS:
        v = d[name]
        if name == "K":
            kw[name] = None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
        elif name in _INT_FIELDS:
            kw[name] = int(v)
        elif name in _BOOL_FIELDS:
            kw[name] = bool(v)
        else:
            kw[name] = math.nan if v is None else float(v)
    return BoundReport(**kw)


def _report_from_state(state: Mapping[str, Any], where: str) -> BoundReport:
    config = state.get("config")
    if not isinstance(config, Mapping):
        raise ValueError(f"{where}: a monitor state needs a 'config' dict")
    try:
        prior = ({"counts": config["counts"], "replacement": bool(config.get("replacement", True))}
                 if config.get("counts") is not None else {"probs": config.get("probs")})
        mon = BoundMonitor(num_classes=config["num_classes"], temperature=config["temperature"], **prior)
    except KeyError as exc:
        raise ValueError(f"{where}: monitor config lacks {exc}") from exc
    mon.load_state_dict(dict(state))
    return mon.compute()


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

    Raises
    ------
    ValueError
        Naming the file and entry that could not be read.

    Examples
    --------
    >>> from couponbound import BoundMonitor
    >>> mon = BoundMonitor(num_classes=2, temperature=0.5)
    >>> _ = mon.update_losses(contrastive=[2.0, 2.2], sup=[1.0, 1.4], d=-0.5, labels=[0, 1])
    >>> [(lab, r.contrastive) for lab, r in load_reports([mon.state_dict()])]
    [('K+1 = 2', 2.1)]
    """
    where = "runs"
    obj = source
    if isinstance(source, str | os.PathLike):
        where = os.fspath(source)
        try:
            with open(source, encoding="utf-8") as fh:
                obj = json.load(fh)
        except OSError as exc:
            raise ValueError(f"cannot read {where}: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
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
