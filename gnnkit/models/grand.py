"""GRAND: random DropNode augmentations, mixed-order propagation, an MLP.

GRAND (Feng et al., "Graph Random Neural Network", NeurIPS 2020) drops
whole node feature rows at random (DropNode), averages the propagated
features of orders ``0..K`` and classifies the result with an MLP. Each
training step draws several such augmentations and asks their
predictions to agree on every node (see
:class:`~gnnkit.train.consistency.ConsistencyNodeTask`), which uses the
unlabelled nodes and helps most when labels are few.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import spmm, to_torch_csr_tensor

from gnnkit.errors import ModelError


def mixed_order_propagation(x: Tensor, edge_index: Tensor, K: int,
                            edge_weight: Tensor | None = None) -> Tensor:
    """The mean of ``A_hat^k x`` over ``k = 0..K``.

    ``A_hat = D^-1/2 (A + I) D^-1/2`` is the GCN-normalised adjacency
    with self-loops.

    Args:
        x (Tensor): node features ``[num_nodes, F]``.
        edge_index (Tensor): edges ``[2, E]``.
        K (int): highest order.
        edge_weight (Tensor, optional): edge weights ``[E]``.

    Returns:
        Tensor: ``[num_nodes, F]``.
    """
    adj = _normalized_adjacency(edge_index, edge_weight, x.size(0))
    total, h = x, x
    for _ in range(K):
        h = spmm(adj, h)
        total = total + h
    return total / (K + 1)


def _normalized_adjacency(edge_index: Tensor, edge_weight: Tensor | None,
                          num_nodes: int) -> Tensor:
    edge_index, edge_weight = gcn_norm(edge_index, edge_weight, num_nodes,
                                       add_self_loops=True)
    # opting in to the invariant checks silences torch's notice about
    # them; the CSR layout PyG's spmm wants is "beta" in torch's words
    with torch.sparse.check_sparse_tensor_invariants(True), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor "
                                "support is in beta")
        return to_torch_csr_tensor(edge_index, edge_weight,
                                   size=(num_nodes, num_nodes))


def drop_node(x: Tensor, p: float, generator: torch.Generator | None = None
              ) -> Tensor:
    """Zero whole rows of ``x`` with probability ``p`` and scale the kept
    rows by ``1 / (1 - p)``, so the expectation stays ``x``.

    Args:
        x (Tensor): node features ``[num_nodes, F]``.
        p (float): drop probability in ``[0, 1)``.
        generator (torch.Generator, optional): source of randomness.
    """
    if p == 0.0:
        return x
    keep = torch.rand(x.size(0), 1, device=x.device,
                      generator=generator) >= p
    return x * keep / (1.0 - p)


class GRANDNet(nn.Module):
    """A node classifier: DropNode (training only), mixed-order
    propagation, then an MLP with input and hidden dropout.

    The first linear map runs before the propagation and its bias after:
    both steps are linear and DropNode masks whole rows, so this equals
    propagating the raw features, but the propagation moves
    ``hidden_channels`` columns instead of ``in_channels`` (thousands for
    TF-IDF). Input dropout acts on the raw features.

    In training mode every call draws a new augmentation; in eval mode
    the features propagate whole. It follows the node-level
    :class:`~gnnkit.models.base.GraphModel` call, so ``fit`` and
    ``predict`` drive it like any backbone.

    Args:
        in_channels (int): node feature width.
        out_channels (int): number of classes.
        hidden_channels (int): MLP width. (default: ``32``)
        num_layers (int): MLP layers, at least 1. (default: ``2``)
        dropout (float): dropout before the hidden layers.
            (default: ``0.5``)
        input_dropout (float): dropout on the input features.
            (default: ``0.5``)
        drop_node (float): probability of dropping a node's features.
            (default: ``0.5``)
        K (int): highest propagation order. (default: ``8``)
    """

    name = "grand"
    level = "node"
    edge_dim = None
    supports_edge_weight = True

    def __init__(self, in_channels: int, out_channels: int, *,
                 hidden_channels: int = 32, num_layers: int = 2,
                 dropout: float = 0.5, input_dropout: float = 0.5,
                 drop_node: float = 0.5, K: int = 8) -> None:
        super().__init__()
        _check(num_layers >= 1, "num_layers", num_layers, ">= 1")
        for field, value in (("dropout", dropout),
                             ("input_dropout", input_dropout),
                             ("drop_node", drop_node)):
            _check(0.0 <= value < 1.0, field, value, "in [0, 1)")
        _check(K >= 0, "K", K, ">= 0")
        self.config: dict[str, Any] = {
            "name": self.name, "in_channels": in_channels,
            "out_channels": out_channels, "level": self.level,
            "hidden_channels": hidden_channels, "num_layers": num_layers,
            "dropout": dropout, "input_dropout": input_dropout,
            "drop_node": drop_node, "K": K}
        widths = ([in_channels] + [hidden_channels] * (num_layers - 1)
                  + [out_channels])
        self.lins = nn.ModuleList(nn.Linear(a, b)
                                  for a, b in zip(widths[:-1], widths[1:]))
        self.input_dropout = nn.Dropout(input_dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Any = None,
                edge_attr: Any = None, edge_weight: Tensor | None = None,
                num_graphs: Any = None) -> Tensor:
        """Logits ``[num_nodes, out_channels]`` of one augmentation
        (training) or of the whole features (eval)."""
        c = self.config
        first, *rest = self.lins
        x = F.linear(self.input_dropout(x), first.weight)
        if self.training:
            x = drop_node(x, c["drop_node"])
        x = mixed_order_propagation(x, edge_index, c["K"], edge_weight)
        x = x + first.bias
        for lin in rest:
            x = lin(self.dropout(x.relu()))
        return x

    def __repr__(self) -> str:
        c = self.config
        return (f"GRANDNet({c['in_channels']}, {c['out_channels']}, "
                f"hidden_channels={c['hidden_channels']}, "
                f"num_layers={c['num_layers']}, K={c['K']}, "
                f"drop_node={c['drop_node']})")


def _check(ok: bool, field: str, value: Any, what: str) -> None:
    if not ok:
        raise ModelError(f"GRANDNet: {field} must be {what} (got {value!r}).")
