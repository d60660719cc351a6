"""Named data sets (one registry of Priors) and the paper layer's smaller modules:
summary (the command's numbers), outputs (files), reports and run summaries."""

from __future__ import annotations

import csv
import io
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import hypergeometric_ie, subsets_ie, uniform_ie

from couponbound import BoundMonitor, Prior, coverage_prob, expected_draws, required_negatives
from couponbound.paper.datasets import (
    BUILTIN_DATASETS,
    DATASETS,
    DEFAULT_DATASETS,
    LONG_TAILED_DATASETS,
    MAX_CLASSES,
    NS21_DATASETS,
    TABLE_DATASETS,
    TABLE_NAMES,
    as_named_prior,
    as_named_priors,
    ceil_expected_batch,
    dataset,
    long_tailed_counts,
)
from couponbound.paper.outputs import figure_slug, write_report, write_table
from couponbound.paper.summary import (
    coverage_values_table,
    dataset_table,
    format_coverage,
    loader_negatives,
    render_summary,
    required_table,
)
from couponbound.paper.tables import coverage_table, decomposition_table

# ---------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------

NS21 = [("binary", 2), ("AG News", 4), ("CIFAR-10", 10), ("CIFAR-100", 100),
        ("ImageNet-1k (uniform)", 1000), ("Wiki-3029", 3029)]


#: Training-set class sizes (docs/paper.rst gives the sources); None: uniform, no counts.
SIZES = {"binary": None, "AG News": 30_000, "CIFAR-10": 5_000, "CIFAR-100": 500,
         "ImageNet-1k (uniform)": None, "Wiki-3029": None}


def test_ns21_datasets_are_named_priors_of_the_training_sets():
    assert [(p.name, p.C) for p in NS21_DATASETS] == NS21
    for p in NS21_DATASETS:
        assert isinstance(p, Prior) and p.is_uniform and p.replacement and p.label == p.name
        assert DATASETS[p.name] is p and dataset(p.name) is p
        size = SIZES[p.name]
        if size is None:
            assert p.counts is None and p == Prior.uniform(p.C)  # the name is not compared
        else:
            assert p.counts == (size,) * p.C and p == Prior.from_counts([size] * p.C)
    assert [DATASETS[n].N for n in ("AG News", "CIFAR-10", "CIFAR-100")] == [120_000, 50_000, 50_000]
    assert list(DATASETS)[:6] == [n for n, _ in NS21]
    assert list(DATASETS) == [p.name for p in BUILTIN_DATASETS]
    assert TABLE_DATASETS == NS21_DATASETS + LONG_TAILED_DATASETS
    assert [p.name for p in TABLE_DATASETS] == list(TABLE_NAMES)
    assert [p.name for p in DEFAULT_DATASETS] == ["CIFAR-10", "CIFAR-100", "ImageNet-1k (uniform)"]
    assert all(DATASETS[p.name] is p for p in DEFAULT_DATASETS)


def _lt_oracle(n_max: int, C: int, r: int) -> list[int]:
    """floor(n_max r^(-i/(C-1))) in 50-digit arithmetic, independent of the float formula."""
    import mpmath

    with mpmath.workdps(50):
        return [int(mpmath.floor(n_max * mpmath.power(r, mpmath.mpf(-i) / (C - 1))))
                for i in range(C)]


def test_long_tailed_priors_follow_the_exponential_profile():
    # totals of the standard benchmarks (Cao et al. 2019; Cui et al. 2019)
    totals = {("CIFAR-10", 10): 20_431, ("CIFAR-10", 50): 13_996, ("CIFAR-10", 100): 12_406,
              ("CIFAR-100", 10): 19_573, ("CIFAR-100", 50): 12_608, ("CIFAR-100", 100): 10_847}
    assert [p.name for p in LONG_TAILED_DATASETS] == [
        f"{base}-LT (r={r})" for base, r in totals]
    for (base, r), total in totals.items():
        p = DATASETS[f"{base}-LT (r={r})"]
        C, n_max = (10, 5_000) if base == "CIFAR-10" else (100, 500)
        assert p.C == C and p.replacement and not p.is_uniform
        assert list(p.counts) == _lt_oracle(n_max, C, r) == long_tailed_counts(n_max=n_max, C=C, r=r)
        assert p.N == total and p.counts[0] == n_max and p.counts[-1] == n_max // r
        assert list(p.counts) == sorted(p.counts, reverse=True)
    assert dataset("CIFAR-10-LT (r=100)").counts == (5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50)


