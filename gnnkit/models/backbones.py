"""GNN backbones (GCN, GAT, GraphSAGE, GIN) and a structure-agnostic MLP
baseline, built from PyG layers on :class:`~gnnkit.models.base.GraphModel`,
and :func:`build_model`, which makes any of them by name."""

from __future__ import annotations

import warnings

from torch import nn
from torch_geometric.nn import GATConv, GCNConv, GINConv, GINEConv, SAGEConv
from torch_geometric.nn.norm import BatchNorm

from gnnkit.models.adjacency import SparseAdjacency
from gnnkit.models.base import GraphModel


class GCN(GraphModel):
    """Graph convolutional network (Kipf and Welling, 2017) on PyG's
    :class:`~torch_geometric.nn.conv.GCNConv`; uses ``edge_weight``."""

    name = "gcn"
    supports_edge_weight = True

    def make_conv(self, in_channels: int, out_channels: int) -> nn.Module:
        """Return a :class:`GCNConv`."""
        return GCNConv(in_channels, out_channels)

    def conv_forward(self, conv, x, edge_index, edge_attr, edge_weight):
        """Apply GCNConv with the optional ``edge_weight``."""
        return conv(x, edge_index, edge_weight)


class GAT(GraphModel):
    """Graph attention network (Velickovic et al., 2018) on PyG's
    :class:`~torch_geometric.nn.conv.GATConv`; heads are concatenated, so
    ``hidden_channels`` must be divisible by ``heads``. The layers stay in
    ``model.convs`` so their attention weights can be read."""

    name = "gat"
    supports_edge_attr = True

    def make_conv(self, in_channels: int, out_channels: int) -> nn.Module:
        """Return a multi-head :class:`GATConv`."""
        heads = self.config["heads"]
        return GATConv(in_channels, out_channels // heads, heads=heads,
                       edge_dim=self.config["edge_dim"])

    def conv_forward(self, conv, x, edge_index, edge_attr, edge_weight):
        """Apply GATConv with ``edge_attr`` when built with edge_dim."""
        return conv(x, edge_index, edge_attr)


class GraphSAGE(GraphModel):
    """GraphSAGE (Hamilton et al., 2017) with mean aggregation on PyG's
    :class:`~torch_geometric.nn.conv.SAGEConv`."""

    name = "sage"

    def make_conv(self, in_channels: int, out_channels: int) -> nn.Module:
        """Return a :class:`SAGEConv`."""
        return SAGEConv(in_channels, out_channels)


class GIN(GraphModel):
    """Graph isomorphism network (Xu et al., 2019): PyG's
    :class:`~torch_geometric.nn.conv.GINConv` with a two-layer MLP, or
    :class:`~torch_geometric.nn.conv.GINEConv` when ``edge_dim`` is set.

    Given a :class:`SparseAdjacency` (as gnnkit's graph batches carry),
    GINConv's neighbour sum is one sparse product instead of a gather and a
    scatter over edges; weights and outputs are those of GINConv."""

    name = "gin"
    supports_edge_attr = True

    @property
    def uses_adjacency(self) -> bool:
        """GINConv (not GINE, which reads edge features) uses it."""
        return self.edge_dim is None

    def make_conv(self, in_channels: int, out_channels: int) -> nn.Module:
        """Return a GIN (or GINE) layer around a batch-normed MLP."""
        mlp = nn.Sequential(
            nn.Linear(in_channels, out_channels),
            BatchNorm(out_channels, allow_single_element=True),
            nn.ReLU(),
            nn.Linear(out_channels, out_channels),
        )
        if self.config["edge_dim"] is None:
            return GINConv(mlp)
        return GINEConv(mlp, edge_dim=self.config["edge_dim"])

    def conv_forward(self, conv, x, edge_index, edge_attr, edge_weight):
        """Apply GINConv, or GINEConv with ``edge_attr``."""
        if isinstance(conv, GINEConv):
            return conv(x, edge_index, edge_attr)
        if isinstance(edge_index, SparseAdjacency):  # GINConv.forward's sum
            # eps is a buffer here (GINConv's train_eps=False), not learnt
            return conv.nn(edge_index.sum_neighbours(x, 1 + float(conv.eps)))
        return conv(x, edge_index)


class MLP(GraphModel):
    """Structure-agnostic baseline: the same stack with linear layers in
    place of message passing, so edges are ignored (Errica et al., 2020)."""

    name = "mlp"

    def make_conv(self, in_channels: int, out_channels: int) -> nn.Module:
        """Return a node-wise :class:`~torch.nn.Linear`."""
        return nn.Linear(in_channels, out_channels)

    def conv_forward(self, conv, x, edge_index, edge_attr, edge_weight):
        """Apply the linear layer to each node; edges play no part."""
        return conv(x)

    def _usable_edges(self, edge_attr, edge_weight, stacklevel=4):
        return None, None


MODELS: dict[str, type[GraphModel]] = {
    "gcn": GCN, "gat": GAT, "sage": GraphSAGE, "graphsage": GraphSAGE,
    "gin": GIN, "mlp": MLP,
}


def build_model(
    name: str,
    in_channels: int,
    out_channels: int,
    *,
    level: str = "graph",
    hidden_channels: int = 64,
    num_layers: int = 3,
    dropout: float = 0.5,
    pooling: str = "mean",
    edge_dim: int | None = None,
    heads: int = 4,
    jk: str | None = None,
) -> GraphModel:
    """Build a GNN (or the MLP baseline) with a graph- or node-level head.

    Args:
        name (str): ``"gcn"``, ``"gat"``, ``"sage"``, ``"gin"`` or
            ``"mlp"``.
        in_channels (int): node feature width (``dataset.num_features``).
        out_channels (int): classes, or regression targets.
        level (str): ``"graph"`` or ``"node"``. (default: ``"graph"``)
        hidden_channels (int): embedding width. (default: ``64``)
        num_layers (int): message-passing layers. (default: ``3``)
        dropout (float): dropout probability. (default: ``0.5``)
        pooling (str): ``"mean"``, ``"sum"`` or ``"max"``.
            (default: ``"mean"``)
        edge_dim (int, optional): ``edge_attr`` width for GAT/GIN; other
            models warn and ignore it.
        heads (int): GAT attention heads. (default: ``4``)
        jk (str, optional): ``None``, ``"last"``, ``"cat"`` or ``"max"``.

    Returns:
        GraphModel: with a JSON-able ``config`` so that
        ``build_model(**model.config)`` rebuilds it.

    Raises:
        ValueError: for an unknown name or an invalid hyper-parameter.

    Example:
        >>> model = build_model("gin", 7, 2, pooling="sum")
        >>> model(x, edge_index, batch, num_graphs=32).shape
        torch.Size([32, 2])
    """
    key = str(name).lower()
    if key not in MODELS:
        raise ValueError(
            f"Unknown model {name!r}; choose one of "
            f"{['gcn', 'gat', 'sage', 'gin', 'mlp']}."
        )
    if edge_dim is not None and not MODELS[key].supports_edge_attr:
        warnings.warn(f"{key!r} does not read edge features; edge_dim="
                      f"{edge_dim} is ignored (use 'gin' or 'gat').",
                      UserWarning, stacklevel=2)
        edge_dim = None
    return MODELS[key](
        in_channels, out_channels, level=level,
        hidden_channels=hidden_channels, num_layers=num_layers,
        dropout=dropout, pooling=pooling, edge_dim=edge_dim, heads=heads,
        jk=jk,
    )
