"""Tables for papers: NS21's Table 3 and its Table 2 (the bound, term by term).

Two tables, each a :class:`Table` that renders as Markdown, LaTeX
(``booktabs``), CSV or a plain list of dicts (no pandas needed):

* :func:`coverage_table` -- NS21's Table 3: for each data set (or class
  prior) the number of classes, the expected batch size ``E[K+1]`` needed to
  see every class, and the number of negatives ``K`` needed for 90 % and 99 %
  coverage;
* :func:`decomposition_table` -- NS21's Table 2: the measured contrastive loss
  next to NS21's lower bound split into its terms (and ARORA19's ARORA19 bound),
  one column per batch size, from :class:`~couponbound.BoundReport`\\ s or
  :class:`~couponbound.BoundTerms`.

Data sets are named :class:`~couponbound.Prior` objects, e.g. from
:mod:`couponbound.paper.datasets`; anything
:func:`~couponbound.paper.datasets.as_named_prior` accepts works too (an
``int`` for ``C`` uniform classes, ``("name", C)``, ``("name", {"counts": [...]})``).

The papers (NS21, ARORA19) are cited in full in :ref:`math-references`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from couponbound import _display
from couponbound._validate import short_repr
from couponbound.coverage import expected_draws, required_negatives
from couponbound.paper._levels import check_confidences, pct
from couponbound.paper._runs import summarize_runs
from couponbound.paper.datasets import TABLE_DATASETS, as_named_priors, ceil_expected_batch

__all__ = [
    "FORMATS",
    "Column",
    "Table",
    "coverage_table",
    "decomposition_table",
]

#: What :meth:`Table.render` writes.
FORMATS: tuple[str, ...] = ("markdown", "latex", "csv", "json", "records")


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
    show : callable, optional
        Formats the cell from the whole row (a dict) instead of ``fmt(row[key])``:
        for a value printed from its logarithm, which another key holds.
    """

    key: str
    header: str
    latex: str
    fmt: Callable[[Any], str] = _num
    align: str = "r"
    show: Callable[[dict[str, Any]], str] | None = None

    def cell(self, row: dict[str, Any]) -> str:
        """The text of this column's cell in *row*."""
        return self.show(row) if self.show is not None else self.fmt(row.get(self.key))


