"""A user's own files in notebook 07: uploads sorted into node, edge and
new-row tables by name, and new rows joined to the graph for prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from gnnkit.data.table_io import PathLike, Table, id_key, read_table
from gnnkit.errors import DataError

ROLES = ("nodes", "edges", "new_nodes", "new_edges")
EDGE_WORDS = ("edge", "link", "cite", "citation", "relation", "pair")


def upload_role(name: str) -> str:
    """The table an uploaded file holds, from its name.

    A name with ``edge``, ``link``, ``cite``, ``citation``, ``relation``
    or ``pair`` is an edge table, any other a node table; ``new`` in the
    name marks rows to predict on later.

    Example:
        >>> upload_role("my_new_edges.csv"), upload_role("papers.csv")
        ('new_edges', 'nodes')
    """
    stem = Path(name).name.lower()
    kind = "edges" if any(w in stem for w in EDGE_WORDS) else "nodes"
    return f"new_{kind}" if "new" in stem else kind


def save_uploads(files: Iterable[Any], folder: PathLike) -> dict[str, str]:
    """Write uploaded files to ``folder`` and say which box each fills.

    Args:
        files: the items of ``ipywidgets.FileUpload.value`` (each with a
            ``name`` and ``content``; dicts work too).
        folder (str or PathLike): where to write them.

    Returns:
        dict: among ``nodes``, ``edges``, ``new_nodes``, ``new_edges`` ->
        the written path. When a node or edge table came without new rows,
        ``new_nodes`` and ``new_edges`` map to ``""``: the example's new
        rows do not belong to another graph.

    Raises:
        DataError: when two uploads claim the same role.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for item in files:
        name = Path(_field(item, "name")).name
        if not name:
            raise DataError("an upload has no file name; name it e.g. "
                            "nodes.csv or edges.csv.")
        role = upload_role(name)
        if role in paths:
            raise DataError(
                f"two uploads look like the {role.replace('_', ' ')} "
                f"table ({Path(paths[role]).name} and {name}); name the "
                "edge file with 'edge' and new rows with 'new'.",
                path=name,
            )
        path = folder / name
        path.write_bytes(bytes(_field(item, "content")))
        paths[role] = str(path)
    if {"nodes", "edges"} & set(paths):
        for role in ("new_nodes", "new_edges"):
            paths.setdefault(role, "")
    return paths


def _field(item: Any, key: str) -> Any:
    return item[key] if isinstance(item, Mapping) else getattr(item, key)


@dataclass
class NewRows:
    """Old and new rows written together, ready for ``read_csv_graph``.

    ``nodes`` and ``edges`` are ``None`` when there is nothing to predict;
    ``note`` then says why.
    """

    nodes: Path | None
    edges: Path | None
    new_ids: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def ready(self) -> bool:
        """Whether there are new rows to predict on."""
        return self.nodes is not None


