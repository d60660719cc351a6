"""The package's layout: layers that import one way, no private name across public modules.

Every module of ``couponbound/`` is parsed (not imported), and every import in
it -- at module level or inside a function -- is resolved to the module it
reads from:

* no module imports a ``_private`` name from a public module (one whose dotted
  path has no ``_private`` part): shared helpers live in private modules;
* data flow one way, maths -> bounds -> training -> paper -> cli: a module
  imports nothing from a layer to its right.  ``__init__.py`` files, which
  re-export the public API, are exempt as importers.

The checks run on a small synthetic package first, so they are known to fail
where they should.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "couponbound"

#: Layers, left to right; a module may import from its own layer and those to its left.
LAYERS = ("maths", "bounds", "training", "paper", "cli")


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name of the package (``None``: not layered)."""
    parts = module.split(".")[1:]
    if not parts:
        return None
    head = parts[0]
    if head in ("coverage", "exact", "asymptotic", "collision", "occupancy") or (
        head.startswith("_") and len(parts) == 1 and head != "__main__"
    ):
        return "maths"
    if head in ("bounds", "symbolic"):
        return "bounds"
    if head in ("training", "testing"):
        return "training"
    if head == "paper":
        return "paper"
    if head in ("cli", "__main__"):
        return "cli"
    return None


def modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file of every module below *root* (a package directory)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` reads from."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not _is_package(path):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _reexports(mods: dict[str, Path]) -> dict[tuple[str, str], str]:
    """``(package, name) -> source module`` for the names each ``__init__`` imports."""
    out = {}
    for name, path in mods.items():
        if not _is_package(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                src = _absolute(name, path, node)
                for alias in node.names:
                    out[(name, alias.asname or alias.name)] = src
    return out


def imports(root: Path) -> list[tuple[str, str, str | None, int]]:
    """``(importer, source module, imported name or None, line)`` for every import below *root*.

    ``from pkg import sub`` with ``sub`` a module is recorded as an import of
    the module ``pkg.sub`` (name ``None``); a name re-exported by a package's
    ``__init__`` is recorded as coming from the module that defines it.
    """
    mods = modules(root)
    again = _reexports(mods)
    top = root.name
    out: list[tuple[str, str, str | None, int]] = []
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == top:
                        out.append((name, alias.name, None, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                src = _absolute(name, path, node)
                if src.split(".")[0] != top:
                    continue
                for alias in node.names:
                    sub = f"{src}.{alias.name}"
                    if sub in mods:
                        out.append((name, sub, None, node.lineno))
                    else:
                        out.append((name, again.get((src, alias.name), src), alias.name,
                                    node.lineno))
    return out


def _public(module: str) -> bool:
    return not any(part.startswith("_") for part in module.split(".")[1:])


def private_name_violations(root: Path) -> list[str]:
    """Imports of a ``_private`` name from a public module."""
    return sorted(
        f"{importer} (line {line}) imports {name} from {src}"
        for importer, src, name, line in imports(root)
        if name is not None and name.startswith("_") and not name.startswith("__")
        and _public(src) and src != importer
    )


def layering_violations(root: Path) -> list[str]:
    """Imports from a layer to the importer's right (``__init__`` files exempt)."""
    mods = modules(root)
    bad = []
    for importer, src, _name, line in imports(root):
        if _is_package(mods[importer]):
            continue
        a, b = layer_of(importer), layer_of(src)
        if a is not None and b is not None and LAYERS.index(b) > LAYERS.index(a):
            bad.append(f"{importer} ({a}, line {line}) imports {src} ({b})")
    return sorted(bad)


# ---------------------------------------------------------------------------
# the checks themselves, on a synthetic package
# ---------------------------------------------------------------------------


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    root = tmp_path / "couponbound"
    files = {
        "__init__.py": "from .coverage import coverage_prob\nfrom .training.monitor import Mon\n",
        "_prior.py": "_HIDDEN = 1\n",
        "coverage.py": (
            "from couponbound._prior import _HIDDEN\n"  # private module: fine
            "def coverage_prob():\n"
            "    from couponbound.bounds import bound\n"  # maths -> bounds: wrong way
            "    return bound\n"
        ),
        "bounds.py": "from .coverage import coverage_prob\ndef bound(): pass\n_private = 2\n",
        "training/__init__.py": "from couponbound.paper import tables\n",  # exempt
        "training/batch.py": "_helper = 1\n",
        "training/monitor.py": (
            "from couponbound.training.batch import _helper\n"  # private name, public module
            "from . import batch\n"
            "from ..bounds import _private\n"  # private name, relative import
            "class Mon: pass\n"
        ),
        "paper/__init__.py": "",
        "paper/tables.py": "from couponbound import Mon\nimport couponbound.cli\n",  # paper -> cli
        "cli.py": "from couponbound import coverage_prob\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_checks_find_what_they_should(fake: Path) -> None:
    assert private_name_violations(fake) == [
        "couponbound.training.monitor (line 1) imports _helper from couponbound.training.batch",
        "couponbound.training.monitor (line 3) imports _private from couponbound.bounds",
    ]
    assert layering_violations(fake) == [
        "couponbound.coverage (maths, line 3) imports couponbound.bounds (bounds)",
        "couponbound.paper.tables (paper, line 2) imports couponbound.cli (cli)",
    ]
    # a name re-exported by the package is traced to its module (training -> paper is fine)
    assert ("couponbound.paper.tables", "couponbound.training.monitor", "Mon", 1) in imports(fake)


def test_every_module_has_a_layer() -> None:
    unlayered = [m for m, p in modules(PACKAGE).items()
                 if layer_of(m) is None and not _is_package(p)]
    assert unlayered == []


# ---------------------------------------------------------------------------
# the package
# ---------------------------------------------------------------------------


def test_no_private_name_from_a_public_module() -> None:
    assert private_name_violations(PACKAGE) == []


def test_layers_import_one_way() -> None:
    assert layering_violations(PACKAGE) == []


# ---------------------------------------------------------------------------
# the one description of the layout: docs/architecture.rst, "Who owns what"
# ---------------------------------------------------------------------------

ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.rst"


def documented_modules(text: str) -> dict[str, str]:
    """``path (relative to couponbound/) -> layer`` from the table of "Who owns what".

    Rows read ``* - ``path.py``  / - layer / - owns``; an RST comment block
    (``..`` followed by indented lines) is not part of the table.
    """
    section = text.split("Who owns what\n-------------", 1)[1].split("\n---", 1)[0]
    section = section.split("\n..\n", 1)[0]  # the comment of modules still to come
    rows = re.findall(r"^   \* - ``([^`]+\.py)``\n     - ([^\n]+)$", section, re.M)
    return {path: layer.strip() for path, layer in rows}


