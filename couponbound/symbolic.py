"""Closed forms as sympy expressions, and LaTeX ready for a paper.

The coverage probability :math:`\\upsilon_{K+1}` (:ref:`math-coverage`), the
collision quantities :math:`\\tau_K` and :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})` (:ref:`math-collisions`),
the moments of the coupon collector's completion time ``T``
(:ref:`math-completion-time`), NS21's bound (:ref:`math-ns21-bound`) and
BAO22's minimum losses (:ref:`math-comparison`) as :mod:`sympy` expressions
in a symbolic number of negatives ``K``.  Each function is named after its
numeric counterpart with an ``_expr`` suffix (:func:`coverage_prob_expr` is
:func:`couponbound.coverage_prob`, and so on), and takes the prior as ``C``
(an int, a sympy expression, or a :class:`~couponbound.Prior`) or as
``probs=``/``counts=``.  Substitute an integer for ``K`` to get exact
rationals; pass any expression to :func:`latex` for typesetting.

sympy is imported inside the functions, so ``import couponbound`` never
loads it.  Symbols are shared through :func:`symbol` (sympy symbols with equal
names and assumptions are equal, so ``symbol("K")`` is the ``K`` in every
expression built here).

Examples
--------
>>> from couponbound.symbolic import coverage_prob_expr, symbol, latex, as_fraction
>>> ups = coverage_prob_expr(10)                 # upsilon_{K+1} for C = 10
>>> as_fraction(ups.subs(symbol("K"), 31))       # K = 31 negatives, anchor included
Fraction(1079649425698155662929610031, 1562500000000000000000000000)
>>> print(latex(expected_draws_expr(), lhs=r"\\mathbb{E}[T]"))
\\mathbb{E}[T] = C H_{C}
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from couponbound._combinatorics import prior_weights, subset_sums
from couponbound._formulas import (
    bao22_col_loss,
    bao22_min_sup_loss,
    bao22_weight,
    ns21_bound,
    ns21_sup_upper,
)
from couponbound._prior import Prior, as_prior, require_replacement
from couponbound._validate import check_flag, check_positive_int, short_repr

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = [
    "as_fraction",
    "bao22_min_contrastive_expr",
    "bao22_min_supervised_expr",
    "collision_prob_expr",
    "completion_time_var_expr",
    "coverage_prob_expr",
    "expected_draws_expr",
    "expected_log_collision_expr",
    "latex",
    "ns21_lower_bound_expr",
    "ns21_sup_upper_bound_expr",
    "symbol",
]

#: name -> (sympy name, assumptions).  The sympy names are LaTeX already.
_SYMBOLS: dict[str, tuple[str, dict[str, bool]]] = {
    "K": ("K", {"integer": True, "nonnegative": True}),
    "C": ("C", {"integer": True, "positive": True}),
    "L_Info": (r"L_{\mathrm{Info}}", {"real": True}),
    "L_sup": (r"L^{\mu}_{\mathrm{sup}}", {"nonnegative": True}),
    "L_sub": (r"L^{\mu}_{\mathrm{sub}}", {"nonnegative": True}),
    "d": ("d", {"nonpositive": True}),
    "upsilon": (r"\upsilon_{K+1}", {"nonnegative": True}),
    "tau": (r"\tau_{K}", {"nonnegative": True}),
    "collision": (r"\mathbb{E}\ln(1+\mathrm{Col})", {"nonnegative": True}),
    "B": ("B", {"positive": True}),
}

#: At most this many inclusion-exclusion terms for a non-uniform prior.
_MAX_TERMS = 200_000
#: At most this many terms in an expression written out for a numeric ``C`` or ``K``
#: (a uniform coverage_prob_expr of 2,000 terms takes about 2 s).
MAX_EXPR_TERMS = 2_000
#: Exact rationals of at most this many bits each ...
MAX_EXPR_BITS = 1_000_000
#: ... and this many bits over all the terms of one expression.
MAX_EXPR_TOTAL_BITS = 20_000_000
#: Largest ``C`` whose harmonic numbers are computed exactly (a rational of about
#: ``1.44 C`` bits in the denominator, ``2.9 C`` for ``H^{(2)}_C``).
MAX_HARMONIC_C = 20_000


def symbol(name: str) -> sympy.Symbol:
    """The package's sympy symbol called *name*.

    Parameters
    ----------
    name : str
        One of ``"K"`` (negatives, integer >= 0), ``"C"`` (classes, integer
        >= 1), ``"L_Info"``, ``"L_sup"``, ``"L_sub"``, ``"d"`` (<= 0),
        ``"upsilon"``, ``"tau"``, ``"collision"``, ``"B"`` (BAO22's feature-norm
        bound, > 0).

    Returns
    -------
    sympy.Symbol
        The symbol; its name is its LaTeX.

    Raises
    ------
    ValueError
        For an unknown name.

    Examples
    --------
    >>> symbol("K").is_integer, symbol("d").is_nonpositive
    (True, True)
    """
    import sympy

    if not isinstance(name, str) or name not in _SYMBOLS:
        raise ValueError(f"symbol name must be one of {sorted(_SYMBOLS)}, got {short_repr(name)}")
    sym_name, assumptions = _SYMBOLS[name]
    return sympy.Symbol(sym_name, **assumptions)


def _sympify(value: Any, name: str) -> Any:
    """A number, Fraction or sympy object as a sympy object; never parses a string.

    ``sympy.sympify`` evaluates strings as Python code, so strings (and any
    type without an explicit conversion) are refused with a ``TypeError``.
    """
    import sympy
    from sympy.matrices import MatrixBase

    if isinstance(value, sympy.Basic | MatrixBase):
        return value
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, numbers.Number) and not isinstance(value, str | bytes):
        return sympy.sympify(value, strict=True)
    raise TypeError(
        f"{name} must be a number, a Fraction or a sympy expression (strings are never "
        f"parsed: build the expression with sympy), got {short_repr(value)}"
    )


def as_fraction(value: Any) -> Fraction:
    """An exact sympy rational (or int, or Fraction) as a :class:`fractions.Fraction`.

    Raises
    ------
    TypeError
        If *value* is not an exact rational number (a float, a string, or an
        expression with free symbols, say).  Strings are never parsed.

    Examples
    --------
    >>> import sympy
    >>> as_fraction(sympy.Rational(3, 4))
    Fraction(3, 4)
    """
    import sympy

    if isinstance(value, Fraction):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, bool):
        raise TypeError(f"value must be an exact rational number, got {short_repr(value)}")
    v = _sympify(value, "value")
    if isinstance(v, sympy.Rational):
        return Fraction(int(v.p), int(v.q))
    raise TypeError(f"value must be an exact rational number, got {short_repr(value)}")


# ---------------------------------------------------------------------------
# argument handling
# ---------------------------------------------------------------------------


def _check_size(func: str, what: str, terms: int, bits: float = 0.0) -> None:
    """Refuse, before building it, an expression too large to build in seconds.

    *terms* is the number of terms written out, *bits* the size of the
    largest exact rational among them.
    """
    if terms > MAX_EXPR_TERMS or bits > MAX_EXPR_BITS or bits * terms > MAX_EXPR_TOTAL_BITS:
        raise ValueError(
            f"{func}: {what} needs {terms} terms"
            + (f" of exact rationals of about {bits:.3g} bits" if bits else "")
            + f", above the limits ({MAX_EXPR_TERMS} terms, {MAX_EXPR_BITS:.0e} bits per number, "
            f"{MAX_EXPR_TOTAL_BITS:.0e} bits in all); keep C or K symbolic (C=None, K=None, "
            "expand=False) or use the float functions of couponbound"
        )


def _rational_bits(value: Any) -> float:
    """Bits of the numerator and denominator of a sympy Rational (or int)."""
    import sympy

    r = sympy.Rational(value)
    return float(max(int(r.p).bit_length(), int(r.q).bit_length(), 1))


def _harmonic(c: Any, order: int, func: str) -> Any:
    """``H^{(order)}_c``: sympy's ``harmonic`` for a symbol, an exact Rational for an integer.

    Integers are summed by binary splitting (:math:`H_{20000}` in a
    fraction of a second, where ``sympy.harmonic`` takes minutes) and refused above
    :data:`MAX_HARMONIC_C`.
    """
    import sympy

    if not c.is_Integer:
        return sympy.harmonic(c, order) if order != 1 else sympy.harmonic(c)
    n = int(c)
    if n > MAX_HARMONIC_C:
        raise ValueError(
            f"{func}: C = {n} is too large for an exact harmonic number (C <= "
            f"{MAX_HARMONIC_C}; H_C has about 1.44*C bits); use C=None for the formula or "
            "couponbound.expected_draws / completion_time for floats"
        )

    def split(lo: int, hi: int) -> tuple[int, int]:  # sum_{j=lo}^{hi-1} 1/j^order = p/q
        if hi - lo == 1:
            return 1, lo**order
        mid = (lo + hi) // 2
        p1, q1 = split(lo, mid)
        p2, q2 = split(mid, hi)
        return p1 * q2 + p2 * q1, q1 * q2

    if n == 0:
        return sympy.Integer(0)
    p, q = split(1, n + 1)
    return sympy.Rational(p, q)


def _k_arg(K: Any) -> Any:
    """``None`` -> the symbol ``K``; an int -> sympy Integer; an expression as is."""
    import sympy

    if K is None:
        return symbol("K")
    if isinstance(K, sympy.Basic):
        return K
    return sympy.Integer(check_positive_int(K, "K", minimum=0))


def _c_arg(C: Any) -> Any:
    import sympy

    if C is None:
        return symbol("C")
    if isinstance(C, sympy.Basic):
        if C.is_Integer:
            return sympy.Integer(check_positive_int(int(C), "C"))
        return C
    return sympy.Integer(check_positive_int(C, "C"))


def _prior_arg(C: Any, probs: Any, counts: Any, func: str) -> tuple[Prior | None, Any]:
    """``(prior, None)`` for a non-uniform prior, ``(None, c)`` for ``c`` uniform classes.

    ``c`` is a sympy Integer, or a symbol/expression for the general formula.
    """
    import sympy

    if isinstance(C, Prior) or probs is not None or counts is not None:
        if not isinstance(C, Prior | int | sympy.Integer | None) or isinstance(C, bool):
            raise TypeError(f"C must be an int when probs= or counts= is given, got {short_repr(C)}")
        prior = as_prior(C if isinstance(C, Prior | None) else int(C), probs=probs, counts=counts)
        require_replacement(prior, func)
        if prior.is_uniform:
            return None, sympy.Integer(prior.C)
        return prior, None
    return None, _c_arg(C)


def _rational_groups(prior: Prior) -> list[tuple[Any, int]]:
    """Distinct class probabilities (sympy Rationals, ascending) with multiplicities."""
    import sympy

    groups: dict[Fraction, int] = {}
    for f in prior.fractions():
        groups[f] = groups.get(f, 0) + 1
    return [(sympy.Rational(f.numerator, f.denominator), m) for f, m in sorted(groups.items())]


def _subset_masses(prior: Prior) -> list[tuple[int, Any]]:
    """Inclusion-exclusion over subsets, grouped: ``(sum_{rho(S) = r} (-1)^{|S|}, r)`` per mass ``r``."""
    import sympy

    weights, total = prior_weights(prior)
    poly = subset_sums(weights, max_terms=_MAX_TERMS)
    out = []
    for s, a in sorted(poly.items()):
        mass = Fraction(s) / total
        out.append((a, sympy.Rational(mass.numerator, mass.denominator)))
    return out


# ---------------------------------------------------------------------------
# coverage and collisions
# ---------------------------------------------------------------------------


def coverage_prob_expr(
    C: Any = None,
    *,
    K: Any = None,
    probs: Any = None,
    counts: Any = None,
    include_anchor: bool = True,
    expand: bool = True,
) -> sympy.Expr:
    """:math:`\\upsilon_{K+1}`, the probability that the anchor and ``K`` negatives cover all classes.

    The closed form of :func:`couponbound.coverage_prob`, by inclusion-exclusion
    (:ref:`math-coverage`; NS21's :math:`\\upsilon_{K+1}`):

    .. math::

        \\upsilon_{K+1} = \\sum_{i=0}^{C} (-1)^i \\binom{C}{i} \\Bigl(1 - \\frac{i}{C}\\Bigr)^{K+1}
        \\quad\\text{(uniform)}, \\qquad
        \\upsilon_{K+1} = \\sum_{S \\subseteq [C]} (-1)^{|S|} (1 - \\rho(S))^{K+1}
        \\quad\\text{(prior } \\rho\\text{)}.

    The anchor is included (:math:`K + 1` draws); ``include_anchor=False`` gives
    ``P(T <= K)``.

    Parameters
    ----------
    C : int, sympy expression or Prior, optional
        Number of classes; ``None`` (or a symbol) gives the general formula
        as an unevaluated ``Sum``.  A :class:`~couponbound.Prior` (with
        replacement) gives its own prior.
    K : int or sympy expression, optional
        Number of negatives; ``None`` means the symbol ``K``.  With an int
        the result is an exact ``Rational``.
    probs, counts : array_like, optional
        A non-uniform prior (converted to exact rationals; subsets with equal
        mass are grouped, so it must have few distinct values).
    include_anchor : bool, default True
        Count the anchor as a draw (:math:`K + 1` draws) or not (``K``).
    expand : bool, default True
        With a numeric ``C``, write out the ``C + 1`` terms (``True``) or keep
        the ``Sum`` (``False``, handy for LaTeX).

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError, TypeError
        Naming the argument, for an invalid ``C``, ``K`` or prior.

    Examples
    --------
    >>> from couponbound.symbolic import coverage_prob_expr, symbol
    >>> coverage_prob_expr(2)
    1 - 2*2**(-K - 1)
    >>> coverage_prob_expr(10, K=31)
    1079649425698155662929610031/1562500000000000000000000000
    >>> coverage_prob_expr(3, K=1)                   # 2 draws cannot cover 3 classes
    0
    >>> coverage_prob_expr(counts=[1, 1, 2], K=2)    # rho = (1/4, 1/4, 1/2), 3 draws
    3/16
    """
    import sympy

    anchor = check_flag(include_anchor, "include_anchor")
    check_flag(expand, "expand")
    k = _k_arg(K)
    n = k + 1 if anchor else k
    prior, c = _prior_arg(C, probs, counts, "coverage_prob_expr")
    classes = prior.C if prior is not None else (int(c) if c.is_Integer else None)
    if n.is_Integer and classes is not None and int(n) < classes:
        return sympy.Integer(0)  # fewer draws than classes: nothing to write out
    if prior is not None:
        masses = _subset_masses(prior)
        bits = (float(int(n)) * max(_rational_bits(m) for _, m in masses) if n.is_Integer
                else 0.0)
        _check_size("coverage_prob_expr", f"a prior with {prior.C} classes", len(masses), bits)
        return sympy.Add(*[a * (1 - mass) ** n for a, mass in masses])
    i = sympy.Symbol("i", integer=True, nonnegative=True)
    summand = (-1) ** i * sympy.binomial(c, i) * (1 - i / c) ** n
    if not c.is_Integer or not expand:
        return sympy.Sum(summand, (i, 0, c))
    cc = int(c)
    _check_size("coverage_prob_expr", f"C = {cc} (expand=True)", cc + 1,
                float(int(n)) * math.log2(max(cc, 2)) if n.is_Integer else 0.0)
    return sympy.Add(
        *[(-1) ** j * math.comb(cc, j) * sympy.Rational(cc - j, cc) ** n for j in range(cc + 1)]
    )


def collision_prob_expr(
    C: Any = None, *, K: Any = None, probs: Any = None, counts: Any = None
) -> sympy.Expr:
    """ARORA19's collision probability ``tau_K = 1 - sum_c rho_c (1 - rho_c)^K``.

    The closed form of :func:`couponbound.collision_prob` (:ref:`math-collisions`):
    the probability that at least one of the ``K`` negatives shares the
    anchor's class; ``1 - (1 - 1/C)^K`` for uniform classes.

    Examples
    --------
    >>> from couponbound.symbolic import collision_prob_expr
    >>> collision_prob_expr(10)
    1 - (9/10)**K
    >>> collision_prob_expr(counts=[1, 3], K=2)   # rho = (1/4, 3/4)
    13/16
    """
    import sympy

    k = _k_arg(K)
    prior, c = _prior_arg(C, probs, counts, "collision_prob_expr")
    groups = _rational_groups(prior) if prior is not None else [(1 / c, c)]
    if k.is_Integer:
        _check_size("collision_prob_expr", f"K = {int(k)}", len(groups),
                    float(int(k)) * max(_rational_bits(p) if p.is_Rational else 0.0
                                        for p, _ in groups))
    if prior is not None:
        return 1 - sympy.Add(*[m * p * (1 - p) ** k for p, m in groups])
    return 1 - (1 - 1 / c) ** k


def expected_log_collision_expr(
    C: Any = None, *, K: Any = None, probs: Any = None, counts: Any = None
) -> sympy.Expr:
    """NS21's collision term :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})` as a sum over the binomial
    law of :math:`\\mathrm{Col}`.

    The closed form of :func:`couponbound.expected_log_collision`
    (:ref:`math-collisions`):

    .. math::

        \\mathbb{E}\\ln(1 + \\mathrm{Col}) = \\sum_c \\rho_c \\sum_{m=0}^{K} \\binom{K}{m}
        \\rho_c^m (1 - \\rho_c)^{K-m} \\ln(1 + m).

    With a symbolic ``K`` the inner sum stays an unevaluated ``Sum``; with an
    integer ``K`` it is a finite sum of logarithms (``.evalf()`` it).

    Examples
    --------
    >>> from couponbound.symbolic import expected_log_collision_expr
    >>> expected_log_collision_expr(2, K=2)
    log(3)/4 + log(2)/2
    >>> round(float(expected_log_collision_expr(10, K=31).evalf(30)), 3)
    1.317
    """
    import sympy

    k = _k_arg(K)
    prior, c = _prior_arg(C, probs, counts, "expected_log_collision_expr")
    return _over_col(prior, c, k, lambda m: sympy.log(1 + m), "expected_log_collision_expr")


def _over_col(prior: Prior | None, c: Any, k: Any, f: Callable[[Any], Any], func: str) -> Any:
    """``E f(Col)``: ``sum_c rho_c sum_m binom(K, m) rho_c^m (1 - rho_c)^(K-m) f(m)``.

    :math:`\\mathrm{Col} \\mid c \\sim \\mathrm{Binomial}(K, \\rho_c)` (:ref:`math-collisions`); classes with
    equal probability are grouped.  With an integer ``K`` the inner sum is
    written out, otherwise it stays an unevaluated ``Sum``.
    """
    import sympy

    m = sympy.Symbol("m", integer=True, nonnegative=True)
    groups = _rational_groups(prior) if prior is not None else [(1 / c, c)]
    if k.is_Integer:
        kk = int(k)
        bits = kk * max(_rational_bits(p) if p.is_Rational else 0.0 for p, _ in groups)
        _check_size(func, f"K = {kk}", (kk + 1) * len(groups), bits)

    def inner(p: Any) -> Any:
        if k.is_Integer:  # the terms directly: much faster than .subs on a symbolic summand
            kk, q = int(k), 1 - p
            return sympy.Add(*[math.comb(kk, j) * p**j * q ** (kk - j) * f(sympy.Integer(j))
                               for j in range(kk + 1)])
        summand = sympy.binomial(k, m) * p**m * (1 - p) ** (k - m) * f(m)
        return sympy.Sum(summand, (m, 0, k))

    return sympy.Add(*[mult * p * inner(p) for p, mult in groups])


def _log1p(x: Any) -> Any:
    """:math:`\\ln(1 + x)` for sympy: the ``log1p`` the formulas of ``_formulas`` take."""
    import sympy

    return sympy.log(1 + x)


def _b_arg(B: Any) -> Any:
    """``None`` -> the symbol ``B``; a number (or sympy expression) > 0 as a sympy object."""
    if B is None:
        return symbol("B")
    if isinstance(B, bool):
        raise TypeError(f"B must be a positive number or sympy expression, got {short_repr(B)}")
    b = _sympify(B, "B")
    if b.is_positive is False or b.is_finite is False:
        raise ValueError(f"B must be a finite number > 0, got {short_repr(B)}")
    return b


def bao22_min_contrastive_expr(
    C: Any = None, *, K: Any = None, probs: Any = None, counts: Any = None, B: Any = None
) -> sympy.Expr:
    """BAO22's minimum contrastive loss :math:`R^*_\\mathrm{cont}(K)` as a sum over the law of
    :math:`\\mathrm{Col}`.

    The closed form of :func:`couponbound.bounds.bao22_min_contrastive`
    (:ref:`math-comparison`):

    .. math::

        R^*_\\mathrm{cont} = \\sum_y \\rho_y \\sum_{m=0}^{K} \\binom{K}{m} \\rho_y^m
        (1 - \\rho_y)^{K-m} \\ln\\bigl(1 + m + (K - m) e^{-2B^2}\\bigr).

    ``B`` defaults to the symbol ``B`` (pass ``1`` for BAO22's figure).  With
    a symbolic ``K`` the inner sum stays an unevaluated ``Sum``.

    Examples
    --------
    >>> from couponbound.symbolic import bao22_min_contrastive_expr
    >>> bao22_min_contrastive_expr(2, K=1)
    log(1 + exp(-2*B**2))/2 + log(2)/2
    >>> round(float(bao22_min_contrastive_expr(10, K=31, B=1).evalf(30)), 4)
    2.0472
    """
    import sympy

    k = _k_arg(K)
    b = _b_arg(B)
    prior, c = _prior_arg(C, probs, counts, "bao22_min_contrastive_expr")
    e = bao22_weight(b, sympy.exp)
    return _over_col(prior, c, k, lambda m: bao22_col_loss(m, k, e, _log1p),
                     "bao22_min_contrastive_expr")


def bao22_min_supervised_expr(
    C: Any = None, *, probs: Any = None, counts: Any = None, B: Any = None
) -> sympy.Expr:
    """BAO22's minimum supervised loss ``R*_mu-supv = ln(1 + (C - 1) exp(-2 B^2))``.

    The closed form of :func:`couponbound.bounds.bao22_min_supervised`
    (:ref:`math-comparison`); a prior enters only through its number of
    classes.  ``C`` and ``B`` default to their symbols.

    Examples
    --------
    >>> from couponbound.symbolic import bao22_min_supervised_expr
    >>> bao22_min_supervised_expr()
    log((C - 1)*exp(-2*B**2) + 1)
    >>> bao22_min_supervised_expr(100, B=1)
    log(1 + 99*exp(-2))
    """
    import sympy

    b = _b_arg(B)
    if isinstance(C, Prior) or probs is not None or counts is not None:
        c: Any = sympy.Integer(as_prior(C, probs=probs, counts=counts).C)
    else:
        c = _c_arg(C)
    expr: sympy.Expr = bao22_min_sup_loss(c, bao22_weight(b, sympy.exp), _log1p)
    return expr


# ---------------------------------------------------------------------------
# completion time
# ---------------------------------------------------------------------------


def expected_draws_expr(C: Any = None, *, probs: Any = None, counts: Any = None) -> sympy.Expr:
    """:math:`\\mathbb{E}[T]`, the expected number of draws until every class has appeared.

    The closed form of :func:`couponbound.expected_draws`.  Uniform classes:
    ``E[T] = C H_C``; a general prior: ``E[T] = sum_{S != {}} (-1)^{|S|+1} / rho(S)``
    (FGT92; :ref:`math-completion-time`).  NS21's Table 3 lists ``ceil(E[T])``:
    30 for ``C = 10``, 519 for ``C = 100``.

    Examples
    --------
    >>> from couponbound.symbolic import expected_draws_expr
    >>> expected_draws_expr()
    C*harmonic(C)
    >>> expected_draws_expr(10)
    7381/252
    >>> expected_draws_expr(counts=[1, 3])   # rho = (1/4, 3/4)
    13/3
    """
    import sympy

    prior, c = _prior_arg(C, probs, counts, "expected_draws_expr")
    if prior is not None:
        masses = _subset_masses(prior)
        _check_size("expected_draws_expr", f"a prior with {prior.C} classes", len(masses),
                    max(_rational_bits(m) for _, m in masses))
        return sympy.Add(*[-a / mass for a, mass in masses if mass != 0])
    return c * _harmonic(c, 1, "expected_draws_expr")


def completion_time_var_expr(C: Any = None) -> sympy.Expr:
    """``Var[T] = C^2 sum_{j=1}^{C} 1/j^2 - C H_C`` for uniform classes.

    The closed form of :meth:`couponbound.CompletionTime.var`
    (:ref:`math-completion-time`): ``T`` is a sum of independent geometric
    variables with success probabilities ``(C - j)/C``, ``j = 0..C-1``.

    Examples
    --------
    >>> from couponbound.symbolic import completion_time_var_expr
    >>> completion_time_var_expr(2)
    2
    >>> completion_time_var_expr()
    C**2*harmonic(C, 2) - C*harmonic(C)
    """
    if isinstance(C, Prior):
        require_replacement(C, "completion_time_var_expr")
        if not C.is_uniform:
            raise ValueError("completion_time_var_expr is for uniform classes, got a non-uniform Prior")
        C = C.C
    c = _c_arg(C)
    return (c**2 * _harmonic(c, 2, "completion_time_var_expr")
            - c * _harmonic(c, 1, "completion_time_var_expr"))


# ---------------------------------------------------------------------------
# NS21's bound
# ---------------------------------------------------------------------------


def _ns21_parts(C: Any, K: Any, probs: Any, counts: Any) -> tuple[Any, Any]:
    if C is None and probs is None and counts is None:
        return symbol("upsilon"), symbol("collision")
    return (coverage_prob_expr(C, K=K, probs=probs, counts=counts),
            expected_log_collision_expr(C, K=K, probs=probs, counts=counts))


def ns21_lower_bound_expr(
    C: Any = None, *, K: Any = None, probs: Any = None, counts: Any = None
) -> sympy.Expr:
    """NS21's lower bound on :math:`L_\\mathrm{Info}` as an expression.

    .. math::

        \\tfrac12[\\upsilon_{K+1} L^\\mu_\\mathrm{sup} + (1 - \\upsilon_{K+1}) L^\\mu_\\mathrm{sub}
        + \\mathbb{E}\\ln(1 + \\mathrm{Col})] + d

    (NS21, main theorem, Section 4; :ref:`math-ns21-bound`), the closed form of
    :func:`couponbound.ns21_lower_bound`, in the symbols ``symbol("L_sup")``,
    ``symbol("L_sub")`` and ``symbol("d")``.  Without a prior, :math:`\\upsilon` and
    the collision term stay symbols; with ``C`` (or a prior) they are
    :func:`coverage_prob_expr` and :func:`expected_log_collision_expr`.

    Examples
    --------
    >>> from couponbound.symbolic import ns21_lower_bound_expr, latex
    >>> print(latex(ns21_lower_bound_expr()))
    \\frac{L^{\\mu}_{\\mathrm{sub}} \\left(1 - \\upsilon_{K+1}\\right)}{2} + ... + d
    >>> b = ns21_lower_bound_expr(10, K=31)
    >>> sorted(str(s) for s in b.free_symbols)
    ['L^{\\\\mu}_{\\\\mathrm{sub}}', 'L^{\\\\mu}_{\\\\mathrm{sup}}', 'd']
    """
    ups, coll = _ns21_parts(C, K, probs, counts)
    expr: sympy.Expr = ns21_bound(ups, symbol("L_sup"), symbol("L_sub"), coll, symbol("d"))
    return expr


def ns21_sup_upper_bound_expr(
    C: Any = None, *, K: Any = None, probs: Any = None, counts: Any = None
) -> sympy.Expr:
    """NS21's bound solved for :math:`L^\\mu_\\mathrm{sup}` (NS21, Eq. (10); :ref:`math-ns21-bound`).

    ``(2[L_Info - d] - (1 - upsilon_{K+1}) L^mu_sub - E ln(1 + Col)) / upsilon_{K+1}``,
    the closed form of :func:`couponbound.ns21_sup_upper_bound`.

    Examples
    --------
    >>> from couponbound.symbolic import ns21_sup_upper_bound_expr, symbol
    >>> e = ns21_sup_upper_bound_expr()
    >>> e.subs({symbol("upsilon"): 1, symbol("d"): 0, symbol("collision"): 0})
    2*L_{\\mathrm{Info}}
    """
    ups, coll = _ns21_parts(C, K, probs, counts)
    expr: sympy.Expr = ns21_sup_upper(symbol("L_Info"), ups, symbol("L_sub"), coll, symbol("d"))
    return expr


# ---------------------------------------------------------------------------
# LaTeX
# ---------------------------------------------------------------------------


def latex(
    expr: Any,
    *,
    lhs: Any = None,
    environment: str | None = None,
    **settings: Any,
) -> str:
    """LaTeX for *expr*, ready to paste into a paper.

    Like :func:`sympy.latex` (extra keyword arguments are passed on), except
    that harmonic numbers print as ``H_{C}`` and ``H^{(2)}_{C}`` and the
    natural logarithm as ``\\ln`` (``ln_notation=True`` by default).

    Parameters
    ----------
    expr : sympy expression, number or Fraction
        What to typeset.  Strings are refused (``TypeError``): sympy would
        evaluate them as Python code.
    lhs : str or sympy expression, optional
        A left-hand side: the result reads ``lhs = expr``.  A string is used
        as LaTeX verbatim.
    environment : str, optional
        Wrap in ``\\begin{environment} ... \\end{environment}`` (say
        ``"equation"``).
    **settings
        Passed to sympy's LaTeX printer.

    Returns
    -------
    str

    Examples
    --------
    >>> from couponbound.symbolic import latex, completion_time_var_expr
    >>> print(latex(completion_time_var_expr(), lhs=r"\\mathrm{Var}[T]"))
    \\mathrm{Var}[T] = C^{2} H^{(2)}_{C} - C H_{C}
    >>> print(latex(coverage_prob_expr(10, expand=False), lhs=r"\\upsilon_{K+1}",
    ...             environment="equation"))
    \\begin{equation}
    \\upsilon_{K+1} = \\sum_{i=0}^{10} \\left(-1\\right)^{i} ... {\\binom{10}{i}}
    \\end{equation}
    """
    from sympy.printing.latex import LatexPrinter

    class _Printer(LatexPrinter):
        def _print_harmonic(self, e: Any, exp: Any = None) -> str:
            n = self._print(e.args[0])
            if len(e.args) > 1 and e.args[1] != 1:
                body = rf"H^{{({self._print(e.args[1])})}}_{{{n}}}"
            else:
                body = rf"H_{{{n}}}"
            return rf"{body}^{{{exp}}}" if exp is not None else body

    if environment is not None and not isinstance(environment, str):
        raise TypeError(f"environment must be a string or None, got {short_repr(environment)}")
    settings.setdefault("ln_notation", True)
    text = _Printer(settings).doprint(_sympify(expr, "expr"))
    if lhs is not None:
        left = lhs if isinstance(lhs, str) else _Printer(settings).doprint(_sympify(lhs, "lhs"))
        text = f"{left} = {text}"
    if environment:
        text = f"\\begin{{{environment}}}\n{text}\n\\end{{{environment}}}"
    return text
