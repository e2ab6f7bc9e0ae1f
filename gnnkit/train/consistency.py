"""Consistency regularisation: several random views of the graph must
agree on every node, the labelled ones and the rest.

The loss of GRAND (Feng et al., NeurIPS 2020): a stochastic model (e.g.
:class:`~gnnkit.models.grand.GRANDNet`, whose DropNode and dropout draw
a new view each call) runs ``samples`` times; the cross-entropy on the
training nodes is averaged over the views, and each view's class
probabilities are pulled towards their sharpened mean on all nodes.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.train.tasks import NodeTask, forward_batch


class ConsistencyNodeTask(NodeTask):
    """Node classification with a consistency loss over random views.

    Validation is that of :class:`~gnnkit.train.tasks.NodeTask` (one
    deterministic pass in eval mode).

    Args:
        data (Data): the graph; ``y`` holds one class id per node.
        train_index (Tensor): training nodes (indices or a bool mask).
        val_index (Tensor): validation nodes (indices or a bool mask).
        samples (int): random views per step, at least 2.
            (default: ``4``)
        temperature (float): sharpening temperature of the mean
            prediction, in ``(0, 1]``. (default: ``0.5``)
        weight (float): weight of the consistency loss, ``>= 0``.
            (default: ``1.0``)

    Raises:
        ValueError: for a setting out of range.
    """

    def __init__(self, data: Data, train_index: Tensor | Sequence[int],
                 val_index: Tensor | Sequence[int], *, samples: int = 4,
                 temperature: float = 0.5, weight: float = 1.0) -> None:
        super().__init__(data, train_index, val_index)
        if not (isinstance(samples, int) and samples >= 2):
            raise ValueError(f"samples must be an integer >= 2 (got "
                             f"{samples!r}).")
        if not 0.0 < temperature <= 1.0:
            raise ValueError(f"temperature must be in (0, 1] (got "
                             f"{temperature!r}).")
        if not weight >= 0.0:
            raise ValueError(f"weight must be >= 0 (got {weight!r}).")
        self.samples, self.temperature = samples, temperature
        self.weight = weight

    def __repr__(self) -> str:
        return (f"ConsistencyNodeTask(num_nodes={self.data.num_nodes}, "
                f"train_nodes={self.train_index.numel()}, "
                f"val_nodes={self.val_index.numel()}, "
                f"samples={self.samples}, temperature={self.temperature}, "
                f"weight={self.weight})")

    def loss(self, model: nn.Module, batch: Data) -> Tensor:
        """Mean cross-entropy of the views on the training nodes plus
        ``weight`` times their consistency on all nodes."""
        views = [forward_batch(model, batch) for _ in range(self.samples)]
        y = batch.y[self.train_index].view(-1).long()
        supervised = torch.stack(
            [F.cross_entropy(out[self.train_index], y) for out in views]
        ).mean()
        probs = [out.softmax(-1) for out in views]
        return supervised + self.weight * consistency_loss(
            probs, self.temperature)


def consistency_loss(probs: list[Tensor], temperature: float) -> Tensor:
    """Mean squared distance of each view's probabilities to their
    sharpened mean (held fixed), summed over classes, averaged over nodes
    and views.

    Args:
        probs (list of Tensor): class probabilities ``[num_nodes, C]`` of
            each view.
        temperature (float): the mean is raised to ``1 / temperature``
            and renormalised.
    """
    mean = torch.stack(probs).mean(0)
    sharp = mean.pow(1.0 / temperature)
    sharp = (sharp / sharp.sum(-1, keepdim=True)).detach()
    return torch.stack([(p - sharp).pow(2).sum(-1).mean()
                        for p in probs]).mean()
