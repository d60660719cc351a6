"""BoundMonitor with queue negatives, NT-Xent, the losses route with negative labels,
windows, class-mean refresh, the non-random-batch test and the collision diagnostic.

Every measured value is checked against tests/reference_monitor.py: per-anchor
loops written from the definitions, sharing no code with the package.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import reference_monitor as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from couponbound.training import (
    BatchTerms,
    BoundMonitor,
    NonRandomBatchWarning,
    batch_terms_from_losses,
    collision_diagnostic,
)

TOL = 1e-6
KEYS = ("contrastive", "upsilon", "tau", "collision", "d", "sup", "sub", "arora_sub", "sup_all",
        "ns21_bound", "arora_bound", "margin", "theory_upsilon", "theory_tau",
        "theory_collision")


def assert_close(report, want, keys=KEYS, tol=TOL):
    for k in keys:
        if k in want:
            assert getattr(report, k) == pytest.approx(want[k], rel=tol, abs=tol), k
    assert report.n_anchors == want["n_anchors"] and report.n_batches == want["n_batches"]


def features(rng, y, mu, spread=0.7):
    return mu[y] + spread * rng.normal(size=(len(y), mu.shape[1]))


def to_lib(lib, *arrays):
    if lib == "numpy":
        return arrays
    if lib == "torch":
        torch = pytest.importorskip("torch")
        return tuple(torch.tensor(a) for a in arrays)
    jnp = pytest.importorskip("jax.numpy")
    return tuple(jnp.asarray(a) for a in arrays)


# --------------------------------------------------------------------------
# queue negatives (MoCo)
# --------------------------------------------------------------------------

def queue_stream(seed, C=6, d=5, n=8, M=12, batches=6):
    """Batches of n anchors against a queue of M keys; with C = 6 and M = 12 some
    queues miss a class, so coverage differs between anchors of one batch."""
    rng = np.random.default_rng(seed)
    mu_true = rng.normal(size=(C, d))
    out = []
    for _ in range(batches):
        y = rng.integers(0, C, n)
        ql = rng.integers(0, C, M)
        out.append((features(rng, y, mu_true), features(rng, y, mu_true), y,
                    features(rng, ql, mu_true), ql))
    return out, ref.shrink(0.3 * mu_true)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_queue_matches_reference(lib):
    C, M, t = 6, 12, 0.4
    batches, mu = queue_stream(1, C=C, M=M)
    mon = BoundMonitor(C, t, class_means=mu, warn_nonrandom=False)
    rows = []
    mixed = False
    for z0, z1, y, keys, ql in batches:
        r = ref.rows_queue(z0, z1, y, keys, ql, mu, t, C)
        rows.append(r)
        mixed |= 0 < sum(a["covered"] for a in r) < len(r)
        a0, a1, yy, kk, qq = to_lib(lib, z0, z1, y, keys, ql)
        bt = mon.update(a0, a1, yy, negatives=kk, negative_labels=qq)
        assert bt.K == M and bt.shared_negatives == M
        assert bt.ns21_bound == pytest.approx(ref.report([r])["ns21_bound"], abs=TOL)
    assert mixed, "the stream should have batches with partly covered anchors"
    want = ref.report(rows, [ref.theory_infonce(M, C)] * len(rows))
    report = mon.compute()
    assert report.K == M
    assert_close(report, want)


@pytest.mark.slow
def test_queue_jax():
    C, M, t = 6, 12, 0.4
    batches, mu = queue_stream(2, C=C, M=M, batches=3)
    mon = BoundMonitor(C, t, class_means=mu, warn_nonrandom=False)
    rows = []
    for z0, z1, y, keys, ql in batches:
        rows.append(ref.rows_queue(z0, z1, y, keys, ql, mu, t, C))
        mon.update(*to_lib("jax", z0, z1, y), negatives=to_lib("jax", keys)[0],
                   negative_labels=to_lib("jax", ql)[0])
    assert_close(mon.compute(), ref.report(rows), tol=2e-4)  # JAX computes in float32


def test_queue_with_mean_features_and_errors():
    C, t = 4, 0.5
    rng = np.random.default_rng(3)
    mu = ref.shrink(0.3 * rng.normal(size=(C, 3)))
    y, ql = rng.integers(0, C, 5), rng.integers(0, C, 9)
    z0, z1, keys = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.normal(size=(9, 3))
    zbar = 0.2 * rng.normal(size=(5, 3))
    mon = BoundMonitor(C, t, class_means=mu, warn_nonrandom=False)
    mon.update(z0, z1, y, zbar, negatives=keys, negative_labels=ql)
    want = ref.report([ref.rows_queue(z0, z1, y, keys, ql, mu, t, C, zbar=zbar)])
    assert_close(mon.compute(), want)
    before = mon.state_dict()
    bad = [
        (ValueError, "needs negative_labels", dict(negatives=keys)),
        (ValueError, "negative_labels= without negatives", dict(negative_labels=ql)),
        (ValueError, r"negatives must have shape \(M, 3\)", dict(negatives=keys[:, :2],
                                                                 negative_labels=ql)),
        (ValueError, r"negative_labels must have shape \(9,\)",
         dict(negatives=keys, negative_labels=ql[:4])),
        (ValueError, r"negative_labels.*\[0, 4\)", dict(negatives=keys,
                                                        negative_labels=ql + 10)),
        (ValueError, "negatives must be finite", dict(negatives=keys * np.nan,
                                                      negative_labels=ql)),
        (ValueError, "negatives row 0 has norm 0", dict(negatives=0 * keys,
                                                        negative_labels=ql)),
        (ValueError, "negatives is empty", dict(negatives=keys[:0], negative_labels=ql[:0])),
    ]
    for exc, match, kw in bad:
        with pytest.raises(exc, match=match):
            mon.update(z0, z1, y, **kw)
        assert mon.state_dict() == before, match


# --------------------------------------------------------------------------
# NT-Xent (SimCLR)
# --------------------------------------------------------------------------

def nt_stream(seed, C=3, d=4, sizes=(5, 6, 2, 7, 4)):
    rng = np.random.default_rng(seed)
    mu_true = rng.normal(size=(C, d))
    out = []
    for n in sizes:
        y = rng.integers(0, C, n)
        out.append((features(rng, y, mu_true), features(rng, y, mu_true), y))
    return out, ref.shrink(0.3 * mu_true)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_nt_xent_matches_reference(lib):
    C, t = 3, 0.3
    batches, mu = nt_stream(4, C=C)
    mon = BoundMonitor(C, t, class_means=mu, loss="nt_xent", warn_nonrandom=False)
    rows, theories = [], []
    for z0, z1, y in batches:
        rows.append(ref.rows_nt_xent(z0, z1, y, mu, t, C))
        theories.append(ref.theory_nt_xent(len(y), C))
        bt = mon.update(*to_lib(lib, z0, z1, y))
        assert bt.n == 2 * len(y) and bt.K == 2 * len(y) - 2 and bt.loss == "nt_xent"
    report = mon.compute()
    assert report.K is None  # batch sizes vary
    assert_close(report, ref.report(rows, theories))


@pytest.mark.slow
def test_nt_xent_fixed_size_jax_and_temperature_extremes():
    C = 3
    batches, mu = nt_stream(5, C=C, sizes=(6, 6, 6))
    for t, lib, tol in ((0.02, "numpy", TOL), (5.0, "numpy", TOL), (0.3, "jax", 2e-4)):
        mon = BoundMonitor(C, t, class_means=mu, loss="nt_xent", warn_nonrandom=False)
        rows = []
        for z0, z1, y in batches:
            rows.append(ref.rows_nt_xent(z0, z1, y, mu, t, C))
            mon.update(*to_lib(lib, z0, z1, y))
        report = mon.compute()
        assert report.K == 10
        assert_close(report, ref.report(rows, [ref.theory_nt_xent(6, C)] * 3), tol=tol)


def test_nt_xent_theory_values():
    """E ln(1 + 2 Bin(N-1, 1/C)), tau_{N-1}, upsilon_N: NS21's CIFAR-10 batch of 32 samples."""
    mon = BoundMonitor(10, 0.5, loss="nt_xent", warn_nonrandom=False)
    mon.update_losses(contrastive=4.0, sup=2.0, sub=2.0, d=-0.5,
                      batch_counts=[4, 4, 3, 3, 3, 3, 3, 3, 3, 3], in_batch=True)
    r = mon.compute()
    want = ref.theory_nt_xent(32, 10)
    assert (r.theory_upsilon, r.theory_tau) == pytest.approx(want[:2], rel=1e-12)
    assert r.theory_collision == pytest.approx(want[2], rel=1e-12)
    assert r.K == 62


