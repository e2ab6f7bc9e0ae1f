"""Knowledge-graph completion: 1-vs-all training and filtered ranking.

Protocol (Bordes et al. 2013, "filtered"): every held-out triple
``(h, r, t)`` is asked both ways, ``(h, r, ?)`` and ``(?, r, t)``, and its
true answer is ranked against all entities after removing every other
true triple of train, validation and test.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.knowledge import (
    answer_sets,
    filter_mask,
    filtered_ranks,
    ranking_metrics,
)
from gnnkit.errors import DataError
from gnnkit.train.link_tasks import eval_mode
from gnnkit.train.tasks import Task


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
        with eval_mode(model):
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
