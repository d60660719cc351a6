"""Fuzz the bounds and the training hook (issue 11): only ValueError / TypeError escape.

The maths layer is fuzzed in ``test_fuzz.py``; this module reuses its junk
values, time budget and warning checks for :class:`BoundTerms`,
``sup_upper_bounds``, BAO22's minima, ``ns21_bound_curve`` and the
:class:`BoundMonitor` (constructor, ``update_losses``, ``update``,
``load_state_dict``).  A refused batch or state must leave the monitor's state
exactly as it was.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz import FUZZ, JUNK, junk
from test_fuzz import probe as probe_kind

from couponbound import (
    BoundMonitor,
    BoundTerms,
    Prior,
    bao22_min_contrastive,
    bao22_min_supervised,
    ns21_bound_curve,
    sup_upper_bounds,
)


def probe(func: Any, *args: Any, **kwargs: Any) -> Any:
    """A fuzzed call: it may answer or refuse with ValueError/TypeError, nothing else."""
    return probe_kind(JUNK, func, *args, **kwargs)


small_K = st.one_of(st.integers(0, 300), st.lists(st.integers(0, 300), min_size=1, max_size=4))
K_value = st.one_of(small_K, st.integers(0, 2**62), junk)
C_value = st.one_of(st.integers(1, 60), st.builds(Prior.uniform, st.integers(1, 30)), junk)

#: Marks "use the valid value" in the update fuzz.
OK = object()
real = st.one_of(st.floats(-5, 5), junk)
loss_like = st.one_of(st.floats(0, 10), st.lists(st.floats(0, 10), min_size=1, max_size=4), junk)


@FUZZ
@given(contrastive=real, sup=real, sub=real, collision=real, d=real, upsilon=real, tau=real,
       K=st.one_of(st.none(), st.integers(0, 100), junk), C=st.one_of(st.none(), st.integers(1, 50), junk))
def test_fuzz_bound_terms(contrastive: Any, sup: Any, sub: Any, collision: Any, d: Any,
                          upsilon: Any, tau: Any, K: Any, C: Any) -> None:
    probe(BoundTerms, contrastive=contrastive, sup=sup, sub=sub, collision=collision, d=d,
          upsilon=upsilon, tau=tau, K=K, C=C)


@FUZZ
@given(contrastive=loss_like, K=K_value, C=C_value, d=real, sub=st.one_of(st.none(), real),
       B=real, warn=st.one_of(st.booleans(), junk))
def test_fuzz_sup_upper_bounds(contrastive: Any, K: Any, C: Any, d: Any, sub: Any, B: Any,
                               warn: Any) -> None:
    probe(sup_upper_bounds, contrastive, K, C, d=d, sub=sub, B=B, warn=warn)


@FUZZ
@given(K=K_value, C=C_value, B=real)
def test_fuzz_bao22_minima(K: Any, C: Any, B: Any) -> None:
    value = probe(bao22_min_contrastive, K, C, B=B)
    if value is not None:
        assert not np.any(np.isnan(np.asarray(value, dtype=float)))
    probe(bao22_min_supervised, C, B=B)


@FUZZ
@given(sup=real, K=K_value, C=C_value, sub=real, d=real)
def test_fuzz_ns21_bound_curve(sup: Any, K: Any, C: Any, sub: Any, d: Any) -> None:
    probe(ns21_bound_curve, sup, K, C, sub=sub, d=d)


@FUZZ
@given(C=st.one_of(st.integers(1, 20), junk), t=st.one_of(st.floats(0.05, 5), junk),
       loss=st.one_of(st.sampled_from(["infonce", "nt_xent"]), junk))
def test_fuzz_monitor_constructor(C: Any, t: Any, loss: Any) -> None:
    probe(BoundMonitor, C, t, loss=loss)


def _fresh() -> BoundMonitor:
    mon = BoundMonitor(3, 0.5, warn_nonrandom=False)
    mon.update_losses(contrastive=[2.0, 2.5, 3.0], sup=[1.0, 1.2, 0.9], d=[-0.1, -0.2, -0.3],
                      labels=[0, 1, 2], in_batch=True)
    return mon


@FUZZ
@given(contrastive=loss_like, sup=loss_like, d=loss_like, labels=st.one_of(
    st.lists(st.integers(-1, 4), min_size=1, max_size=4), junk),
    negative_labels=st.one_of(st.none(), st.lists(st.integers(0, 3), max_size=5), junk))
def test_fuzz_update_losses_leaves_a_refused_batch_out(contrastive: Any, sup: Any, d: Any,
                                                       labels: Any, negative_labels: Any) -> None:
    mon = _fresh()
    before = copy.deepcopy(mon.state_dict())
    kwargs: dict[str, Any] = {"contrastive": contrastive, "sup": sup, "d": d, "labels": labels}
    if negative_labels is not None:
        kwargs["negative_labels"] = negative_labels
    else:
        kwargs["in_batch"] = True
    if probe(mon.update_losses, **kwargs) is None and mon.n_batches == 1:
        assert mon.state_dict() == before


@FUZZ
@given(anchor=st.one_of(st.just(OK), junk), positive=st.one_of(st.just(OK), junk),
       labels=st.one_of(st.just(OK), junk), scale=st.sampled_from([1.0, 1e-170, 1e150, 0.0]))
def test_fuzz_update_embeddings(anchor: Any, positive: Any, labels: Any, scale: float) -> None:
    rng = np.random.default_rng(0)
    mon = BoundMonitor(3, 0.5, class_means=np.eye(3)[:, :3] * 0.5, warn_nonrandom=False)
    z = rng.normal(size=(4, 3)) * scale
    args = [z if anchor is OK else anchor, z[::-1] if positive is OK else positive,
            np.array([0, 1, 2, 0]) if labels is OK else labels]
    before = copy.deepcopy(mon.state_dict())
    if probe(mon.update, *args) is None:
        assert mon.state_dict() == before


@FUZZ
@given(key=st.sampled_from(["n_batches", "n_anchors", "n_covered", "sum_contrastive", "sum_d",
                            "config", "version", "format", "window"]),
       value=junk)
def test_fuzz_load_state_dict(key: Any, value: Any) -> None:
    good = _fresh().state_dict()
    bad = json.loads(json.dumps(good))  # a deep, JSON-like copy
    target = bad["state"] if key in bad.get("state", {}) else bad
    target[key] = value
    mon = BoundMonitor(3, 0.5, warn_nonrandom=False)
    before = copy.deepcopy(mon.state_dict())

    def load(state: Any) -> bool:  # load_state_dict returns None: mark an accepted state
        mon.load_state_dict(state)
        return True

    if probe(load, bad) is None:
        assert mon.state_dict() == before
