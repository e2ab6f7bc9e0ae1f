"""Convert NetworkX graphs to a :class:`GraphDataset` and back.

One graph gives a node-level dataset, a list of graphs a graph-level one.
Original node ids, numeric node attributes, labels and texts are kept.
"""

from __future__ import annotations

import warnings
from numbers import Number
from typing import Any, Sequence

import networkx as nx
import numpy as np
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.features import (
    constant_features,
    encode_labels,
    node_texts,
    typed_labels,
)
from gnnkit.errors import DataError


def from_networkx(
    graphs: nx.Graph | Sequence[nx.Graph],
    *,
    label: str | None = "label",
    graph_label: str | None = "label",
    features: str | Sequence[str] | None = "auto",
    text: str | None = None,
    weight: str | None = None,
    missing_text: str = "error",
    name: str | None = None,
) -> GraphDataset:
    """Build a dataset from one NetworkX graph or a list of them.

    One graph gives a node-level dataset whose labels are the node
    attribute ``label``; a list gives a graph-level dataset whose labels
    are ``G.graph[graph_label]``. Nodes are numbered in ``G.nodes`` order
    and their ids kept in ``node_ids``. An undirected graph lists each
    edge in both directions (edge rows, then the reversed rows; a
    self-loop once); a directed graph keeps its edges.

    ``features="auto"`` uses every node attribute that is a number or a
    list of numbers on every node, except ``label``, ``text`` and ``"y"``;
    list attributes add one column per entry. Without features ``x`` is a
    constant column of ones.

    Args:
        graphs (nx.Graph or list of nx.Graph): the graph(s).
        label (str, optional): node attribute with the node label (node
            level); ``None`` for no labels.
        graph_label (str, optional): key of ``G.graph`` with the graph
            label (graph level).
        features ("auto", list[str] or None): node attributes used as
            features.
        text (str, optional): node attribute holding the node text.
        weight (str, optional): edge attribute stored as ``edge_weight``.
        missing_text (str): ``"error"`` (default) or ``"empty"``, as in
            :func:`~gnnkit.data.tables.read_csv_graph`.
        name (str, optional): dataset name (default: ``G.name`` or
            ``"networkx"``).

    Returns:
        GraphDataset: node-level for one graph, graph-level for a list.

    Raises:
        DataError: not a graph, a graph without nodes, a feature or weight
            that is not a finite number, a missing label or text.
    """
    single = isinstance(graphs, nx.Graph)
    items = _graph_list(graphs)
    exclude = {label, text, "y"}
    columns = _feature_columns(items, features, exclude)
    datas = [_to_data(g, columns, weight) for g in items]
    texts = None
    if text is not None:
        texts = [_texts(g, text, missing_text) for g in items]
    classes = _set_labels(datas, items, label if single else graph_label,
                          single)
    return GraphDataset(
        graphs=datas,
        level="node" if single else "graph",
        name=name or items[0].graph.get("name") or "networkx",
        classes=classes,
        graph_ids=None if single else list(range(len(items))),
        node_ids=[list(g.nodes) for g in items],
        texts=texts,
        feature_names=_names(items, columns),
        meta={"source": "networkx"},
    )


def _graph_list(graphs: Any) -> list[nx.Graph]:
    """``graphs`` as a non-empty list of graphs, each with nodes."""
    single = isinstance(graphs, nx.Graph)
    if not single and isinstance(graphs, (str, bytes, dict)):
        graphs = [graphs]
    items = [graphs] if single else list(graphs)
    if not items:
        raise DataError("from_networkx needs at least one graph.")
    for index, graph in enumerate(items):
        if not isinstance(graph, nx.Graph):
            raise DataError(
                f"item {index} is a {type(graph).__name__}, not a networkx "
                "graph; pass an nx.Graph or a list of them."
            )
        if graph.number_of_nodes() == 0:
            where = "the graph" if single else f"graph {index}"
            raise DataError(f"{where} has no nodes; add nodes or leave it "
                            "out.")
    return items


