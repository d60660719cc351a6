"""Tables: NS21 Table 3 and Table 2, their renderings, and loading saved runs."""

from __future__ import annotations

import csv
import io
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from oracles import expected_T_subsets, subsets_ie, uniform_ie

from couponbound import (
    BoundMonitor,
    BoundTerms,
    arora_lower_bound,
    arora_sup_upper_bound,
    coverage_prob,
    decompose,
    expected_draws,
    ns21_lower_bound,
    ns21_sup_upper_bound,
    required_negatives,
)
from couponbound.paper.datasets import TABLE_DATASETS
from couponbound.paper.reports import load_reports
from couponbound.paper.tables import coverage_table, decomposition_table

# ---------------------------------------------------------------------------
# NS21 Table 3
# ---------------------------------------------------------------------------


def test_coverage_table_reproduces_ns21_table3():
    rows = {r["dataset"]: r for r in coverage_table().to_records()}
    # NS21 Table 3, E[K+1] rounded up (ImageNet differs: NS21 used the real counts).
    expect = {"binary": 3, "AG News": 9, "CIFAR-10": 30, "CIFAR-100": 519, "Wiki-3029": 26030}
    for name, e in expect.items():
        assert rows[name]["expected_batch_ceil"] == e
    assert [r["dataset"] for r in coverage_table().to_records()] == [d.name for d in TABLE_DATASETS]


def test_coverage_table_values_come_from_the_library():
    counts = [50, 30, 20]
    t = coverage_table([("skewed", counts), 10], [0.5, 0.9, 0.999])
    recs = t.to_records()
    assert recs[0]["prior"] == "counts" and recs[1]["prior"] == "uniform"
    assert recs[0]["expected_batch"] == pytest.approx(expected_draws(counts=counts), rel=1e-12)
    assert recs[0]["expected_batch_ceil"] == math.ceil(expected_draws(counts=counts))
    # independent exact values: FGT92 over subsets, in integers (docs: math-completion-time)
    assert recs[0]["expected_batch"] == pytest.approx(float(expected_T_subsets(counts)), rel=1e-12)
    assert recs[0]["expected_batch_ceil"] == math.ceil(expected_T_subsets(counts))
    for q, key in [(0.5, "K_for_50"), (0.9, "K_for_90"), (0.999, "K_for_99.9")]:
        assert recs[0][key] == required_negatives(counts=counts, confidence=q)
        assert recs[1][key] == required_negatives(10, confidence=q)
        k = recs[1][key]
        assert coverage_prob(k, 10) >= q > coverage_prob(k - 1, 10)
        assert uniform_ie(k + 1, 10) >= Fraction(q) > uniform_ie(k, 10)
        k = recs[0][key]
        assert subsets_ie(k + 1, counts) >= Fraction(q) > subsets_ie(k, counts)


def test_ceil_of_an_integer_expectation_is_exact():
    # C = 2: E[T] = 3 exactly; a float 3.0000000000000004 must not round up to 4.
    rec = coverage_table([2]).to_records()[0]
    assert rec["expected_batch_ceil"] == 3 and rec["expected_batch"] == pytest.approx(3.0)
    # every C against ceil(C * H_C) in exact rationals (C = 1, 2 give integers)
    recs = coverage_table(list(range(1, 41))).to_records()
    for C, r in zip(range(1, 41), recs, strict=True):
        exact = C * sum(Fraction(1, j) for j in range(1, C + 1))
        assert r["expected_batch_ceil"] == math.ceil(exact), C
        assert r["expected_batch"] == pytest.approx(float(exact), rel=1e-12), C


@pytest.mark.parametrize("bad", [[0.0], [1.0], [1.5], ["x"]])
def test_coverage_table_rejects_confidences(bad):
    with pytest.raises((ValueError, TypeError), match="confidences"):
        coverage_table([10], bad)


def test_coverage_table_empty():
    with pytest.raises(ValueError, match="datasets must not be empty"):
        coverage_table([])


# ---------------------------------------------------------------------------
# renderings
# ---------------------------------------------------------------------------


def test_markdown_is_a_pipe_table_with_aligned_columns():
    md = coverage_table([("CIFAR-10", 10), ("CIFAR-100", 100)]).to_markdown(caption=False)
    lines = md.splitlines()
    assert len(lines) == 4
    assert len({len(x) for x in lines}) == 1
    assert lines[1].startswith("|:-") and lines[1].endswith("-:|")
    assert "519" in lines[3]


