"""The TensorBoard recipe (examples/tensorboard_digits.py, docs/tensorboard.rst).

Runs the script as a user would (a subprocess, a temporary directory) with two
epochs, then reads the event file back independently with TensorBoard's
``EventAccumulator`` and checks: the windows' logged numbers are those the
script compared with the monitor's report; every step's window is there; the
logged NS21 bound stays below the logged loss (the theorem); the batch-weighted
mean of the windows' losses is the monitor's whole-run loss; the figure is a
PNG.  Skipped without torch, Lightning, TensorBoard or scikit-learn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("lightning")
pytest.importorskip("sklearn")
pytest.importorskip("tensorboard")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "tensorboard_digits.py"

pytestmark = pytest.mark.slow  # trains a model with Lightning: ~10 s


def test_tensorboard_recipe_logs_the_monitors_numbers(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    out = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--epochs", "2",
                          "--every", "4"], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads(out.stdout[out.stdout.index("{"):out.stdout.rindex("}") + 1])
    assert result["max_relative_difference"] < 1e-6
    for name, (logged, report) in result["checks"].items():
        assert logged == pytest.approx(report, rel=1e-6), name

    acc = EventAccumulator(result["logdir"], size_guidance={SCALARS: 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"bound/contrastive", "bound/ns21_bound", "bound/upsilon", "bound/n_batches"} <= tags
    loss = acc.Scalars("bound/contrastive")
    bound = acc.Scalars("bound/ns21_bound")
    batches = np.array([e.value for e in acc.Scalars("bound/n_batches")])
    assert len(loss) == result["windows"] == len(bound)
    # 1797 digits in batches of 64 (last dropped): 28 steps per epoch, 56 in all
    assert batches.sum() == 56 and np.all(batches >= 1)
    steps = [e.step for e in loss]
    assert steps == sorted(steps) and steps[-1] <= 56
    assert all(b.value <= c.value for b, c in zip(bound, loss, strict=True))
    assert loss[-1].value == pytest.approx(result["last"]["contrastive"])
    assert Path(result["figure"]).read_bytes().startswith(b"\x89PNG")
