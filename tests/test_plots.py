"""Figures: the plotted data equals the library's values; labels, scales, styles, files.

Content, not pixels: each test reads the artists back (by their gid) and
compares them with couponbound's functions.
"""

from __future__ import annotations

import math
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # the tests' own backend choice; the package never calls use()

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from couponbound import (  # noqa: E402
    BoundMonitor,
    BoundTerms,
    collision_prob,
    coverage_prob,
    decompose,
    expected_log_collision,
    ns21_sup_upper_bound,
    required_negatives,
    sup_upper_bounds,
)
from couponbound.asymptotic import gumbel_coverage, poisson_coverage  # noqa: E402
from couponbound.paper.plots import (  # noqa: E402
    find_artists,
    plot_bound_comparison,
    plot_bound_decomposition,
    plot_collision,
    plot_coverage,
    plot_sup_upper_bounds,
)
from couponbound.paper.style import VENUES, paper_style, save_figure  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _one(ax, gid):
    found = find_artists(ax, gid)
    assert len(found) == 1, (gid, [a.get_gid() for a in find_artists(ax, gid.split("/")[0] + "/")])
    return found[0]


def _legend_texts(ax):
    texts = []
    for a in [ax, *ax.get_shared_x_axes().get_siblings(ax)]:
        if a.get_legend() is not None:
            texts += [t.get_text() for t in a.get_legend().get_texts()]
    return texts


def _no_overlap_with_axes(ax):
    """The legend sits above the data area (it can never cover a curve)."""
    fig = ax.figure
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    box = ax.get_window_extent()
    assert leg.y0 >= box.y1 - 1.0


