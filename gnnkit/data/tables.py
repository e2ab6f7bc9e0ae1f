"""Build graphs from edge and node tables (CSV, TSV or JSON Lines).

One call gives a node-level graph (one node table, one edge table) or a
graph-level dataset (tables with a graph-id column plus a graph table).
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.features import (
    INT_TEXT,
    check_no_empty,
    constant_features,
    encode_labels,
    node_texts,
    split_graphs,
    typed_labels,
)
from gnnkit.errors import DataError

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike


@dataclass
class Table:
    """A table read as text, with the file line of every row.

    Args:
        frame (pd.DataFrame): cells as ``str`` (CSV/TSV) or as JSON values.
        path (Path): the file it came from.
        lines (np.ndarray): 1-based file line of each row.
    """

    frame: pd.DataFrame
    path: Path
    lines: np.ndarray

    def column(self, name: str, role: str) -> pd.Series:
        """The column ``name``; a DataError lists the columns present."""
        if name not in self.frame.columns:
            raise DataError(
                f"no {role} column {name!r}; the columns are "
                f"{list(map(str, self.frame.columns))}. Pass "
                f"the right column name (or None where that is allowed).",
                path=self.path,
                field=name,
            )
        return self.frame[name]

    def numbers(self, name: str, role: str) -> np.ndarray:
        """Column ``name`` as floats; a DataError names a bad cell."""
        raw = self.column(name, role)
        values = pd.to_numeric(raw.map(_blank_to_none), errors="coerce")
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(values)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"{role} value {raw.iloc[row]!r} is not a number.",
                path=self.path,
                line=int(self.lines[row]),
                field=name,
            )
        return values


def read_table(path: PathLike, encoding: str = "utf-8") -> Table:
    """Read a ``.csv``, ``.tsv`` or ``.jsonl`` file (optionally ``.gz``).

    CSV/TSV cells are kept as text: nothing is turned into NaN, so words
    such as ``"NA"`` or ``"None"`` survive. A decoding error names the
    line, the byte and its offset and suggests another ``encoding``.

    Args:
        path (str or PathLike): the table file.
        encoding (str): text encoding (default: ``"utf-8"``).

    Returns:
        Table: the rows with their file lines.
    """
    path = Path(path)
    text = _decode(path, encoding)
    kind = path.name.lower().removesuffix(".gz")
    if kind.endswith(".jsonl"):
        return _jsonl_table(text, path)
    if not kind.endswith((".csv", ".tsv")):
        raise DataError(
            "unsupported table type; use .csv, .tsv or .jsonl (optionally "
            ".gz).",
            path=path,
        )
    sep = "\t" if kind.endswith(".tsv") else ","
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
            na_filter=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        found = re.search(r"line (\d+)", str(err))
        raise DataError(
            f"cannot parse the table ({err}).",
            path=path,
            line=int(found.group(1)) if found else None,
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return Table(frame, path, np.arange(len(frame)) + 2)


def _decode(path: Path, encoding: str) -> str:
    """File contents as text, with a located error for bad bytes."""
    if not path.is_file():
        raise DataError("file not found.", path=path)
    payload = path.read_bytes()
    if path.suffix.lower() == ".gz":
        payload = gzip.decompress(payload)
    try:
        return payload.decode(encoding)
    except UnicodeDecodeError as err:
        byte = payload[err.start]
        line = payload.count(b"\n", 0, err.start) + 1
        raise DataError(
            f"byte 0x{byte:02X} at file offset {err.start} is not valid "
            f"{encoding}; the file is probably Latin-1 or Windows-1252: pass "
            "encoding='latin-1' or encoding='cp1252'.",
            path=path,
            line=line,
        ) from None


def _jsonl_table(text: str, path: Path) -> Table:
    """Parse JSON Lines; absent keys become ``None``."""
    rows, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(
                f"not valid JSON ({err.msg}).", path=path, line=number
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                "each line must be a JSON object.", path=path, line=number
            )
        rows.append(record)
        lines.append(number)
    frame = pd.DataFrame.from_records(rows).astype(object)
    frame = frame.where(frame.notna(), None)
    return Table(frame, path, np.asarray(lines, dtype=np.int64))


def _blank_to_none(value: Any) -> Any:
    """Empty or whitespace cells as ``None``."""
    return None if isinstance(value, str) and not value.strip() else value


def _keys(series: pd.Series) -> list[str]:
    """Ids as comparable strings (``3``, ``3.0`` and ``"3"`` agree)."""
    out = []
    for value in series:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out.append("" if value is None else str(value).strip())
    return out


def _original_ids(keys: Sequence[str]) -> list[Any]:
    """Ids as ints when all are whole numbers, else as strings."""
    if all(INT_TEXT.fullmatch(k) for k in keys):
        return [int(k) for k in keys]
    return list(keys)


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
    gzipped. Cells are read as text, so ``"NA"``, ``"None"``, ``"null"``
    and ``"nan"`` stay words; a missing text is an empty or
    whitespace-only cell (or ``null``/absent in JSON Lines).

    **Node level** (``graph_id=None``): one graph. Node ids (strings or
    sparse ints) are numbered ``0..N-1`` in node-table order (edge order of
    first appearance without a node table) and kept in ``node_ids``.
    **Graph level** (``graph_id`` set): node and edge tables carry a
    graph-id column, node ids are looked up within their graph, and the
    ``graphs`` table gives each graph's ``label``; one ``Data`` per graph,
    in ``graphs``-table order.

    Undirected graphs (the default) get every edge in both directions:
    the given rows, then the reversed rows, with exact repeats dropped
    (so a self-loop appears once). ``directed=True`` keeps the rows.

    ``features="auto"`` takes every numeric node column other than the
    id, label, text and graph-id columns. Without features, ``x`` is a
    constant column of ones ``[N, 1]`` (the text room replaces it with
    language-model embeddings). ``meta["label_names"]`` (index = class
    id) comes from a ``label_names.json`` beside the node file.

    Args:
        edges (str or PathLike): the edge table.
        nodes (str or PathLike, optional): the node table.
        graphs (str or PathLike, optional): the graph table (graph level).
        source (str): edge column of the source node id.
        target (str): edge column of the target node id.
        weight (str, optional): edge column stored as ``edge_weight``.
        edge_features (list[str], optional): edge columns for
            ``edge_attr``.
        node_id (str): node (and graph-table) id column name of nodes.
        label (str, optional): label column of the node table (node
            level) or graph table (graph level); ``None`` for no labels.
        features ("auto", list[str] or None): node feature columns.
        text (str, optional): node text column, stored in ``texts``.
        graph_id (str, optional): graph-id column; switches to graph level.
        directed (bool): keep edge rows as given (default: ``False``).
        encoding (str): text encoding of all tables (default: UTF-8).
        missing_text (str): ``"error"`` (default) or ``"empty"``.
        allow_empty (bool): accept graphs without nodes (graph level).
        name (str, optional): dataset name (default: the node file stem).
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
    edge_table = read_table(edges, encoding)
    node_table = None if nodes is None else read_table(nodes, encoding)
    nodes_of = _NodeIndex.build(
        node_table, edge_table, node_id, graph_id, source, target
    )
    edge_index, edge_weight, edge_attr = _read_edges(
        edge_table, nodes_of, source, target, weight, edge_features,
        graph_id, directed,
    )
    x, names = _node_features(
        node_table, features, {node_id, label, text, graph_id}
    )
    texts = None
    if text is not None:
        texts = _texts(node_table, text, nodes_of, missing_text)
    name = name or Path(nodes or edges).name.split(".")[0]
    parts = dict(x=x, edge_index=edge_index, edge_weight=edge_weight,
                 edge_attr=edge_attr, texts=texts, feature_names=names)
    if graph_id is None:
        return _node_dataset(node_table, label, task, nodes_of, name, parts)
    graph_table = None if graphs is None else read_table(graphs, encoding)
    return _graph_dataset(
        graph_table, label, task, nodes_of, name, parts, allow_empty
    )


def _check_choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    """A DataError when ``value`` is not one of ``allowed``."""
    if value not in allowed:
        raise DataError(
            f"{key} must be one of {list(allowed)} (got {value!r})."
        )


@dataclass
class _NodeIndex:
    """Node keys (graph id + node id) numbered in table order."""

    index: pd.Index
    ids: list[Any]
    graph_keys: list[str] | None

    @classmethod
    def build(cls, nodes, edges, node_id, graph_id, source, target):
        """Number the nodes of ``nodes`` (or of ``edges`` without it)."""
        if nodes is None:
            return cls._from_edges(edges, graph_id, source, target)
        ids = _keys(nodes.column(node_id, "node id"))
        graphs = None
        if graph_id is not None:
            graphs = _keys(nodes.column(graph_id, "graph id"))
        keys = _compose(graphs, ids)
        _check_ids(nodes, ids, keys, node_id)
        return cls(pd.Index(keys), _original_ids(ids), graphs)

    @classmethod
    def _from_edges(cls, edges, graph_id, source, target):
        """Nodes in order of first appearance in the edge table."""
        ends = [_keys(edges.column(c, c)) for c in (source, target)]
        pairs = np.column_stack(ends).ravel().tolist()
        graphs = [""] * len(pairs)
        if graph_id is not None:
            graphs = np.repeat(_keys(edges.column(graph_id, "graph id")), 2)
        seen = list(dict.fromkeys(zip(graphs, pairs)))
        ids = [p[1] for p in seen]
        graph_keys = None if graph_id is None else [p[0] for p in seen]
        keys = _compose(graph_keys, ids)
        return cls(pd.Index(keys), _original_ids(ids), graph_keys)

    def locate(self, table, graph_id, column, role) -> np.ndarray:
        """Node numbers of the ids in ``column``; unknown ids fail."""
        ids = _keys(table.column(column, role))
        graphs = None
        if graph_id is not None:
            graphs = _keys(table.column(graph_id, "graph id"))
        found = self.index.get_indexer(_compose(graphs, ids))
        if (found < 0).any():
            row = int(np.argmax(found < 0))
            where = "" if graphs is None else f" in graph {graphs[row]!r}"
            raise DataError(
                f"{role} node {ids[row]!r}{where} is not in the node table; "
                "add it to the node table or remove the edge.",
                path=table.path,
                line=int(table.lines[row]),
                field=column,
            )
        return found


def _compose(graphs: list[str] | None, ids: list[str]) -> list[str]:
    """Lookup keys: the node id, prefixed by its graph id if any."""
    if graphs is None:
        return ids
    return [f"{g}\x1f{i}" for g, i in zip(graphs, ids)]


def _check_ids(table: Table, ids: list[str], keys: list[str], field: str):
    """Empty and duplicate node ids are errors naming their lines."""
    if "" in ids:
        row = ids.index("")
        raise DataError(
            "node id is empty.", path=table.path,
            line=int(table.lines[row]), field=field,
        )
    dup = pd.Index(keys).duplicated()
    if dup.any():
        row = int(np.argmax(dup))
        first = keys.index(keys[row])
        raise DataError(
            f"duplicate node id {ids[row]!r} on lines "
            f"{table.lines[first]} and {table.lines[row]}; node ids must "
            "be unique" + (" within a graph." if ids != keys else "."),
            path=table.path,
            field=field,
        )


def _read_edges(
    table, nodes_of, source, target, weight, edge_features, graph_id,
    directed,
):
    """Edge index, weights and features; both directions if undirected."""
    src = nodes_of.locate(table, graph_id, source, "source")
    dst = nodes_of.locate(table, graph_id, target, "target")
    columns = [table.numbers(weight, "edge weight")] if weight else []
    columns += [table.numbers(c, "edge feature") for c in edge_features or []]
    rows = np.column_stack([src, dst] + columns) if len(src) else np.zeros(
        (0, 2 + len(columns))
    )
    if not directed:
        flipped = rows.copy()
        flipped[:, [0, 1]] = rows[:, [1, 0]]
        rows = pd.DataFrame(np.concatenate([rows, flipped]))
        rows = rows.drop_duplicates().to_numpy()
    edge_index = torch.as_tensor(rows[:, :2].T.astype(np.int64))
    rest = torch.as_tensor(rows[:, 2:], dtype=torch.float32)
    edge_weight = rest[:, 0] if weight else None
    edge_attr = rest[:, 1 if weight else 0:] if edge_features else None
    return edge_index, edge_weight, edge_attr


def _node_features(table, features, exclude):
    """Numeric node columns as ``x`` (ones when there are none)."""
    if table is None or features is None:
        return None, ["constant"]
    if features == "auto":
        features = [
            c for c in table.frame.columns
            if c not in exclude and _numeric_column(table, c)
        ]
    if not features:
        return None, ["constant"]
    values = [table.numbers(c, "feature") for c in features]
    return torch.as_tensor(np.column_stack(values), dtype=torch.float32), list(
        features
    )


def _numeric_column(table: Table, column: str) -> bool:
    """True when every cell of ``column`` is a number."""
    cells = table.frame[column].map(_blank_to_none)
    values = pd.to_numeric(cells, errors="coerce")
    numeric = values.notna()
    if 0 < numeric.sum() < len(values) and numeric.mean() > 0.5:
        row = int(np.argmax(~numeric.to_numpy()))
        warnings.warn(
            f"{table.path.name}: column {column!r} is mostly numeric but "
            f"line {table.lines[row]} holds {cells.iloc[row]!r}; it is not "
            "used as a feature. Fix the value or list features= explicitly.",
            stacklevel=5,
        )
    return bool(numeric.all()) and len(values) > 0


def _texts(table, column, nodes_of, missing_text):
    """Text of each node, with the missing-text policy applied."""
    if table is None:
        raise DataError(
            f"text={column!r} needs a node table (nodes=...)."
        )
    values = table.column(column, "text").tolist()
    return node_texts(
        values, nodes_of.ids, missing_text, path=table.path, field=column
    )


def _targets(table, column, task):
    """Labels of a node or graph table as ``(y, classes)``."""
    values = table.column(column, "label")
    if task == "regression":
        return torch.as_tensor(table.numbers(column, "label"),
                               dtype=torch.float32), None
    blank = values.map(lambda v: _blank_to_none(v) is None).to_numpy()
    if blank.any():
        row = int(np.argmax(blank))
        raise DataError(
            "label is missing; every row needs a label (or pass "
            "label=None).",
            path=table.path, line=int(table.lines[row]), field=column,
        )
    y, classes = encode_labels(typed_labels(values.tolist()))
    return torch.from_numpy(y), classes


def _label_names(path: Path, classes) -> list[str] | None:
    """Names from ``label_names.json`` beside ``path``, per class id."""
    names_file = path.parent / "label_names.json"
    if classes is None or not names_file.is_file():
        return None
    names = json.loads(names_file.read_text(encoding="utf-8"))
    return [str(names.get(str(c), c)) for c in classes]


def _node_dataset(table, label, task, nodes_of, name, parts):
    """One graph whose ``y`` has an entry per node."""
    num_nodes = len(nodes_of.ids)
    x = parts["x"] if parts["x"] is not None else constant_features(num_nodes)
    graph = torch_geometric_data(x, parts)
    classes = None
    if table is not None and label is not None:
        graph.y, classes = _targets(table, label, task)
    meta = {"source": "table"}
    if table is not None and _label_names(table.path, classes):
        meta["label_names"] = _label_names(table.path, classes)
    return GraphDataset(
        graphs=[graph], level="node", name=name, classes=classes,
        node_ids=[nodes_of.ids],
        texts=None if parts["texts"] is None else [parts["texts"]],
        feature_names=parts["feature_names"], meta=meta,
    )
