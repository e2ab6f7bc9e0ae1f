"""Steps every gnnkit reader shares.

Label re-indexing, one-hot encodings, degree and constant features, and
splitting node/edge arrays into one PyG ``Data`` per graph.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch_geometric.data import Data

from gnnkit.errors import DataError

INT_TEXT = re.compile(r"[+-]?\d+")


def python_value(value: Any) -> Any:
    """``value`` as a plain Python scalar (numpy scalars unwrapped)."""
    return value.item() if isinstance(value, np.generic) else value


def encode_labels(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Re-index labels to ``0..C-1`` in sorted order of their values.

    Raw labels such as ``-1/1`` or ``1/2`` become ``0/1``; nothing is
    shifted by a minimum, so gaps and negative values are safe.

    Args:
        values (sequence): one raw label per graph or node.

    Returns:
        tuple: ``(y, classes)`` where ``y`` is an ``int64`` array and
        ``classes[i]`` is the raw value of class ``i``.

    Example:
        >>> encode_labels([-1, 1, 1, -1])
        (array([0, 1, 1, 0]), [-1, 1])
    """
    classes, y = np.unique(np.asarray(values), return_inverse=True)
    return y.astype(np.int64), [python_value(c) for c in classes]


def one_hot_columns(
    labels: np.ndarray, prefix: str
) -> tuple[torch.Tensor, list[str]]:
    """One-hot encode each column of integer ``labels`` (PyG TU style).

    As in PyG's ``TUDataset``, each column is shifted by its minimum and
    gets ``max - min + 1`` indicator columns, so feature ``j`` stands for
    raw label ``min + j``.

    Args:
        labels (np.ndarray): integer labels of shape ``[N]`` or ``[N, K]``.
        prefix (str): name stem for the feature names (``"node_label"``).

    Returns:
        tuple: float tensor ``[N, sum of widths]`` and the feature names.
    """
    labels = labels.reshape(len(labels), -1)
    blocks, names = [], []
    for col in range(labels.shape[1]):
        column = labels[:, col]
        low = int(column.min()) if len(column) else 0
        width = int(column.max()) - low + 1 if len(column) else 0
        block = np.zeros((len(column), width), dtype=np.float32)
        block[np.arange(len(column)), column - low] = 1.0
        blocks.append(block)
        tag = prefix if labels.shape[1] == 1 else f"{prefix}{col}"
        names += [f"{tag}={low + j}" for j in range(width)]
    return torch.from_numpy(np.concatenate(blocks, axis=1)), names


def constant_features(num_nodes: int) -> torch.Tensor:
    """A ``[num_nodes, 1]`` column of ones, for graphs without features."""
    return torch.ones(num_nodes, 1)


def one_hot_degree(
    graphs: Sequence[Data], max_degree: int | None = None
) -> list[torch.Tensor]:
    """One-hot out-degree features, as PyG's ``OneHotDegree`` transform.

    The degree of a node is its number of distinct out-neighbours: edge
    rows listed twice count once, as in PyG's ``TUDataset``, which removes
    duplicates before the transform runs (for symmetric graphs this is the
    usual degree; IMDB-BINARY's maximum is 135). Without
    ``max_degree`` the width is the largest degree in ``graphs`` plus one;
    with it, degrees above ``max_degree`` are clipped into the last
    column (PyG itself would fail on them).

    Args:
        graphs (sequence of Data): graphs with ``edge_index`` and
            ``num_nodes``.
        max_degree (int, optional): largest degree with its own column
            (default: the largest degree found).

    Returns:
        list[Tensor]: one float tensor ``[num_nodes, max_degree + 1]`` per
        graph.
    """
    sizes = [int(g.num_nodes) for g in graphs]
    degrees = _distinct_out_degree(graphs, sizes)
    if max_degree is None:
        max_degree = int(degrees.max()) if degrees.numel() else 0
    if max_degree < 0:
        raise DataError(f"max_degree must be >= 0 (got {max_degree}).")
    one_hot = torch.nn.functional.one_hot(
        degrees.clamp(max=max_degree), max_degree + 1
    )
    return list(one_hot.float().split(sizes))