def test_import_does_not_load_matplotlib():
    code = ("import sys, couponbound, couponbound.paper.plots, couponbound.paper.tables, "
            "couponbound.paper.style, couponbound.paper.outputs, couponbound.paper.reports, "
            "couponbound.paper.summary, couponbound.paper.datasets, couponbound.cli; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------
# coverage
# ---------------------------------------------------------------------------


def test_plot_coverage_data_labels_and_marks():
    K = [5, 9, 20, 31, 65, 127, 511, 2000]
    counts = [40, 30, 20, 10]
    ax = plot_coverage(K, [10, ("CIFAR-100", 100), ("skewed", {"counts": counts})])
    assert ax.get_xscale() == "log"
    assert "K" in ax.get_xlabel() and "upsilon" in ax.get_ylabel()
    for name, kw in [("C = 10", {"C": 10}), ("CIFAR-100", {"C": 100}), ("skewed", {"counts": counts})]:
        line = _one(ax, f"coverage/{name}")
        np.testing.assert_array_equal(line.get_xdata(), K)
        np.testing.assert_allclose(line.get_ydata(), coverage_prob(K, **kw), rtol=1e-15, atol=0)
        # the 99 % point: smallest K reaching 0.99, drawn on the curve
        q = _one(ax, f"quantile/{name}")
        kq = required_negatives(confidence=0.99, **kw)
        assert q.get_xdata()[0] == kq and q.get_ydata()[0] == pytest.approx(coverage_prob(kq, **kw))
        assert q.get_ydata()[0] >= 0.99
    # E[K+1] rounded up as in NS21 Table 3: 30 for CIFAR-10, i.e. K = 29
    e = _one(ax, "expected/C = 10")
    assert e.get_xdata()[0] == 29 and e.get_ydata()[0] == pytest.approx(coverage_prob(29, 10))
    assert _one(ax, "expected/CIFAR-100").get_xdata()[0] == 518
    # approximations: Gumbel for uniform priors, Poisson otherwise
    np.testing.assert_allclose(_one(ax, "approx/C = 10").get_ydata(), gumbel_coverage(K, 10))
    np.testing.assert_allclose(_one(ax, "approx/skewed").get_ydata(), poisson_coverage(K, counts=counts))
    assert _one(ax, "approx/C = 10").get_linestyle() != "-"
    texts = _legend_texts(ax)
    assert {"C = 10", "CIFAR-100", "skewed", "99 % coverage", "Gumbel/Poisson approx."} <= set(texts)
    _no_overlap_with_axes(ax)


def test_plot_coverage_default_range_reaches_every_plateau():
    ax = plot_coverage(C=[10, 100], gumbel=False, expected=False, confidence=0.9)
    y = _one(ax, "coverage/C = 100").get_ydata()
    assert y[0] == 0.0 and y[-1] > 0.9999
    assert not find_artists(ax, "approx/") and not find_artists(ax, "expected/")
    assert _one(ax, "quantile/C = 100").get_xdata()[0] == required_negatives(100, confidence=0.9)


def test_plot_coverage_uses_given_axes_and_validates():
    fig, (a, b) = plt.subplots(1, 2)
    assert plot_coverage([1, 2, 3], 2, ax=b) is b
    assert not a.lines
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_coverage([1, 2], 2, ax="left")
    with pytest.raises(ValueError, match="K must be"):
        plot_coverage([-1, 2], 2)
    with pytest.raises(ValueError, match="confidence must be in"):
        plot_coverage([1, 2], 2, confidence=1.0)
    with pytest.raises(TypeError, match="a data set must be"):
        plot_coverage([1, 2], ["CIFAR"])


def test_plot_functions_never_show(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("plt.show() called")

    monkeypatch.setattr(plt, "show", boom)
    t = BoundTerms(2.0, 1.8, 1.6, 1.3, -1.0, 0.7, tau=0.96, K=31, C=10)
    plot_coverage([9, 31], 10)
    plot_collision([9, 31], 10)
    plot_sup_upper_bounds(3.0, [9, 31], 10, warn=False)
    plot_bound_comparison([t])
    plot_bound_decomposition([t])


# ---------------------------------------------------------------------------
# collisions
# ---------------------------------------------------------------------------


def test_plot_collision_both_on_twin_axes():
    K = [1, 31, 127, 511, 4000]
    ax = plot_collision(K, [10, 100])
    twins = [a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]
    assert len(twins) == 1
    for C in (10, 100):
        tau = _one(ax, f"tau/C = {C}")
        coll = _one(ax, f"collision/C = {C}")
        assert tau.axes is ax and coll.axes is twins[0]
        np.testing.assert_allclose(tau.get_ydata(), collision_prob(K, C), rtol=1e-15)
        np.testing.assert_allclose(coll.get_ydata(), expected_log_collision(K, C), rtol=1e-15)
    # sanity values of the docs' collisions section (math-collisions)
    assert _one(ax, "collision/C = 10").get_ydata()[1] == pytest.approx(1.317, abs=1e-3)
    assert _one(ax, "tau/C = 100").get_ydata()[2] == pytest.approx(0.721, abs=1e-3)
    assert ax.get_xscale() == "log" and twins[0].get_xscale() == "log"
    assert "tau" in ax.get_ylabel() and "Col" in twins[0].get_ylabel()
    assert "solid" in ax.get_ylabel() and "dashed" in twins[0].get_ylabel()


@pytest.mark.parametrize("which", ["tau", "collision"])
def test_plot_collision_single(which):
    ax = plot_collision([3, 30], [10], which=which)
    assert [a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax] == []
    assert find_artists(ax, f"{which}/C = 10")
    other = "collision" if which == "tau" else "tau"
    assert not find_artists(ax, f"{other}/")
    with pytest.raises(ValueError, match="which must be"):
        plot_collision([3], [10], which="Col")


# ---------------------------------------------------------------------------
# theoretical upper bounds
# ---------------------------------------------------------------------------


def test_plot_sup_upper_bounds_data_and_log_scale():
    K = np.arange(1, 100)
    L = np.log1p(K)
    ax = plot_sup_upper_bounds(lambda k: np.log1p(k), K, 10, warn=False)
    ref = sup_upper_bounds(L, K, 10, warn=False)
    assert ax.get_yscale() == "log"
    assert "K" in ax.get_xlabel() and "sup" in ax.get_ylabel()
    for name in ("arora", "ns21", "ash", "bao"):
        y = np.asarray(_one(ax, f"bound/{name}").get_ydata(), dtype=float)
        want = np.asarray(getattr(ref, name))
        ok = np.isfinite(want) & (want > 0)
        np.testing.assert_array_equal(y[ok], want[ok])
        assert np.all(np.isnan(y[~ok]))  # vacuous or non-positive values are gaps
    # NS21's bound is vacuous for K + 1 < C: no coverage
    nozawa = np.asarray(_one(ax, "bound/ns21").get_ydata(), dtype=float)
    assert np.all(np.isnan(nozawa[K + 1 < 10])) and np.all(np.isfinite(nozawa[K + 1 >= 10]))
    assert _one(ax, "coverage_threshold").get_xdata()[0] == 9
    np.testing.assert_array_equal(_one(ax, "contrastive").get_ydata(), L)
    texts = _legend_texts(ax)
    assert any("Arora" in t for t in texts) and any("Bao" in t for t in texts)
    lo, hi = ax.get_ylim()
    assert 0 < lo < hi
    # every bound's minimum is in view, even ARORA19's
    assert np.nanmin(np.asarray(_one(ax, "bound/arora").get_ydata(), dtype=float)) < hi


def test_plot_sup_upper_bounds_exploding_values_do_not_overflow(recwarn):
    ax = plot_sup_upper_bounds(lambda k: np.log1p(k), None, 1000, bounds=["arora", "bao"], warn=False)
    ax.figure.canvas.draw()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert find_artists(ax, "bound/arora") and not find_artists(ax, "bound/ash")


def test_plot_sup_upper_bounds_prior_and_errors():
    counts = [5, 3, 2]
    ax = plot_sup_upper_bounds(2.0, [2, 5, 20], counts=counts, bounds="ns21", warn=False)
    np.testing.assert_allclose(_one(ax, "bound/ns21").get_ydata(),
                               sup_upper_bounds(2.0, [2, 5, 20], counts=counts, warn=False).ns21)
    with pytest.raises(ValueError, match="bounds must name some of"):
        plot_sup_upper_bounds(2.0, [5], 10, bounds=["CURL"])
    with pytest.raises(ValueError, match="one value per K"):
        plot_sup_upper_bounds(lambda k: [1.0, 2.0], [5, 6, 7], 10)
    with pytest.raises(ValueError, match="contrastive"):
        plot_sup_upper_bounds(-1.0, [5], 10)


# ---------------------------------------------------------------------------
# measured runs
# ---------------------------------------------------------------------------


def _runs():
    """Three synthetic runs of a BoundMonitor (batch sizes 8, 16, 64; C = 4)."""
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(4, 6))
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)  # class means of unit features
    out = []
    for B in (8, 16, 64):
        mon = BoundMonitor(num_classes=4, temperature=0.5, class_means=mu)
        for _ in range(4):
            y = rng.integers(0, 4, size=B)
            z0 = mu[y] + 0.4 * rng.normal(size=(B, 6))
            z1 = mu[y] + 0.4 * rng.normal(size=(B, 6))
            mon.update(anchor=z0, positive=z1, labels=y)
        out.append(mon.compute())
    return out


