"""Edges as a pair of sparse matrices, so a layer can sum neighbour features
with one sparse product.

Summing ``x`` over the incoming edges of every node is ``A @ x`` with
``A[i, j]`` the number of edges ``j -> i``; its gradient is ``A^T @ grad``.
PyTorch would build ``A^T`` on every backward pass (which leaves
``torch.sparse.mm`` no faster than PyG's gather-and-scatter on small
batches), so :class:`SparseAdjacency` keeps it beside ``A``, both in CSR
form, built once per batch by :mod:`gnnkit.train.batching`. GIN's own
term ``(1 + eps) * x`` joins the product (``addmm``), which costs less
than the product alone.
"""

from __future__ import annotations

import warnings
from functools import cached_property

import torch
from torch import Tensor


class SparseAdjacency:
    """The edges of a batch as CSR matrices ``A`` and ``A^T``.

    Indices are not checked here (PyTorch's checks cost more than the
    product); :class:`~gnnkit.train.batching.PackedGraphs` checks them.
    The matrices are built on first use, so batches given to models that
    never ask for them cost nothing more.

    Args:
        in_ptr (Tensor): CSR row offsets of ``A`` (rows are target nodes)
            ``[num_nodes + 1]``.
        sources (Tensor): source node of each edge, grouped by target
            ``[num_edges]``.
        out_ptr (Tensor): CSR row offsets of ``A^T`` (rows are source
            nodes) ``[num_nodes + 1]``.
        targets (Tensor): target node of each edge, grouped by source
            ``[num_edges]``.
        dtype (torch.dtype): dtype of the features the matrices multiply.
            (default: ``torch.float32``)
    """

    def __init__(
        self,
        in_ptr: Tensor,
        sources: Tensor,
        out_ptr: Tensor,
        targets: Tensor,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self._in = (in_ptr, sources)
        self._out = (out_ptr, targets)
        self.dtype = dtype

    @cached_property
    def a(self) -> Tensor:
        """``A``: row ``i`` holds the sources of the edges into node ``i``."""
        return _csr(*self._in, self.dtype)

    @cached_property
    def a_t(self) -> Tensor:
        """``A^T``: row ``j`` holds the targets of the edges out of ``j``."""
        return _csr(*self._out, self.dtype)

    @property
    def num_nodes(self) -> int:
        """Rows (and columns) of ``A``."""
        return self._in[0].numel() - 1

    def sum_neighbours(self, x: Tensor, self_weight: float = 0.0) -> Tensor:
        """``A @ x + self_weight * x``: the sum of ``x`` over each node's
        incoming edges, plus the node's own features scaled (GIN's
        ``1 + eps``), in one fused product.

        Args:
            x (Tensor): node features ``[num_nodes, F]``.
            self_weight (float): weight of each node's own features.
                (default: ``0.0``)

        Returns:
            Tensor: ``[num_nodes, F]``, differentiable in ``x``.
        """
        return _NeighbourSum.apply(x, self, self_weight)

    def __repr__(self) -> str:
        return (f"SparseAdjacency(num_nodes={self.num_nodes}, "
                f"num_edges={self._in[1].numel()})")


class _NeighbourSum(torch.autograd.Function):
    """``A @ x + w * x`` whose backward, ``A^T @ g + w * g``, uses the
    stored ``A^T``; each is one ``addmm``."""

    @staticmethod
    def forward(ctx, x: Tensor, adjacency: SparseAdjacency,
                self_weight: float) -> Tensor:
        ctx.a_t = adjacency.a_t.to(x.device, x.dtype)
        ctx.self_weight = self_weight
        return torch.addmm(x, adjacency.a.to(x.device, x.dtype), x,
                           beta=self_weight)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        return (torch.addmm(grad, ctx.a_t, grad, beta=ctx.self_weight),
                None, None)


def _csr(ptr: Tensor, columns: Tensor, dtype: torch.dtype) -> Tensor:
    """A 0/1 CSR matrix. PyTorch warns that sparse CSR is "beta"; it is only
    multiplied here, which is long stable, so that warning is silenced."""
    num_nodes = ptr.numel() - 1
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support",
                                UserWarning)
        return torch.sparse_csr_tensor(
            ptr, columns, torch.ones(columns.numel(), dtype=dtype),
            (num_nodes, num_nodes), check_invariants=False)
