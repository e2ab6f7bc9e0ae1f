"""Node ids of edge and node tables: numbering and lookup.

Ids are compared as written (``"007"`` and ``"7"`` are two nodes); unknown,
empty and duplicate ids raise a DataError naming the file, line and column
with a hint when the same id is written differently elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gnnkit.data.table_io import Table, original_ids


@dataclass
class NodeIndex:
    """Node keys (graph id + node id) numbered in table order."""

    index: pd.Index
    ids: list[Any]
    graphs: list[str] | None
    graph_column: str | None

    @classmethod
    def build(cls, nodes, edges, node_id, graph_id, ends) -> "NodeIndex":
        """Number the nodes of ``nodes`` (or of ``edges`` without it)."""
        if nodes is None:
            ids, graphs = _edge_node_ids(edges, graph_id, ends)
        else:
            if not len(nodes.frame):
                nodes.fail("the node table has a header but no rows; add "
                           "one row per node.", None, None)
            ids = nodes.keys(node_id, "node id")
            graphs = graph_id and _graph_keys(nodes, graph_id)
        keys = _compose(graphs, ids)
        if nodes is not None:
            _check_ids(nodes, ids, keys, node_id)
        return cls(pd.Index(keys), original_ids(ids), graphs, graph_id)

    def locate(self, table: Table, column: str, role: str) -> np.ndarray:
        """Node numbers of the ids in ``column``; unknown ids fail."""
        ids = table.keys(column, role)
        graphs = self.graph_column and table.keys(self.graph_column, "graph")
        found = self.index.get_indexer(_compose(graphs, ids))
        if (found < 0).any():
            row = int(np.argmax(found < 0))
            if ids[row] == "":
                table.fail(f"{role} node id is empty; every edge needs a "
                           "source and a target.", row, column)
            graph = graphs[row] if graphs else None
            where = "" if graph is None else f" in graph {graph!r}"
            table.fail(
                f"{role} node {ids[row]!r}{where} is not in the node table; "
                "add it to the node table or remove the edge."
                f"{self._near(ids[row], graph)}", row, column,
            )
        return found

    def _near(self, key: str, graph: str | None) -> str:
        """A hint: the id is in another graph, or written differently."""
        pool = [str(k) for k in self.index]
        if graph is not None:
            pairs = [k.split("\x1f", 1) for k in pool]
            pool = [i for g, i in pairs if g == graph]
            if not pool:
                return f" The node table has no node in graph {graph!r}."
            elsewhere = [g for g, i in pairs if i == key]
            if elsewhere:
                return (f" Node {key!r} is in graph {elsewhere[0]!r}; an "
                        "edge joins two nodes of one graph.")
        same = [k for k in pool if _loose(k) == _loose(key)]
        if not same:
            return ""
        return (f" The node table has {same[0]!r}; ids are compared as "
                "written, so write them the same way in both tables.")


def _loose(key: str) -> str:
    """``key`` with case, leading zeros and a ``.0`` ending ignored."""
    key = key.strip().lower().removesuffix(".0")
    return key.lstrip("0") or key


def _edge_node_ids(edges: Table, graph_id: str | None, ends) -> tuple:
    """Node ids (and graph ids) in order of first use in the edge table."""
    ids = np.column_stack([edges.keys(c, c) for c in ends]).ravel()
    if not len(ids):
        edges.fail("the edge table has no rows and there is no node table, "
                   "so the graph has no nodes; pass nodes=... or add edges.",
                   None, None)
    if "" in ids.tolist():
        row = ids.tolist().index("")
        edges.fail("node id is empty; every edge needs a source and a "
                   "target.", row // 2, ends[row % 2])
    graphs = [""] * len(ids)
    if graph_id is not None:
        graphs = np.repeat(_graph_keys(edges, graph_id), 2)
    seen = list(dict.fromkeys(zip(graphs, ids.tolist())))
    return ([i for _, i in seen],
            None if graph_id is None else [g for g, _ in seen])


def _graph_keys(table: Table, column: str) -> list[str]:
    """Graph ids of a node or edge table; an empty one fails on its line."""
    graphs = table.keys(column, "graph id")
    if "" in graphs:
        table.fail("graph id is empty; every row needs the id of its "
                   "graph.", graphs.index(""), column)
    return graphs


def _compose(graphs: list[str] | None, ids: list[str]) -> list[str]:
    """Lookup keys: the node id, prefixed by its graph id if any."""
    if not graphs:
        return list(ids)
    return [f"{g}\x1f{i}" for g, i in zip(graphs, ids)]


def _check_ids(table: Table, ids: list[str], keys: list[str], field: str):
    """Empty and duplicate node ids are errors naming their lines."""
    if "" in ids:
        table.fail("node id is empty.", ids.index(""), field)
    dup = pd.Index(keys).duplicated()
    if dup.any():
        row = int(np.argmax(dup))
        first = keys.index(keys[row])
        scope = " within a graph" if keys != ids else ""
        table.fail(
            f"duplicate node id {ids[row]!r} on lines {table.lines[first]} "
            f"and {table.lines[row]}; node ids must be unique{scope}.",
            None, field,
        )
