"""Independent per-anchor references for BoundMonitor (shares no code with couponbound).

Everything here is written from the definitions (NS21 Sections 2-4 and the
measurement protocol; queue and NT-Xent negatives as documented on the
mathematics page), one anchor at a time, in float64 Python loops: each
anchor's candidates, its draw of classes, its ``Col``, its losses.  The
theory columns come from exact rational arithmetic for a uniform prior.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


def unit(v):
    """``v / |v|``, scaling first so that tiny or huge vectors normalise correctly."""
    v = np.asarray(v, dtype=np.float64)
    s = float(np.max(np.abs(v)))
    w = v / s
    return w / math.sqrt(float(w @ w))


def lse(values):
    m = max(values)
    return m + math.log(math.fsum(math.exp(x - m) for x in values))


def classifier(a, y, mu, present, t):
    """``(l^mu(all), l^mu(present))`` of the anchor feature ``a`` with label ``y``."""
    logits = [float(a @ mu[c]) / t for c in range(len(mu))]
    sup = lse(logits) - logits[y]
    sub = lse([logits[c] for c in sorted(present)]) - logits[y]
    return sup, sub


def anchor_row(a, pos, negs, y, neg_labels, mu, zbar, t, C, col_scale=1):
    """One anchor: its losses and counts from its candidates and its draw of classes.

    ``negs``/``neg_labels``: the anchor's negatives; ``col_scale`` is 1 (each
    negative counted once).  Returns a dict of per-anchor values.
    """
    cand = [float(a @ pos) / t] + [float(a @ q) / t for q in negs]
    con = lse(cand) - cand[0]
    present = {int(y)} | {int(l) for l in neg_labels}
    col = sum(1 for l in neg_labels if int(l) == int(y))
    sup, sub = classifier(a, int(y), mu, present, t)
    d = min(0.0, float(a @ (mu[int(y)] - zbar))) / t
    return {"con": con, "sup": sup, "sub": sub, "lncol": math.log1p(col), "d": d,
            "repeat": col >= 1, "covered": len(present) == C, "unique": col == 0, "col": col}


def default_zbar(z0, z1):
    return [(unit(a) + unit(b)) / 2 for a, b in zip(z0, z1, strict=True)]


def rows_infonce(z0, z1, y, mu, t, C, zbar=None):
    """In-batch InfoNCE: anchor ``i``'s negatives are view 1 of the other samples."""
    n = len(y)
    u0 = [unit(v) for v in z0]
    u1 = [unit(v) for v in z1]
    zb = default_zbar(z0, z1) if zbar is None else [np.asarray(v, float) for v in zbar]
    out = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        out.append(anchor_row(u0[i], u1[i], [u1[j] for j in others], y[i],
                              [y[j] for j in others], mu, zb[i], t, C))
    return out


def rows_queue(z0, z1, y, keys, key_labels, mu, t, C, zbar=None):
    """InfoNCE with a queue: every anchor's negatives are the keys."""
    u0 = [unit(v) for v in z0]
    u1 = [unit(v) for v in z1]
    uq = [unit(v) for v in keys]
    zb = default_zbar(z0, z1) if zbar is None else [np.asarray(v, float) for v in zbar]
    return [anchor_row(u0[i], u1[i], uq, y[i], key_labels, mu, zb[i], t, C)
            for i in range(len(y))]


def rows_per_anchor(z0, z1, y, negs, neg_labels, mu, t, C):
    """InfoNCE where anchor ``i`` has its own negatives ``negs[i]`` with labels ``neg_labels[i]``."""
    u0 = [unit(v) for v in z0]
    u1 = [unit(v) for v in z1]
    zb = default_zbar(z0, z1)
    return [anchor_row(u0[i], u1[i], [unit(q) for q in negs[i]], y[i], neg_labels[i], mu,
                       zb[i], t, C) for i in range(len(y))]


def rows_nt_xent(z0, z1, y, mu, t, C, zbar=None):
    """NT-Xent: 2N anchors (view 0 of every sample, then view 1); anchor (v, i)'s
    negatives are both views of every other sample, its positive the other view of i."""
    N = len(y)
    views = [[unit(v) for v in z0], [unit(v) for v in z1]]
    zb = default_zbar(z0, z1) if zbar is None else [np.asarray(v, float) for v in zbar]
    out = []
    for v in (0, 1):
        for i in range(N):
            negs, labs = [], []
            for w in (0, 1):
                for j in range(N):
                    if j != i:
                        negs.append(views[w][j])
                        labs.append(y[j])
            out.append(anchor_row(views[v][i], views[1 - v][i], negs, y[i], labs, mu, zb[i],
                                  t, C))
    return out


