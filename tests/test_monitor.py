"""BoundMonitor against an independent implementation of the measurement protocol (docs: math-measurement).

``Reference`` keeps every batch's per-anchor values in lists (which the
monitor must not) and computes each report field straight from the formulas
of that protocol, standard errors from the per-batch residuals, and the
theoretical values from exact integer arithmetic.  It shares no code with
couponbound.training.batch or couponbound.training.monitor.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import warnings
from fractions import Fraction

import numpy as np
import pytest
import reference_monitor as refmon
from scipy.special import logsumexp

from couponbound import Prior
from couponbound.bounds import BoundTerms, ns21_lower_bound
from couponbound.training.monitor import STATE_SPEC, BoundMonitor
from couponbound.training.report import BoundReport

# --------------------------------------------------------------------------
# the independent reference
# --------------------------------------------------------------------------


def ref_anchor_values(z0, z1, y, mu, t, zbar=None):
    """Per anchor: (l_Info, l_sup, l_present, ln n_y, d, label repeats)."""
    z0 = np.asarray(z0, dtype=np.float64)
    z1 = np.asarray(z1, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    n = len(y)
    labels = [int(v) for v in y]
    present = sorted(set(labels))
    rows = []
    for i in range(n):
        a = z0[i] / np.sqrt(np.sum(z0[i] ** 2))
        views = z1 / np.sqrt(np.sum(z1**2, axis=1))[:, None]
        zb = (a + views[i]) / 2 if zbar is None else np.asarray(zbar[i], dtype=np.float64)
        sims = views @ a / t
        l_info = -(sims[i] - logsumexp(sims))
        scores = {c: float(a @ mu[c]) / t for c in range(len(mu))}
        yi = labels[i]
        l_sup = -(scores[yi] - logsumexp(list(scores.values())))
        l_present = -(scores[yi] - logsumexp([scores[c] for c in present]))
        n_y = labels.count(yi)
        d = min(0.0, float(a @ (mu[yi] - zb))) / t
        rows.append((l_info, l_sup, l_present, math.log(n_y), d, n_y > 1))
    return rows, len(present) == len(mu)


def uniform_theory(n, C):
    """(upsilon_n, tau_{n-1}, E ln(1 + Col)) for the uniform prior, exactly."""
    K = n - 1
    num = sum((-1) ** i * math.comb(C, i) * (C - i) ** n for i in range(C + 1))
    ups = float(Fraction(num, C**n))
    tau = 1.0 - (1.0 - 1.0 / C) ** K
    coll = math.fsum(
        float(Fraction(math.comb(K, m) * (C - 1) ** (K - m), C**K)) * math.log(1 + m)
        for m in range(K + 1)
    )
    return ups, tau, coll


class Reference:
    """Keeps every batch; computes the report from the measurement protocol."""

    def __init__(self, C, t):
        self.C, self.t = C, t
        self.batches = []  # (rows, covered)

    def add(self, z0, z1, y, mu, zbar=None):
        self.batches.append(ref_anchor_values(z0, z1, y, mu, self.t, zbar))

    def add_rows(self, rows, covered):
        self.batches.append((rows, covered))

    def report(self):
        N = sum(len(r) for r, _ in self.batches)
        B = len(self.batches)
        per = []  # per-batch sums
        for rows, cov in self.batches:
            n = len(rows)
            b = {
                "n": n,
                "cov_n": n if cov else 0,
                "unc_n": 0 if cov else n,
                "uniq_n": sum(1 for r in rows if not r[5]),
                "contrastive": sum(r[0] for r in rows),
                "sup_all": sum(r[1] for r in rows),
                "S_sup": sum(r[1] for r in rows) if cov else 0.0,
                "S_sub": 0.0 if cov else sum(r[2] for r in rows),
                "arora": sum(r[2] for r in rows if not r[5]),
                "collision": sum(r[3] for r in rows),
                "d": sum(r[4] for r in rows),
                "repeat": sum(1 for r in rows if r[5]),
            }
            b["ns21"] = 0.5 * (b["S_sup"] + b["S_sub"] + b["collision"]) + b["d"]
            b["arorab"] = b["arora"] + b["collision"] + b["d"]
            b["margin"] = b["contrastive"] - b["ns21"]
            b["upsilon"] = float(b["cov_n"])
            per.append(b)

        def tot(k):
            return sum(b[k] for b in per)

        ups = tot("cov_n") / N
        tau = tot("repeat") / N
        L = tot("contrastive") / N
        coll = tot("collision") / N
        d = tot("d") / N
        S_sup, S_sub, S_arora = tot("S_sup") / N, tot("S_sub") / N, tot("arora") / N
        sup = S_sup / ups if ups > 0 else 0.0
        sub = S_sub / (1 - ups) if ups < 1 else 0.0
        arora_sub = S_arora / (1 - tau) if tau < 1 else 0.0
        ns21 = 0.5 * (S_sup + S_sub + coll) + d
        arora_bound = S_arora + coll + d

        def se(num, den):
            M = tot(den)
            if B < 2 or M == 0:
                return math.nan
            R = tot(num) / M
            resid = [b[num] - R * b[den] for b in per]
            return math.sqrt(B / (B - 1) * sum(e * e for e in resid)) / M

        sizes = [b["n"] for b in per]
        theory = [uniform_theory(n, self.C) for n in sizes]
        return {
            "contrastive": L, "upsilon": ups, "sup": sup, "sub": sub, "collision": coll,
            "d": d, "tau": tau, "arora_sub": arora_sub, "C": self.C,
            "K": sizes[0] - 1 if len(set(sizes)) == 1 else None,
            "ns21_bound": ns21, "arora_bound": arora_bound, "margin": L - ns21,
            "holds": ns21 <= L, "arora_holds": arora_bound <= L,
            "ns21_sup_upper": (2 * (L - d) - (1 - ups) * sub - coll) / ups if ups > 0
            else math.inf,
            "arora_sup_upper": (L - coll - d) / ((1 - tau) * ups) if (1 - tau) * ups > 0
            else math.inf,
            "sup_all": tot("sup_all") / N,
            "theory_upsilon": sum(n * th[0] for n, th in zip(sizes, theory, strict=True)) / N,
            "theory_tau": sum(n * th[1] for n, th in zip(sizes, theory, strict=True)) / N,
            "theory_collision": sum(n * th[2] for n, th in zip(sizes, theory, strict=True)) / N,
            "temperature": self.t, "n_anchors": N, "n_batches": B,
            "contrastive_se": se("contrastive", "n"), "upsilon_se": se("upsilon", "n"),
            "sup_se": se("S_sup", "cov_n"), "sub_se": se("S_sub", "unc_n"),
            "collision_se": se("collision", "n"), "d_se": se("d", "n"),
            "tau_se": se("repeat", "n"), "arora_sub_se": se("arora", "uniq_n"),
            "sup_all_se": se("sup_all", "n"), "ns21_bound_se": se("ns21", "n"),
            "arora_bound_se": se("arorab", "n"), "margin_se": se("margin", "n"),
        }


def assert_report(report: BoundReport, ref: dict, tol=1e-6):
    got = {k: getattr(report, k) for k in ref}
    for k, want in ref.items():
        have = got[k]
        if want is None or isinstance(want, bool | int):
            assert have == want, (k, have, want)
        elif math.isnan(want):
            assert math.isnan(have), (k, have)
        elif math.isinf(want):
            assert have == want, (k, have, want)
        else:
            assert have == pytest.approx(want, rel=tol, abs=tol), (k, have, want)


# --------------------------------------------------------------------------
# synthetic streams
# --------------------------------------------------------------------------

def make_stream(seed, C, d, sizes, spread=0.8):
    """Batches with features near their class mean; some cover all classes, some not."""
    rng = np.random.default_rng(seed)
    mu_true = rng.normal(size=(C, d))
    out = []
    for j, n in enumerate(sizes):
        if j % 3 == 1 and n >= C:
            y = rng.permutation(np.concatenate([np.arange(C), rng.integers(0, C, n - C)]))
        elif j % 3 == 2 and C > 1:
            y = rng.integers(0, C - 1, n)  # misses the last class
        else:
            y = rng.integers(0, C, n)
        z0 = mu_true[y] + spread * rng.normal(size=(n, d))
        z1 = mu_true[y] + spread * rng.normal(size=(n, d))
        out.append((z0, z1, y))
    mu = refmon.shrink(0.4 * mu_true)
    return out, mu


STREAMS = {
    "small-varying": dict(seed=1, C=4, d=6, sizes=[2, 3, 4, 6, 8, 16, 5, 4, 12, 7, 9, 4]),
    "cifar10-like": dict(seed=2, C=10, d=16, sizes=[32] * 12),
    "wide-K": dict(seed=3, C=100, d=16, sizes=[1024, 128, 2, 1024, 300]),
    "two-classes": dict(seed=4, C=2, d=3, sizes=[2] * 10),
}


def run(stream, t=0.5, lib="numpy", with_zbar=False):
    batches, mu = make_stream(**stream)
    # the streams force covered and uncovered batches (not random draws): no warning
    mon = BoundMonitor(stream["C"], t, class_means=mu, warn_nonrandom=False)
    ref = Reference(stream["C"], t)
    rng = np.random.default_rng(99)
    for z0, z1, y in batches:
        zbar = refmon.shrink(0.3 * rng.normal(size=z0.shape)) if with_zbar else None
        ref.add(z0, z1, y, mu, zbar)
        if lib == "torch":
            import torch

            args = [torch.tensor(z0), torch.tensor(z1), torch.tensor(y)]
            zb = None if zbar is None else torch.tensor(zbar)
        else:
            args, zb = [z0, z1, y], zbar
        mon.update(*args, mean_features=zb)
    return mon, ref


@pytest.mark.parametrize("name", list(STREAMS))
def test_report_matches_reference(name):
    mon, ref = run(STREAMS[name])
    want = ref.report()
    report = mon.compute()
    assert_report(report, want)
    if name == "small-varying":
        assert 0 < report.upsilon < 1 and 0 < report.tau < 1  # both kinds of batch
    if name == "wide-K":
        assert report.K is None and report.n_anchors == 2478


def test_report_matches_reference_with_mean_features():
    mon, ref = run(STREAMS["small-varying"], t=0.2, with_zbar=True)
    assert_report(mon.compute(), ref.report())


def test_report_matches_reference_torch():
    pytest.importorskip("torch")
    for name in ("small-varying", "wide-K"):
        mon, ref = run(STREAMS[name], lib="torch")
        assert_report(mon.compute(), ref.report())


def test_report_fields_and_terms():
    mon, _ = run(STREAMS["cifar10-like"])
    r = mon.compute()
    assert r.K == 31 and r.C == 10 and r.n_batches == 12 and r.n_anchors == 384
    terms = r.terms
    assert isinstance(terms, BoundTerms)
    for name in ("contrastive", "upsilon", "sup", "sub", "collision", "d", "tau", "arora_sub",
                 "K", "C"):
        assert getattr(terms, name) == getattr(r, name)
    # the bounds of math-bounds, written out (not the bounds function the monitor itself calls)
    want = 0.5 * (r.upsilon * r.sup + (1 - r.upsilon) * r.sub + r.collision) + r.d
    assert r.ns21_bound == pytest.approx(want, rel=1e-12, abs=1e-12)
    assert ns21_lower_bound(terms) == pytest.approx(want, rel=1e-12, abs=1e-12)
    assert r.margin == pytest.approx(r.contrastive - want, rel=1e-12, abs=1e-12)
    assert r.holds == (want <= r.contrastive)
    # the theoretical values of math-coverage and math-collisions (C = 10, K + 1 = 32)
    assert r.theory_upsilon == pytest.approx(0.6909756324, abs=1e-9)
    assert r.theory_tau == pytest.approx(0.962, abs=1e-3)
    assert r.theory_collision == pytest.approx(1.317, abs=1e-3)
    flat = r.to_dict(prefix="bound/")
    assert all(k.startswith("bound/") for k in flat)
    assert all(isinstance(v, float) for v in flat.values())
    assert flat["bound/holds"] == float(r.holds)
    assert flat["bound/K"] == 31.0 and flat["bound/ns21_bound"] == r.ns21_bound
    text = str(r)
    for label in ("L_Info", "upsilon", "E ln(1+Col)", "NS21 bound on L_Info", "theory",
                  "holds"):
        assert label in text
    assert repr(r).startswith("BoundReport(contrastive=")


def nonuniform_theory(n, probs):
    """(upsilon_n, tau_{n-1}, E ln(1 + Col)) for rational class probabilities, exactly
    (math-coverage by inclusion-exclusion over subsets; math-collisions by the binomial law)."""
    from itertools import combinations

    K = n - 1
    ups = sum((-1) ** r * (1 - sum(S, Fraction(0))) ** n
              for r in range(len(probs) + 1) for S in combinations(probs, r))
    tau = 1 - sum(p * (1 - p) ** K for p in probs)
    coll = math.fsum(float(p * math.comb(K, m) * p**m * (1 - p) ** (K - m)) * math.log(1 + m)
                     for p in probs for m in range(K + 1))
    return float(ups), float(tau), coll


def test_nonuniform_prior_theory():
    probs = [0.5, 0.3, 0.2]
    mon = BoundMonitor(3, 0.5, probs=probs)
    mon.update_losses(contrastive=[1.0] * 8, sup=[0.5] * 8, d=0.0, labels=[0, 1, 2, 0, 1, 0, 0, 2],
                      in_batch=True)
    r = mon.compute()
    ups, tau, coll = nonuniform_theory(8, [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)])
    assert r.theory_upsilon == pytest.approx(ups, rel=1e-12)
    assert r.theory_tau == pytest.approx(tau, rel=1e-12)
    assert r.theory_collision == pytest.approx(coll, rel=1e-12)
    uniform = BoundMonitor(3, 0.5)
    uniform.update_losses(contrastive=1.0, sup=0.5, d=0.0, batch_counts=[4, 2, 2], in_batch=True)
    assert uniform.compute().theory_upsilon != pytest.approx(r.theory_upsilon)


def test_vacuous_bounds_are_inf_without_warnings():
    mon = BoundMonitor(5, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            mon.update_losses(contrastive=[2.0, 2.0], sup=[1.0, 1.0], sub=[0.5, 0.5],
                              d=[-0.1, -0.1], labels=[0, 0], in_batch=True)
        r = mon.compute()
    assert r.upsilon == 0.0 and r.sup == 0.0 and r.tau == 1.0 and r.arora_sub == 0.0
    assert r.ns21_sup_upper == math.inf and r.arora_sup_upper == math.inf
    assert r.theory_upsilon == 0.0
    assert r.ns21_bound == pytest.approx(0.5 * (0.5 + math.log(2)) - 0.1)
    assert math.isnan(r.sup_se)  # no covered batch: the ratio's denominator is empty


# --------------------------------------------------------------------------
# update_losses gives the same report
# --------------------------------------------------------------------------

def test_update_losses_same_report():
    stream = STREAMS["small-varying"]
    batches, mu = make_stream(**stream)
    a = BoundMonitor(stream["C"], 0.5, class_means=mu)
    b = BoundMonitor(stream["C"], 0.5)
    c = BoundMonitor(stream["C"], 0.5)
    for z0, z1, y in batches:
        a.update(z0, z1, y)
        rows, covered = ref_anchor_values(z0, z1, y, mu, 0.5)
        con, sup, sub, _, d, _ = (np.array(col) for col in zip(*rows, strict=True))
        b.update_losses(contrastive=con, sup=sup, sub=sub, d=d, labels=y, in_batch=True)
        c.update_losses(contrastive=con.mean(), sup=sup.mean(), sub=sub.mean(), d=d.mean(),
                        batch_counts=np.bincount(y, minlength=stream["C"]), in_batch=True)
    ra, rb, rc = a.compute(), b.compute(), c.compute()
    for f in ra.to_dict():
        va, vb = getattr(ra, f), getattr(rb, f)
        if va is None or isinstance(va, bool | int):
            assert va == vb, f
        elif math.isnan(va):
            assert math.isnan(vb), f
        else:
            assert vb == pytest.approx(va, rel=1e-9, abs=1e-12), f
    # without per-anchor labels the ARORA19 terms are unknown, the rest is the same
    assert math.isnan(rc.arora_sub) and math.isnan(rc.arora_bound) and not rc.arora_holds
    for f in ("contrastive", "upsilon", "sup", "sub", "collision", "d", "tau", "ns21_bound",
              "contrastive_se", "ns21_bound_se", "theory_upsilon"):
        assert getattr(rc, f) == pytest.approx(getattr(ra, f), rel=1e-9, abs=1e-12), f


# --------------------------------------------------------------------------
# merge, sync, save / load
# --------------------------------------------------------------------------

def _same(r1: BoundReport, r2: BoundReport, tol=0.0):
    d1, d2 = r1.to_dict(), r2.to_dict()
    assert d1.keys() == d2.keys()
    for k in d1:
        if math.isnan(d1[k]):
            assert math.isnan(d2[k]), k
        elif tol == 0.0:
            assert d1[k] == d2[k], (k, d1[k], d2[k])
        else:
            assert d2[k] == pytest.approx(d1[k], rel=tol, abs=tol), k


def test_merge_equals_single_run():
    stream = STREAMS["small-varying"]
    batches, mu = make_stream(**stream)
    whole = BoundMonitor(4, 0.5, class_means=mu)
    parts = [BoundMonitor(4, 0.5, class_means=mu) for _ in range(3)]
    for j, (z0, z1, y) in enumerate(batches):
        whole.update(z0, z1, y)
        parts[j % 3].update(z0, z1, y)
    parts[0].merge(parts[1])
    parts[0].merge(parts[2])
    _same(whole.compute(), parts[0].compute(), tol=1e-12)


def test_merge_rejects_other_configuration():
    a = BoundMonitor(4, 0.5, class_means=np.eye(4))
    a.update_losses(contrastive=1.0, sup=1.0, d=0.0, batch_counts=[1, 1, 1, 1], in_batch=True)
    before = a.state_dict()
    # every other monitor holds a batch: a merge that went ahead would change a's sums
    others = (BoundMonitor(5, 0.5), BoundMonitor(4, 0.25),
              BoundMonitor(4, 0.5, probs=[0.1, 0.2, 0.3, 0.4]),
              BoundMonitor(4, 0.5, class_means=0.5 * np.eye(4)))
    for other in others:
        counts = [2] * other.num_classes
        other.update_losses(contrastive=3.0, sup=2.0, d=-0.5, batch_counts=counts, in_batch=True)
    for other in others:
        with pytest.raises(ValueError, match="configuration|class_means"):
            a.merge(other)
        assert a.state_dict() == before
    with pytest.raises(TypeError):
        a.merge("not a monitor")
    assert a.state_dict() == before


class FakeWorld:
    """An all-reduce over threads, as torch.distributed would do over processes."""

    def __init__(self, size):
        self.size = size
        self.buf = [None] * size
        self.barrier = threading.Barrier(size)

    def all_reduce(self, rank):
        def reduce(vec):
            self.buf[rank] = np.array(vec, dtype=np.float64)
            self.barrier.wait()
            total = np.sum(self.buf, axis=0)
            self.barrier.wait()
            return total

        return reduce


def _run_ranks(monitors, action):
    world = FakeWorld(len(monitors))
    errors = [None] * len(monitors)
    results = [None] * len(monitors)

    def work(rank):
        try:
            results[rank] = action(monitors[rank], world.all_reduce(rank))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors[rank] = exc

    threads = [threading.Thread(target=work, args=(r,)) for r in range(len(monitors))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results, errors


def test_sync_equals_single_run():
    stream = STREAMS["wide-K"]
    batches, mu = make_stream(**stream)
    whole = BoundMonitor(100, 0.5, class_means=mu, warn_nonrandom=False)
    ranks = [BoundMonitor(100, 0.5, class_means=mu, warn_nonrandom=False) for _ in range(2)]
    for j, (z0, z1, y) in enumerate(batches):
        whole.update(z0, z1, y)
        ranks[j % 2].update(z0, z1, y)
    local = [r.state_dict() for r in ranks]
    # compute(all_reduce=...) reports globally and keeps the local state
    reports, errors = _run_ranks(ranks, lambda m, ar: m.compute(all_reduce=ar))
    assert errors == [None, None]
    assert [r.state_dict() for r in ranks] == local
    for rep in reports:
        _same(whole.compute(), rep, tol=1e-12)
    # sync() replaces the local state by the totals
    _, errors = _run_ranks(ranks, lambda m, ar: m.sync(ar))
    assert errors == [None, None]
    for m in ranks:
        _same(whole.compute(), m.compute(), tol=1e-12)


@pytest.mark.parametrize("other", [
    dict(num_classes=4, temperature=0.25),
    dict(num_classes=4, temperature=0.5, class_means=np.eye(4)),
    dict(num_classes=4, temperature=0.5, probs=[0.4, 0.2, 0.2, 0.2]),
])
def test_sync_detects_mismatched_ranks(other):
    a = BoundMonitor(4, 0.5)
    b = BoundMonitor(**other)
    for m in (a, b):
        m.update_losses(contrastive=1.0, sup=1.0, d=0.0, batch_counts=[1, 1, 1, 1], in_batch=True)
    before = [a.state_dict(), b.state_dict()]
    _, errors = _run_ranks([a, b], lambda m, ar: m.sync(ar))
    assert all(isinstance(e, ValueError) and "differ" in str(e) for e in errors)
    assert [a.state_dict(), b.state_dict()] == before


def test_sync_rejects_bad_all_reduce():
    mon = BoundMonitor(2, 0.5)
    mon.update_losses(contrastive=1.0, sup=1.0, d=0.0, labels=[0, 1], in_batch=True)
    before = mon.state_dict()
    for bad in (lambda v: v[:-1], lambda v: v * np.nan, lambda v: v * 1.5, lambda v: v * 0.0,
                lambda v: "nonsense"):
        with pytest.raises(ValueError):
            mon.sync(bad)
    names = [name for name, _ in STATE_SPEC]

    def shift(name, delta):
        def reduce(v):
            v = v.copy()
            v[names.index(name)] += delta
            return v
        return reduce

    for name, delta in (("n_batches", 0.5), ("n_anchors_sq", -1.0)):
        with pytest.raises(ValueError, match=f"count '{name}'"):
            mon.sync(shift(name, delta))
    assert mon.state_dict() == before


def test_state_dict_json_and_crash_resume():
    stream = STREAMS["small-varying"]
    batches, mu = make_stream(**stream)
    straight = BoundMonitor(4, 0.5, class_means=mu)
    first = BoundMonitor(4, 0.5, class_means=mu)
    for z0, z1, y in batches:
        straight.update(z0, z1, y)
    for z0, z1, y in batches[:5]:
        first.update(z0, z1, y)
    saved = json.dumps(first.state_dict(), allow_nan=False)  # strict JSON
    del first  # "crash"
    resumed = BoundMonitor(4, 0.5)  # class means come back from the state
    resumed.load_state_dict(json.loads(saved))
    np.testing.assert_array_equal(resumed.class_means, mu)
    for z0, z1, y in batches[5:]:
        resumed.update(z0, z1, y)
    _same(straight.compute(), resumed.compute())  # bit for bit


def test_load_state_from_other_configuration():
    src = BoundMonitor(4, 0.5, class_means=np.eye(4))
    src.update_losses(contrastive=1.0, sup=1.0, d=0.0, batch_counts=[1, 1, 1, 1], in_batch=True)
    state = src.state_dict()
    busy = BoundMonitor(4, 0.5, class_means=0.5 * np.ones((4, 4)))
    busy.update_losses(contrastive=1.0, sup=1.0, d=0.0, batch_counts=[1, 1, 1, 1], in_batch=True)
    for target, match in ((BoundMonitor(3, 0.5), "num_classes"),
                          (BoundMonitor(4, 0.7), "temperature"),
                          (BoundMonitor(4, 0.5, counts=[1, 2, 3, 4]), "probs"),
                          (BoundMonitor(4, 0.5, loss="nt_xent"), "loss"),
                          (busy, "class_means")):
        before = target.state_dict()
        with pytest.raises(ValueError, match=match):
            target.load_state_dict(state)
        assert target.state_dict() == before
    # A fresh monitor adopts the state's class means (a resumed run may have refreshed them).
    fresh = BoundMonitor(4, 0.5, class_means=0.5 * np.ones((4, 4)))
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.class_means, np.eye(4))


@pytest.mark.parametrize("corrupt,match", [
    (lambda s: s.update(format="other"), "not a couponbound.BoundMonitor"),
    (lambda s: s.update(version=99), "version"),
    (lambda s: s["state"].pop("sum_d"), "missing"),
    (lambda s: s["state"].update(extra=1.0), "unknown"),
    (lambda s: s["state"].update(n_batches=-1), "n_batches"),
    (lambda s: s["state"].update(n_batches=1.5), "n_batches"),
    (lambda s: s["state"].update(sum_d=float("nan")), "sum_d"),
    (lambda s: s["state"].update(n_covered=5), "n_covered"),
    (lambda s: s.update(class_means=[[1.0]]), "class_means"),
])
def test_load_state_rejects_corrupt_state(corrupt, match):
    src = BoundMonitor(2, 0.5)
    src.update_losses(contrastive=1.0, sup=1.0, d=0.0, labels=[0, 1], in_batch=True)
    state = json.loads(json.dumps(src.state_dict()))
    corrupt(state)
    target = BoundMonitor(2, 0.5)
    target.update_losses(contrastive=2.0, sup=1.0, d=0.0, labels=[1, 0], in_batch=True)
    before = target.state_dict()
    with pytest.raises(ValueError, match=match):
        target.load_state_dict(state)
    assert target.state_dict() == before


# --------------------------------------------------------------------------
# bad input leaves the state exactly as it was
# --------------------------------------------------------------------------

def _bad_calls(z0, z1, y, mu):
    nan = z0.copy()
    nan[1, 2] = np.nan
    inf = z1.copy()
    inf[0, 0] = np.inf
    zero = z0.copy()
    zero[3] = 0.0
    yb = y.copy()
    yb[2] = 4
    yn = y.copy()
    yn[0] = -1
    unit = mu / np.linalg.norm(mu, axis=1, keepdims=True)
    big_zbar = z0 / np.linalg.norm(z0, axis=1, keepdims=True)
    return [
        ("positive must have the shape", lambda m: m.update(z0, z1[:-1], y)),
        ("labels must have shape", lambda m: m.update(z0, z1, y[:-1])),
        ("mean_features must have the shape", lambda m: m.update(z0, z1, y, z0[:-1])),
        ("feature dimension", lambda m: m.update(z0[:, :-1], z1[:, :-1], y)),
        (r"labels\[2\] = 4", lambda m: m.update(z0, z1, yb)),
        (r"labels\[0\] = -1", lambda m: m.update(z0, z1, yn)),
        ("anchor must be finite", lambda m: m.update(nan, z1, y)),
        ("positive must be finite", lambda m: m.update(z0, inf, y)),
        ("mean_features must be finite", lambda m: m.update(z0, z1, y, nan)),
        ("anchor row 3 has norm 0", lambda m: m.update(zero, z1, y)),
        ("empty batch", lambda m: m.update(z0[:0], z1[:0], y[:0])),
        ("class_means must have num_classes", lambda m: m.update(z0, z1, y, class_means=mu[:-1])),
        ("contrastive must be finite",
         lambda m: m.update_losses(contrastive=[np.nan] * 6, sup=1.0, d=0.0, labels=y, in_batch=True)),
        ("sup is a loss",
         lambda m: m.update_losses(contrastive=1.0, sup=-1.0, d=0.0, labels=y, in_batch=True)),
        ("d is NS21", lambda m: m.update_losses(contrastive=1.0, sup=1.0, d=0.5, labels=y, in_batch=True)),
        ("contrastive must be a scalar",
         lambda m: m.update_losses(contrastive=[1.0] * 5, sup=1.0, d=0.0, labels=y, in_batch=True)),
        (r"labels\[2\] = 4", lambda m: m.update_losses(contrastive=1.0, sup=1.0, d=0.0,
                                                       labels=yb, in_batch=True)),
        ("is required", lambda m: m.update_losses(contrastive=1.0, sup=1.0, d=0.0,
                                                  labels=[0, 0, 1], in_batch=True)),
        ("empty batch", lambda m: m.update_losses(contrastive=1.0, sup=1.0, d=0.0,
                                                  batch_counts=[0, 0, 0, 0], in_batch=True)),
        ("fit_class_means", lambda m: m.fit_class_means(z0, y)),
        ("cannot change class_means", lambda m: setattr(m, "class_means", 0.5 * mu)),
        # issue 20: one rule for class means and mean features of norm > 1, every route
        ("class_means row 0 has norm 20 > 1", lambda m: setattr(m, "class_means", 20 * unit)),
        ("class_means row 0 has norm 20 > 1", lambda m: m.update(z0, z1, y, class_means=20 * unit)),
        ("mean_features row 0 has norm 5 > 1", lambda m: m.update(z0, z1, y, 5 * big_zbar)),
        ("which negatives did the InfoNCE losses use",
         lambda m: m.update_losses(contrastive=1.0, sup=1.0, d=0.0, labels=y)),
    ]


def test_bad_input_leaves_state_unchanged():
    rng = np.random.default_rng(5)
    mu = refmon.shrink(rng.normal(size=(4, 5)))
    y = np.array([0, 1, 2, 3, 1, 1])
    z0, z1 = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    mon = BoundMonitor(4, 0.5, class_means=mu)
    mon.update(z0, z1, y)
    mon.update_losses(contrastive=1.0, sup=1.0, sub=0.5, d=-0.1, labels=[0, 0, 1], in_batch=True)
    before = mon.state_dict()
    report = mon.compute()
    for match, call in _bad_calls(z0, z1, y, mu):
        with pytest.raises(ValueError, match=match):
            call(mon)
        assert mon.state_dict() == before, match
    _same(report, mon.compute())
    with pytest.raises(TypeError):
        mon.update(z0, z1, y.astype(float))
    assert mon.state_dict() == before


def test_bad_input_torch_leaves_state_unchanged():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    mu = refmon.shrink(rng.normal(size=(4, 5)))
    y = np.array([0, 1, 2, 3, 1, 1])
    z0, z1 = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    mon = BoundMonitor(4, 0.5, class_means=torch.tensor(mu))
    mon.update(torch.tensor(z0), torch.tensor(z1), torch.tensor(y))
    before = mon.state_dict()
    for match, call in _bad_calls(z0, z1, y, mu)[:11]:
        with pytest.raises(ValueError, match=match):
            call(_TorchProxy(mon, torch))
        assert mon.state_dict() == before, match
    with pytest.raises(TypeError, match="same array library"):
        mon.update(torch.tensor(z0), z1, y)
    assert mon.state_dict() == before


class _TorchProxy:
    """Forwards update() with every numpy argument turned into a torch tensor."""

    def __init__(self, mon, torch):
        self.mon, self.torch = mon, torch

    def update(self, *args, **kwargs):
        conv = [self.torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        return self.mon.update(*conv, **kwargs)


def test_constructor_errors():
    with pytest.raises(ValueError, match="temperature must be a finite real number > 0"):
        BoundMonitor(10, 0.0)
    with pytest.raises(ValueError, match="temperature"):
        BoundMonitor(10, -1)
    with pytest.raises(ValueError, match="num_classes"):
        BoundMonitor(0, 0.5)
    with pytest.raises(ValueError, match="class_means must have num_classes = 3 rows"):
        BoundMonitor(3, 0.5, class_means=np.eye(4))
    with pytest.raises(ValueError, match="probs"):
        BoundMonitor(3, 0.5, probs=[0.5, 0.5])


def test_class_means_lifecycle():
    rng = np.random.default_rng(7)
    mon = BoundMonitor(3, 0.5)
    z = rng.normal(size=(9, 4))
    z /= 2 * np.linalg.norm(z, axis=1, keepdims=True)  # mean features have norm <= 1
    y = np.arange(9) % 3
    with pytest.raises(ValueError, match="class_means are needed"):
        mon.update(z, z, y)
    mu = mon.fit_class_means([(z[:4], y[:4]), (z[4:], y[4:])])
    np.testing.assert_allclose(mu, [z[y == c].mean(axis=0) for c in range(3)], rtol=1e-12)
    np.testing.assert_array_equal(mon.class_means, mu)
    mon.update(z, z, y)
    mon.class_means = mu  # the same means: allowed
    mon.reset()
    assert mon.n_batches == 0
    mon.class_means = 2 * mu  # after reset: allowed
    with pytest.raises(ValueError, match="no batch yet"):
        mon.compute()
    # update(class_means=) sets the monitor's means, under the same guard
    a = BoundMonitor(3, 0.5)
    b = BoundMonitor(3, 0.5, class_means=mu)
    a.update(z, z, y, class_means=mu)
    b.update(z, z, y)
    _same(a.compute(), b.compute())


def test_memory_does_not_grow():
    mon = BoundMonitor(3, 0.5)
    sizes = set()
    rng = np.random.default_rng(8)
    for j in range(600):
        n = 1 + j % 300
        mon.update_losses(contrastive=1.0, sup=1.0, sub=1.0, d=0.0,
                          labels=rng.integers(0, 3, n), in_batch=True)
        if j in (10, 599):
            state = mon.state_dict()
            sizes.add((len(state["state"]), len(json.dumps(state)) < 6000))
    assert sizes == {(len(STATE_SPEC), True)}
    assert len(mon._theory_cache) <= 256
    assert all(isinstance(v, int | float) for v in mon.state_dict()["state"].values())


def test_replacement_false_theory_and_round_trip() -> None:
    """Theory for batches drawn without replacement from a finite data set."""
    from fractions import Fraction
    from itertools import combinations
    from math import comb

    counts = [4, 6, 5]
    N = sum(counts)
    rng = np.random.default_rng(3)
    mu = refmon.shrink(rng.normal(size=(3, 4)))
    mon = BoundMonitor(3, 0.5, mu, counts=counts, replacement=False)
    y = np.array([0, 1, 2, 0, 1, 1])
    z = mu[y] + 0.1 * rng.normal(size=(6, 4))
    mon.update(anchor=z, positive=z, labels=y)
    rep = mon.compute()
    # exact hypergeometric coverage of a batch of 6 from the 15 samples
    miss = sum((-1) ** (r + 1) * comb(N - sum(S), 6) for r in range(1, 4) for S in combinations(counts, r))
    exact = 1 - Fraction(miss, comb(N, 6))
    assert rep.theory_upsilon == pytest.approx(float(exact), rel=1e-12)
    iid = BoundMonitor(3, 0.5, mu, counts=counts)
    iid.update(anchor=z, positive=z, labels=y)
    assert abs(iid.compute().theory_upsilon - rep.theory_upsilon) > 1e-3
    # the saved state restores the same configuration, also given as a Prior
    again = BoundMonitor(Prior.from_counts(counts, replacement=False), 0.5)
    again.load_state_dict(json.loads(json.dumps(mon.state_dict())))
    assert again.compute() == rep
    with pytest.raises(ValueError, match="counts"):
        BoundMonitor(3, 0.5, replacement=False)
    iid_before = iid.state_dict()
    with pytest.raises(ValueError, match="config"):
        iid.load_state_dict(mon.state_dict())
    assert iid.state_dict() == iid_before


# ---------------------------------------------------------------------------
# BoundReport.from_terms, against values computed by hand from the definitions
# ---------------------------------------------------------------------------

HAND = BoundTerms(contrastive=2.0, sup=1.5, sub=1.0, collision=0.6, d=-0.25, upsilon=0.8,
                  tau=0.75, arora_sub=1.2, K=3, C=2)


def test_from_terms_by_hand() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = BoundReport.from_terms(HAND)
    # NS21: (0.8 * 1.5 + 0.2 * 1.0 + 0.6) / 2 - 0.25 = 0.75
    assert r.ns21_bound == pytest.approx(0.75, rel=1e-15)
    # solved for L_sup: (2 (2.0 + 0.25) - 0.2 * 1.0 - 0.6) / 0.8 = 3.7 / 0.8
    assert r.ns21_sup_upper == pytest.approx(4.625, rel=1e-15)
    # ARORA19: (1 - 0.75) * 1.2 + 0.6 - 0.25 = 0.65; solved: (2.0 - 0.6 + 0.25) / (0.25 * 0.8)
    assert r.arora_bound == pytest.approx(0.65, rel=1e-15)
    assert r.arora_sup_upper == pytest.approx(8.25, rel=1e-15)
    assert r.holds is True and r.arora_holds is True
    assert r.margin == pytest.approx(1.25, rel=1e-15)
    assert r.sup_all == 1.5 and (r.K, r.C) == (3, 2)
    # theory, C = 2 uniform, K = 3: upsilon_4 = 1 - 2 / 2^4, tau_3 = 1 - 1 / 2^3,
    # Col ~ Binomial(3, 1/2): E ln(1 + Col) = (3/8) ln 2 + (3/8) ln 3 + (1/8) ln 4
    assert r.theory_upsilon == pytest.approx(7 / 8, rel=1e-14)
    assert r.theory_tau == pytest.approx(7 / 8, rel=1e-14)
    assert r.theory_collision == pytest.approx(5 / 8 * math.log(2) + 3 / 8 * math.log(3), rel=1e-14)
    assert r.terms == HAND
    assert math.isnan(r.temperature) and (r.n_anchors, r.n_batches) == (0, 0)
    assert all(math.isnan(v) for k, v in r.to_dict().items() if k.endswith("_se"))


def test_from_terms_theory_of_a_prior_by_hand() -> None:
    terms = dataclasses.replace(HAND, K=1, C=None)
    r = BoundReport.from_terms(terms, prior=Prior.from_probs([0.75, 0.25]))
    # K + 1 = 2 draws: upsilon_2 = 1 - 0.75^2 - 0.25^2; tau_1 = 0.75^2 + 0.25^2; Col in {0, 1}
    assert r.C == 2
    assert r.theory_upsilon == pytest.approx(0.375, rel=1e-14)
    assert r.theory_tau == pytest.approx(0.625, rel=1e-14)
    assert r.theory_collision == pytest.approx(0.625 * math.log(2), rel=1e-14)
    # given theory values are kept, the others computed
    r2 = BoundReport.from_terms(terms, prior=Prior.from_probs([0.75, 0.25]), theory_tau=0.5)
    assert r2.theory_tau == 0.5 and r2.theory_upsilon == r.theory_upsilon


def test_from_terms_unknowns_and_vacuous_cases() -> None:
    # no K, no C: no theory; no tau: no ARORA19 bound at all
    bare = BoundTerms(contrastive=2.0, sup=1.5, sub=1.0, collision=0.6, d=-0.25, upsilon=0.8)
    r = BoundReport.from_terms(bare)
    assert r.C is None and r.K is None
    assert math.isnan(r.theory_upsilon) and math.isnan(r.theory_tau)
    assert math.isnan(r.arora_bound) and math.isnan(r.arora_sup_upper) and r.arora_holds is False
    assert r.ns21_bound == pytest.approx(0.75, rel=1e-15)
    # tau measured, arora_sub not: the upper bound exists, the lower bound does not
    r = BoundReport.from_terms(dataclasses.replace(bare, tau=0.75))
    assert math.isnan(r.arora_bound) and r.arora_sup_upper == pytest.approx(8.25, rel=1e-15)
    # tau = 1: the sub-class term has weight 0; the upper bound is vacuous, silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = BoundReport.from_terms(dataclasses.replace(bare, tau=1.0, upsilon=0.0))
    assert r.arora_bound == pytest.approx(0.35, rel=1e-15)
    assert r.arora_sup_upper == math.inf and r.ns21_sup_upper == math.inf
    # ns21 = (0 + 1.0 + 0.6) / 2 - 0.25 = 0.55
    assert r.ns21_bound == pytest.approx(0.55, rel=1e-15)
    # a bound that fails
    r = BoundReport.from_terms(dataclasses.replace(HAND, contrastive=0.7))
    assert r.holds is False and r.arora_holds is True  # 0.75 > 0.7 >= 0.65
    assert r.margin == pytest.approx(-0.05, abs=1e-15)


def test_from_terms_standard_errors_and_bookkeeping() -> None:
    r = BoundReport.from_terms(HAND, standard_errors={"contrastive": 0.01, "arora_bound": 0.2},
                               temperature=0.5, n_anchors=64, n_batches=2, sup_all=1.4)
    assert r.contrastive_se == 0.01 and r.arora_bound_se == 0.2 and math.isnan(r.sup_se)
    assert (r.temperature, r.n_anchors, r.n_batches, r.sup_all) == (0.5, 64, 2, 1.4)


def test_from_terms_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="takes a BoundTerms, got dict"):
        BoundReport.from_terms(HAND.to_dict())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="prior must be a Prior"):
        BoundReport.from_terms(HAND, prior=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prior has C = 3 classes, but terms.C = 2"):
        BoundReport.from_terms(HAND, prior=Prior.uniform(3))
    with pytest.raises(ValueError, match=r"unknown quantities \['curl_sub'\]"):
        BoundReport.from_terms(HAND, standard_errors={"curl_sub": 0.1})
    with pytest.raises(ValueError, match="n_batches"):
        BoundReport.from_terms(HAND, n_batches=-1)


def test_from_terms_is_what_compute_reports() -> None:
    rng = np.random.default_rng(11)
    mu = refmon.shrink(rng.normal(size=(3, 6)))
    mon = BoundMonitor(3, 0.5, mu, counts=[5, 3, 2])
    for n in (8, 8, 8):
        y = rng.integers(0, 3, size=n)
        z = mu[y] + 0.3 * rng.normal(size=(n, 6))
        mon.update(anchor=z, positive=z + 0.05 * rng.normal(size=(n, 6)), labels=y)
    r = mon.compute()
    se = {k[:-3]: v for k, v in r.to_dict().items() if k.endswith("_se")}
    again = BoundReport.from_terms(r.terms, prior=mon.prior, sup_all=r.sup_all,
                                   theory_upsilon=r.theory_upsilon, theory_tau=r.theory_tau,
                                   theory_collision=r.theory_collision, temperature=0.5,
                                   n_anchors=r.n_anchors, n_batches=r.n_batches,
                                   standard_errors=se, classes=r.classes,
                                   false_negative=r.false_negative,
                                   theory_classes=r.theory_classes,
                                   theory_false_negative=r.theory_false_negative)
    np.testing.assert_equal(again.to_dict(), r.to_dict())  # nan == nan here
    # with the batch size fixed, the theory from_terms computes is the monitor's
    assert BoundReport.from_terms(r.terms, prior=mon.prior).theory_upsilon == r.theory_upsilon
    own = BoundReport.from_terms(r.terms, prior=mon.prior)
    assert own.theory_classes == pytest.approx(r.theory_classes, rel=1e-14)
    assert own.theory_false_negative == pytest.approx(r.theory_false_negative, rel=1e-14)


# ---------------------------------------------------------------------------
# the names: arora (not curl), batch_counts (not class_counts)
# ---------------------------------------------------------------------------


def test_renamed_keywords_and_fields() -> None:
    mon = BoundMonitor(2, 0.5)
    with pytest.raises(TypeError, match="class_counts"):
        mon.update_losses(contrastive=1.0, sup=1.0, d=0.0, class_counts=[1, 1], in_batch=True)  # type: ignore[call-arg]
    bt = mon.update_losses(contrastive=1.0, sup=1.0, d=0.0, batch_counts=[1, 1], in_batch=True)
    assert math.isnan(bt.sum_arora) and not hasattr(bt, "sum_curl")
    with pytest.raises(TypeError, match="curl_sub"):
        BoundTerms(2.0, 1.0, 1.0, 0.5, -0.5, upsilon=0.7, curl_sub=1.0)  # type: ignore[call-arg]
    r = mon.compute()
    names = set(r.to_dict()) | set(mon.state_dict()["state"])
    assert not [n for n in names if "curl" in n]
    assert {"arora_sub", "arora_bound", "arora_sup_upper", "arora_holds", "arora_sub_se",
            "arora_bound_se"} <= set(r.to_dict())
    assert "ARORA19 bound on L_Info" in str(r) and "CURL" not in str(r)


def test_monitor_takes_a_prior() -> None:
    prior = Prior.from_counts([4, 6, 5], replacement=False)
    a = BoundMonitor(prior, 0.5)
    b = BoundMonitor(3, 0.5, counts=[4, 6, 5], replacement=False)
    assert a.prior == b.prior == prior and a.num_classes == 3
    for m in (a, b):
        m.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1, 2, 1], in_batch=True)
    assert a.compute() == b.compute()
    assert a.state_dict() == b.state_dict()
    with pytest.raises(ValueError, match="contradicts"):
        BoundMonitor(prior, 0.5, replacement=True)
    with pytest.raises(TypeError, match="num_classes"):
        BoundMonitor("3", 0.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# issue 20: every route refuses what it cannot answer
# --------------------------------------------------------------------------

def test_class_means_and_mean_features_of_norm_above_one_refused_on_every_route():
    """Means of norm 20 moved sup_all from 1.583 to 0.120; mean features of norm 5 made
    d = -9.94 (truth -0.477) and the bound -8.17 with holds=True.  One rule everywhere."""
    from couponbound.training import batch_terms

    rng = np.random.default_rng(40)
    C, d = 3, 4
    unit = rng.normal(size=(C, d))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    y = np.array([0, 1, 2, 0, 1, 2])
    z0, z1 = unit[y] + 0.3 * rng.normal(size=(6, d)), unit[y] + 0.3 * rng.normal(size=(6, d))
    zbar = 0.5 * (z0 / np.linalg.norm(z0, axis=1, keepdims=True)
                  + z1 / np.linalg.norm(z1, axis=1, keepdims=True))
    big, long_zbar = 20 * unit, 5 * zbar / np.linalg.norm(zbar, axis=1, keepdims=True)
    means_msg, zbar_msg = "class_means row 0 has norm 20 > 1", "mean_features row 0 has norm 5 > 1"
    with pytest.raises(ValueError, match=means_msg):
        BoundMonitor(C, 0.5, class_means=big)
    mon = BoundMonitor(C, 0.5, class_means=0.5 * unit)
    state = mon.state_dict()
    with pytest.raises(ValueError, match=means_msg):
        mon.class_means = big
    with pytest.raises(ValueError, match=means_msg):
        mon.update(z0, z1, y, class_means=big)
    with pytest.raises(ValueError, match=zbar_msg):
        mon.update(z0, z1, y, long_zbar)
    with pytest.raises(ValueError, match=zbar_msg):
        mon.fit_class_means(long_zbar, y)
    bad_state = json.loads(json.dumps(state))
    bad_state["class_means"] = big.tolist()
    with pytest.raises(ValueError, match=means_msg):
        BoundMonitor(C, 0.5).load_state_dict(bad_state)
    with pytest.raises(ValueError, match=means_msg):
        batch_terms(z0, z1, y, big, temperature=0.5)
    with pytest.raises(ValueError, match=zbar_msg):
        batch_terms(z0, z1, y, unit, temperature=0.5, mean_features=long_zbar)
    assert mon.state_dict() == state and mon.n_batches == 0
    # norm exactly 1 (and float32 rounding of it) is accepted by every route
    mon.class_means = unit
    mon.update(z0, z1, y, zbar)
    mon.update(z0.astype(np.float32), z1.astype(np.float32), y, zbar.astype(np.float32))
    assert mon.n_batches == 2


def test_class_means_norm_rule_on_torch_arrays():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(41)
    unit = rng.normal(size=(2, 3))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    y = torch.tensor([0, 1, 0, 1])
    z = torch.tensor(unit[[0, 1, 0, 1]] + 0.1 * rng.normal(size=(4, 3)))
    mon = BoundMonitor(2, 0.5, class_means=torch.tensor(unit))
    with pytest.raises(ValueError, match="class_means row 1 has norm 3 > 1"):
        mon.update(z, z, y, class_means=torch.tensor(unit * [[1.0], [3.0]]))
    with pytest.raises(ValueError, match="mean_features row 2 has norm 2 > 1"):
        mon.update(z, z, y, torch.nn.functional.normalize(z, dim=1) * torch.tensor(
            [[1.0], [1.0], [2.0], [1.0]], dtype=z.dtype))
    assert mon.n_batches == 0


@pytest.mark.parametrize("call", [
    lambda: BoundMonitor(10, 10**400),
    lambda: BoundMonitor(10, 0.5, class_means_ema=10**400),
    lambda: BoundMonitor(10, -(10**400)),
])
def test_huge_numbers_give_value_errors_not_overflow(call):
    with pytest.raises(ValueError, match="temperature|class_means_ema"):
        call()


def test_load_state_dict_refuses_unknown_entries_and_huge_sums():
    mon = BoundMonitor(2, 0.5)
    mon.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1], in_batch=True)
    good = mon.state_dict()
    extra = json.loads(json.dumps(good))
    extra["comment"] = "from another tool"
    fresh = BoundMonitor(2, 0.5)
    with pytest.raises(ValueError, match=r"state has unknown entries \['comment'\]"):
        fresh.load_state_dict(extra)
    for part in ("state", "window"):
        huge = json.loads(json.dumps(good))
        huge[part]["sum_contrastive"] = 10**400
        with pytest.raises(ValueError, match=rf"state\['{part}'\]\['sum_contrastive'\] must be "
                                             "a finite number"):
            fresh.load_state_dict(huge)
        with pytest.raises(ValueError):
            BoundMonitor.from_state_dict(huge)
    hot = json.loads(json.dumps(good))
    hot["config"]["temperature"] = 10**400
    with pytest.raises(ValueError, match="temperature"):
        BoundMonitor.from_state_dict(hot)
    assert fresh.n_batches == 0
    fresh.load_state_dict(good)
    assert fresh.compute() == mon.compute()