def test_plot_bound_comparison_bars_equal_reports():
    reps = _runs()
    ax = plot_bound_comparison(reps, accuracy=[0.70, 0.74, 0.78])
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "64"]
    assert "K+1" in ax.get_xlabel() and "sup" in ax.get_ylabel()
    ns21 = find_artists(ax, "bar/ns21")
    assert [p.get_height() for p in ns21] == pytest.approx([r.ns21_sup_upper for r in reps])
    arora = find_artists(ax, "bar/arora")
    finite = [r.arora_sup_upper for r in reps if math.isfinite(r.arora_sup_upper) and r.arora_sup_upper > 0]
    assert [p.get_height() for p in arora] == pytest.approx(finite)
    vac = find_artists(ax, "vacuous")
    assert len(vac) == len(reps) - len(finite)
    np.testing.assert_allclose(_one(ax, "measured").get_ydata(), [r.sup_all for r in reps])
    acc = _one(ax, "accuracy")
    np.testing.assert_allclose(acc.get_ydata(), [70.0, 74.0, 78.0])
    assert "accuracy (%)" in acc.axes.get_ylabel() and acc.axes is not ax
    texts = _legend_texts(ax)
    assert any("ARORA19" in t for t in texts) and any("NS21" in t for t in texts)
    _no_overlap_with_axes(ax)


