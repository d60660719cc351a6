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
* adds the anchor (:math:`n = K + 1`) when asked;
* refuses, without replacement, batches larger than the data set;
* evaluates the kernel once per distinct value and broadcasts back;
* returns a Python ``float`` for scalar input and an ndarray of the input's
  shape for array input.

Functions of several array arguments (the theoretical curves of
:mod:`couponbound.bounds`) go through :func:`evaluate_broadcast`: each
argument is validated once by its checker, the shapes are broadcast together
(an error names every argument's shape), and a kernel receives the validated
arrays and the broadcast shape; :func:`finish_shape` gives its outputs the
same ``float``-or-ndarray rule.  ``K`` is validated there into a
:class:`Negatives`, which the public maths functions accept without checking
it again, so a bound validates each argument exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import numpy as np
from numpy.typing import NDArray

from couponbound._prior import Prior, as_prior
from couponbound._validate import check_flag, check_int_array

__all__ = [
    "ArrayIn",
    "Checker",
    "FloatArray",
    "FloatOrArray",
    "Kernel",
    "Negatives",
    "PriorArgs",
    "ScalarIn",
    "arguments",
    "draws",
    "evaluate",
    "evaluate_broadcast",
    "finish",
    "finish_shape",
    "negatives",
]

#: What every public numeric function returns: ``float`` for a scalar, else an ndarray.
FloatOrArray: TypeAlias = float | NDArray[np.float64]
#: A scalar argument: the public numeric functions return a ``float`` for it (their
#: ``@overload`` s say so to type checkers).
ScalarIn: TypeAlias = int | float | np.integer[Any] | np.floating[Any]
#: An array argument (an ndarray or a nested sequence): they return a :data:`FloatArray`.
ArrayIn: TypeAlias = NDArray[Any] | Sequence[Any]
#: What they return for an array argument.
FloatArray: TypeAlias = NDArray[np.float64]
#: ``f(n, prior)``: sorted distinct ``int64`` draw counts -> ``float64`` values.
Kernel: TypeAlias = Callable[[NDArray[np.int64], Prior], NDArray[np.float64]]


#: ``check(value, name)``: one argument validated into an ndarray, or a named error.
Checker: TypeAlias = Callable[[Any, str], Any]
_R = TypeVar("_R")


@dataclass(frozen=True, eq=False)
class Negatives:
    """Numbers of negatives ``K`` already validated (``int64``, each in ``[0, 2**62]``).

    :func:`draws` takes it as is, so a public function called with one
    (as the bounds call the maths) does not validate ``K`` again.
    """

    array: NDArray[np.int64]
    scalar: bool

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        return np.asarray(self.array, dtype=dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape


def negatives(value: Any, name: str = "K") -> Negatives:
    """Validate numbers of negatives once (a :data:`Checker` for ``K``)."""
    arr, scalar = check_int_array(value, name, minimum=0)
    return Negatives(arr, scalar)


def arguments(**named: tuple[Any, Checker]) -> tuple[dict[str, Any], tuple[int, ...]]:
    """Validate each ``name=(value, checker)`` once and broadcast the shapes together.

    Returns the validated values by name and their broadcast shape.

    >>> from couponbound._validate import check_real_array
    >>> args, shape = arguments(L=([1.0, 2.0], check_real_array), K=([[3], [4]], negatives))
    >>> shape, args["K"].array.tolist()
    ((2, 2), [[3], [4]])
    >>> arguments(L=([1.0, 2.0], check_real_array), K=([1, 2, 3], negatives))
    Traceback (most recent call last):
    ...
    ValueError: shapes do not broadcast together: L (2,), K (3,)
    """
    values = {name: check(value, name) for name, (value, check) in named.items()}
    shapes = {name: tuple(np.shape(v.array if isinstance(v, Negatives) else v))
              for name, v in values.items()}
    try:
        shape = np.broadcast_shapes(*shapes.values())
    except ValueError as exc:
        desc = ", ".join(f"{n} {s}" for n, s in shapes.items())
        raise ValueError(f"shapes do not broadcast together: {desc}") from exc
    return values, shape


#: A public function's prior arguments as given: ``(C, probs, counts, replacement)``.
PriorArgs: TypeAlias = tuple[Any, Any, Any, Any]


def evaluate_broadcast(kernel: Callable[[dict[str, Any], tuple[int, ...], Prior], _R],
                       prior: PriorArgs, **named: tuple[Any, Checker]) -> _R:
    """``kernel(validated, shape, prior)`` on the arguments :func:`arguments` validated once.

    The one body of the public functions of several array arguments: the
    prior arguments ``(C, probs, counts, replacement)`` become a ``Prior``
    (:func:`couponbound._prior.as_prior`), the kernel sees only validated
    values (``K`` as a :class:`Negatives`) and the broadcast shape, and
    shapes its outputs with :func:`finish_shape`.
    """
    values, shape = arguments(**named)
    C, probs, counts, replacement = prior
    return kernel(values, shape, as_prior(C, probs=probs, counts=counts, replacement=replacement))


def finish_shape(values: Any, shape: tuple[int, ...]) -> FloatOrArray:
    """*values* broadcast to *shape*: a ``float`` for ``shape == ()``, else a new float64 array."""
    arr = np.array(np.broadcast_to(np.asarray(values, dtype=np.float64), shape), dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def finish(values: NDArray[Any], scalar: bool) -> FloatOrArray:
    """``values`` as a Python ``float`` when the input was a scalar, else as a float64 array."""
    if scalar:
        return float(np.asarray(values).reshape(()))
    return np.asarray(values, dtype=np.float64)


def draws(K: Any, prior: Prior | None = None, *, include_anchor: Any = True,
          negatives_only: bool = False, name: str = "K") -> tuple[NDArray[np.int64], bool]:
    """Validate ``K``; return the number of draws ``n`` (int64 array) and whether ``K`` was a scalar.

    ``include_anchor=True`` gives :math:`n = K + 1` (NS21's anchor and its ``K``
    negatives), ``False`` gives ``n = K``.  ``negatives_only=True`` (the
    collision functions, no ``include_anchor``) gives ``n = K`` for
    quantities of the ``K`` negatives alone, whose batch still holds the
    anchor.  With a without-replacement ``prior`` the batch (``n`` samples,
    or :math:`K + 1` with ``negatives_only``) must fit in the data set.
    """
    anchor = False if negatives_only else check_flag(include_anchor, "include_anchor")
    if isinstance(K, Negatives):  # validated once already, by the caller's arguments()
        k_arr, scalar = K.array, K.scalar
    else:
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