def test_latex_is_booktabs_and_escaped():
    t = coverage_table([("A_b & 50%", 10)], [0.9])
    tex = t.to_latex()
    assert tex.splitlines()[0] == r"\begin{tabular}{lrrr}"
    for cmd in (r"\toprule", r"\midrule", r"\bottomrule", r"\end{tabular}"):
        assert cmd in tex
    assert r"A\_b \& 50\%" in tex
    assert r"$K_{90\%}$" in tex
    body = tex.splitlines()[4]
    assert body.count(" & ") == 3 and body.endswith(r"\\")
    wrapped = t.to_latex(caption=True, label="tab:cov")
    assert wrapped.startswith(r"\begin{table}") and r"\label{tab:cov}" in wrapped
    assert r"\caption{" in wrapped and wrapped.endswith(r"\end{table}")


def test_csv_and_json_round_trip_full_precision():
    t = coverage_table([10, 100])
    rows = list(csv.DictReader(io.StringIO(t.to_csv())))
    assert [int(r["classes"]) for r in rows] == [10, 100]
    assert float(rows[0]["expected_batch"]) == t.to_records()[0]["expected_batch"]
    assert json.loads(t.to_json()) == t.to_records()
    assert t.render("records") == t.to_records()
    with pytest.raises(ValueError, match="fmt must be one of"):
        t.render("html")


# ---------------------------------------------------------------------------
# NS21 Table 2 (decomposition)
# ---------------------------------------------------------------------------


def _terms(K=31, **kw):
    base = dict(contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31, collision=1.32, d=-1.16,
                upsilon=0.69, tau=0.96, arora_sub=1.75, K=K, C=10)
    base.update(kw)
    return BoundTerms(**base)


def _reports():
    out = []
    rng = np.random.default_rng(1)
    for B in (8, 16):
        mon = BoundMonitor(num_classes=3, temperature=0.5)
        for _ in range(3):
            y = rng.integers(0, 3, size=B)
            mon.update_losses(contrastive=2.0 + rng.random(B), sup=1.0 + rng.random(B),
                              sub=0.5 + rng.random(B), d=-0.2 * rng.random(B), labels=y, in_batch=True)
        out.append(mon)
    return out


def test_decomposition_table_matches_bounds_module():
    t = _terms()
    recs = {r["key"]: r for r in decomposition_table([t]).to_records()}
    parts = decompose(t)
    col = {k: r["K+1 = 32"] for k, r in recs.items()}
    # the table shows what the bounds module computes ...
    assert col["contrastive"] == t.contrastive
    assert col["ns21_bound"] == pytest.approx(ns21_lower_bound(t))
    assert col["sup_term"] == parts.sup_term
    assert col["sub_term"] == parts.sub_term
    assert col["collision_term"] == parts.collision_term
    assert col["arora_bound"] == pytest.approx(arora_lower_bound(t))
    assert col["ns21_sup_upper"] == pytest.approx(ns21_sup_upper_bound(t))
    assert col["arora_sup_upper"] == pytest.approx(arora_sup_upper_bound(t))
    # ... and those are the definitions written out by hand (docs: math-ns21-bound,
    # math-arora-bound; NS21 Table 2 numbers)
    L, ups, tau, coll, d = 2.02, 0.69, 0.96, 1.32, -1.16
    sub, arora_sub = 0.52 / 0.31, 1.75
    assert col["sup_term"] == pytest.approx(0.63, rel=1e-12)
    assert col["sub_term"] == pytest.approx(0.26, rel=1e-12)
    assert col["collision_term"] == pytest.approx(0.66, rel=1e-12)
    assert col["d"] == d and col["upsilon"] == ups and col["tau"] == tau
    assert col["ns21_bound"] == pytest.approx(0.39, rel=1e-12)
    assert col["arora_bound"] == pytest.approx((1 - tau) * arora_sub + coll + d, rel=1e-12)
    assert col["ns21_sup_upper"] == pytest.approx(
        (2 * (L - d) - (1 - ups) * sub - coll) / ups, rel=1e-12)
    assert col["arora_sup_upper"] == pytest.approx((L - coll - d) / ((1 - tau) * ups), rel=1e-12)
    assert col["holds"] is True
    assert col["theory_upsilon"] == pytest.approx(float(uniform_ie(32, 10)), rel=1e-12)
    md = decomposition_table([t]).to_markdown(caption=False)
    assert "|     0.39 |" in md and "|     0.63 |" in md and "|     0.26 |" in md  # NS21 Table 2


def test_decomposition_table_from_reports_and_long_layout():
    reps = [m.compute() for m in _reports()]
    long = decomposition_table(reps, transpose=False).to_records()
    assert [r["label"] for r in long] == ["K+1 = 8", "K+1 = 16"]
    for rec, rep in zip(long, reps, strict=True):
        assert rec["ns21_bound"] == rep.ns21_bound
        assert rec["contrastive_se"] == rep.contrastive_se
        assert rec["sup_term"] + rec["sub_term"] + rec["collision_term"] + rec["d"] == \
            pytest.approx(rep.ns21_bound)
    wide = decomposition_table({"a": reps[0], "b": reps[1]})
    assert wide.columns[1].header == "a" and wide.columns[2].header == "b"
    tex = wide.to_latex()
    assert r"\quad $\upsilon L^\mu_\mathrm{sup}/2$" in tex and r"\toprule" in tex


