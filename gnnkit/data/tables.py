"""Build graphs from edge and node tables (CSV, TSV or JSON Lines).

One call gives a node-level graph (a node table and an edge table) or a
graph-level dataset (tables with a graph-id column plus a graph table).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.features import (
    check_no_empty,
    constant_features,
    node_texts,
    split_graphs,
)
from gnnkit.data.scaling import scale_columns
from gnnkit.data.table_io import (
    PathLike,
    Table,
    id_key,
    original_ids,
    read_table,
    to_float,
)
from gnnkit.data.table_labels import label_names, read_targets
from gnnkit.data.table_nodes import NodeIndex
from gnnkit.errors import DataError

__all__ = ["Table", "read_csv_graph", "read_table"]


def read_csv_graph(
    edges: PathLike,
    nodes: PathLike | None = None,
    *,
    graphs: PathLike | None = None,
    source: str = "source",
    target: str = "target",
    weight: str | None = None,
    edge_features: Sequence[str] | None = None,
    node_id: str = "id",
    label: str | None = "label",
    features: str | Sequence[str] | None = "auto",
    scale: bool = True,
    text: str | None = None,
    graph_id: str | None = None,
    directed: bool = False,
    encoding: str = "utf-8",
    missing_text: str = "error",
    allow_empty: bool = False,
    name: str | None = None,
    task: str = "classification",
) -> GraphDataset:
    """Build a graph dataset from an edge table and optional node tables.

    Tables may be ``.csv``, ``.tsv`` or ``.jsonl``, each optionally
    gzipped. ``"NA"``, ``"None"``, ``"null"`` and ``"nan"`` stay words; a
    missing text is an empty or whitespace-only cell (``null`` or absent
    in JSON Lines).

    **Node level** (``graph_id=None``): one graph. Node ids (strings or
    sparse ints) are numbered ``0..N-1`` in node-table order (order of
    first appearance in the edges without a node table) and kept in
    ``node_ids`` as written: ``"007"`` and ``"7"`` are different nodes,
    and ids come back as ints only when every id is a plain integer. A
    node table with an empty edge table gives a graph without edges.
    **Graph level** (``graph_id`` set): node and edge tables carry a
    graph-id column, node ids are looked up within their graph, and the
    ``graphs`` table (graph-id column and ``label``) fixes the order and
    labels of the graphs. Without a graph table, a ``label`` column of the
    node table that is constant within each graph gives the graph labels.

    Undirected graphs (the default) list the given rows, then the reversed
    rows, with exact repeats dropped (a self-loop appears once).
    ``features="auto"`` takes every all-numeric node column except the
    id, label, text and graph-id columns. Without features ``x`` is a
    constant column of ones ``[N, 1]`` (the text room replaces it with
    language-model embeddings). With ``scale=True`` (the default) every
    feature column is z-scored over the file's nodes (a constant column
    becomes 0; a column of only 0s and 1s, such as a one-hot column, is
    kept as is), so a column like ``year`` cannot swamp the others; the
    means and stds are kept in ``meta["feature_scaling"]`` (see
    :mod:`gnnkit.data.scaling`) and saved with a model, so new files are
    scaled the same way. Features, weights and regression labels
    must be finite numbers; a label cell that is blank, ``nan`` (or
    ``NA``/``null``/``None`` among numeric labels) is missing, an error.
    ``meta["label_names"]`` (index = class id) comes from a
    ``label_names.json`` beside the node file.

    Args:
        edges (str or PathLike): the edge table.
        nodes (str or PathLike, optional): the node table.
        graphs (str or PathLike, optional): the graph table.
        source (str): edge column of the source node id.
        target (str): edge column of the target node id.
        weight (str, optional): edge column stored as ``edge_weight``.
        edge_features (list[str], optional): edge columns for
            ``edge_attr``.
        node_id (str): node-table id column.
        label (str, optional): label column (node table at node level,
            graph table at graph level); ``None`` for no labels.
        features ("auto", list[str], str or None): node feature columns.
        scale (bool): z-score the feature columns (default: ``True``);
            ``False`` keeps the values as written.
        text (str, optional): node text column, stored in ``texts``.
        graph_id (str, optional): graph-id column; selects graph level.
        directed (bool): keep edge rows as given (default: ``False``).
        encoding (str): encoding of all tables (default: ``"utf-8"``).
        missing_text (str): ``"error"`` (default) lists the nodes without
            text; ``"empty"`` warns and stores ``""`` for them.
        allow_empty (bool): accept graphs without nodes (graph level).
        name (str, optional): dataset name (default: node file stem).
        task (str): ``"classification"`` (default) or ``"regression"``
            (float labels, ``classes=None``).

    Returns:
        GraphDataset: node-level or graph-level dataset.

    Raises:
        DataError: a file, column, id, value or text problem, located by
            file, line and field.
    """
    _check_choice("task", task, ("classification", "regression"))
    _check_choice("missing_text", missing_text, ("error", "empty"))
    if graphs is not None and graph_id is None:
        raise DataError(
            "a graph table needs graph_id=..., the column naming the "
            "graph of each node and edge (or drop graphs= to read one "
            "graph).",
            path=graphs,
        )
    edge_table = read_table(edges, encoding)
    node_table = None if nodes is None else read_table(nodes, encoding)
    index = NodeIndex.build(
        node_table, edge_table, node_id, graph_id, (source, target)
    )
    parts = _read_edges(
        edge_table, index, (source, target), weight, edge_features, directed
    )
    skipped: dict[str, dict] = {}
    parts["x"], parts["feature_names"], scaling = _node_features(
        node_table, features, {node_id, label, text, graph_id}, scale,
        skipped,
    )
    parts["meta"] = {"source": "table"}
    if skipped:
        parts["meta"]["skipped_features"] = skipped
    if scaling is not None:
        parts["meta"]["feature_scaling"] = scaling.to_dict()
    parts["texts"] = _texts(node_table, text, index, missing_text)
    name = name or _default_name(Path(nodes or edges))
    if graph_id is None:
        return _node_dataset(node_table, label, task, index, name, parts)
    graph_table = (
        read_table(graphs, encoding) if graphs is not None
        else _labels_from_nodes(node_table, label, graph_id)
    )
    return _graph_dataset(
        graph_table, (label, task, allow_empty), index, name, parts
    )


def _default_name(path: Path) -> str:
    """The file stem, or its folder's name for ``nodes``/``edges`` files."""
    stem = path.name.split(".")[0]
    generic = stem.lower() in ("nodes", "edges", "graph", "graphs")
    return path.resolve().parent.name if generic else stem


