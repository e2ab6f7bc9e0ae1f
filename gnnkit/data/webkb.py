"""WebKB university web pages as text-attributed node graphs.

Each row of a source CSV (``Cornell.csv.gz`` and so on) is a page: its
text (``raw_text``), its ``category`` and the ``node_id`` list of the pages
it links to (``neighbor_ids``, written as a Python list). Classes are the
category names, so a class id means the same thing in every university
(the files' own ``label`` integers do not).
"""

from __future__ import annotations

import ast
import os
from typing import Any

import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, to_undirected

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.features import constant_features, encode_labels, node_texts
from gnnkit.data.table_io import read_table
from gnnkit.errors import DataError

NEIGHBOURS = "neighbor_ids"


def read_webkb(
    path: str | os.PathLike,
    *,
    directed: bool = False,
    missing_text: str = "error",
) -> GraphDataset:
    """Read one WebKB university as a node-level graph.

    Args:
        path (str or PathLike): the university's CSV (optionally ``.gz``).
        directed (bool): keep hyperlinks one-way (default: both ways).
        missing_text (str): ``"error"`` or ``"empty"`` for a page without
            text, as in :func:`~gnnkit.data.features.node_texts`.

    Returns:
        GraphDataset: pages with their texts, original ``node_id`` values
        as node ids, category names as classes and a constant feature.

    Raises:
        DataError: naming the file, line and field of a missing column, a
            repeated node id, an unreadable neighbour list or a link to a
            page that is not in the file.
    """
    table = read_table(path)
    if not len(table.frame):
        raise DataError("the file has a header but no pages.",
                        path=table.path)
    ids = [_integer(v, table, i, "node_id") for i, v in
           enumerate(table.column("node_id", "node id"))]
    position = _positions(ids, table)
    edges = [
        (i, _target(t, position, table, i))
        for i, cell in enumerate(table.column(NEIGHBOURS, "neighbour list"))
        for t in _neighbours(cell, table, i)
    ]
    n = len(ids)
    edge_index = torch.tensor(edges, dtype=torch.long).view(-1, 2).t()
    edge_index = coalesce(edge_index if directed
                          else to_undirected(edge_index, num_nodes=n),
                          num_nodes=n)
    y, classes = encode_labels(_categories(table))
    texts = node_texts(list(table.column("raw_text", "text")), ids,
                       missing_text, path=table.path, field="raw_text")
    graph = Data(x=constant_features(n), edge_index=edge_index,
                 y=torch.as_tensor(y))
    name = table.path.name.split(".")[0]
    return GraphDataset([graph], level="node", name=f"WebKB_{name}",
                        classes=classes, node_ids=[ids], texts=[texts],
                        feature_names=["constant"],
                        meta={"source": str(table.path)})


def _categories(table) -> list[str]:
    """The ``category`` of every page; a blank one is an error."""
    values = [str(v).strip() for v in table.column("category", "label")]
    if "" in values:
        raise _problem(table, values.index(""), "category",
                       "the page has no category.")
    return values


def _problem(table, row: int, field: str, message: str) -> DataError:
    return DataError(message, path=table.path, line=int(table.lines[row]),
                     field=field)


def _integer(value: Any, table, row: int, field: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise _problem(table, row, field,
                       f"{value!r} is not an integer node id.") from None


def _positions(ids: list[int], table) -> dict[int, int]:
    seen: dict[int, int] = {}
    for row, node in enumerate(ids):
        if node in seen:
            raise _problem(table, row, "node_id",
                           f"node id {node} repeats the id of line "
                           f"{int(table.lines[seen[node]])}.")
        seen[node] = row
    return seen


def _neighbours(cell: Any, table, row: int) -> list[Any]:
    try:
        value = ast.literal_eval(str(cell).strip() or "[]")
    except (ValueError, SyntaxError):
        value = None
    if not isinstance(value, (list, tuple)):
        raise _problem(table, row, NEIGHBOURS,
                       f"{str(cell)[:40]!r} is not a list of node ids such "
                       "as [3, 17].")
    return list(value)


def _target(value: Any, position: dict[int, int], table, row: int) -> int:
    node = _integer(value, table, row, NEIGHBOURS)
    if node not in position:
        raise _problem(table, row, NEIGHBOURS,
                       f"links to node {node}, which is not in the file.")
    return position[node]