def on_disk(root: Path) -> dict[str, str | None]:
    """``path (relative to the package) -> layer_of`` for every module below *root*."""
    return {str(p.relative_to(root)): layer_of(name) for name, p in modules(root).items()}


def layout_problems(documented: dict[str, str], disk: dict[str, str | None]) -> list[str]:
    """What a contributor must change in docs/architecture.rst, one instruction per line."""
    out = []
    for path in sorted(set(disk) - set(documented)):
        layer = disk[path] or "(package)"
        private = Path(path).name.startswith("_") and not path.endswith("__init__.py")
        out.append(
            f"couponbound/{path} is not in docs/architecture.rst: add this row to the table "
            f"of 'Who owns what':\n   * - ``{path}``\n     - {layer}"
            f"{' (private)' if private else ''}\n"
            "     - <what it owns, in one sentence>"
        )
    for path in sorted(set(documented) - set(disk)):
        out.append(f"docs/architecture.rst lists ``{path}``, which is not in couponbound/: "
                   "remove its row (or fix its path)")
    for path in sorted(set(documented) & set(disk)):
        want, got = disk[path], documented[path].split()[0]
        if want is not None and not path.endswith("__init__.py") and got != want:
            out.append(f"docs/architecture.rst gives ``{path}`` the layer {got!r}; "
                       f"tests/test_layout.py's layer_of says {want!r}: correct the row")
    return out


def test_layout_check_finds_what_it_should(fake: Path) -> None:
    documented = {"__init__.py": "(package)", "coverage.py": "maths", "bounds.py": "maths",
                  "gone.py": "maths", "_prior.py": "maths (private)", "cli.py": "cli",
                  "training/__init__.py": "training", "training/batch.py": "training",
                  "paper/__init__.py": "paper", "paper/tables.py": "paper"}
    problems = layout_problems(documented, on_disk(fake))
    assert len(problems) == 3, problems
    missing, absent, wrong = problems
    assert missing.startswith("couponbound/training/monitor.py is not in docs/architecture.rst")
    assert "   * - ``training/monitor.py``\n     - training\n" in missing
    assert absent.startswith("docs/architecture.rst lists ``gone.py``")
    assert "``bounds.py`` the layer 'maths'" in wrong and "says 'bounds'" in wrong


def test_architecture_lists_every_module_and_nothing_else() -> None:
    documented = documented_modules(ARCHITECTURE.read_text(encoding="utf-8"))
    assert len(documented) > 20  # the table was found
    problems = layout_problems(documented, on_disk(PACKAGE))
    assert problems == [], "\n\n".join(problems)


def test_readme_and_contributing_link_to_the_one_description() -> None:
    root = PACKAGE.parent
    for name in ("README.md", "CONTRIBUTING.md"):
        text = (root / name).read_text(encoding="utf-8")
        assert "(docs/architecture.rst)" in text, name
        # no second module list to drift: no code block naming the package's modules
        assert not re.search(r"^\s*_validate\.py\s+_prior\.py", text, re.M), name


def test_no_docstring_keeps_an_unfilled_fragment() -> None:
    """A ``{docs.NAME}`` line left in a docstring means a missing ``@fill_doc``."""
    import importlib
    import inspect

    left = []
    for name, path in modules(PACKAGE).items():
        text = path.read_text(encoding="utf-8")
        if "{docs." not in text or name.endswith("._docs"):
            continue
        mod = importlib.import_module(name)
        for attr, obj in vars(mod).items():
            doc = inspect.getdoc(obj) if callable(obj) else None
            if doc and "{docs." in doc and getattr(obj, "__module__", None) == name:
                left.append(f"{name}.{attr}")
    assert left == []
