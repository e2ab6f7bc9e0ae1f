"""The computation graph an explanation runs on, and its map back to the
user's graph: a graph alone or inside a batch, or a node on its k-hop
subgraph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.utils import k_hop_subgraph

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError
from gnnkit.explain.wrappers import receptive_hops


@dataclass
class Problem:
    """The computation graph handed to PyG, and how it maps back."""

    x: Tensor
    edge_index: Tensor
    extras: dict[str, Any]
    index: int
    node_pos: Tensor  # position of each node in the user's graph
    edge_pos: Tensor  # row of each edge in the user's edge list
    region_nodes: Tensor  # bool: reported nodes
    region_edges: Tensor  # bool: reported edges


def graph_problem(source, index, node_ids, task, method):
    """The problem for graph ``index`` of a dataset, batch or graph, with
    its id, node ids, feature names and task."""
    if isinstance(source, GraphDataset):
        _check_index(index, len(source), "graph")
        graph = source.graphs[index]
        ids = list(node_ids or source.node_ids[index])
        return (_alone(graph), source.graph_ids[index], ids,
                source.feature_names, task or source.task)
    if isinstance(source, Batch):
        _check_index(index, source.num_graphs, "graph in the batch")
        if method == "gnnexplainer":
            source = source.get_example(index)
        else:
            problem = _in_batch(source, index)
            count = int(problem.region_nodes.sum())
            return (problem, index, list(node_ids or range(count)), None,
                    task or "classification")
    ids = list(node_ids or range(source.num_nodes))
    return _alone(source), index, ids, None, task or "classification"


def _check_index(index: int, size: int, what: str) -> None:
    if not 0 <= int(index) < size:
        raise DataError(
            f"index {index} is out of range: there are {size} "
            f"{what}s (valid: 0..{size - 1})."
        )


def _extras(data: Data, batch: Tensor | None, num_graphs: int | None):
    # Keyword order matters: CaptumExplainer passes them positionally.
    return dict(
        batch=batch,
        edge_attr=getattr(data, "edge_attr", None),
        edge_weight=getattr(data, "edge_weight", None),
        num_graphs=num_graphs,
    )


def _alone(graph: Data) -> Problem:
    n, e = graph.num_nodes, graph.edge_index.size(1)
    batch = torch.zeros(n, dtype=torch.long)
    return Problem(
        graph.x, graph.edge_index, _extras(graph, batch, 1), 0,
        torch.arange(n), torch.arange(e),
        torch.ones(n, dtype=torch.bool), torch.ones(e, dtype=torch.bool),
    )


def _in_batch(batch: Batch, position: int) -> Problem:
    start = int(batch.ptr[position])
    nodes = batch.batch == position
    edges = nodes[batch.edge_index[0]]
    first_edge = int(edges.nonzero()[0]) if edges.any() else 0
    return Problem(
        batch.x, batch.edge_index,
        _extras(batch, batch.batch, batch.num_graphs), position,
        torch.arange(batch.num_nodes) - start,
        torch.arange(batch.edge_index.size(1)) - first_edge,
        nodes, edges,
    )


def node_source(source, node_ids, task):
    """The graph, node ids, feature names and task of a node-level
    dataset or a plain graph."""
    if isinstance(source, GraphDataset):
        if source.level != "node":
            raise DataError(
                f"dataset '{source.name}' is graph-level; use "
                "explain_graph() for its predictions."
            )
        return (source.graphs[0], list(node_ids or source.node_ids[0]),
                source.feature_names, task or source.task)
    ids = list(node_ids or range(source.num_nodes))
    return source, ids, None, task or "classification"


def node_position(ids: list[Any], node: Any, positional: bool) -> int:
    """Where ``node`` (an original id, or a position) sits in ``ids``."""
    if positional:
        _check_index(int(node), len(ids), "node")
        return int(node)
    if node in ids:
        return ids.index(node)
    as_text = [str(i) for i in ids]
    if str(node) in as_text:
        return as_text.index(str(node))
    shown = ", ".join(as_text[:5])
    raise DataError(
        f"node {node!r} is not in the graph; node ids are original ids "
        f"such as {shown}{', ...' if len(ids) > 5 else ''}.",
        field="node",
    )


def node_problem(model, data: Data, position: int, khop: bool):
    """The problem for one node: its k-hop computation subgraph when
    ``khop``, else the whole graph; the receptive field is reported."""
    hops, hops_compute = receptive_hops(model)
    n, edge_index = data.num_nodes, data.edge_index
    region, _, _, _ = k_hop_subgraph(position, hops, edge_index,
                                     num_nodes=n)
    if khop:
        subset, sub_edges, mapping, kept = k_hop_subgraph(
            position, hops_compute, edge_index, relabel_nodes=True,
            num_nodes=n)
        edge_pos = kept.nonzero().view(-1)
        index = int(mapping[0])
    else:
        subset, sub_edges = torch.arange(n), edge_index
        edge_pos, index = torch.arange(edge_index.size(1)), position
    in_region = torch.zeros(n, dtype=torch.bool)
    in_region[region] = True
    region_nodes = in_region[subset]
    region_edges = region_nodes[sub_edges].all(dim=0)
    extras = _extras(data, None, None)
    for key in ("edge_attr", "edge_weight"):
        if extras[key] is not None:
            extras[key] = extras[key][edge_pos]
    return Problem(data.x[subset], sub_edges, extras, index, subset,
                    edge_pos, region_nodes, region_edges)
