"""Packaging checks that need no build: metadata, version, ``python -m``, citation.

The build itself (sdist, wheel, ``twine check``, a fresh venv) is
``scripts/check_package.sh``, which CI runs after the tests.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import couponbound

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml needs tomllib or tomli")

ROOT = Path(__file__).resolve().parent.parent
# hatchling's default pattern for a version file (hatchling.version.source.regex)
VERSION_LINE = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']\s*$""", re.MULTILINE)


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def project(pyproject: dict[str, Any]) -> dict[str, Any]:
    return pyproject["project"]


def _source_version() -> str:
    text = (ROOT / "couponbound" / "__init__.py").read_text(encoding="utf-8")
    found = VERSION_LINE.findall(text)
    assert len(found) == 1, f"expected one __version__ line in couponbound/__init__.py, found {found}"
    return found[0]


def _run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "couponbound", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


# --- version -------------------------------------------------------------------


def test_version_is_written_once(project: dict[str, Any], pyproject: dict[str, Any]) -> None:
    assert "version" not in project
    assert "version" in project["dynamic"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "couponbound/__init__.py"
    assert _source_version() == couponbound.__version__


def test_version_matches_installed_metadata() -> None:
    try:
        installed = importlib.metadata.version("couponbound")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("couponbound is not installed (only on PYTHONPATH): no metadata to compare")
    assert installed == couponbound.__version__


def test_build_backend_supports_license_expression(pyproject: dict[str, Any]) -> None:
    # PEP 639 (License-Expression, License-File) arrived in hatchling 1.27.
    (req,) = [r for r in pyproject["build-system"]["requires"] if r.startswith("hatchling")]
    m = re.fullmatch(r"hatchling>=(\d+)\.(\d+)(?:\.\d+)?", req.replace(" ", ""))
    assert m is not None, req
    assert (int(m[1]), int(m[2])) >= (1, 27)
    assert pyproject["build-system"]["build-backend"] == "hatchling.build"


# --- metadata --------------------------------------------------------------------


def test_license_metadata_and_file(project: dict[str, Any]) -> None:
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, couponbound developers" in text
    # the three clauses, and the disclaimer
    for clause in ("1. Redistributions of source code", "2. Redistributions in binary form",
                   "3. Neither the name of the copyright holder", "AS IS"):
        assert clause in text
    # PEP 639: a license expression and License :: classifiers must not be combined
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_classifiers_match_requires_python(project: dict[str, Any]) -> None:
    classifiers = project["classifiers"]
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in classifiers)
    assert any(c.startswith("Development Status ::") for c in classifiers)
    m = re.fullmatch(r">=3\.(\d+)", project["requires-python"])
    assert m is not None, project["requires-python"]
    minors = sorted(int(c.rsplit(".", 1)[1]) for c in classifiers
                    if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert minors, "no Python version classifiers"
    assert minors[0] == int(m[1])
    assert minors == list(range(minors[0], minors[-1] + 1))


def test_project_urls_and_keywords(project: dict[str, Any]) -> None:
    urls = project["urls"]
    assert set(urls) == {"Documentation", "Source", "Issues", "Changelog"}
    assert urls["Source"] == "https://github.com/couponbound/couponbound"
    assert urls["Issues"] == urls["Source"] + "/issues"
    assert urls["Changelog"] == urls["Source"] + "/blob/main/CHANGELOG.md"
    assert urls["Documentation"].startswith("https://")
    assert "coupon collector" in project["keywords"]
    assert "contrastive learning" in project["keywords"]


def test_extras_for_the_tools_ci_uses(project: dict[str, Any]) -> None:
    extras = project["optional-dependencies"]

    def names(extra: str) -> set[str]:
        return {re.split(r"[<>=!~; \[]", req, maxsplit=1)[0].lower() for req in extras[extra]}

    assert {"build", "twine", "ruff", "mypy", "pytest"} <= names("dev")
    assert "sphinx-copybutton" in names("docs")
    assert project["scripts"]["couponbound"] == "couponbound.cli:console_main"


def test_the_package_is_marked_typed(pyproject: dict[str, Any]) -> None:
    assert (ROOT / "couponbound" / "py.typed").is_file()
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["couponbound"]
    sdist = pyproject["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    for name in ("couponbound/", "LICENSE", "CITATION.cff", "README.md", "CHANGELOG.md"):
        assert name in sdist


# --- python -m couponbound ------------------------------------------------------------


def test_python_m_couponbound_version(tmp_path: Path) -> None:
    done = _run_module("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"couponbound {couponbound.__version__}"


def test_python_m_couponbound_runs_a_subcommand(tmp_path: Path) -> None:
    done = _run_module("coverage", "-C", "10", "-K", "31", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0.69097" in done.stdout  # upsilon_32 for C = 10: 0.690975632...


def test_python_m_couponbound_passes_the_exit_code_on(tmp_path: Path) -> None:
    done = _run_module("--no-such-option", cwd=tmp_path)
    assert done.returncode == 2
    assert "--no-such-option" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing written on bad arguments


def test_importing_main_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # pytest --doctest-modules imports couponbound.__main__; that must not start the command.
    module = importlib.import_module("couponbound.__main__")
    assert module.__name__ == "couponbound.__main__"
    assert capsys.readouterr() == ("", "")


# --- CITATION.cff --------------------------------------------------------------------


def test_citation_names_the_package_version() -> None:
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    top_level = dict(re.findall(r"^([a-z-]+):[ \t]*(\S.*)$", text, flags=re.MULTILINE))
    assert top_level["cff-version"] == "1.2.0"
    assert top_level["version"] == couponbound.__version__
    assert top_level["type"] == "software"
    assert top_level["license"] == "BSD-3-Clause"


def test_citation_parses_and_cites_ns21(project: dict[str, Any]) -> None:
    yaml = pytest.importorskip("yaml", reason="parsing CITATION.cff needs PyYAML")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == couponbound.__version__
    assert cff["license"] == project["license"]
    assert cff["repository-code"] == project["urls"]["Source"]
    assert cff["url"] == project["urls"]["Documentation"]
    assert cff["authors"] == [{"name": "couponbound developers"}]
    (ns21,) = cff["references"]
    assert ns21["title"].startswith("Understanding Negative Samples in Instance Discriminative")
    assert [a["family-names"] for a in ns21["authors"]] == ["Nozawa", "Sato"]
    assert ns21["year"] == 2021
    assert "NeurIPS 2021" in ns21["collection-title"]


# --- CI and contributor docs ---------------------------------------------------------


def test_ci_keeps_the_readme_command_and_checks_the_package() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.DOTALL)
    assert len(blocks) >= 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci.splitlines()
    tests_at = ci.index(blocks[1])
    package_at = ci.index("bash scripts/check_package.sh")
    assert tests_at < package_at
    assert '"$status" -eq 5' in ci
    assert os.access(ROOT / "scripts" / "check_package.sh", os.X_OK)


def test_contributing_names_commands_that_exist() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.DOTALL)[1]
    assert setup in text
    assert 'python -m pytest -m "not slow"' in text
    for path in sorted(set(re.findall(r"(?:scripts|benchmarks)/[\w.]+\.(?:sh|py)", text))):
        assert (ROOT / path).is_file(), f"CONTRIBUTING.md names {path}, which does not exist"
    for needed in ("scripts/build_docs.sh", "scripts/check_package.sh",
                   "benchmarks/bench_coverage.py", "benchmarks/bench_monitor.py"):
        assert needed in text
    with open(ROOT / "pyproject.toml", "rb") as f:
        markers = tomllib.load(f)["tool"]["pytest"]["ini_options"]["markers"]
    assert any(m.startswith("slow:") for m in markers)


# --- a light import (issue 19): public names load their modules on first use ---------------

_PROBE = ("import sys\n{code}\n"
          "print(sorted({{m.split('.')[0] for m in sys.modules}} & "
          "{{'numpy', 'scipy', 'matplotlib', 'sympy', 'torch', 'mpmath'}}))")


def _loaded_after(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(code=code)], capture_output=True,
                          text=True, timeout=120, cwd=Path(couponbound.__file__).parents[1])
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])  # a list literal we printed ourselves


@pytest.mark.parametrize("code", [
    "import couponbound",
    "import couponbound.cli as c; c.build_parser().format_help()",
    "import sys, contextlib, io; sys.argv = ['couponbound', '--version']\n"
    "from couponbound.cli import console_main\n"
    "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()): "
    "console_main()",
])
def test_import_and_help_load_no_numeric_library(code: str) -> None:
    assert _loaded_after(code) == []


def test_the_probe_sees_a_numeric_import() -> None:
    # the control: the same probe reports what a public function's first use loads
    assert "numpy" in _loaded_after("from couponbound import coverage_prob")


def test_every_public_name_resolves_lazily() -> None:
    names = set(couponbound.__all__)
    assert names <= set(dir(couponbound))
    for name in sorted(names):
        value = getattr(couponbound, name)
        assert getattr(value, "__name__", name) == name, name
    namespace: dict[str, Any] = {}
    exec("from couponbound import *", namespace)  # noqa: S102 - the star import itself is tested
    assert names <= set(namespace)
    assert couponbound.exact.__name__ == "couponbound.exact"
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        couponbound.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from couponbound import no_such_name", {})  # noqa: S102
