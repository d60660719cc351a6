"""Write the small, local intersphinx inventories of the documentation.

The docs build has no network, so Sphinx cannot fetch ``objects.inv`` from
python.org, numpy.org and the rest.  This script writes
``docs/_intersphinx/<project>.inv`` in Sphinx's inventory format (version 2,
zlib-compressed) for exactly the external objects the pages and docstrings
reference, with their real documentation URLs (relative to the base URLs in
``docs/conf.py``'s ``intersphinx_mapping``).

Run it after adding a reference to another library's object::

    python scripts/make_intersphinx.py          # rewrites docs/_intersphinx/*.inv
    python scripts/make_intersphinx.py --check  # exit 1 if a file is stale

A reference that is still unresolved shows up in ``sphinx-build -n -W`` as
"reference target not found": add the object below with its URL.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

#: (name, domain:role, uri relative to the project's base URL, display name).
#: ``$`` at the end of a URI stands for the name (Sphinx's convention);
#: ``-`` as display name means "same as the name".
Entry = tuple[str, str, str, str]

INVENTORIES: dict[str, tuple[str, list[Entry]]] = {
    "python": ("Python", [
        # builtins and constants (numpydoc links parameter types to these)
        ("None", "py:data", "library/constants.html#$", "-"),
        ("True", "py:data", "library/constants.html#$", "-"),
        ("False", "py:data", "library/constants.html#$", "-"),
        ("bool", "py:class", "library/functions.html#$", "-"),
        ("int", "py:class", "library/functions.html#$", "-"),
        ("float", "py:class", "library/functions.html#$", "-"),
        ("object", "py:class", "library/functions.html#$", "-"),
        ("callable", "py:function", "library/functions.html#$", "-"),
        ("str", "py:class", "library/stdtypes.html#$", "-"),
        ("list", "py:class", "library/stdtypes.html#$", "-"),
        ("tuple", "py:class", "library/stdtypes.html#$", "-"),
        ("dict", "py:class", "library/stdtypes.html#$", "-"),
        ("set", "py:class", "library/stdtypes.html#$", "-"),
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#$",
         "Boolean Type - bool"),
        ("iterable", "std:term", "glossary.html#term-iterable", "-"),
        ("sequence", "std:term", "glossary.html#term-sequence", "-"),
        ("mapping", "std:term", "glossary.html#term-mapping", "-"),
        ("generator", "std:term", "glossary.html#term-generator", "-"),
        # exceptions and warnings
        ("ValueError", "py:exception", "library/exceptions.html#$", "-"),
        ("TypeError", "py:exception", "library/exceptions.html#$", "-"),
        ("ImportError", "py:exception", "library/exceptions.html#$", "-"),
        ("ModuleNotFoundError", "py:exception", "library/exceptions.html#$", "-"),
        ("RuntimeWarning", "py:exception", "library/exceptions.html#$", "-"),
        ("UserWarning", "py:exception", "library/exceptions.html#$", "-"),
        # the standard library
        ("fractions.Fraction", "py:class", "library/fractions.html#$", "-"),
        ("os.PathLike", "py:class", "library/os.html#$", "-"),
        ("pathlib.Path", "py:class", "library/pathlib.html#$", "-"),
        ("warnings.simplefilter", "py:function", "library/warnings.html#$", "-"),
        ("warnings.catch_warnings", "py:class", "library/warnings.html#$", "-"),
        ("contextlib.contextmanager", "py:function", "library/contextlib.html#$", "-"),
        ("collections.namedtuple", "py:function", "library/collections.html#$", "-"),
        ("argparse.ArgumentParser", "py:class", "library/argparse.html#$", "-"),
        # type aliases on the API's own pages ("alias of Callable[...]")
        ("collections.abc.Callable", "py:class", "library/collections.abc.html#$", "-"),
    ]),
    "numpy": ("NumPy", [
        ("numpy", "py:module", "reference/index.html#module-numpy", "-"),
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#$", "-"),
        ("numpy.float64", "py:attribute", "reference/arrays.scalars.html#$", "-"),
        ("numpy.int64", "py:attribute", "reference/arrays.scalars.html#$", "-"),
        ("numpy.float64", "py:class", "reference/arrays.scalars.html#$", "-"),
        ("numpy.dtype", "py:class", "reference/generated/numpy.dtype.html#$", "-"),
        ("numpy.inf", "py:data", "reference/constants.html#$", "-"),
        ("numpy.nan", "py:data", "reference/constants.html#$", "-"),
        ("numpy.log1p", "py:data", "reference/generated/numpy.log1p.html#$", "-"),
        ("numpy.random.Generator", "py:class", "reference/random/generator.html#$", "-"),
        ("numpy.random.default_rng", "py:function", "reference/random/generator.html#$",
         "-"),
        ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#$", "-"),
        ("array_like", "std:term", "glossary.html#term-array_like", "-"),
        ("arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars",
         "Scalars"),
    ]),
    "scipy": ("SciPy", [
        ("scipy.integrate.quad", "py:function",
         "reference/generated/scipy.integrate.quad.html#$", "-"),
        ("scipy.integrate.IntegrationWarning", "py:exception",
         "reference/generated/scipy.integrate.IntegrationWarning.html#$", "-"),
        ("scipy.special.gammaln", "py:data",
         "reference/generated/scipy.special.gammaln.html#$", "-"),
        ("scipy.special.logsumexp", "py:function",
         "reference/generated/scipy.special.logsumexp.html#$", "-"),
    ]),
    "matplotlib": ("Matplotlib", [
        ("matplotlib.axes.Axes", "py:class", "api/_as_gen/matplotlib.axes.Axes.html#$", "-"),
        ("matplotlib.figure.Figure", "py:class", "api/_as_gen/matplotlib.figure.Figure.html#$",
         "-"),
        ("matplotlib.artist.Artist", "py:class", "api/_as_gen/matplotlib.artist.Artist.html#$",
         "-"),
        ("matplotlib.pyplot.subplots", "py:function",
         "api/_as_gen/matplotlib.pyplot.subplots.html#$", "-"),
        ("matplotlib.pyplot.show", "py:function", "api/_as_gen/matplotlib.pyplot.show.html#$",
         "-"),
        ("matplotlib.rcParams", "py:data", "api/matplotlib_configuration_api.html#$", "-"),
    ]),
    "sympy": ("SymPy", [
        ("sympy", "py:module", "index.html#module-sympy", "-"),
        ("sympy.core.expr.Expr", "py:class", "modules/core.html#$", "-"),
        ("sympy.core.symbol.Symbol", "py:class", "modules/core.html#$", "-"),
        ("sympy.core.numbers.Rational", "py:class", "modules/core.html#$", "-"),
        ("sympy.printing.latex.latex", "py:function", "modules/printing.html#$", "-"),
        # the names under which SymPy exports them (and our docstrings cite them)
        ("sympy.Expr", "py:class", "modules/core.html#sympy.core.expr.Expr", "-"),
        ("sympy.Symbol", "py:class", "modules/core.html#sympy.core.symbol.Symbol", "-"),
        ("sympy.Rational", "py:class", "modules/core.html#sympy.core.numbers.Rational", "-"),
        ("sympy.latex", "py:function", "modules/printing.html#sympy.printing.latex.latex",
         "-"),
    ]),
    "mpmath": ("mpmath", [
        ("mpmath", "py:module", "index.html", "-"),
        ("mpmath.mpf", "py:class", "basics.html#$", "-"),
        ("mpmath.mp", "py:data", "basics.html#setting-the-precision", "-"),
    ]),
    "hypothesis": ("Hypothesis", [
        ("hypothesis", "py:module", "index.html", "-"),
        ("hypothesis.strategies", "py:module", "reference/strategies.html", "-"),
        ("hypothesis.extra.numpy", "py:module", "reference/strategies.html#numpy", "-"),
        ("hypothesis.strategies.SearchStrategy", "py:class",
         "reference/strategies.html#$", "-"),
        ("hypothesis.given", "py:function", "reference/api.html#$", "-"),
    ]),
    "torch": ("PyTorch", [
        ("torch", "py:module", "torch.html#module-torch", "-"),
        ("torch.Tensor", "py:class", "tensors.html#$", "-"),
        ("torch.device", "py:class", "tensor_attributes.html#$", "-"),
        ("torch.nn.Module", "py:class", "generated/torch.nn.Module.html#$", "-"),
        ("torch.distributed", "py:module", "distributed.html#module-torch.distributed", "-"),
        ("torch.distributed.all_reduce", "py:function", "distributed.html#$", "-"),
        ("torch.distributed.ProcessGroup", "py:class", "distributed.html#$", "-"),
    ]),
}


def inventory_bytes(project: str, entries: list[Entry]) -> bytes:
    """The ``objects.inv`` file for *entries* (Sphinx inventory version 2)."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        "# Version: \n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    lines = []
    for name, role, uri, dispname in sorted(entries):
        priority = "-1" if role.startswith("std:") else "1"
        lines.append(f"{name} {role} {priority} {uri} {dispname}\n")
    return header + zlib.compress("".join(lines).encode(), 9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent / "docs" / "_intersphinx")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a written inventory differs from this script's")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stale = []
    for key, (project, entries) in INVENTORIES.items():
        path = args.out / f"{key}.inv"
        data = inventory_bytes(project, entries)
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(path)
        else:
            path.write_bytes(data)
            print(f"{path}: {len(entries)} objects")
    if stale:
        print("stale inventories (run python scripts/make_intersphinx.py): "
              + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
