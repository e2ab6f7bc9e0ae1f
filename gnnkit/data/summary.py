"""Describe a :class:`GraphDataset` in numbers.

Sizes, classes, degrees and the quirks (self-loops, duplicate edges,
isolated nodes, missing texts) that change what a GNN sees.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.features import distinct, is_missing_text


def summarize(dataset: GraphDataset) -> dict[str, Any]:
    """Key figures of a dataset, as plain Python values.

    Edges are counted as ``edge_index`` rows (directed). When every graph
    is symmetric (each row ``u -> v`` has a row ``v -> u``) the number of
    distinct undirected edges, self-loops included, is given too. The
    degree of a node is its number of outgoing rows. A duplicate edge is a
    row repeating an earlier ``(u, v)`` of the same graph; an isolated
    node has no row in or out. Duplicates a reader already dropped (see
    ``read_tu(dedupe_edges=...)``) are counted in
    ``duplicate_edges_removed``.

    Args:
        dataset (GraphDataset): the dataset.

    Returns:
        dict: ``name``, ``level``, ``task``, ``graphs``, ``nodes`` (total,
        mean, min, max per graph), ``edges`` (directed, undirected or
        ``None``, symmetric), ``num_features``, ``num_edge_features``,
        ``num_classes``, ``classes``, ``class_counts`` and
        ``class_fractions`` (keyed by the raw class, as in ``classes``),
        ``majority_fraction`` (or
        ``target`` statistics for regression), ``degree`` (mean, median,
        max), ``label_names`` (or ``None``), ``isolated_nodes``,
        ``self_loops``, ``duplicate_edges``, ``duplicate_edges_removed``
        (by the reader; ``None`` if it does not say) and ``texts``
        (with_text, missing; ``None`` without texts).

    Example:
        >>> summarize(load_dataset("MUTAG"))["class_counts"]
        {-1: 63, 1: 125}
    """
    sizes = np.asarray([int(g.num_nodes) for g in dataset.graphs])
    edges = _global_edges(dataset, sizes)
    out = {
        "name": dataset.name,
        "level": dataset.level,
        "task": dataset.task,
        "graphs": len(dataset.graphs),
        "nodes": _stats(sizes, total=True),
        "edges": _edge_counts(edges),
        "num_features": dataset.num_features,
        "num_edge_features": dataset.num_edge_features,
        "num_classes": dataset.num_classes,
        "label_names": dataset.meta.get("label_names"),
    }
    out.update(_targets(dataset))
    out.update(_structure(edges, int(sizes.sum())))
    out["duplicate_edges_removed"] = dataset.meta.get(
        "duplicate_edges_removed"
    )
    out["texts"] = _texts(dataset)
    return out


def _global_edges(dataset: GraphDataset, sizes: np.ndarray) -> np.ndarray:
    """All edge rows with node numbers made unique across graphs."""
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    parts = [
        g.edge_index.numpy() + off
        for g, off in zip(dataset.graphs, offsets)
    ]
    return np.concatenate(parts, axis=1) if parts else np.zeros((2, 0), int)


def _stats(values: np.ndarray, total: bool = False) -> dict[str, Any]:
    """Mean, min and max (and total) of ``values``."""
    if values.size == 0:
        stats = {"mean": 0.0, "min": 0, "max": 0}
    else:
        stats = {
            "mean": float(values.mean()),
            "min": values.min().item(),
            "max": values.max().item(),
        }
    return {"total": int(values.sum()), **stats} if total else stats


def _edge_counts(edges: np.ndarray) -> dict[str, Any]:
    """Directed rows; undirected edges when every row has its reverse."""
    scale = int(edges.max()) + 1 if edges.size else 1
    forward = distinct(edges[0].astype(np.int64) * scale + edges[1])
    backward = edges[1].astype(np.int64) * scale + edges[0]
    found = np.searchsorted(forward, backward)
    found = np.minimum(found, max(len(forward) - 1, 0))
    symmetric = bool(len(forward) == 0 or (forward[found] == backward).all())
    undirected = None
    if symmetric:
        low, high = edges.min(axis=0), edges.max(axis=0)
        undirected = len(distinct(low.astype(np.int64) * scale + high))
    return {
        "directed": int(edges.shape[1]),
        "undirected": undirected,
        "symmetric": symmetric,
    }


def _structure(edges: np.ndarray, num_nodes: int) -> dict[str, Any]:
    """Degree statistics, isolated nodes, self-loops and duplicates."""
    out_degree = np.bincount(edges[0], minlength=num_nodes)
    touched = np.zeros(num_nodes, dtype=bool)
    touched[edges.ravel()] = True
    pairs = edges[0].astype(np.int64) * max(num_nodes, 1) + edges[1]
    degree = {
        "mean": float(out_degree.mean()) if num_nodes else 0.0,
        "median": float(np.median(out_degree)) if num_nodes else 0.0,
        "max": int(out_degree.max()) if num_nodes else 0,
    }
    return {
        "degree": degree,
        "isolated_nodes": int((~touched).sum()),
        "self_loops": int((edges[0] == edges[1]).sum()),
        "duplicate_edges": int(len(pairs) - len(distinct(pairs))),
    }


def _targets(dataset: GraphDataset) -> dict[str, Any]:
    """Class counts and fractions, or target statistics for regression."""
    y = _labels(dataset)
    if y is None:
        return {"classes": dataset.classes, "class_counts": None}
    if dataset.classes is None:
        values = y.float().numpy()
        stats = _stats(values)
        stats["std"] = float(values.std()) if values.size else 0.0
        return {"classes": None, "class_counts": None, "target": stats}
    counts = np.bincount(y.long().numpy(), minlength=dataset.num_classes)
    total = max(int(counts.sum()), 1)
    classes = list(dataset.classes)
    return {
        "classes": classes,
        "class_counts": {k: int(c) for k, c in zip(classes, counts)},
        "class_fractions": {k: c / total for k, c in zip(classes, counts)},
        "majority_fraction": float(counts.max() / total),
    }


def _labels(dataset: GraphDataset) -> torch.Tensor | None:
    """All targets, or ``None`` when the graphs carry none."""
    graphs = dataset.graphs
    if not graphs or any(getattr(g, "y", None) is None for g in graphs):
        return None
    return dataset.y


def _texts(dataset: GraphDataset) -> dict[str, int] | None:
    """Nodes with and without text (``None`` when there are no texts)."""
    if dataset.texts is None:
        return None
    flat = [t for per_graph in dataset.texts for t in per_graph]
    missing = sum(is_missing_text(t) for t in flat)
    return {"with_text": len(flat) - missing, "missing": missing}


def summary_table(summary: dict[str, Any]) -> str:
    """A plain-text, aligned two-column table of :func:`summarize` output.

    Args:
        summary (dict): the result of :func:`summarize`.

    Returns:
        str: one line per figure, names padded to one width.
    """
    rows = _rows(summary)
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    """The (name, value) lines of :func:`summary_table`."""
    nodes, edges, deg = s["nodes"], s["edges"], s["degree"]
    labelled = bool(s.get("class_counts") or s.get("target"))
    task = s["task"] if labelled else "no labels"
    rows = [
        ("dataset", f"{s['name']} ({s['level']} level, {task})"),
        ("graphs", f"{s['graphs']:,}"),
        ("nodes", f"{nodes['total']:,} (per graph mean {nodes['mean']:.1f}, "
                  f"min {nodes['min']}, max {nodes['max']})"),
        ("edges (directed rows)", f"{edges['directed']:,}"),
        ("edges (undirected)", "-" if edges["undirected"] is None
         else f"{edges['undirected']:,}"),
        ("node features", str(s["num_features"])),
        ("edge features", str(s["num_edge_features"])),
        ("classes", str(s["num_classes"]) if s["classes"]
         else "regression" if labelled else "none (no labels)"),
    ]
    if s.get("class_counts"):
        names = s.get("label_names") or s["classes"]
        counts = ", ".join(
            f"{name}: {c} ({s['class_fractions'][k]:.1%})"
            for name, (k, c) in zip(names, s["class_counts"].items())
        )
        rows.append(("class counts", counts))
    if s.get("target"):
        t = s["target"]
        rows.append(("target", f"mean {t['mean']:.3g}, std {t['std']:.3g}, "
                               f"min {t['min']:.3g}, max {t['max']:.3g}"))
    rows += [
        ("degree", f"mean {deg['mean']:.2f}, median {deg['median']:g}, "
                   f"max {deg['max']}"),
        ("isolated nodes", str(s["isolated_nodes"])),
        ("self-loops", str(s["self_loops"])),
        ("duplicate edges", _duplicates(s)),
    ]
    if s["texts"] is not None:
        rows.append(("nodes with text", f"{s['texts']['with_text']} "
                                        f"({s['texts']['missing']} missing)"))
    return rows


def _duplicates(s: dict[str, Any]) -> str:
    """Duplicate rows left, and those the reader dropped, if any."""
    removed = s.get("duplicate_edges_removed")
    note = f" ({removed:,} removed on reading)" if removed else ""
    return f"{s['duplicate_edges']:,}{note}"
