"""Shared parameter descriptions for numpydoc docstrings (private).

The class prior is passed the same way to some thirty public functions
(``C``, ``probs=``, ``counts=``, ``replacement=``), and so is ``K``: their
descriptions are written once here, in the manner of seaborn's
``_docstrings`` fragments.  A docstring names a fragment on a line of its own,
``{docs.prior}``; :func:`fill_doc` replaces that line by the fragment,
indented like the line, when the module is imported, so ``help()``, Sphinx and
the doctests see the full text.

>>> @fill_doc
... def f(K, C=None, *, probs=None, counts=None, replacement=None):
...     '''Do something.
...
...     Parameters
...     ----------
...     {docs.negatives}
...     {docs.prior}
...     '''
>>> print(f.__doc__.splitlines()[4])
    K : int or array_like of int
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

__all__ = ["FRAGMENTS", "fill_doc"]

_F = TypeVar("_F", bound=Callable[..., object])

#: name -> numpydoc text (parameter lines at column 0, descriptions indented by 4).
FRAGMENTS: dict[str, str] = {
    "negatives": """\
K : int or array_like of int
    Number of negatives, ``>= 0`` (the anchor is counted on top).""",
    "prior": """\
C : int or Prior, optional
    Number of classes, for the uniform prior :math:`\\rho_c = 1/C`, or a
    :class:`~couponbound.Prior`, unless *probs* or *counts* is given.
probs : array_like of float, optional
    Class probabilities (positive, summing to 1).
counts : array_like of int, optional
    Class counts; the prior is ``counts / counts.sum()``.  Required when
    ``replacement=False``.
replacement : bool, optional
    ``True`` by default (or the Prior's own scheme): draws i.i.d. from the
    prior (ARORA19, NS21).  ``False``: drawn without replacement from the
    data set given by ``counts``.""",
    "prior_independent": """\
C : int or Prior, optional
    Number of classes, for the uniform prior :math:`\\rho_c = 1/C`, or a
    :class:`~couponbound.Prior` (with replacement), unless *probs* or
    *counts* is given.
probs : array_like of float, optional
    Class probabilities (positive, summing to 1).
counts : array_like of int, optional
    Class counts; the prior is ``counts / counts.sum()``.  Draws are
    independent (with replacement): a ``Prior`` with ``replacement=False``
    is refused.""",
    "include_anchor": """\
include_anchor : bool, default True
    Count the anchor as a draw: :math:`n = K + 1` (NS21); else :math:`n = K`.""",
}

_PLACEHOLDER = re.compile(r"^([ \t]*)\{docs\.(\w+)\}[ \t]*$", re.M)


def fill_doc(func: _F) -> _F:
    """Replace each ``{docs.NAME}`` line of *func*'s docstring by ``FRAGMENTS[NAME]``.

    An unknown name is a ``KeyError`` at import time, so a typo cannot reach
    the documentation.
    """
    if func.__doc__:
        func.__doc__ = _PLACEHOLDER.sub(
            lambda m: textwrap.indent(FRAGMENTS[m.group(2)], m.group(1)), func.__doc__)
    return func