def test_nt_xent_refuses_queue_and_other_kinds():
    mon = BoundMonitor(3, 0.5, class_means=np.eye(3), loss="nt_xent")
    with pytest.raises(ValueError, match="nt_xent"):
        mon.update(np.eye(3), np.eye(3), [0, 1, 2], negatives=np.eye(3),
                   negative_labels=[0, 1, 2])
    with pytest.raises(ValueError, match="loss must be one of"):
        BoundMonitor(3, 0.5, loss="ntxent")
    other = BoundMonitor(3, 0.5, class_means=np.eye(3))
    with pytest.raises(ValueError, match="loss = 'infonce' there, 'nt_xent' here"):
        mon.merge(other)
    mon.update(np.eye(3), np.eye(3), [0, 1, 2])
    state = mon.state_dict()
    assert state["config"]["loss"] == "nt_xent"
    with pytest.raises(ValueError, match="loss"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match="differ in configuration"):
        # a world where the other rank measures InfoNCE
        h_other = BoundMonitor(3, 0.5, class_means=np.eye(3))._config_hash()

        def reduce(v):
            w = v.copy()
            w[-2] += h_other
            w[-1] += h_other**2
            w[:-2] *= 2
            return w
        mon.sync(reduce)


# --------------------------------------------------------------------------
# the losses route with the negatives' labels
# --------------------------------------------------------------------------

def per_anchor_losses(rows):
    return {k: np.array([r[k] for r in rows]) for k in ("con", "sup", "sub", "d")}


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_losses_route_with_queue_labels(lib):
    C, M, t = 6, 12, 0.4
    batches, mu = queue_stream(6, C=C, M=M)
    emb = BoundMonitor(C, t, class_means=mu, warn_nonrandom=False)
    los = BoundMonitor(C, t, warn_nonrandom=False)
    rows = []
    for z0, z1, y, keys, ql in batches:
        r = ref.rows_queue(z0, z1, y, keys, ql, mu, t, C)
        rows.append(r)
        v = per_anchor_losses(r)
        con, sup, sub, d, yy, qq = to_lib(lib, v["con"], v["sup"], v["sub"], v["d"], y, ql)
        bt = los.update_losses(contrastive=con, sup=sup, sub=sub, d=d, labels=yy,
                               negative_labels=qq, K=M)
        assert bt.K == M
        emb.update(z0, z1, y, negatives=keys, negative_labels=ql)
    want = ref.report(rows, [ref.theory_infonce(M, C)] * len(rows))
    assert_close(los.compute(), want)
    a, b = emb.compute().to_dict(), los.compute().to_dict()
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-9, abs=1e-9, nan_ok=True), k


def test_losses_route_per_anchor_negatives():
    C, K, t = 4, 5, 0.5
    rng = np.random.default_rng(7)
    mu_true = rng.normal(size=(C, 3))
    mu = ref.shrink(0.3 * mu_true)
    mon = BoundMonitor(C, t, warn_nonrandom=False)
    rows = []
    for _ in range(4):
        n = 6
        y = rng.integers(0, C, n)
        nl = rng.integers(0, C, (n, K))
        negs = [features(rng, nl[i], mu_true) for i in range(n)]
        z0, z1 = features(rng, y, mu_true), features(rng, y, mu_true)
        r = ref.rows_per_anchor(z0, z1, y, negs, nl, mu, t, C)
        rows.append(r)
        v = per_anchor_losses(r)
        mon.update_losses(contrastive=v["con"], sup=v["sup"], sub=v["sub"], d=v["d"],
                          labels=y, negative_labels=nl)
    assert_close(mon.compute(), ref.report(rows, [ref.theory_infonce(K, C)] * 4))
    assert mon.compute().K == K


