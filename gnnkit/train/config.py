"""Training settings for :func:`gnnkit.train.fit.fit`, checked when made so
a bad value fails before any training starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "linear", "constant")
GROUP_KEYS = {"params", "prefix", "lr", "weight_decay", "warmup_epochs",
              "name"}


@dataclass
class TrainConfig:
    """How :func:`~gnnkit.train.fit.fit` trains a model.

    Args:
        optimizer (str): ``"adamw"`` or ``"sgd"`` (momentum 0.9).
            (default: ``"adamw"``)
        lr (float): peak learning rate. (default: ``1e-2``)
        weight_decay (float): decoupled (AdamW) or L2 (SGD) weight decay.
            (default: ``5e-4``)
        epochs (int): maximum number of epochs. (default: ``100``)
        batch_size (int): graphs per mini-batch, read by tasks that batch.
            (default: ``32``)
        warmup_epochs (float): linear warm-up length in epochs (may be
            fractional). (default: ``0``)
        schedule (str): decay after warm-up: ``"cosine"``, ``"linear"``
            (to zero at the end) or ``"constant"``. (default: ``"cosine"``)
        grad_clip (float, optional): clip the gradient norm to this value.
        patience (int, optional): stop after this many epochs without
            improvement of the monitored metric.
        monitor (str, optional): history key to select the best epoch on,
            e.g. ``"val_loss"`` (default: the task's own ``monitor``);
            ``"epoch"`` keeps the last epoch. Keys naming a loss or error
            (``loss``, ``rmse``, ``mae``) are minimised, others maximised.
        seed (int): seed for shuffling, dropout and initialisation done
            inside :func:`fit`. (default: ``0``)
        progress_bar (bool): show a tqdm bar over epochs.
            (default: ``True``)
        param_groups (list[dict], optional): separate settings per group
            of parameters. Each dict selects parameters by ``"prefix"``
            (a name prefix or a list of them, e.g. ``"encoder."``) or by
            ``"params"`` (the parameters themselves) and may set ``"lr"``,
            ``"weight_decay"`` and ``"warmup_epochs"``; parameters no
            group selects train with the settings above. Example for a
            joint LM+GNN model:
            ``[{"prefix": "encoder.", "lr": 2e-5, "warmup_epochs": 1}]``.
        freeze (list[str]): parameter-name prefixes to freeze
            (``requires_grad=False``) before training.
    """

    optimizer: str = "adamw"
    lr: float = 1e-2
    weight_decay: float = 5e-4
    epochs: int = 100
    batch_size: int = 32
    warmup_epochs: float = 0
    schedule: str = "cosine"
    grad_clip: float | None = None
    patience: int | None = None
    monitor: str | None = None
    seed: int = 0
    progress_bar: bool = True
    param_groups: list[dict[str, Any]] | None = None
    freeze: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._check_choice("optimizer", OPTIMIZERS)
        self._check_choice("schedule", SCHEDULES)
        self._check("lr", self.lr > 0, "> 0")
        self._check("weight_decay", self.weight_decay >= 0, ">= 0")
        self._check_int("epochs", self.epochs, 1)
        self._check_int("batch_size", self.batch_size, 1)
        self._check("warmup_epochs", self.warmup_epochs >= 0, ">= 0")
        self._check("grad_clip", self.grad_clip is None
                    or self.grad_clip > 0, "None or > 0")
        if self.patience is not None:
            self._check_int("patience", self.patience, 1)
        if isinstance(self.freeze, str):
            self.freeze = [self.freeze]
        self.freeze = list(self.freeze)
        for group in self.param_groups or []:
            _check_group(group)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy (parameter tensors in groups left out)."""
        out = asdict(self)
        if self.param_groups is not None:
            out["param_groups"] = [
                {k: v for k, v in g.items() if k != "params"}
                for g in self.param_groups
            ]
        return out

    def _check(self, name: str, ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(
                f"TrainConfig.{name} must be {what} "
                f"(got {getattr(self, name)!r})."
            )

    def _check_int(self, name: str, value: Any, low: int) -> None:
        ok = isinstance(value, int) and not isinstance(value, bool)
        self._check(name, ok and value >= low, f"an integer >= {low}")

    def _check_choice(self, name: str, choices: tuple[str, ...]) -> None:
        self._check(name, getattr(self, name) in choices,
                    " or ".join(repr(c) for c in choices))


def _check_group(group: dict[str, Any]) -> None:
    if not isinstance(group, dict):
        raise ValueError(
            "TrainConfig.param_groups must be a list of dicts "
            f"(got an item of type {type(group).__name__})."
        )
    unknown = set(group) - GROUP_KEYS
    if unknown:
        raise ValueError(
            f"TrainConfig.param_groups: unknown key(s) {sorted(unknown)}; "
            f"allowed are {sorted(GROUP_KEYS)}."
        )
    if ("params" in group) == ("prefix" in group):
        raise ValueError(
            "TrainConfig.param_groups: each group needs exactly one of "
            f"'prefix' or 'params' (got keys {sorted(group)})."
        )
    for key, low in (("lr", 0.0), ("weight_decay", -1e-12),
                     ("warmup_epochs", -1e-12)):
        if key in group and not group[key] > low:
            raise ValueError(
                f"TrainConfig.param_groups: {key} must be "
                f"{'> 0' if key == 'lr' else '>= 0'} (got {group[key]!r})."
            )
