"""The container every gnnkit reader returns.

PyG ``Data`` graphs plus the original ids, label names and texts a user
needs to read results back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import torch
from torch_geometric.data import Data

from gnnkit.errors import DataError

Level = Literal["graph", "node"]


@dataclass
class GraphDataset:
    """Graphs with their labels, original ids and optional texts.

    For graph-level tasks ``graphs`` holds one :class:`Data` per graph with
    ``y`` of shape ``[1]``; for node-level tasks it holds a single graph whose
    ``y`` has one entry per node.

    Args:
        graphs (list[Data]): the graphs (``x``, ``edge_index``, optional
            ``edge_attr``/``edge_weight``, ``y``).
        level (str): ``"graph"`` or ``"node"``: what is being predicted.
        name (str): a short name used in reports.
        classes (list, optional): original label values; class ``i`` of ``y``
            stands for ``classes[i]``. ``None`` for regression targets.
        graph_ids (list, optional): original id of each graph
            (default: ``0..num_graphs-1``).
        node_ids (list[list], optional): original id of each node, per graph
            (default: ``0..num_nodes-1`` per graph).
        texts (list[list], optional): per graph, the text of each node
            (``None`` where the text is missing).
        graph_texts (list[str], optional): one text per graph (e.g. SMILES).
        feature_names (list[str], optional): names of the columns of ``x``.
    """

    graphs: list[Data]
    level: Level = "graph"
    name: str = "dataset"
    classes: list[Any] | None = None
    graph_ids: list[Any] | None = None
    node_ids: list[list[Any]] | None = None
    texts: list[list[str | None]] | None = None
    graph_texts: list[str] | None = None
    feature_names: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.graph_ids is None:
            self.graph_ids = list(range(len(self.graphs)))
        if self.node_ids is None:
            self.node_ids = [list(range(g.num_nodes)) for g in self.graphs]
        for index, graph in enumerate(self.graphs):
            _check_graph(graph, f"graph {self.graph_ids[index]!r}", self.name)

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, index: int) -> Data:
        return self.graphs[index]

    def __repr__(self) -> str:
        return (
            f"GraphDataset(name={self.name!r}, level={self.level!r}, "
            f"graphs={len(self.graphs)}, features={self.num_features}, "
            f"task={self.task!r}, classes={self.num_classes})"
        )

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return "regression" if self.classes is None else "classification"

    @property
    def num_classes(self) -> int:
        """Number of classes (1 for regression: one output)."""
        return 1 if self.classes is None else len(self.classes)

    @property
    def num_features(self) -> int:
        """Width of the node feature matrix ``x``."""
        for graph in self.graphs:
            if graph.x is not None:
                return int(graph.x.size(-1))
        return 0

    @property
    def num_edge_features(self) -> int:
        """Width of ``edge_attr`` (0 when the graphs carry none)."""
        for graph in self.graphs:
            if getattr(graph, "edge_attr", None) is not None:
                return int(graph.edge_attr.size(-1))
        return 0

    @property
    def y(self) -> torch.Tensor:
        """Targets: one per graph (graph level) or per node (node level).

        Raises:
            DataError: the dataset has no graphs, or a graph has no ``y``
                (the files carried no labels).
        """
        if not self.graphs:
            raise DataError(f"dataset '{self.name}' has no graphs.")
        for index, graph in enumerate(self.graphs):
            if getattr(graph, "y", None) is None:
                raise DataError(
                    f"dataset '{self.name}' has no labels (graph "
                    f"{self.graph_ids[index]!r} has no y); read it with "
                    "a label column (label=..., a graph table) to train "
                    "or evaluate."
                )
        if self.level == "node":
            return self.graphs[0].y
        return torch.cat([g.y.view(-1) for g in self.graphs])

    def decode(self, labels: Sequence[int] | torch.Tensor) -> list[Any]:
        """Map class indices back to the original label values."""
        if self.classes is None:
            raise ValueError(
                f"Dataset '{self.name}' has regression targets; there are "
                "no class labels to decode."
            )
        return [self.classes[int(i)] for i in labels]

    def subset(self, index: Sequence[int]) -> "GraphDataset":
        """The graph-level dataset restricted to ``index`` (order kept)."""
        if self.level != "graph":
            raise ValueError(
                "subset() selects graphs; for a node-level dataset use "
                "node masks or index tensors instead."
            )
        pick = [int(i) for i in index]
        return GraphDataset(
            graphs=[self.graphs[i] for i in pick],
            level=self.level,
            name=self.name,
            classes=self.classes,
            graph_ids=[self.graph_ids[i] for i in pick],
            node_ids=[self.node_ids[i] for i in pick],
            texts=_pick(self.texts, pick),
            graph_texts=_pick(self.graph_texts, pick),
            feature_names=self.feature_names,
            meta=dict(self.meta),
        )


def _pick(values: list | None, pick: list[int]) -> list | None:
    """``values`` at the positions ``pick`` (``None`` stays ``None``)."""
    return None if values is None else [values[i] for i in pick]


def _check_graph(graph: Data, where: str, name: str) -> None:
    """A DataError when ``edge_index`` or ``x`` do not fit ``num_nodes``.

    Catches graphs built by hand before a model or summary indexes out of
    range deep inside torch.
    """
    num_nodes = int(graph.num_nodes or 0)
    edge_index = getattr(graph, "edge_index", None)
    problem = None
    if edge_index is not None:
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            problem = f"edge_index has shape {list(edge_index.shape)}, " \
                "not [2, num_edges]"
        elif edge_index.is_floating_point():
            problem = "edge_index holds floats; use torch.long"
        else:
            problem = _out_of_range(edge_index, num_nodes)
    x = getattr(graph, "x", None)
    if problem is None and x is not None and x.size(0) != num_nodes:
        problem = f"x has {x.size(0)} rows for {num_nodes} nodes"
    if problem:
        raise DataError(f"dataset '{name}', {where}: {problem}.")


def _out_of_range(edge_index: torch.Tensor, num_nodes: int) -> str | None:
    """The first edge naming a node outside ``0..num_nodes-1``, if any."""
    bad = ((edge_index < 0) | (edge_index >= num_nodes)).any(dim=0)  # [E]
    if not bool(bad.any()):
        return None
    col = int(bad.nonzero()[0])
    u, v = edge_index[:, col].tolist()
    return (f"edge {col} ({u}, {v}) names a node outside "
            f"0..{num_nodes - 1}")