def test_long_tailed_counts_refuses_bad_arguments():
    for args, match in [((0, 10, 10), "n_max"), ((500, 1, 10), "C must be at least 2"),
                        ((500, 10, 0.5), "r must be a finite number >= 1"),
                        ((500, 10, math.inf), "r must be"), ((500, 10, True), "r must be"),
                        ((5, 10, 10), "n_max / r must be at least 1"),
                        ((500, 10**7, 10), "C must be at most")]:
        with pytest.raises((ValueError, TypeError), match=match):
            long_tailed_counts(**dict(zip(("n_max", "C", "r"), args, strict=True)))
    for bad in (b"10", {10: 1}, np.datetime64("2020"), math.nan, 10**400, "10"):
        with pytest.raises((ValueError, TypeError), match="r must be"):
            long_tailed_counts(n_max=500, C=10, r=bad)
    with pytest.raises(ValueError, match="n_max must be an integer in"):
        long_tailed_counts(n_max=10**400, C=10, r=10)
    with pytest.raises(TypeError, match="needs the keyword arguments r"):
        long_tailed_counts(n_max=500, C=10)


def test_long_tailed_counts_positional_use_is_deprecated():
    with pytest.warns(DeprecationWarning, match="write long_tailed_counts\\(n_max=..., C=..., r=...\\)"):
        assert long_tailed_counts(500, 100, 100) == long_tailed_counts(n_max=500, C=100, r=100)
    with pytest.raises(TypeError, match="got C twice"), pytest.warns(DeprecationWarning):
        long_tailed_counts(500, 100, C=100, r=10)


@pytest.mark.parametrize("n_max", [10**18 + 7, 2**64 - 1, np.uint64(2**64 - 1), 10**30, 10**300])
def test_long_tailed_counts_exact_for_huge_n_max(n_max):
    # the float formula lost n_max itself beyond 2**53 (and exceeded it for uint64's maximum)
    for C, r in ((3, 10), (10, 100), (7, 2.5)):
        counts = long_tailed_counts(n_max=n_max, C=C, r=r)
        assert counts[0] == int(n_max) and counts == sorted(counts, reverse=True)
        assert counts == _lt_oracle_big(int(n_max), C, r)


def _lt_oracle_big(n_max: int, C: int, r: float) -> list[int]:
    import mpmath

    with mpmath.workdps(len(str(n_max)) + 40):
        return [int(mpmath.floor(n_max * mpmath.power(mpmath.mpf(r), mpmath.mpf(-i) / (C - 1))))
                for i in range(C)]


def test_registry_is_independent_of_the_printed_table():
    # a contributor's data set joins the registry without changing the main table's rows
    from couponbound.paper import datasets as ds

    extra = Prior.from_counts([7, 5, 3], name="my data")
    registry = {**ds.DATASETS, extra.name: extra}
    assert tuple(registry[n] for n in ds.TABLE_NAMES) == ds.TABLE_DATASETS
    assert set(ds.TABLE_NAMES) <= set(ds.DATASETS)


@pytest.mark.parametrize(("name", "exc"), [(None, TypeError), (math.nan, TypeError),
                                            (10, TypeError), (b"CIFAR-10", TypeError),
                                            ("nope", ValueError), ("nope", KeyError)])
def test_dataset_refuses_what_is_not_a_name(name, exc):
    with pytest.raises(exc, match="known: binary, AG News"):
        dataset(name)


def test_the_paper_layer_refuses_huge_class_counts_quickly():
    for spec in (10**30, ("x", 10**30), ("x", MAX_CLASSES + 1)):
        with pytest.raises(ValueError, match="more than the 1,000,000 the tables and figures take"):
            as_named_priors(spec)
    with pytest.raises(ValueError, match="couponbound.asymptotic"):
        coverage_table([("x", 10**30)])
    with pytest.raises(ValueError, match="more than the 1,000,000"):
        dataset_table([10**30])