def test_plot_bound_comparison_from_terms_percent_and_vacuous():
    a = BoundTerms(2.0, 1.8, 1.6, 1.3, -1.0, 0.7, tau=0.96, K=31, C=10)
    b = BoundTerms(2.5, 1.8, 1.6, 2.0, -1.0, 0.0, tau=1.0, K=7, C=10)
    ax = plot_bound_comparison({"small": a, "tiny": b}, accuracy=[81.0, 60.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["small", "tiny"]
    assert [p.get_height() for p in find_artists(ax, "bar/ns21")] == pytest.approx(
        [ns21_sup_upper_bound(a)])
    assert sorted(t.get_text() for t in find_artists(ax, "vacuous")) == ["∞", "∞"]
    np.testing.assert_allclose(_one(ax, "accuracy").get_ydata(), [81.0, 60.0])
    ax = plot_bound_comparison([a, b], accuracy={"mean classifier": [0.8, 0.6], "probe": [0.9, 0.7]})
    np.testing.assert_allclose(_one(ax, "accuracy/probe").get_ydata(), [90.0, 70.0])
    np.testing.assert_allclose(_one(ax, "accuracy/mean classifier").get_ydata(), [80.0, 60.0])
    assert {"mean classifier", "probe"} <= set(_legend_texts(ax))
    lo, hi = _one(ax, "accuracy/probe").axes.get_ylim()
    assert lo <= 60.0 and hi >= 90.0
    with pytest.raises(ValueError, match="accuracy has 1 values but there are 2 runs"):
        plot_bound_comparison([a, b], accuracy=[0.5])
    with pytest.raises(ValueError, match="accuracy must lie in"):
        plot_bound_comparison([a], accuracy=[120.0])
    with pytest.raises(TypeError, match="BoundReport or BoundTerms"):
        plot_bound_comparison([1.0])


def test_plot_bound_decomposition_stacks_terms():
    reps = _runs()
    ax = plot_bound_decomposition(reps)
    for key in ("sup_term", "sub_term", "collision_term", "d"):
        heights = [p.get_height() for p in find_artists(ax, f"term/{key}")]
        assert heights == pytest.approx([getattr(decompose(r.terms), key) for r in reps])
    # the same terms written out (docs: math-ns21-bound), not through decompose()
    by_hand = {"sup_term": [0.5 * r.upsilon * r.sup for r in reps],
               "sub_term": [0.5 * (1 - r.upsilon) * r.sub for r in reps],
               "collision_term": [0.5 * r.collision for r in reps],
               "d": [r.d for r in reps]}
    for key, want in by_hand.items():
        assert [p.get_height() for p in find_artists(ax, f"term/{key}")] == pytest.approx(want)
    # stacked: each positive term starts where the previous one ends; d hangs below 0
    sup = find_artists(ax, "term/sup_term")
    sub = find_artists(ax, "term/sub_term")
    coll = find_artists(ax, "term/collision_term")
    for s, u, c in zip(sup, sub, coll, strict=True):
        assert s.get_y() == 0 and u.get_y() == pytest.approx(s.get_height())
        assert c.get_y() == pytest.approx(s.get_height() + u.get_height())
    assert all(p.get_y() == 0 and p.get_height() <= 0 for p in find_artists(ax, "term/d"))
    np.testing.assert_allclose(_one(ax, "bound").get_ydata(), [r.ns21_bound for r in reps])
    L = [p.get_height() for p in find_artists(ax, "contrastive")]
    assert L == pytest.approx([r.contrastive for r in reps])
    assert all(r.ns21_bound <= r.contrastive for r in reps)
    assert find_artists(ax, "contrastive_se")
    assert ax.get_ylabel() == "loss (nats)" and "K+1" in ax.get_xlabel()
    lo, hi = ax.get_ylim()
    assert lo < min(r.d for r in reps) and hi > max(r.contrastive for r in reps)
    _no_overlap_with_axes(ax)


# ---------------------------------------------------------------------------
# style and files
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("venue", sorted(VENUES))
@pytest.mark.parametrize("columns", [1, 2])
def test_paper_style_sizes_fonts_and_restores(venue, columns):
    before = dict(matplotlib.rcParams)
    with paper_style(venue, columns) as st:
        fig, ax = plt.subplots()
        assert tuple(fig.get_size_inches()) == pytest.approx(st.figsize)
        assert matplotlib.rcParams["pdf.fonttype"] == 42
        assert matplotlib.rcParams["font.size"] == st.fontsize
        assert fig.get_layout_engine() is not None  # constrained: nothing clipped
    text = VENUES[venue]["text"]
    assert st.width == pytest.approx(text if columns == 2 else (text - 0.25) / 2)
    assert dict(matplotlib.rcParams) == before


def test_paper_style_icml_column_and_errors():
    with paper_style("icml", 1) as st:
        pass
    assert st.width == 3.25 and st.height == pytest.approx(0.75 * 3.25)
    with pytest.raises(ValueError, match="venue must be one of"):
        with paper_style("nature"):
            pass
    with pytest.raises(ValueError, match="columns must be 1 or 2"):
        with paper_style("icml", 3):
            pass
    with pytest.raises(ValueError, match="height must be a positive number"):
        with paper_style("icml", 1, height=-1):
            pass


@pytest.mark.parametrize("columns", [1, 2])
def test_figures_fit_their_width(columns):
    """At printed size every text stays inside the figure (no clipping)."""
    reps = _runs()
    draws = [lambda ax: plot_coverage(ax=ax), lambda ax: plot_collision(ax=ax),
             lambda ax: plot_sup_upper_bounds(3.0, None, 10, warn=False, ax=ax),
             lambda ax: plot_bound_comparison(reps, [0.7, 0.74, 0.78], ax=ax),
             lambda ax: plot_bound_decomposition(reps, ax=ax)]
    with paper_style("icml", columns):
        for draw in draws:
            fig, ax = plt.subplots()
            draw(ax)
            fig.canvas.draw()
            r = fig.canvas.get_renderer()
            fb = fig.bbox
            for a in fig.axes:
                tb = a.get_tightbbox(r)
                assert tb.x0 >= fb.x0 - 1 and tb.y0 >= fb.y0 - 1, draw
                assert tb.x1 <= fb.x1 + 1 and tb.y1 <= fb.y1 + 1, draw
            plt.close(fig)


def test_save_figure_writes_valid_pdf_and_png(tmp_path):
    with paper_style("neurips", 1):
        fig, ax = plt.subplots()
        plot_coverage([9, 31, 99], [10], ax=ax)
        paths = save_figure(fig, tmp_path / "sub" / "cov")
    assert [p.name for p in paths] == ["cov.pdf", "cov.png"]
    pdf = paths[0].read_bytes()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]
    assert b"/FontFile2" in pdf and b"/Type3" not in pdf  # TrueType embedded, no Type 3
    png = paths[1].read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    assert abs(width - fig.get_figwidth() * 300) <= 1  # printed width at 300 dpi
    assert b"/CreationDate" not in pdf  # reproducible files
    plt.close(fig)
    fig, ax = plt.subplots()  # saved outside paper_style: still TrueType
    again = save_figure(fig, tmp_path / "again", ["pdf"])[0].read_bytes()
    assert b"/FontFile2" in again and b"/Type3" not in again
    with pytest.raises(ValueError, match="formats must be some of"):
        save_figure(fig, tmp_path / "x", ["jpg"])
    # every argument is checked before the first file: nothing written
    with pytest.raises(ValueError, match="formats must be some of"):
        save_figure(fig, tmp_path / "y", ["pdf", "jpg"])
    for bad in (1e6, 0, -5, float("nan"), float("inf"), 10**400, 2401):
        with pytest.raises(ValueError, match=r"dpi must be between 10 and 2400"):
            save_figure(fig, tmp_path / "y", ["pdf", "png"], dpi=bad)
    for bad in (True, "300", None):
        with pytest.raises(TypeError, match="dpi must be a number"):
            save_figure(fig, tmp_path / "y", dpi=bad)
    assert not list(tmp_path.glob("y*")) and not list(tmp_path.glob("x*"))
    plt.close(fig)


def test_save_figure_replaces_a_symlink_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "fig.png"
    link.symlink_to(victim)
    fig, ax = plt.subplots(figsize=(2, 1))
    (path,) = save_figure(fig, tmp_path / "fig", ["png"], dpi=50)
    plt.close(fig)
    assert victim.read_text() == "precious"
    assert not path.is_symlink() and path.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "victim.txt"]


