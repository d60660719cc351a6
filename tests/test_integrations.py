"""torch.distributed and Lightning adapters of BoundMonitor."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest
import reference_monitor as refmon

from couponbound.training.monitor import BoundMonitor

STREAM_CODE = """
import numpy as np

def stream():
    rng = np.random.default_rng(2024)
    C, d = 6, 8
    mu_true = rng.normal(size=(C, d))
    batches = []
    for j, n in enumerate([8, 16, 5, 12, 8, 30, 3, 9, 6]):
        y = rng.integers(0, C if j % 2 else C - 1, n)
        z0 = mu_true[y] + 0.7 * rng.normal(size=(n, d))
        z1 = mu_true[y] + 0.7 * rng.normal(size=(n, d))
        batches.append((z0, z1, y))
    mu = 0.4 * mu_true
    return C, mu / np.maximum(1.0, np.linalg.norm(mu, axis=1, keepdims=True)), batches
"""

WORKER = STREAM_CODE + """
import json, sys
import torch
import torch.distributed as dist
from couponbound.training.monitor import BoundMonitor
from couponbound.training.distributed import make_all_reduce, sync

rank, world, init, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
dist.init_process_group("gloo", init_method="file://" + init, rank=rank, world_size=world)
C, mu, batches = stream()
mon = BoundMonitor(C, 0.5, class_means=mu)
for j, (z0, z1, y) in enumerate(batches):
    if j % world == rank:
        mon.update(torch.tensor(z0), torch.tensor(z1), torch.tensor(y))
local = mon.state_dict()
periodic = mon.compute(all_reduce=make_all_reduce())
unchanged = mon.state_dict() == local
sync(mon)
final = mon.compute()
# a monitor with another temperature must be refused by every rank
odd = BoundMonitor(C, 0.5 if rank == 0 else 0.25, class_means=mu)
odd.update(batches[0][0], batches[0][1], batches[0][2])
odd_before = odd.state_dict()
try:
    sync(odd)
    refused = False
except ValueError:
    refused = True
odd_unchanged = odd.state_dict() == odd_before
with open(out, "w") as fh:
    json.dump({"periodic": periodic.to_dict(), "final": final.to_dict(),
               "unchanged": unchanged, "refused": refused, "odd_unchanged": odd_unchanged,
               "local_batches": local["state"]["n_batches"]}, fh)