def test_dataset_lookup_names_the_known_ones():
    with pytest.raises(KeyError, match=r"no data set named 'ImageNet-1k'; known: binary, AG News"):
        dataset("ImageNet-1k")


@pytest.mark.slow
def test_command_table3_and_figure_legends_use_the_registry_names():
    names = [p.name for p in TABLE_DATASETS]
    assert [r.dataset for r in dataset_table()] == names          # the command's table
    assert [r["dataset"] for r in coverage_table().to_records()] == names  # Table 3
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from couponbound.paper.plots import find_artists, plot_collision, plot_coverage

    ax = plot_coverage([999, 9999], gumbel=False, expected=False, confidence=None)
    assert [a.get_gid() for a in find_artists(ax, "coverage/")] == [
        f"coverage/{p.name}" for p in DEFAULT_DATASETS]
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == [p.name for p in DEFAULT_DATASETS]
    ax = plot_collision([99, 999], which="tau")
    assert [a.get_gid() for a in find_artists(ax, "tau/")] == [f"tau/{p.name}" for p in DEFAULT_DATASETS]
    plt.close("all")


@pytest.mark.slow
def test_figure_files_are_named_after_the_registry(tmp_path):
    from couponbound.cli import main

    assert main(["figures", "--format", "png", "--out", str(tmp_path), "-q"]) == 0
    want = {"coverage.png", "collision.png", "expected_classes.png"} | {
        f"sup_upper_bounds_{figure_slug(p.name)}.png" for p in DEFAULT_DATASETS}
    assert {p.name for p in tmp_path.iterdir()} == want
    assert "sup_upper_bounds_imagenet-1k-uniform.png" in want


def test_as_named_prior_forms():
    assert as_named_prior(10) == Prior.uniform(10) and as_named_prior(10).name == "C = 10"
    p = as_named_prior(("CIFAR-10", 10))
    assert p.name == "CIFAR-10" and p.C == 10 and p.is_uniform
    c = as_named_prior(("c", {"counts": [3, 2]}))
    assert c.counts == (3, 2) and c.name == "c" and not c.is_uniform
    q = as_named_prior(("p", [0.5, 0.25, 0.25]))
    assert q.counts is None and list(q.probs) == [0.5, 0.25, 0.25]
    assert as_named_prior(("n", np.array([4, 1]))).counts == (4, 1)
    assert as_named_prior({"name": "m", "C": 7}).C == 7
    assert as_named_prior(("u", {"C": 5})) == Prior.uniform(5)
    assert as_named_prior(("flat", {"counts": [4, 4]})).is_uniform
    # a Prior keeps its name; an unnamed one is called by its label; renaming keeps the scheme
    assert as_named_prior(DATASETS["CIFAR-10"]) is DATASETS["CIFAR-10"]
    assert as_named_prior(Prior.from_counts([3, 1])).name == "C = 2 (counts)"
    w = as_named_prior(("w", Prior.from_counts([3, 1], replacement=False)))
    assert w.name == "w" and not w.replacement and w.counts == (3, 1)
    assert [p.label for p in as_named_priors([2, ("x", 3)])] == ["C = 2", "x"]
    assert [p.label for p in as_named_priors(("x", 3))] == ["x"]


@pytest.mark.parametrize("bad", ["CIFAR", 2.5, True, ("x", "y"), {"C": 3},
                                 ("x", {"C": 3, "probs": [1.0]}), {"name": "m", "C": 2, "x": 1}])
def test_as_named_prior_rejects(bad):
    with pytest.raises(TypeError):
        as_named_prior(bad)


def test_as_named_prior_validates_the_prior():
    with pytest.raises(ValueError, match="C must be an integer >= 1"):
        as_named_prior(("x", 0))
    with pytest.raises(ValueError, match="probs must sum to 1"):
        as_named_prior(("x", [0.5, 0.6]))
    with pytest.raises(TypeError, match="datasets must be a data set or a sequence"):
        as_named_priors("CIFAR-10")
    with pytest.raises(ValueError, match="datasets must not be empty"):
        as_named_priors([])