def test_decomposition_table_handles_unmeasured_and_vacuous():
    t = _terms(tau=math.nan, arora_sub=math.nan, upsilon=0.0, K=None, C=None)
    rec = {r["key"]: r for r in decomposition_table([t]).to_records()}
    assert math.isnan(rec["arora_bound"]["run 1"]) and math.isinf(rec["ns21_sup_upper"]["run 1"])
    md = decomposition_table([t]).to_markdown()
    assert "∞" in md and "–" in md
    assert json.loads(decomposition_table([t]).to_json())[2]["run 1"] is not None


def test_decomposition_table_errors():
    with pytest.raises(TypeError, match="BoundReport or BoundTerms"):
        decomposition_table([{"contrastive": 1.0}])
    with pytest.raises(ValueError, match="labels has 2 entries"):
        decomposition_table([_terms()], ["a", "b"])
    with pytest.raises(ValueError, match="must not be empty"):
        decomposition_table([])


# ---------------------------------------------------------------------------
# loading saved runs
# ---------------------------------------------------------------------------


def test_load_reports_from_states_reports_lists_and_mappings(tmp_path):
    mons = _reports()
    reps = [m.compute() for m in mons]
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([mons[0].state_dict(), reps[1].to_dict()]))
    loaded = load_reports(path)
    assert [lab for lab, _ in loaded] == ["K+1 = 8", "K+1 = 16"]
    assert loaded[0][1] == reps[0]
    assert loaded[1][1].ns21_bound == reps[1].ns21_bound and loaded[1][1].K == reps[1].K
    path.write_text(json.dumps({"small": mons[0].state_dict(), "large": mons[1].state_dict()}))
    assert [lab for lab, _ in load_reports(str(path))] == ["small", "large"]
    path.write_text(json.dumps({"runs": [reps[0].to_dict()]}))
    assert load_reports(path)[0][1].holds == reps[0].holds
    path.write_text(json.dumps(mons[1].state_dict()))
    assert load_reports(path)[0][1] == reps[1]


def test_load_reports_errors(tmp_path):
    with pytest.raises(ValueError, match="file not found"):
        load_reports(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON: .* at line 1, column 2"):
        load_reports(bad)
    bad.write_text(json.dumps([{"hello": 1}]))
    with pytest.raises(ValueError, match=r"\[0\]: expected a BoundMonitor state_dict"):
        load_reports(bad)
    bad.write_text("[]")
    with pytest.raises(ValueError, match="empty list"):
        load_reports(bad)


def test_latex_caption_is_ascii() -> None:
    """Unicode symbols of the captions become LaTeX math, so pdflatex compiles them."""
    from couponbound import BoundTerms
    from couponbound.paper.tables import decomposition_table

    t = BoundTerms(contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31, collision=1.32, d=-1.16,
                   upsilon=0.69, K=31, C=10)
    out = decomposition_table([t]).to_latex(caption=True)
    assert r"\caption{" in out and r"$\upsilon$" in out
    assert all(ord(ch) < 128 for ch in out)


def test_decomposition_table_shows_the_collision_diagnostic_only_when_measured():
    rng = np.random.default_rng(5)
    mu = rng.normal(size=(3, 4))
    mu /= 2 * np.linalg.norm(mu, axis=1, keepdims=True)
    reports = []
    for diag in (False, True):
        mon = BoundMonitor(3, 0.5, class_means=mu, collision_diagnostic=diag, warn_nonrandom=False)
        for _ in range(4):
            y = rng.integers(0, 3, size=12)
            z0 = mu[y] + 0.3 * rng.normal(size=(12, 4))
            z1 = mu[y] + 0.3 * rng.normal(size=(12, 4))
            mon.update(z0, z1, y)
        reports.append(mon.compute())
    plain = {r["key"] for r in decomposition_table(reports[:1]).to_records()}
    assert "collision_diagnostic" not in plain
    recs = {r["key"]: r for r in decomposition_table(reports, labels=["off", "on"]).to_records()}
    row = recs["collision_diagnostic"]
    assert math.isnan(row["off"])
    assert row["on"] == reports[1].collision_diagnostic and math.isfinite(row["on"])
    long = decomposition_table(reports, labels=["off", "on"], transpose=False).to_records()
    assert long[1]["collision_diagnostic"] == reports[1].collision_diagnostic