def test_losses_route_nt_xent_matches_embeddings():
    C, t = 3, 0.3
    batches, mu = nt_stream(8, C=C)
    los = BoundMonitor(C, t, loss="nt_xent", warn_nonrandom=False)
    rows = []
    for z0, z1, y in batches:
        r = ref.rows_nt_xent(z0, z1, y, mu, t, C)
        rows.append(r)
        v = per_anchor_losses(r)
        los.update_losses(contrastive=v["con"], sup=v["sup"], sub=v["sub"], d=v["d"],
                          labels=y, K=2 * len(y) - 2)
    assert_close(los.compute(), ref.report(rows, [ref.theory_nt_xent(len(b[2]), C)
                                                  for b in batches]))


def test_losses_route_refuses_to_guess_the_negatives():
    mon = BoundMonitor(2, 0.5)
    kw = dict(contrastive=7.0, sup=1.0, d=-0.5, labels=[0, 1, 1])
    with pytest.raises(ValueError, match="K = 4096 negatives per anchor.*negative_labels="):
        mon.update_losses(K=4096, **kw)
    with pytest.raises(ValueError, match="K = 5 contradicts negative_labels"):
        mon.update_losses(K=5, negative_labels=[0, 1, 0], **kw)
    with pytest.raises(ValueError, match=r"negative_labels must have shape \(3, K\)"):
        mon.update_losses(negative_labels=np.zeros((2, 4), int), **kw)
    # issue 20: a 4,096-key queue's losses without its labels were taken as in-batch (K = 63)
    with pytest.raises(ValueError, match="which negatives did the InfoNCE losses use"):
        mon.update_losses(**kw)
    assert mon.n_batches == 0
    nt = BoundMonitor(2, 0.5, loss="nt_xent")  # NT-Xent's negatives are always the batch
    nt.update_losses(contrastive=7.0, sup=1.0, d=-0.5, labels=[0, 1, 1])
    assert nt.compute().K == 4
    with pytest.raises(ValueError, match="needs labels= per anchor"):
        mon.update_losses(contrastive=7.0, sup=1.0, d=-0.5, batch_counts=[1, 2],
                          negative_labels=np.zeros((3, 4), int))
    with pytest.raises(ValueError, match="sup must be per anchor"):
        # the queue misses class 1: anchors of class 1 are covered, class 0 not
        mon.update_losses(contrastive=7.0, sup=1.0, sub=0.5, d=-0.5, labels=[0, 1, 1],
                          negative_labels=[0, 0, 0])
    assert mon.n_batches == 0
    mon.update_losses(K=2, **kw)  # the batch's own K = n - 1 is accepted: it says in-batch
    mon.update_losses(in_batch=True, **kw)  # said directly
    assert mon.compute().K == 2 and mon.n_batches == 2


def test_losses_route_queue_with_batch_counts():
    """Per-class counts describe a queue batch too (Col = the queue's count of the class)."""
    ql = [0, 0, 1, 2, 2, 2]
    bt = batch_terms_from_losses(contrastive=3.0, sup=1.0, d=-0.2, batch_counts=[2, 1, 1],
                                 negative_labels=ql, num_classes=3)
    assert bt.n == 4 and bt.K == 6 and bt.n_covered == 4 and bt.n_repeat == 4
    assert bt.sum_collision == pytest.approx(2 * math.log(3) + math.log(2) + math.log(4))
    assert math.isnan(bt.sum_arora)


# --------------------------------------------------------------------------
# windows
# --------------------------------------------------------------------------

def losses_batches(seed, count, C=3, n=6):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        y = rng.integers(0, C, n)
        sup = rng.uniform(0.5, 2.0, n)
        out.append(dict(contrastive=rng.uniform(1, 3, n), sup=sup, sub=sup * 0.7,
                        d=-rng.uniform(0, 0.5, n), labels=y, in_batch=True))
    return out


def test_windows_equal_fresh_monitors():
    batches = losses_batches(9, 9)
    mon = BoundMonitor(3, 0.5, warn_nonrandom=False)
    whole = BoundMonitor(3, 0.5, warn_nonrandom=False)
    for lo, hi in ((0, 2), (2, 7), (7, 9)):
        fresh = BoundMonitor(3, 0.5, warn_nonrandom=False)
        for b in batches[lo:hi]:
            mon.update_losses(**b)
            fresh.update_losses(**b)
            whole.update_losses(**b)
        assert mon.window_batches == hi - lo
        assert mon.compute_window() == fresh.compute()
        assert mon.compute() == whole.compute()
    with pytest.raises(ValueError, match="no batch in this window"):
        mon.compute_window()


def test_windows_survive_state_merge_and_sync():
    batches = losses_batches(10, 6)
    a = BoundMonitor(3, 0.5, warn_nonrandom=False)
    for b in batches[:3]:
        a.update_losses(**b)
    a.compute_window()
    for b in batches[3:5]:
        a.update_losses(**b)
    resumed = BoundMonitor(3, 0.5, warn_nonrandom=False)
    resumed.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert resumed.window_batches == 2 and resumed.n_batches == 5
    assert resumed.compute_window() == a.copy().compute_window()
    # merge adds both windows; sync sums both
    b2 = BoundMonitor(3, 0.5, warn_nonrandom=False)
    b2.update_losses(**batches[5])
    merged = a.copy()
    merged.merge(b2)
    assert merged.window_batches == 3 and merged.n_batches == 6
    synced = a.copy()
    synced.sync(lambda v: 2 * v)
    assert synced.window_batches == 4 and synced.n_batches == 10
    w2, w1 = synced.compute_window(), a.copy().compute_window()
    assert (w2.contrastive, w2.ns21_bound, w2.n_anchors) == (w1.contrastive, w1.ns21_bound,
                                                             2 * w1.n_anchors)
    # compute_window(all_reduce=) reports the synced window and starts a local one
    c = a.copy()
    rep = c.compute_window(all_reduce=lambda v: 2 * v)
    assert rep.n_batches == 4 and c.window_batches == 0 and c.n_batches == 5


