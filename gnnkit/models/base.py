"""The shape every gnnkit GNN shares: a stack of message-passing layers,
jumping knowledge, a readout and a graph- or node-level head; the concrete
backbones live in :mod:`gnnkit.models.backbones`."""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from typing import Any

from torch import Tensor, nn
from torch_geometric.nn import JumpingKnowledge

from gnnkit.errors import ModelError
from gnnkit.models.adjacency import SparseAdjacency
from gnnkit.models.heads import GraphHead, NodeHead, check_pooling, pool

LEVELS = ("graph", "node")
JK_MODES = (None, "last", "cat", "max")


class GraphModel(nn.Module, ABC):
    """A stack of message-passing layers, a readout and a head.

    Subclasses choose the layer (:meth:`make_conv`) and how it is called
    (:meth:`conv_forward`). Build one with :func:`build_model`.

    Every layer is followed by a ReLU. At node level, dropout also follows
    every layer but the last; at graph level dropout sits in the head only,
    as in the GIN paper.

    Args:
        in_channels (int): node feature width.
        out_channels (int): number of classes (or regression targets).
        level (str): ``"graph"`` (one output per graph) or ``"node"``.
        hidden_channels (int): embedding width.
        num_layers (int): number of message-passing layers.
        dropout (float): dropout probability.
        pooling (str): graph readout, ``"mean"``, ``"sum"`` or ``"max"``.
        edge_dim (int, optional): width of ``edge_attr`` for layers that
            use edge features (GAT, GIN as GINE).
        heads (int): attention heads (GAT only).
        jk (str, optional): jumping knowledge over layers: ``None`` or
            ``"last"`` (last layer), ``"cat"`` or ``"max"``.

    Shapes:
        - **input:** node features ``[num_nodes, in_channels]``, edge
          indices ``[2, num_edges]``, batch vector ``[num_nodes]``,
          optional ``edge_attr [num_edges, edge_dim]``,
          ``edge_weight [num_edges]`` and ``adjacency``
        - **output:** ``[num_graphs, out_channels]`` (graph level) or
          ``[num_nodes, out_channels]`` (node level)
    """

    kind = "graph_model"
    name = "base"
    supports_edge_weight = False
    supports_edge_attr = False
    uses_adjacency = False

    def __init__(
        self,
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
    ) -> None:
        super().__init__()
        self.config = _check_config(
            name=self.name, in_channels=in_channels,
            out_channels=out_channels, level=level,
            hidden_channels=hidden_channels, num_layers=num_layers,
            dropout=dropout, pooling=pooling, edge_dim=edge_dim,
            heads=heads, jk=jk,
        )
        self.level = level
        self.in_channels = in_channels
        self.pooling = pooling
        self.edge_dim = edge_dim if self.supports_edge_attr else None
        self.dropout = nn.Dropout(dropout)
        widths = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(
            self.make_conv(c_in, hidden_channels)
            for c_in in widths[:-1]
        )
        self.jk_mode = None if jk in (None, "last") else jk
        self.jk = None if self.jk_mode is None else JumpingKnowledge(jk)
        width = hidden_channels * (num_layers if jk == "cat" else 1)
        self.head = (
            GraphHead(width, hidden_channels, out_channels, dropout)
            if level == "graph"
            else NodeHead(width, out_channels, dropout)
        )
        self._warned: set[str] = set()

    @abstractmethod
    def make_conv(self, in_channels: int, out_channels: int) -> nn.Module:
        """Return one message-passing layer (each backbone defines it)."""

    def conv_forward(
        self,
        conv: nn.Module,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None,
        edge_weight: Tensor | None,
    ) -> Tensor:
        """Apply one layer; the default passes ``x`` and ``edge_index``.

        ``edge_index`` is a :class:`SparseAdjacency` instead when the model
        ``uses_adjacency`` and the caller gave one.
        """
        return conv(x, edge_index)

    def embed(
        self,
        x: Tensor,
        edge_index: Tensor,
        batch: Tensor | None = None,
        edge_attr: Tensor | None = None,
        edge_weight: Tensor | None = None,
        adjacency: SparseAdjacency | None = None,
    ) -> Tensor:
        """Node embeddings before pooling and head.

        Returns:
            Tensor: ``[num_nodes, hidden_channels]`` (times ``num_layers``
            with ``jk="cat"``).
        """
        self._check_x(x)
        edge_attr, edge_weight = self._usable_edges(edge_attr, edge_weight)
        if adjacency is not None and self.uses_adjacency:
            edge_index = adjacency
        last = len(self.convs) - 1
        xs = []
        for i, conv in enumerate(self.convs):
            x = self.conv_forward(conv, x, edge_index, edge_attr,
                                  edge_weight).relu()
            if self.level == "node" and i < last:
                x = self.dropout(x)
            xs.append(x)
        return x if self.jk is None else self.jk(xs)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        batch: Tensor | None = None,
        edge_attr: Tensor | None = None,
        edge_weight: Tensor | None = None,
        num_graphs: int | None = None,
        adjacency: SparseAdjacency | None = None,
    ) -> Tensor:
        """Logits per graph (graph level) or per node (node level).

        Args:
            x (Tensor): node features.
            edge_index (Tensor): edge indices.
            batch (Tensor, optional): graph index of each node; ``None``
                means one graph.
            edge_attr (Tensor, optional): edge features (used by models
                built with ``edge_dim``).
            edge_weight (Tensor, optional): scalar edge weights (used by
                GCN, ignored with a warning elsewhere).
            num_graphs (int, optional): graphs in the batch; give it
                whenever the last graphs of a batch may have no nodes.
            adjacency (SparseAdjacency, optional): the same edges as
                sparse matrices, used in place of ``edge_index`` by models
                that declare ``uses_adjacency`` (GIN without ``edge_dim``).
        """
        # filtered here so a warning points at the caller of model(...)
        edge_attr, edge_weight = self._usable_edges(edge_attr, edge_weight,
                                                    stacklevel=6)
        h = self.embed(x, edge_index, batch, edge_attr, edge_weight,
                       adjacency)
        if self.level == "graph":
            h = pool(h, batch, self.pooling, num_graphs)
        return self.head(h)

    def _check_x(self, x: Tensor) -> None:
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ModelError(
                f"{type(self).__name__} expects node features x of shape "
                f"[num_nodes, {self.in_channels}] (got "
                f"{list(x.shape)}); build the model with in_channels "
                "equal to the dataset's num_features."
            )
        if not x.is_floating_point():
            raise ModelError(
                f"{type(self).__name__} expects float node features x "
                f"(got {x.dtype}); one-hot encode categorical features or "
                "call x.float()."
            )

    def _usable_edges(
        self,
        edge_attr: Tensor | None,
        edge_weight: Tensor | None,
        stacklevel: int = 4,
    ) -> tuple[Tensor | None, Tensor | None]:
        if edge_weight is not None and not self.supports_edge_weight:
            self._warn_once(
                "edge_weight", f"{type(self).__name__} ignores edge_weight; "
                "use 'gcn' to weight edges.", stacklevel,
            )
            edge_weight = None
        if edge_attr is not None and self.edge_dim is None:
            self._warn_once(
                "edge_attr", f"{type(self).__name__} was built without "
                "edge_dim and ignores edge_attr; pass edge_dim=... to "
                "build_model ('gat' or 'gin') to use edge features.",
                stacklevel,
            )
            edge_attr = None
        return edge_attr, edge_weight

    def _warn_once(self, key: str, message: str, stacklevel: int) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, UserWarning, stacklevel=stacklevel)

    def __repr__(self) -> str:
        c = self.config
        extra = "".join(
            f", {k}={c[k]!r}"
            for k in ("edge_dim", "jk") if c[k] is not None
        )
        if self.name == "gat":
            extra += f", heads={c['heads']}"
        pooling = f", pooling={c['pooling']!r}" if self.level == "graph" \
            else ""
        return (
            f"{type(self).__name__}({c['in_channels']}, "
            f"{c['out_channels']}, level={self.level!r}, "
            f"hidden_channels={c['hidden_channels']}, "
            f"num_layers={c['num_layers']}{pooling}{extra})"
        )


def _check_config(**config: Any) -> dict[str, Any]:
    def need(ok: bool, field: str, what: str) -> None:
        if not ok:
            raise ValueError(
                f"build_model({config['name']!r}): {field} must be {what} "
                f"(got {config[field]!r})."
            )

    for field in ("in_channels", "out_channels", "hidden_channels",
                  "num_layers", "heads"):
        need(isinstance(config[field], int) and config[field] >= 1, field,
             "an integer >= 1")
    need(config["level"] in LEVELS, "level", "'graph' or 'node'")
    need(0.0 <= config["dropout"] < 1.0, "dropout", "in [0, 1)")
    need(config["jk"] in JK_MODES, "jk", "None, 'last', 'cat' or 'max'")
    need(config["edge_dim"] is None or (
        isinstance(config["edge_dim"], int) and config["edge_dim"] >= 1),
        "edge_dim", "None or an integer >= 1")
    check_pooling(config["pooling"])
    if config["name"] == "gat":
        need(config["hidden_channels"] % config["heads"] == 0,
             "hidden_channels", f"divisible by heads={config['heads']}")
    return dict(config)
