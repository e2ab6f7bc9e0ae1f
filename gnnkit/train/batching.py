"""Graph mini-batches by tensor indexing instead of re-collating ``Data``.

:class:`PackedGraphs` concatenates a list of graphs once; any subset in any
order is then gathered into a :class:`GraphBatch` equal to what PyG's
``Batch.from_data_list`` builds, at a fraction of the cost. Each batch also
carries its edges as a :class:`~gnnkit.models.adjacency.SparseAdjacency`,
gathered from per-graph CSR pieces sorted once.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from gnnkit.errors import DataError
from gnnkit.models.adjacency import SparseAdjacency


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
        adjacency (SparseAdjacency, optional): the same edges as sparse
            matrices, for models with ``uses_adjacency``.
    """

    __slots__ = ("x", "edge_index", "batch", "y", "num_graphs", "ptr",
                 "edge_attr", "edge_weight", "adjacency")

    def __init__(self, x, edge_index, batch, y, num_graphs, ptr,
                 edge_attr=None, edge_weight=None, adjacency=None) -> None:
        self.x, self.edge_index, self.batch, self.y = x, edge_index, batch, y
        self.num_graphs, self.ptr = num_graphs, ptr
        self.edge_attr, self.edge_weight = edge_attr, edge_weight
        self.adjacency = adjacency

    def __repr__(self) -> str:
        return (f"GraphBatch(num_graphs={self.num_graphs}, "
                f"num_nodes={self.x.size(0)}, "
                f"num_edges={self.edge_index.size(1)})")


