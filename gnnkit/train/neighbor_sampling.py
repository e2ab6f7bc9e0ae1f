"""Neighbour sampling on a CSR view of a graph's incoming edges.

Starting from a batch of seed nodes, every hop keeps a bounded number of
random neighbours per node (GraphSAGE-style fan-out, Hamilton et al.,
2017), so the sampled subgraph stays small whatever the graph size.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor


def neighbor_ptr(edge_index: Tensor, num_nodes: int) -> tuple[Tensor,
                                                                Tensor]:
    """CSR form of the incoming neighbours: ``(rowptr, col)``.

    ``col[rowptr[v]:rowptr[v + 1]]`` are the sources of the edges that
    end in ``v`` (the nodes ``v`` aggregates from).
    """
    src, dst = edge_index
    order = torch.argsort(dst, stable=True)
    counts = torch.bincount(dst, minlength=num_nodes)
    rowptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    return rowptr, src[order]


def sample_neighbors(
    seeds: Tensor,
    rowptr: Tensor,
    col: Tensor,
    num_neighbors: Sequence[int],
    generator: torch.Generator | None = None,
) -> Tensor:
    """Nodes reached from ``seeds`` by sampling neighbours hop by hop.

    At hop ``i`` every newly reached node keeps at most
    ``num_neighbors[i]`` of its neighbours, drawn without replacement
    (``-1`` keeps all of them).

    Args:
        seeds (Tensor): start nodes ``[b]``.
        rowptr (Tensor): CSR pointers from :func:`neighbor_ptr`.
        col (Tensor): CSR neighbours from :func:`neighbor_ptr`.
        num_neighbors (sequence of int): fan-out per hop.
        generator (torch.Generator, optional): source of randomness.

    Returns:
        Tensor: node ids, the seeds first (in order), then the sampled
        nodes in the order they were reached.
    """
    nodes = [seeds]
    seen = torch.zeros(rowptr.numel() - 1, dtype=torch.bool)
    seen[seeds] = True
    frontier = seeds
    for fanout in num_neighbors:
        picked = _pick(frontier, rowptr, col, fanout, generator)
        fresh = picked[~seen[picked]].unique()
        if fresh.numel() == 0:
            break
        seen[fresh] = True
        nodes.append(fresh)
        frontier = fresh
    return torch.cat(nodes)


def _pick(frontier: Tensor, rowptr: Tensor, col: Tensor, fanout: int,
          generator: torch.Generator | None) -> Tensor:
    """Up to ``fanout`` random neighbours of every frontier node."""
    starts = rowptr[frontier]
    degree = rowptr[frontier + 1] - starts
    group = torch.repeat_interleave(torch.arange(frontier.numel()), degree)
    first = torch.cat([degree.new_zeros(1), degree.cumsum(0)[:-1]])
    position = torch.arange(group.numel()) - first[group] + starts[group]
    if fanout < 0:
        return col[position]
    noise = torch.rand(group.numel(), generator=generator,
                       dtype=torch.float64)
    order = torch.argsort(group.double() + noise)  # random within group
    rank = torch.arange(group.numel()) - first[group[order]]
    return col[position[order][rank < fanout]]