def _distinct_out_degree(
    graphs: Sequence[Data], sizes: list[int]
) -> torch.Tensor:
    """Distinct out-neighbours of every node of all graphs, concatenated."""
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    edges = [g.edge_index.numpy() + off for g, off in zip(graphs, offsets)]
    total = int(sum(sizes))
    if not edges or total == 0:
        return torch.zeros(total, dtype=torch.long)
    edge_index = np.concatenate(edges, axis=1)
    keys = distinct(edge_index[0] * total + edge_index[1])
    return torch.from_numpy(np.bincount(keys // total, minlength=total))


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-D array.

    Same result as ``np.unique``, by sorting: NumPy 2.4's hash-based
    ``np.unique`` is about ten times slower on 400k integers.
    """
    ordered = np.sort(values, kind="stable")
    if ordered.size == 0:
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def split_graphs(
    node_graph: np.ndarray,
    edge_index: np.ndarray,
    num_graphs: int,
    x: torch.Tensor | None = None,
    edge_attr: torch.Tensor | None = None,
    edge_weight: torch.Tensor | None = None,
) -> tuple[list[Data], np.ndarray]:
    """Cut global node and edge arrays into one ``Data`` per graph.

    Nodes keep their relative order inside each graph and edges keep the
    order in which they were listed.

    Args:
        node_graph (np.ndarray): graph index (``0..num_graphs-1``) of every
            node.
        edge_index (np.ndarray): ``[2, E]`` global node indices; both ends
            of an edge must lie in the same graph.
        num_graphs (int): number of graphs (some may have no nodes).
        x (Tensor, optional): global node features, cut by graph.
        edge_attr (Tensor, optional): global edge features, cut by graph.
        edge_weight (Tensor, optional): global edge weights, cut by graph.

    Returns:
        tuple: the graphs (without ``y``) and the node order used, i.e.
        ``order[k]`` is the global index of the ``k``-th node once sorted
        by graph.
    """
    order = np.argsort(node_graph, kind="stable")
    node_counts = np.bincount(node_graph, minlength=num_graphs)
    starts = np.concatenate([[0], np.cumsum(node_counts)[:-1]])
    local = np.empty(len(node_graph), dtype=np.int64)
    local[order] = np.arange(len(node_graph)) - starts[node_graph[order]]
    edge_graph = node_graph[edge_index[0]]
    edge_order = np.argsort(edge_graph, kind="stable")
    edge_counts = np.bincount(edge_graph, minlength=num_graphs).tolist()
    local_edges = torch.from_numpy(local[edge_index[:, edge_order]])
    parts = {"edge_index": local_edges.split(edge_counts, dim=1)}
    sizes = node_counts.tolist()
    if x is not None:
        parts["x"] = x[torch.from_numpy(order)].split(sizes)
    for key, value in (("edge_attr", edge_attr), ("edge_weight", edge_weight)):
        if value is not None:
            parts[key] = value[torch.from_numpy(edge_order)].split(edge_counts)
    graphs = [
        Data(num_nodes=sizes[i], **{k: v[i] for k, v in parts.items()})
        for i in range(num_graphs)
    ]
    return graphs, order


def check_no_empty(
    graphs: Sequence[Data],
    describe: Callable[[int], str],
    allow_empty: bool,
    path: Any = None,
    field: str | None = None,
    note: str = "",
) -> None:
    """Raise a DataError naming the first graph without nodes.

    Args:
        graphs (sequence of Data): the graphs to check.
        describe (callable): maps a graph index to how the message names
            it, e.g. ``"7"`` or ``"G3 (index 3)"``.
        allow_empty (bool): when true, empty graphs are accepted.
        path: the file to name in the message.
        field (str, optional): the field to name in the message.
        note (str): a likely cause, added to the message.
    """
    if allow_empty:
        return
    empty = [i for i, g in enumerate(graphs) if g.num_nodes == 0]
    if empty:
        more = f" ({len(empty)} empty graphs in all)" if len(empty) > 1 else ""
        raise DataError(
            f"graph {describe(empty[0])} has no nodes{more}{note}; remove "
            "it or pass allow_empty=True to keep empty graphs.",
            path=path,
            field=field,
        )


def is_missing_text(value: Any) -> bool:
    """True for ``None``, NaN and empty or whitespace-only strings.

    Words such as ``"NA"``, ``"None"`` or ``"null"`` are text, not missing.
    """
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def node_texts(
    values: Sequence[Any],
    ids: Sequence[Any],
    missing_text: str,
    path: Any = None,
    field: str | None = None,
    stacklevel: int = 2,
) -> list[str | None]:
    """Node texts with the missing ones handled as ``missing_text`` asks.

    Args:
        values (sequence): raw text per node.
        ids (sequence): original node ids, used to name missing texts.
        missing_text (str): ``"error"`` raises a :class:`DataError` listing
            every node without text; ``"empty"`` stores ``""`` for them and
            warns with their ids.
        path: the file to name in messages.
        field (str, optional): the text column, named in messages.
        stacklevel (int): ``warnings.warn`` stack level, counted from the
            caller of this function (default: ``2``, the caller's caller).

    Returns:
        list[str]: one text per node.
    """
    if missing_text not in ("error", "empty"):
        raise DataError(
            "missing_text must be 'error' or 'empty' (got "
            f"{missing_text!r})."
        )
    missing = [i for i, v in enumerate(values) if is_missing_text(v)]
    texts = ["" if is_missing_text(v) else str(v) for v in values]
    if not missing:
        return texts
    shown = ", ".join(str(ids[i]) for i in missing[:20])
    more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
    if missing_text == "error":
        raise DataError(
            f"{len(missing)} node(s) have no text: {shown}{more}; fill them "
            "in, or pass missing_text='empty' to encode them as ''.",
            path=path,
            field=field,
        )
    warnings.warn(
        f"{len(missing)} node(s) have no text and get '': {shown}{more}.",
        stacklevel=stacklevel + 1,
    )
    return texts


def typed_labels(values: Sequence[Any]) -> list[Any]:
    """Labels as ints when every one is a whole number, else as given.

    Strings such as ``"2"`` become ``2`` so that classes sort numerically
    (``2 < 10``), while labels such as ``"cat"`` or ``"007"`` stay
    strings as written.
    """
    ints = []
    for value in values:
        number = _as_int(value)
        if number is None:
            return [python_value(v) for v in values]
        ints.append(number)
    return ints


def _as_int(value: Any) -> int | None:
    """``value`` as an int if it is a whole number (or its text)."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else None
    text = value.strip() if isinstance(value, str) else None
    if text and INT_TEXT.fullmatch(text) and str(int(text)) == text:
        return int(text)  # "007" stays a word: 7 would merge it with "7"
    return None
