"""The contributor recipes of docs/architecture.rst, followed in a throw-away copy.

Each test copies ``couponbound/`` to a temporary folder, makes the edits a
recipe asks for (a throw-away bound, data set or subcommand), and uses the
result in a fresh interpreter that imports the copy.  The recipes' "Files
touched (N)" lines are checked too: N files, each of which exists, and every
package file a test edits is among them.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_layout import layering_violations, private_name_violations

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.rst"


def recipe_files(title: str) -> list[str]:
    """The files the recipe called *title* says it touches (its "Files touched (N)" line)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split(f"\n{title}\n{'-' * len(title)}\n", 1)[1]
    m = re.search(r"Files touched \((\d+)\):(.*?)(?:\.\n|\(five|\n\n)", section, re.S)
    assert m, f"the recipe {title!r} has no 'Files touched (N):' line"
    files = re.findall(r"``([^`]+)``", m.group(2))
    assert len(files) == int(m.group(1)), (title, files)
    return files


@pytest.mark.parametrize("title", ["Adding a bound", "Adding a data set", "Adding a subcommand"])
def test_recipes_name_files_that_exist(title: str) -> None:
    for f in recipe_files(title):
        assert (ROOT / f).is_file(), f"{title}: {f} does not exist"


def copy_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "couponbound", tmp_path / "couponbound",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "couponbound"


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first *old* in *path* by *new* (the recipe's step); *old* must be there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name}: {old!r} not found: the recipe no longer matches the code"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run_in_copy(tmp_path: Path, code: str | None = None, args: list[str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-c", code] if code is not None else [sys.executable, *(args or [])]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    return res


def touched(pkg: Path) -> set[str]:
    """Package files that differ from the repository's."""
    out = set()
    for p in pkg.rglob("*.py"):
        rel = p.relative_to(pkg.parent)
        orig = ROOT / rel
        if not orig.is_file() or orig.read_bytes() != p.read_bytes():
            out.add(str(rel))
    return out


def test_add_a_bound(tmp_path: Path) -> None:
    pkg = copy_package(tmp_path)
    # step 2: the formula, once, plain arithmetic
    edit(pkg / "_formulas.py", "__all__ = [\n", '__all__ = [\n    "halfway_bound",\n')
    with (pkg / "_formulas.py").open("a", encoding="utf-8") as f:
        f.write('\n\ndef halfway_bound(contrastive: Any, collision: Any, d: Any) -> Any:\n'
                '    """A throw-away bound: (L - E ln(1+Col)) / 2 + d."""\n'
                '    return (contrastive - collision) / 2 + d\n')
    # step 3: the public functions, from measured terms and as a curve in K
    edit(pkg / "bounds.py", "__all__ = [\n", '__all__ = [\n    "halfway_curve",\n'
         '    "halfway_lower_bound",\n')
    edit(pkg / "bounds.py", "from couponbound._formulas import (\n",
         "from couponbound._formulas import (\n    halfway_bound,\n")
    with (pkg / "bounds.py").open("a", encoding="utf-8") as f:
        f.write('''

def halfway_lower_bound(terms: BoundTerms) -> float:
    """The throw-away bound from measured terms."""
    t = _check_terms(terms, "halfway_lower_bound")
    return float(halfway_bound(t.contrastive, t.collision, t.d))


def halfway_curve(contrastive: ArrayLike, K: ArrayLike, C: int | Prior | None = None, *,
                  probs: ArrayLike | None = None, counts: ArrayLike | None = None) -> FloatOrArray:
    """The throw-away bound as a curve in K, with the theoretical collision term and d = 0."""
    return evaluate_broadcast(_halfway_kernel, (C, probs, counts, None),
                              contrastive=(contrastive, _LOSS), K=(K, negatives))


def _halfway_kernel(args: dict[str, Any], shape: tuple[int, ...], prior: Prior) -> FloatOrArray:
    _, _, coll = _theory_terms(args["K"], prior, tau=False)
    return finish_shape(halfway_bound(args["contrastive"], coll, 0.0), shape)
''')
    # step 5: exported, and listed in the package's docstring
    edit(pkg / "__init__.py", ":func:`bao22_min_supervised`;",
         ":func:`bao22_min_supervised`, :func:`halfway_lower_bound`;")
    edit(pkg / "__init__.py", '    "sup_upper_bounds": ".bounds",\n',
         '    "sup_upper_bounds": ".bounds",\n    "halfway_curve": ".bounds",\n'
         '    "halfway_lower_bound": ".bounds",\n')
    edit(pkg / "__init__.py", "        sup_upper_bounds,\n    )", "        sup_upper_bounds,\n"
         "        halfway_curve,\n        halfway_lower_bound,\n    )")
    edit(pkg / "__init__.py", "__all__ = [\n", '__all__ = [\n    "halfway_curve",\n'
         '    "halfway_lower_bound",\n')

    in_recipe = {f.removeprefix("couponbound/") for f in recipe_files("Adding a bound")}
    assert {f.removeprefix("couponbound/") for f in touched(pkg)} <= in_recipe
    assert private_name_violations(pkg) == [] and layering_violations(pkg) == []
    res = run_in_copy(tmp_path, """
import json, couponbound
from couponbound import BoundTerms, halfway_curve, halfway_lower_bound, expected_log_collision
t = BoundTerms(contrastive=2.02, sup=1.83, sub=1.68, collision=1.32, d=-1.16, upsilon=0.69)
print(json.dumps({
    "file": couponbound.__file__,
    "measured": halfway_lower_bound(t),
    "curve": halfway_curve([2.0, 3.0], 31, 10).tolist(),
    "coll": expected_log_collision(31, 10),
    "documented": ":func:`halfway_lower_bound`" in couponbound.__doc__,
    "in_all": "halfway_curve" in couponbound.bounds.__all__,
}))
""")
    out = json.loads(res.stdout)
    assert out["file"].startswith(str(tmp_path))
    assert out["measured"] == (2.02 - 1.32) / 2 - 1.16
    assert out["curve"] == [(2.0 - out["coll"]) / 2, (3.0 - out["coll"]) / 2]
    assert out["documented"] and out["in_all"]


def _registry_end(path: Path) -> int:
    """The last line of the statement that defines ``DATASETS``."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "DATASETS" for t in targets):
            assert node.end_lineno is not None
            return node.end_lineno
    raise AssertionError("couponbound/paper/datasets.py defines no DATASETS registry")


def test_add_a_data_set(tmp_path: Path) -> None:
    pkg = copy_package(tmp_path)
    path = pkg / "paper" / "datasets.py"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    end = _registry_end(path)
    lines.insert(end, '\n# Throwaway-7: class counts made up by tests/test_contributing.py\n'
                      'DATASETS["Throwaway-7"] = Prior.from_counts([3, 2, 1, 1, 1, 1, 1], '
                      'name="Throwaway-7")\n')
    path.write_text("".join(lines), encoding="utf-8")
    in_recipe = {f.removeprefix("couponbound/") for f in recipe_files("Adding a data set")}
    assert {f.removeprefix("couponbound/") for f in touched(pkg)} <= in_recipe

    res = run_in_copy(tmp_path, """
import json
from couponbound import coverage_prob
from couponbound.paper.datasets import dataset
p = dataset("Throwaway-7")
print(json.dumps({"C": p.C, "N": p.N, "name": p.name, "ups": coverage_prob(6, p)}))
""")
    out = json.loads(res.stdout)
    assert (out["C"], out["N"], out["name"]) == (7, 10, "Throwaway-7")
    assert 0.0 < out["ups"] < 1.0
    # the main job prints the same table as before: the registry is not the printed rows
    env_args = ["-m", "couponbound", "--json"]
    new = run_in_copy(tmp_path, args=env_args).stdout
    orig = subprocess.run([sys.executable, *env_args], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=300)
    assert orig.returncode == 0, orig.stderr
    assert new == orig.stdout and "Throwaway-7" not in new


def test_add_a_subcommand(tmp_path: Path) -> None:
    pkg = copy_package(tmp_path)
    cli = pkg / "cli.py"
    edit(cli, "_SUBCOMMANDS: dict[str, tuple[str, str, tuple[str, ...]]] = {\n",
         "_SUBCOMMANDS: dict[str, tuple[str, str, tuple[str, ...]]] = {\n"
         '    "halfway": ("coverage, under another name (a throw-away command)",\n'
         '                "The coverage probability, printed by a throw-away subcommand.",\n'
         '                ("couponbound halfway -C 10 -K 31",)),\n')
    edit(cli, "    return parser\n",
         '    p = cmd["halfway"]\n'
         "    _add_prior(p, default_C=None)\n"
         '    p.add_argument("-K", dest="K", type=int, nargs="+", required=True)\n'
         "    _add_formats(p, markdown=True)\n"
         "    return parser\n")
    edit(cli, "_COMMANDS: dict[", '''def _cmd_halfway(args: argparse.Namespace) -> int:
    from .paper.summary import coverage_values_table

    _emit(coverage_values_table(_priors(args, None), args.K), args.fmt)
    return 0


_COMMANDS: dict[''')
    edit(cli, '    "report": _cmd_report,\n', '    "report": _cmd_report,\n'
         '    "halfway": _cmd_halfway,\n')
    in_recipe = {f.removeprefix("couponbound/") for f in recipe_files("Adding a subcommand")}
    assert {f.removeprefix("couponbound/") for f in touched(pkg)} <= in_recipe

    help_text = run_in_copy(tmp_path, args=["-m", "couponbound", "--help"]).stdout
    assert "halfway" in help_text
    got = run_in_copy(tmp_path, args=["-m", "couponbound", "halfway", "-C", "10", "-K", "31",
                                      "--json"]).stdout
    want = run_in_copy(tmp_path, args=["-m", "couponbound", "coverage", "-C", "10", "-K", "31",
                                       "--json"]).stdout
    assert got == want and json.loads(got)
