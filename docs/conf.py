"""Sphinx configuration of the couponbound documentation.

Build with ``bash scripts/build_docs.sh`` (nitpicky, warnings are errors);
check the built pages in a browser with ``bash scripts/check_docs_browser.sh``.

The site builds without network: MathJax ships with the build
(``sphinx-mathjax-offline``) and the intersphinx inventories are the small
local files in ``docs/_intersphinx/`` (written by
``scripts/make_intersphinx.py``), pointing at the real documentation URLs.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")  # the gallery and plot directives run headless

import couponbound  # noqa: E402

project = "couponbound"
author = "couponbound developers"
copyright = "2026, couponbound developers"  # noqa: A001
version = release = couponbound.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # vendored MathJax 3, copied into _static/mathjax
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

exclude_patterns = ["_build", "gallery", "_intersphinx", "_templates", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.json",
                    "auto_examples/*.md5"]
templates_path = ["_templates"]
default_role = "literal"

# Every cross-reference must resolve (sphinx-build -n -W).
nitpicky = True
nitpick_ignore: list[tuple[str, str]] = [
]

# -- math ------------------------------------------------------------------
# sphinx-mathjax-offline sets mathjax_path to the vendored copy; MathJax 3
# renders offline; wide displays scroll inside their own box (the theme's
# ``div.math mjx-container`` rule and _static/couponbound.css).

# -- intersphinx (offline) -------------------------------------------------
# Each inventory lists exactly the objects these pages reference; the URLs
# are the real ones.  Regenerate with ``python scripts/make_intersphinx.py``.
_INV = os.path.join(os.path.dirname(__file__), "_intersphinx")
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", os.path.join(_INV, "python.inv")),
    "numpy": ("https://numpy.org/doc/stable/", os.path.join(_INV, "numpy.inv")),
    "scipy": ("https://docs.scipy.org/doc/scipy/", os.path.join(_INV, "scipy.inv")),
    "matplotlib": ("https://matplotlib.org/stable/", os.path.join(_INV, "matplotlib.inv")),
    "sympy": ("https://docs.sympy.org/latest/", os.path.join(_INV, "sympy.inv")),
    "mpmath": ("https://mpmath.org/doc/current/", os.path.join(_INV, "mpmath.inv")),
    "hypothesis": ("https://hypothesis.readthedocs.io/en/latest/",
                   os.path.join(_INV, "hypothesis.inv")),
    "torch": ("https://docs.pytorch.org/docs/stable/", os.path.join(_INV, "torch.inv")),
}
intersphinx_timeout = 1

# -- autodoc / autosummary / numpydoc ----------------------------------------
# As in SciPy's reference: each module's section has a summary table (one
# row per name of its ``__all__``: a link and the first line of the
# docstring), and every function and class has a page of its own, generated
# into api/generated/ from the templates in _templates/autosummary/.
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False
# The right-hand table of contents shows ``compute_window()``, not
# ``BoundMonitor.compute_window()``: short entries that fit its width.
toc_object_entries_show_parents = "hide"
autodoc_member_order = "bysource"
# Signatures show defaults as written (``C=DEFAULT_DATASETS``), not their repr.
autodoc_preserve_defaults = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Parameter and return types link to their documentation, as in NumPy's and
# SciPy's docs: the words below (and numpydoc's defaults: int, float, bool,
# str, ndarray, array_like, callable, ...) become links; any other word stays
# plain text.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "Fraction": "fractions.Fraction",
    "set": ":class:`python:set`",
    "object": ":class:`python:object`",
    "mapping": ":term:`python:mapping`",
    "os.PathLike": "os.PathLike",
    "Generator": "numpy.random.Generator",
    "Axes": "matplotlib.axes.Axes",
    "Figure": "matplotlib.figure.Figure",
    "sympy.Expr": "sympy.Expr",
    "sympy.Symbol": "sympy.Symbol",
    "Expr": "sympy.Expr",
    "Symbol": "sympy.Symbol",
    "mpmath.mpf": "mpmath.mpf",
    "mpf": "mpmath.mpf",
    "SearchStrategy": "hypothesis.strategies.SearchStrategy",
    "torch.Tensor": "torch.Tensor",
    "Tensor": "torch.Tensor",
    "torch.device": "torch.device",
    "ProcessGroup": "torch.distributed.ProcessGroup",
}

#: Modules whose ``__all__`` the API pages document; a class named in a
#: parameter type (``BoundTerms``, ``Prior``, ...) links to its entry.
PUBLIC_MODULES = [
    "couponbound", "couponbound.coverage", "couponbound.occupancy", "couponbound.exact",
    "couponbound.asymptotic",
    "couponbound.collision", "couponbound.bounds", "couponbound.symbolic",
    "couponbound.testing", "couponbound.training", "couponbound.training.distributed",
    "couponbound.training.lightning", "couponbound.paper", "couponbound.paper.tables",
    "couponbound.paper.plots", "couponbound.paper.style", "couponbound.paper.datasets",
    "couponbound.paper.reports", "couponbound.cli",
]


def _class_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for modname in PUBLIC_MODULES:
        try:
            module = importlib.import_module(modname)
        except ImportError:  # a module another part of the redesign adds later
            continue
        for name in getattr(module, "__all__", []):
            if name == "BoundMonitorCallback":  # created on first use (needs Lightning)
                continue
            if inspect.isclass(getattr(module, name, None)):
                aliases.setdefault(name, f"{modname}.{name}")
    return aliases


numpydoc_xref_aliases.update(_class_aliases())

# -- copy button -----------------------------------------------------------
# Copying a doctest gives the code without ``>>> `` / ``... `` prompts (and
# without the output); shell blocks copy without ``$ ``.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_exclude = ".linenos, .gp, .go"

# -- figures built with the pages (matplotlib's plot directive) -------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 144)]
plot_rcparams = {"savefig.bbox": "tight"}
plot_apply_rcparams = True
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"

# -- sphinx-gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["gallery"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "min_reported_time": 10,
    "write_computation_times": False,  # no generated sg_execution_times.rst in the tree
    # Thumbnails readable at the size the gallery shows them (two or three a
    # row, _static/couponbound.css): each example's first figure is a
    # one-column figure, scaled into this box.
    "thumbnail_size": (480, 360),
}

# -- HTML ------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"couponbound {release}"
html_short_title = "couponbound"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "header_links_before_dropdown": 10,  # every group in one row at 1280 px
    "navbar_align": "left",
    "secondary_sidebar_items": ["page-toc"],
    "show_toc_level": 2,
    "navigation_depth": 2,
    "collapse_navigation": True,
}
html_context = {"default_mode": "light"}
# The primary (left) sidebar only where a section has pages of its own: the
# API reference and the gallery.  Every other page is a top-level page whose
# "Section Navigation" would be empty.
html_sidebars = {
    "*": [],
    "api/**": ["sidebar-nav-bs"],
    "auto_examples/**": ["sidebar-nav-bs"],
}
html_static_path = ["_static"]
html_css_files = ["couponbound.css"]
html_show_sourcelink = False
html_copy_source = False


# -- references to re-exported names -----------------------------------------
# ``couponbound.coverage_prob`` and ``couponbound.coverage.coverage_prob`` are
# one function: the API pages document each object once, and a reference by
# any public (or defining) module path resolves to that entry.

def _import_target(target: str) -> Any:
    """The object a dotted name points at, or ``None``."""
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except (AttributeError, ImportError):
            # ImportError: a name created on first lookup that needs an optional
            # framework (``BoundMonitorCallback`` without Lightning) - the docs
            # extra does not install the frameworks, and its entry is written
            # by hand on the API page.
            return None
        return obj
    return None


def _documented_objects(env: Any) -> dict[int, str]:
    """``id(object) -> documented name`` for couponbound's documented objects."""
    cache = getattr(env, "_couponbound_aliases", None)
    if cache is None:
        cache = {}
        for name in env.get_domain("py").objects:
            if name.startswith("couponbound"):
                obj = _import_target(name)
                if obj is not None and not isinstance(obj, (int, float, str, tuple, type(None))):
                    cache.setdefault(id(obj), name)
        env._couponbound_aliases = cache
    return cache


