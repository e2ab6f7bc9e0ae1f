"""Read a list of small graphs from one JSON file.

The format: ``{"graphs": [{"id": "G0", "num_nodes": 3, "x": [[...], ...],
"edges": [[0, 1], ...], "y": 1}, ...]}`` (a bare list of graphs also
works). ``x``, ``edges`` and ``y`` are optional per file, not per graph.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.decoding import decode_file
from gnnkit.data.features import (
    check_no_empty,
    constant_features,
    encode_labels,
    typed_labels,
)
from gnnkit.errors import DataError


def read_json_graphs(
    path: str | os.PathLike,
    *,
    allow_empty: bool = False,
    encoding: str = "utf-8",
) -> GraphDataset:
    """Read graph-level data from a JSON file of graphs.

    Each graph has an ``id``, ``num_nodes``, node features ``x`` (a list
    of rows, all of one width; ``[]`` for an empty graph), ``edges`` (a
    list of ``[source, target]`` pairs of 0-based node indices, kept as
    directed rows) and a label ``y``. Labels are re-indexed to
    ``0..C-1`` in sorted order (``classes`` keeps the raw values); float
    labels that are not whole numbers make a regression dataset. Without
    ``x`` a graph gets a constant column of ones.

    Args:
        path (str or PathLike): the JSON file.
        allow_empty (bool): keep graphs with no nodes; they get ``x`` of
            shape ``[0, F]`` and ``edge_index`` of shape ``[2, 0]``
            (default: ``False``: a :class:`DataError` names the graph).
        encoding (str): text encoding (default: ``"utf-8"``).

    Returns:
        GraphDataset: graph-level dataset named after the file.

    Raises:
        DataError: bad JSON, a missing or inconsistent field, an edge
            naming a node outside ``0..num_nodes-1``, or an empty graph.
    """
    path = Path(path)
    records = _records(path, encoding)
    _check_ids(records, path)
    width = _feature_width(records, path)
    graphs = [_graph(r, i, width, path) for i, r in enumerate(records)]
    names = [str(r.get("id", i)) for i, r in enumerate(records)]
    check_no_empty(
        graphs, lambda i: f"{names[i]} (index {i})", allow_empty, path
    )
    classes = _attach_labels(graphs, records, path)
    return GraphDataset(
        graphs=graphs,
        level="graph",
        name=path.name.split(".")[0],
        classes=classes,
        graph_ids=[r.get("id", i) for i, r in enumerate(records)],
        feature_names=[f"x{j}" for j in range(width)] if width else
        ["constant"],
        meta={"source": "json", "path": str(path)},
    )


def _records(path: Path, encoding: str) -> list[dict[str, Any]]:
    """The list of graph objects in the file."""
    try:
        content = json.loads(decode_file(path, encoding))
    except json.JSONDecodeError as err:
        raise DataError(
            f"not valid JSON ({err.msg}, column {err.colno}).",
            path=path,
            line=err.lineno,
        ) from None
    if isinstance(content, dict):
        content = content.get("graphs")
    if not isinstance(content, list) or not all(
        isinstance(r, dict) for r in content
    ):
        raise DataError(
            'expected {"graphs": [{...}, ...]} or a list of graph objects.',
            path=path,
            field="graphs",
        )
    if not content:
        raise DataError("the file holds no graphs.", path=path,
                        field="graphs")
    return content


def _check_ids(records: list[dict], path: Path) -> None:
    """Graph ids must be unique: predictions are reported by them."""
    seen: dict[Any, int] = {}
    for index, record in enumerate(records):
        key = record.get("id", index)
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise DataError(
                f"graph at index {index} has id {key!r}; an id is a string "
                "or an integer.", path=path, field="id",
            )
        if key in seen:
            raise DataError(
                f"graph id {key!r} is used by the graphs at index "
                f"{seen[key]} and {index}; give every graph its own id.",
                path=path, field="id",
            )
        seen[key] = index


def _feature_width(records: list[dict], path: Path) -> int:
    """Width of ``x`` (0 when no graph has features)."""
    widths = {
        len(row) for r in records for row in (r.get("x") or [])
        if isinstance(row, list)
    }
    if len(widths) > 1:
        raise DataError(
            f"rows of x have different lengths {sorted(widths)}; every "
            "node needs the same number of features.",
            path=path,
            field="x",
        )
    width = widths.pop() if widths else 0
    bare = [i for i, r in enumerate(records) if r.get("x") is None]
    if width and bare:
        index = bare[0]
        raise DataError(
            f"graph {records[index].get('id', index)} (index {index}) has "
            "no x while others do; give every graph x (or none of them).",
            path=path,
            field="x",
        )
    return width


def _graph(record: dict, index: int, width: int, path: Path) -> Data:
    """One ``Data`` from a graph object, with its fields checked."""
    where = f"graph {record.get('id', index)} (index {index})"
    num_nodes = _num_nodes(record, where, path)
    x = record.get("x")
    if x is None or width == 0:
        x = constant_features(num_nodes)
    else:
        x = _array(x, (num_nodes, width), "x", where, path, np.float32)
        x = torch.from_numpy(x.reshape(num_nodes, width))
    edges = record.get("edges") or []
    edge_index = _array(edges, (len(edges), 2), "edges", where, path,
                        np.int64).reshape(-1, 2).T
    bad = (edge_index < 0) | (edge_index >= num_nodes)  # [2, E]
    if bad.any():
        row = int(np.argmax(bad.any(axis=0)))
        raise DataError(
            f"{where}: edge {edges[row]} names a node outside "
            f"0..{num_nodes - 1}.",
            path=path,
            field="edges",
        )
    return Data(
        x=x,
        edge_index=torch.from_numpy(np.ascontiguousarray(edge_index)),
        num_nodes=num_nodes,
    )


def _num_nodes(record: dict, where: str, path: Path) -> int:
    """``num_nodes``, or the length of ``x`` when it is absent."""
    value = record.get("num_nodes", len(record.get("x") or []))
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DataError(
            f"{where}: num_nodes must be a whole number >= 0 (got "
            f"{value!r}).",
            path=path,
            field="num_nodes",
        )
    return value


def _array(values, shape, field, where, path, dtype) -> np.ndarray:
    """``values`` as an array of ``shape``; a DataError otherwise.

    Floats must be finite; integers (node indices) must be whole numbers.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        array = None
    if array is None or (array.size and array.shape != shape):
        got = "non-numeric values" if array is None else list(array.shape)
        raise DataError(
            f"{where}: {field} should have shape {list(shape)} (got {got}).",
            path=path,
            field=field,
        )
    bad = ~np.isfinite(array)
    if dtype == np.int64:
        bad |= (array != np.round(array)) | (np.abs(array) > 2**53)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        kind = "whole node indices" if dtype == np.int64 else \
            "finite numbers"
        raise DataError(
            f"{where}: row {row} of {field} ({values[row]!r}) must hold "
            f"{kind} (no NaN, null or infinity).",
            path=path,
            field=field,
        )
    return array.astype(dtype)


