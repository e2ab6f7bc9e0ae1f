"""The language model alone: a sequence classifier over texts.

Classifies node texts, or graphs rendered as text (SMILES or a node and
edge list). Uses ``AutoModelForSequenceClassification`` (BERT, Devlin et
al., 2019) and trains with gnnkit's one fit loop through
:class:`~gnnkit.train.text_tasks.TextNodeTask`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, is_undirected

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import ModelError
from gnnkit.text.encoder import load_lm
from gnnkit.text.tokens import (
    usable_length,
)

HEAD_PREFIXES = ("classifier.", "pre_classifier.", "score.")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _FreshHeadFilter(logging.Filter):
    """Drops transformers' load report when all it lists is the new head.

    A classification head on a pretrained encoder is missing from the
    checkpoint by design; any other key in the report keeps it visible.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = _ANSI.sub("", record.getMessage())
        if "LOAD REPORT" not in message:
            return True
        rows = [
            [cell.strip() for cell in line.split("|")]
            for line in message.splitlines()
            if "|" in line
        ]
        rows = [row for row in rows if row[0] != "Key"]
        fresh_head = all(
            row[0].startswith(HEAD_PREFIXES) and row[1] == "MISSING"
            for row in rows
        )
        return not (rows and fresh_head)


@contextlib.contextmanager
def _quiet_fresh_head() -> Iterator[None]:
    """Hide the expected "classifier.* MISSING" report while loading."""
    logger = logging.getLogger("transformers.modeling_utils")
    quiet = _FreshHeadFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


