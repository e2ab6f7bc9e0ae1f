"""Attention read out of a trained model: GAT attention per layer and head,
one row per user edge in input order with the self-loops a layer adds kept
apart (PyG issues #3550, #1160, #4020), and a language model's
self-attention over a node's text."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError, ModelError
from gnnkit.explain.wrappers import ExplainableModel, message_passing_layers

HEAD_REDUCTIONS = ("mean", "max")


@dataclass
class LayerAttention:
    """Attention of one layer, aligned with the user's edge list.

    Attributes:
        layer (int): position of the layer among the attention layers.
        edge_index (Tensor): the user's edges (node positions) ``[2, E]``.
        alpha (Tensor): attention per user edge and head ``[E, H]``, in
            input order; a user's own self-loop holds its node's
            self-attention.
        user_loop (Tensor): ``True`` for the user's self-loop rows ``[E]``.
        loop_nodes (Tensor): nodes whose self-loop the layer added ``[L]``.
        loop_alpha (Tensor): attention of those added loops ``[L, H]``.
        node_ids (list): original id of every node.
    """

    layer: int
    edge_index: Tensor
    alpha: Tensor
    user_loop: Tensor
    loop_nodes: Tensor
    loop_alpha: Tensor
    node_ids: list[Any]

    @property
    def heads(self) -> int:
        """Number of attention heads."""
        return int(self.alpha.size(1))

    def pairs(self) -> list[tuple[Any, Any, bool]]:
        """``(source, target, added)`` for every attention entry: the user's
        edges in input order, then the added self-loops."""
        ids = self.node_ids
        rows = [(ids[s], ids[t], False)
                for s, t in self.edge_index.t().tolist()]
        rows += [(ids[v], ids[v], True) for v in self.loop_nodes.tolist()]
        return rows

    def all_alpha(self) -> Tensor:
        """Attention of every entry of :meth:`pairs` ``[E + L, H]``."""
        return torch.cat([self.alpha, self.loop_alpha], dim=0)

    def _targets(self) -> Tensor:
        return torch.cat([self.edge_index[1], self.loop_nodes])

    def incoming_sums(self) -> dict[Any, Tensor]:
        """Per target node, the sum of its incoming attention per head
        ``[H]``; nodes without any attention entry are left out."""
        targets, alpha = self._targets(), self.all_alpha()
        sums: dict[Any, Tensor] = {}
        for node in targets.unique().tolist():
            sums[self.node_ids[node]] = alpha[targets == node].sum(0)
        return sums

    def self_attention(self, node: Any) -> Tensor | None:
        """Self-attention of ``node`` (original id) per head ``[H]``, or
        ``None`` when the layer has no self-loop for it."""
        position = self.node_ids.index(node)
        added = (self.loop_nodes == position).nonzero().view(-1)
        if added.numel():
            return self.loop_alpha[added[0]]
        own = (self.user_loop & (self.edge_index[0] == position))
        rows = own.nonzero().view(-1)
        return self.alpha[rows[0]] if rows.numel() else None

    def reduce(self, how: str = "mean") -> Tensor:
        """Attention per entry of :meth:`pairs`, mean or max over heads
        ``[E + L]``."""
        return reduce_heads(self.all_alpha(), how)

    def rows(self, how: str | None = None) -> list[dict[str, Any]]:
        """One record per attention entry: ``source``, ``target``,
        ``added`` and one value per head (or ``how`` over heads)."""
        alpha = self.all_alpha()
        out = []
        for i, (src, dst, added) in enumerate(self.pairs()):
            row = {"layer": self.layer, "source": src, "target": dst,
                   "added_self_loop": added}
            if how is None:
                row.update({f"head_{h}": float(alpha[i, h])
                            for h in range(self.heads)})
            else:
                row[how] = float(reduce_heads(alpha[i:i + 1], how))
            out.append(row)
        return out

    def __repr__(self) -> str:
        return (
            f"LayerAttention(layer={self.layer}, edges="
            f"{self.edge_index.size(1)}, added_loops="
            f"{self.loop_nodes.numel()}, heads={self.heads})"
        )


def reduce_heads(alpha: Tensor, how: str = "mean") -> Tensor:
    """Mean or max of ``alpha`` ``[E, H]`` over heads, giving ``[E]``."""
    if how not in HEAD_REDUCTIONS:
        raise ValueError(
            f"how must be one of {HEAD_REDUCTIONS} (got {how!r})."
        )
    return alpha.mean(dim=1) if how == "mean" else alpha.max(dim=1).values


def gat_attention(
    model: nn.Module,
    source: GraphDataset | Data,
    index: int = 0,
    *,
    node_ids: Sequence[Any] | None = None,
) -> list[LayerAttention]:
    """GAT attention of every attention layer, per user edge and head.

    The model runs once in eval mode (no attention dropout) on the graph
    while each attention layer's weights are read as they enter message
    passing. Layers such as ``GATConv`` drop the user's self-loops and add
    one per node; the loop a user gave is reported on its own row, the
    others separately as added, so nothing is duplicated and, per target
    node and head, the incoming weights sum to 1.

    Args:
        model (nn.Module): a model with ``GATConv``/``GATv2Conv`` layers.
        source (GraphDataset or Data): the graph (a dataset's graph
            ``index``; node-level datasets hold one graph).
        index (int, optional): graph position in a dataset.
            (default: ``0``)
        node_ids (sequence, optional): original node ids (default: from
            the dataset, else positions).

    Returns:
        list[LayerAttention]: one per attention layer, in call order.

    Raises:
        ModelError: if the model has no attention layer.

    Example:
        >>> layers = gat_attention(model, dataset)
        >>> layers[0].alpha.shape  # [num_user_edges, heads]
    """
    graph, ids = _graph_of(source, index, node_ids)
    captured = _run_captured(model, graph)
    return [
        _align(i, graph.edge_index, edge_index, alpha, ids)
        for i, (edge_index, alpha) in enumerate(captured)
    ]


def _graph_of(source, index, node_ids) -> tuple[Data, list[Any]]:
    if isinstance(source, GraphDataset):
        if not 0 <= index < len(source):
            raise DataError(
                f"graph index {index} is out of range for dataset "
                f"'{source.name}' with {len(source)} graphs."
            )
        return source.graphs[index], list(node_ids
                                          or source.node_ids[index])
    return source, list(node_ids or range(source.num_nodes))


def _run_captured(model: nn.Module, graph: Data) -> list[tuple]:
    layers = [m for m in message_passing_layers(model)
              if hasattr(m, "add_self_loops") and hasattr(m, "heads")]
    if not layers:
        raise ModelError(
            f"{type(model).__name__} has no attention layer (GATConv or "
            "GATv2Conv); attention can only be read from a GAT model."
        )
    captured: list[tuple] = []

    def hook(module, inputs):
        edge_index, _, kwargs = inputs
        captured.append((edge_index.detach(), kwargs["alpha"].detach()))

    level = getattr(model, "level", "node")
    wrapper = ExplainableModel(model, level)
    with _eval(model), torch.no_grad():
        handles = [m.register_propagate_forward_pre_hook(hook)
                   for m in layers]
        try:
            wrapper(graph.x, graph.edge_index,
                    torch.zeros(graph.num_nodes, dtype=torch.long),
                    getattr(graph, "edge_attr", None), None, 1)
        finally:
            for handle in handles:
                handle.remove()
    return captured


@contextmanager
def _eval(model: nn.Module) -> Iterator[None]:
    training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(training)


def _align(layer, user, seen, alpha, ids) -> LayerAttention:
    """Match the layer's edge list to the user's: non-loop edges keep their
    order; loops are matched by node, and the rest were added."""
    alpha = alpha.view(alpha.size(0), -1)  # [E', H]
    user_loop = user[0] == user[1]
    seen_loop = seen[0] == seen[1]
    if not torch.equal(user[:, ~user_loop], seen[:, ~seen_loop]):
        raise ModelError(
            f"attention layer {layer} reordered or changed the edges, so "
            "its weights cannot be matched to your edge list."
        )
    out = alpha.new_zeros(user.size(1), alpha.size(1))
    out[~user_loop] = alpha[~seen_loop]
    rows = _loop_rows(user, user_loop)
    added = []
    for position in seen_loop.nonzero().view(-1).tolist():
        node = int(seen[0, position])
        if rows.get(node):
            out[rows[node].pop(0)] = alpha[position]
        else:
            added.append(position)
    _warn_collapsed(rows, ids)
    added = torch.tensor(added, dtype=torch.long)
    return LayerAttention(layer, user, out, user_loop, seen[0, added],
                          alpha[added], ids)


def _loop_rows(user: Tensor, user_loop: Tensor) -> dict[int, list[int]]:
    rows: dict[int, list[int]] = {}
    for row in user_loop.nonzero().view(-1).tolist():
        rows.setdefault(int(user[0, row]), []).append(row)
    return rows


def _warn_collapsed(rows: dict[int, list[int]], ids: list[Any]) -> None:
    left = {ids[node]: r for node, r in rows.items() if r}
    if left:
        warnings.warn(
            f"repeated self-loops on nodes {sorted(map(str, left))} were "
            "merged into one by the attention layer; their extra rows "
            "hold 0.", stacklevel=3,
        )


@dataclass
class TextAttention:
    """A language model's self-attention over one text.

    Attributes:
        tokens (list[str]): tokens in tokenizer order.
        input_ids (list[int]): their ids.
        special (list[bool]): ``True`` for special tokens ([CLS], <s>, ...).
        attentions (Tensor): ``[layers, heads, T, T]``; row ``i`` is how
            token ``i`` attends to every token (rows sum to 1).
    """

    tokens: list[str]
    input_ids: list[int]
    special: list[bool]
    attentions: Tensor

    def reduce(self, layer: int = -1, how: str = "mean") -> Tensor:
        """Attention of one layer, mean or max over heads ``[T, T]``."""
        heads = self.attentions[layer]  # [H, T, T]
        return heads.mean(0) if how == "mean" else heads.max(0).values

    def __repr__(self) -> str:
        layers, heads = self.attentions.shape[:2]
        return (f"TextAttention(tokens={len(self.tokens)}, "
                f"layers={layers}, heads={heads})")


def text_attention(encoder: Any, text: str) -> TextAttention:
    """Self-attention of ``encoder``'s language model over ``text``.

    The model is switched to eager attention for the call (SDPA kernels do
    not return weights) and switched back afterwards.

    Args:
        encoder (TextEncoder): an encoder with ``.lm`` and ``.tokenizer``.
        text (str): the node's text.

    Returns:
        TextAttention: tokens and attention ``[layers, heads, T, T]``.
    """
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"text must be a non-empty string (got {text!r}).")
    tokenizer, lm = encoder.tokenizer, encoder.lm
    inputs = tokenizer(text, truncation=True, return_tensors="pt",
                       max_length=getattr(encoder, "max_length", None))
    with _eager(lm), _eval(lm), torch.no_grad():
        out = lm(input_ids=inputs["input_ids"],
                 attention_mask=inputs["attention_mask"],
                 output_attentions=True)
    ids = inputs["input_ids"][0].tolist()
    specials = set(tokenizer.all_special_ids)
    return TextAttention(
        tokens=tokenizer.convert_ids_to_tokens(ids), input_ids=ids,
        special=[i in specials for i in ids],
        attentions=torch.stack([a[0] for a in out.attentions]),
    )


@contextmanager
def _eager(lm: nn.Module) -> Iterator[None]:
    before = getattr(lm.config, "_attn_implementation", "eager")
    switch = before != "eager" and hasattr(lm, "set_attn_implementation")
    if switch:
        lm.set_attn_implementation("eager")
    try:
        yield
    finally:
        if switch:
            lm.set_attn_implementation(before)