dist.destroy_process_group()
"""


def _same_dict(a: dict, b: dict, tol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if math.isnan(a[k]):
            assert math.isnan(b[k]), k
        else:
            assert b[k] == pytest.approx(a[k], rel=tol, abs=tol), k


@pytest.mark.slow
def test_two_process_gloo_sync(tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    init = tmp_path / "init"
    outs = [tmp_path / f"rank{r}.json" for r in range(2)]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    procs = [subprocess.Popen([sys.executable, str(script), str(r), "2", str(init), str(outs[r])],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in range(2)]
    for p in procs:
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("torch.distributed workers timed out")
        assert p.returncode == 0, err[-3000:]
    results = [json.loads(o.read_text()) for o in outs]

    namespace: dict = {}
    exec(textwrap.dedent(STREAM_CODE), namespace)
    C, mu, batches = namespace["stream"]()
    whole = BoundMonitor(C, 0.5, class_means=mu)
    for z0, z1, y in batches:
        whole.update(z0, z1, y)
    want = whole.compute().to_dict()
    assert [r["local_batches"] for r in results] == [5, 4]
    for r in results:
        assert r["unchanged"] is True and r["refused"] is True and r["odd_unchanged"] is True
        _same_dict(want, r["periodic"], 1e-12)
        _same_dict(want, r["final"], 1e-12)


def test_all_reduce_without_process_group_is_identity():
    pytest.importorskip("torch")
    from couponbound.training.distributed import all_reduce_sum, is_distributed, make_all_reduce

    assert not is_distributed()
    v = np.array([1.0, 2.5])
    out = make_all_reduce()(v)
    np.testing.assert_array_equal(out, v)
    assert out is not v
    np.testing.assert_array_equal(all_reduce_sum([3, 4]), [3.0, 4.0])
    mon = BoundMonitor(2, 0.5)
    mon.update_losses(contrastive=1.0, sup=1.0, d=0.0, labels=[0, 1], in_batch=True)
    before = mon.compute()
    from couponbound.training.distributed import sync

    sync(mon)
    assert mon.compute().to_dict() == before.to_dict()


# --------------------------------------------------------------------------
# the Lightning callback's logic, with stand-in trainer and module
# --------------------------------------------------------------------------

class FakeModule:
    def __init__(self):
        self.calls = []

    def log_dict(self, metrics, **kwargs):
        self.calls.append((dict(metrics), kwargs))


def _out(label_sets, rng, C=3, d=4):
    y = np.array(label_sets)
    return {"loss": 0.0, "anchor": rng.normal(size=(len(y), d)),
            "positive": rng.normal(size=(len(y), d)), "labels": y}


def test_callback_logic_train_stage():
    from couponbound.training.lightning import CallbackLogic

    rng = np.random.default_rng(0)
    mu = refmon.shrink(rng.normal(size=(3, 4)))
    ref = BoundMonitor(3, 0.5, class_means=mu)
    cb = CallbackLogic(BoundMonitor(3, 0.5, class_means=mu), every_n_steps=3, prefix="b/",
                       log_keys=None, window=False)
    module, trainer = FakeModule(), SimpleNamespace(sanity_checking=False)
    for step in range(7):
        out = _out([0, 1, 2, step % 3], rng)
        ref.update(out["anchor"], out["positive"], out["labels"])
        cb.on_train_batch_end(trainer, module, out, None, step)
    assert len(module.calls) == 2  # after batches 3 and 6
    metrics, kwargs = module.calls[-1]
    assert kwargs["on_step"] is True and metrics["b/n_batches"] == 6.0
    cb.on_validation_epoch_end(trainer, module)
    metrics, kwargs = module.calls[-1]
    assert kwargs["on_epoch"] is True
    assert metrics == ref.compute().to_dict("b/")
    assert cb.last_report is not None and cb.last_report.n_batches == 7
    # sanity checking logs nothing
    cb.on_validation_epoch_end(SimpleNamespace(sanity_checking=True), module)
    assert len(module.calls) == 3
    # checkpoint round trip
    state = json.loads(json.dumps(cb.state_dict()))
    cb2 = CallbackLogic(BoundMonitor(3, 0.5), every_n_steps=3)
    cb2.load_state_dict(state)
    assert cb2.monitor.compute().to_dict() == cb.monitor.compute().to_dict()
    assert cb2._train_batches == 7


def test_callback_logic_windows_keys_and_refit():
    from couponbound.training.lightning import CallbackLogic
    from couponbound.training.report import LOG_KEYS

    rng = np.random.default_rng(1)
    mu = refmon.shrink(0.3 * rng.normal(size=(3, 4)))
    outs = [_out([0, 1, 2, s % 3], rng) for s in range(7)]
    refit_calls = []

    def refit(trainer, module):
        refit_calls.append(module)
        z = np.concatenate([o["anchor"] for o in outs])
        z = z / (2 * np.linalg.norm(z, axis=1, keepdims=True))
        return [(z, np.concatenate([o["labels"] for o in outs]))]

    cb = CallbackLogic(BoundMonitor(3, 0.5, class_means=mu, warn_nonrandom=False),
                       every_n_steps=3, refit_class_means=refit)
    module, trainer = FakeModule(), SimpleNamespace(sanity_checking=False)
    for step, out in enumerate(outs):
        cb.on_train_batch_end(trainer, module, out, None, step)
    # each step log is the window since the previous one, with the logging keys only
    for (metrics, kwargs), (lo, hi) in zip(module.calls, ((0, 3), (3, 6)), strict=True):
        want = BoundMonitor(3, 0.5, class_means=mu, warn_nonrandom=False)
        for o in outs[lo:hi]:
            want.update(o["anchor"], o["positive"], o["labels"])
        assert metrics == want.compute().to_dict("bound/", keys=LOG_KEYS)
        assert kwargs["on_step"] is True
    assert cb.monitor.window_batches == 1 and cb.monitor.n_batches == 7
    cb.on_train_epoch_end(trainer, module)  # logs the open window, then refits
    assert module.calls[-1][0]["bound/n_batches"] == 1.0 and refit_calls == [module]
    assert cb.monitor.window_batches == 0
    assert not np.array_equal(cb.monitor.class_means, mu)
    cb.on_train_batch_end(trainer, module, outs[0], None, 7)  # measured with the new means
    assert cb.monitor.n_batches == 8
    with pytest.raises(ValueError, match="log_keys"):
        CallbackLogic(BoundMonitor(3, 0.5), log_keys=["nope"])


def test_callback_logic_validation_stage_and_losses():
    from couponbound.training.lightning import CallbackLogic

    cb = CallbackLogic(BoundMonitor(2, 0.5), stage="validation")
    module = FakeModule()
    sanity, real = SimpleNamespace(sanity_checking=True), SimpleNamespace(sanity_checking=False)
    out = {"contrastive": [2.0, 2.0], "sup": [1.0, 1.0], "d": -0.1, "labels": [0, 1],
           "in_batch": True}
    cb.on_train_batch_end(real, module, out, None, 0)  # train batches are ignored
    cb.on_validation_epoch_start(sanity, module)
    cb.on_validation_batch_end(sanity, module, out, None, 0)
    cb.on_validation_epoch_end(sanity, module)
    assert cb.monitor.n_batches == 0 and module.calls == []
    for _epoch in range(2):
        cb.on_validation_epoch_start(real, module)
        for i in range(3):
            cb.on_validation_batch_end(real, module, out, None, i)
        cb.on_validation_epoch_end(real, module)
        assert module.calls[-1][0]["bound/n_batches"] == 3.0  # reset each epoch
    assert cb.monitor.n_batches == 3


def test_callback_logic_extract_and_errors():
    from couponbound.training.lightning import CallbackLogic

    mon = BoundMonitor(2, 0.5)
    seen = []

    def extract(outputs, batch):
        seen.append(batch)
        if batch == "skip":
            return None
        return {"contrastive": outputs, "sup": 0.5, "d": 0.0, "batch_counts": [1, 1],
                "in_batch": True}

    cb = CallbackLogic(mon, extract=extract, every_n_steps=None)
    module, trainer = FakeModule(), SimpleNamespace(sanity_checking=False)
    cb.on_train_batch_end(trainer, module, 1.5, "batch", 0)
    cb.on_train_batch_end(trainer, module, 1.5, "skip", 1)
    assert seen == ["batch", "skip"] and mon.n_batches == 1 and module.calls == []

    plain = CallbackLogic(BoundMonitor(2, 0.5))
    with pytest.raises(TypeError, match="not a mapping"):
        plain.on_train_batch_end(trainer, module, 0.3, None, 0)
    with pytest.raises(ValueError, match="neither 'anchor'"):
        plain.on_train_batch_end(trainer, module, {"loss": 0.3}, None, 0)
    assert plain.monitor.n_batches == 0 and plain._train_batches == 0
    # a batch the monitor rejects changes neither the monitor nor the step counter
    good = {"contrastive": [2.0, 2.0], "sup": [1.0, 1.0], "d": -0.1, "labels": [0, 1],
           "in_batch": True}
    plain.on_train_batch_end(trainer, module, good, None, 0)
    before = (plain.monitor.state_dict(), plain.state_dict())
    for bad, err, match in (({**good, "labels": [0, 2]}, ValueError, r"labels\[1\] = 2"),
                            ({**good, "sup": [-1.0, 1.0]}, ValueError, "sup is a loss"),
                            ({**good, "contrastive": [2.0]}, ValueError, "contrastive must be"),
                            ({**good, "labels": "ab"}, TypeError, "labels")):
        with pytest.raises(err, match=match):
            plain.on_train_batch_end(trainer, module, bad, None, 1)
        assert (plain.monitor.state_dict(), plain.state_dict()) == before
    assert plain.state_dict()["train_batches"] == 1
    with pytest.raises(ValueError, match="stage"):
        CallbackLogic(mon, stage="test")
    with pytest.raises(ValueError, match="every_n_steps"):
        CallbackLogic(mon, every_n_steps=0)
    with pytest.raises(TypeError, match="BoundMonitor"):
        CallbackLogic("monitor")


# --------------------------------------------------------------------------
# a real (tiny) Lightning run
# --------------------------------------------------------------------------

@pytest.mark.slow
def test_lightning_trainer_logs_report(tmp_path):
    torch = pytest.importorskip("torch")
    pl = pytest.importorskip("lightning.pytorch")
    from couponbound.training.lightning import BoundMonitorCallback

    C, d, n = 4, 8, 16
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(C, d, generator=gen)
    y_all = torch.arange(64) % C
    x_all = centers[y_all] + 0.5 * torch.randn(64, d, generator=gen)
    data = torch.utils.data.TensorDataset(x_all, y_all)

    class Model(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.enc = torch.nn.Linear(d, d)

        def _views(self, batch):
            x, y = batch
            z0 = self.enc(x + 0.1 * torch.randn_like(x))
            z1 = self.enc(x + 0.1 * torch.randn_like(x))
            return z0, z1, y

        def training_step(self, batch, batch_idx):
            z0, z1, y = self._views(batch)
            logits = torch.nn.functional.normalize(z0) @ torch.nn.functional.normalize(z1).T
            loss = torch.nn.functional.cross_entropy(logits / 0.5, torch.arange(len(y)))
            return {"loss": loss, "anchor": z0, "positive": z1, "labels": y}

        def validation_step(self, batch, batch_idx):
            z0, z1, y = self._views(batch)
            seen.append((z0.detach().double().numpy(), z1.detach().double().numpy(), y.numpy()))
            return {"anchor": z0, "positive": z1, "labels": y}

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    seen = []  # the validation batches' embeddings, for an independent check
    mu = refmon.shrink(0.5 * centers.numpy())
    refits = []

    def refit(trainer, module):
        with torch.no_grad():
            z = torch.nn.functional.normalize(module.enc(x_all))
        refits.append(z)
        return [(z, y_all)]

    train_cb = BoundMonitorCallback(BoundMonitor(C, 0.5, class_means=mu), every_n_steps=3,
                                    prefix="train_bound/", refit_class_means=refit)
    val_cb = BoundMonitorCallback(BoundMonitor(C, 0.5, class_means=mu), stage="validation",
                                  prefix="val_bound/", log_keys=None)
    assert isinstance(train_cb, pl.Callback)
    trainer = pl.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[train_cb, val_cb],
                         default_root_dir=tmp_path, num_sanity_val_steps=0)
    loader = torch.utils.data.DataLoader(data, batch_size=n)
    trainer.fit(Model(), loader, loader)
    metrics = trainer.callback_metrics
    assert train_cb.monitor.n_batches == 4 and val_cb.monitor.n_batches == 4
    assert float(metrics["val_bound/n_anchors"]) == 64.0
    assert float(metrics["val_bound/K"]) == n - 1
    assert "train_bound/ns21_bound" in metrics
    assert train_cb.last_report is not None and val_cb.last_report is not None
    assert float(metrics["val_bound/contrastive"]) == pytest.approx(
        val_cb.last_report.contrastive, rel=1e-6)
    # the last train log: the window closed at the epoch's end (batch 4; batches 1-3 at step 3)
    assert float(metrics["train_bound/n_batches"]) == 1.0
    assert float(metrics["val_bound/n_batches"]) == 4.0
    assert len(refits) == 1 and train_cb.monitor.window_batches == 0
    np.testing.assert_allclose(train_cb.monitor.class_means,
                               [refits[0][y_all == c].mean(0).numpy() for c in range(C)],
                               rtol=1e-5, atol=1e-6)
    # the logged InfoNCE loss against the definition of math-losses on the embeddings the steps returned
    assert len(seen) == 4
    losses = []
    for z0, z1, _ in seen:
        u0 = z0 / np.linalg.norm(z0, axis=1, keepdims=True)
        u1 = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
        logits = u0 @ u1.T / 0.5
        m = logits.max(axis=1)
        losses += list(m + np.log(np.exp(logits - m[:, None]).sum(axis=1)) - np.diag(logits))
    assert float(metrics["val_bound/contrastive"]) == pytest.approx(np.mean(losses), rel=1e-5)


def test_adapters_work_without_importing_torch():
    code = textwrap.dedent("""
        import sys
        from types import SimpleNamespace
        import numpy as np
        from couponbound.training.monitor import BoundMonitor
        from couponbound.training.distributed import all_reduce_sum, is_distributed
        from couponbound.training.lightning import CallbackLogic
        assert not is_distributed()
        assert all_reduce_sum(np.array([1.0])).tolist() == [1.0]
        logged = {}
        module = SimpleNamespace(log_dict=lambda m, **kw: logged.update(m))
        cb = CallbackLogic(BoundMonitor(2, 0.5), every_n_steps=1)
        out = {"contrastive": 1.0, "sup": 1.0, "d": 0.0, "labels": [0, 1], "in_batch": True}
        cb.on_train_batch_end(SimpleNamespace(), module, out, None, 0)
        assert logged["bound/n_batches"] == 1.0
        # the batch's distinct classes and false negatives are logged (issue 18)
        assert logged["bound/classes"] == 2.0 and logged["bound/false_negative"] == 0.0
        bad = [m for m in ("torch", "lightning", "pytorch_lightning") if m in sys.modules]
        sys.exit(f"imported {bad}" if bad else 0)
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