def test_window_state_invariants():
    a = BoundMonitor(3, 0.5)
    a.update_losses(**losses_batches(11, 1)[0])
    state = a.state_dict()
    state["window"]["n_batches"] = 2
    state["window"]["n_anchors"] = 12
    state["window"]["n_anchors_sq"] = 72
    with pytest.raises(ValueError, match="window"):
        BoundMonitor(3, 0.5).load_state_dict(state)


# --------------------------------------------------------------------------
# class means during training
# --------------------------------------------------------------------------

def unit_rows(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_class_means_guards_are_consistent():
    rng = np.random.default_rng(12)
    mu = ref.shrink(0.3 * rng.normal(size=(3, 4)))
    y = np.array([0, 1, 2, 0, 1, 2])
    z0, z1 = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    zbar = 0.5 * (unit_rows(z0) + unit_rows(z1))
    mon = BoundMonitor(3, 0.5, class_means=mu, warn_nonrandom=False)
    mon.update(z0, z1, y)
    before = mon.state_dict()
    for route in (lambda m: setattr(m, "class_means", 0.5 * mu),
                  lambda m: m.update(z0, z1, y, class_means=0.5 * mu),
                  lambda m: m.fit_class_means(zbar, y)):
        with pytest.raises(ValueError, match="middle of a window"):
            route(mon)
        assert mon.state_dict() == before
    mon.update(z0, z1, y, class_means=mu)  # the same means: fine
    first = mon.compute_window()
    fitted = mon.fit_class_means(zbar, y)  # a new window: refresh allowed
    np.testing.assert_allclose(fitted, [zbar[y == c].mean(axis=0) for c in range(3)])
    mon.update(z0, z1, y)
    second = mon.compute_window()
    mon.update(z0, z1, y, class_means=0.5 * mu)  # allowed at a window's start
    np.testing.assert_array_equal(mon.class_means, 0.5 * mu)
    assert first.sup != second.sup and mon.n_batches == 4


def test_fit_class_means_refuses_raw_features():
    mon = BoundMonitor(2, 0.5)
    with pytest.raises(ValueError, match=r"mean_features row 1 has norm 5 > 1.*normalise"):
        mon.fit_class_means(np.array([[0.6, 0.0], [3.0, 4.0]]), [0, 1])
    with pytest.raises(ValueError, match="norm"):
        mon.fit_class_means([(np.array([[0.5, 0.0]]), [0]), (np.array([[0.0, 2.0]]), [1])])
    assert mon.class_means is None
    tiny = 1e-170 * np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(mon.fit_class_means(tiny, [0, 1]), tiny)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_ema_class_means(lib):
    rng = np.random.default_rng(13)
    C, beta, t = 3, 0.9, 0.5
    mu0 = ref.shrink(0.3 * rng.normal(size=(C, 4)))
    mon = BoundMonitor(C, t, class_means=mu0, class_means_ema=beta, warn_nonrandom=False)
    want_mu = mu0.copy()
    rows = []
    for step in range(4):
        y = rng.integers(0, 2, 5)  # class 2 never appears: its mean stays
        z0, z1 = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
        zbar = None if step % 2 else 0.4 * unit_rows(rng.normal(size=(5, 4)))
        rows.append(ref.rows_infonce(z0, z1, y, want_mu, t, C, zbar=zbar))
        args = to_lib(lib, z0, z1, y) + ((None,) if zbar is None else to_lib(lib, zbar))
        mon.update(*args)
        zb = ref.default_zbar(z0, z1) if zbar is None else list(zbar)
        for c in set(y.tolist()):
            m = np.mean([zb[i] for i in range(5) if y[i] == c], axis=0)
            want_mu[c] = beta * want_mu[c] + (1 - beta) * m
    np.testing.assert_allclose(mon.class_means, want_mu, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(mon.class_means[2], mu0[2])
    assert_close(mon.compute(), ref.report(rows))
    # EMA monitors on two ranks have drifted apart: sync and merge still work
    other = mon.copy()
    other.class_means = None if False else other.class_means  # unchanged
    mon.sync(lambda v: 2 * v)
    with pytest.raises(ValueError, match="class_means_ema"):
        BoundMonitor(C, t, class_means_ema=1.0)


# --------------------------------------------------------------------------
# non-random batches
# --------------------------------------------------------------------------

def stream_labels(rng, C, n, batches, sorted_loader):
    """Labels of a data set of C classes x (n * batches / C) samples, shuffled or sorted."""
    per = n * batches // C
    data = np.repeat(np.arange(C), per)
    if not sorted_loader:
        return [rng.integers(0, C, n) for _ in range(batches)]
    return [data[i * n:(i + 1) * n] for i in range(batches)]


def feed_labels(mon, labels_list, C):
    for y in labels_list:
        loss = np.ones(len(y) * (2 if mon.loss == "nt_xent" else 1))
        mon.update_losses(contrastive=2 * loss, sup=loss, sub=0.5 * loss, d=0.0, labels=y, in_batch=True)


def test_random_batches_do_not_warn_sorted_loader_does():
    C, n = 10, 32
    rng = np.random.default_rng(20)
    for loss in ("infonce", "nt_xent"):
        mon = BoundMonitor(C, 0.5, loss=loss)
        feed_labels(mon, stream_labels(rng, C, n, 160, False), C)
        with warnings.catch_warnings():
            warnings.simplefilter("error", NonRandomBatchWarning)
            report = mon.compute()
        assert abs(report.upsilon - report.theory_upsilon) < 0.15
        srt = BoundMonitor(C, 0.5, loss=loss)
        feed_labels(srt, stream_labels(rng, C, n, 160, True), C)
        with pytest.warns(NonRandomBatchWarning, match="sorted or class-balanced") as rec:
            r = srt.compute()
        assert r.upsilon == 0.0 and "upsilon" in str(rec[0].message)
        quiet = BoundMonitor(C, 0.5, loss=loss, warn_nonrandom=False)
        feed_labels(quiet, stream_labels(rng, C, n, 20, True), C)
        with warnings.catch_warnings():
            warnings.simplefilter("error", NonRandomBatchWarning)
            quiet.compute()


def test_random_batches_do_not_warn_over_many_seeds():
    """False-alarm rate: 40 independent runs of 160 random batches, none warns."""
    C, n = 10, 32
    alarms = 0
    for seed in range(40):
        rng = np.random.default_rng(1000 + seed)
        mon = BoundMonitor(C, 0.5)
        feed_labels(mon, stream_labels(rng, C, n, 160, False), C)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            mon.compute()
        alarms += any(issubclass(w.category, NonRandomBatchWarning) for w in rec)
    assert alarms == 0


def test_queue_of_sorted_keys_warns_random_queue_does_not():
    C, n, M = 10, 16, 128
    rng = np.random.default_rng(21)
    mon = BoundMonitor(C, 0.5)
    srt = BoundMonitor(C, 0.5)
    queue = list(rng.integers(0, C, M))
    for step in range(160):
        y = rng.integers(0, C, n)
        ones = np.ones(n)
        mon.update_losses(contrastive=2 * ones, sup=ones, sub=ones, d=0.0, labels=y,
                          negative_labels=np.array(queue))
        queue = queue[n:] + list(y)  # MoCo: enqueue the batch's keys, dequeue the oldest
        ys = np.full(n, step % C)
        srt.update_losses(contrastive=2 * ones, sup=ones, sub=ones, d=0.0, labels=ys,
                          negative_labels=np.full(M, step % C))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonRandomBatchWarning)
        mon.compute()
    with pytest.warns(NonRandomBatchWarning):
        srt.compute()


def test_window_warns_too():
    C, n = 10, 32
    rng = np.random.default_rng(22)
    mon = BoundMonitor(C, 0.5)
    feed_labels(mon, stream_labels(rng, C, n, 20, False), C)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonRandomBatchWarning)
        mon.compute_window()
    feed_labels(mon, stream_labels(rng, C, n, 40, True), C)
    with pytest.warns(NonRandomBatchWarning):
        mon.compute_window()


