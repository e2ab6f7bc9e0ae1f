"""Link-prediction metrics (ROC-AUC, MRR, Hits@k) and top-k link lists.

Ranks follow the filtered protocol of Bordes et al. (2013): the true answer
of a query is ranked among all candidates after removing the *other* known
true answers (from train, validation and test), so a model is not penalised
for ranking another correct answer first. The rank primitives live in
:mod:`gnnkit.data.knowledge`, so the training tasks validate with the same
code, and are re-exported here.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from torch import Tensor, nn

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.knowledge import (
    answer_sets,
    filter_mask,
    filtered_ranks,
    ranking_metrics,
)
from gnnkit.errors import DataError
from gnnkit.models.link import LinkModel
from gnnkit.train.kg_tasks import KGTask

__all__ = [
    "answer_sets",
    "filter_mask",
    "filtered_ranks",
    "hits_at_k",
    "link_auc",
    "mean_reciprocal_rank",
    "ranking_metrics",
    "recommend",
    "top_triples",
]


def link_auc(
    pos_score: torch.Tensor, neg_score: torch.Tensor
) -> dict[str, float]:
    """ROC-AUC and average precision of positive against negative pairs.

    Args:
        pos_score (Tensor): scores of true links ``[P]``.
        neg_score (Tensor): scores of sampled non-links ``[Q]``.

    Returns:
        dict: ``{"roc_auc", "average_precision", "num_pos", "num_neg"}``.

    Raises:
        ValueError: there are no positive or no negative scores.
    """
    pos = pos_score.detach().float().view(-1).cpu()
    neg = neg_score.detach().float().view(-1).cpu()
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError(
            "link_auc needs positive and negative scores "
            f"(got {pos.numel()} positive, {neg.numel()} negative)."
        )
    y_true = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
    y_score = torch.cat([pos, neg])
    return {
        "roc_auc": float(roc_auc_score(y_true, y_score)),
        "average_precision": float(average_precision_score(y_true, y_score)),
        "num_pos": int(pos.numel()),
        "num_neg": int(neg.numel()),
    }


def hits_at_k(ranks: torch.Tensor, k: int) -> float:
    """Fraction of ranks that are at most ``k``."""
    return float((ranks.float() <= k).float().mean())


def mean_reciprocal_rank(ranks: torch.Tensor) -> float:
    """Mean of ``1 / rank``."""
    return float((1.0 / ranks.float()).mean())


def recommend(
    model: LinkModel,
    dataset: GraphDataset,
    node_id: Any,
    k: int = 10,
    *,
    x: Tensor | None = None,
    edge_index: Tensor | None = None,
    exclude: Sequence[Any] | Tensor | None = None,
) -> list[dict[str, Any]]:
    """The top-``k`` new links of one node, with the texts of the targets.

    For a citation graph: "which papers should this one cite?". Nodes it
    is already linked to in ``edge_index`` (and ``exclude``) are left out.

    Args:
        model (LinkModel): a trained link model.
        dataset (GraphDataset): node-level dataset with ``node_ids`` and
            ``texts``.
        node_id: the original id of the query node.
        k (int, optional): number of suggestions (default: ``10``).
        x (Tensor, optional): node features (default: the graph's ``x``).
        edge_index (Tensor, optional): message-passing edges (default:
            the graph's edges).
        exclude (sequence or Tensor, optional): further node indices not
            to suggest.

    Returns:
        list[dict]: ``{"rank", "index", "id", "score", "text"}`` per
        suggestion, best first (``score`` is a probability).
    """
    graph = dataset.graphs[0]
    ids = list(dataset.node_ids[0])
    if node_id not in ids:
        raise DataError(
            f"node {node_id!r} is not in dataset "
            f"'{dataset.name}' (ids look like {ids[:3]})."
        )
    x = graph.x if x is None else x
    edge_index = graph.edge_index if edge_index is None else edge_index
    index = ids.index(node_id)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        z = model.encode(x, edge_index)
        scores = model.decoder.score_all(z, torch.tensor([index]))[0]
    model.train(was_training)
    known = edge_index[1, edge_index[0] == index]
    scores[known] = float("-inf")
    scores[index] = float("-inf")
    if exclude is not None:
        scores[torch.as_tensor(exclude, dtype=torch.long)] = float("-inf")
    top = scores.topk(min(k, int(torch.isfinite(scores).sum())))
    texts = dataset.texts[0] if dataset.texts else [None] * len(ids)
    return [
        {
            "rank": r + 1,
            "index": int(i),
            "id": ids[int(i)],
            "score": float(torch.sigmoid(s)),
            "text": texts[int(i)],
        }
        for r, (s, i) in enumerate(zip(top.values, top.indices))
    ]


def top_triples(
    model: nn.Module,
    task: KGTask,
    entity: int,
    k: int = 10,
    dataset: GraphDataset | None = None,
) -> list[dict[str, Any]]:
    """The ``k`` most likely new ``(entity, relation, tail)`` triples.

    Every relation is scored against every tail; triples already in the
    training graph are left out, and ``held_out`` marks those that are
    validation or test triples (true links the model never saw).

    Args:
        model (nn.Module): a trained :class:`RelationalLinkModel`.
        task (KGTask): the task it was trained on.
        entity (int): index of the head entity.
        k (int, optional): number of triples (default: ``10``).
        dataset (GraphDataset, optional): adds ids and texts of the
            relations and tails.

    Returns:
        list[dict]: ``{"rank", "relation", "tail", "probability",
        "held_out"}`` best first (``probability`` is the softmax over
        tails of the ``(entity, relation)`` query), plus ``*_id`` and
        ``*_text`` keys when ``dataset`` is given.
    """
    num_rel = task.num_relations
    was_training = model.training
    model.eval()
    with torch.no_grad():
        z = task.embed(model)
        heads = torch.full((num_rel,), int(entity), dtype=torch.long)
        probs = model.score_tails(z, heads, torch.arange(num_rel))
        probs = probs.softmax(-1)  # [num_relations, num_entities]
    model.train(was_training)
    seen = task.train[task.train[:, 0] == int(entity)]
    probs[seen[:, 1], seen[:, 2]] = -1.0
    top = probs.view(-1).topk(min(k, probs.numel()))
    rows = []
    for rank, (p, flat) in enumerate(zip(top.values, top.indices)):
        rel, tail = divmod(int(flat), probs.size(1))
        held = tail in task.answers.get((int(entity), rel), ())
        rows.append(
            {
                "rank": rank + 1,
                "relation": rel,
                "tail": tail,
                "probability": float(p),
                "held_out": held,
            }
        )
    return [_with_names(row, dataset) for row in rows]


def _with_names(row: dict, dataset: GraphDataset | None) -> dict:
    """Add relation and tail ids and texts from a knowledge graph."""
    if dataset is None:
        return row
    rel, tail = row["relation"], row["tail"]
    row["relation_id"] = dataset.meta["relations"][rel]
    row["relation_text"] = dataset.meta["relation_texts"][rel]
    row["tail_id"] = dataset.node_ids[0][tail]
    row["tail_text"] = dataset.texts[0][tail] if dataset.texts else None
    return row
