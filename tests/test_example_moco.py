"""The MoCo example (examples/moco_digits.py) in a reduced configuration.

Runs the script as a user would (a subprocess, a temporary output directory)
with three epochs and a queue of 128 keys, then checks what it wrote: the CSV
has one row per window and the columns it promises, the JSON agrees with it,
the monitor measured the loss the optimiser minimised, NS21's bound holds in
every window, the queue's K and theory columns are those of 128 keys drawn
without replacement from the training split, and the figure is a PNG.
Skipped without torch or scikit-learn (the ``examples`` extra).
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "moco_digits.py"
EPOCHS, QUEUE = 3, 128
TIMEOUT = 300

pytestmark = pytest.mark.slow  # trains a model: ~10 s


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("moco")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", str(EPOCHS), "--queue", str(QUEUE),
         "--out", str(out)],
        capture_output=True, text=True, timeout=TIMEOUT, check=False, env=env)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    with (out / "moco_windows.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    doc = json.loads((out / "moco_windows.json").read_text())
    return {"out": out, "proc": proc, "rows": rows, "doc": doc}


def test_files(run: dict[str, Any]) -> None:
    out = run["out"]
    names = {p.name for p in out.iterdir()}
    assert {"moco_windows.csv", "moco_windows.json", "moco_bound.png", "moco_bound.pdf"} <= names
    assert (out / "moco_bound.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "moco_bound.pdf").read_bytes()[:5] == b"%PDF-"
    assert "wrote moco_windows.csv" in run["proc"].stdout
    # a shuffled loader and a queue of recent keys look like random draws: no warning
    assert "Warning" not in run["proc"].stderr, run["proc"].stderr


def test_one_row_per_window(run: dict[str, Any]) -> None:
    rows, doc = run["rows"], run["doc"]
    assert [int(r["window"]) for r in rows] == list(range(EPOCHS))
    assert len(doc["windows"]) == EPOCHS
    assert doc["config"]["epochs"] == EPOCHS and doc["config"]["queue"] == QUEUE
    steps = doc["config"]["steps_per_epoch"]
    assert steps == doc["config"]["n_train"] // doc["config"]["batch"]
    assert [int(r["steps"]) for r in rows] == [steps * (e + 1) for e in range(EPOCHS)]
    # each window holds one epoch's batches, not the cumulative count
    assert all(int(r["n_batches"]) == steps for r in rows)
    assert all(int(r["n_anchors"]) == steps * doc["config"]["batch"] for r in rows)
    assert doc["total"]["n_batches"] == steps * EPOCHS
    assert len(doc["steps"]) == steps * EPOCHS


def test_csv_matches_json(run: dict[str, Any]) -> None:
    for row, win in zip(run["rows"], run["doc"]["windows"], strict=True):
        rep = win["report"]
        for key in ("contrastive", "ns21_bound", "sup", "collision", "d", "upsilon",
                    "theory_collision"):
            assert float(row[key]) == pytest.approx(rep[key], rel=1e-12, abs=1e-12), key
        assert float(row["train_loss"]) == pytest.approx(win["train_loss"], rel=1e-12)


def test_bound_holds_in_every_window(run: dict[str, Any]) -> None:
    for row in run["rows"]:
        assert float(row["ns21_bound"]) < float(row["contrastive"])
        assert row["holds"] == "1"
        assert float(row["d"]) <= 0.0
        assert float(row["margin"]) == pytest.approx(
            float(row["contrastive"]) - float(row["ns21_bound"]), abs=1e-9)


def test_monitor_measured_the_optimised_loss(run: dict[str, Any]) -> None:
    # The monitor recomputes MoCo's InfoNCE from the embeddings and the queue; it
    # must agree with the loss torch minimised, batch for batch (float32 rounding).
    for row in run["rows"]:
        assert float(row["contrastive"]) == pytest.approx(float(row["train_loss"]), abs=1e-4)


def test_queue_is_the_negatives(run: dict[str, Any]) -> None:
    from couponbound import Prior, coverage_prob, expected_log_collision

    doc = run["doc"]
    prior = Prior.from_counts(doc["prior"]["counts"], replacement=False)
    upsilon = float(coverage_prob(QUEUE, prior))
    coll = float(expected_log_collision(QUEUE, prior))
    for row in run["rows"]:
        assert int(row["K"]) == QUEUE
        assert float(row["theory_upsilon"]) == pytest.approx(upsilon, rel=1e-9)
        assert float(row["theory_collision"]) == pytest.approx(coll, rel=1e-9)
        # 128 keys of 10 classes: every class is there, every anchor meets its own class
        assert float(row["upsilon"]) == pytest.approx(1.0)
        assert float(row["tau"]) == pytest.approx(1.0)
        # the measured collision term is within a few standard errors of its theory
        assert abs(float(row["collision"]) - coll) < 0.1


def test_step_log(run: dict[str, Any]) -> None:
    steps = run["doc"]["steps"]
    assert [s["step"] for s in steps] == list(range(len(steps)))
    assert set(steps[0]) == {"step", "epoch", "contrastive", "ns21_bound", "collision", "d"}
    # the windows' losses are the means of their steps' (every batch has the same size)
    per = run["doc"]["config"]["steps_per_epoch"]
    for w, row in enumerate(run["rows"]):
        chunk = steps[w * per:(w + 1) * per]
        mean = math.fsum(s["contrastive"] for s in chunk) / per
        assert float(row["contrastive"]) == pytest.approx(mean, rel=1e-9)
        bound = math.fsum(s["ns21_bound"] for s in chunk) / per
        assert float(row["ns21_bound"]) == pytest.approx(bound, rel=1e-9)


def test_training_helps(run: dict[str, Any]) -> None:
    rows = run["rows"]
    assert float(rows[-1]["contrastive"]) < float(rows[0]["contrastive"])
    assert 0.0 <= float(rows[-1]["mean_classifier_acc"]) <= 1.0


def test_summary_printed(run: dict[str, Any]) -> None:
    out = run["proc"].stdout
    assert f"queue of {QUEUE} keys (K = {QUEUE})" in out
    assert f"holds in {EPOCHS} of {EPOCHS} windows" in out


def test_bad_queue_is_refused(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", "1", "--queue", "10", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=TIMEOUT, check=False, env=env)
    assert proc.returncode != 0
    assert "queue_size must lie in" in proc.stderr