# --------------------------------------------------------------------------
# NS21's collision diagnostic
# --------------------------------------------------------------------------

@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_collision_diagnostic_matches_loop(lib):
    rng = np.random.default_rng(30)
    for n, C in ((12, 3), (7, 7), (9, 2)):
        y = rng.integers(0, C, n)
        z0, z1 = rng.normal(size=(n, 5)), rng.normal(size=(n, 5))
        want = ref.collision_diagnostic_loop(z0, z1, y)
        got = collision_diagnostic(*to_lib(lib, z0, z1, y))
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want, rel=1e-10)


def test_collision_diagnostic_in_the_report():
    rng = np.random.default_rng(31)
    C = 3
    mu = ref.shrink(0.3 * rng.normal(size=(C, 4)))
    mon = BoundMonitor(C, 0.5, class_means=mu, collision_diagnostic=True, warn_nonrandom=False)
    plain = BoundMonitor(C, 0.5, class_means=mu, warn_nonrandom=False)
    per_j = []
    for _ in range(3):
        y = rng.integers(0, C, 8)
        z0, z1 = rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
        bt = mon.update(z0, z1, y)
        plain.update(z0, z1, y)
        cnt = np.bincount(y, minlength=C)
        assert bt.n_diagnostic == int(np.sum(cnt[cnt >= 2]))
        per_j.append((ref.collision_diagnostic_loop(z0, z1, y), bt.n_diagnostic))
        assert bt.collision_diagnostic == pytest.approx(per_j[-1][0], rel=1e-10)
    want = sum(v * k for v, k in per_j) / sum(k for _, k in per_j)
    assert mon.compute().collision_diagnostic == pytest.approx(want, rel=1e-10)
    assert math.isnan(plain.compute().collision_diagnostic)
    assert mon.compute().ns21_bound == plain.compute().ns21_bound


# --------------------------------------------------------------------------
# issue 11: invariants, overflow, extreme scales
# --------------------------------------------------------------------------

def good_state():
    mon = BoundMonitor(3, 0.5)
    for b in losses_batches(40, 3):
        mon.update_losses(**b)
    return mon.state_dict()


@pytest.mark.parametrize("field,value", [
    ("n_covered", 10**6),
    ("n_anchors_sq", 1),
    ("sumsq_contrastive", -1.0),
    ("sumsq_contrastive", 0.0),
    ("sum_d", 0.5),
    ("sum_collision", -0.1),
    ("n_batches", 2**60),
    ("sum_K_sq", 10**9),
    ("sum_tau", 1.0e9),
    ("null_var_upsilon", -1.0),
    ("sum_contrastive", math.inf),
])
def test_load_state_checks_invariants(field, value):
    state = good_state()
    state["state"][field] = value
    target = BoundMonitor(3, 0.5)
    before = target.state_dict()
    with pytest.raises(ValueError, match=field):
        target.load_state_dict(state)
    assert target.state_dict() == before


