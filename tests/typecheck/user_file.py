"""A user's file, checked with ``mypy --strict`` by tests/test_typing.py.

Scalars type as ``float`` and arrays as ``NDArray[np.float64]`` without a
cast: every public numeric function declares it with ``@overload``.  The file
also runs (pytest imports it), so the static types are checked against the
values too.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from couponbound import (
    Prior,
    bao22_min_contrastive,
    collision_prob,
    coverage_prob,
    expected_classes,
    expected_false_negatives,
    expected_log_collision,
    log_coverage_prob,
    ns21_bound_curve,
)
from couponbound.asymptotic import (
    expected_log_collision_expansion,
    gumbel_coverage,
    log_gumbel_coverage,
    log_poisson_coverage,
    poisson_coverage,
    tail_coverage,
)

prior = Prior.uniform(10)

# --- collision.py -------------------------------------------------------------
tau: float = collision_prob(31, 10)
taus: NDArray[np.float64] = collision_prob([1, 31], prior)
elog: float = expected_log_collision(np.int64(31), counts=[1, 2, 3])
elogs: np.ndarray = expected_log_collision(np.array([1, 31]), 10)

# --- coverage.py --------------------------------------------------------------
ups: float = coverage_prob(31, 10)
upss: np.ndarray = coverage_prob([1, 2], 10)
lups: NDArray[np.float64] = log_coverage_prob(np.array([31, 63]), prior)

# --- occupancy.py -------------------------------------------------------------
ed: float = expected_classes(31, 10)
eds: NDArray[np.float64] = expected_classes([1, 31], 10)
fn: float = expected_false_negatives(4096, 1000)
fns: NDArray[np.float64] = expected_false_negatives(np.array([1, 2]), prior)

# --- asymptotic.py ------------------------------------------------------------
g: float = gumbel_coverage(31, 10)
gs: NDArray[np.float64] = gumbel_coverage([31, 63], 10)
lg: float = log_gumbel_coverage(31, 10)
lgs: NDArray[np.float64] = log_gumbel_coverage(np.arange(3), prior)
pc: float = poisson_coverage(31, probs=[0.5, 0.5])
pcs: NDArray[np.float64] = poisson_coverage([31], 10)
lpc: float = log_poisson_coverage(31, 10)
lpcs: NDArray[np.float64] = log_poisson_coverage([[31]], 10)
t: float = tail_coverage(31, 10)
ts: NDArray[np.float64] = tail_coverage([31, 63], 10)
ex: float = expected_log_collision_expansion(1000, 10)
exs: NDArray[np.float64] = expected_log_collision_expansion([1000, 2000], 10)

# --- bounds.py ----------------------------------------------------------------
bc: float = ns21_bound_curve(1.8, 1.7, -1.0, 31, 10)
bcs: NDArray[np.float64] = ns21_bound_curve(1.8, 1.7, -1.0, [31, 63], 10)
mc: float = bao22_min_contrastive(31, 10)
mcs: NDArray[np.float64] = bao22_min_contrastive([31, 63], prior)

SCALARS = (tau, elog, g, lg, pc, lpc, t, ex, bc, mc)
ARRAYS = (taus, elogs, gs, lgs, pcs, lpcs, ts, exs, bcs, mcs)
assert all(type(v) is float for v in SCALARS)
assert all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in ARRAYS)
