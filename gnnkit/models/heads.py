"""Readouts and prediction heads: graph pooling that keeps one row per graph
(empty graphs included) and the small MLPs that map embeddings to logits."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import (
    global_add_pool,
    global_max_pool,
    global_mean_pool,
)

POOLINGS = {
    "mean": global_mean_pool,
    "sum": global_add_pool,
    "add": global_add_pool,
    "max": global_max_pool,
}


def check_pooling(pooling: str) -> str:
    """Return ``pooling`` if it names a known readout, else raise.

    Raises:
        ValueError: for an unknown pooling name.
    """
    if pooling not in POOLINGS:
        raise ValueError(
            f"pooling must be one of {sorted(POOLINGS)} (got {pooling!r})."
        )
    return pooling


def pool(
    x: Tensor,
    batch: Tensor | None,
    pooling: str = "mean",
    num_graphs: int | None = None,
) -> Tensor:
    """Pool node embeddings into one row per graph.

    A graph with no nodes gets a row of zeros, wherever it sits in the
    batch, because the number of rows is fixed by ``num_graphs`` rather
    than inferred from the largest index in ``batch`` (PyG issue #2895).

    Args:
        x (Tensor): node embeddings ``[num_nodes, F]``.
        batch (Tensor, optional): graph index of each node; ``None`` means
            all nodes form one graph.
        pooling (str): ``"mean"``, ``"sum"`` or ``"max"``.
            (default: ``"mean"``)
        num_graphs (int, optional): number of graphs in the batch
            (default: ``batch.max() + 1``, or 1 without ``batch``).

    Returns:
        Tensor: ``[num_graphs, F]``.
    """
    if batch is None:
        batch = x.new_zeros(x.size(0), dtype=torch.long)
        num_graphs = 1 if num_graphs is None else num_graphs
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if batch.numel() else 1
    return POOLINGS[check_pooling(pooling)](x, batch, size=num_graphs)


class GraphHead(nn.Module):
    """Two-layer MLP from pooled graph embeddings to logits.

    Args:
        in_channels (int): width of the pooled embedding.
        hidden_channels (int): width of the hidden layer.
        out_channels (int): number of classes (or regression targets).
        dropout (float): dropout before the last layer. (default: ``0.5``)
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.lin1 = nn.Linear(in_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, out_channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: Tensor) -> Tensor:
        """Map ``[num_graphs, in_channels]`` to ``[num_graphs, C]``."""
        h = self.lin1(h).relu()
        return self.lin2(self.dropout(h))


class NodeHead(nn.Module):
    """Dropout then a linear layer from node embeddings to logits.

    Args:
        in_channels (int): width of the node embedding.
        out_channels (int): number of classes (or regression targets).
        dropout (float): dropout before the layer. (default: ``0.5``)
    """

    def __init__(
        self, in_channels: int, out_channels: int, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.lin = nn.Linear(in_channels, out_channels)

    def forward(self, h: Tensor) -> Tensor:
        """Map ``[num_nodes, in_channels]`` to ``[num_nodes, C]``."""
        return self.lin(self.dropout(h))