def test_overflowing_batches_are_refused():
    mon = BoundMonitor(3, 0.5)
    mon.update_losses(contrastive=1.0, sup=1.0, d=0.0, labels=[0, 1, 2], in_batch=True)
    before = mon.state_dict()
    with pytest.raises(ValueError, match="sup: the batch's sum overflows"):
        mon.update_losses(contrastive=1.0, sup=[1e308, 1e308, 1.0], d=0.0, labels=[0, 1, 2], in_batch=True)
    with pytest.raises(ValueError, match="overflow float64"):
        # each sum is finite, its square is not
        mon.update_losses(contrastive=[1e300, 1.0, 1.0], sup=1.0, d=0.0, labels=[0, 1, 2], in_batch=True)
    for counts in ([1e30, 1, 1], [2**63 - 1, 1, 1], np.array([2**62, 2**62, 1], np.int64)):
        with pytest.raises(ValueError, match="batch_counts"):
            mon.update_losses(contrastive=1.0, sup=1.0, d=0.0, batch_counts=counts, in_batch=True)
    assert mon.state_dict() == before


def test_sup_of_1e308_two_classes_no_overflow_error():
    mon = BoundMonitor(2, 0.5)
    with pytest.raises(ValueError, match="sup"):
        mon.update_losses(contrastive=1.0, sup=[1e308, 1e308], d=0.0, labels=[0, 1], in_batch=True)
    assert mon.n_batches == 0


@pytest.mark.parametrize("scale", [1e-170, 1e150])
def test_tiny_and_huge_embeddings_normalise(scale):
    rng = np.random.default_rng(41)
    C, t = 3, 0.5
    mu = ref.shrink(0.3 * rng.normal(size=(C, 4)))
    y = np.array([0, 1, 2, 0, 1])
    z0, z1, keys = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.normal(size=(6, 4))
    ql = rng.integers(0, C, 6)
    for kw, rows in ((dict(), ref.rows_infonce(z0, z1, y, mu, t, C)),
                     (dict(negatives=scale * keys, negative_labels=ql),
                      ref.rows_queue(z0, z1, y, keys, ql, mu, t, C))):
        mon = BoundMonitor(C, t, class_means=mu, warn_nonrandom=False)
        mon.update(scale * z0, scale * z1, y, **kw)
        assert_close(mon.compute(), ref.report([rows]), keys=KEYS[:12])


# --------------------------------------------------------------------------
# per-step logging
# --------------------------------------------------------------------------

def test_batch_terms_bounds_and_to_dict_keys():
    rng = np.random.default_rng(50)
    C, t = 3, 0.5
    mu = ref.shrink(0.3 * rng.normal(size=(C, 4)))
    y = rng.integers(0, C, 7)
    z0, z1 = rng.normal(size=(7, 4)), rng.normal(size=(7, 4))
    mon = BoundMonitor(C, t, class_means=mu, warn_nonrandom=False)
    bt = mon.update(z0, z1, y)
    r = mon.compute()
    assert bt.ns21_bound == pytest.approx(r.ns21_bound, rel=1e-12)
    assert bt.arora_bound == pytest.approx(r.arora_bound, rel=1e-12)
    small = bt.to_dict(keys=("ns21_bound", "contrastive", "upsilon"), prefix="s/")
    assert small == pytest.approx({"s/ns21_bound": r.ns21_bound, "s/contrastive": r.contrastive,
                                   "s/upsilon": r.upsilon})
    assert "loss" not in bt.to_dict() and "ns21_bound" in bt.to_dict()
    with pytest.raises(ValueError, match="unknown names"):
        bt.to_dict(keys=["nope"])
    with pytest.raises(ValueError, match="unknown fields"):
        r.to_dict(keys=["nope"])
    assert list(r.to_dict("b/", keys=["margin", "K"])) == ["b/margin", "b/K"]
    assert isinstance(bt, BatchTerms)


def test_from_state_dict_rebuilds_every_configuration():
    C = 4
    for kw in (dict(), dict(loss="nt_xent"), dict(counts=[5, 6, 7, 8], replacement=False),
               dict(probs=[0.1, 0.2, 0.3, 0.4]), dict(class_means_ema=0.9)):
        mon = BoundMonitor(C, 0.5, class_means=0.1 * np.eye(C), **kw)
        y = np.array([0, 1, 2, 3, 1])
        n = 2 * len(y) if kw.get("loss") == "nt_xent" else len(y)
        mon.update_losses(contrastive=np.full(n, 2.0), sup=np.ones(n), d=-0.1, labels=y, in_batch=True)
        mon.compute_window()
        mon.update_losses(contrastive=np.full(n, 3.0), sup=np.ones(n), d=-0.1, labels=y, in_batch=True)
        back = BoundMonitor.from_state_dict(json.loads(json.dumps(mon.state_dict())))
        assert back.compute() == mon.compute() and back.loss == mon.loss
        assert back.compute_window() == mon.copy().compute_window()
        np.testing.assert_array_equal(back.class_means, mon.class_means)


def test_update_with_new_means_and_a_bad_batch_changes_nothing():
    mu = 0.2 * np.eye(3)
    mon = BoundMonitor(3, 0.5, class_means=mu)
    with pytest.raises(ValueError, match="labels"):
        mon.update(np.eye(3), np.eye(3), [0, 1, 7], class_means=2 * mu)
    np.testing.assert_array_equal(mon.class_means, mu)
    mon.update(np.eye(3), np.eye(3), [0, 1, 2], class_means=2 * mu)
    np.testing.assert_array_equal(mon.class_means, 2 * mu)
    with pytest.raises(ValueError, match="class_means are needed"):
        BoundMonitor(3, 0.5).update(np.eye(3), np.eye(3), [0, 1, 2])


# --------------------------------------------------------------------------
# the analytic null of the non-random-batch test
# --------------------------------------------------------------------------

NULL_CASES = [
    ("batch", 48, 47, [1, 1, 1], None),
    ("batch", 32, 31, [4, 3, 2, 1], None),
    ("batch", 12, 11, [1, 1, 1, 1], None),
    ("batch", 5, 4, [1, 1], None),
    ("nt_xent", 48, 46, [1, 1, 1], None),
    ("nt_xent", 40, 38, [5, 3, 2], None),
    ("queue", 16, 40, [1, 1, 1], None),
    ("queue", 8, 12, [5, 3, 2], None),
    ("queue", 16, 30, [4, 3, 2, 1], None),
    ("batch", 20, 19, None, [12, 8, 6, 4]),
    ("nt_xent", 24, 22, None, [10, 7, 5]),
    ("queue", 8, 14, None, [9, 6, 4, 3]),
]