def _feature_columns(items, features, exclude) -> list[str]:
    """The node attributes used as features."""
    if features is None:
        return []
    if features != "auto":
        return list(features)
    nodes = [(n, a) for graph in items for n, a in graph.nodes(data=True)]
    numeric = [{k for k, v in a.items() if _is_numeric(v)} for _, a in nodes]
    shared = set.intersection(*numeric) if numeric else set()
    for key in sorted(set().union(*numeric) - shared - exclude):
        node, attrs = next((n, a) for (n, a), keys in zip(nodes, numeric)
                           if key not in keys)
        value = f"is {attrs[key]!r}" if key in attrs else "is missing"
        warnings.warn(
            f"node attribute {key!r} {value} on node {node!r}, so it is not "
            "used as a feature. Fix the value or pass features=[...].",
            stacklevel=3,
        )
    return sorted(shared - exclude)


def _is_numeric(value: Any) -> bool:
    """A finite number, or a non-empty list of finite numbers."""
    if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)):
        return len(value) > 0 and all(_is_numeric(v) for v in value)
    if not isinstance(value, Number) or isinstance(value, complex):
        return False
    return bool(np.isfinite(float(value)))


def _node_row(node, attrs, columns) -> list[float]:
    """Feature values of one node, in column order."""
    row = []
    for column in columns:
        value = attrs.get(column)
        if value is None or not _is_numeric(value):
            raise DataError(
                f"node {node!r} has {column}={value!r}, which is not a "
                "finite number or list of finite numbers; fix it or leave "
                "the attribute out of features=.",
                field=column,
            )
        is_list = isinstance(value, (list, tuple, np.ndarray, torch.Tensor))
        row += [float(v) for v in value] if is_list else [float(value)]
    return row


def _to_data(graph: nx.Graph, columns: list[str], weight) -> Data:
    """One ``Data`` with ``x``, ``edge_index`` and optional weights."""
    position = {node: i for i, node in enumerate(graph.nodes)}
    rows = [_node_row(n, a, columns) for n, a in graph.nodes(data=True)]
    num_nodes = len(position)
    if columns and len({len(r) for r in rows}) > 1:
        raise DataError(f"node feature lists differ in length across "
                        f"nodes (attributes {columns}).")
    x = torch.tensor(rows, dtype=torch.float32).reshape(num_nodes, -1)
    edges = [
        (position[u], position[v], _weight(d, weight, u, v))
        for u, v, d in graph.edges(data=True)
    ]
    table = np.asarray(edges, dtype=np.float64).reshape(-1, 3)
    if not graph.is_directed():
        flipped = table[:, [1, 0, 2]]
        both = np.concatenate([table, flipped])
        _, first = np.unique(both, axis=0, return_index=True)
        table = both[np.sort(first)]
    data = Data(
        x=x if columns else constant_features(num_nodes),
        edge_index=torch.tensor(table[:, :2].T, dtype=torch.long),
        num_nodes=num_nodes,
    )
    if weight is not None:
        data.edge_weight = torch.tensor(table[:, 2], dtype=torch.float32)
    return data


def _weight(attrs: dict, key: str | None, u, v) -> float:
    """The weight of edge ``(u, v)`` (0 when no weight is asked for)."""
    if key is None:
        return 0.0
    value = attrs.get(key)
    if not _is_numeric(value) or not isinstance(value, Number):
        raise DataError(f"edge ({u!r}, {v!r}) has {key}={value!r}, which "
                        "is not a finite number.", field=key)
    return float(value)


def _texts(graph: nx.Graph, key: str, missing_text: str) -> list[str]:
    """Node texts of one graph, with the missing-text policy applied."""
    values = [attrs.get(key) for _, attrs in graph.nodes(data=True)]
    return node_texts(values, list(graph.nodes), missing_text, field=key,
                      stacklevel=3)


