"""Why this prediction? Node, edge and feature attributions for graph and
node predictions, computed with PyG's ``Explainer`` (Captum's Integrated
Gradients, Saliency and InputXGradient, or GNNExplainer) and mapped back to
the user's node ids and edge rows, with PyG's fidelity+/fidelity-."""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.explain import Explainer
from torch_geometric.explain import Explanation as PygExplanation
from torch_geometric.explain.metric import fidelity

from gnnkit.data.dataset import GraphDataset
from gnnkit.explain.problems import (
    Problem,
    graph_problem,
    node_position,
    node_problem,
    node_source,
)
from gnnkit.explain.results import FIDELITY_TOPK, Attribution
from gnnkit.explain.wrappers import (
    DEFAULT_METHOD,
    ExplainableModel,
    adds_self_loops,
    check_method,
    make_explainer,
    predict_target,
    reset_edge_masks,
)


def explain_graph(
    model: nn.Module,
    source: GraphDataset | Batch | Data,
    index: int = 0,
    *,
    method: str = DEFAULT_METHOD,
    target: int | None = None,
    node_ids: Sequence[Any] | None = None,
    task: str | None = None,
    n_steps: int = 50,
    epochs: int = 100,
    fidelity_topk: float = FIDELITY_TOPK,
    seed: int = 0,
) -> Attribution:
    """Explain a graph-level prediction.

    Captum methods run on the graph where it sits: a graph inside a PyG
    ``Batch`` is explained in that batch (only its output row is
    attributed, so the other graphs get exactly zero, reported as
    ``outside``), giving the same masks as explaining it alone.
    GNNExplainer's size and entropy penalties depend on the whole mask, so
    it explains the graph taken out of the batch.

    Args:
        model (nn.Module): a graph-level model whose ``forward(x,
            edge_index, batch, ...)`` pools inside.
        source (GraphDataset, Batch or Data): a dataset (``index`` is the
            graph's position), a batch (``index`` is the position in the
            batch) or one graph.
        index (int, optional): which graph. (default: ``0``)
        method (str, optional): ``"integrated_gradients"``,
            ``"saliency"``, ``"input_x_gradient"`` or ``"gnnexplainer"``.
            (default: ``"integrated_gradients"``)
        target (int, optional): class to explain (default: the predicted
            class).
        node_ids (sequence, optional): original node ids of the graph
            (default: from the dataset, else positions).
        task (str, optional): ``"classification"`` or ``"regression"``
            (default: the dataset's task, else classification).
        n_steps (int, optional): Integrated Gradients steps.
            (default: ``50``)
        epochs (int, optional): GNNExplainer steps. (default: ``100``)
        fidelity_topk (float, optional): share of nodes and edges that form
            the explanatory subgraph for fidelity. (default: ``0.25``)
        seed (int, optional): seed for GNNExplainer. (default: ``0``)

    Returns:
        Attribution: masks keyed by original node ids and edge rows.

    Raises:
        DataError: if ``index`` is out of range.
        ModelError: if the model does not return one row per graph.

    Example:
        >>> dataset = load_dataset("MUTAG")
        >>> explain_graph(model, dataset, 3).top_nodes(3)
    """
    check_method(method)
    problem, item, ids, names, task = graph_problem(
        source, index, node_ids, task, method)
    options = dict(n_steps=n_steps, epochs=epochs)
    return _explain(model, problem, "graph", method, task, target, item,
                    ids, names, fidelity_topk, seed, options)


def explain_node(
    model: nn.Module,
    source: GraphDataset | Data,
    node: Any,
    *,
    method: str = DEFAULT_METHOD,
    target: int | None = None,
    node_ids: Sequence[Any] | None = None,
    task: str | None = None,
    khop: bool = True,
    n_steps: int = 50,
    epochs: int = 100,
    fidelity_topk: float = FIDELITY_TOPK,
    seed: int = 0,
) -> Attribution:
    """Explain a node-level prediction on the node's k-hop subgraph.

    ``k`` is the number of message-passing layers, so the subgraph holds
    everything the prediction can depend on and the masks equal those of
    the full graph (one more hop is used for computing when a layer
    normalises by degree, as GCN does). Reported are the ``k``-hop nodes
    and the edges among them.

    Args:
        model (nn.Module): a node-level model.
        source (GraphDataset or Data): a node-level dataset (``node`` is an
            original node id) or a graph (``node`` is a position, or an id
            from ``node_ids``).
        node (Any): the node to explain.
        method (str, optional): as in :func:`explain_graph`.
        target (int, optional): class to explain (default: predicted).
        node_ids (sequence, optional): original ids of the graph's nodes.
        task (str, optional): ``"classification"`` or ``"regression"``.
        khop (bool, optional): compute on the k-hop subgraph; ``False``
            runs on the whole graph. (default: ``True``)
        n_steps (int, optional): Integrated Gradients steps.
        epochs (int, optional): GNNExplainer steps.
        fidelity_topk (float, optional): as in :func:`explain_graph`.
        seed (int, optional): seed for GNNExplainer.

    Returns:
        Attribution: masks over the node's receptive field.

    Raises:
        DataError: if ``node`` is not a node of the graph.
    """
    check_method(method)
    data, ids, names, task = node_source(source, node_ids, task)
    position = node_position(ids, node, node_ids is None
                              and not isinstance(source, GraphDataset))
    problem = node_problem(model, data, position, khop)
    options = dict(n_steps=n_steps, epochs=epochs)
    return _explain(model, problem, "node", method, task, target,
                    ids[position], ids, names, fidelity_topk, seed, options)


