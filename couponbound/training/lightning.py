"""A Lightning ``Callback`` that feeds a :class:`~couponbound.training.monitor.BoundMonitor`.

The callback takes the per-batch outputs of your ``training_step`` (or
``validation_step``), passes them to the monitor, and logs the monitor's
:class:`~couponbound.training.report.BoundReport` through ``pl_module.log_dict`` every
``every_n_steps`` training batches (by default the report of the batches since
the previous log, :meth:`~couponbound.training.monitor.BoundMonitor.compute_window`,
and only the fields of ``couponbound.training.LOG_KEYS``) and at
the end of each validation epoch.  It can refit the class means at the end of
each training epoch (``refit_class_means=``).
Under data-parallel training the report covers every rank (the monitor is
reduced with ``torch.distributed``; each rank keeps its local state).

By default the step output must be a mapping with either the embeddings::

    return {"loss": loss, "anchor": z0, "positive": z1, "labels": y,
            "mean_features": zbar,          # optional
            "negatives": queue, "negative_labels": queue_labels}  # optional (MoCo)

or the losses the step already computed (see ``BoundMonitor.update_losses``)::

    return {"loss": loss, "contrastive": l_info, "sup": l_sup, "sub": l_sub,
            "d": d, "labels": y,
            "in_batch": True}  # or "negative_labels": queue_labels (MoCo)

Pass ``extract=`` to build those keyword arguments some other way.

Lightning (``lightning``, or the older ``pytorch_lightning``) is imported the
first time ``BoundMonitorCallback`` is looked up, so this module imports
without it; :class:`CallbackLogic` holds the hooks themselves and runs with
any object that has Lightning's hook signatures (handy for tests).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from couponbound.training.monitor import BoundMonitor
from couponbound.training.report import LOG_KEYS, REPORT_FIELDS, BoundReport


def _callback_base() -> Any:
    """Lightning's ``Callback`` class (``lightning`` or the older ``pytorch_lightning``)."""
    for name in ("lightning.pytorch", "pytorch_lightning"):
        try:
            return importlib.import_module(name).Callback
        except ImportError:
            continue
    raise ImportError("couponbound.training.lightning needs Lightning: pip install lightning")


__all__ = ["BoundMonitorCallback", "CallbackLogic", "default_extract"]

_EMBEDDING_KEYS = ("anchor", "positive", "labels", "mean_features", "negatives",
                   "negative_labels", "class_means")
_LOSS_KEYS = ("contrastive", "sup", "sub", "d", "labels", "batch_counts", "negative_labels", "K",
              "in_batch")
_STAGES = ("train", "validation")

Extract = Callable[[Any, Any], "Mapping[str, Any] | None"]
Refit = Callable[[Any, Any], "Iterable[tuple[Any, Any]]"]


def default_extract(outputs: Any, batch: Any) -> Mapping[str, Any]:
    """Keyword arguments for ``update`` / ``update_losses`` from a step's output mapping."""
    if not isinstance(outputs, Mapping):
        raise TypeError(
            "BoundMonitorCallback: the step returned "
            f"{type(outputs).__name__}, not a mapping; return a dict with 'anchor', "
            "'positive', 'labels' (or 'contrastive', 'sup', 'd', 'labels'), or pass extract="
        )
    if "anchor" in outputs:
        return {k: outputs[k] for k in _EMBEDDING_KEYS if k in outputs}
    if "contrastive" in outputs:
        return {k: outputs[k] for k in _LOSS_KEYS if k in outputs}
    raise ValueError(
        "BoundMonitorCallback: the step output has neither 'anchor' (embeddings) nor "
        f"'contrastive' (losses); its keys are {sorted(map(str, outputs))}. "
        "Return them from the step or pass extract="
    )