def test_ceil_expected_batch_exact():
    # uniform: ceil(C H_C) in rationals (C = 2 gives exactly 3)
    for C in (1, 2, 3, 10, 100):
        exact = C * sum(Fraction(1, j) for j in range(1, C + 1))
        assert ceil_expected_batch(Prior.uniform(C)) == math.ceil(exact)
    # non-uniform: E[T] = sum_{n >= 0} P(T > n) = sum_n (1 - upsilon_n), an independent oracle
    counts = [5, 3, 2]
    tail = sum(1 - subsets_ie(n, counts) for n in range(0, 400))
    assert float(tail) == pytest.approx(expected_draws(counts=counts), rel=1e-10)
    assert ceil_expected_batch(Prior.from_counts(counts)) == math.ceil(tail)


# ---------------------------------------------------------------------------
# summary: the command's numbers
# ---------------------------------------------------------------------------


def test_dataset_table_against_exact_coverage():
    row = dataset_table([DATASETS["CIFAR-10"]], [0.5, 0.99], [32, 64])[0]
    assert row.dataset == "CIFAR-10" and row.classes == 10
    assert row.negatives_for == {"50": 26, "99": 65}
    for b in (32, 64):
        exact = uniform_ie(b, 10)
        assert row.coverage_at[str(b)] == pytest.approx(float(exact), rel=1e-12)
        assert row.miss_at[str(b)] == pytest.approx(float(1 - exact), rel=1e-12)
        assert row.log10_miss_at[str(b)] == pytest.approx(math.log10(float(1 - exact)), rel=1e-12)
    assert row.expected_batch == pytest.approx(float(10 * sum(Fraction(1, j) for j in range(1, 11))))


def test_render_summary_formats():
    rows = dataset_table([("A", 2), ("B", 4)], [0.9], [8])
    text = render_summary(rows)
    assert text.splitlines()[0].split() == ["data", "set", "C", "N", "E[K+1]", "K@90%", "loader",
                                            "K@90%", "u(K+1=8)", "E[D](8)"]
    assert text.splitlines()[2].split()[:4] == ["A", "2", "-", "3.0"]
    recs = list(csv.DictReader(io.StringIO(render_summary(rows, "csv"))))
    assert [r["dataset"] for r in recs] == ["A", "B"] and int(recs[1]["K_for_90"]) == 12
    assert float(recs[0]["upsilon_at_8"]) == pytest.approx(float(uniform_ie(8, 2)), rel=1e-12)
    js = json.loads(render_summary(rows, "json"))
    assert js[1]["negatives_for"] == {"90": 12}
    tex = render_summary(rows, "latex")
    assert tex.startswith(r"\begin{tabular}{lrrrrrrr}") and "B & 4 & -- & 8.3 & 12 & - &" in tex
    with pytest.raises(ValueError, match="fmt must be one of text, csv, json, latex"):
        render_summary(rows, "html")
    with pytest.raises(ValueError, match="rows must not be empty"):
        render_summary([])


def _log10_uniform_coverage(n: int, C: int) -> float:
    """log10 upsilon_n for the uniform prior: sum_k (-1)^k binom(C, k) (C - k)^n in integers."""
    total = sum((-1) ** k * math.comb(C, k) * (C - k) ** n for k in range(C + 1))
    return math.log10(total) - n * math.log10(C)