class LMNodeClassifier(nn.Module):
    """A pretrained LM with a classification head on each node's text.

    Args:
        name_or_path (str or Path, optional): Hub name or local folder
            (default: the shipped all-MiniLM-L6-v2, given a new head).
        num_classes (int): number of classes (default: ``2``).
        max_length (int, optional): truncation length, capped at the
            model's usable length (default: ``128``).
        model (nn.Module, optional): a ready sequence classifier, passed
            with its ``tokenizer`` instead of loading ``name_or_path``.
        tokenizer (optional): the tokenizer of ``model``.

    Shapes:
        - **input:** ``input_ids``, ``attention_mask`` :math:`(n, L)`
        - **output:** logits :math:`(n, C)`

    Example:
        >>> model = LMNodeClassifier(num_classes=7)
        >>> task = TextNodeTask(texts, y, train_idx, val_idx,
        ...                     tokenizer=model.tokenizer)
        >>> fit(model, task, TrainConfig(lr=2e-5, epochs=3))
    """

    kind = "lm_node_classifier"

    def __init__(
        self,
        name_or_path: str | os.PathLike | None = None,
        num_classes: int = 2,
        *,
        max_length: int = 128,
        model: nn.Module | None = None,
        tokenizer: Any = None,
    ) -> None:
        super().__init__()
        if model is None:
            with _quiet_fresh_head():
                model, tokenizer = load_lm(
                    name_or_path,
                    task="sequence-classification",
                    num_labels=num_classes,
                )
        self.lm = model
        self.tokenizer = tokenizer
        self.num_classes = int(model.config.num_labels)
        self.max_length = min(
            int(max_length), usable_length(tokenizer, model.config)
        )
        self.config = {
            "kind": self.kind,
            "name_or_path": str(name_or_path or model.config._name_or_path),
            "num_classes": self.num_classes,
            "max_length": self.max_length,
        }

    def extra_repr(self) -> str:
        """Model name, number of classes and truncation length."""
        return (
            f"name_or_path={self.config['name_or_path']!r}, "
            f"num_classes={self.num_classes}, max_length={self.max_length}"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def forward(
        self,
        input_ids: Tensor | None,
        attention_mask: Tensor,
        inputs_embeds: Tensor | None = None,
    ) -> Tensor:
        """Logits ``[n, num_classes]`` of tokenized texts."""
        if inputs_embeds is not None:
            input_ids = None
        out = self.lm(
            input_ids=input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
        )
        return out.logits  # [n, num_classes]

    @torch.inference_mode()
    def predict_logits(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> Tensor:
        """Logits of ``texts`` in eval mode (the mode is restored)."""
        was_training = self.training
        self.eval()
        out = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            out.append(self(batch["input_ids"], batch["attention_mask"]))
        self.train(was_training)
        return torch.cat(out) if out else torch.empty(0, self.num_classes)


def save_lm_classifier(model: LMNodeClassifier,
                       directory: str | os.PathLike) -> None:
    """Save an :class:`LMNodeClassifier` as a Hugging Face folder.

    The label names (``model.classes`` when set) go into the config's
    ``id2label``, so :func:`load_lm_classifier` gives them back.
    """
    classes = getattr(model, "classes", None)
    if classes is not None:
        model.lm.config.id2label = {i: str(c) for i, c in enumerate(classes)}
        model.lm.config.label2id = {str(c): i for i, c in enumerate(classes)}
    model.lm.save_pretrained(str(directory))
    model.tokenizer.save_pretrained(str(directory))


def load_lm_classifier(directory: str | os.PathLike) -> LMNodeClassifier:
    """Rebuild a classifier saved as a Hugging Face folder (weights,
    config and tokenizer), e.g. by ``gnnkit run --mode lm``."""
    config = json.loads(Path(directory, "config.json").read_text("utf-8"))
    classes = hf_folder_info(config, directory)["classes"]
    model = LMNodeClassifier(directory, num_classes=len(classes))
    model.classes = classes
    return model


def hf_folder_info(config: dict[str, Any],
                   path: str | os.PathLike = "config.json") -> dict[str, Any]:
    """What ``persist.load_model`` reports for a Hugging Face classifier
    folder: its kind, config and classes (the ``id2label`` names, or the
    class numbers ``0..C-1`` when the labels are the default
    ``LABEL_i``).

    Raises:
        ModelError: for a Hugging Face model that is not a sequence
            classifier (its head would be initialised at random).
    """
    architectures = config.get("architectures") or []
    if not any(a.endswith("ForSequenceClassification")
               for a in architectures):
        raise ModelError(
            f"{path}: a Hugging Face {architectures or 'model'} folder, not "
            "a gnnkit model or a sequence classifier; load it with "
            "TextEncoder or LMNodeClassifier instead."
        )
    names = config.get("id2label") or {}
    count = len(names) or int(config.get("num_labels", 2))
    labels = [names.get(str(i), names.get(i)) for i in range(count)]
    if all(label in (None, f"LABEL_{i}") for i, label in enumerate(labels)):
        labels = list(range(count))
    return {"kind": LMNodeClassifier.kind, "config": config,
            "classes": labels, "extra": {"level": "node",
                                         "task": "classification"}}


class LMGraphClassifier(LMNodeClassifier):
    """The LM alone on graph classification ("BERT for graphs").

    Each graph is one text: its SMILES when the dataset has them, else a
    node and edge list from :func:`graph_to_text`. Train it with
    :class:`~gnnkit.train.text_tasks.TextGraphTask`.
    """

    kind = "lm_graph_classifier"


def _node_labels(data: Data, node_names: Sequence[str] | None) -> list:
    n = data.num_nodes
    if node_names is not None:
        if len(node_names) != n:
            raise ValueError(
                f"node_names has {len(node_names)} entries for a graph with "
                f"{n} nodes; give one name per node."
            )
        return [str(name) for name in node_names]
    x = getattr(data, "x", None)
    one_hot = x is not None and x.dim() == 2 and bool(
        ((x == 0) | (x == 1)).all() and (x.sum(-1) == 1).all()
    )
    if one_hot:
        return [f"t{int(k)}" for k in x.argmax(-1)]
    return ["node"] * n


def graph_to_text(
    data: Data,
    node_names: Sequence[str] | None = None,
    smiles: str | None = None,
) -> str:
    """Render a graph as text a language model can classify.

    Args:
        data (Data): the graph.
        node_names (Sequence[str], optional): one name per node (e.g. atom
            symbols); default: ``t<k>`` for one-hot type ``k`` in ``x``,
            else ``node``.
        smiles (str, optional): returned as is when given.

    Returns:
        str: e.g. ``"3 nodes, 2 edges. nodes: 0 C, 1 C, 2 O. edges: 0-1,
        1-2."`` (``"i->j"`` for a directed graph).

    Example:
        >>> graph_to_text(Data(edge_index=torch.tensor([[0], [1]]),
        ...                    num_nodes=2), ["C", "O"])
        '2 nodes, 1 edges. nodes: 0 C, 1 O. edges: 0->1.'
    """
    if smiles is not None:
        return smiles
    names = _node_labels(data, node_names)
    edge_index = coalesce(data.edge_index, num_nodes=data.num_nodes)
    undirected = is_undirected(edge_index, num_nodes=data.num_nodes)
    if undirected:
        edge_index = edge_index[:, edge_index[0] < edge_index[1]]
    link = "-" if undirected else "->"
    edges = [f"{i}{link}{j}" for i, j in edge_index.t().tolist()]
    nodes = [f"{i} {name}" for i, name in enumerate(names)]
    return (
        f"{len(nodes)} nodes, {len(edges)} edges. nodes: "
        f"{', '.join(nodes)}. edges: {', '.join(edges)}."
    )


def graph_texts(
    dataset: GraphDataset, node_names: Sequence[Sequence[str]] | None = None
) -> list[str]:
    """One text per graph for an LM graph classifier.

    Args:
        dataset (GraphDataset): a graph-level dataset.
        node_names (Sequence[Sequence[str]], optional): per graph, one
            name per node (see :func:`graph_to_text`).

    Returns:
        list[str]: the dataset's ``graph_texts`` (e.g. SMILES) when
        present, else :func:`graph_to_text` of each graph.
    """
    if dataset.graph_texts is not None:
        return list(dataset.graph_texts)
    names = node_names or [None] * len(dataset)
    return [graph_to_text(g, n) for g, n in zip(dataset.graphs, names)]