def _set_labels(datas, items, key, single) -> list | None:
    """Attach ``y``; returns the classes (``None`` without labels)."""
    if key is None:
        return None
    if single:
        pairs = list(items[0].nodes(data=key))
        what = "node"
    else:
        pairs = [(i, g.graph.get(key)) for i, g in enumerate(items)]
        what = "graph"
    missing = [owner for owner, value in pairs if _no_label(value)]
    if len(missing) == len(pairs):
        return None
    if missing:
        raise DataError(
            f"{len(missing)} {what}(s) have no {key!r}: "
            f"{', '.join(map(repr, missing[:20]))}; label every {what} or "
            "pass None to read no labels.",
            field=key,
        )
    listed = [(o, v) for o, v in pairs if isinstance(
        v, (list, tuple, set, dict, np.ndarray, torch.Tensor))]
    if listed:
        raise DataError(
            f"{what} {listed[0][0]!r} has {key}={listed[0][1]!r}; a label is "
            f"one class or value per {what}, not a list.",
            field=key,
        )
    y, classes = encode_labels(typed_labels([v for _, v in pairs]))
    y = torch.from_numpy(y)
    if single:
        datas[0].y = y
    else:
        for data, target in zip(datas, y):
            data.y = target.view(1)
    return classes


def _no_label(value: Any) -> bool:
    """``None`` and NaN mean the label is missing."""
    return value is None or (isinstance(value, float) and np.isnan(value))


def _names(items, columns) -> list[str]:
    """Feature names: the attribute, numbered when it is a list."""
    if not columns:
        return ["constant"]
    _, attrs = next(iter(items[0].nodes(data=True)), (None, {}))
    names = []
    for column in columns:
        value = attrs.get(column)
        if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)):
            names += [f"{column}{j}" for j in range(len(value))]
        else:
            names.append(column)
    return names


def to_networkx(dataset: GraphDataset, index: int = 0) -> nx.Graph:
    """Graph ``index`` of ``dataset`` as a NetworkX graph.

    Nodes carry their original ids and the attributes ``x`` (list of
    floats), ``y`` (class index or target), ``label`` (the original class
    value) and ``text`` when the dataset has texts; graph-level labels
    go to ``G.graph``. Edges carry ``weight`` and ``edge_attr`` when
    present. A graph whose ``edge_index`` is symmetric becomes an
    ``nx.Graph``, any other an ``nx.DiGraph``.

    Args:
        dataset (GraphDataset): the dataset.
        index (int): which graph (default: ``0``).

    Returns:
        nx.Graph or nx.DiGraph: the graph.
    """
    from torch_geometric.utils import is_undirected

    data = dataset.graphs[index]
    ids = dataset.node_ids[index]
    graph = nx.Graph() if is_undirected(data.edge_index) else nx.DiGraph()
    graph.graph["name"] = dataset.name
    texts = None if dataset.texts is None else dataset.texts[index]
    for i, node in enumerate(ids):
        graph.add_node(node, x=data.x[i].tolist())
        if texts is not None:
            graph.nodes[node]["text"] = texts[i]
    y = getattr(data, "y", None)
    if y is not None:
        owners = graph.nodes.values() if dataset.level == "node" else [
            graph.graph
        ]
        for attrs, value in zip(owners, y.view(-1).tolist()):
            attrs["y"] = value
            if dataset.classes is not None:
                attrs["label"] = dataset.classes[int(value)]
    _add_edges(graph, data, ids)
    return graph


def _add_edges(graph: nx.Graph, data: Data, ids: list) -> None:
    """Copy the edges, with their weights and features."""
    weight = getattr(data, "edge_weight", None)
    attr = getattr(data, "edge_attr", None)
    for k, (u, v) in enumerate(data.edge_index.t().tolist()):
        extra = {}
        if weight is not None:
            extra["weight"] = float(weight[k])
        if attr is not None:
            extra["edge_attr"] = attr[k].tolist()
        graph.add_edge(ids[u], ids[v], **extra)