def _check_choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    """A DataError when ``value`` is not one of ``allowed``."""
    if value not in allowed:
        raise DataError(f"{key} must be one of {list(allowed)} "
                        f"(got {value!r}).")


def _read_edges(table, index, ends, weight, edge_features, directed):
    """Edge index, weights and features; both directions if undirected."""
    src = index.locate(table, ends[0], "source")
    dst = index.locate(table, ends[1], "target")
    extra = [table.numbers(weight, "edge weight")] if weight else []
    extra += [table.numbers(c, "edge feature") for c in edge_features or []]
    rows = np.column_stack([src, dst, *extra])  # [E, 2 + extra]
    if not directed:
        flipped = rows.copy()
        flipped[:, [0, 1]] = rows[:, [1, 0]]
        rows = pd.DataFrame(np.concatenate([rows, flipped]))
        rows = rows.drop_duplicates().to_numpy()
    rest = torch.tensor(rows[:, 2:], dtype=torch.float32)
    return {
        "edge_index": torch.tensor(rows[:, :2].T, dtype=torch.long),
        "edge_weight": rest[:, 0] if weight else None,
        "edge_attr": rest[:, int(bool(weight)):] if edge_features else None,
    }


def _node_features(table, features, exclude, scale, skipped):
    """Numeric node columns as ``x`` (``None`` when there are none), their
    names and the scaling applied (``None`` when unscaled); ``skipped``
    gets where each mostly numeric column left out holds a non-number."""
    if table is None or features is None:
        return None, ["constant"], None
    if features == "auto":
        features = [
            c for c in table.frame.columns
            if c not in exclude and _numeric_column(table, c, skipped)
        ]
    features = [features] if isinstance(features, str) else list(features)
    repeated = [c for i, c in enumerate(features) if c in features[:i]]
    if repeated:
        table.fail(f"feature column {repeated[0]!r} is named twice in "
                   "features=[...].", None, repeated[0])
    if not features:
        return None, ["constant"], None
    values = np.column_stack([_float32_numbers(table, c) for c in features])
    scaling = None
    if scale:
        values, scaling = scale_columns(values, list(features))
    x = torch.as_tensor(values, dtype=torch.float32)
    return x, list(features), scaling


def _float32_numbers(table: Table, column: str) -> np.ndarray:
    """Feature column ``column`` as floats a float32 tensor can hold."""
    values = table.numbers(column, "feature")
    big = np.abs(values) > np.finfo(np.float32).max
    if big.any():
        row = int(np.argmax(big))
        table.fail(
            f"feature value {table.frame[column].iloc[row]!r} is too large;"
            " features are stored as 32-bit floats (at most about 3.4e38 "
            "in size).", row, column,
        )
    return values


def _numeric_column(table: Table, column: str,
                    skipped: dict[str, dict]) -> bool:
    """True when every cell of ``column`` is a number.

    A mostly numeric column with a stray word is left out with a warning
    naming the line, since it is more likely a typo than a text column.
    ``skipped`` gets the first non-number cell of any column left out.
    """
    cells = table.frame[column]
    if len(cells) and all(isinstance(v, list) for v in cells):
        warnings.warn(
            f"{table.path.name}: column {column!r} holds lists; a feature "
            "column holds one number per cell, so it is not used. Spread "
            "the list over one column per entry.",
            stacklevel=5,
        )
    numeric = ~np.isnan(to_float(cells))
    row = int(np.argmax(~numeric)) if len(numeric) else 0
    if len(numeric) and not numeric.all():
        skipped[str(column)] = {
            "path": str(table.path), "line": int(table.lines[row]),
            "value": str(table.frame[column].iloc[row])[:40]}
    if 0.5 < numeric.mean() < 1:
        warnings.warn(
            f"{table.path.name}: column {column!r} is mostly numeric but line "
            f"{table.lines[row]} holds {table.frame[column].iloc[row]!r}; it "
            "is not used as a feature. Fix the value or pass features=[...].",
            stacklevel=5,
        )
    return bool(numeric.all()) and len(numeric) > 0