def join_new_rows(
    nodes: PathLike,
    edges: PathLike,
    new_nodes: PathLike | None,
    new_edges: PathLike | None,
    columns: Mapping[str, str | None],
    folder: PathLike,
    features: Sequence[str] = (),
) -> NewRows:
    """Append new node and edge rows to a graph's tables.

    Only the columns prediction needs are kept: the node id, the text
    column (when ``columns["text"]`` is set) and the ``features``; the
    label is left out. The joined tables go to ``all_nodes.csv`` and
    ``all_edges.csv`` in ``folder``.

    Args:
        nodes (str or PathLike): the node table the model trained on.
        edges (str or PathLike): the edge table the model trained on.
        new_nodes (str or PathLike, optional): new node rows; empty or
            ``None`` means there are none.
        new_edges (str or PathLike, optional): new edge rows (they may
            join new and old nodes); empty or ``None`` for none.
        columns (mapping): ``node_id``, ``text``, ``source``, ``target``
            column names, as given to ``read_csv_graph``.
        folder (str or PathLike): where to write the joined tables.
        features (sequence of str): numeric feature columns.

    Returns:
        NewRows: the joined files and the new ids, or (``ready`` false) a
        note saying why there is nothing to predict on.

    Raises:
        DataError: a new node id is empty or already in the graph.
    """
    if not str(new_nodes or "").strip():
        return NewRows(None, None, note=(
            "No new rows: the 'new nodes' box is empty, so there is "
            "nothing to predict on. Put the path of a table of new nodes "
            "(same columns as your node table, label optional) in it and "
            "rerun this section."))
    node_cols = [columns["node_id"]] + [
        c for c in [columns.get("text"), *features] if c]
    edge_cols = [columns["source"], columns["target"]]
    new_node_table = read_table(new_nodes)
    new_edge_table = (
        read_table(new_edges) if str(new_edges or "").strip() else None)
    missing = _missing(new_node_table, node_cols) or (
        new_edge_table is not None and _missing(new_edge_table, edge_cols))
    if missing:
        return NewRows(None, None, note=missing)
    if not len(new_node_table.frame):
        return NewRows(None, None, note=(
            f"No new rows: {new_node_table.path} has a header but no rows, "
            "so there is nothing to predict on."))
    for column in features:
        new_node_table.numbers(column, "feature")
    old = read_table(nodes)
    old_ids = set(old.keys(columns["node_id"], "node id"))
    new_ids = _new_ids(new_node_table, columns["node_id"], old_ids)
    if new_edge_table is not None:
        _check_ends(new_edge_table, edge_cols, old_ids | set(new_ids))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out_nodes, out_edges = folder / "all_nodes.csv", folder / "all_edges.csv"
    pd.concat([old.frame[node_cols], new_node_table.frame[node_cols]]
              ).to_csv(out_nodes, index=False)
    edge_frames = [read_table(edges).frame[edge_cols]]
    if new_edge_table is not None:
        edge_frames.append(new_edge_table.frame[edge_cols])
    pd.concat(edge_frames).to_csv(out_edges, index=False)
    added = len(edge_frames[-1]) if new_edge_table is not None else 0
    return NewRows(out_nodes, out_edges, new_ids, note=(
        f"{len(new_ids)} new nodes and {added} new edges joined to "
        f"{len(old.frame)} nodes in {out_nodes} and {out_edges}."))


def _missing(table: Table, needed: Sequence[str]) -> str:
    """A note naming the needed columns ``table`` lacks ("" if none)."""
    absent = [c for c in needed if c not in table.frame.columns]
    if not absent:
        return ""
    return (
        f"No new rows used: {table.path} has no column "
        f"{', '.join(repr(c) for c in absent)} (its columns are "
        f"{', '.join(map(str, table.frame.columns))}), so its rows do not "
        "belong to this graph. Point the new-rows boxes at new rows of "
        "your own graph, or empty them."
    )


def _new_ids(table: Table, column: str, old_ids: set[str]) -> list[str]:
    """The new node ids; a DataError names an empty or repeated one."""
    ids = table.keys(column, "node id")
    seen: dict[str, int] = {}
    for row, key in enumerate(ids):
        problem = ("node id is empty" if not key else
                   f"node id {key!r} is already a node of the graph; new "
                   "rows need new ids" if key in old_ids else
                   f"node id {key!r} repeats line {seen[key]}"
                   if key in seen else "")
        if problem:
            raise DataError(problem, path=table.path,
                            line=int(table.lines[row]), field=column)
        seen[key] = int(table.lines[row])
    return ids


def _check_ends(table: Table, ends: Sequence[str], ids: set[str]) -> None:
    """Every new edge joins nodes of the graph or of the new rows."""
    for column in ends:
        for row, key in enumerate(table.keys(column, "node id")):
            if key not in ids:
                raise DataError(
                    f"node {key!r} is neither a node of the graph nor a "
                    "new row.", path=table.path,
                    line=int(table.lines[row]), field=column)


def labels_of(path: PathLike | None, columns: Mapping[str, str | None]
              ) -> dict[str, str] | None:
    """The labels new rows carry, by node id, if their table has them.

    Args:
        path (str or PathLike, optional): the new node table.
        columns (mapping): ``node_id`` and ``label`` column names.

    Returns:
        dict or None: node id -> label (both as text), or ``None`` when
        there is no table or it has no label column.
    """
    if not str(path or "").strip():
        return None
    table = read_table(path)
    if columns.get("label") not in table.frame.columns:
        return None
    labels = [id_key(v) for v in table.column(columns["label"], "label")]
    return dict(zip(table.keys(columns["node_id"], "node id"), labels))
