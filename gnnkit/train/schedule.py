"""Learning-rate schedules: linear warm-up then cosine, linear or constant
decay, stepped once per optimizer step through PyTorch's ``LambdaLR``."""

from __future__ import annotations

import math
from functools import partial

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def lr_factor(
    step: int,
    *,
    warmup_steps: int,
    total_steps: int,
    schedule: str = "cosine",
) -> float:
    """Multiplier of the peak learning rate at optimizer step ``step``.

    Step ``s`` (0-based) of a warm-up of ``W`` steps uses ``(s + 1) / W``,
    so the first step already learns and step ``W - 1`` reaches the peak.
    After warm-up, with progress ``p = (s - W) / (T - W)``, the factor is
    ``(1 + cos(pi p)) / 2`` (cosine), ``1 - p`` (linear) or ``1``
    (constant).

    Args:
        step (int): optimizer step about to be taken.
        warmup_steps (int): length of the warm-up ``W``.
        total_steps (int): planned number of steps ``T``.
        schedule (str): ``"cosine"``, ``"linear"`` or ``"constant"``.

    Returns:
        float: the factor in ``(0, 1]`` (``0`` only past ``total_steps``
        for the decaying schedules).
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(progress, 1.0)
    if schedule == "linear":
        return 1.0 - progress
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(
        "schedule must be 'cosine', 'linear' or 'constant' "
        f"(got {schedule!r})."
    )


def build_scheduler(
    optimizer: Optimizer,
    *,
    steps_per_epoch: int,
    epochs: int,
    warmup_epochs: list[float] | float = 0,
    schedule: str = "cosine",
) -> LambdaLR:
    """A ``LambdaLR`` giving each parameter group its own warm-up.

    Args:
        optimizer (Optimizer): the optimizer whose groups are scheduled.
        steps_per_epoch (int): optimizer steps in one epoch.
        epochs (int): planned number of epochs.
        warmup_epochs (float or list[float]): warm-up length in epochs,
            one value for all groups or one per group.
        schedule (str): ``"cosine"``, ``"linear"`` or ``"constant"``.

    Returns:
        LambdaLR: call ``step()`` after every ``optimizer.step()``.
    """
    groups = len(optimizer.param_groups)
    if not isinstance(warmup_epochs, (list, tuple)):
        warmup_epochs = [warmup_epochs] * groups
    total = steps_per_epoch * epochs
    lambdas = [
        partial(lr_factor, warmup_steps=round(w * steps_per_epoch),
                total_steps=total, schedule=schedule)
        for w in warmup_epochs
    ]
    return LambdaLR(optimizer, lambdas)