def test_plot_coverage_refuses_enormous_C():
    with pytest.raises(ValueError, match="more than the 1,000,000"):
        plot_coverage(C=10**30)


def test_save_figure_lays_out_once_and_png_matches_savefig(tmp_path):
    """PDF and PNG come from one constrained-layout pass; the PNG bytes are savefig's."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    def make():
        with paper_style("neurips", 2) as st:
            fig = Figure(figsize=st.figsize, layout="constrained")
            plot_coverage([9, 31, 99, 299], [10, 100], ax=fig.add_subplot())
        return fig

    calls = []
    real = ConstrainedLayoutEngine.execute

    def counting(self, fig):
        calls.append(fig)
        return real(self, fig)

    fig = make()
    engine = fig.get_layout_engine()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ConstrainedLayoutEngine, "execute", counting)
        paths = save_figure(fig, tmp_path / "once", ["pdf", "png", "svg"], dpi=120)
    assert [p.suffix for p in paths] == [".pdf", ".png", ".svg"]
    assert len(calls) == 1  # one layout for three files (was one per file)
    assert fig.get_layout_engine() is engine  # the caller's figure keeps its engine
    reference = make()
    reference.savefig(tmp_path / "ref.png", format="png", dpi=120)
    assert paths[1].read_bytes() == (tmp_path / "ref.png").read_bytes()
    assert paths[0].read_bytes().startswith(b"%PDF-")
    # the saved arrangement is the laid-out one: axes moved off the default subplot box
    assert fig.axes[0].get_position().x0 != pytest.approx(0.125)


# ---------------------------------------------------------------------------
# issue 22: figures a reviewer reads without a caption
# ---------------------------------------------------------------------------


def _bbox_overlap(a, b):
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


@pytest.mark.parametrize("title_first", [True, False])
def test_legend_above_and_title_never_overlap(title_first):
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
    if title_first:
        a.set_title("(a) coverage")
        b.set_title("(b) collisions")
    plot_coverage([9, 31, 99, 299], [10, 100], ax=a)
    plot_collision([1, 5, 31, 127], [10, 100], ax=b)
    if not title_first:
        a.set_title("(a) coverage")
        b.set_title("(b) collisions")
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for ax, text in ((a, "(a) coverage"), (b, "(b) collisions")):
        assert ax.get_title() == text  # the caller's title is kept ...
        leg = ax.get_legend()
        assert leg.get_title().get_text().splitlines()[0] == text  # ... shown as the heading
        legbox = leg.get_window_extent(r)
        for other in fig.texts + [t for x in fig.axes for t in (x.title, x._left_title, x._right_title)]:
            if other.get_visible() and other.get_text():
                assert not _bbox_overlap(legbox, other.get_window_extent(r)), other.get_text()
        assert legbox.y0 >= ax.get_window_extent(r).y1 - 1.0
    # removing the legend brings the title back
    a.get_legend().remove()
    assert a.title.get_visible()


def test_plot_coverage_long_tail_starts_where_visible_and_without_replacement():
    from couponbound import Prior
    from couponbound.paper.datasets import DATASETS

    lt = DATASETS["CIFAR-100-LT (r=100)"]
    shuffled = Prior.from_counts(lt.counts, replacement=False, name="LT shuffled")
    ax = plot_coverage(C=[lt, shuffled])
    line = _one(ax, "coverage/LT shuffled")
    K = np.asarray(line.get_xdata())
    np.testing.assert_allclose(line.get_ydata(),
                               coverage_prob(K.astype(int), counts=lt.counts, replacement=False),
                               rtol=1e-12, atol=0)
    assert K.max() == sum(lt.counts) - 1  # up to the whole data set, not beyond
    # the axis starts near where the earlier curve reaches 0.1 %, far above 0.3 C
    first = min(required_negatives(p, confidence=1e-3) for p in (lt, shuffled))
    lo, _ = ax.get_xlim()
    assert 0.6 * first <= lo <= first and lo > 10 * lt.C
    flat = np.asarray(_one(ax, f"coverage/{lt.label}").get_ydata()) < 1e-6
    assert flat.mean() < 0.2  # not two thirds of flat zero
    # no approximation or E[K+1] for the without-replacement law
    assert not find_artists(ax, "approx/LT shuffled") and not find_artists(ax, "expected/LT shuffled")
    # the Poisson approximation of the long tail is within 0.005: not drawn, not in the legend
    from couponbound.asymptotic import poisson_coverage

    Kl = np.asarray(_one(ax, f"coverage/{lt.label}").get_xdata()).astype(int)
    assert np.max(np.abs(poisson_coverage(Kl, lt) - coverage_prob(Kl, lt))) < 5e-3
    assert not find_artists(ax, "approx/")
    assert not any("approx" in t for t in _legend_texts(ax))


def test_plot_collision_default_passes_through_the_integers_smoothly():
    ax = plot_collision(C=[10], which="tau")
    line = _one(ax, "tau/C = 10")
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    ints = np.arange(1, 16)
    at = np.isin(x, ints)
    np.testing.assert_array_equal(x[at], ints)  # every integer below 16 is on the line, exactly
    np.testing.assert_allclose(y[at], collision_prob(ints, 10), rtol=1e-15, atol=0)
    assert np.sum((x > 1) & (x < 2)) >= 5  # points between the integers: no kink at K = 2
    assert np.all(np.diff(y) >= 0)  # monotone, as tau_K is
    # the slope in log K changes gradually around K = 2, 3, 4 (it jumped at the integers)
    lx = np.log(x[x < 5])
    slope = np.diff(y[x < 5]) / np.diff(lx)
    assert np.max(np.abs(np.diff(slope))) < 0.25 * np.max(slope)
    # given K: drawn exactly at those K, no interpolation
    ax = plot_collision([1, 2, 3], [10], which="tau")
    np.testing.assert_array_equal(_one(ax, "tau/C = 10").get_xdata(), [1, 2, 3])


def test_plot_sup_upper_bounds_long_tail_range_and_threshold_in_legend():
    from couponbound import Prior

    counts = np.round(100 * 100.0 ** (-np.arange(50) / 49)).astype(int)  # C = 50, r = 100
    prior = Prior.from_counts(counts, name="mine")
    ax = plot_sup_upper_bounds(C=prior)
    k99 = required_negatives(prior, confidence=0.99)
    x = np.asarray(_one(ax, "bound/ns21").get_xdata(), float)
    assert x.max() >= 1.5 * k99 - 1 and x.max() > 30 * 50  # not cut at 10 C
    assert ax.get_xscale() == "log"
    ns21 = np.asarray(_one(ax, "bound/ns21").get_ydata(), float)
    lo, hi = ax.get_ylim()
    assert np.nanmin(ns21) < hi  # NS21's bound settles inside the figure
    # the K+1 = C line is named in the legend, not written on the data area
    assert not [t for t in ax.texts if "K+1" in t.get_text()]
    assert any("K+1=C" in t for t in _legend_texts(ax))
    # the default loss is explained in words
    assert any("least contrastive loss" in t for t in _legend_texts(ax))
    # uniform C = 10 keeps BAO22's linear axis
    assert plot_sup_upper_bounds(K=None, C=10).get_xscale() == "linear"


def test_cli_figures_label_a_counts_file_by_its_name(tmp_path):
    from couponbound.cli import main

    f = tmp_path / "my500.txt"
    f.write_text("\n".join(str(c) for c in [50, 30, 20, 10, 5]))
    assert main(["-q", "figures", "--counts", "@" + str(f), "--out", str(tmp_path / "o"),
                 "--format", "png"]) == 0
    assert (tmp_path / "o" / "sup_upper_bounds_my500.png").is_file()


def test_write_figures_default_coverage_has_a_long_tail_without_replacement(tmp_path):
    from couponbound.paper import outputs

    drawn = {}
    real = outputs._draw_all

    def spy(jobs, target, **kw):
        for name, draw in jobs:
            if name == "coverage":
                fig, ax = plt.subplots()
                draw(ax)
                drawn["labels"] = _legend_texts(ax)
                drawn["ax"] = ax
        return []

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outputs, "_draw_all", spy)
        outputs.write_figures(tmp_path)
    assert "CIFAR-100-LT (r=100), without replacement" in drawn["labels"]
    line = _one(drawn["ax"], "coverage/CIFAR-100-LT (r=100), without replacement")
    assert real is not spy
    from couponbound.paper.datasets import DATASETS

    c = DATASETS["CIFAR-100-LT (r=100)"].counts
    K = np.asarray(line.get_xdata()).astype(int)
    np.testing.assert_allclose(line.get_ydata(), coverage_prob(K, counts=c, replacement=False),
                               rtol=1e-12, atol=0)


def test_smallest_k_without_replacement_agrees_with_required_negatives():
    """The figures' bisection for a shuffled loader equals the package's exact search."""
    from couponbound import Prior
    from couponbound.paper.plots import _smallest_k

    rng = np.random.default_rng(22)
    for _ in range(25):
        counts = rng.integers(1, 30, size=int(rng.integers(2, 8))).tolist()
        prior = Prior.from_counts(counts, replacement=False)
        for conf in (1e-3, 0.3, 0.9, 0.99, 0.9999):
            assert _smallest_k(prior, conf) == required_negatives(
                counts=counts, replacement=False, confidence=conf), (counts, conf)


def test_plot_run_history_from_reports_and_from_logged_events():
    from collections import namedtuple

    from couponbound.paper.plots import plot_run_history

    rng = np.random.default_rng(5)
    mu = rng.normal(size=(3, 5))
    mu = 0.8 * mu / np.linalg.norm(mu, axis=1, keepdims=True)  # means of unit features: norm <= 1
    mon = BoundMonitor(num_classes=3, temperature=0.5, class_means=mu)
    windows = []
    for _ in range(4):
        for _ in range(2):
            y = rng.integers(0, 3, size=12)
            mon.update(anchor=mu[y] + 0.5 * rng.normal(size=(12, 5)),
                       positive=mu[y] + 0.5 * rng.normal(size=(12, 5)), labels=y)
        windows.append(mon.compute_window())
    ax = plot_run_history(windows, steps=[2, 4, 6, 8])
    line = _one(ax, "history/contrastive")
    np.testing.assert_array_equal(line.get_xdata(), [2, 4, 6, 8])
    np.testing.assert_array_equal(line.get_ydata(), [w.contrastive for w in windows])
    np.testing.assert_array_equal(_one(ax, "history/ns21_bound").get_ydata(),
                                  [w.ns21_bound for w in windows])
    assert find_artists(ax, "history/se") and find_artists(ax, "history/gap")
    assert any("NS21" in t for t in _legend_texts(ax))
    # the same windows as TensorBoard's scalar events (.step, .value) give the same lines
    Ev = namedtuple("Ev", "wall_time step value")
    logged = {f"bound/{k}": [Ev(0.0, s, getattr(w, k)) for s, w in zip([2, 4, 6, 8], windows, strict=True)]
              for k in ("contrastive", "ns21_bound", "arora_bound")}
    ax2 = plot_run_history(logged)
    np.testing.assert_array_equal(_one(ax2, "history/contrastive").get_ydata(), line.get_ydata())
    np.testing.assert_array_equal(_one(ax2, "history/ns21_bound").get_xdata(), [2, 4, 6, 8])
    with pytest.raises(ValueError, match="no bound/contrastive"):
        plot_run_history({"bound/ns21_bound": [(1, 0.5)]})
    with pytest.raises(TypeError, match="sequence of BoundReport"):
        plot_run_history([1.0, 2.0])
    with pytest.raises(ValueError, match="one step per report"):
        plot_run_history(windows, steps=[1, 2])
    with pytest.raises(ValueError, match="bounds must name"):
        plot_run_history(windows, bounds=["curl"])


def test_plot_expected_classes_mean_band_and_without_replacement():
    from couponbound import Prior, distinct_classes, expected_classes
    from couponbound.paper.plots import plot_expected_classes

    counts = [30, 20, 10, 5]
    shuffled = Prior.from_counts(counts, replacement=False, name="shuffled")
    K = [0, 2, 5, 10, 20, 40, 64, 100]
    ax = plot_expected_classes(K, [10, ("skewed", {"counts": counts}), shuffled], band_points=4)
    line = _one(ax, "classes/C = 10")
    np.testing.assert_array_equal(line.get_xdata(), K)
    np.testing.assert_allclose(line.get_ydata(), expected_classes(K, 10), rtol=1e-14)
    # without replacement: only batches that fit in the 65 samples, dashed, with their own law
    sh = _one(ax, "classes/shuffled")
    np.testing.assert_array_equal(sh.get_xdata(), [0, 2, 5, 10, 20, 40, 64])
    np.testing.assert_allclose(sh.get_ydata(),
                               expected_classes([0, 2, 5, 10, 20, 40, 64], counts=counts,
                                                replacement=False), rtol=1e-14)
    assert sh.get_linestyle() != "-" and sh.get_ydata()[-1] == pytest.approx(4.0)
    # the band: the exact 5 % and 95 % quantiles at the computed K
    band = _one(ax, "band/skewed")
    verts = band.get_paths()[0].vertices
    xs = np.unique(verts[:, 0])
    assert list(xs) == [0, 2, 10, 100]  # 4 band points spread geometrically over the 8 K
    for k in xs:
        D = distinct_classes(int(k), counts=counts)
        ys = verts[verts[:, 0] == k, 1]
        assert {float(ys.min()), float(ys.max())} == {float(D.ppf(0.05)), float(D.ppf(0.95))}
    assert _one(ax, "C/skewed").get_ydata()[0] == 4
    assert any("without replacement" in t for t in _legend_texts(ax))
    ax = plot_expected_classes(K, [10], band=None)
    assert not find_artists(ax, "band/")
    with pytest.raises(ValueError, match="band"):
        plot_expected_classes(K, [10], band=(0.9, 0.1))
    with pytest.raises(ValueError, match="band_points"):
        plot_expected_classes(K, [10], band_points=1)


def test_plot_coverage_narrow_log_range_labels_plain_numbers():
    ax = plot_coverage(C=[1000], gumbel=False)
    lo, hi = ax.get_xlim()
    assert hi / lo < 10**1.5
    ax.figure.canvas.draw()
    majors = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    minors = [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    assert majors and not minors  # no run of "2x10^2 3x10^2 ..." minor labels
    assert all(t.replace(",", "").isdigit() for t in majors), majors
