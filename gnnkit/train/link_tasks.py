"""Training task for link prediction on one graph.

:class:`LinkTask` holds out positive edges with PyG's ``RandomLinkSplit``
and samples fresh negatives each epoch with ``negative_sampling``;
knowledge-graph completion lives in :mod:`gnnkit.train.kg_tasks`.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.transforms import RandomLinkSplit
from torch_geometric.utils import is_undirected, negative_sampling

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.knowledge import (
    answer_sets,
    filter_mask,
    filtered_ranks,
    ranking_metrics,
)
from gnnkit.errors import DataError
from gnnkit.train.tasks import Task


def split_edges(
    data: Data,
    *,
    val_ratio: float = 0.05,
    test_ratio: float = 0.1,
    seed: int = 0,
) -> tuple[Data, Data, Data]:
    """Hold out positive edges (and as many negatives) for val and test.

    A thin, seeded call of PyG's ``RandomLinkSplit``: each part's
    ``edge_index`` holds the edges it may pass messages over (train for
    train and validation, train + validation for test), and
    ``pos_edge_label_index`` / ``neg_edge_label_index`` the pairs to score.
    Undirected graphs are split by undirected pair.

    Args:
        data (Data): the graph with ``x`` and ``edge_index``.
        val_ratio (float, optional): share of edges for validation
            (default: ``0.05``).
        test_ratio (float, optional): share for testing (default: ``0.1``).
        seed (int, optional): seed of the split (default: ``0``).

    Returns:
        tuple: ``(train_data, val_data, test_data)``.
    """
    if data.edge_index is None or data.edge_index.size(1) < 10:
        raise DataError(
            "link prediction needs a graph with at least 10 "
            "edges to hold some out.",
            field="edge_index",
        )
    undirected = is_undirected(data.edge_index, num_nodes=data.num_nodes)
    split = RandomLinkSplit(
        num_val=val_ratio,
        num_test=test_ratio,
        is_undirected=undirected,
        split_labels=True,
        add_negative_train_samples=False,
    )
    plain = Data(
        x=data.x, edge_index=data.edge_index, num_nodes=data.num_nodes
    )
    with _seeded(seed):
        parts = split(plain)
    for name, part in zip(("validation", "test"), parts[1:]):
        if part.pos_edge_label_index.size(1) == 0:
            raise DataError(
                f"the {name} part holds no edge (val_ratio={val_ratio}, "
                f"test_ratio={test_ratio} of {data.edge_index.size(1)} "
                "edges); raise the ratio or use a larger graph.",
                field="edge_index",
            )
    return parts


class LinkTask(Task):
    """Link prediction with held-out positive edges.

    Each epoch is one full-graph step: embeddings from the training
    edges, binary cross-entropy on the training edges against as many
    fresh negatives per positive as ``num_neg``. Validation reports
    ROC-AUC on the held-out edges and the fixed negatives of
    ``RandomLinkSplit``; ``monitor`` is ``"val_roc_auc"``.

    Args:
        data (Data or GraphDataset): the graph, ``x`` set (e.g. LM
            embeddings of the node texts).
        val_ratio (float, optional): validation edge share (default: 0.05).
        test_ratio (float, optional): test edge share (default: ``0.1``).
        seed (int, optional): seed of the edge split (default: ``0``).
        num_neg (int, optional): negatives per positive (default: ``1``).
    """

    monitor = "val_roc_auc"
    mode = "max"

    def __init__(
        self,
        data: Data | GraphDataset,
        *,
        val_ratio: float = 0.05,
        test_ratio: float = 0.1,
        seed: int = 0,
        num_neg: int = 1,
    ) -> None:
        data = data.graphs[0] if isinstance(data, GraphDataset) else data
        if getattr(data, "x", None) is None:
            raise DataError(
                "the graph has no node features x; attach text "
                "embeddings (TextEncoder.encode) or features "
                "first.",
                field="x",
            )
        self.data = data
        self.num_neg = int(num_neg)
        self.train_data, self.val_data, self.test_data = split_edges(
            data, val_ratio=val_ratio, test_ratio=test_ratio, seed=seed
        )

    def train_batches(self, generator: torch.Generator) -> list[tuple]:
        """One full-graph batch per epoch, with a seed for its negatives."""
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        return [(self.train_data, seed)]

    def loss(self, model: nn.Module, batch: tuple[Data, int]) -> Tensor:
        """BCE on training edges against freshly sampled negatives."""
        data, seed = batch
        z = model.encode(data.x, data.edge_index)
        pos = data.pos_edge_label_index
        neg = _negatives(data, pos.size(1) * self.num_neg, seed)
        return _bce(model.decode(z, pos), model.decode(z, neg))

    def validate(self, model: nn.Module) -> dict[str, float]:
        """``loss``, ``roc_auc`` and ``average_precision`` on validation."""
        pos, neg = self.scores(model, self.val_data)
        return _pair_metrics(pos, neg)

    def evaluate(
        self,
        model: nn.Module,
        part: str = "test",
        ks: Sequence[int] = (1, 10, 50),
    ) -> dict[str, Any]:
        """ROC-AUC of the held-out links and their filtered ranks.

        Args:
            model (LinkModel): the trained model.
            part (str, optional): ``"test"`` or ``"val"`` (default:
                ``"test"``).
            ks (sequence of int, optional): Hits@k cut-offs (default:
                ``(1, 10, 50)``).

        Returns:
            dict: ``roc_auc``, ``average_precision``, ``loss``, the
            ranking metrics (``mrr``, ``hits@k``, ...) of :meth:`ranks`,
            ``num_pos`` and ``num_neg``.
        """
        data = self.part(part)
        with eval_mode(model):
            pos, neg = self.scores(model, data)
            out = _pair_metrics(pos, neg)
            out.update(ranking_metrics(self.ranks(model, data), ks))
        return {**out, "num_pos": pos.numel(), "num_neg": neg.numel()}

    def part(self, name: str) -> Data:
        """``"train"``, ``"val"`` or ``"test"`` data of the edge split."""
        parts = {
            "train": self.train_data,
            "val": self.val_data,
            "test": self.test_data,
        }
        if name not in parts:
            raise ValueError(
                f"part must be one of {sorted(parts)} (got {name!r})."
            )
        return parts[name]

    def scores(self, model: nn.Module, data: Data) -> tuple[Tensor, Tensor]:
        """Logits of the positive and negative held-out pairs of ``data``."""
        z = model.encode(data.x, data.edge_index)
        return (
            model.decode(z, data.pos_edge_label_index),
            model.decode(z, data.neg_edge_label_index),
        )

    def ranks(self, model: nn.Module, data: Data, chunk: int = 128) -> Tensor:
        """Filtered rank of each held-out link among all nodes.

        For each held-out edge ``(u, v)`` (both ways when undirected) the
        true end ``v`` is ranked among all nodes after removing the other
        known links of ``u`` (train, validation and test).
        """
        z = model.encode(data.x, data.edge_index)
        pairs = data.pos_edge_label_index
        if is_undirected(self.data.edge_index, num_nodes=z.size(0)):
            pairs = torch.cat([pairs, pairs.flip(0)], 1)
        answers = answer_sets([_as_triples(self.data.edge_index)])
        ranks = []
        for part in pairs.split(chunk, dim=1):
            queries = torch.stack([part[0], torch.zeros_like(part[0])], 1)
            mask = filter_mask(queries, answers, z.size(0))
            scores = model.decoder.score_all(z, part[0])
            ranks.append(filtered_ranks(scores, part[1], mask))
        return torch.cat(ranks)


@contextmanager
def _seeded(seed: int):
    """Seed torch and Python's ``random`` (which PyG's negative sampling
    draws from), restoring both states afterwards."""
    state = random.getstate()
    random.seed(seed)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        random.setstate(state)


@contextmanager
def eval_mode(model: nn.Module):
    """Eval mode without autograd; the previous mode is restored."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


def _negatives(data: Data, num: int, seed: int) -> Tensor:
    """Repeatable ``negative_sampling`` of ``num`` non-edges."""
    with _seeded(seed):
        return negative_sampling(data.edge_index, data.num_nodes, num)


def _pair_metrics(pos: Tensor, neg: Tensor) -> dict[str, float]:
    """Validation loss, ROC-AUC and average precision of pair logits."""
    y = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
    score = torch.cat([pos, neg]).float()
    return {
        "loss": float(_bce(pos, neg)),
        "roc_auc": float(roc_auc_score(y, score)),
        "average_precision": float(average_precision_score(y, score)),
    }


def _as_triples(edge_index: Tensor) -> Tensor:
    """Edges as ``(src, 0, dst)`` rows, to reuse the triple filters."""
    zeros = torch.zeros_like(edge_index[0])
    return torch.stack([edge_index[0], zeros, edge_index[1]], 1)


def _bce(pos: Tensor, neg: Tensor) -> Tensor:
    """Binary cross-entropy of positive and negative pair logits."""
    logits = torch.cat([pos, neg])
    target = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
    return F.binary_cross_entropy_with_logits(logits, target)
