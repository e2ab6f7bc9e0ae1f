"""Predictions of saved models that read node texts: those written by
``gnnkit run --mode cascade`` (language-model embeddings, then a GNN),
``--mode joint`` (LM+GNN) and ``--mode lm`` (the language model alone)."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError, ModelError
from gnnkit.text.encoder import TextEncoder, encode_dataset
from gnnkit.train.predict import predict

#: model kinds that read texts themselves, and the run mode that saves them
TEXT_KINDS = {"lm_gnn": "joint", "lm_node_classifier": "lm"}


def text_mode(info: dict[str, Any]) -> str | None:
    """``"joint"``, ``"lm"`` or ``"cascade"`` for a model that reads node
    texts, ``None`` for one that reads numeric features."""
    if info.get("kind") in TEXT_KINDS:
        return TEXT_KINDS[info["kind"]]
    features = (info.get("extra") or {}).get("features")
    return None if features in (None, "x") else "cascade"


def describe_kind(info: dict[str, Any]) -> str:
    """``'lm_gnn' (saved by gnnkit run --mode joint)`` and the like."""
    mode = text_mode(info)
    return f"{info.get('kind')!r} (saved by gnnkit run --mode {mode})"


def text_logits(model: nn.Module, info: dict[str, Any],
                dataset: GraphDataset) -> Tensor:
    """Logits ``[num_nodes, C]`` of a text-reading model on ``dataset``.

    Args:
        model (nn.Module): the loaded model.
        info (dict): its saved info (``kind``, ``extra``).
        dataset (GraphDataset): a node-level graph with node texts.

    Returns:
        Tensor: one row per node, in the dataset's node order.

    Raises:
        DataError: if the dataset is graph-level or has no node texts.
    """
    mode = text_mode(info)
    texts = node_texts(dataset, describe_kind(info))
    graph = dataset.graphs[0]
    if mode == "lm":
        return model.predict_logits(texts)
    if mode == "joint":
        return model.predict(texts, graph.edge_index,
                             node_ids=dataset.node_ids[0]).logits
    encoded = encode_like_training(dataset, info.get("extra") or {})
    x = encoded.graphs[0].x
    return predict(model, Data(x=x, edge_index=graph.edge_index,
                               num_nodes=x.size(0)))


def node_texts(dataset: GraphDataset, kind: str) -> list[str]:
    """The texts of a node-level dataset, ``""`` where one is missing."""
    if dataset.level != "node":
        raise DataError(
            f"a model of kind {kind} classifies the nodes of one graph, "
            f"but dataset '{dataset.name}' is graph-level."
        )
    if dataset.texts is None:
        raise DataError(
            f"a model of kind {kind} reads node texts, but dataset "
            f"'{dataset.name}' has none; pass --nodes with the node table "
            "and --text with its text column.",
            path=dataset.meta.get("path"),
        )
    return ["" if t is None else t for t in dataset.texts[0]]


def encode_like_training(dataset: GraphDataset,
                         extra: dict[str, Any]) -> GraphDataset:
    """Node texts as the language-model features a cascade model was
    trained on: the recorded model, pooling and maximum length, scaled to
    unit length as in training (``normalize``, default on).

    Raises:
        ModelError: for a model trained on TF-IDF features, whose
            vocabulary is not saved.
    """
    if extra.get("features") != "lm":
        raise ModelError(
            f"a --mode {extra.get('mode')} model reads "
            f"{extra.get('features')!r} features of the texts, whose "
            "vocabulary is not saved with it, so it cannot read new texts."
        )
    encoder = TextEncoder(extra.get("lm"), pooling=extra["pooling"],
                          max_length=extra["max_length"])
    encoded = encode_dataset(dataset, encoder, progress_bar=False)
    if extra.get("normalize", True):
        for graph in encoded.graphs:
            graph.x = F.normalize(graph.x, dim=1)
    return encoded

