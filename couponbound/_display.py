"""Rich displays for notebooks (private): HTML, Markdown and pandas forms of results.

Jupyter shows an object through ``_repr_html_`` (or ``_repr_markdown_``)
when it has one.  The result classes of the package
(:class:`~couponbound.training.BoundReport`,
:class:`~couponbound.bounds.NS21Decomposition`,
:class:`~couponbound.CompletionTime`, :class:`~couponbound.paper.tables.Table`)
each define those methods in one line that calls the functions here, so that
all of them look alike and this module is the only one that writes HTML.

Every number is printed with the same formatting as the object's text form
(``str(obj)``), so a notebook and a log show the same digits.  Nothing here
imports a framework or pandas at import time; :func:`dataframe` imports
pandas when called and says how to install it when it is missing.

The objects are read through their public attributes only (duck typing), so
this module imports no public module of the package and stays below every
layer.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "completion_time_html",
    "completion_time_markdown",
    "dataframe",
    "decomposition_html",
    "decomposition_markdown",
    "html_table",
    "markdown_table",
    "report_html",
    "report_markdown",
    "report_rows",
    "report_frame",
    "table_html",
    "table_frame",
]

#: CSS shared by every display (scoped to the display's own class).
_STYLE = (
    "<style>"
    ".couponbound-display table{border-collapse:collapse;margin:0.3em 0;font-size:0.92em}"
    ".couponbound-display th,.couponbound-display td{padding:0.15em 0.7em;"
    "border-bottom:1px solid #ddd}"
    ".couponbound-display thead th{border-bottom:1.5px solid #444}"
    ".couponbound-display td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".couponbound-display tbody th{text-align:left;font-weight:normal}"
    ".couponbound-display caption{caption-side:top;text-align:left;font-weight:bold;"
    "padding-bottom:0.2em;white-space:nowrap}"
    ".couponbound-display p{margin:0.2em 0;font-size:0.9em}"
    ".couponbound-display .fails{color:#b00020;font-weight:bold}"
    "</style>"
)


def fmt(x: Any) -> str:
    """A number as the text forms print it (4 decimals, or 4 significant in e-notation).

    ``None`` and ``nan`` print as ``-``; ``True``/``False`` as ``yes``/``NO``.
    """
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.3e}"
    return f"{x:.4f}"


def _is_number(cell: str) -> bool:
    try:
        float(cell.replace("\u2212", "-").replace("\u221e", "inf"))
    except ValueError:
        return cell in ("-", "\u2013", "inf", "-inf")
    return True


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, title: str = "",
               notes: Sequence[str] = (), header_html: Sequence[str] | None = None,
               first_html: Sequence[str] | None = None) -> str:
    """An HTML table (escaped text), numbers right-aligned, with an optional title and notes.

    *header_html* and *first_html* give trusted HTML for the header cells and
    the first cell of each row (e.g. ``L<sup>μ</sup><sub>sup</sub>``); every
    other cell is escaped.
    """
    heads = header_html if header_html is not None else [html.escape(h) for h in header]
    out = [_STYLE, '<div class="couponbound-display"><table>']
    if title:
        out.append(f"<caption>{html.escape(title)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>")
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            if j == 0 and first_html is not None:
                cells.append(f"<th>{first_html[i]}</th>")
            elif j == 0:
                cells.append(f"<th>{html.escape(cell)}</th>")
            else:
                cls = ' class="num"' if _is_number(cell) else ""
                cells.append(f"<td{cls}>{html.escape(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    for note in notes:
        out.append(f"<p>{note}</p>")
    out.append("</div>")
    return "".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, title: str = "",
                   notes: Sequence[str] = ()) -> str:
    """A Markdown (GitHub) table; the first column left-aligned, the others right-aligned."""
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# BoundReport
# ---------------------------------------------------------------------------

#: (text name as ``str(report)`` prints it, HTML name, LaTeX name, value, s.e., theory)
_REPORT_ROWS = (
    ("L_Info (contrastive)", "L<sub>Info</sub> (contrastive)", r"$L_\mathrm{Info}$ (contrastive)",
     "contrastive", "contrastive_se", None),
    ("upsilon (coverage)", "υ (coverage)", r"$\upsilon$ (coverage)",
     "upsilon", "upsilon_se", "theory_upsilon"),
    ("L^mu_sup (covered)", "L<sup>μ</sup><sub>sup</sub> (covered)",
     r"$L^\mu_\mathrm{sup}$ (covered)", "sup", "sup_se", None),
    ("L^mu_sub (not covered)", "L<sup>μ</sup><sub>sub</sub> (not covered)",
     r"$L^\mu_\mathrm{sub}$ (not covered)", "sub", "sub_se", None),
    ("E ln(1+Col)", "𝔼 ln(1+Col)", r"$\mathbb{E}\ln(1+\mathrm{Col})$",
     "collision", "collision_se", "theory_collision"),
    ("d", "d", "$d$", "d", "d_se", None),
    ("tau (collision prob.)", "τ (collision prob.)", r"$\tau$ (collision prob.)",
     "tau", "tau_se", "theory_tau"),
    ("distinct classes D", "distinct classes D", "distinct classes $D$",
     "classes", "classes_se", "theory_classes"),
    ("false-negative rate", "false-negative rate", "false-negative rate",
     "false_negative", "false_negative_se", "theory_false_negative"),
    ("L^mu_sub (ARORA19)", "L<sup>μ</sup><sub>sub</sub> (ARORA19)",
     r"$L^\mu_\mathrm{sub}$ (ARORA19)", "arora_sub", "arora_sub_se", None),
    ("L^mu_sup (all anchors)", "L<sup>μ</sup><sub>sup</sub> (all anchors)",
     r"$L^\mu_\mathrm{sup}$ (all anchors)", "sup_all", "sup_all_se", None),
    ("NS21 bound on L_Info", "NS21 bound on L<sub>Info</sub>",
     r"NS21 bound on $L_\mathrm{Info}$", "ns21_bound", "ns21_bound_se", None),
    ("ARORA19 bound on L_Info", "ARORA19 bound on L<sub>Info</sub>",
     r"ARORA19 bound on $L_\mathrm{Info}$", "arora_bound", "arora_bound_se", None),
    ("L_Info - NS21 bound", "L<sub>Info</sub> − NS21 bound",
     r"$L_\mathrm{Info}$ − NS21 bound", "margin", "margin_se", None),
    ("NS21 bound on L^mu_sup", "NS21 bound on L<sup>μ</sup><sub>sup</sub>",
     r"NS21 bound on $L^\mu_\mathrm{sup}$", "ns21_sup_upper", None, None),
    ("ARORA19 bound on L^mu_sup", "ARORA19 bound on L<sup>μ</sup><sub>sup</sub>",
     r"ARORA19 bound on $L^\mu_\mathrm{sup}$", "arora_sup_upper", None, None),
)

_REPORT_HEADER = ("term", "measured", "s.e.", "theory")


def _report_title(report: Any) -> str:
    size = "varies" if report.K is None else str(report.K + 1)
    return (f"BoundReport: C={report.C}, K+1={size}, t={report.temperature:g}, "
            f"{report.n_batches} batches, {report.n_anchors} anchors")


def report_rows(report: Any) -> list[tuple[str, float, float, float]]:
    """``(text name, measured, s.e., theory)`` per row of a BoundReport's table (nan: none)."""
    out = []
    for name, _, _, value, se, theory in _REPORT_ROWS:
        out.append((name, float(getattr(report, value)),
                    math.nan if se is None else float(getattr(report, se)),
                    math.nan if theory is None else float(getattr(report, theory))))
    if not math.isnan(report.collision_diagnostic):
        out.append(("collision diagnostic", float(report.collision_diagnostic), math.nan, math.nan))
    return out


