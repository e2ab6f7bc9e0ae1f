"""Exercise checks for the teaching notebooks, as CS224W's Colabs do, and
the small graphs the notebooks teach on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch_geometric.utils import k_hop_subgraph

from gnnkit.data.dataset import GraphDataset

CHECK_PASSED = "gnnkit-check: passed"
CHECK_FAILED = "gnnkit-check: not yet"


@dataclass
class Check:
    """The verdict of an exercise check; shows itself in a notebook."""

    passed: bool
    name: str
    hint: str = ""

    def __repr__(self) -> str:
        if self.passed:
            return f"{CHECK_PASSED}: {self.name} is correct."
        return f"{CHECK_FAILED}: {self.name} -- hint: {self.hint}"

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b35900"
        mark = "&#10004;" if self.passed else "&#10008;"
        text = "correct." if self.passed else f"not yet. Hint: {self.hint}"
        return (
            f'<div style="color:{colour}"><b>{mark} {self.name}</b>: '
            f"{text}</div>"
        )


def check_answer(
    name: str,
    answer: Any,
    expected: Any,
    *,
    hint: str,
    atol: float = 1e-4,
    rtol: float = 5e-3,
) -> Check:
    """Compare a learner's answer with the value a cell computed.

    Numbers (and tensors or arrays of them) match when they differ by at
    most ``atol`` or by at most ``rtol`` of the larger one, so an answer
    typed with three significant digits (``0.665`` for ``125 / 188``)
    passes. Two ints, strings, bools and other values must be equal. The
    returned :class:`Check` shows a tick, or the ``hint`` when the answer
    is not right yet.

    Args:
        name (str): what the exercise asks for, shown in the verdict.
        answer: the learner's value.
        expected: the value computed by the notebook.
        hint (str): shown when the answer is wrong.
        atol (float): absolute tolerance for numbers (default: ``1e-4``).
        rtol (float): relative tolerance for numbers (default: ``5e-3``,
            about three significant digits).

    Example:
        >>> check_answer("edge rows", 8, 8, hint="count both directions")
        gnnkit-check: passed: edge rows is correct.
    """
    return Check(_matches(answer, expected, atol, rtol), name, hint)


def _matches(answer: Any, expected: Any, atol: float, rtol: float) -> bool:
    """Whether ``answer`` equals ``expected`` (numbers within tolerance)."""
    if answer is None:
        return False
    if hasattr(expected, "tolist"):
        expected = expected.tolist()
    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(answer, (list, tuple))
            and len(answer) == len(expected)
            and all(
                _matches(a, e, atol, rtol) for a, e in zip(answer, expected)
            )
        )
    if isinstance(expected, float) or isinstance(answer, float):
        try:
            return math.isclose(
                float(answer), float(expected), rel_tol=rtol, abs_tol=atol
            )
        except (TypeError, ValueError):
            return False
    return answer == expected


def node_subgraph(
    dataset: GraphDataset, seeds: Sequence[int], hops: int = 2
) -> GraphDataset:
    """The part of a node-level dataset within ``hops`` of ``seeds``.

    Notebooks use it to train language models on a few hundred nodes of a
    large text-attributed graph. Node features, labels, edge fields,
    original ids and texts of the kept nodes are carried over, in the
    original node order, and edges among them are kept.

    Args:
        dataset (GraphDataset): a node-level dataset (one graph).
        seeds (sequence of int): node positions to start from.
        hops (int): neighbourhood radius (default: ``2``).

    Returns:
        GraphDataset: the induced subgraph, named ``"<name>-<n>"``.

    Raises:
        ValueError: for a graph-level dataset or a seed out of range.
    """
    if dataset.level != "node":
        raise ValueError(
            f"node_subgraph() needs a node-level dataset (got level="
            f"{dataset.level!r}); use dataset.subset() to pick graphs."
        )
    graph = dataset.graphs[0]
    seeds = torch.as_tensor(list(seeds), dtype=torch.long)
    if (
        seeds.numel() == 0
        or int(seeds.max()) >= graph.num_nodes
        or int(seeds.min()) < 0
    ):
        raise ValueError(
            f"seeds must be node positions in [0, {graph.num_nodes}) "
            f"(got {seeds.tolist()})."
        )
    nodes, _, _, _ = k_hop_subgraph(
        seeds, hops, graph.edge_index, num_nodes=graph.num_nodes
    )
    keep = nodes.tolist()  # sorted positions
    texts = (
        None
        if dataset.texts is None
        else [[dataset.texts[0][i] for i in keep]]
    )
    return GraphDataset(
        graphs=[graph.subgraph(nodes)],
        level="node",
        name=f"{dataset.name}-{len(keep)}",
        classes=dataset.classes,
        node_ids=[[dataset.node_ids[0][i] for i in keep]],
        texts=texts,
        feature_names=dataset.feature_names,
        meta=dict(dataset.meta),
    )