def test_tiny_coverage_is_printed_as_a_power_of_ten_from_the_log():
    row = dataset_table(["Wiki-3029", "ImageNet-1k (uniform)"], [0.5], [256, 4096])
    wiki, imagenet = row
    exact = _log10_uniform_coverage(4096, 3029)
    assert round(exact, 3) == -591.644
    assert wiki.log10_coverage_at["4096"] == pytest.approx(exact, rel=1e-12)
    assert wiki.coverage_at["4096"] == 0.0 and wiki.cells()[1] == "2.27e-592"
    # a true zero (256 draws < 1000 classes) prints as 0 and has log10 = -inf (JSON null)
    assert imagenet.log10_coverage_at["256"] == -math.inf and imagenet.cells()[0] == "0"
    assert imagenet.log10_coverage_at["4096"] == pytest.approx(
        _log10_uniform_coverage(4096, 1000), rel=1e-12)
    assert imagenet.cells()[1] == "2.87e-08"
    text = render_summary(row)
    assert "2.27e-592" in text and "ImageNet-1k (uniform)" in text
    js = json.loads(render_summary(row, "json"))
    assert js[1]["log10_coverage_at"]["256"] is None
    assert js[0]["log10_coverage_at"]["4096"] == pytest.approx(exact, rel=1e-12)
    recs = list(csv.DictReader(io.StringIO(render_summary(row, "csv"))))
    keys = list(recs[0])
    assert keys.index("log10_upsilon_at_4096") == keys.index("upsilon_at_4096") + 1
    assert float(recs[0]["log10_upsilon_at_4096"]) == pytest.approx(exact, rel=1e-12)
    assert recs[1]["log10_upsilon_at_256"] == "-inf" and float(recs[1]["upsilon_at_256"]) == 0.0


def test_format_coverage_cases():
    assert format_coverage(0.0, -math.inf, 0.0) == "0"
    assert format_coverage(0.0, -591.6437, -1e-300) == "2.27e-592"
    assert format_coverage(1.233e-4, math.log10(1.233e-4), -5.4e-5) == "1.23e-04"
    assert format_coverage(0.0, -9.9999, 0.0) == "1.00e-10"      # mantissa rounds up to 10
    assert format_coverage(0.5, math.log10(0.5), math.log10(0.5)) == "0.500000"
    assert format_coverage(1.0, -1e-30, -29.5) == "1-3.2e-30"
    assert format_coverage(1.0, 0.0, -math.inf) == "1"
    assert format_coverage(1.0, 0.0, math.nan) == ">1-1e-16"


def test_main_table_has_the_long_tailed_rows():
    rows = dataset_table(["CIFAR-100-LT (r=100)"], [0.5], [256, 4096])
    (row,) = rows
    assert row.dataset == "CIFAR-100-LT (r=100)" and row.classes == 100
    p = DATASETS["CIFAR-100-LT (r=100)"]
    assert row.expected_batch == pytest.approx(expected_draws(p), rel=1e-12)
    assert row.coverage_at["4096"] == pytest.approx(coverage_prob(4095, p), rel=1e-12)
    assert 10 ** row.log10_coverage_at["256"] == pytest.approx(coverage_prob(255, p), rel=1e-10)
    assert row.miss_at["4096"] == pytest.approx(1 - coverage_prob(4095, p), rel=1e-10)
    # the long tail needs ten times the negatives of the balanced CIFAR-100 (496)
    assert row.negatives_for["50"] == required_negatives(p, confidence=0.5) > 10 * 496


def test_far_tail_is_written_from_the_exact_miss_probability():
    # binary at K+1 = 65536: coverage rounds to 1.0 but 1 - upsilon = 2^(1-65536)
    row = dataset_table([2], [0.5], [65536])[0]
    assert row.coverage_at["65536"] == 1.0
    log10_miss = (1 - 65536) * math.log10(2)
    assert row.log10_miss_at["65536"] == pytest.approx(log10_miss, rel=1e-12)
    assert "1-1.0e-19728" in render_summary([row])


def test_coverage_values_table_against_oracles():
    counts = [5, 3, 2]
    recs = coverage_values_table([10, ("c", counts)], [4, 31]).to_records()
    assert [(r["prior"], r["K"], r["draws"]) for r in recs] == [
        ("C = 10", 4, 5), ("C = 10", 31, 32), ("c", 4, 5), ("c", 31, 32)]
    assert recs[1]["upsilon"] == pytest.approx(float(uniform_ie(32, 10)), rel=1e-12)
    assert recs[2]["upsilon"] == pytest.approx(float(subsets_ie(5, counts)), rel=1e-12)
    assert recs[2]["miss"] == pytest.approx(float(1 - subsets_ie(5, counts)), rel=1e-12)
    assert recs[0]["upsilon"] == 0.0 and recs[0]["miss"] == 1.0  # 5 draws < 10 classes
    no_anchor = coverage_values_table([10], [31], include_anchor=False).to_records()[0]
    assert no_anchor["draws"] == 31 and no_anchor["upsilon"] == coverage_prob(31, 10, include_anchor=False)
    with pytest.raises(ValueError, match=r"K must be an integer .* got -1 in \[3, -1\]"):
        coverage_values_table([10], [3, -1])


