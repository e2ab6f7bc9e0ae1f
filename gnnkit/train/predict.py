"""Inference: logits for a list of graphs (in input order) or for the nodes
of one graph, in eval mode and without autograd."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.train.batching import PackedGraphs
from gnnkit.train.tasks import forward_batch


def predict(
    model: nn.Module,
    graphs_or_data: Sequence[Data] | Data | Any,
    *,
    batch_size: int = 256,
) -> Tensor:
    """Logits of ``model`` for graphs or for the nodes of a graph.

    Graphs are batched ``batch_size`` at a time with ``num_graphs`` given
    explicitly, so a graph with no nodes still gets its row, in place.
    The model's train/eval mode is restored afterwards.

    Args:
        model (nn.Module): a graph- or node-level model (its ``level``
            attribute decides; default graph level).
        graphs_or_data (list[Data], GraphDataset or Data): graphs for a
            graph-level model; one graph (or a list) for a node-level one.
        batch_size (int): graphs per forward pass. (default: ``256``)

    Returns:
        Tensor: ``[num_graphs, C]`` at graph level, ``[num_nodes, C]`` at
        node level (nodes of a list of graphs concatenated).

    Example:
        >>> probs = predict(model, dataset.graphs).softmax(-1)
    """
    graphs = getattr(graphs_or_data, "graphs", graphs_or_data)
    if isinstance(graphs, Data):
        graphs = [graphs]
    graphs = list(graphs)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            if getattr(model, "level", "graph") == "node":
                return torch.cat([forward_batch(model, g) for g in graphs])
            packed = PackedGraphs(graphs, "graphs", targets=False)
            return torch.cat([forward_batch(model, b)
                              for b in packed.chunks(batch_size)])
    finally:
        model.train(was_training)