class CallbackLogic:
    """Feed a :class:`BoundMonitor` from Lightning steps and log its report.

    ``BoundMonitorCallback`` is this class mixed into Lightning's ``Callback``;
    use that one in a ``Trainer``.

    Parameters
    ----------
    monitor : BoundMonitor
        The monitor (with its class means, unless the step passes them).
    stage : {"train", "validation"}
        Which steps feed the monitor.  ``"validation"`` resets it at the start
        of each validation epoch, so each epoch gets its own report.
    every_n_steps : int or None, default 50
        With ``stage="train"``: log every this many training batches (``None``
        for never).
    log_on_validation_epoch_end : bool, default True
        Log the report at the end of each validation epoch (not during the
        sanity check).
    prefix : str, default "bound/"
        Prepended to every logged name.
    extract : callable, optional
        ``extract(outputs, batch)`` returns the keyword arguments of
        ``monitor.update`` (if it has ``"anchor"``) or ``monitor.update_losses``,
        or ``None`` to skip the batch.  Default: :func:`default_extract`.
    log_keys : iterable of str or None, default ``LOG_KEYS``
        The report fields logged (``None``: all of them).  Each logged value
        costs Lightning some bookkeeping; the default set is the terms, the
        bounds, the margin and ``n_batches``.
    window : bool, default True
        With ``stage="train"``: each step log reports the batches since the
        previous log (:meth:`BoundMonitor.compute_window`); ``False`` logs the
        cumulative report since the start.
    step_logging : {"logger", "module"}, default "logger"
        How step logs are written: straight to the trainer's loggers
        (``logger.log_metrics(..., step=trainer.global_step)``: cheap, the
        numbers do not enter ``trainer.callback_metrics``), or through
        ``pl_module.log_dict`` (Lightning's bookkeeping, about a millisecond
        per value).  Without a logger the module is used.  Epoch-end logs
        always go through ``pl_module.log_dict``.
    refit_class_means : callable, optional
        ``refit_class_means(trainer, pl_module)`` returns an iterable of
        ``(mean_features, labels)`` batches (e.g. a pass over the training
        split with the current encoder); called at the end of every training
        epoch, after the current window is logged, to refit the monitor's
        class means (:meth:`BoundMonitor.fit_class_means`, summed over
        data-parallel ranks).  The next window is measured with the new means.

    Attributes
    ----------
    last_report : BoundReport or None
        The report logged most recently.

    Notes
    -----
    ``state_dict`` / ``load_state_dict`` carry the monitor's state, so a
    resumed run continues the same report.  Lightning saves the checkpoint of
    rank 0: after a resume under data parallelism every rank restarts from
    rank 0's local state.

    Examples
    --------
    With stand-ins for the trainer and the module (Lightning passes its own):

    >>> from types import SimpleNamespace
    >>> from couponbound.training.monitor import BoundMonitor
    >>> logged = {}
    >>> module = SimpleNamespace(log_dict=lambda metrics, **kw: logged.update(metrics))
    >>> trainer = SimpleNamespace(sanity_checking=False)
    >>> cb = CallbackLogic(BoundMonitor(2, 0.5), every_n_steps=2)
    >>> for step in range(4):
    ...     out = {"loss": 0.0, "contrastive": 2.0, "sup": 1.0, "d": -0.5, "labels": [0, 1],
    ...            "in_batch": True}
    ...     cb.on_train_batch_end(trainer, module, out, None, step)
    >>> logged["bound/contrastive"], logged["bound/n_batches"]  # the window of steps 3 and 4
    (2.0, 2.0)
    >>> cb.monitor.n_batches, cb.monitor.window_batches
    (4, 0)
    """

    def __init__(self, monitor: BoundMonitor, *, stage: str = "train",
                 every_n_steps: int | None = 50, log_on_validation_epoch_end: bool = True,
                 prefix: str = "bound/", extract: Extract | None = None,
                 log_keys: Iterable[str] | None = LOG_KEYS, window: bool = True,
                 step_logging: str = "logger", refit_class_means: Refit | None = None) -> None:
        super().__init__()
        if not isinstance(monitor, BoundMonitor):
            raise TypeError(f"monitor must be a BoundMonitor, got {type(monitor).__name__}")
        if stage not in _STAGES:
            raise ValueError(f"stage must be one of {_STAGES}, got {stage!r}")
        if every_n_steps is not None and (isinstance(every_n_steps, bool)
                                          or not isinstance(every_n_steps, int)
                                          or every_n_steps < 1):
            raise ValueError(f"every_n_steps must be an integer >= 1 or None, "
                             f"got {every_n_steps!r}")
        self.monitor = monitor
        self.stage = stage
        self.every_n_steps = every_n_steps
        self.log_on_validation_epoch_end = log_on_validation_epoch_end
        self.prefix = prefix
        self.extract: Extract = default_extract if extract is None else extract
        self.log_keys: tuple[str, ...] | None = None if log_keys is None else tuple(log_keys)
        if self.log_keys is not None:
            unknown = [k for k in self.log_keys if k not in REPORT_FIELDS]
            if unknown:
                raise ValueError(f"log_keys has unknown report fields {unknown}")
        self.window = bool(window)
        if step_logging not in ("logger", "module"):
            raise ValueError(f"step_logging must be 'logger' or 'module', got {step_logging!r}")
        self.step_logging = step_logging
        self.refit_class_means = refit_class_means
        self.last_report: BoundReport | None = None
        self._train_batches = 0

    @property
    def state_key(self) -> str:
        """Identifies this callback's entry in a Lightning checkpoint (one per stage and prefix)."""
        return f"BoundMonitorCallback{{'stage': {self.stage!r}, 'prefix': {self.prefix!r}}}"

    # -- feeding --------------------------------------------------------------

    def _feed(self, outputs: Any, batch: Any) -> None:
        kwargs = self.extract(outputs, batch)
        if kwargs is None:
            return
        kwargs = dict(kwargs)
        if "anchor" in kwargs:
            self.monitor.update(**kwargs)
        else:
            self.monitor.update_losses(**kwargs)

    def _report(self, window: bool = False) -> BoundReport | None:
        """The report over all ranks (cumulative, or the window, which then restarts),
        or ``None`` when no rank has a batch in it."""
        from couponbound.training.distributed import is_distributed, make_all_reduce

        all_reduce = make_all_reduce() if is_distributed() else None
        monitor = self.monitor
        if all_reduce is None and (monitor.window_batches if window else monitor.n_batches) == 0:
            return None
        try:  # every rank takes part in the collective
            report = (monitor.compute_window(all_reduce) if window
                      else monitor.compute(all_reduce))
        except ValueError:
            if all_reduce is None:
                raise
            return None  # no rank has a batch
        self.last_report = report
        return report

    def _log(self, pl_module: Any, *, on_step: bool, window: bool = False,
             trainer: Any = None) -> None:
        report = self._report(window)
        if report is None:
            return
        metrics = report.to_dict(self.prefix, keys=self.log_keys)
        loggers = list(getattr(trainer, "loggers", None) or [])
        if on_step and self.step_logging == "logger" and loggers:
            step = int(getattr(trainer, "global_step", self._train_batches))
            for logger in loggers:
                logger.log_metrics(metrics, step=step)
            return
        pl_module.log_dict(metrics, on_step=on_step, on_epoch=not on_step, sync_dist=False,
                           batch_size=1)

    # -- Lightning hooks ------------------------------------------------------

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self.stage != "train":
            return
        self._feed(outputs, batch)
        self._train_batches += 1
        if self.every_n_steps is not None and self._train_batches % self.every_n_steps == 0:
            self._log(pl_module, on_step=True, window=self.window, trainer=trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.stage != "train" or self.refit_class_means is None:
            return
        from couponbound.training.distributed import is_distributed, make_all_reduce

        if self.monitor.window_batches:  # close the window measured with the old means
            self._log(pl_module, on_step=False, window=True)
        batches = self.refit_class_means(trainer, pl_module)
        self.monitor.fit_class_means(batches,
                                     all_reduce=make_all_reduce() if is_distributed() else None)

    def on_validation_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if self.stage == "validation":
            self.monitor.reset()

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any,
                                batch_idx: int, dataloader_idx: int = 0) -> None:
        if self.stage == "validation" and not getattr(trainer, "sanity_checking", False):
            self._feed(outputs, batch)

    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.log_on_validation_epoch_end and not getattr(trainer, "sanity_checking", False):
            self._log(pl_module, on_step=False)

    # -- checkpoints ----------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {"monitor": self.monitor.state_dict(), "train_batches": self._train_batches}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state_dict["monitor"])
        self._train_batches = int(state_dict.get("train_batches", 0))


def _make_callback_class() -> type:
    base = _callback_base()
    return type("BoundMonitorCallback", (CallbackLogic, base),
                {"__module__": __name__, "__doc__": CallbackLogic.__doc__})


if TYPE_CHECKING:
    class BoundMonitorCallback(CallbackLogic):
        """:class:`CallbackLogic` mixed into Lightning's ``Callback``."""
else:
    def __getattr__(name: str) -> Any:
        if name == "BoundMonitorCallback":
            cls = _make_callback_class()
            globals()[name] = cls
            return cls
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