@pytest.mark.parametrize("scheme,n,K,weights,counts", NULL_CASES)
def test_null_variances_match_exact_enumeration(scheme, n, K, weights, counts):
    """The analytic null variances against a sum over every class-count vector."""
    from fractions import Fraction

    from couponbound import Prior
    from couponbound.training._theory import null_variances

    if counts is not None:
        prior = Prior.from_counts(counts, replacement=False)
        want = ref.null_variances_exact(scheme, n, K, counts=counts)
    else:
        total = sum(weights)
        probs = [Fraction(w, total) for w in weights]
        prior = (Prior.uniform(len(weights)) if len(set(weights)) == 1
                 else Prior.from_probs([float(p) for p in probs]))
        want = ref.null_variances_exact(scheme, n, K, probs=probs)
    got = null_variances(scheme, n, K, prior)
    for name, g, w in zip(("upsilon", "tau", "collision"), got, want, strict=True):
        assert g == pytest.approx(w, rel=1e-9, abs=1e-15), name


def test_null_variances_beyond_exact_pairs_are_close_to_simulation():
    """Many distinct class probabilities: Holst's formula, within 5 % of a simulation."""
    from couponbound import Prior
    from couponbound.training._theory import _EXACT_GROUPS, null_variances

    rng = np.random.default_rng(7)
    C = 4 * _EXACT_GROUPS
    p = rng.dirichlet(np.full(C, 5.0))
    prior = Prior.from_probs(p)
    n, S = 256, 40_000
    c = rng.multinomial(n, p, size=S).astype(float)
    tau = np.sum(np.where(c >= 2, c, 0.0), axis=1) / n
    coll = np.sum(c * np.log(np.maximum(c, 1.0)), axis=1) / n
    _, vt, vc = null_variances("batch", n, n - 1, prior)
    # relative standard error of a sample variance: sqrt(2 / S) ~ 0.7 %
    assert vt == pytest.approx(np.var(tau, ddof=1), rel=0.05)
    assert vc == pytest.approx(np.var(coll, ddof=1), rel=0.05)


def test_queue_filling_needs_no_simulation():
    """A queue filling over 16 steps: one null per queue length, each analytic and cheap
    (the test of non-random batches draws no random numbers)."""
    from couponbound.training import _theory

    assert not hasattr(_theory, "_draw_counts")
    rng = np.random.default_rng(8)
    C, n = 20, 32
    mon = BoundMonitor(C, 0.5)
    queue = rng.integers(0, C, 16 * n)
    for step in range(1, 17):
        ones = np.ones(n)
        mon.update_losses(contrastive=2 * ones, sup=ones, sub=ones, d=0.0,
                          labels=rng.integers(0, C, n), negative_labels=queue[:step * n])
    assert len(mon._null_cache) == 16


# --------------------------------------------------------------------------
# distinct classes and false negatives per batch (issue 18, item 5)
# --------------------------------------------------------------------------

def test_distinct_classes_and_false_negatives_on_constructed_batches():
    """Exactly, by hand, for every scheme and both routes."""
    ones = np.ones(3)
    # in-batch, labels [0, 0, 1] of C = 3: the draw is the batch, D = 2 for every anchor;
    # Col = (1, 1, 0) of K = 2 negatives: (1/2 + 1/2 + 0) / 3
    bt = batch_terms_from_losses(contrastive=2 * ones, sup=ones, sub=ones, d=0.0,
                                 labels=[0, 0, 1], num_classes=3, in_batch=True)
    assert (bt.sum_classes, bt.sum_col, bt.classes) == (6.0, 2.0, 2.0)
    assert bt.false_negative == pytest.approx(1 / 3, rel=1e-15)
    # a queue of keys [0, 0, 1], anchors [0, 2]: draws {0, 1} and {2, 0, 1}; Col = (2, 0)
    bt = batch_terms_from_losses(contrastive=[2.0, 2.0], sup=[1.0, 1.0], sub=[1.0, 1.0],
                                 d=0.0, labels=[0, 2], negative_labels=[0, 0, 1], num_classes=3)
    assert (bt.sum_classes, bt.sum_col) == (5.0, 2.0)
    assert bt.false_negative == pytest.approx(2 / 6, rel=1e-15)
    # NT-Xent on samples [0, 0, 1]: 6 anchors, D = 2, Col = 2 (n_y - 1) = (2, 2, 0) twice, K = 4
    bt = batch_terms_from_losses(contrastive=2.0, sup=1.0, sub=1.0, d=0.0, labels=[0, 0, 1],
                                 num_classes=3, loss="nt_xent")
    assert (bt.sum_classes, bt.sum_col, bt.K) == (12.0, 8.0, 4)
    assert bt.false_negative == pytest.approx(8 / 24, rel=1e-15)
    # per-anchor negatives: anchor 0 (class 0) sees [0, 1], anchor 1 (class 1) sees [2, 2]
    bt = batch_terms_from_losses(contrastive=[2.0, 2.0], sup=[1.0, 1.0], sub=[1.0, 1.0],
                                 d=0.0, labels=[0, 1], negative_labels=[[0, 1], [2, 2]],
                                 num_classes=3)
    assert (bt.sum_classes, bt.sum_col) == (4.0, 1.0)
    # the embeddings route measures the same
    rng = np.random.default_rng(50)
    mu = ref.shrink(0.3 * rng.normal(size=(3, 4)))
    z = rng.normal(size=(3, 4))
    for kw, want in ((dict(labels=[0, 0, 1]), (6.0, 2.0)),
                     (dict(labels=[0, 2, 2], negatives=rng.normal(size=(3, 4)),
                           negative_labels=[0, 0, 1]), (2.0 + 3.0 + 3.0, 2.0))):
        got = BoundMonitor(3, 0.5, class_means=mu).update(z, z + 0.1, **kw)
        assert (got.sum_classes, got.sum_col) == pytest.approx(want, rel=1e-12)
    nt = BoundMonitor(3, 0.5, class_means=mu, loss="nt_xent").update(z, z + 0.1, [0, 0, 1])
    assert (nt.sum_classes, nt.sum_col) == pytest.approx((12.0, 8.0), rel=1e-12)


