"""SMILES as a second modality, read by a language model beside the graph.

The frozen LM embedding of each molecule's SMILES is appended to every
atom's features (:func:`attach_text`), so the standard graph batches and
:class:`~gnnkit.train.tasks.GraphTask` carry it unchanged;
:class:`MoleculeTextModel` splits the columns again and runs the graph
alone, the text alone, or both fused.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import MLP, global_mean_pool

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError, ModelError
from gnnkit.models.backbones import build_model
from gnnkit.models.persist import register_kind

MODES = ("graph", "text", "fusion")


def attach_text(dataset: GraphDataset, embeddings: Tensor) -> GraphDataset:
    """Append each graph's text embedding to the features of its atoms.

    Args:
        dataset (GraphDataset): graph-level molecules.
        embeddings (Tensor): ``[num_graphs, text_channels]``, e.g.
            ``TextEncoder().encode(dataset.graph_texts)``.

    Returns:
        GraphDataset: the same graphs with ``x`` of width
        ``num_features + text_channels``; ``meta["text_channels"]`` and
        ``meta["atom_channels"]`` record the split.

    Raises:
        DataError: the number of embeddings differs from the graphs.
    """
    if embeddings.dim() != 2 or embeddings.size(0) != len(dataset):
        raise DataError(
            f"need one embedding row per graph: "
            f"{len(dataset)} graphs, got embeddings of shape "
            f"{list(embeddings.shape)}."
        )
    graphs = []
    for graph, row in zip(dataset.graphs, embeddings.float()):
        text = row.unsqueeze(0).expand(graph.num_nodes, -1)
        data = copy.copy(graph)  # shares edges and targets
        data.x = torch.cat([graph.x, text], dim=1)
        graphs.append(data)
    meta = dict(
        dataset.meta,
        text_channels=int(embeddings.size(1)),
        atom_channels=dataset.num_features,
    )
    out = dataset.subset(range(len(dataset)))
    out.graphs, out.meta = graphs, meta
    names = dataset.feature_names or []
    out.feature_names = list(names) + [
        f"text_{i}" for i in range(embeddings.size(1))
    ]
    return out


class MoleculeTextModel(nn.Module):
    """Graph-level model over atom features and a SMILES text embedding.

    ``mode="graph"`` uses the GNN alone, ``"text"`` the text embedding
    alone (an MLP), ``"fusion"`` concatenates the pooled GNN embedding
    with the projected text embedding (late fusion) before the head. All
    three read the same inputs, so they compare on identical batches.

    Args:
        in_channels (int): atom feature width (without the text columns).
        text_channels (int): width of the text embedding.
        out_channels (int): classes or regression targets.
        mode (str, optional): ``"graph"``, ``"text"`` or ``"fusion"``
            (default: ``"fusion"``).
        gnn (str, optional): backbone for :func:`build_model`
            (default: ``"gin"``).
        hidden_channels (int, optional): width (default: ``64``).
        num_layers (int, optional): GNN layers (default: ``3``).
        dropout (float, optional): dropout (default: ``0.2``).
        pooling (str, optional): graph readout (default: ``"mean"``).
        edge_dim (int, optional): bond feature width for GIN/GAT.

    Shapes:
        - **input:** ``x [num_nodes, in_channels + text_channels]``,
          ``edge_index [2, num_edges]``, ``batch [num_nodes]``
        - **output:** ``[num_graphs, out_channels]``
    """

    kind = "molecule_text"
    level = "graph"
    supports_edge_weight = False

    def __init__(
        self,
        in_channels: int,
        text_channels: int,
        out_channels: int,
        *,
        mode: str = "fusion",
        gnn: str = "gin",
        hidden_channels: int = 64,
        num_layers: int = 3,
        dropout: float = 0.2,
        pooling: str = "mean",
        edge_dim: int | None = None,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES} (got {mode!r}).")
        self.config: dict[str, Any] = dict(
            in_channels=in_channels,
            text_channels=text_channels,
            out_channels=out_channels,
            mode=mode,
            gnn=gnn,
            hidden_channels=hidden_channels,
            num_layers=num_layers,
            dropout=dropout,
            pooling=pooling,
            edge_dim=edge_dim,
        )
        self.mode, self.in_channels = mode, in_channels
        self.edge_dim = edge_dim if mode != "text" else None
        self.graph = (
            None
            if mode == "text"
            else build_model(
                gnn,
                in_channels,
                hidden_channels,
                level="graph",
                hidden_channels=hidden_channels,
                num_layers=num_layers,
                dropout=dropout,
                pooling=pooling,
                edge_dim=edge_dim,
            )
        )
        self.text = (
            None
            if mode == "graph"
            else MLP(
                [text_channels, hidden_channels, hidden_channels],
                dropout=dropout,
                norm=None,
            )
        )
        width = hidden_channels * (2 if mode == "fusion" else 1)
        self.head = MLP(
            [width, hidden_channels, out_channels], dropout=dropout, norm=None
        )

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        batch: Tensor | None = None,
        edge_attr: Tensor | None = None,
        edge_weight: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        """Logits ``[num_graphs, out_channels]``."""
        want = self.in_channels + self.config["text_channels"]
        if x.dim() != 2 or x.size(1) != want:
            raise ModelError(
                f"MoleculeTextModel expects x of width {want} (atom "
                f"features then the text embedding; got "
                f"{list(x.shape)}); build the inputs with attach_text()."
            )
        if batch is None:
            batch = x.new_zeros(x.size(0), dtype=torch.long)
        parts = []
        if self.graph is not None:
            parts.append(
                self.graph(
                    x[:, : self.in_channels],
                    edge_index,
                    batch,
                    edge_attr=edge_attr if self.edge_dim else None,
                    num_graphs=num_graphs,
                )
            )
        if self.text is not None:
            text = global_mean_pool(
                x[:, self.in_channels :], batch, size=num_graphs
            )  # [num_graphs, text]
            parts.append(self.text(text))
        return self.head(torch.cat(parts, dim=-1))

    def __repr__(self) -> str:
        c = self.config
        return (
            f"MoleculeTextModel({c['in_channels']}, "
            f"{c['text_channels']}, {c['out_channels']}, "
            f"mode={c['mode']!r}, gnn={c['gnn']!r}, "
            f"hidden_channels={c['hidden_channels']})"
        )


register_kind(MoleculeTextModel.kind, lambda c: MoleculeTextModel(**c))
