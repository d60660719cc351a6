"""The digits example (examples/digits_ns21.py) end to end, in its --quick form.

Runs the script as a user would, in a subprocess with a temporary output
directory, checks what it writes (the JSON's numbers, the figures' and tables'
files) and that the same command gives the same numbers.  Skipped when torch
or scikit-learn is missing (the ``examples`` extra).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "digits_ns21.py"
TIMEOUT = 300  # generous: --quick takes ~10 s alone, more on a loaded machine


def _run(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out), *extra],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def _finite_numbers(obj: Any, path: str = "") -> list[str]:
    """Paths of numbers in *obj* that are not finite (JSON has no NaN/inf; check anyway)."""
    bad: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            bad += _finite_numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            bad += _finite_numbers(v, f"{path}[{i}]")
    elif isinstance(obj, float) and not math.isfinite(obj):
        bad.append(path)
    return bad


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("digits-quick")
    return out, _run(out)


def test_script_exists() -> None:
    assert SCRIPT.is_file()


@pytest.mark.slow
def test_outputs_exist_and_are_valid(quick_run: tuple[Path, Any]) -> None:
    out, _ = quick_run
    magic = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-"}
    for stem in ("figure1_bound_comparison", "bound_decomposition"):
        for suffix, head in magic.items():
            path = out / (stem + suffix)
            assert path.is_file(), path
            data = path.read_bytes()
            assert data.startswith(head), path
            if suffix == ".pdf":
                assert b"%%EOF" in data[-1024:], path
    md = (out / "table2.md").read_text()
    tex = (out / "table2.tex").read_text()
    assert "NS21 bound on L_Info" in md and "|" in md
    assert r"\begin{tabular}" in tex and r"\end{tabular}" in tex
    assert (out / "summary.md").read_text().strip()
    result = json.loads((out / "results.json").read_text())
    assert sorted(result["files"]) == sorted(p.name for p in out.iterdir())


@pytest.mark.slow
def test_json_numbers(quick_run: tuple[Path, Any]) -> None:
    out, proc = quick_run
    result = json.loads((out / "results.json").read_text())
    cfg = result["config"]
    assert cfg["quick"] is True and cfg["seeds"] == 1 and len(cfg["batch_sizes"]) == 2
    assert cfg["temperature"] == 0.5
    runs = result["runs"]
    assert len(runs) == 2
    for run in runs:
        rep = run["report"]
        # The claim: NS21's bound stays below the measured L_Info, for each K.
        assert rep["holds"] == 1.0
        assert rep["ns21_bound"] < rep["contrastive"]
        assert rep["margin"] == pytest.approx(rep["contrastive"] - rep["ns21_bound"])
        for key in ("contrastive", "ns21_bound", "sup", "sub", "collision", "d", "upsilon",
                    "tau", "sup_all", "contrastive_se", "upsilon_se"):
            assert isinstance(rep[key], float) and math.isfinite(rep[key]), key
        assert rep["d"] <= 0.0
        assert 0.0 <= rep["upsilon"] <= 1.0 and 0.0 <= rep["tau"] <= 1.0
        assert rep["K"] == run["batch_size"] - 1 and rep["C"] == 10
        assert rep["n_anchors"] == rep["n_batches"] * run["batch_size"]
        for acc in run["accuracy"].values():
            assert 0.1 < acc <= 1.0  # better than chance among 10 classes
    # JSON has no NaN / inf: non-finite values (vacuous bounds) are written as null.
    assert _finite_numbers(result) == []
    claims = result["summary"]["claims"]
    assert claims["ns21_bound_below_L_info_every_K_and_seed"] is True
    assert claims["smallest_margin_L_info_minus_bound"] > 0
    for row in result["summary"]["per_batch_size"]:
        for q in ("upsilon", "tau", "collision"):
            entry = row[f"{q}_vs_theory"]
            assert entry["fits"] in {"with replacement", "without replacement", "both", "neither",
                                     "degenerate"}
            for form in ("with_replacement", "without_replacement"):
                assert 0.0 <= entry[f"theory_{form}"] <= 10.0
    # The printed summary says it plainly.
    assert "NS21's bound is below the measured L_Info for every K and seed: YES" in proc.stdout


@pytest.mark.slow
def test_same_command_same_numbers(quick_run: tuple[Path, Any], tmp_path: Path) -> None:
    """Determinism, and independence of the number of worker processes."""
    out, proc = quick_run
    proc2 = _run(tmp_path, "--workers", "2")
    first = json.loads((out / "results.json").read_text())
    second = json.loads((tmp_path / "results.json").read_text())
    assert first == second
    assert proc.stdout.replace(str(out), "OUT") == proc2.stdout.replace(str(tmp_path), "OUT")