def _report_cells(report: Any) -> list[list[str]]:
    return [[name, fmt(v), fmt(se), fmt(th)] for name, v, se, th in report_rows(report)]


def _holds_note(report: Any, markup: bool) -> str:
    text = f"NS21 bound holds (bound <= L_Info): {fmt(bool(report.holds))}"
    if markup and not report.holds:
        return f'<span class="fails">{html.escape(text)}</span>'
    return html.escape(text) if markup else text


def report_html(report: Any) -> str:
    """A BoundReport as an HTML table: the rows of ``str(report)`` with typeset names."""
    cells = _report_cells(report)
    first = [row[1] for row in _REPORT_ROWS] + (
        ["collision diagnostic"] if len(cells) > len(_REPORT_ROWS) else [])
    return html_table(_REPORT_HEADER, cells, title=_report_title(report),
                      notes=[_holds_note(report, True)], first_html=first)


def report_markdown(report: Any) -> str:
    """A BoundReport as a Markdown table with LaTeX names."""
    cells = _report_cells(report)
    for row, spec in zip(cells, _REPORT_ROWS, strict=False):
        row[0] = spec[2]
    return markdown_table(_REPORT_HEADER, cells, title=_report_title(report),
                          notes=[_holds_note(report, False)])


def report_frame(report: Any) -> Any:
    """A BoundReport's table as a pandas DataFrame (index: term; measured, se, theory as floats)."""
    pd = _pandas()
    rows = report_rows(report)
    return pd.DataFrame({"measured": [r[1] for r in rows], "se": [r[2] for r in rows],
                         "theory": [r[3] for r in rows]},
                        index=pd.Index([r[0] for r in rows], name="term"))