def test_required_table_with_replacement():
    counts = [5, 3, 2]
    t = required_table([("c", counts)], [0.9, 0.99])
    k = t.to_records()[0]["K_for_99"]
    assert subsets_ie(k + 1, counts) >= Fraction(99, 100) > subsets_ie(k, counts)
    with pytest.raises(ValueError, match="replacement=False needs"):
        required_table([10], replacement=False)


def test_required_table_without_replacement():
    counts = [5, 3, 2]
    k = required_table([("c", counts)], [0.99]).to_records()[0]["K_for_99"]
    rec = required_table([("c", counts)], [0.99], replacement=False).to_records()[0]
    w = rec["K_for_99"]
    assert hypergeometric_ie(w + 1, counts) >= Fraction(99, 100) > hypergeometric_ie(w, counts)
    assert w < k  # without replacement a batch repeats classes less
    # E[K+1] of the shuffled loader, exactly: sum over n < N of 1 - upsilon_n
    exact = sum(1 - hypergeometric_ie(n, counts) for n in range(sum(counts)))
    assert rec["expected_batch"] == pytest.approx(float(exact), rel=1e-12)
    assert "without replacement" in required_table([("c", counts)], replacement=False).caption


# ---------------------------------------------------------------------------
# outputs and run summaries
# ---------------------------------------------------------------------------


def test_figure_slug():
    assert figure_slug("ImageNet-1k (uniform)") == "imagenet-1k-uniform"
    assert figure_slug("C = 10") == "c-10" and figure_slug("(( ))") == "figure"


def test_write_table_and_report_files(tmp_path):
    paths = write_table(tmp_path / "a", "t3", coverage_table([10]))
    assert [p.name for p in paths] == ["t3.md", "t3.tex", "t3.csv"]
    assert paths[0].read_text().startswith("| data set") and paths[2].read_text().endswith("\n")
    rng = np.random.default_rng(5)
    runs = []
    for B in (4, 8):
        mon = BoundMonitor(num_classes=2, temperature=0.5)
        y = rng.integers(0, 2, size=B)
        mon.update_losses(contrastive=2.0 + rng.random(B), sup=1.0 + rng.random(B),
                          sub=0.5 + rng.random(B), d=-0.1 * rng.random(B), labels=y, in_batch=True)
        runs.append((f"K+1 = {B}", mon.compute()))
    said: list[str] = []
    paths = write_report(runs, tmp_path / "r", figures=False, progress=said.append)
    assert [p.name for p in paths] == ["decomposition.md", "decomposition.tex", "decomposition.csv"]
    assert said == ["table decomposition"]
    recs = list(csv.DictReader(io.StringIO(paths[2].read_text())))
    row = next(r for r in recs if r["key"] == "ns21_bound")
    assert float(row["K+1 = 8"]) == runs[1][1].ns21_bound