# ---------------------------------------------------------------------------
# theory, exact, uniform prior
# ---------------------------------------------------------------------------

def upsilon_exact(draws_besides_anchor, C):
    n = draws_besides_anchor + 1
    num = sum((-1) ** i * math.comb(C, i) * (C - i) ** n for i in range(C + 1))
    return float(Fraction(num, C**n))


def binom_pmf_exact(m, K, C):
    return Fraction(math.comb(K, m) * (C - 1) ** (K - m), C**K)


def theory_infonce(K, C):
    """``(upsilon_{K+1}, tau_K, E ln(1 + Col))`` with ``Col ~ Bin(K, 1/C)``."""
    tau = 1.0 - float(Fraction(C - 1, C) ** K)
    coll = math.fsum(float(binom_pmf_exact(m, K, C)) * math.log1p(m) for m in range(K + 1))
    return upsilon_exact(K, C), tau, coll


def theory_nt_xent(N, C):
    """NT-Xent on N samples: N - 1 other samples, ``Col = 2 Bin(N - 1, 1/C)``."""
    m_draws = N - 1
    tau = 1.0 - float(Fraction(C - 1, C) ** m_draws)
    coll = math.fsum(float(binom_pmf_exact(m, m_draws, C)) * math.log1p(2 * m)
                     for m in range(m_draws + 1))
    return upsilon_exact(m_draws, C), tau, coll


# ---------------------------------------------------------------------------
# the report over batches
# ---------------------------------------------------------------------------

def report(batches, theories=None):
    """The monitor's report from per-anchor rows of each batch (and its theory triple)."""
    rows = [r for b in batches for r in b]
    N = len(rows)

    def tot(key, pred=lambda r: True):
        return math.fsum(r[key] for r in rows if pred(r))

    n_cov = sum(1 for r in rows if r["covered"])
    n_unique = sum(1 for r in rows if r["unique"])
    S_sup = tot("sup", lambda r: r["covered"]) / N
    S_sub = tot("sub", lambda r: not r["covered"]) / N
    S_arora = tot("sub", lambda r: r["unique"]) / N
    L = tot("con") / N
    coll = tot("lncol") / N
    d = tot("d") / N
    ups = n_cov / N
    tau = sum(1 for r in rows if r["repeat"]) / N
    out = {
        "contrastive": L, "upsilon": ups, "tau": tau, "collision": coll, "d": d,
        "sup": S_sup / ups if ups > 0 else 0.0,
        "sub": S_sub / (1 - ups) if ups < 1 else 0.0,
        "arora_sub": S_arora / (1 - tau) if n_unique else 0.0,
        "sup_all": tot("sup") / N,
        "ns21_bound": 0.5 * (S_sup + S_sub + coll) + d,
        "arora_bound": S_arora + coll + d,
        "n_anchors": N, "n_batches": len(batches),
    }
    out["margin"] = L - out["ns21_bound"]
    if theories is not None:
        for k, name in enumerate(("theory_upsilon", "theory_tau", "theory_collision")):
            out[name] = math.fsum(len(b) * th[k] for b, th in zip(batches, theories,
                                                                  strict=True)) / N
    return out


def collision_diagnostic_loop(z0, z1, labels):
    """NS21's notebooks/collision.ipynb, literally: per class with n_c >= 2, per sample j,
    (1/(n_c - 1)) sum_{i in c} |z0_i . z1_j - z0_j . z1_j|; the mean over all such j."""
    u0 = [unit(v) for v in z0]
    u1 = [unit(v) for v in z1]
    vals = []
    for c in sorted(set(int(l) for l in labels)):
        idx = [i for i, l in enumerate(labels) if int(l) == c]
        if len(idx) < 2:
            continue
        for j in idx:
            own = float(u0[j] @ u1[j])
            vals.append(math.fsum(abs(float(u0[i] @ u1[j]) - own) for i in idx)
                        / (len(idx) - 1))
    return math.fsum(vals) / len(vals) if vals else math.nan


