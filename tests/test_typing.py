"""Static types of the public API as a user sees them: ``mypy --strict`` on a user's file.

tests/typecheck/user_file.py assigns scalar results to ``float`` and array
results to ``NDArray[np.float64]``; mypy must accept it with a user's
configuration (``--strict``, no ``ignore_missing_imports``), and must reject
a file that types an array result as ``float`` (so the check can fail).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
USER_FILE = ROOT / "tests" / "typecheck" / "user_file.py"

pytest.importorskip("mypy")

def _mypy(paths: list[Path], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """mypy --strict as a user runs it; the package is analysed as an installed one
    (``--follow-imports=silent``: its own notes are not the user's errors)."""
    config = tmp_path / "user_mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")  # a user's configuration: nothing special
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
         *map(str, paths)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600,
    )


@pytest.mark.slow
def test_user_file_passes_mypy_strict_and_a_wrong_one_fails(tmp_path: Path) -> None:
    text = USER_FILE.read_text(encoding="utf-8")
    good = tmp_path / "user_file.py"
    good.write_text(text, encoding="utf-8")
    wrong = tmp_path / "wrong.py"  # the check can fail: an array typed as float
    wrong.write_text("from couponbound import collision_prob, ns21_bound_curve\n"
                     "x: float = collision_prob([1, 2], 10)\n"
                     "y: float = ns21_bound_curve(1.0, 1.0, -0.5, [3, 4], 3)\n",
                     encoding="utf-8")
    res = _mypy([good, wrong], tmp_path)
    lines = [ln for ln in res.stdout.splitlines() if ": error:" in ln]
    assert [ln for ln in lines if ln.startswith("user_file.py")] == [], res.stdout
    wrong_lines = [ln for ln in lines if ln.startswith("wrong.py")]
    assert len(wrong_lines) == 2 and all("Incompatible types in assignment" in ln
                                         for ln in wrong_lines), res.stdout
    assert len(lines) == 2, res.stdout
