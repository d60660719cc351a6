"""The one vectorisation layer of the maths modules.

Every public numeric function of :mod:`couponbound.coverage`,
:mod:`couponbound.asymptotic` and :mod:`couponbound.collision` is a thin
wrapper: it turns its prior arguments into a :class:`~couponbound.Prior`
(:func:`couponbound._prior.as_prior`) and hands a private *kernel* to
:func:`evaluate`.  A kernel ``f(n, prior)`` takes a 1-d ``int64`` array of
sorted, distinct draw counts and returns a ``float64`` array of the same
length.  :func:`evaluate` does the rest, once for the whole package:

* validates ``K`` (integers in ``[0, 2**62]``, Python or numpy of any
  width, integral floats accepted, bool and strings refused) and ``include_anchor`` (a real bool);
* adds the anchor (``n = K + 1``) when asked;
* refuses, without replacement, batches larger than the data set;
* evaluates the kernel once per distinct value and broadcasts back;
* returns a Python ``float`` for scalar input and an ndarray of the input's
  shape for array input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from couponbound._prior import Prior
from couponbound._validate import check_flag, check_int_array

__all__ = ["FloatOrArray", "Kernel", "draws", "evaluate", "finish"]

#: What every public numeric function returns: ``float`` for a scalar, else an ndarray.
FloatOrArray: TypeAlias = float | NDArray[np.float64]
#: ``f(n, prior)``: sorted distinct ``int64`` draw counts -> ``float64`` values.
Kernel: TypeAlias = Callable[[NDArray[np.int64], Prior], NDArray[np.float64]]


def finish(values: NDArray[Any], scalar: bool) -> FloatOrArray:
    """``values`` as a Python ``float`` when the input was a scalar, else as a float64 array."""
    if scalar:
        return float(np.asarray(values).reshape(()))
    return np.asarray(values, dtype=np.float64)


def draws(K: Any, prior: Prior | None = None, *, include_anchor: Any = True,
          negatives_only: bool = False, name: str = "K") -> tuple[NDArray[np.int64], bool]:
    """Validate ``K``; return the number of draws ``n`` (int64 array) and whether ``K`` was a scalar.

    ``include_anchor=True`` gives ``n = K + 1`` (NS21's anchor and its ``K``
    negatives), ``False`` gives ``n = K``.  ``negatives_only=True`` (the
    collision functions, no ``include_anchor``) gives ``n = K`` for
    quantities of the ``K`` negatives alone, whose batch still holds the
    anchor.  With a without-replacement ``prior`` the batch (``n`` samples,
    or ``K + 1`` with ``negatives_only``) must fit in the data set.
    """
    anchor = False if negatives_only else check_flag(include_anchor, "include_anchor")
    k_arr, scalar = check_int_array(K, name, minimum=0)
    extra = 1 if negatives_only or anchor else 0  # K <= MAX_INT = 2**62: K + 1 fits in int64
    n = k_arr + 1 if anchor else k_arr
    if prior is not None and not prior.replacement:
        N = prior.N
        assert N is not None  # as_prior guarantees counts without replacement
        too_big = k_arr + extra > N
        if np.any(too_big):
            bad = int(k_arr.ravel()[np.argmax(too_big.ravel())])
            raise ValueError(
                f"{name} = {bad} needs {bad + extra} distinct samples, but the data set has only "
                f"N = {N} (replacement=False allows {name} <= {N - extra})"
            )
    return n, scalar


def evaluate(kernel: Kernel, K: Any, prior: Prior, *, include_anchor: Any = True,
             negatives_only: bool = False, name: str = "K") -> FloatOrArray:
    """Apply ``kernel`` to the draws of ``K`` under ``prior``: the public functions' one body.

    See :func:`draws` for ``include_anchor`` and ``negatives_only``.  The
    kernel sees each distinct number of draws once, sorted.
    """
    n, scalar = draws(K, prior, include_anchor=include_anchor, negatives_only=negatives_only,
                      name=name)
    uniq, inverse = np.unique(n.ravel(), return_inverse=True)
    values = np.asarray(kernel(uniq, prior), dtype=np.float64)
    return finish(values[inverse.ravel()].reshape(n.shape), scalar)