_LATEX_ESCAPES = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                  "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\\": r"\textbackslash{}", "∞": r"$\infty$", "−": "$-$", "–": "--",
                  "υ": r"$\upsilon$", "μ": r"$\mu$", "τ": r"$\tau$", "ρ": r"$\rho$",
                  "·": r"$\cdot$", "≥": r"$\geq$", "≤": r"$\leq$", "×": r"$\times$",
                  "±": r"$\pm$", "𝔼": r"$\mathbb{E}$", ">": r"$>$", "<": r"$<$"}


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

    def _repr_html_(self) -> str:  # notebooks
        return _display.table_html(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame``, as :meth:`to_records` gives them (needs pandas)."""
        return _display.table_frame(self)

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as a list of plain dicts (copies; no pandas needed)."""
        return [{k: _plain(v) for k, v in row.items()} for row in self.rows]

    def _cells(self, latex: bool) -> list[list[str]]:
        out = []
        for row in self.rows:
            cells = [c.cell(row) for c in self.columns]
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


def coverage_table(
    datasets: Any = TABLE_DATASETS,
    confidences: Sequence[float] = (0.9, 0.99),
) -> Table:
    """NS21's Table 3: classes, expected batch size ``E[K+1]`` and ``K`` for coverage.

    For each data set: the number of classes ``C``; ``E[K+1] = E[T]``, the
    expected number of draws (anchor included) until every class has been
    seen, rounded up as NS21 print it (``C H_C`` for uniform classes, FGT92's
    integral otherwise; :func:`couponbound.expected_draws`); and for each
    confidence ``q`` the smallest number of negatives ``K`` with
    ``upsilon_{K+1} >= q`` (:func:`couponbound.required_negatives`); see
    :ref:`math-completion-time` and :ref:`math-required`.

    Parameters
    ----------
    datasets : sequence of data sets, default TABLE_DATASETS
        Named priors (:mod:`couponbound.paper.datasets`; the default is
        NS21's data sets followed by CIFAR-10-LT and CIFAR-100-LT), or anything
        :func:`~couponbound.paper.datasets.as_named_prior` accepts: ``[10, 100]``,
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
    sets = as_named_priors(datasets, "datasets")
    qs = check_confidences(confidences)
    rows = []
    for prior in sets:
        row: dict[str, Any] = {
            "dataset": prior.label,
            "classes": prior.C,
            "prior": "uniform" if prior.is_uniform else (
                "counts" if prior.counts is not None else "probs"),
            "expected_batch": float(expected_draws(prior)),
            "expected_batch_ceil": ceil_expected_batch(prior),
        }
        for q in qs:
            row[f"K_for_{pct(q)}"] = required_negatives(prior, confidence=q)
        rows.append(row)
    cols = [
        Column("dataset", "data set", "data set", str, "l"),
        Column("classes", "classes", "$C$"),
        Column("expected_batch_ceil", "E[K+1]", r"$\mathrm{E}[K+1]$"),
    ] + [Column(f"K_for_{pct(q)}", f"K ({pct(q)} %)", rf"$K_{{{pct(q)}\%}}$") for q in qs]
    nonuniform = [p.label for p in sets if not p.is_uniform]
    caption = (
        "E[K+1]: expected number of samples (anchor included) until every class appears, "
        "rounded up (NS21 Table 3); K (q %): smallest number of negatives K with coverage "
        "upsilon_{K+1} >= q. "
        + ("Uniform class priors." if not nonuniform else
           f"Non-uniform class priors: {', '.join(nonuniform)}; the others uniform.")
        + ("" if all(p.replacement for p in sets) else
           " Batches drawn without replacement from the data set (a shuffled loader): "
           + ", ".join(p.label for p in sets if not p.replacement) + ".")
    )
    return Table(tuple(cols), tuple(rows), caption=caption, title="Negatives needed to cover every class")


_DECOMP_ROWS: tuple[tuple[str, str, str], ...] = (
    ("contrastive", "L_Info (measured)", r"$L_\mathrm{Info}$ (measured)"),
    ("ns21_bound", "NS21 bound on L_Info", r"NS21 bound on $L_\mathrm{Info}$"),
    ("sup_term", "  υ·L^μ_sup / 2", r"\quad $\upsilon L^\mu_\mathrm{sup}/2$"),
    ("sub_term", "  (1−υ)·L^μ_sub / 2", r"\quad $(1-\upsilon) L^\mu_\mathrm{sub}/2$"),
    ("collision_term", "  E ln(1+Col) / 2", r"\quad $\mathrm{E}\ln(1+\mathrm{Col})/2$"),
    ("d", "  d", r"\quad $d$"),
    ("upsilon", "υ (measured)", r"$\hat\upsilon$"),
    ("theory_upsilon", "υ_{K+1} (theory)", r"$\upsilon_{K+1}$ (theory)"),
    ("arora_bound", "ARORA19 bound on L_Info", r"ARORA19 bound on $L_\mathrm{Info}$"),
    ("tau", "τ (measured)", r"$\hat\tau$"),
    ("ns21_sup_upper", "NS21 bound on L^μ_sup", r"NS21 bound on $L^\mu_\mathrm{sup}$"),
    ("arora_sup_upper", "ARORA19 bound on L^μ_sup", r"ARORA19 bound on $L^\mu_\mathrm{sup}$"),
    ("holds", "NS21 bound ≤ L_Info", r"NS21 bound $\le L_\mathrm{Info}$"),
)
#: Rows shown only when some run measured them.
_OPTIONAL_ROWS: tuple[tuple[str, str, str], ...] = (
    ("collision_diagnostic", "collision diagnostic (measured)",
     r"collision diagnostic (measured)"),
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
    coverage, ARORA19's bound and collision rate, and both bounds solved
    for the supervised loss (:ref:`math-ns21-bound`, :ref:`math-arora-bound`).

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
    ...                d=-1.16, upsilon=0.69, tau=0.96, arora_sub=1.75, K=31, C=10)
    >>> print(decomposition_table([t]).to_markdown(caption=False))
    | term                     | K+1 = 32 |
    |:-------------------------|---------:|
    | L_Info (measured)        |     2.02 |
    | NS21 bound on L_Info     |     0.39 |
    |   υ·L^μ_sup / 2          |     0.63 |
    |   (1−υ)·L^μ_sub / 2      |     0.26 |
    |   E ln(1+Col) / 2        |     0.66 |
    |   d                      |    −1.16 |
    | υ (measured)             |     0.69 |
    | υ_{K+1} (theory)         |     0.69 |
    | ARORA19 bound on L_Info  |     0.23 |
    | τ (measured)             |     0.96 |
    | NS21 bound on L^μ_sup    |     6.55 |
    | ARORA19 bound on L^μ_sup |    67.39 |
    | NS21 bound ≤ L_Info      |      yes |
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 10:
        raise ValueError(f"digits must be an int in [0, 10], got {short_repr(digits)}")
    summaries = summarize_runs(runs, labels)

    def fmt(x: Any) -> str:
        s = _num(x, digits)
        return s.replace("-", "−", 1) if s.startswith("-") else s

    caption = (
        "NS21's bound on the contrastive loss, term by term (NS21 Table 2): "
        "L_Info >= υ·L^μ_sup/2 + (1−υ)·L^μ_sub/2 + E ln(1+Col)/2 + d; "
        "ARORA19's bound (1−τ)·L^μ_sub,distinct + E ln(1+Col) + d. "
        "The last bounds solve each inequality for the supervised loss L^μ_sup."
    )
    table_rows = _DECOMP_ROWS + tuple(
        r for r in _OPTIONAL_ROWS
        if any(math.isfinite(float(s.values.get(r[0], math.nan))) for s in summaries))
    if not transpose:
        keys = [k for k, _, _ in table_rows]
        rows = []
        for s in summaries:
            rows.append({"label": s.label, "K": s.K, "C": s.C, **{k: s[k] for k in keys},
                         "contrastive_se": s["contrastive_se"], "ns21_bound_se": s["ns21_bound_se"]})
        cols = [Column("label", "run", "run", str, "l")] + [
            Column(k, h.strip(), lx.replace(r"\quad ", ""), fmt) for k, h, lx in table_rows
        ]
        return Table(tuple(cols), tuple(rows), caption=caption, title="NS21 bound decomposition")
    seen: dict[str, int] = {}
    labs = []
    for s in summaries:
        n = seen.get(s.label, 0)
        seen[s.label] = n + 1
        labs.append(s.label if n == 0 else f"{s.label} ({n + 1})")
    rows = []
    for key, header, latex in table_rows:
        row: dict[str, Any] = {"term": header, "key": key, "latex": latex}
        for lab, s in zip(labs, summaries, strict=True):
            row[lab] = s[key]
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