# ---------------------------------------------------------------------------
# NS21Decomposition
# ---------------------------------------------------------------------------

_DECOMPOSITION_ROWS = (
    ("sup_term", "υ L<sup>μ</sup><sub>sup</sub> / 2", r"$\upsilon L^\mu_\mathrm{sup}/2$"),
    ("sub_term", "(1 − υ) L<sup>μ</sup><sub>sub</sub> / 2", r"$(1-\upsilon) L^\mu_\mathrm{sub}/2$"),
    ("collision_term", "𝔼 ln(1+Col) / 2", r"$\mathbb{E}\ln(1+\mathrm{Col})/2$"),
    ("d", "d", "$d$"),
)

_DECOMPOSITION_TITLE = "NS21's lower bound on L_Info, term by term"


def _decomposition_cells(dec: Any) -> list[list[str]]:
    rows = [[key, fmt(getattr(dec, key))] for key, _, _ in _DECOMPOSITION_ROWS]
    return rows + [["total", fmt(dec.total)]]


def decomposition_html(dec: Any) -> str:
    """An NS21Decomposition as an HTML table: the four terms and their sum."""
    first = [h for _, h, _ in _DECOMPOSITION_ROWS] + ["<b>total</b> (the bound)"]
    return html_table(("term", "value"), _decomposition_cells(dec), title=_DECOMPOSITION_TITLE,
                      first_html=first)


def decomposition_markdown(dec: Any) -> str:
    """An NS21Decomposition as Markdown, with the bound's formula in LaTeX."""
    cells = _decomposition_cells(dec)
    for row, (_, _, tex) in zip(cells, _DECOMPOSITION_ROWS, strict=False):
        row[0] = tex
    cells[-1][0] = "**total** (the bound)"
    formula = (r"$L_\mathrm{Info} \ge \frac{\upsilon L^\mu_\mathrm{sup}}{2} + "
               r"\frac{(1-\upsilon) L^\mu_\mathrm{sub}}{2} + "
               r"\frac{\mathbb{E}\ln(1+\mathrm{Col})}{2} + d$")
    return markdown_table(("term", "value"), cells, title=_DECOMPOSITION_TITLE, notes=[formula])


