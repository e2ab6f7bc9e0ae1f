"""Averaging several trained models of one architecture into one predictor
(e.g. the members trained per fold by ``cross_validate(repeats=...)``)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from gnnkit.errors import ModelError


class Ensemble(nn.Module):
    """Mean prediction of models that share inputs and outputs.

    For classification the output is the log of the members' mean class
    probabilities, so ``out.softmax(-1)`` gives those mean probabilities
    and ``out.argmax(-1)`` the ensemble's vote. For regression it is the
    members' mean output.

    Args:
        models (sequence of nn.Module): trained members; the first one's
            ``level``, ``edge_dim``, ``supports_edge_weight`` and
            ``config`` describe the ensemble.
        task (str): ``"classification"`` or ``"regression"``.
            (default: ``"classification"``)

    Shapes:
        - **input:** whatever the members take.
        - **output:** the members' output shape.

    Raises:
        ModelError: for no members or an unknown task.
    """

    def __init__(
        self, models: Sequence[nn.Module], task: str = "classification"
    ) -> None:
        super().__init__()
        if not models:
            raise ModelError("Ensemble needs at least one model.")
        if task not in ("classification", "regression"):
            raise ModelError(
                f"Ensemble task must be 'classification' or 'regression' "
                f"(got {task!r})."
            )
        self.members = nn.ModuleList(models)
        first = models[0]
        self.task = task
        self.level = getattr(first, "level", "graph")
        self.edge_dim = getattr(first, "edge_dim", None)
        self.supports_edge_weight = getattr(first, "supports_edge_weight",
                                            True)
        self.config = dict(getattr(first, "config", {}))

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        """Mean of the members' outputs (log mean probabilities for
        classification)."""
        outs = torch.stack([m(*args, **kwargs) for m in self.members])
        if self.task == "regression":
            return outs.mean(0)
        return outs.log_softmax(-1).logsumexp(0) - math.log(len(outs))

    def __repr__(self) -> str:
        return (f"Ensemble({len(self.members)} x "
                f"{type(self.members[0]).__name__}, task={self.task!r})")
