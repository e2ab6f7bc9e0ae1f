"""Consistency checks of TU Dortmund files, with errors naming the line.

Line counts that disagree, ids outside range or 0-based, edges joining
two graphs, empty files and label values too spread out to one-hot.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from gnnkit.errors import DataError


def check_sizes(
    edges: np.ndarray,
    indicator: np.ndarray,
    labels: np.ndarray,
    files: dict[str, Path],
) -> None:
    """Empty TU files: no graphs is an error, no edges a warning.

    Args:
        edges (np.ndarray): the rows of ``DS_A.txt``.
        indicator (np.ndarray): the rows of ``DS_graph_indicator.txt``.
        labels (np.ndarray): the rows of ``DS_graph_labels.txt``.
        files (dict): the TU file of each key (``"A"``, ...).

    Raises:
        DataError: the graph labels or the graph indicator are empty.
    """
    for key, values in (("graph_labels", labels),
                        ("graph_indicator", indicator)):
        if not len(values):
            raise DataError(
                "the file is empty; a TU dataset needs one line per "
                f"{'graph' if key == 'graph_labels' else 'node'}.",
                path=files[key],
            )
    if not len(edges):
        warnings.warn(
            f"{files['A'].name} is empty, so no graph has edges; check the "
            "file if the graphs should have some.",
            stacklevel=3,
        )


def surplus_labels(
    indicator: np.ndarray, num_labels: int, files: dict[str, Path]
) -> str:
    """A note when the label file lists more graphs than have nodes.

    Args:
        indicator (np.ndarray): 1-based graph id of every node.
        num_labels (int): lines of ``DS_graph_labels.txt``.
        files (dict): the TU file of each key.

    Returns:
        str: ``""``, or the note to add to an empty-graph error.
    """
    last = int(indicator.max())
    if num_labels <= last:
        return ""
    return (f" ({files['graph_labels'].name} has {num_labels} lines but "
            f"{files['graph_indicator'].name} names graphs 1..{last} only)")


def node_graphs(
    indicator: np.ndarray, num_graphs: int, files: dict[str, Path]
) -> np.ndarray:
    """0-based graph index of every node, checked against the labels.

    Args:
        indicator (np.ndarray): 1-based graph id of every node.
        num_graphs (int): lines of ``DS_graph_labels.txt``.
        files (dict): the TU file of each key.

    Returns:
        np.ndarray: ``indicator - 1``.

    Raises:
        DataError: a graph id outside ``1..num_graphs``.
    """
    bad = (indicator < 1) | (indicator > num_graphs)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"graph id {indicator[row]} is outside 1..{num_graphs} (the "
            f"number of lines of {files['graph_labels'].name})"
            f"{_one_based(indicator)}.",
            path=files["graph_indicator"],
            line=row + 1,
        )
    return indicator - 1


def _one_based(ids: np.ndarray) -> str:
    """A note when ids look 0-based: TU ids count from 1."""
    if ids.size and int(ids.min()) == 0:
        return "; TU ids count from 1, and this file uses 0: add 1 to every id"
    return ""


def edge_index_of(
    edges: np.ndarray, node_graph: np.ndarray, path: Path
) -> np.ndarray:
    """Check the 1-based edge list and return a 0-based ``[2, E]`` array.

    Args:
        edges (np.ndarray): ``[E, 2]`` rows of ``DS_A.txt``.
        node_graph (np.ndarray): 0-based graph index of every node.
        path (Path): ``DS_A.txt``, named in errors.

    Returns:
        np.ndarray: the 0-based ``edge_index``.

    Raises:
        DataError: a node id out of range, or an edge joining two graphs.
    """
    num_nodes = len(node_graph)
    bad = ((edges < 1) | (edges > num_nodes)).any(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"edge ({edges[row, 0]}, {edges[row, 1]}) names a node id "
            f"outside 1..{num_nodes} (the number of lines of the graph "
            f"indicator){_one_based(edges)}.",
            path=path,
            line=row + 1,
        )
    edge_index = edges.T - 1
    graph_of = node_graph[edge_index]
    cross = graph_of[0] != graph_of[1]
    if cross.any():
        row = int(np.argmax(cross))
        raise DataError(
            f"edge ({edges[row, 0]}, {edges[row, 1]}) joins graph "
            f"{graph_of[0, row] + 1} to graph {graph_of[1, row] + 1}.",
            path=path,
            line=row + 1,
        )
    return edge_index


def check_label_span(labels: np.ndarray, path: Path) -> None:
    """Refuse label values so spread out that one-hot would not fit.

    One-hot columns run from the smallest to the largest label value, so
    a stray large value (an id pasted in, say) would need millions.

    Args:
        labels (np.ndarray): ``[N, K]`` integer labels.
        path (Path): the label file, named in errors.

    Raises:
        DataError: more than ``max(1000, 10 * distinct)`` columns needed.
    """
    for col in range(labels.shape[1]):
        column = labels[:, col]
        low, high = int(column.min()), int(column.max())
        distinct = len(np.unique(column))
        if high - low + 1 > max(1000, 10 * distinct):
            row = int(np.argmax(column == high))
            raise DataError(
                f"label values span {low}..{high}, {high - low + 1} one-hot "
                f"columns for only {distinct} distinct values; line "
                f"{row + 1} holds {high}. TU labels are small integers: "
                "fix the value or number the labels 0..K-1.",
                path=path,
                line=row + 1,
                field=f"column {col + 1}",
            )
