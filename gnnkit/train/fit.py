"""The one training loop of gnnkit: optimizer, warm-up and decay, gradient
clipping, early stopping that restores the best weights, and callbacks."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from gnnkit.errors import ModelError
from gnnkit.train.config import TrainConfig
from gnnkit.train.schedule import build_scheduler
from gnnkit.train.tasks import Task

logger = logging.getLogger(__name__)

Callback = Callable[[int, dict], Any]
MIN_WORDS = ("loss", "rmse", "mae", "error")


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        history (list[dict]): one record per epoch: ``epoch`` (1-based),
            ``loss`` (mean training loss), ``lr`` and ``val_*`` metrics.
        best_epoch (int): epoch whose weights the model now holds.
        best_score (float): the monitored metric at ``best_epoch``.
        stopped_early (bool): patience ran out before the last epoch.
        stopped_by_callback (bool): a callback asked to stop.
        train_seconds (float): wall time of the loop.
        monitor (str): the monitored history key.
    """

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float | None = None
    stopped_early: bool = False
    stopped_by_callback: bool = False
    train_seconds: float = 0.0
    monitor: str = "val_loss"


def fit(
    model: nn.Module,
    task: Task,
    config: TrainConfig | None = None,
    *,
    callbacks: Sequence[Callback] = (),
) -> FitResult:
    """Train ``model`` on ``task`` and leave it holding its best weights.

    Each epoch runs the task's shuffled batches (AdamW or SGD, learning
    rate warm-up and decay stepped per batch, optional gradient clipping),
    then validates in eval mode. The epoch with the best ``monitor`` value
    is kept; with ``patience`` training stops once that many epochs pass
    without improvement. The same ``seed`` gives the same history on CPU.

    Args:
        model (nn.Module): the model, e.g. from
            :func:`~gnnkit.models.backbones.build_model`.
        task (Task): batches, loss and validation, e.g.
            :class:`~gnnkit.train.tasks.GraphTask`.
        config (TrainConfig, optional): settings (default:
            ``TrainConfig()``).
        callbacks (sequence of callables): each is called as
            ``callback(epoch, record)`` after every epoch; returning
            ``True`` stops training cleanly (best weights still restored).

    Returns:
        FitResult: history and the best epoch.

    Raises:
        ValueError: if a ``freeze`` prefix or parameter group matches no
            parameter, or nothing is left to train.
        ModelError: if the training loss becomes NaN or infinite.

    Example:
        >>> task = GraphTask(train_graphs, val_graphs)
        >>> result = fit(model, task, TrainConfig(epochs=50, patience=10))
        >>> result.best_epoch, result.best_score
    """
    config = config or TrainConfig()
    monitor = config.monitor or task.monitor
    mode = task.mode if monitor == task.monitor else _guess_mode(monitor)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return _Loop(model, task, config, monitor, mode, callbacks).run()


