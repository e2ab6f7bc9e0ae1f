"""Graph mini-batches by tensor indexing instead of re-collating ``Data``.

:class:`PackedGraphs` concatenates a list of graphs once; any subset in any
order is then gathered into a :class:`GraphBatch` equal to what PyG's
``Batch.from_data_list`` builds, at a fraction of the cost.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from gnnkit.errors import DataError


class GraphBatch:
    """A mini-batch of graphs with the fields of a PyG ``Batch``.

    Attributes:
        x (Tensor): node features ``[num_nodes, F]``.
        edge_index (Tensor): edge indices into the batch ``[2, num_edges]``.
        batch (Tensor): graph index of each node ``[num_nodes]``.
        y (Tensor): targets, one per graph (``[num_graphs]``) or one row
            per graph (``[num_graphs, T]``).
        num_graphs (int): graphs in the batch, empty ones included.
        ptr (Tensor): node offsets of the graphs ``[num_graphs + 1]``.
        edge_attr (Tensor, optional): ``[num_edges, D]``.
        edge_weight (Tensor, optional): ``[num_edges]``.
    """

    __slots__ = ("x", "edge_index", "batch", "y", "num_graphs", "ptr",
                 "edge_attr", "edge_weight")

    def __init__(self, x, edge_index, batch, y, num_graphs, ptr,
                 edge_attr=None, edge_weight=None) -> None:
        self.x, self.edge_index, self.batch, self.y = x, edge_index, batch, y
        self.num_graphs, self.ptr = num_graphs, ptr
        self.edge_attr, self.edge_weight = edge_attr, edge_weight

    def __repr__(self) -> str:
        return (f"GraphBatch(num_graphs={self.num_graphs}, "
                f"num_nodes={self.x.size(0)}, "
                f"num_edges={self.edge_index.size(1)})")


class PackedGraphs:
    """Graphs concatenated once, from which any subset in any order is
    gathered into a :class:`GraphBatch` by tensor indexing.

    Edge indices are kept local to each graph and shifted by the new node
    offsets when a batch is drawn, which gives exactly what PyG's
    ``Batch.from_data_list`` builds for the same graph order.

    Args:
        graphs (list[Data]): graphs with ``x`` and ``y``.
        where (str): name used in error messages. (default: ``"graphs"``)
        targets (bool): require and pack ``y``. (default: ``True``)

    Raises:
        DataError: for an empty list, a graph without ``x`` or ``y``, or
            graphs whose feature widths or edge fields disagree.
    """

    def __init__(
        self,
        graphs: Sequence[Data],
        where: str = "graphs",
        targets: bool = True,
    ) -> None:
        if len(graphs) == 0:
            raise DataError(f"{where} is empty; give at least one graph.")
        _check_graphs(graphs, where, targets)
        self.num_graphs = len(graphs)
        self.num_nodes = torch.tensor([g.x.size(0) for g in graphs])
        self.num_edges = torch.tensor([g.edge_index.size(1) for g in graphs])
        self.node_ptr = _cumsum0(self.num_nodes)
        self.edge_ptr = _cumsum0(self.num_edges)
        self.x = torch.cat([g.x for g in graphs])
        self.edge_index = torch.cat([g.edge_index for g in graphs], 1).long()
        self.edge_attr = _cat_optional(graphs, "edge_attr")
        self.edge_weight = _cat_optional(graphs, "edge_weight")
        self.y = _graph_targets(graphs) if targets else None

    def select(self, order: Tensor) -> GraphBatch:
        """The graphs ``order`` (in that order) as one batch."""
        counts, edge_counts = self.num_nodes[order], self.num_edges[order]
        node_idx = _ranges(self.node_ptr[order], counts)
        edge_idx = _ranges(self.edge_ptr[order], edge_counts)
        ptr = _cumsum0(counts)
        shift = ptr[:-1].repeat_interleave(edge_counts)
        edge_index = self.edge_index[:, edge_idx] + shift  # [2, num_edges]
        batch = torch.arange(order.numel()).repeat_interleave(counts)
        return GraphBatch(
            self.x[node_idx], edge_index, batch,
            None if self.y is None else self.y[order],
            int(order.numel()), ptr,
            None if self.edge_attr is None else self.edge_attr[edge_idx],
            None if self.edge_weight is None else self.edge_weight[edge_idx],
        )

    def batches(self, order: Tensor, batch_size: int) -> list[GraphBatch]:
        """Consecutive batches of ``batch_size`` graphs along ``order``.

        All graphs are gathered once in ``order``; each batch is then a
        contiguous slice with its indices shifted back to start at 0.
        """
        whole = self.select(order)
        edge_ptr = _cumsum0(self.num_edges[order])
        return [_slice(whole, edge_ptr, start, start + batch_size)
                for start in range(0, whole.num_graphs, batch_size)]

    def chunks(self, batch_size: int) -> list[GraphBatch]:
        """All graphs in input order, in batches of ``batch_size``."""
        return self.batches(torch.arange(self.num_graphs), batch_size)


def _slice(
    whole: GraphBatch, edge_ptr: Tensor, start: int, end: int
) -> GraphBatch:
    """Graphs ``start:end`` of a batch, re-indexed from 0."""
    end = min(end, whole.num_graphs)
    a, b = int(whole.ptr[start]), int(whole.ptr[end])
    ea, eb = int(edge_ptr[start]), int(edge_ptr[end])
    return GraphBatch(
        whole.x[a:b], whole.edge_index[:, ea:eb] - a,
        whole.batch[a:b] - start,
        None if whole.y is None else whole.y[start:end], end - start,
        whole.ptr[start:end + 1] - a,
        None if whole.edge_attr is None else whole.edge_attr[ea:eb],
        None if whole.edge_weight is None else whole.edge_weight[ea:eb],
    )


def _cumsum0(counts: Tensor) -> Tensor:
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


def _ranges(starts: Tensor, counts: Tensor) -> Tensor:
    """Concatenate ``arange(s, s + c)`` for each start ``s``, count ``c``."""
    offsets = (starts - _cumsum0(counts)[:-1]).repeat_interleave(counts)
    return torch.arange(offsets.numel()) + offsets


def _cat_optional(graphs: Sequence[Data], key: str) -> Tensor | None:
    values = [getattr(g, key, None) for g in graphs]
    if all(v is None for v in values):
        return None
    return torch.cat(values)


def _graph_targets(graphs: Sequence[Data]) -> Tensor:
    y = torch.cat([g.y.reshape(1, -1) for g in graphs])  # [num_graphs, T]
    return y.view(-1) if y.size(1) == 1 else y


def _check_graphs(
    graphs: Sequence[Data], where: str, targets: bool = True
) -> None:
    width = None
    for i, g in enumerate(graphs):
        x = getattr(g, "x", None)
        if x is None or x.dim() != 2:
            raise DataError(
                f"{where}[{i}] has no node feature matrix x; give every "
                "graph features (e.g. one-hot degree for unlabelled "
                "graphs).", field="x")
        if width is None:
            width = x.size(1)
        if x.size(1) != width:
            raise DataError(
                f"{where}[{i}] has {x.size(1)} node features but "
                f"{where}[0] has {width}; all graphs need the same width.",
                field="x")
        if targets and getattr(g, "y", None) is None:
            raise DataError(f"{where}[{i}] has no target y.", field="y")
    for key in ("edge_attr", "edge_weight"):
        has = [getattr(g, key, None) is not None for g in graphs]
        if any(has) and not all(has):
            raise DataError(
                f"{where}[{has.index(False)}] has no {key} while other "
                f"graphs do; give every graph {key} (shape [0, D] when it "
                "has no edges) or none.", field=key)

