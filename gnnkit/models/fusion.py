"""A language model and a GNN as one node classifier (LM + GNN).

Each node's text is encoded by the LM and pooled over its tokens, the GNN
passes the embeddings along the edges and a head maps them to class
logits, trained end to end (the "LM + GNN" family of Chen et al., 2023).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from gnnkit.errors import DataError
from gnnkit.models.backbones import build_model
from gnnkit.models.base import GraphModel
from gnnkit.models.heads import NodeHead
from gnnkit.models.peft_strategies import (
    LMStrategy,
    apply_strategy,
    count_parameters,
)
from gnnkit.text.cache import state_digest
from gnnkit.text.encoder import TextEncoder


@dataclass
class NodePrediction:
    """Predictions for a set of nodes, in input order.

    Attributes:
        logits (Tensor): ``[num_nodes, num_classes]``.
        label_ids (Tensor): the arg-max class of each node ``[num_nodes]``.
        labels (list): the original label value of each predicted class.
        node_ids (list): the ids of the nodes.
    """

    logits: Tensor
    label_ids: Tensor
    labels: list[Any]
    node_ids: list[Any]

    @property
    def probabilities(self) -> Tensor:
        """Softmax of the logits ``[num_nodes, num_classes]``."""
        return self.logits.softmax(dim=-1)


class LMGNN(nn.Module):
    r"""A text encoder, a GNN and a node head trained as one model.

    .. math::
        \mathbf{x}_v = \mathrm{pool}(\mathrm{LM}(\mathrm{text}_v)),\quad
        \mathbf{y} = \mathrm{head}(\mathrm{GNN}(\mathbf{X}, \mathbf{A}))

    The LM strategy (see :class:`~gnnkit.models.peft_strategies.
    LMStrategy`) decides which LM parameters train; with ``"frozen"`` the
    LM runs without gradients. Parameter names start with ``encoder.``
    (the LM), ``gnn.`` (message passing) and ``gnn.head.`` (the head), so
    :class:`~gnnkit.train.config.TrainConfig` ``param_groups`` can give
    each its own learning rate and warm-up.

    Args:
        encoder (TextEncoder): the LM with its tokenizer, pooling and
            maximum length; adapted in place by the strategy.
        num_classes (int): number of classes.
        gnn (str): backbone name for
            :func:`~gnnkit.models.backbones.build_model`.
            (default: ``"gcn"``)
        hidden_channels (int): GNN width. (default: ``128``)
        num_layers (int): message-passing layers. (default: ``2``)
        dropout (float): GNN dropout. (default: ``0.5``)
        strategy (str or LMStrategy): ``"frozen"``, ``"top-k"``,
            ``"full"``, ``"lora"`` or ``"prefix"``. (default: ``"lora"``)
        classes (list, optional): original label values
            (default: ``0..num_classes-1``).
        **gnn_kwargs: more :func:`build_model` options (``heads``,
            ``jk``).

    Shapes:
        - **input:** ``input_ids`` and ``attention_mask``
          :math:`(|V|, L)`, ``edge_index`` :math:`(2, |E|)`
        - **output:** logits :math:`(|V|, C)`

    Example:
        >>> model = LMGNN(TextEncoder(max_length=128), 7, strategy="lora")
        >>> model(input_ids, attention_mask, edge_index).shape
        torch.Size([2708, 7])
    """

    kind = "lm_gnn"

    def __init__(
        self,
        encoder: TextEncoder,
        num_classes: int,
        *,
        gnn: str = "gcn",
        hidden_channels: int = 128,
        num_layers: int = 2,
        dropout: float = 0.5,
        strategy: str | LMStrategy = "lora",
        classes: Sequence[Any] | None = None,
        **gnn_kwargs: Any,
    ) -> None:
        strategy = LMStrategy.parse(strategy)
        base_digest = state_digest(encoder.lm.state_dict())
        encoder.lm = apply_strategy(encoder.lm, strategy)
        graph_model = build_model(
            gnn, encoder.out_channels, num_classes, level="node",
            hidden_channels=hidden_channels, num_layers=num_layers,
            dropout=dropout, **gnn_kwargs,
        )
        super().__init__()
        self._assemble(encoder, graph_model, strategy, classes, base_digest)

    def _assemble(self, encoder, graph_model, strategy, classes,
                  base_digest) -> None:
        self.encoder = encoder
        self.gnn: GraphModel = graph_model
        self.strategy = strategy
        num_classes = graph_model.config["out_channels"]
        self.classes = list(range(num_classes) if classes is None
                            else classes)
        if len(self.classes) != num_classes:
            raise ValueError(
                f"classes has {len(self.classes)} entries but the model "
                f"has {num_classes} outputs; give one value per class."
            )
        self.base_digest = base_digest

    @classmethod
    def from_parts(
        cls,
        encoder: TextEncoder,
        graph_model: GraphModel,
        strategy: LMStrategy,
        classes: Sequence[Any] | None,
        base_digest: str,
    ) -> "LMGNN":
        """Join an already adapted encoder and a built GNN (for loading).

        Args:
            encoder (TextEncoder): encoder whose ``lm`` already carries the
                strategy (e.g. a loaded PEFT adapter).
            graph_model (GraphModel): the node-level GNN with its head.
            strategy (LMStrategy): the strategy the encoder carries.
            classes (list, optional): original label values.
            base_digest (str): SHA-256 of the base LM weights.
        """
        model = cls.__new__(cls)
        nn.Module.__init__(model)
        model._assemble(encoder, graph_model, strategy, classes,
                        base_digest)
        return model

    @property
    def num_classes(self) -> int:
        """Number of classes of the head."""
        return len(self.classes)

    @property
    def lm_trains(self) -> bool:
        """Whether any LM parameter requires a gradient."""
        return any(p.requires_grad for p in self.encoder.parameters())

    def encode_tokens(self, input_ids: Tensor,
                      attention_mask: Tensor) -> Tensor:
        """Pooled LM embeddings ``[n, d]``.

        A frozen LM runs without gradients and in eval mode (no dropout),
        so it gives exactly the cascade features.
        """
        if self.lm_trains and torch.is_grad_enabled():
            return self.encoder(input_ids, attention_mask)
        was_training = self.encoder.training
        try:
            with torch.no_grad():
                return self.encoder.eval()(input_ids, attention_mask)
        finally:
            self.encoder.train(was_training)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor | None = None,
    ) -> Tensor:
        """Logits of every node of the (sub)graph.

        Args:
            input_ids (Tensor): token ids, one row per node ``[n, L]``.
            attention_mask (Tensor): ``[n, L]``.
            edge_index (Tensor): edges among the ``n`` nodes ``[2, E]``.
            edge_weight (Tensor, optional): ``[E]`` (GCN only).

        Returns:
            Tensor: ``[n, num_classes]``.
        """
        x = self.encode_tokens(input_ids, attention_mask)  # [n, d]
        return self.gnn_forward(x, edge_index, edge_weight)

    def gnn_forward(self, x: Tensor, edge_index: Tensor,
                    edge_weight: Tensor | None = None) -> Tensor:
        """GNN and head on precomputed LM embeddings ``x`` ``[n, d]``."""
        if edge_weight is None:
            return self.gnn(x, edge_index)
        return self.gnn(x, edge_index, edge_weight=edge_weight)

    def embed_texts(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        batch_size: int = 64,
    ) -> Tensor:
        """LM embeddings of many nodes, without gradients.

        Texts go through the LM in length-sorted chunks (for validation
        and prediction).

        Returns:
            Tensor: ``[n, d]`` in input order.
        """
        lengths = attention_mask.sum(dim=1)
        order = lengths.argsort(descending=True)
        out = torch.empty(input_ids.size(0), self.encoder.out_channels)
        with torch.no_grad():
            for part in order.split(batch_size):
                width = max(int(lengths[part].max()), 1)
                out[part] = self.encoder(
                    input_ids[part, :width], attention_mask[part, :width]
                ).float()
        return out

    def trainable_parameters(self) -> dict[str, int]:
        """Trainable parameter counts of the LM, the GNN and the head."""
        head = count_parameters(self.gnn.head)
        gnn = count_parameters(self.gnn) - head
        lm = count_parameters(self.encoder)
        return {"lm": lm, "gnn": gnn, "head": head,
                "total": lm + gnn + head}

    def replace_head(self, classes: Sequence[Any]) -> None:
        """Give the model a new, freshly initialised head for ``classes``.

        Used to transfer to a dataset with other labels; the LM and the
        GNN are kept.
        """
        old = self.gnn.head
        self.gnn.head = NodeHead(old.lin.in_features, len(classes),
                                 old.dropout.p)
        self.gnn.config["out_channels"] = len(classes)
        self.classes = list(classes)

    def predict(
        self,
        texts: Sequence[str],
        edge_index: Tensor | Sequence[tuple[Any, Any]],
        *,
        node_ids: Sequence[Any] | None = None,
        undirected: bool = False,
        batch_size: int = 64,
    ) -> NodePrediction:
        """Classify new nodes given with their texts and edges.

        Args:
            texts (Sequence[str]): one text per node.
            edge_index (Tensor or list of pairs): ``[2, E]`` positions into
                ``texts``, or ``(source_id, target_id)`` pairs of
                ``node_ids``.
            node_ids (Sequence, optional): node ids (default: positions).
            undirected (bool): add the reverse of every edge.
                (default: ``False``)
            batch_size (int): texts per LM call. (default: ``64``)

        Returns:
            NodePrediction: logits, class ids and labels in input order.

        Raises:
            DataError: for an edge naming an unknown node.
        """
        node_ids = list(range(len(texts)) if node_ids is None
                        else node_ids)
        edge_index = edge_positions(edge_index, node_ids, undirected)
        tokens = self.encoder.tokenize(list(texts), node_ids=node_ids)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                x = self.embed_texts(tokens["input_ids"],
                                     tokens["attention_mask"], batch_size)
                logits = self.gnn_forward(x, edge_index)
        finally:
            self.train(was_training)
        label_ids = logits.argmax(dim=-1)
        labels = [self.classes[int(i)] for i in label_ids]
        return NodePrediction(logits, label_ids, labels, node_ids)

    def save(self, directory: str | os.PathLike) -> Path:
        """Save the whole model (see ``fusion_io.save_lm_gnn``)."""
        from gnnkit.models.fusion_io import save_lm_gnn

        return save_lm_gnn(self, directory)

    @classmethod
    def load(cls, directory: str | os.PathLike,
             trainable: bool = False) -> "LMGNN":
        """Load a model saved by :meth:`save` (``fusion_io.load_lm_gnn``)."""
        from gnnkit.models.fusion_io import load_lm_gnn

        return load_lm_gnn(directory, trainable=trainable)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(encoder={self.encoder!r}, "
            f"gnn={self.gnn!r}, strategy={self.strategy.name!r}, "
            f"classes={self.num_classes})"
        )


def edge_positions(
    edge_index: Tensor | Sequence[tuple[Any, Any]],
    node_ids: Sequence[Any],
    undirected: bool = False,
) -> Tensor:
    """Edges as a ``[2, E]`` tensor of positions into ``node_ids``.

    Raises:
        DataError: for a pair naming an unknown node id, or positions out
            of range.
    """
    num_nodes = len(node_ids)
    if isinstance(edge_index, Tensor):
        edges = edge_index.long().view(2, -1)
    else:
        where = {nid: i for i, nid in enumerate(node_ids)}
        pairs = []
        for row, (src, dst) in enumerate(edge_index, start=1):
            for end in (src, dst):
                if end not in where:
                    raise DataError(
                        f"edge {row} ({src!r}, {dst!r}) names node "
                        f"{end!r}, which is not among the given nodes; "
                        "give a text for every node an edge touches.",
                        field="edges")
            pairs.append((where[src], where[dst]))
        edges = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    if edges.numel() and (edges.min() < 0 or edges.max() >= num_nodes):
        raise DataError(
            f"edge_index refers to node positions outside 0..{num_nodes-1} "
            f"(got {int(edges.min())}..{int(edges.max())}).",
            field="edge_index")
    if undirected:
        edges = torch.cat([edges, edges.flip(0)], dim=1)
    return edges.contiguous()

