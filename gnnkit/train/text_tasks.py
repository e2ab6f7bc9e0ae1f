"""Tasks that train a language model alone on texts with the fit loop:
one text per node, or one rendered text per graph."""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError
from gnnkit.models.lm_classifier import graph_texts
from gnnkit.text.tokens import (
    check_texts,
    token_lengths,
    truncation_report,
    warn_truncation,
)
from gnnkit.train.tasks import Task


def _collate(ids: list[list[int]], pad_id: int) -> dict[str, Tensor]:
    width = max(len(row) for row in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros(len(ids), width, dtype=torch.long)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = torch.tensor(row)
        attention_mask[i, : len(row)] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}


class TextNodeTask(Task):
    """Classify texts (one per node) with cross-entropy, for ``fit``.

    Texts are tokenized once (truncated to ``max_length``, one warning for
    the texts that are cut); batches are padded to their longest text.

    Args:
        texts (Sequence[str or None]): one text per node.
        y (Tensor): class ids ``[num_nodes]``.
        train_index (Tensor or Sequence[int]): training nodes.
        val_index (Tensor or Sequence[int]): validation nodes.
        tokenizer: the classifier's tokenizer.
        max_length (int): truncation length (default: ``128``).
        batch_size (int): texts per training batch (default: ``16``).
        node_ids (Sequence, optional): ids naming texts in messages.
        missing (str): ``"error"`` or ``"empty"``, as in
            :meth:`~gnnkit.text.encoder.TextEncoder.encode`.

    Raises:
        DataError: if texts are missing (``missing="error"``) or ``y``
            does not have one label per text.
    """

    monitor = "val_accuracy"
    mode = "max"

    def __init__(
        self,
        texts: Sequence[str | None],
        y: Tensor,
        train_index: Tensor | Sequence[int],
        val_index: Tensor | Sequence[int],
        *,
        tokenizer: Any,
        max_length: int = 128,
        batch_size: int = 16,
        node_ids: Sequence[Any] | None = None,
        missing: str = "error",
    ) -> None:
        texts = check_texts(texts, node_ids, missing)
        self.y = torch.as_tensor(y).long().view(-1)
        if self.y.numel() != len(texts):
            raise DataError(
                f"y has {self.y.numel()} labels but there are {len(texts)} "
                "texts; give one label per text.",
                field="y",
            )
        self.train_index = torch.as_tensor(train_index).long().view(-1)
        self.val_index = torch.as_tensor(val_index).long().view(-1)
        self.batch_size = int(batch_size)
        self.pad_id = tokenizer.pad_token_id or 0
        lengths = token_lengths(tokenizer, texts)
        report = truncation_report(lengths, max_length, node_ids)
        warn_truncation(report, stacklevel=3)
        self.ids = tokenizer(
            texts, truncation=True, max_length=max_length
        )["input_ids"]

    def _batch(self, index: Tensor) -> dict[str, Tensor]:
        batch = _collate([self.ids[i] for i in index.tolist()], self.pad_id)
        batch["labels"] = self.y[index]
        return batch

    def train_batches(self, generator: torch.Generator) -> list[dict]:
        """Shuffled batches of ``batch_size`` training texts."""
        order = torch.randperm(self.train_index.numel(), generator=generator)
        index = self.train_index[order]
        return [self._batch(part) for part in index.split(self.batch_size)]

    def loss(self, model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        """Cross-entropy of the batch's logits."""
        logits = model(batch["input_ids"], batch["attention_mask"])
        return F.cross_entropy(logits, batch["labels"])

    def validate(self, model: nn.Module) -> dict[str, float]:
        """``loss`` and ``accuracy`` on the validation texts."""
        parts = self.val_index.split(max(self.batch_size, 64))
        batches = [self._batch(part) for part in parts]
        logits = torch.cat(
            [model(b["input_ids"], b["attention_mask"]) for b in batches]
        )
        y = self.y[self.val_index]
        return {
            "loss": float(F.cross_entropy(logits, y)),
            "accuracy": float((logits.argmax(-1) == y).float().mean()),
        }


class TextGraphTask(TextNodeTask):
    """Classify whole graphs from their text (see
    :func:`~gnnkit.models.lm_classifier.graph_texts`).

    Args:
        dataset (GraphDataset): a graph-level classification dataset.
        train_index (Sequence[int]): training graphs.
        val_index (Sequence[int]): validation graphs.
        tokenizer: the classifier's tokenizer.
        **kw: ``max_length`` and ``batch_size`` of :class:`TextNodeTask`.
    """

    def __init__(
        self,
        dataset: GraphDataset,
        train_index: Tensor | Sequence[int],
        val_index: Tensor | Sequence[int],
        *,
        tokenizer: Any,
        **kw: Any,
    ) -> None:
        if dataset.level != "graph" or dataset.classes is None:
            raise DataError(
                f"Dataset '{dataset.name}' is not a graph classification "
                f"dataset (level={dataset.level!r}, task={dataset.task!r});"
                " use TextNodeTask for node texts."
            )
        super().__init__(
            graph_texts(dataset),
            dataset.y,
            train_index,
            val_index,
            tokenizer=tokenizer,
            node_ids=[str(i) for i in dataset.graph_ids],
            **kw,
        )