def test_terms_and_reports_give_the_same_bounds():
    """A BoundTerms is summarised as BoundMonitor.compute reports it (the bounds and holds)."""
    rng = np.random.default_rng(2)
    mon = BoundMonitor(num_classes=3, temperature=0.5)
    for _ in range(3):
        y = rng.integers(0, 3, size=16)
        mon.update_losses(contrastive=2.0 + rng.random(16), sup=1.0 + rng.random(16),
                          sub=0.5 + rng.random(16), d=-0.2 * rng.random(16), labels=y, in_batch=True)
    rep = mon.compute()
    from_report, from_terms = decomposition_table([rep, rep.terms], transpose=False).to_records()
    for key in ("contrastive", "ns21_bound", "sup_term", "sub_term", "collision_term", "d",
                "upsilon", "tau", "arora_bound", "ns21_sup_upper", "arora_sup_upper", "holds"):
        assert from_terms[key] == pytest.approx(from_report[key], rel=1e-12), key
    # by hand from the definitions (docs: math-ns21-bound, math-arora-bound)
    L, u, t, col, d = rep.contrastive, rep.upsilon, rep.tau, rep.collision, rep.d
    assert from_terms["ns21_bound"] == pytest.approx(0.5 * (u * rep.sup + (1 - u) * rep.sub + col) + d)
    assert from_terms["arora_bound"] == pytest.approx((1 - t) * rep.arora_sub + col + d)
    assert from_terms["ns21_sup_upper"] == pytest.approx((2 * (L - d) - (1 - u) * rep.sub - col) / u)
    assert from_terms["theory_upsilon"] == pytest.approx(float(uniform_ie(16, 3)), rel=1e-12)
    assert math.isnan(from_terms["contrastive_se"]) and math.isfinite(from_report["contrastive_se"])


# ---------------------------------------------------------------------------
# the main table: the shuffled loader of a finite data set (issue 18), tiny values (issue 20)
# ---------------------------------------------------------------------------


def _loader_oracle(counts: list[int], q: Fraction) -> int:
    """Smallest K with P(a uniform (K+1)-subset hits every class) >= q, in exact fractions."""
    n = len(counts)
    while hypergeometric_ie(n, counts) < q:
        n += 1
    return n - 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=5),
       st.sampled_from([Fraction(1, 2), Fraction(9, 10), Fraction(99, 100), Fraction(999, 1000)]))
def test_loader_negatives_against_exact_fractions(counts, q):
    prior = Prior.from_counts(counts, replacement=False)
    assert loader_negatives(prior, float(q)) == _loader_oracle(counts, Fraction(float(q)))


def test_loader_negatives_decides_ties_exactly():
    # [1, 1, 2] without replacement: upsilon_3 = 2/4 = 0.5 exactly, a float tie
    prior = Prior.from_counts([1, 1, 2], replacement=False)
    assert loader_negatives(prior, 0.5) == 2 == required_negatives(prior, confidence=0.5)
    # [3, 3, 2]: upsilon_6 = 27/28, and the float 27/28 lies just above it: one more draw
    prior = Prior.from_counts([3, 3, 2], replacement=False)
    assert Fraction(27 / 28) > Fraction(27, 28) == hypergeometric_ie(6, [3, 3, 2])
    assert loader_negatives(prior, 27 / 28) == 6 == _loader_oracle([3, 3, 2], Fraction(27 / 28))
    with pytest.raises(ValueError, match="needs a prior drawn without replacement"):
        loader_negatives(Prior.from_counts([3, 3, 2]), 0.5)


def test_main_table_shows_the_shuffled_loader_and_marks_impossible_batches():
    row, = dataset_table(["CIFAR-100-LT (r=100)"])
    assert row.data_size == 10847
    assert row.loader_negatives_for["50"] == 4323 and row.loader_negatives_for["99"] == 7765
    assert row.negatives_for["99"] == 13652 and row.negatives_exceed_data["99"]
    assert not row.negatives_exceed_data["50"]  # 5514 + 1 <= 10847
    assert row.batch_exceeds_data == {"256": False, "4096": False, "65536": True}
    assert row.coverage_at["65536"] is None and row.cells()[2] == "> 10847"
    assert row.k_cells()[2] == "13652*" and row.loader_cells()[:3] == ["4323", "6111", "7765"]
    flat = row.to_dict()
    assert flat["loader_K_for_50"] == 4323 and flat["loader_K_for_99"] == 7765
    assert flat["upsilon_at_65536"] is None and flat["batch_65536_exceeds_data"] is True
    js = json.loads(render_summary([row], "json"))[0]
    assert js["loader_negatives_for"] == {"50": 4323, "90": 6111, "99": 7765, "99.9": 8858}
    assert js["coverage_at"]["65536"] is None and js["batch_exceeds_data"]["65536"] is True
    text = render_summary([row])
    assert "> 10847" in text and "13652*" in text and "4323" in text
    # a uniform prior without a data set size: no loader, nothing marked
    wiki, = dataset_table(["Wiki-3029"], [0.5], [4096])
    assert wiki.data_size is None and wiki.loader_negatives_for is None
    assert wiki.loader_cells() == ["-"] and wiki.batch_exceeds_data == {}