@pytest.mark.parametrize("loss,scheme", [("infonce", "batch"), ("nt_xent", "batch"),
                                         ("infonce", "queue")])
@pytest.mark.parametrize("prior", ["uniform", "skewed", "finite"])
def test_distinct_classes_and_false_negatives_match_theory_on_random_batches(loss, scheme,
                                                                             prior):
    """Random batches from the prior: the measured means lie within 4.5 standard errors of
    E[D] (couponbound.expected_classes) and the false-negative rate; the report's theory
    columns are those functions."""
    from couponbound import Prior, expected_classes, false_negative_rate

    rng = np.random.default_rng(hash((loss, scheme, prior)) % 2**32)
    C, n, M, B = 8, 12, 40, 300
    if prior == "uniform":
        pr, probs = Prior.uniform(C), np.full(C, 1 / C)
        mon = BoundMonitor(C, 0.5, loss=loss)
    elif prior == "skewed":
        probs = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03])
        pr = Prior.from_probs(probs)
        mon = BoundMonitor(C, 0.5, probs=probs, loss=loss)
    else:
        counts = [30, 20, 15, 10, 10, 7, 5, 3]
        pr = Prior.from_counts(counts, replacement=False)
        mon = BoundMonitor(C, 0.5, counts=counts, replacement=False, loss=loss)
        pool = np.repeat(np.arange(C), counts)
    for _ in range(B):
        if prior == "finite":  # a shuffled epoch: the queue holds other samples than the batch
            both = rng.choice(pool, size=n + M, replace=False)
            y, epoch_keys = both[:n], both[n:]
        else:
            y = rng.choice(C, size=n, p=probs)
        per = 2 * n if loss == "nt_xent" else n
        kw = dict(contrastive=2.0 * np.ones(per), sup=np.ones(per), sub=0.5 * np.ones(per), d=0.0)
        if scheme == "queue":
            keys = epoch_keys if prior == "finite" else rng.choice(C, size=M, p=probs)
            mon.update_losses(labels=y, negative_labels=keys, **kw)
        else:
            mon.update_losses(labels=y, in_batch=loss == "infonce" or None, **kw)
    r = mon.compute()
    draws_besides_anchor = M if scheme == "queue" else (n - 1)
    assert r.theory_classes == pytest.approx(float(expected_classes(draws_besides_anchor, pr)),
                                             rel=1e-12)
    assert r.theory_false_negative == pytest.approx(false_negative_rate(pr), rel=1e-12)
    for q in ("classes", "false_negative"):
        se = getattr(r, f"{q}_se")
        assert se > 0
        assert abs(getattr(r, q) - getattr(r, f"theory_{q}")) < 4.5 * se, q
    assert set(("classes", "false_negative")) <= set(r.to_dict(keys=("classes",
                                                                     "false_negative")))


def test_version_2_state_loads_without_occupancy():
    """A checkpoint written before the monitor measured distinct classes still loads; the
    new quantities are nan (not measured) until a new window."""
    mon = BoundMonitor(3, 0.5)
    for b in losses_batches(60, 3):
        mon.update_losses(**b)
    state = json.loads(json.dumps(mon.state_dict()))
    state["version"] = 2
    for part in ("state", "window"):
        for name in list(state[part]):
            if name.endswith(("_classes", "_false_negative")) or name == "n_batches_no_occupancy":
                del state[part][name]
    old = BoundMonitor(3, 0.5)
    old.load_state_dict(state)
    r, want = old.compute(), mon.compute()
    assert r.contrastive == want.contrastive and r.n_batches == 3
    assert math.isnan(r.classes) and math.isnan(r.false_negative)
    assert math.isnan(r.theory_classes)
    old.compute_window()
    old.update_losses(**losses_batches(61, 1)[0])
    assert not math.isnan(old.compute_window().classes)


@settings(max_examples=60, deadline=None)
@given(K=st.integers(0, 120), num=st.integers(1, 99), den=st.integers(100, 100))
def test_window_weights_binomial_against_exact_fractions(K, num, den):
    """The numpy binomial weights the null and the collision theory use: normalised, they
    are Binomial(K, p) to 1e-13 relative (exact Fraction oracle), mode anywhere."""
    from fractions import Fraction

    from couponbound._combinatorics import window_weights

    p = Fraction(num, den)
    pf = float(p)
    m, g, w = window_weights(np.array([0]), np.array([K]), np.array([K * pf]),
                             lambda m, g: np.log((K - m) * (pf / (1 - pf)) / (m + 1.0)))
    got = w / w.sum()
    want = [float(math.comb(K, j) * p**j * (1 - p) ** (K - j)) for j in range(K + 1)]
    big = np.array(want) > 1e-250
    np.testing.assert_allclose(got[big], np.array(want)[big], rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(a=st.integers(0, 40), b=st.integers(0, 40), data=st.data())
def test_window_weights_hypergeometric_against_exact_fractions(a, b, data):
    from fractions import Fraction

    from couponbound._combinatorics import window_weights

    K = data.draw(st.integers(0, a + b))
    lo, hi = max(0, K - b), min(K, a)
    m, g, w = window_weights(
        np.array([lo]), np.array([hi]), np.array([K * a / max(a + b, 1)]),
        lambda x, g: np.log((a - x) * (K - x) / ((x + 1.0) * (b - K + x + 1.0))))
    got = w / w.sum()
    total = math.comb(a + b, K)
    want = [float(Fraction(math.comb(a, x) * math.comb(b, K - x), total))
            for x in range(lo, hi + 1)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
    assert m.tolist() == list(range(lo, hi + 1))
