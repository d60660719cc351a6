"""The documented docs command works with only the docs and test extras.

``pip install -e '.[docs,test]' && bash scripts/build_docs.sh`` is what the
README and CONTRIBUTING tell a new user to run.  Those extras install no
framework (torch, Lightning, JAX, scikit-learn, TensorBoard, pandas), so the
test runs exactly that script with every framework made unimportable: a
directory of packages whose import raises ``ImportError``, first on
``PYTHONPATH``.  The build is strict (``-n -W``), so any page or configuration
that reaches for a framework fails it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What the docs and test extras leave out.
FRAMEWORKS = ("torch", "lightning", "pytorch_lightning", "jax", "sklearn", "tensorboard", "pandas")


def _docs_tools_missing() -> str | None:
    import importlib.util

    for name in ("sphinx", "pydata_sphinx_theme", "numpydoc", "sphinx_gallery",
                 "sphinx_copybutton", "myst_parser"):
        if importlib.util.find_spec(name) is None:
            return name
    return None


def _blocked_env(tmp_path: Path) -> dict[str, str]:
    block = tmp_path / "no_frameworks"
    for name in FRAMEWORKS:
        (block / name).mkdir(parents=True)
        (block / name / "__init__.py").write_text(
            f"raise ImportError('{name} is not installed (blocked by test_docs_build)')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(block)
    env["PYTHON"] = sys.executable
    env["MPLBACKEND"] = "Agg"
    return env


def test_blocker_makes_frameworks_unimportable(tmp_path: Path) -> None:
    """The simulated fresh clone really has no framework (else the slow test proves nothing)."""
    env = _blocked_env(tmp_path)
    code = ("import importlib, sys\n"
            f"for n in {FRAMEWORKS!r}:\n"
            "    try:\n"
            "        importlib.import_module(n)\n"
            "    except ImportError:\n"
            "        continue\n"
            "    sys.exit('importable: ' + n)\n"
            "import couponbound.training.lightning as m\n"
            "try:\n"
            "    m.BoundMonitorCallback\n"
            "except ImportError as e:\n"
            "    print('lightning missing:', e)\n"
            "else:\n"
            "    sys.exit('BoundMonitorCallback was created')\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "needs Lightning" in out.stdout


@pytest.mark.slow
def test_documented_docs_command_without_frameworks(tmp_path: Path) -> None:
    missing = _docs_tools_missing()
    if missing is not None:
        pytest.skip(f"the docs extra is not installed ({missing} missing)")
    if shutil.which("bash") is None:
        pytest.skip("bash not available")
    env = _blocked_env(tmp_path)
    out = subprocess.run(["bash", "scripts/build_docs.sh"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, (out.stdout + out.stderr)[-6000:]
    assert "docs: built docs/_build/html/index.html" in out.stdout
    html = (ROOT / "docs" / "_build" / "html")
    assert (html / "index.html").is_file()
    # the hand-written entry of the Lightning callback is on the page
    pages = "".join(p.read_text(encoding="utf-8") for p in (html / "api").rglob("*.html"))
    assert "BoundMonitorCallback" in pages
