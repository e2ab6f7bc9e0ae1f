"""Averaging several trained models into one predictor: the members
trained per fold by ``cross_validate(repeats=...)``, or different
backbones such as ``cross_validate(model="gin+mlp")``."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from gnnkit.errors import ModelError
from gnnkit.models.backbones import build_model
from gnnkit.models.inputs import edge_inputs
from gnnkit.models.persist import register_kind


class Ensemble(nn.Module):
    """Mean prediction of models that share inputs and outputs.

    For classification the output is the log of the members' mean class
    probabilities, so ``out.softmax(-1)`` gives those mean probabilities
    and ``out.argmax(-1)`` the ensemble's vote. For regression it is the
    members' mean output. Each member gets the edge inputs it uses:
    ``edge_attr`` only if built with ``edge_dim``, ``edge_weight`` only if
    it supports edge weights, ``adjacency`` only if it ``uses_adjacency``,
    so a GINE and an MLP can sit side by side.

    Args:
        models (sequence of nn.Module): trained members; the first one's
            ``level`` is the ensemble's.
        task (str): ``"classification"`` or ``"regression"``.
            (default: ``"classification"``)

    Shapes:
        - **input:** whatever the members take.
        - **output:** the members' output shape.

    Raises:
        ModelError: for no members or an unknown task.
    """

    kind = "ensemble"

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
        self.task = task
        self.level = getattr(models[0], "level", "graph")
        dims = [getattr(m, "edge_dim", None) for m in models]
        self.edge_dim = next((d for d in dims if d is not None), None)
        self.supports_edge_weight = any(
            getattr(m, "supports_edge_weight", True) for m in models)
        self.uses_adjacency = any(
            getattr(m, "uses_adjacency", False) for m in models)
        configs = [getattr(m, "config", None) for m in models]
        names = [c.get("name", "?") if isinstance(c, dict) else "?"
                 for c in configs]
        self.config = {"name": "+".join(dict.fromkeys(names)),
                       "task": task, "members": configs}

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        batch: Tensor | None = None,
        edge_attr: Tensor | None = None,
        edge_weight: Tensor | None = None,
        adjacency: Any = None,
        **kwargs: Any,
    ) -> Tensor:
        """Mean of the members' outputs (log mean probabilities for
        classification)."""
        outs = torch.stack([
            member(x, edge_index, batch, **edge_inputs(
                member, edge_attr, edge_weight, adjacency), **kwargs)
            for member in self.members
        ])  # fmt: skip
        if self.task == "regression":
            return outs.mean(0)
        return outs.log_softmax(-1).logsumexp(0) - math.log(len(outs))

    def __repr__(self) -> str:
        counts = Counter(type(m).__name__ for m in self.members)
        inner = " + ".join(f"{n} x {kind}" for kind, n in counts.items())
        return f"Ensemble({inner}, task={self.task!r})"


def build_ensemble(config: dict[str, Any]) -> Ensemble:
    """Rebuild an untrained :class:`Ensemble` of GNN backbones from its
    ``config`` (what :func:`~gnnkit.models.persist.load_model` calls).

    Raises:
        ValueError: if a member has no ``build_model`` config.
    """
    members = []
    for i, member in enumerate(config.get("members") or []):
        if not isinstance(member, dict):
            raise ValueError(f"ensemble member {i} has no model config")
        members.append(build_model(**member))
    if not members:
        raise ValueError("the ensemble config lists no members")
    return Ensemble(members, config.get("task", "classification"))


register_kind(Ensemble.kind, build_ensemble)