def _explain(model, problem, level, method, task, target, item, ids,
             names, topk, seed, options) -> Attribution:
    explainer = make_explainer(model, level=level, task=task,
                               method=method,
                               out_channels=_width(model, problem, level),
                               **options)
    keep = _edges_to_keep(model, explainer, problem)
    run = _without_edges(problem, keep)
    with torch.no_grad():
        prediction = explainer.get_prediction(run.x, run.edge_index,
                                              **run.extras)
    targets = predict_target(explainer, prediction, target, run.index)
    masks = _masks(explainer, run, targets, seed)
    fid = _fidelity(explainer, run, masks, targets, topk)
    return _attribution(problem, keep, masks, fid, level, method, item,
                        ids, names, targets, prediction, topk)


def _width(model: nn.Module, problem: Problem, level: str) -> int:
    """Output width of ``model``, from one forward pass."""
    wrapper = ExplainableModel(model, level)
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = wrapper(problem.x, problem.edge_index, **problem.extras)
    finally:
        model.train(training)
    return int(out.size(-1)) if out.dim() > 1 else 1


def _edges_to_keep(model, explainer: Explainer, problem: Problem) -> Tensor:
    """User self-loops are left out when the layers add their own and the
    prediction is unchanged, so masks never land on a replaced loop."""
    edge_index = problem.edge_index
    keep = torch.ones(edge_index.size(1), dtype=torch.bool)
    loops = edge_index[0] == edge_index[1]
    if not loops.any() or not adds_self_loops(model):
        return keep
    stripped = _without_edges(problem, ~loops)
    with torch.no_grad():
        full = explainer.get_prediction(problem.x, edge_index,
                                        **problem.extras)
        less = explainer.get_prediction(stripped.x, stripped.edge_index,
                                        **stripped.extras)
    return ~loops if torch.allclose(full, less, atol=1e-6) else keep


def _without_edges(problem: Problem, keep: Tensor) -> Problem:
    if bool(keep.all()):
        return problem
    extras = dict(problem.extras)
    for key in ("edge_attr", "edge_weight"):
        if extras[key] is not None:
            extras[key] = extras[key][keep]
    return Problem(problem.x, problem.edge_index[:, keep], extras,
                    problem.index, problem.node_pos, problem.edge_pos[keep],
                    problem.region_nodes, problem.region_edges[keep])


def _masks(explainer, run: Problem, targets: Tensor, seed: int):
    reset_edge_masks(explainer.model)
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        torch.manual_seed(seed)
        warnings.filterwarnings(
            "ignore", message=".*did not already require gradients")
        try:
            out = explainer(run.x, run.edge_index, target=targets,
                            index=run.index, **run.extras)
        finally:
            reset_edge_masks(explainer.model)
    node_mask = out.node_mask.detach()
    edge_mask = out.get("edge_mask")
    return node_mask, None if edge_mask is None else edge_mask.detach()


def _fidelity(explainer, run: Problem, masks, targets, topk: float):
    if explainer.model_config.mode.value == "regression":
        return None, None
    node_mask, edge_mask = masks
    hard_nodes = _top_share(node_mask.sum(-1), run.region_nodes, topk)
    hard = PygExplanation(
        x=run.x, edge_index=run.edge_index,
        node_mask=hard_nodes.float().view(-1, 1).expand_as(run.x),
    )
    if edge_mask is not None:
        hard.edge_mask = _top_share(edge_mask, run.region_edges,
                                    topk).float()
    used = {k: v for k, v in run.extras.items() if v is not None}
    for key, value in used.items():
        hard[key] = value
    hard._model_args = list(used)
    hard.target, hard.index = targets, torch.tensor([run.index])
    return fidelity(explainer, hard)


def _top_share(score: Tensor, region: Tensor, share: float) -> Tensor:
    """Boolean mask of the top ``share`` of ``region`` by magnitude."""
    count = int(region.sum())
    keep = torch.zeros_like(region)
    if count == 0:
        return keep
    k = max(1, math.ceil(share * count))
    inside = region.nonzero().view(-1)
    best = score[inside].abs().topk(min(k, count)).indices
    keep[inside[best]] = True
    return keep


def _attribution(problem, keep, masks, fid, level, method, item, ids,
                 names, targets, prediction, topk) -> Attribution:
    node_mask, edge_mask = masks
    full_edges = None
    if edge_mask is not None:
        full_edges = edge_mask.new_zeros(keep.numel())
        full_edges[keep] = edge_mask
    nodes, edges = problem.region_nodes, problem.region_edges
    outside = _outside(node_mask, nodes, full_edges, edges)
    node_pos = problem.node_pos[nodes]
    local = torch.full((problem.x.size(0),), -1, dtype=torch.long)
    local[nodes] = torch.arange(int(nodes.sum()))
    edge_index = local[problem.edge_index[:, edges]]
    row = problem.index
    return Attribution(
        method=method, level=level, item=item,
        target=_plain(targets[row]),
        prediction=prediction[row].view(-1).tolist(),
        node_ids=[ids[i] for i in node_pos.tolist()],
        node_mask=node_mask[nodes],
        edge_index=edge_index,
        edge_rows=problem.edge_pos[edges],
        edge_mask=None if full_edges is None else full_edges[edges],
        self_loop=edge_index[0] == edge_index[1],
        fidelity_plus=None if fid[0] is None else float(fid[0]),
        fidelity_minus=None if fid[1] is None else float(fid[1]),
        outside=outside, feature_names=names, fidelity_topk=topk,
    )


def _outside(node_mask, nodes, edge_mask, edges) -> float:
    values = [node_mask[~nodes].abs().flatten()]
    if edge_mask is not None:
        values.append(edge_mask[~edges].abs())
    values = torch.cat(values)
    return float(values.max()) if values.numel() else 0.0


def _plain(value: Tensor) -> Any:
    value = value.view(-1)
    if value.numel() > 1:
        return value.tolist()
    return value.item()