@pytest.mark.slow
def test_loader_columns_agree_with_required_negatives():
    for name in ("CIFAR-10-LT (r=100)", "CIFAR-100-LT (r=100)"):
        prior = dataset(name).with_replacement(False)
        for q in (0.5, 0.99):
            assert loader_negatives(prior, q) == required_negatives(prior, confidence=q)


def test_coverage_values_table_shows_tiny_values_from_their_logarithms():
    t = coverage_values_table([3029], [4095])
    rec = t.to_records()[0]
    assert rec["upsilon"] == 0.0  # underflowed ...
    assert rec["log10_upsilon"] == pytest.approx(_log10_uniform_coverage(4096, 3029), rel=1e-12)
    assert "2.27e-592" in t.to_markdown()  # ... but printed from the log, never as 0
    big = coverage_values_table([10**6], [99_999_999_999])
    rec = big.to_records()[0]
    import mpmath

    with mpmath.workdps(60):  # 1 - upsilon ~ C (1 - 1/C)^n: the next term is 10^-43000 smaller
        exact = mpmath.log10(10**6) + 10**11 * mpmath.log10(1 - mpmath.mpf(1) / 10**6)
    assert rec["miss"] == 0.0 and rec["log10_miss"] == pytest.approx(float(exact), rel=1e-12)
    shown = big.to_markdown().splitlines()[2]
    assert "e-43424" in shown and "| 0 |" not in shown.replace(" ", "")
    json_rec = json.loads(big.to_json())[0]
    assert json_rec["log10_miss"] == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize("K", [b"10", {10: 1}, np.datetime64("2020"), "10", None, [[1, 2]],
                               np.ma.masked_array([3, 5], mask=[0, 1]), 10**400])
def test_coverage_values_table_refuses_what_is_not_K(K):
    with pytest.raises((TypeError, ValueError), match="K"):
        coverage_values_table([10], K)


def test_format_coverage_refuses_bad_input():
    for args in ((10**400, -1.0, -1.0), (0.5, 10**400, -1.0), (0.5, math.nan, -1.0),
                 (1.5, -1.0, -1.0), ("0.5", -1.0, -1.0), (0.5, -0.3, 2.0)):
        with pytest.raises((TypeError, ValueError), match="value|log10"):
            format_coverage(*args)


def test_main_table_expected_classes_against_exact_sums():
    lt, wiki = dataset_table(["CIFAR-100-LT (r=100)", "Wiki-3029"], [0.5], [256, 4096, 65536])
    counts = list(dataset("CIFAR-100-LT (r=100)").counts)
    N = sum(counts)
    for b in (256, 4096):  # the shuffled loader: sum_c 1 - binom(N - n_c, b) / binom(N, b)
        exact = sum(1 - Fraction(math.comb(N - c, b), math.comb(N, b)) for c in counts)
        assert lt.expected_classes_at[str(b)] == pytest.approx(float(exact), rel=1e-12)
    assert lt.expected_classes_at["65536"] is None and lt.classes_cells()[2] == "> 10847"
    assert lt.to_dict()["expected_classes_at_65536"] is None
    C = 3029
    for b in (256, 4096, 65536):  # independent draws: C (1 - (1 - 1/C)^b)
        exact = C * (1 - Fraction(C - 1, C) ** b)
        assert wiki.expected_classes_at[str(b)] == pytest.approx(float(exact), rel=1e-12)
    assert wiki.classes_cells() == ["245.5", "2245.7", "3029-1.2e-06"]
    js = json.loads(render_summary([lt], "json"))[0]
    assert js["expected_classes_at"]["256"] == pytest.approx(63.4198, abs=1e-4)