class _Loop:
    """State of one :func:`fit` call, split into short steps."""

    def __init__(self, model, task, config, monitor, mode, callbacks):
        self.model, self.task, self.config = model, task, config
        self.callbacks = list(callbacks)
        self.result = FitResult(monitor=monitor)
        self.mode = mode
        self.generator = torch.Generator().manual_seed(config.seed)
        _freeze(model, config.freeze)
        self.optimizer, self.warmups = build_optimizer(model, config)
        self.scheduler = None
        self.last_lr = config.lr
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_loss: float | None = None

    def run(self) -> FitResult:
        start = time.perf_counter()
        bar = tqdm(range(1, self.config.epochs + 1), desc="fit",
                   disable=not self.config.progress_bar, leave=False)
        for epoch in bar:
            record = self.epoch(epoch)
            monitor = self.result.monitor
            bar.set_postfix(loss=f"{record['loss']:.4f}",
                            **{monitor: _fmt(record, monitor)})
            if self.after_epoch(epoch, record):
                break
        bar.close()
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.result.train_seconds = time.perf_counter() - start
        return self.result

    def epoch(self, epoch: int) -> dict[str, Any]:
        batches = _as_list(self.task.train_batches(self.generator))
        if self.scheduler is None:
            self.scheduler = build_scheduler(
                self.optimizer, steps_per_epoch=max(1, len(batches)),
                epochs=self.config.epochs, warmup_epochs=self.warmups,
                schedule=self.config.schedule)
        loss = self.train_steps(batches)
        if not math.isfinite(loss):
            raise ModelError(
                f"Training loss became {loss} at epoch {epoch}; lower "
                f"TrainConfig.lr (now {self.config.lr}) or set grad_clip."
            )
        self.model.eval()
        with torch.inference_mode():
            metrics = self.task.validate(self.model)
        record = {"epoch": epoch, "loss": loss, "lr": self.last_lr}
        record.update({f"val_{k}": v for k, v in metrics.items()})
        return record

    def train_steps(self, batches: list[Any]) -> float:
        self.model.train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        total = 0.0
        for batch in batches:
            self.last_lr = self.optimizer.param_groups[0]["lr"]
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.task.loss(self.model, batch)
            loss.backward()
            if self.config.grad_clip is not None:
                nn.utils.clip_grad_norm_(params, self.config.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            total = total + loss.detach()  # summed on device: no sync
        return float(total) / max(1, len(batches))

    def after_epoch(self, epoch: int, record: dict[str, Any]) -> bool:
        self.result.history.append(record)
        self.track_best(epoch, record)
        logger.info("Epoch: %03d, Loss: %.4f, Val: %s", epoch,
                    record["loss"], _fmt(record, self.result.monitor))
        stop = False
        for callback in self.callbacks:
            stop = bool(callback(epoch, record)) or stop
        if stop:
            self.result.stopped_by_callback = True
            return True
        waited = epoch - self.result.best_epoch
        patience = self.config.patience
        if patience is not None and waited >= patience \
                and epoch < self.config.epochs:
            self.result.stopped_early = True
            return True
        return False

    def track_best(self, epoch: int, record: dict[str, Any]) -> None:
        monitor = self.result.monitor
        if monitor not in record:
            raise ModelError(
                f"monitor {monitor!r} is not in the epoch record (keys: "
                f"{sorted(record)}); set TrainConfig.monitor to one of them."
            )
        score = record[monitor]
        if score is None or not math.isfinite(score):
            return
        if self.improves(score, record):
            self.result.best_score, self.result.best_epoch = score, epoch
            self.best_state = {k: v.detach().clone() for k, v in
                               self.model.state_dict().items()}
            self.best_loss = record.get("val_loss")

    def improves(self, score: float, record: dict[str, Any]) -> bool:
        """Better score, or an equal score with a lower ``val_loss``."""
        best = self.result.best_score
        if best is None:
            return True
        if score == best:
            loss, best_loss = record.get("val_loss"), self.best_loss
            return None not in (loss, best_loss) and loss < best_loss
        return score > best if self.mode == "max" else score < best


def _freeze(model: nn.Module, prefixes: Iterable[str]) -> None:
    names = [name for name, _ in model.named_parameters()]
    for prefix in prefixes:
        hits = [n for n in names if n.startswith(prefix)]
        if not hits:
            raise ValueError(
                f"TrainConfig.freeze prefix {prefix!r} matches no parameter "
                f"of {type(model).__name__} (names start with e.g. "
                f"{sorted({n.split('.')[0] for n in names})})."
            )
        for name, param in model.named_parameters():
            if name.startswith(prefix):
                param.requires_grad_(False)


def build_optimizer(
    model: nn.Module, config: TrainConfig
) -> tuple[torch.optim.Optimizer, list[float]]:
    """The optimizer :func:`fit` uses, with one group per
    ``config.param_groups`` entry (first: the remaining parameters).

    Returns:
        tuple: the optimizer and each group's warm-up length in epochs.
    """
    groups = _param_groups(model, config)
    warmups = [g.pop("warmup_epochs", config.warmup_epochs) for g in groups]
    # fused kernels: one update for all parameters instead of one per
    # tensor (several times faster for small GNNs on CPU)
    fused = _fusable(groups)
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=config.lr, momentum=0.9,
                              weight_decay=config.weight_decay, fused=fused)
    else:
        opt = torch.optim.AdamW(groups, lr=config.lr, fused=fused,
                                weight_decay=config.weight_decay)
    return opt, warmups


def _fusable(groups: list[dict]) -> bool | None:
    params = [p for g in groups for p in g["params"]]
    ok = all(p.is_floating_point() and p.device.type in ("cpu", "cuda")
             for p in params)
    return True if ok else None


def _param_groups(model: nn.Module, config: TrainConfig) -> list[dict]:
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    taken: set[int] = set()
    groups = []
    for spec in config.param_groups or []:
        params = _select(named, spec, taken)
        group = {k: v for k, v in spec.items()
                 if k in ("lr", "weight_decay", "warmup_epochs")}
        groups.append({"params": params, **group})
    rest = [p for _, p in named if id(p) not in taken]
    if rest:
        groups.insert(0, {"params": rest})
    if not groups:
        raise ValueError(
            f"{type(model).__name__} has no trainable parameters; check "
            "TrainConfig.freeze."
        )
    return groups


def _select(named: list, spec: dict, taken: set[int]) -> list:
    if "params" in spec:
        wanted = {id(p) for p in spec["params"]}
        params = [p for _, p in named if id(p) in wanted]
    else:
        prefixes = spec["prefix"]
        prefixes = [prefixes] if isinstance(prefixes, str) else prefixes
        params = [p for n, p in named
                  if any(n.startswith(pre) for pre in prefixes)]
    params = [p for p in params if id(p) not in taken]
    if not params:
        raise ValueError(
            "TrainConfig.param_groups: the group "
            f"{ {k: v for k, v in spec.items() if k != 'params'} } selects "
            "no trainable parameter that another group has not taken."
        )
    taken.update(id(p) for p in params)
    return params


def _as_list(batches: Iterable[Any]) -> list[Any]:
    return batches if isinstance(batches, list) else list(batches)


def _guess_mode(monitor: str) -> str:
    return "min" if any(w in monitor for w in MIN_WORDS) else "max"


def _fmt(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return "n/a" if value is None else f"{value:.4f}"
