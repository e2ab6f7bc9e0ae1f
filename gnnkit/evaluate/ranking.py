"""Link-prediction metrics: ROC-AUC of scored pairs, MRR and Hits@k.

Ranks follow the filtered protocol of Bordes et al. (2013).

In the filtered protocol the true answer of a query is ranked among all
candidates after removing the *other* known true answers (from train,
validation and test), so a model is not penalised for ranking another
correct answer first.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch
from sklearn.metrics import average_precision_score, roc_auc_score

Answers = dict[tuple[int, int], list[int]]


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


def answer_sets(triples: Iterable[torch.Tensor]) -> Answers:
    """Every known answer of every ``(query entity, relation)`` pair.

    Args:
        triples (iterable of Tensor): ``[M, 3]`` tensors of
            ``(head, relation, tail)`` rows, e.g. train, valid and test.

    Returns:
        dict: ``(head, relation) -> sorted list of tails``.
    """
    answers: dict[tuple[int, int], set[int]] = {}
    for part in triples:
        for h, r, t in part.tolist():
            answers.setdefault((h, r), set()).add(t)
    return {key: sorted(value) for key, value in answers.items()}


def filter_mask(
    queries: torch.Tensor, answers: Answers, num_candidates: int
) -> torch.Tensor:
    """Boolean ``[B, num_candidates]`` mask of known answers per query.

    Args:
        queries (Tensor): ``[B, 2]`` rows of ``(entity, relation)``.
        answers (dict): from :func:`answer_sets`.
        num_candidates (int): number of entities.
    """
    mask = torch.zeros(len(queries), num_candidates, dtype=torch.bool)
    for row, (h, r) in enumerate(queries.tolist()):
        known = answers.get((h, r))
        if known:
            mask[row, known] = True
    return mask


def filtered_ranks(
    scores: torch.Tensor,
    target: torch.Tensor,
    known: torch.Tensor | None = None,
) -> torch.Tensor:
    """1-based rank of each target among all candidates (higher = better).

    Candidates marked in ``known`` other than the target itself are
    removed first (the filtered setting); without ``known`` the ranks are
    "raw". Ties count half: ``rank = 1 + #better + #tied / 2``, the
    expected rank under a random order of tied candidates (PyKEEN's
    "realistic" rank), so a constant scorer gets the middle rank, not
    rank 1.

    Args:
        scores (Tensor): ``[B, N]`` score of every candidate per query.
        target (Tensor): ``[B]`` index of the true candidate.
        known (Tensor, optional): ``[B, N]`` boolean mask of all known
            true candidates (the target may be included).

    Returns:
        Tensor: ``[B]`` float ranks.

    Example:
        >>> scores = torch.tensor([[0.9, 0.5, 0.7]])
        >>> known = torch.tensor([[True, True, False]])
        >>> filtered_ranks(scores, torch.tensor([1]), known)
        tensor([2.])
    """
    scores = scores.detach().float()
    rows = torch.arange(scores.size(0))
    true_score = scores[rows, target].unsqueeze(1)
    drop = torch.zeros_like(scores, dtype=torch.bool)
    if known is not None:
        drop = known.to(scores.device).clone()
    drop[rows, target] = True  # the target is not its own competitor
    better = ((scores > true_score) & ~drop).sum(dim=1)
    tied = ((scores == true_score) & ~drop).sum(dim=1)
    return 1.0 + better.float() + tied.float() / 2.0


def ranking_metrics(
    ranks: torch.Tensor, ks: Sequence[int] = (1, 3, 10)
) -> dict[str, float]:
    """MRR, mean rank and Hits@k of a set of ranks.

    Args:
        ranks (Tensor): 1-based ranks (float ranks from ties allowed).
        ks (sequence of int, optional): the cut-offs ``k`` of Hits@k
            (default: ``(1, 3, 10)``).

    Returns:
        dict: ``{"mrr", "mean_rank", "hits@1", ..., "count"}``.
    """
    ranks = ranks.detach().float().view(-1)
    if ranks.numel() == 0:
        raise ValueError("ranking_metrics needs at least one rank (got 0).")
    out = {
        "mrr": float((1.0 / ranks).mean()),
        "mean_rank": float(ranks.mean()),
    }
    for k in ks:
        out[f"hits@{k}"] = float((ranks <= k).float().mean())
    out["count"] = int(ranks.numel())
    return out


def hits_at_k(ranks: torch.Tensor, k: int) -> float:
    """Fraction of ranks that are at most ``k``."""
    return float((ranks.float() <= k).float().mean())


def mean_reciprocal_rank(ranks: torch.Tensor) -> float:
    """Mean of ``1 / rank``."""
    return float((1.0 / ranks.float()).mean())