def _resolve_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    candidates = [target]
    module = node.get("py:module")
    if module and not target.startswith("couponbound"):
        candidates.insert(0, f"{module}.{target}")
    for candidate in candidates:
        if not candidate.startswith("couponbound"):
            continue
        obj = _import_target(candidate)
        if obj is None:
            continue
        name = _documented_objects(env).get(id(obj))
        if name is not None and name != target:
            domain = env.get_domain("py")
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                       name, node, contnode)
    return None


def _reset_aliases(app: Any, env: Any, *args: Any) -> None:
    env._couponbound_aliases = None


class SummaryDirective(SphinxDirective):
    """``.. couponbound-summary:: module``: a table of the module's ``__all__``.

    One row per exported name: a link to its entry and the first sentence of
    its docstring.  It follows ``__all__``, so a renamed or added function
    appears without editing the page.
    """

    required_arguments = 1
    has_content = False

    def run(self) -> list[Any]:
        modname = self.arguments[0]
        module = importlib.import_module(modname)
        lines = [".. list-table::", "   :class: couponbound-summary", "   :widths: 30 70", ""]
        for name in module.__all__:
            obj = getattr(module, name)
            doc = inspect.getdoc(obj) or ""
            first = " ".join(doc.split("\n\n")[0].split()) if doc else ""
            lines += [f"   * - :py:obj:`~{modname}.{name}`", f"     - {first}"]
        content = StringList(lines, source=f"<couponbound-summary {modname}>")
        node = nodes.container()
        self.state.nested_parse(content, self.content_offset, node)
        return node.children


def setup(app: Any) -> None:
    app.add_directive("couponbound-summary", SummaryDirective)
    app.connect("env-updated", _reset_aliases)
    app.connect("missing-reference", _resolve_alias)