class PackedGraphs:
    """Graphs concatenated once, from which any subset in any order is
    gathered into a :class:`GraphBatch` by tensor indexing.

    Edge indices are kept local to each graph and shifted by the new node
    offsets when a batch is drawn, which gives exactly what PyG's
    ``Batch.from_data_list`` builds for the same graph order. Each graph's
    edges are also sorted once by target and by source: since a batch keeps
    every graph's nodes together, these pieces join into the CSR form of the
    batch's adjacency matrix and of its transpose.

    Args:
        graphs (list[Data]): graphs with ``x`` and ``y``.
        where (str): name used in error messages. (default: ``"graphs"``)
        targets (bool): require and pack ``y``. (default: ``True``)

    Raises:
        DataError: for an empty list, a graph without ``x``, ``edge_index``
            or ``y``, edge indices outside a graph's nodes, or graphs whose
            feature widths or edge fields disagree.
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
        _check_edge_ids(self, where)
        (self.sources, self.targets, self.in_degree,
         self.out_degree) = _sorted_edges(self)
        self.edge_attr = _cat_optional(graphs, "edge_attr")
        self.edge_weight = _cat_optional(graphs, "edge_weight")
        self.y = _graph_targets(graphs) if targets else None

    def select(self, order: Tensor) -> GraphBatch:
        """The graphs ``order`` (in that order) as one batch."""
        return self._gather(order, max(1, order.numel())).take(0)

    def batches(self, order: Tensor, batch_size: int) -> list[GraphBatch]:
        """Consecutive batches of ``batch_size`` graphs along ``order``.

        All graphs are gathered once in ``order``, with indices counted
        from the start of their batch; each batch is then a slice.
        """
        whole = self._gather(order, batch_size)
        return [whole.take(start)
                for start in range(0, order.numel(), batch_size)]

    def chunks(self, batch_size: int) -> list[GraphBatch]:
        """All graphs in input order, in batches of ``batch_size``."""
        return self.batches(torch.arange(self.num_graphs), batch_size)

    def _gather(self, order: Tensor, batch_size: int) -> "_Gathered":
        counts, edge_counts = self.num_nodes[order], self.num_edges[order]
        node_idx = _ranges(self.node_ptr[order], counts)
        edge_idx = _ranges(self.edge_ptr[order], edge_counts)
        ptr = _cumsum0(counts)
        position = torch.arange(order.numel())
        first = position - position % batch_size  # first graph of its batch
        shift = (ptr[:-1] - ptr[first]).repeat_interleave(edge_counts)
        return _Gathered(
            batch_size=batch_size,
            x=self.x[node_idx],
            edge_index=self.edge_index[:, edge_idx] + shift,
            batch=(position - first).repeat_interleave(counts),
            y=None if self.y is None else self.y[order],
            ptr=ptr, edge_ptr=_cumsum0(edge_counts),
            edge_attr=_take(self.edge_attr, edge_idx),
            edge_weight=_take(self.edge_weight, edge_idx),
            sources=self.sources[edge_idx] + shift,
            targets=self.targets[edge_idx] + shift,
            in_ptr=_cumsum0(self.in_degree[node_idx]),
            out_ptr=_cumsum0(self.out_degree[node_idx]),
        )


class _Gathered:
    """Graphs gathered in batch order, node ids counted from the first node
    of their batch, before the cut into batches."""

    def __init__(self, **fields: Tensor | int | None) -> None:
        self.__dict__.update(fields)
        self.node_offsets = self.ptr.tolist()
        self.edge_offsets = self.edge_ptr.tolist()

    def take(self, start: int) -> GraphBatch:
        """The batch that starts at graph ``start``."""
        end = min(start + self.batch_size, len(self.node_offsets) - 1)
        a, b = self.node_offsets[start], self.node_offsets[end]
        ea, eb = self.edge_offsets[start], self.edge_offsets[end]
        adjacency = SparseAdjacency(
            self.in_ptr[a:b + 1] - ea, self.sources[ea:eb],
            self.out_ptr[a:b + 1] - ea, self.targets[ea:eb],
            self.x.dtype if self.x.is_floating_point() else torch.float32)
        return GraphBatch(
            self.x[a:b], self.edge_index[:, ea:eb].contiguous(),
            self.batch[a:b],
            None if self.y is None else self.y[start:end], end - start,
            self.ptr[start:end + 1] - a,
            _take(self.edge_attr, slice(ea, eb)),
            _take(self.edge_weight, slice(ea, eb)), adjacency,
        )


def _sorted_edges(packed: PackedGraphs) -> tuple[Tensor, ...]:
    """Sources grouped by target and targets grouped by source (local ids,
    each graph's edges staying in its own range), and node degrees."""
    num_nodes = int(packed.node_ptr[-1])
    offset = packed.node_ptr[:-1].repeat_interleave(packed.num_edges)
    src, dst = packed.edge_index + offset  # global ids keep graphs apart
    by_target = torch.argsort(dst * num_nodes + src)
    by_source = torch.argsort(src * num_nodes + dst)
    return (packed.edge_index[0, by_target], packed.edge_index[1, by_source],
            torch.bincount(dst, minlength=num_nodes),
            torch.bincount(src, minlength=num_nodes))


def _check_edge_ids(packed: PackedGraphs, where: str) -> None:
    limit = packed.num_nodes.repeat_interleave(packed.num_edges)
    bad = ((packed.edge_index < 0) | (packed.edge_index >= limit)).any(0)
    if bool(bad.any()):
        edge = int(bad.nonzero()[0])
        i = int((packed.edge_ptr[1:] <= edge).sum())
        raise DataError(
            f"{where}[{i}] has edge indices outside 0.."
            f"{int(packed.num_nodes[i]) - 1}, its node ids.",
            field="edge_index")


def _take(values: Tensor | None, index: Tensor | slice) -> Tensor | None:
    return None if values is None else values[index]


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
        edge_index = getattr(g, "edge_index", None)
        if edge_index is None or edge_index.dim() != 2 \
                or edge_index.size(0) != 2:
            raise DataError(
                f"{where}[{i}] has no edge_index of shape [2, num_edges]; "
                "give a graph without edges an empty [2, 0] tensor.",
                field="edge_index")
        if targets and getattr(g, "y", None) is None:
            raise DataError(f"{where}[{i}] has no target y.", field="y")
    for key in ("edge_attr", "edge_weight"):
        has = [getattr(g, key, None) is not None for g in graphs]
        if any(has) and not all(has):
            raise DataError(
                f"{where}[{has.index(False)}] has no {key} while other "
                f"graphs do; give every graph {key} (shape [0, D] when it "
                "has no edges) or none.", field=key)

