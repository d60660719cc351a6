"""Tests of couponbound.training.batch against an independent loop-over-anchors reference.

The reference below implements the definitions of the docs' math-losses and
math-measurement sections directly, one anchor
at a time, in float64 numpy; it shares no code with couponbound.training.batch.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from couponbound.training.batch import (
    BatchTerms,
    batch_terms,
    batch_terms_from_losses,
    check_temperature,
)
from couponbound.training.class_means import ClassMeanEstimator, estimate_class_means


def _lse(values: np.ndarray) -> float:
    m = float(np.max(values))
    return m + math.log(float(np.sum(np.exp(values - m))))


def reference_batch(z0, z1, y, mu, t, zbar=None) -> dict[str, float]:
    """The measurement protocol (math-measurement) for one batch, anchor by anchor."""
    z0 = np.asarray(z0, dtype=np.float64)
    z1 = np.asarray(z1, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    y = [int(v) for v in y]
    n, C = len(y), mu.shape[0]
    u0 = np.array([row / math.sqrt(float(row @ row)) for row in z0])
    u1 = np.array([row / math.sqrt(float(row @ row)) for row in z1])
    zb = (u0 + u1) / 2 if zbar is None else np.asarray(zbar, dtype=np.float64)
    counts = Counter(y)
    present = sorted(counts)
    out = {"contrastive": 0.0, "sup": 0.0, "sub": 0.0, "arora": 0.0, "collision": 0.0, "d": 0.0}
    n_repeat = 0
    for i in range(n):
        s = np.array([float(u0[i] @ u1[j]) / t for j in range(n)]) if n <= 64 else (u1 @ u0[i]) / t
        out["contrastive"] += _lse(s) - s[i]
        cls = np.array([float(u0[i] @ mu[c]) / t for c in range(C)])
        l_all = _lse(cls) - cls[y[i]]
        l_present = _lse(cls[present]) - cls[y[i]]
        out["sup"] += l_all
        out["sub"] += l_present
        if counts[y[i]] == 1:
            out["arora"] += l_present
        else:
            n_repeat += 1
        out["collision"] += math.log(counts[y[i]])
        out["d"] += min(0.0, float(u0[i] @ (mu[y[i]] - zb[i]))) / t
    out.update(n=n, n_present=len(counts), n_repeat=n_repeat, covered=len(counts) == C)
    return out


def make_batch(rng, n, C, d, *, cover=None, spread=0.5):
    """Synthetic batch: features near their class mean, labels with repeats."""
    mu = rng.normal(size=(C, d))
    if cover is True:
        assert n >= C
        y = np.concatenate([rng.permutation(C), rng.integers(0, C, n - C)])
        y = rng.permutation(y)
    elif cover is False:
        y = rng.integers(0, max(1, C - 1), n)  # never the last class
    else:
        y = rng.integers(0, C, n)
    z0 = mu[y] + spread * rng.normal(size=(n, d))
    z1 = mu[y] + spread * rng.normal(size=(n, d))
    means = 0.5 * mu  # class means of norm <= 1 (the monitor refuses longer ones)
    return z0, z1, y, means / np.maximum(1.0, np.linalg.norm(means, axis=1, keepdims=True))


def assert_matches(bt: BatchTerms, ref: dict, rtol=1e-9, atol=1e-9):
    assert bt.n == ref["n"]
    assert bt.n_present == ref["n_present"]
    assert bt.n_repeat == ref["n_repeat"]
    assert bt.covered == ref["covered"]
    for ours, theirs in (("sum_contrastive", "contrastive"), ("sum_sup", "sup"),
                         ("sum_sub", "sub"), ("sum_arora", "arora"),
                         ("sum_collision", "collision"), ("sum_d", "d")):
        n = ref["n"]
        assert getattr(bt, ours) / n == pytest.approx(ref[theirs] / n, rel=rtol, abs=atol), ours


CASES = [  # (n = K + 1, C, d, cover)
    (2, 2, 3, True),
    (2, 3, 3, False),
    (3, 1, 4, None),
    (17, 5, 8, True),
    (17, 5, 8, False),
    (64, 10, 16, None),
    (257, 100, 32, None),
    (1024, 100, 32, True),
]


@pytest.mark.parametrize("n,C,d,cover", CASES)
def test_numpy_matches_reference(n, C, d, cover):
    rng = np.random.default_rng(n * 1000 + C)
    z0, z1, y, mu = make_batch(rng, n, C, d, cover=cover)
    t = 0.3 + rng.random()
    bt = batch_terms(z0, z1, y, mu, temperature=t)
    ref = reference_batch(z0, z1, y, mu, t)
    if cover is not None:
        assert ref["covered"] == cover
    assert_matches(bt, ref)


def test_mean_features_given():
    rng = np.random.default_rng(1)
    z0, z1, y, mu = make_batch(rng, 40, 6, 5)
    zbar = rng.normal(size=z0.shape) * 0.3
    zbar /= np.maximum(1.0, np.linalg.norm(zbar, axis=1, keepdims=True))  # norm <= 1
    bt = batch_terms(z0, z1, y, mu, temperature=0.5, mean_features=zbar)
    assert_matches(bt, reference_batch(z0, z1, y, mu, 0.5, zbar))
    # d really depends on zbar
    assert bt.sum_d != pytest.approx(batch_terms(z0, z1, y, mu, temperature=0.5).sum_d)


def test_float32_close():
    rng = np.random.default_rng(2)
    z0, z1, y, mu = make_batch(rng, 128, 10, 16)
    bt = batch_terms(z0.astype(np.float32), z1.astype(np.float32), y, mu, temperature=0.5)
    assert_matches(bt, reference_batch(z0, z1, y, mu, 0.5), rtol=1e-5, atol=1e-5)


def test_labels_any_int_dtype_and_list():
    rng = np.random.default_rng(3)
    z0, z1, y, mu = make_batch(rng, 20, 4, 3)
    a = batch_terms(z0, z1, y.astype(np.uint8), mu, temperature=0.5)
    b = batch_terms(z0, z1, y.tolist(), mu, temperature=0.5)
    assert a == b
    assert_matches(a, reference_batch(z0, z1, y, mu, 0.5))


def test_scale_invariance_of_features():
    rng = np.random.default_rng(4)
    z0, z1, y, mu = make_batch(rng, 20, 4, 3)
    a = batch_terms(z0, z1, y, mu, temperature=0.5)
    b = batch_terms(3.0 * z0, 0.1 * z1, y, mu, temperature=0.5)
    assert b.sum_contrastive == pytest.approx(a.sum_contrastive, rel=1e-12)
    assert b.sum_sup == pytest.approx(a.sum_sup, rel=1e-12)


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------

@pytest.fixture
def batch():
    rng = np.random.default_rng(5)
    return make_batch(rng, 12, 4, 5)


def test_bad_shapes(batch):
    z0, z1, y, mu = batch
    with pytest.raises(ValueError, match="positive must have the shape"):
        batch_terms(z0, z1[:-1], y, mu, temperature=0.5)
    with pytest.raises(ValueError, match=r"labels must have shape \(12,\)"):
        batch_terms(z0, z1, y[:-1], mu, temperature=0.5)
    with pytest.raises(ValueError, match="mean_features must have the shape"):
        batch_terms(z0, z1, y, mu, temperature=0.5, mean_features=z0[:, :2])
    with pytest.raises(ValueError, match="feature dimension 5, the class means have 4"):
        batch_terms(z0, z1, y, mu[:, :4], temperature=0.5)
    with pytest.raises(ValueError, match="anchor must be 2-d"):
        batch_terms(z0[0], z1[0], y[:1], mu, temperature=0.5)
    with pytest.raises(ValueError, match="empty batch"):
        batch_terms(z0[:0], z1[:0], y[:0], mu, temperature=0.5)


@pytest.mark.parametrize("bad", [-1, 4, 100])
def test_labels_out_of_range(batch, bad):
    z0, z1, y, mu = batch
    y = y.copy()
    y[7] = bad
    with pytest.raises(ValueError, match=rf"\[0, 4\), got labels\[7\] = {bad}"):
        batch_terms(z0, z1, y, mu, temperature=0.5)


def test_labels_wrong_type(batch):
    z0, z1, y, mu = batch
    with pytest.raises(TypeError, match="labels"):
        batch_terms(z0, z1, y.astype(float), mu, temperature=0.5)
    with pytest.raises(TypeError, match="labels"):
        batch_terms(z0, z1, "abc", mu, temperature=0.5)


@pytest.mark.parametrize("which", ["anchor", "positive", "mean_features"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite(batch, which, value):
    z0, z1, y, mu = (a.copy() for a in batch)
    zbar = (z0 + z1) / 10
    target = {"anchor": z0, "positive": z1, "mean_features": zbar}[which]
    target[3, 1] = value
    with pytest.raises(ValueError, match=rf"{which} must be finite, row 3"):
        batch_terms(z0, z1, y, mu, temperature=0.5, mean_features=zbar)


@pytest.mark.parametrize("which", ["anchor", "positive"])
def test_zero_norm(batch, which):
    z0, z1, y, mu = (a.copy() for a in batch)
    ({"anchor": z0, "positive": z1}[which])[5] = 0.0
    with pytest.raises(ValueError, match=rf"{which} row 5 has norm 0"):
        batch_terms(z0, z1, y, mu, temperature=0.5)


@pytest.mark.parametrize("t", [0, -1.0, math.nan, math.inf])
def test_bad_temperature(batch, t):
    z0, z1, y, mu = batch
    with pytest.raises(ValueError, match="temperature must be a finite real number > 0"):
        batch_terms(z0, z1, y, mu, temperature=t)
    with pytest.raises(ValueError, match="temperature"):
        check_temperature(t)
    with pytest.raises(TypeError, match="temperature"):
        check_temperature("0.5")


def test_bad_class_means(batch):
    z0, z1, y, mu = batch
    bad = mu.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="class_means must be finite, row 2"):
        batch_terms(z0, z1, y, bad, temperature=0.5)
    with pytest.raises(ValueError, match=r"class_means must be a \(C, d\) array, got shape \(5,\)"):
        batch_terms(z0, z1, y, mu[0], temperature=0.5)


def test_mixed_libraries_rejected(batch):
    torch = pytest.importorskip("torch")
    z0, z1, y, mu = batch
    with pytest.raises(TypeError, match="same array library"):
        batch_terms(torch.tensor(z0), z1, y, mu, temperature=0.5)


# --------------------------------------------------------------------------
# torch (and other array libraries) through the array API
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n,C,d,cover", CASES[::2] + [CASES[-1]])
def test_torch_matches_reference(n, C, d, cover):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(n + 7 * C)
    z0, z1, y, mu = make_batch(rng, n, C, d, cover=cover)
    ref = reference_batch(z0, z1, y, mu, 0.5)
    bt = batch_terms(torch.tensor(z0, requires_grad=True), torch.tensor(z1), torch.tensor(y),
                     torch.tensor(mu), temperature=0.5)
    assert_matches(bt, ref)
    # labels and class means from numpy, embeddings in float32
    bt32 = batch_terms(torch.tensor(z0, dtype=torch.float32),
                       torch.tensor(z1, dtype=torch.float32), y, mu, temperature=0.5)
    assert_matches(bt32, ref, rtol=2e-5, atol=2e-5)


def test_torch_half_precision_runs_in_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    z0, z1, y, mu = make_batch(rng, 32, 4, 8)
    bt = batch_terms(torch.tensor(z0, dtype=torch.bfloat16), torch.tensor(z1, dtype=torch.float16),
                     torch.tensor(y), mu, temperature=0.5)
    ref = reference_batch(torch.tensor(z0, dtype=torch.bfloat16).double().numpy(),
                          torch.tensor(z1, dtype=torch.float16).double().numpy(), y, mu, 0.5)
    assert_matches(bt, ref, rtol=1e-4, atol=1e-4)


def test_torch_errors_and_no_grad_graph():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    z0, z1, y, mu = make_batch(rng, 10, 3, 4)
    a = torch.tensor(z0, requires_grad=True)
    # ``a.grad`` stays None whatever batch_terms does (nothing calls backward), so
    # watch autograd itself: any op recorded on a tensor that requires grad saves
    # tensors for the backward pass, and the pack hook sees them.
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda x: saved.append(x) or x, lambda x: x):
        bt = batch_terms(a, torch.tensor(z1), torch.tensor(y), mu, temperature=0.5)
    assert saved == [], f"batch_terms recorded an autograd graph ({len(saved)} saved tensors)"
    assert all(type(v) is float for v in (bt.sum_contrastive, bt.sum_sup, bt.sum_d))
    assert_matches(bt, reference_batch(z0, z1, y, mu, 0.5))
    bad = torch.tensor(y)
    bad[0] = 3
    with pytest.raises(ValueError, match=r"labels\[0\] = 3"):
        batch_terms(a, torch.tensor(z1), bad, mu, temperature=0.5)
    with pytest.raises(TypeError, match="labels must have an integer dtype"):
        batch_terms(a, torch.tensor(z1), torch.tensor(y, dtype=torch.float32), mu,
                    temperature=0.5)


def test_jax_matches_reference():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    rng = np.random.default_rng(10)
    z0, z1, y, mu = make_batch(rng, 33, 5, 6)
    bt = batch_terms(jnp.asarray(z0), jnp.asarray(z1), jnp.asarray(y), mu, temperature=0.5)
    assert_matches(bt, reference_batch(z0, z1, y, mu, 0.5))


def test_import_does_not_load_frameworks():
    code = ("import sys, couponbound.training.batch, couponbound.training.monitor, couponbound.training, "
            "couponbound.training.class_means, couponbound.training.report; "
            "bad = [m for m in ('torch', 'jax', 'cupy', 'lightning') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_numpy_update_skips_the_compat_wrapper():
    """Under numpy 2 a numpy batch runs on numpy itself: array-api-compat's numpy wrapper
    (whose first use clones numpy's namespace, importing numpy.f2py and numpy.testing,
    about 50 ms) is never loaded by BoundMonitor.update or batch_terms."""
    if int(np.__version__.split(".")[0]) < 2:
        pytest.skip("numpy < 2 goes through array-api-compat's wrapper")
    code = ("import sys, numpy as np\n"
            "from couponbound.training import BoundMonitor, batch_terms\n"
            "rng = np.random.default_rng(0)\n"
            "mu = rng.normal(size=(4, 8)); mu /= 2 * np.linalg.norm(mu, axis=1, keepdims=True)\n"
            "y = rng.integers(0, 4, 32)\n"
            "z0, z1 = rng.normal(size=(32, 8)), rng.normal(size=(32, 8))\n"
            "BoundMonitor(4, 0.5, class_means=mu).update(z0, z1, y)\n"
            "batch_terms(z0, z1, y, mu, temperature=0.5)\n"
            "bad = [m for m in ('array_api_compat.numpy', 'numpy.f2py', 'scipy.stats') if m in sys.modules]\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


# --------------------------------------------------------------------------
# batch_terms_from_losses
# --------------------------------------------------------------------------

def _per_anchor_losses(z0, z1, y, mu, t):
    """Per-anchor losses, one anchor at a time (as a trainer would log them)."""
    u0 = z0 / np.linalg.norm(z0, axis=1, keepdims=True)
    u1 = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    zb = (u0 + u1) / 2
    present = sorted(set(int(v) for v in y))
    con, sup, sub, d = [], [], [], []
    for i in range(len(y)):
        s = u1 @ u0[i] / t
        con.append(_lse(s) - s[i])
        cls = mu @ u0[i] / t
        sup.append(_lse(cls) - cls[y[i]])
        sub.append(_lse(cls[present]) - cls[y[i]])
        d.append(min(0.0, float(u0[i] @ (mu[y[i]] - zb[i]))) / t)
    return np.array(con), np.array(sup), np.array(sub), np.array(d)


@pytest.mark.parametrize("cover", [True, False])
def test_from_losses_matches_embeddings(cover):
    rng = np.random.default_rng(11)
    z0, z1, y, mu = make_batch(rng, 30, 6, 5, cover=cover)
    con, sup, sub, d = _per_anchor_losses(z0, z1, y, mu, 0.5)
    a = batch_terms(z0, z1, y, mu, temperature=0.5)
    b = batch_terms_from_losses(contrastive=con, sup=sup, sub=sub, d=d, labels=y,
                                num_classes=6, in_batch=True)
    for f in ("n", "n_present", "n_repeat"):
        assert getattr(a, f) == getattr(b, f)
    for f in ("sum_contrastive", "sum_sup", "sum_sub", "sum_arora", "sum_collision", "sum_d"):
        assert getattr(b, f) == pytest.approx(getattr(a, f), rel=1e-10, abs=1e-10), f
    # batch means and class counts: same sums, no CURL term
    c = batch_terms_from_losses(contrastive=con.mean(), sup=sup.mean(), sub=sub.mean(),
                                d=d.mean(), batch_counts=np.bincount(y, minlength=6),
                                num_classes=6, in_batch=True)
    assert c.sum_contrastive == pytest.approx(a.sum_contrastive, rel=1e-12)
    assert c.sum_collision == pytest.approx(a.sum_collision, rel=1e-12)
    for f in ("sum_sup", "sum_sub", "sum_d"):
        assert getattr(c, f) == pytest.approx(getattr(a, f), rel=1e-10, abs=1e-10), f
    assert c.n_repeat == a.n_repeat and c.n_present == a.n_present
    assert math.isnan(c.sum_arora)


def test_from_losses_sub_defaults_to_sup_on_covered_batch():
    bt = batch_terms_from_losses(contrastive=[1.0, 2.0, 3.0], sup=[0.5, 0.7, 0.9], d=0.0,
                                 labels=[0, 1, 1], num_classes=2, in_batch=True)
    assert bt.sum_sub == pytest.approx(2.1)
    assert bt.sum_arora == pytest.approx(0.5)
    assert bt.sum_collision == pytest.approx(2 * math.log(2))


def test_from_losses_torch_inputs():
    torch = pytest.importorskip("torch")
    bt = batch_terms_from_losses(contrastive=torch.tensor([1.0, 2.0]), sup=torch.tensor(0.5),
                                 d=torch.tensor([-0.1, -0.2]), labels=torch.tensor([0, 1]),
                                 num_classes=2, in_batch=True)
    assert bt.sum_contrastive == 3.0 and bt.sum_sup == 1.0
    assert bt.sum_d == pytest.approx(-0.3)


@pytest.mark.parametrize("kwargs,match", [
    ({"contrastive": [1.0, math.nan]}, "contrastive must be finite"),
    ({"contrastive": [1.0, math.inf]}, "contrastive must be finite"),
    ({"sup": [-0.1, 1.0]}, "sup is a loss and must be >= 0"),
    ({"d": [0.1, -1.0]}, "d is NS21's d"),
    ({"contrastive": [1.0, 2.0, 3.0]}, r"contrastive must be a scalar .* shape \(2,\)"),
    ({"labels": [0, 5]}, r"labels\[1\] = 5"),
    ({"labels": []}, "empty batch"),
    ({"labels": None, "batch_counts": [1, 0, 1]}, r"batch_counts must have shape"),
    ({"labels": None, "batch_counts": [0, 0]}, "empty batch"),
    ({"labels": None, "batch_counts": [1.5, 0.5]}, "batch_counts must be integers"),
    ({"labels": [0, 0]}, "sub .* is required: the batch misses class 1"),
    ({"in_batch": None}, "which negatives did the InfoNCE losses use"),
    ({"in_batch": False}, "in_batch=False needs negative_labels"),
    ({"negative_labels": [0, 1, 1]}, "in_batch=True says the negatives were the batch"),
])
def test_from_losses_bad_input(kwargs, match):
    base = {"contrastive": [1.0, 2.0], "sup": [0.5, 0.5], "d": [-0.1, -0.1],
            "labels": [0, 1], "num_classes": 2, "in_batch": True}
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        batch_terms_from_losses(**base)


def test_from_losses_needs_labels_or_counts():
    with pytest.raises(TypeError, match="exactly one of labels"):
        batch_terms_from_losses(contrastive=1.0, sup=1.0, d=0.0, num_classes=2, in_batch=True)
    with pytest.raises(TypeError, match="exactly one of labels"):
        batch_terms_from_losses(contrastive=1.0, sup=1.0, d=0.0, num_classes=2,
                                labels=[0, 1], batch_counts=[1, 1], in_batch=True)


# --------------------------------------------------------------------------
# class means
# --------------------------------------------------------------------------

def test_class_mean_estimator_matches_loop():
    rng = np.random.default_rng(12)
    C, d = 5, 4
    parts = [(rng.normal(size=(n, d)), rng.integers(0, C, n)) for n in (7, 1, 30, 12)]
    parts.append((rng.normal(size=(5, d)), np.arange(5)))
    ref = np.zeros((C, d))
    for c in range(C):
        rows = [z[i] for z, y in parts for i in range(len(y)) if y[i] == c]
        ref[c] = np.mean(rows, axis=0)
    np.testing.assert_allclose(estimate_class_means(parts, C), ref, rtol=1e-12)
    # merge and state round trip
    a, b = ClassMeanEstimator(C), ClassMeanEstimator(C)
    for z, y in parts[:2]:
        a.update(z, y)
    for z, y in parts[2:]:
        b.update(z, y)
    c = ClassMeanEstimator(C)
    c.load_state_dict(a.state_dict())
    c.merge(b)
    np.testing.assert_allclose(c.compute(), ref, rtol=1e-12)
    # sync: a two-process sum simulated with the other's statistics
    other = b.state_dict()
    vec_b = np.concatenate([np.asarray(other["counts"], float), np.ravel(other["sums"])])
    a.sync(lambda v: v + vec_b)
    np.testing.assert_allclose(a.compute(), ref, rtol=1e-12)


def test_class_mean_estimator_errors():
    est = ClassMeanEstimator(3)
    est.update(np.ones((2, 2)), [0, 1])
    before = est.state_dict()
    with pytest.raises(ValueError, match="class means are undefined for 1 class"):
        est.compute()
    with pytest.raises(ValueError, match=r"labels\[0\] = 3"):
        est.update(np.ones((2, 2)), [3, 0])
    with pytest.raises(ValueError, match="mean_features must be finite, row 1"):
        est.update(np.array([[1.0, 1.0], [np.nan, 0.0]]), [0, 1])
    with pytest.raises(ValueError, match="feature dimension 3"):
        est.update(np.ones((2, 3)), [0, 1])
    assert est.state_dict() == before
    # an all_reduce that does not return sums of the local statistics is refused
    for bad, match in ((lambda v: v[:-1], "all_reduce returned shape"),
                       (lambda v: v * np.nan, "all_reduce returned shape"),
                       (lambda v: v * 0.0, "not sums of the local counts"),
                       (lambda v: v * 1.5, "not sums of the local counts")):
        with pytest.raises(ValueError, match=match):
            est.sync(bad)
        assert est.state_dict() == before


def test_class_mean_estimator_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    z, y = rng.normal(size=(20, 3)), np.arange(20) % 4
    est = ClassMeanEstimator(4)
    est.update(torch.tensor(z), torch.tensor(y))
    # independent reference: the mean of each class's rows, by a plain loop
    ref = np.array([np.mean([z[i] for i in range(len(y)) if y[i] == c], axis=0) for c in range(4)])
    np.testing.assert_allclose(est.compute(), ref, rtol=1e-12)
    assert est.counts.tolist() == [5, 5, 5, 5]


def test_class_mean_estimator_rejects_bad_state():
    est = ClassMeanEstimator(2)
    est.update(np.array([[1.0, 0.0], [0.0, 1.0]]), [0, 1])
    good = est.state_dict()
    before = est.state_dict()
    bad_states = [
        {**good, "format": "x"},
        {**good, "num_classes": 3},
        {k: v for k, v in good.items() if k != "counts"},
        {**good, "counts": [1, -1]},
        {**good, "counts": [0.5, 1.0]},
        {**good, "sums": [[np.nan, 0.0], [0.0, 1.0]]},
        {**good, "sums": None},
    ]
    for state in bad_states:
        with pytest.raises(ValueError):
            est.load_state_dict(state)
        assert est.state_dict() == before
    fresh = ClassMeanEstimator(2)
    fresh.load_state_dict(good)
    np.testing.assert_array_equal(fresh.compute(), est.compute())


@pytest.mark.parametrize("t", [0.02, 0.025, 0.05, 2.0])
def test_numpy_matches_reference_across_temperatures(t):
    """Both stabilisers of the InfoNCE log-sum-exp (the bound 1/t for t >= 0.025,
    row maxima below) agree with the reference, in float64 and float32."""
    rng = np.random.default_rng(int(t * 1000))
    z0, z1, y, mu = make_batch(rng, 64, 10, 16, cover=None)
    ref = reference_batch(z0, z1, y, mu, t)
    assert_matches(batch_terms(z0, z1, y, mu, temperature=t), ref)
    bt32 = batch_terms(z0.astype(np.float32), z1.astype(np.float32), y, mu, temperature=t)
    assert np.isfinite(bt32.sum_contrastive)
    assert bt32.sum_contrastive == pytest.approx(ref["contrastive"], rel=1e-4)