# ---------------------------------------------------------------------------
# CompletionTime
# ---------------------------------------------------------------------------

#: Quantiles a CompletionTime's display lists.
_QUANTILES = (0.01, 0.5, 0.9, 0.99)


def _try(f: Any) -> Any:
    """``f()``, or ``None`` (shown as ``-``) where the package refuses the value up front
    with a ValueError (e.g. quantiles of more than 1e16 classes); any other error is a bug
    and propagates."""
    try:
        return f()
    except ValueError:
        return None


def _completion_stats(T: Any) -> list[tuple[str, str, str, Any]]:
    """``(text name, HTML name, LaTeX name, value)`` rows of a CompletionTime's summary."""
    prior = T.prior
    rows: list[tuple[str, str, str, Any]] = [
        ("classes C", "classes C", "classes $C$", int(prior.C)),
        ("prior", "prior", "prior", prior.label),
        ("E[T]", "𝔼[T]", r"$\mathbb{E}[T]$", _try(T.mean)),
        ("std(T)", "std(T)", r"$\sqrt{\mathrm{Var}[T]}$", _try(T.std)),
    ]
    for q in _QUANTILES:
        v = _try(lambda q=q: T.ppf(q))
        rows.append((f"{q * 100:g} % quantile", f"{q * 100:g} % quantile",
                     f"{q * 100:g} % quantile", None if v is None else int(v)))
    return rows


def _stat_cell(v: Any) -> str:
    if isinstance(v, str):
        return v
    return fmt(v)


_COMPLETION_TITLE = "CompletionTime: draws T until every class has appeared"


def completion_time_html(T: Any) -> str:
    """A CompletionTime as an HTML summary: the prior, mean, standard deviation, quantiles."""
    stats = _completion_stats(T)
    cells = [[name, _stat_cell(v)] for name, _, _, v in stats]
    note = ("P(T ≤ n) = υ<sub>n</sub>: n draws (an anchor and n − 1 negatives) contain every "
            "class with probability <code>cdf(n)</code>.")
    return html_table(("", "value"), cells, title=_COMPLETION_TITLE,
                      first_html=[h for _, h, _, _ in stats], notes=[note])


def completion_time_markdown(T: Any) -> str:
    """A CompletionTime as Markdown, with its meaning in LaTeX."""
    stats = _completion_stats(T)
    cells = [[tex, _stat_cell(v)] for _, _, tex, v in stats]
    note = (r"$P(T \le n) = \upsilon_n$: $n$ draws (an anchor and $n-1$ negatives) contain "
            "every class with probability `cdf(n)`.")
    return markdown_table(("", "value"), cells, title=_COMPLETION_TITLE, notes=[note])


# ---------------------------------------------------------------------------
# paper tables
# ---------------------------------------------------------------------------


def table_html(table: Any) -> str:
    """A :class:`~couponbound.paper.tables.Table` as HTML: its Markdown cells, title and caption."""
    header = [c.header for c in table.columns]
    cells = table._cells(False)  # exactly the cells of to_markdown()
    notes = [html.escape(table.caption)] if table.caption else []
    return html_table(header, cells, title=table.title, notes=notes)


def table_frame(table: Any) -> Any:
    """A Table's rows as a pandas DataFrame: every key (as CSV/JSON have them), raw values."""
    pd = _pandas()
    return pd.DataFrame.from_records(table.to_records())


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - exercised with pandas blocked
        raise ImportError("to_pandas() needs pandas: pip install 'couponbound[pandas]' "
                          "(or pip install pandas)") from exc
    return pd


def dataframe(records: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Any:
    """A pandas DataFrame of *records* (pandas imported here, with an install hint if missing)."""
    pd = _pandas()
    return pd.DataFrame.from_records(list(records), columns=list(columns) if columns else None)
