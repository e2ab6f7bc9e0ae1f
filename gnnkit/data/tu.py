"""Read graph-classification datasets in the TU Dortmund text format.

The files ``DS_A.txt``, ``DS_graph_indicator.txt``, ``DS_graph_labels.txt``
and the optional label/attribute files become a :class:`GraphDataset`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.features import (
    check_no_empty,
    constant_features,
    encode_labels,
    one_hot_columns,
    one_hot_degree,
    split_graphs,
)
from gnnkit.data.table_io import read_numeric
from gnnkit.data.tu_checks import (
    check_label_span,
    check_sizes,
    edge_index_of,
    node_graphs,
    surplus_labels,
)
from gnnkit.errors import DataError

logger = logging.getLogger(__name__)

REQUIRED = ("A", "graph_indicator", "graph_labels")
OPTIONAL = (
    "node_labels",
    "node_attributes",
    "edge_labels",
    "edge_attributes",
)


def read_tu(
    folder: str | os.PathLike,
    name: str | None = None,
    *,
    degree_features: bool | Literal["auto"] = "auto",
    max_degree: int | None = None,
    allow_empty: bool = False,
    dedupe_edges: bool = True,
) -> GraphDataset:
    """Read a TU dataset for graph classification.

    Node features are the one-hot node labels (``DS_node_labels.txt``,
    each column shifted by its minimum as in PyG's ``TUDataset``) followed
    by the node attributes (``DS_node_attributes.txt``). Edge features are
    the one-hot edge labels followed by the edge attributes. Graph labels
    are re-indexed to ``0..C-1`` in sorted order of the raw values, which
    are kept in ``classes`` (raw ``-1/1`` gives classes ``[-1, 1]``).

    Datasets without node labels or attributes (IMDB, REDDIT) get one-hot
    degree features, PyG's ``OneHotDegree``: column ``d`` marks nodes with
    ``d`` distinct out-neighbours, and the width is the largest degree in the
    dataset plus one (or ``max_degree + 1``, larger degrees clipped).

    Edges are directed rows in file order. A row that repeats an earlier
    ``(row, col)`` pair is dropped by default (the IMDB files list every
    edge twice), keeping the first occurrence and its edge features; the
    number dropped is in ``meta["duplicate_edges_removed"]``. PyG's
    ``TUDataset`` also removes them, though it sorts the edges, sums the
    features of repeats and drops self-loops, which gnnkit keeps.
    ``node_ids`` holds the TU global 1-based node ids and ``graph_ids`` the
    TU 1-based graph ids.

    Args:
        folder (str or PathLike): the dataset folder holding ``raw/``, or
            the raw folder itself.
        name (str, optional): the ``DS`` prefix of the files (default:
            inferred from the single ``*_A.txt`` file).
        degree_features (bool or "auto"): ``"auto"`` adds degree features
            only when there are no node labels or attributes; ``True``
            appends them to whatever features exist; ``False`` never adds
            them (featureless graphs then get a constant column of ones).
            (default: ``"auto"``)
        max_degree (int, optional): clip degrees at this value.
        allow_empty (bool): accept graphs without nodes (default:
            ``False``: a :class:`DataError` names the graph).
        dedupe_edges (bool): drop repeated ``(row, col)`` rows; ``False``
            keeps every row of ``DS_A.txt`` (default: ``True``).

    Returns:
        GraphDataset: graph-level dataset named ``DS``.

    Raises:
        DataError: a required file is missing, files disagree in length,
            an entry is not a number, an edge names an unknown node, or a
            graph has no nodes.
    """
    raw, name = _locate(Path(folder), name)
    files = {k: raw / f"{name}_{k}.txt" for k in REQUIRED + OPTIONAL}
    edges = read_numeric(files["A"], integer=True, columns=2)
    indicator = read_numeric(
        files["graph_indicator"], integer=True, columns=1
    )[:, 0]
    labels = read_numeric(files["graph_labels"], integer=False, columns=1)
    check_sizes(edges, indicator, labels, files)
    node_graph = node_graphs(indicator, len(labels), files)
    edge_index = edge_index_of(edges, node_graph, files["A"])
    x, x_names = _node_features(files, len(indicator))
    edge_attr, e_names = _edge_features(files, len(edges))
    edge_index, edge_attr, removed = _drop_duplicates(
        edge_index, edge_attr, dedupe_edges, files["A"]
    )
    graphs, order = split_graphs(
        node_graph, edge_index, len(labels), x=x, edge_attr=edge_attr
    )
    check_no_empty(
        graphs, lambda i: str(i + 1), allow_empty, files["graph_indicator"],
        note=surplus_labels(indicator, len(labels), files),
    )
    x_names = _finish_features(graphs, x_names, degree_features, max_degree)
    classes = _set_targets(graphs, labels[:, 0])
    logger.debug("read %d TU graphs from %s", len(graphs), raw)
    meta = {
        "source": "tu",
        "path": str(raw),
        "edge_feature_names": e_names,
        "duplicate_edges_removed": removed,
    }
    return GraphDataset(
        graphs=graphs,
        level="graph",
        name=name,
        classes=classes,
        graph_ids=list(range(1, len(graphs) + 1)),
        node_ids=_node_ids(graphs, order),
        feature_names=x_names,
        meta=meta,
    )


def _set_targets(graphs: list, raw_labels: np.ndarray) -> list:
    """Give each graph its re-indexed label ``y``; return the classes."""
    y, classes = encode_labels(_label_values(raw_labels))
    for graph, target in zip(graphs, torch.from_numpy(y)):
        graph.y = target.view(1)
    return classes


def _node_ids(graphs: list, order: np.ndarray) -> list[list[int]]:
    """TU 1-based global node ids, per graph."""
    node_ids = (order + 1).tolist()
    starts = np.cumsum([0] + [g.num_nodes for g in graphs]).tolist()
    return [node_ids[a:b] for a, b in zip(starts, starts[1:])]


def _locate(folder: Path, name: str | None) -> tuple[Path, str]:
    """Find the raw folder and the ``DS`` prefix."""
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.is_file() else \
            "not found"
        raise DataError(
            f"TU dataset folder {what}; pass the folder holding raw/ or "
            "the raw folder itself.",
            path=folder,
        )
    raw = folder / "raw" if (folder / "raw").is_dir() else folder
    if name is None:
        found = sorted(p.name[: -len("_A.txt")] for p in raw.glob("*_A.txt"))
        if len(found) > 1:
            raise DataError(
                f"several TU datasets found ({', '.join(found)}); pass "
                "name= to choose one.",
                path=raw,
            )
        name = found[0] if found else raw.parent.name
    missing = [
        f"{name}_{k}.txt"
        for k in REQUIRED
        if not (raw / f"{name}_{k}.txt").exists()
    ]
    if missing:
        expected = ", ".join(f"{name}_{k}.txt" for k in REQUIRED)
        raise DataError(
            f"missing TU file(s) {', '.join(missing)}; a TU dataset needs "
            f"{expected} (optional: "
            f"{', '.join(f'{name}_{k}.txt' for k in OPTIONAL)}).",
            path=raw,
        )
    return raw, name


def _drop_duplicates(
    edge_index: np.ndarray,
    edge_attr: torch.Tensor | None,
    enabled: bool,
    path: Path,
) -> tuple[np.ndarray, torch.Tensor | None, int]:
    """Keep the first of each repeated ``(row, col)`` edge row.

    Both ends of an edge lie in one graph, so global duplicates are the
    per-graph duplicates.
    """
    if not enabled or edge_index.shape[1] == 0:
        return edge_index, edge_attr, 0
    num_nodes = int(edge_index.max()) + 1
    keys = edge_index[0] * num_nodes + edge_index[1]
    order = np.argsort(keys, kind="stable")  # first occurrence leads
    ordered = keys[order]
    first = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    keep = np.zeros(len(keys), dtype=bool)
    keep[order[first]] = True
    removed = int(len(keys) - keep.sum())
    if not removed:
        return edge_index, edge_attr, 0
    logger.info(
        "dropped %d duplicate edge rows of %s (dedupe_edges=False keeps them)",
        removed,
        path,
    )
    if edge_attr is not None:
        edge_attr = edge_attr[torch.from_numpy(keep)]
    return edge_index[:, keep], edge_attr, removed


def _optional(
    files: dict[str, Path], key: str, count: int, against: str
) -> np.ndarray | None:
    """Read an optional TU file whose length must equal ``count``."""
    path = files[key]
    if not path.exists():
        return None
    values = read_numeric(path, integer=key.endswith("labels"), columns=None)
    if len(values) != count:
        raise DataError(
            f"{path.name} has {len(values)} lines but {files[against].name} "
            f"has {count}; they must have one line per "
            f"{'node' if key.startswith('node') else 'edge'}.",
            path=path,
        )
    return values


def _node_features(
    files: dict[str, Path], num_nodes: int
) -> tuple[torch.Tensor | None, list[str]]:
    """One-hot node labels followed by node attributes."""
    return _stack_features(files, "node", num_nodes, "graph_indicator")


def _edge_features(
    files: dict[str, Path], num_edges: int
) -> tuple[torch.Tensor | None, list[str]]:
    """One-hot edge labels followed by edge attributes."""
    return _stack_features(files, "edge", num_edges, "A")


def _stack_features(
    files: dict[str, Path], kind: str, count: int, against: str
) -> tuple[torch.Tensor | None, list[str]]:
    """Concatenate the label and attribute files of nodes or edges."""
    blocks, names = [], []
    labels = _optional(files, f"{kind}_labels", count, against)
    if labels is not None:
        check_label_span(labels, files[f"{kind}_labels"])
        block, label_names = one_hot_columns(labels, f"{kind}_label")
        blocks.append(block)
        names += label_names
    attrs = _optional(files, f"{kind}_attributes", count, against)
    if attrs is not None:
        blocks.append(torch.from_numpy(attrs.astype(np.float32)))
        names += [f"{kind}_attr{j}" for j in range(attrs.shape[1])]
    if not blocks:
        return None, []
    return torch.cat(blocks, dim=1), names


def _finish_features(
    graphs: list,
    names: list[str],
    degree_features: bool | str,
    max_degree: int | None,
) -> list[str]:
    """Add degree (or constant) features as ``degree_features`` asks."""
    if degree_features not in ("auto", True, False):
        raise DataError(
            "degree_features must be 'auto', True or False (got "
            f"{degree_features!r})."
        )
    has_x = bool(names)
    if degree_features is True or (degree_features == "auto" and not has_x):
        blocks = one_hot_degree(graphs, max_degree)
        for graph, block in zip(graphs, blocks):
            x = getattr(graph, "x", None)
            graph.x = block if x is None else torch.cat([x, block], dim=1)
        width = blocks[0].size(1) if blocks else 0
        return names + [f"degree={d}" for d in range(width)]
    if not has_x:
        for graph in graphs:
            graph.x = constant_features(graph.num_nodes)
        return ["constant"]
    return names


def _label_values(values: np.ndarray) -> list:
    """Graph labels as ints when they are whole numbers."""
    if np.all(values == np.round(values)):
        return values.astype(np.int64).tolist()
    return values.tolist()