def _texts(table, column, index, missing_text):
    """Text of each node, with the missing-text policy applied."""
    if column is None:
        return None
    if table is None:
        raise DataError(f"text={column!r} needs a node table (nodes=...).")
    values = table.column(column, "text").tolist()
    return node_texts(
        values, index.ids, missing_text, table.path, column, stacklevel=3
    )


def _node_dataset(table, label, task, index, name, parts):
    """One graph whose ``y`` has an entry per node."""
    num_nodes = len(index.ids)
    graph = Data(
        x=constant_features(num_nodes) if parts["x"] is None else parts["x"],
        edge_index=parts["edge_index"], num_nodes=num_nodes,
    )
    for key in ("edge_weight", "edge_attr"):
        if parts[key] is not None:
            graph[key] = parts[key]
    classes, meta = None, parts["meta"]
    if table is not None and label is not None:
        graph.y, classes = read_targets(table, label, task)
        meta.update(label_names(table, classes))
    return GraphDataset(
        graphs=[graph], level="node", name=name, classes=classes,
        node_ids=[index.ids],
        texts=None if parts["texts"] is None else [parts["texts"]],
        feature_names=parts["feature_names"], meta=meta,
    )


def _graph_dataset(table, options, index, name, parts):
    """One ``Data`` per graph, in graph-table order."""
    label, task, allow_empty = options
    graph_ids = _graph_order(table, index)
    lookup = {g: i for i, g in enumerate(graph_ids)}
    node_graph = np.asarray([lookup[g] for g in index.graphs], dtype=np.int64)
    x = parts["x"]
    graphs, order = split_graphs(
        node_graph, parts["edge_index"].numpy(), len(graph_ids),
        x=constant_features(len(node_graph)) if x is None else x,
        edge_attr=parts["edge_attr"], edge_weight=parts["edge_weight"],
    )
    check_no_empty(graphs, lambda i: f"{graph_ids[i]} (index {i})",
                   allow_empty, None if table is None else table.path)
    classes = None
    if table is not None and label is not None:
        y, classes = read_targets(table, label, task)
        for graph, target in zip(graphs, y):
            graph.y = target.view(1)
    cuts = np.cumsum([0] + [g.num_nodes for g in graphs]).tolist()
    per_graph = [order[a:b] for a, b in zip(cuts, cuts[1:])]
    texts = parts["texts"]
    return GraphDataset(
        graphs=graphs, level="graph", name=name, classes=classes,
        graph_ids=original_ids(graph_ids),
        node_ids=[[index.ids[i] for i in idx] for idx in per_graph],
        texts=texts and [[texts[i] for i in idx] for idx in per_graph],
        feature_names=parts["feature_names"], meta=parts["meta"],
    )


def _labels_from_nodes(nodes: Table | None, label: str | None,
                       graph_id: str) -> Table | None:
    """A graph table taken from a node table whose label is per graph.

    Each graph's label is the label of its nodes, which must agree; the
    graphs come in order of first appearance.
    """
    if nodes is None or label is None or label not in nodes.frame.columns:
        return None
    graphs = nodes.keys(graph_id, "graph id")
    labels = [id_key(v) for v in nodes.frame[label]]
    first: dict[str, int] = {}
    for row, (graph, value) in enumerate(zip(graphs, labels)):
        start = first.setdefault(graph, row)
        if labels[start] != value:
            nodes.fail(
                f"graph {graph!r} has nodes labelled {labels[start]!r} (line "
                f"{nodes.lines[start]}) and {value!r}; without a graph table "
                "(graphs=...) every node of a graph must carry the graph's "
                "label. Pass graphs=... or label=None.", row, label,
            )
    rows = list(first.values())
    frame = nodes.frame.iloc[rows].reset_index(drop=True)
    return Table(frame, nodes.path, nodes.lines[rows])


def _graph_order(table: Table | None, index: NodeIndex) -> list[str]:
    """Graph ids from the graph table, or in node order without one."""
    used = list(dict.fromkeys(index.graphs))
    if table is None:
        return used
    ids = table.keys(index.graph_column, "graph id")
    dup = pd.Index(ids).duplicated()
    if dup.any():
        row = int(np.argmax(dup))
        table.fail(f"duplicate graph id {ids[row]!r}.", row,
                   index.graph_column)
    unknown = sorted(set(used) - set(ids))
    if unknown:
        table.fail(f"graph id(s) {unknown[:10]} used by the node table are "
                   "not in the graph table.", None, index.graph_column)
    return ids