# --------------------------------------------------------------------------
# the null law of one batch's rates, by enumerating class-count vectors
# --------------------------------------------------------------------------

def _compositions(n, C):
    """Every vector of C non-negative integers summing to n."""
    import itertools

    for cuts in itertools.combinations(range(n + C - 1), C - 1):
        prev, out = -1, []
        for c in cuts:
            out.append(c - prev - 1)
            prev = c
        out.append(n + C - 2 - prev)
        yield out


def count_law(s, probs=None, counts=None):
    """``(vector, probability)`` of the class counts of s draws, as exact Fractions:
    multinomial over ``probs`` (Fractions) or multivariate hypergeometric over ``counts``."""
    C = len(probs if probs is not None else counts)
    for c in _compositions(s, C):
        if probs is not None:
            w = Fraction(math.factorial(s))
            for ci, pi in zip(c, probs, strict=False):
                w *= Fraction(pi) ** ci / math.factorial(ci)
        else:
            if any(ci > ni for ci, ni in zip(c, counts, strict=False)):
                continue
            w = Fraction(math.prod(math.comb(ni, ci) for ci, ni in zip(c, counts, strict=False)),
                         math.comb(sum(counts), s))
        yield c, w


def null_variances_exact(scheme, n, K, probs=None, counts=None):
    """Variances of one batch's (upsilon-hat, tau-hat, collision) under random draws,
    by summing over every class-count vector (mpmath at 40 digits)."""
    import mpmath

    def F(x):
        x = Fraction(x)
        return mpmath.mpf(x.numerator) / x.denominator

    with mpmath.workdps(40):
        p = ([Fraction(x) for x in probs] if probs is not None
             else [Fraction(x, sum(counts)) for x in counts])
        C = len(p)
        law = lambda s: count_law(s, probs=p if counts is None else None, counts=counts)  # noqa: E731
        if scheme == "queue":
            out = []
            e1 = e2 = mpmath.mpf(0)
            for q, w in law(K):
                miss = [c for c in range(C) if q[c] == 0]
                if not miss:
                    v = v2 = mpmath.mpf(1)
                elif len(miss) == 1:
                    pc = F(p[miss[0]])
                    v, v2 = pc, pc * pc + pc * (1 - pc) / n
                else:
                    v = v2 = mpmath.mpf(0)
                e1 += F(w) * v
                e2 += F(w) * v2
            out.append(e2 - e1 * e1)
            for h in (lambda x: mpmath.mpf(x >= 1), lambda x: mpmath.log(1 + x)):
                es = es2 = eph2 = mpmath.mpf(0)
                for q, w in law(K):
                    S = mpmath.fsum(F(pc) * h(qc) for pc, qc in zip(p, q, strict=False))
                    es += F(w) * S
                    es2 += F(w) * S * S
                    eph2 += F(w) * mpmath.fsum(F(pc) * h(qc) ** 2
                                                        for pc, qc in zip(p, q, strict=False))
                out.append((eph2 - es2) / n + es2 - es * es)
            return tuple(float(v) for v in out)
        N = n // 2 if scheme == "nt_xent" else n
        acc = [mpmath.mpf(0)] * 6
        for c, w in law(N):
            u = mpmath.mpf(all(x > 0 for x in c))
            t = mpmath.mpf(sum(x for x in c if x >= 2)) / N
            if scheme == "nt_xent":
                g = mpmath.fsum(x * mpmath.log(1 + 2 * (x - 1)) for x in c if x > 0) / N
            else:
                g = mpmath.fsum(x * mpmath.log(x) for x in c if x > 0) / N
            wm = F(w)
            for i, v in enumerate((u, u * u, t, t * t, g, g * g)):
                acc[i] += wm * v
        return tuple(float(acc[2 * i + 1] - acc[2 * i] ** 2) for i in range(3))


def shrink(mu, top=0.9):
    """Class means with every row of norm above ``top`` scaled down to ``top``: the monitor
    refuses means of norm > 1 (they are means of unit vectors)."""
    mu = np.array(mu, dtype=np.float64)
    norms = np.linalg.norm(mu, axis=1, keepdims=True)
    return np.where(norms > top, mu * (top / np.maximum(norms, 1e-300)), mu)
