"""Rich displays for notebooks: the HTML is well formed and shows the numbers of the text form.

The oracle for each display is the object's own text form (``str(report)``,
``Table.to_markdown()``) or its attributes: the HTML is parsed with
:mod:`html.parser`, every tag must close in order, and the cells must carry
exactly the digits the text form prints.
"""

from __future__ import annotations

import math
import re
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

from couponbound import BoundMonitor, BoundTerms, completion_time, decompose, ns21_lower_bound
from couponbound._display import fmt
from couponbound.paper.tables import coverage_table, decomposition_table
from couponbound.training import BoundReport

_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "wbr"}


class _Table(HTMLParser):
    """Rows of cells (text) of every table, checking that tags nest and close."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.rows: list[list[str]] = []
        self.caption = ""
        self.paragraphs: list[str] = []
        self._cell: list[str] | None = None
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag not in _VOID:
            self.stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("caption", "p"):
            self._in, self._text = tag, []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()
        if tag in ("td", "th"):
            self.rows[-1].append("".join(self._cell or []).strip())
            self._cell = None
        elif tag == "caption":
            self.caption = "".join(self._text)
            self._in = None
        elif tag == "p":
            self.paragraphs.append("".join(self._text))
            self._in = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in is not None:
            self._text.append(data)


def _parse(html_text: str) -> _Table:
    p = _Table()
    p.feed(html_text)
    p.close()
    assert p.stack == [], p.stack  # everything closed
    assert p.rows, "no table rows"
    return p


def _markdown_rows(md: str) -> list[list[str]]:
    rows = []
    for line in md.splitlines():
        if line.startswith("|") and not re.match(r"^\|[:\-|]+\|$", line):
            rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def _report() -> BoundReport:
    rng = np.random.default_rng(3)
    mu = rng.normal(size=(4, 6))
    mu = 0.8 * mu / np.linalg.norm(mu, axis=1, keepdims=True)  # means of unit features
    mon = BoundMonitor(num_classes=4, temperature=0.5, class_means=mu)
    for _ in range(5):
        y = rng.integers(0, 4, size=16)
        mon.update(anchor=mu[y] + 0.4 * rng.normal(size=(16, 6)),
                   positive=mu[y] + 0.4 * rng.normal(size=(16, 6)), labels=y)
    return mon.compute()


def _published() -> BoundReport:
    t = BoundTerms(contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31, collision=1.32, d=-1.16,
                   upsilon=0.69, tau=0.96, arora_sub=1.5, K=31, C=10)
    return BoundReport.from_terms(t, collision_diagnostic=0.25)


@pytest.mark.parametrize("make", [_report, _published])
def test_bound_report_html_and_markdown_show_the_text_numbers(make):
    rep = make()
    text_rows = {}
    for line in str(rep).splitlines()[2:]:
        m = re.match(r"^(.{27})(.*)$", line)
        if m and not line.startswith("NS21 bound holds"):
            text_rows[m.group(1).strip()] = m.group(2).split()
    page = _parse(rep._repr_html_())
    assert page.caption == str(rep).splitlines()[0]
    assert page.rows[0] == ["term", "measured", "s.e.", "theory"]
    body = page.rows[1:]
    assert len(body) == len(text_rows)
    md_rows = _markdown_rows(rep._repr_markdown_())[1:]
    for (name, cells), row, md in zip(text_rows.items(), body, md_rows, strict=True):
        # the same digits as str(report), in the same order (names are typeset)
        assert row[1:len(cells) + 1] == cells, name
        assert md[1:len(cells) + 1] == cells, name
    holds = [p for p in page.paragraphs if "holds" in p]
    assert holds == [str(rep).splitlines()[-1]]
    assert "$\\upsilon$" in rep._repr_markdown_()  # LaTeX names in Markdown


def test_bound_report_to_pandas_holds_the_raw_values():
    pd = pytest.importorskip("pandas")
    rep = _published()
    df = rep.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["measured", "se", "theory"]
    assert df.loc["L_Info (contrastive)", "measured"] == rep.contrastive
    assert df.loc["upsilon (coverage)", "theory"] == rep.theory_upsilon
    assert df.loc["ARORA19 bound on L^mu_sup", "measured"] == rep.arora_sup_upper
    assert df.loc["collision diagnostic", "measured"] == 0.25
    assert math.isnan(df.loc["d", "theory"])
    # rows in the order of str(report), every one with the text's digits
    text = str(rep)
    for name, value in df["measured"].items():
        line = next(ln for ln in text.splitlines() if ln.startswith(name))
        assert line[27:].split()[0] == fmt(value), name


def test_decomposition_display_sums_to_the_bound():
    t = BoundTerms(contrastive=2.02, sup=1.83, sub=1.68, collision=1.32, d=-1.16,
                   upsilon=0.69, K=31, C=10)
    dec = decompose(t)
    page = _parse(dec._repr_html_())
    values = {r[0]: r[1] for r in page.rows[1:]}
    assert list(values.values()) == [fmt(dec.sup_term), fmt(dec.sub_term), fmt(dec.collision_term),
                                     fmt(dec.d), fmt(ns21_lower_bound(t))]
    md = dec._repr_markdown_()
    assert [r[1] for r in _markdown_rows(md)[1:]] == list(values.values())
    assert "\\frac{\\upsilon L^\\mu_\\mathrm{sup}}{2}" in md


@pytest.mark.parametrize("spec", [10, {"counts": [50, 30, 20, 5]}])
def test_completion_time_display(spec):
    T = completion_time(**spec) if isinstance(spec, dict) else completion_time(spec)
    page = _parse(T._repr_html_())
    cells = {r[0]: r[1] for r in page.rows[1:]}
    assert cells["classes C"] == str(T.C)
    assert cells["𝔼[T]"] == fmt(T.mean()) and cells["std(T)"] == fmt(T.std())
    for q in (0.01, 0.5, 0.9, 0.99):
        assert cells[f"{q * 100:g} % quantile"] == str(T.ppf(q))
    md = T._repr_markdown_()
    assert "$\\mathbb{E}[T]$" in md and fmt(T.mean()) in md


def test_completion_time_display_without_replacement_has_no_mean():
    T = completion_time(counts=[3, 3, 2], replacement=False)
    page = _parse(T._repr_html_())
    cells = {r[0]: r[1] for r in page.rows[1:]}
    assert cells["99 % quantile"] == str(T.ppf(0.99))
    assert cells["𝔼[T]"] in ("-", fmt(T.mean()) if _has_mean(T) else "-")


def _has_mean(T) -> bool:
    try:
        T.mean()
    except (ValueError, NotImplementedError, TypeError):
        return False
    return True


@pytest.mark.parametrize("table", [
    coverage_table([("CIFAR-10", 10), ("CIFAR-100", 100)]),
    decomposition_table([_published(), _published()], ["a", "b"]),
])
def test_table_html_matches_markdown(table):
    page = _parse(table._repr_html_())
    md_rows = _markdown_rows(table.to_markdown(caption=False))
    assert page.rows == md_rows  # header and every cell, the same text
    assert table._repr_markdown_() == table.to_markdown()
    if table.caption:
        assert page.paragraphs == [table.caption]


def test_table_to_pandas_equals_records():
    pytest.importorskip("pandas")
    table = coverage_table([("CIFAR-10", 10), ("CIFAR-100", 100)])
    df = table.to_pandas()
    assert df.to_dict("records") == table.to_records()


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match=r"couponbound\[pandas\]"):
        _published().to_pandas()
    with pytest.raises(ImportError, match="pandas"):
        coverage_table([("CIFAR-10", 10)]).to_pandas()


def test_html_escapes_text():
    table = coverage_table([("<b>x</b> & y", 10)])
    page = _parse(table._repr_html_())
    assert page.rows[1][0] == "<b>x</b> & y"
    assert "<b>x</b>" not in table._repr_html_()