def _attach_labels(
    graphs: list[Data], records: list[dict], path: Path
) -> list | None:
    """Set ``y`` on every graph; returns the classes (None: regression).

    Numeric labels with any non-whole value are regression targets.
    """
    values = [_label(r, i, path) for i, r in enumerate(records)]
    if all(v is None for v in values):
        return None
    if any(v is None for v in values):
        index = values.index(None)
        raise DataError(
            f"graph {records[index].get('id', index)} (index {index}) has "
            "no y while others do.",
            path=path,
            field="y",
        )
    labels = typed_labels(values)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool)
           for v in labels) and any(isinstance(v, float) for v in labels):
        _warn_if_classes(labels, records, path)
        for graph, value in zip(graphs, labels):
            graph.y = torch.tensor([float(value)], dtype=torch.float32)
        return None
    y, classes = encode_labels(labels)
    for graph, target in zip(graphs, torch.from_numpy(y)):
        graph.y = target.view(1)
    return classes


def _warn_if_classes(labels: list, records: list[dict], path: Path) -> None:
    """Warn when a few non-whole labels turn what looks like class labels
    (at least 90 % whole numbers, at most 20 distinct) into regression."""
    whole = [float(v).is_integer() for v in labels]
    if sum(whole) < 0.9 * len(labels) or \
            len({v for v, w in zip(labels, whole) if w}) > 20:
        return
    index = whole.index(False)
    warnings.warn(
        f"{path}: y is read as a regression target because graph "
        f"{records[index].get('id', index)} (index {index}) has y="
        f"{labels[index]!r} while {sum(whole)} of {len(labels)} labels are "
        "whole numbers; if they are classes, correct that value.",
        UserWarning, stacklevel=4,
    )


def _label(record: dict, index: int, path: Path) -> Any:
    """The ``y`` of one graph: a number, string or bool (or ``None``).

    A one-element list such as ``[1]`` is unwrapped; NaN, infinity,
    longer lists and objects are errors.
    """
    value = record.get("y")
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float) and np.isfinite(value):
        return value
    raise DataError(
        f"graph {record.get('id', index)} (index {index}) has y="
        f"{record.get('y')!r}; y must be one class label or one finite "
        "number (leave y out for unlabelled graphs).",
        path=path,
        field="y",
    )
