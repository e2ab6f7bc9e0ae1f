"""Training tasks for link prediction and knowledge-graph completion.

:class:`LinkTask` holds out positive edges with PyG's ``RandomLinkSplit``
and samples fresh negatives each epoch with ``negative_sampling``;
:class:`KGTask` trains 1-vs-all scoring of heads and tails and ranks them
with the filtered protocol.
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
        with _eval_mode(model):
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
def _eval_mode(model: nn.Module):
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


class KGTask(Task):
    """Knowledge-graph completion by 1-vs-all scoring (Dettmers et al.).

    Each training triple ``(h, r, t)`` gives a tail query ``(h, r, ?)``
    and a head query ``(t, r^-1, ?)``, both trained with cross-entropy
    over all entities. The triples of a batch are removed from the
    message-passing graph of that step, so the encoder never sees the
    edge it is asked to predict. Validation and :meth:`evaluate` use the
    filtered protocol over both heads and tails; ``monitor`` is
    ``"val_mrr"``.

    Args:
        data (Data or GraphDataset): from
            :func:`~gnnkit.data.knowledge.read_kg`.
        x (Tensor): entity features ``[num_entities, F]`` (e.g. LM text
            embeddings).
        batch_size (int, optional): triples per step (default: ``512``).
        label_smoothing (float, optional): cross-entropy label smoothing
            (default: ``0.1``).
        val_limit (int, optional): validate on the first ``val_limit``
            validation triples only (default: all).
    """

    monitor = "val_mrr"
    mode = "max"

    def __init__(
        self,
        data: Data | GraphDataset,
        x: Tensor,
        *,
        batch_size: int = 512,
        label_smoothing: float = 0.1,
        val_limit: int | None = None,
    ) -> None:
        if isinstance(data, GraphDataset):
            self.num_relations = int(data.meta["num_relations"])
            data = data.graphs[0]
        else:
            self.num_relations = int(data.edge_type.max()) + 1
        if x.size(0) != data.num_nodes:
            raise DataError(
                f"x has {x.size(0)} rows but the graph has "
                f"{data.num_nodes} entities.",
                field="x",
            )
        self.data, self.x = data, x
        self.batch_size = int(batch_size)
        self.label_smoothing = label_smoothing
        self.train = data.train_triples
        self.valid = data.valid_triples[:val_limit]
        parts = [data.train_triples, data.valid_triples, data.test_triples]
        self.answers = answer_sets(
            _with_inverse(p, self.num_relations) for p in parts
        )

    def train_batches(self, generator: torch.Generator) -> list[Tensor]:
        """Shuffled batches of training-triple indices."""
        order = torch.randperm(self.train.size(0), generator=generator)
        return list(order.split(self.batch_size))

    def loss(self, model: nn.Module, batch: Tensor) -> Tensor:
        """Cross-entropy of the true heads and tails over all entities."""
        keep = torch.ones(self.train.size(0), dtype=torch.bool)
        keep[batch] = False
        graph = self.train[keep]
        z = model(self.x, graph[:, [0, 2]].t(), graph[:, 1])
        queries = _with_inverse(self.train[batch], self.num_relations)
        logits = model.score_tails(z, queries[:, 0], queries[:, 1])
        return F.cross_entropy(
            logits, queries[:, 2], label_smoothing=self.label_smoothing
        )

    def validate(self, model: nn.Module) -> dict[str, float]:
        """Filtered ``mrr``, ``hits@1``, ``hits@10`` and the ``loss``."""
        ranks, loss = self.ranks(model, self.valid)
        return {
            "mrr": float((1.0 / ranks).mean()),
            "hits@1": float((ranks <= 1).float().mean()),
            "hits@10": float((ranks <= 10).float().mean()),
            "loss": loss,
        }

    def evaluate(
        self, model: nn.Module, part: str = "test", limit: int | None = None
    ) -> dict[str, Any]:
        """Filtered ranking metrics of ``"test"`` or ``"valid"`` triples.

        Heads and tails are ranked together (the usual protocol), and per
        direction under ``"tail"`` and ``"head"``; ``limit`` scores only
        the first triples.
        """
        with _eval_mode(model):
            ranks, loss = self.ranks(model, self.triples(part)[:limit])
        tail, head = ranks.view(2, -1)
        out = {**ranking_metrics(ranks, (1, 3, 10)), "loss": loss}
        out["tail"] = ranking_metrics(tail, (1, 3, 10))
        out["head"] = ranking_metrics(head, (1, 3, 10))
        return out

    def triples(self, part: str) -> Tensor:
        """The ``"train"``, ``"valid"`` or ``"test"`` triples ``[M, 3]``."""
        if part not in ("train", "valid", "test"):
            raise ValueError(
                f"part must be 'train', 'valid' or 'test' (got {part!r})."
            )
        return getattr(self.data, f"{part}_triples")

    def embed(self, model: nn.Module) -> Tensor:
        """Entity embeddings from all training triples."""
        return model(self.x, self.train[:, [0, 2]].t(), self.train[:, 1])

    def ranks(
        self, model: nn.Module, triples: Tensor, chunk: int = 1024
    ) -> tuple[Tensor, float]:
        """Filtered ranks ``[2 * M]`` (tails, then heads) and the loss.

        The loss is the mean cross-entropy of the true answers.
        """
        z = self.embed(model)
        queries = _with_inverse(triples, self.num_relations)
        ranks, loss = [], 0.0
        for part in queries.split(chunk):
            scores = model.score_tails(z, part[:, 0], part[:, 1])
            mask = filter_mask(part[:, :2], self.answers, z.size(0))
            ranks.append(filtered_ranks(scores, part[:, 2], mask))
            loss += float(F.cross_entropy(scores, part[:, 2], reduction="sum"))
        return torch.cat(ranks), loss / max(1, queries.size(0))


def _with_inverse(triples: Tensor, num_relations: int) -> Tensor:
    """``(h, r, t)`` rows followed by their ``(t, r + R, h)`` inverses."""
    inverse = torch.stack(
        [triples[:, 2], triples[:, 1] + num_relations, triples[:, 0]], 1
    )
    return torch.cat([triples, inverse])
