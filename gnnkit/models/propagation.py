"""Predict, then propagate: an MLP whose logits spread over the graph.

APPNP (Gasteiger et al., ICLR 2019) separates the neural network from
the propagation: an MLP reads each node's own features, then PyG's
:class:`~torch_geometric.nn.conv.APPNP` runs ``K`` steps of personalised
PageRank over the logits. The reach grows with ``K`` at no parameter
cost and without the over-smoothing of deep GCNs, which helps most when
labels are few.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torch_geometric.nn import APPNP

from gnnkit.errors import ModelError


class APPNPNet(nn.Module):
    """A node classifier: dropout, MLP, then ``K`` propagation steps.

    It follows the node-level :class:`~gnnkit.models.base.GraphModel`
    call (``forward(x, edge_index, batch=None, edge_attr=None,
    edge_weight=None, num_graphs=None)``), so ``fit`` and ``predict`` drive
    it like any backbone.

    Args:
        in_channels (int): node feature width.
        out_channels (int): number of classes.
        hidden_channels (int): MLP width. (default: ``64``)
        num_layers (int): MLP layers, at least 1. (default: ``2``)
        dropout (float): dropout before every linear layer, the input
            included. (default: ``0.5``)
        K (int): propagation steps. (default: ``10``)
        alpha (float): teleport probability back to each node's own
            prediction. (default: ``0.1``)
    """

    name = "appnp"
    level = "node"
    edge_dim = None
    supports_edge_weight = True

    def __init__(self, in_channels: int, out_channels: int, *,
                 hidden_channels: int = 64, num_layers: int = 2,
                 dropout: float = 0.5, K: int = 10,
                 alpha: float = 0.1) -> None:
        super().__init__()
        _check(num_layers >= 1, "num_layers", num_layers, ">= 1")
        _check(0.0 <= dropout < 1.0, "dropout", dropout, "in [0, 1)")
        _check(K >= 1, "K", K, ">= 1")
        _check(0.0 < alpha <= 1.0, "alpha", alpha, "in (0, 1]")
        self.config: dict[str, Any] = {
            "name": self.name, "in_channels": in_channels,
            "out_channels": out_channels, "level": self.level,
            "hidden_channels": hidden_channels, "num_layers": num_layers,
            "dropout": dropout, "K": K, "alpha": alpha}
        widths = ([in_channels] + [hidden_channels] * (num_layers - 1)
                  + [out_channels])
        self.lins = nn.ModuleList(nn.Linear(a, b)
                                  for a, b in zip(widths[:-1], widths[1:]))
        self.dropout = nn.Dropout(dropout)
        self.propagate = APPNP(K, alpha)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Any = None,
                edge_attr: Any = None, edge_weight: Tensor | None = None,
                num_graphs: Any = None) -> Tensor:
        """Logits ``[num_nodes, out_channels]`` after propagation."""
        for i, lin in enumerate(self.lins):
            x = lin(self.dropout(x))
            if i < len(self.lins) - 1:
                x = x.relu()
        return self.propagate(x, edge_index, edge_weight)

    def __repr__(self) -> str:
        c = self.config
        return (f"APPNPNet({c['in_channels']}, {c['out_channels']}, "
                f"hidden_channels={c['hidden_channels']}, "
                f"num_layers={c['num_layers']}, K={c['K']}, "
                f"alpha={c['alpha']})")


def _check(ok: bool, field: str, value: Any, what: str) -> None:
    if not ok:
        raise ModelError(f"APPNPNet: {field} must be {what} (got {value!r}).")
