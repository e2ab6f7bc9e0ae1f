"""What an explanation returns: node, edge and feature attributions keyed
by the user's ids (:class:`Attribution`), token attributions of a text
(:class:`TokenAttribution`) and the words-and-neighbours view of a node
(:class:`WordExplanation`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

FIDELITY_TOPK = 0.25


@dataclass
class Attribution:
    """One explanation, keyed by the user's node ids and edge rows.

    Attributes:
        method (str): the method that made it.
        level (str): ``"graph"`` or ``"node"``.
        item (Any): the explained graph's id or node's original id.
        target (int or float): the class (or value) explained.
        prediction (list[float]): the model's output row for the item.
        node_ids (list): original ids of the reported nodes.
        node_mask (Tensor): attributions per node and feature ``[n, F]``.
        edge_index (Tensor): reported edges as positions into
            ``node_ids`` ``[2, e]``.
        edge_rows (Tensor): row of each reported edge in the user's edge
            list of the graph ``[e]``.
        edge_mask (Tensor, optional): attribution per reported edge
            ``[e]``; ``None`` for models without message passing.
        self_loop (Tensor): ``True`` for the user's own self-loops ``[e]``;
            layers that add self-loops replace them, so they get ``0``.
        fidelity_plus (float, optional): PyG fidelity+ of the top
            ``fidelity_topk`` nodes and edges (``None`` for regression).
        fidelity_minus (float, optional): PyG fidelity-.
        outside (float): largest attribution magnitude outside the
            explained graph or receptive field; ``0`` means no leak.
        feature_names (list[str], optional): names of the feature columns.
        fidelity_topk (float): share of nodes and edges kept as the
            explanatory subgraph for fidelity.
    """

    method: str
    level: str
    item: Any
    target: Any
    prediction: list[float]
    node_ids: list[Any]
    node_mask: Tensor
    edge_index: Tensor
    edge_rows: Tensor
    edge_mask: Tensor | None
    self_loop: Tensor
    fidelity_plus: float | None = None
    fidelity_minus: float | None = None
    outside: float = 0.0
    feature_names: list[str] | None = None
    fidelity_topk: float = FIDELITY_TOPK
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def node_importance(self) -> Tensor:
        """Attribution per node, summed over features ``[n]``."""
        return self.node_mask.sum(dim=-1)

    @property
    def feature_importance(self) -> Tensor:
        """Attribution per feature, summed over nodes ``[F]``."""
        return self.node_mask.sum(dim=0)

    def top_nodes(self, k: int = 5) -> list[dict[str, Any]]:
        """The ``k`` nodes of largest attribution magnitude."""
        score = self.node_importance
        order = score.abs().argsort(descending=True)[:k]
        return [{"node": self.node_ids[i], "importance": float(score[i])}
                for i in order.tolist()]

    def top_edges(self, k: int = 5) -> list[dict[str, Any]]:
        """The ``k`` edges of largest attribution magnitude."""
        if self.edge_mask is None:
            return []
        order = self.edge_mask.abs().argsort(descending=True)[:k]
        return [self._edge_row(i) for i in order.tolist()]

    def _edge_row(self, i: int) -> dict[str, Any]:
        src, dst = self.edge_index[:, i].tolist()
        return {
            "row": int(self.edge_rows[i]),
            "source": self.node_ids[src],
            "target": self.node_ids[dst],
            "importance": None if self.edge_mask is None
            else float(self.edge_mask[i]),
            "self_loop": bool(self.self_loop[i]),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able masks keyed by original node ids and edge rows."""
        names = self.feature_names or [
            f"x{j}" for j in range(self.node_mask.size(1))]
        return {
            "method": self.method, "level": self.level,
            "item": self.item, "target": self.target,
            "prediction": self.prediction,
            "nodes": {str(n): float(v) for n, v in
                      zip(self.node_ids, self.node_importance.tolist())},
            "node_features": {
                str(n): dict(zip(names, row)) for n, row in
                zip(self.node_ids, self.node_mask.tolist())},
            "edges": [self._edge_row(i)
                      for i in range(self.edge_index.size(1))],
            "features": dict(zip(names,
                                 self.feature_importance.tolist())),
            "fidelity_plus": self.fidelity_plus,
            "fidelity_minus": self.fidelity_minus,
            "fidelity_topk": self.fidelity_topk,
            "outside": self.outside,
        }

    def __repr__(self) -> str:
        edges = 0 if self.edge_mask is None else self.edge_mask.numel()
        return (
            f"Attribution(method={self.method!r}, level={self.level!r}, "
            f"item={self.item!r}, target={self.target!r}, "
            f"nodes={len(self.node_ids)}, edges={edges}, "
            f"fidelity_plus={self.fidelity_plus}, "
            f"fidelity_minus={self.fidelity_minus})"
        )


@dataclass
class TokenAttribution:
    """Attribution of one output to the tokens of one text.

    Attributes:
        text (str): the text.
        tokens (list[str]): tokens in tokenizer order.
        input_ids (list[int]): their ids.
        special (list[bool]): ``True`` for special tokens.
        attributions (Tensor): one value per token ``[T]``.
        baseline_ids (list[int]): the baseline the path starts from.
        target (int, optional): the explained output column.
        output (float): ``F(input)``.
        baseline_output (float): ``F(baseline)``.
        delta (float): Captum's convergence delta, ``sum(attributions) -
            (F(input) - F(baseline))``.
        node (Any, optional): the node whose text this is.
    """

    text: str
    tokens: list[str]
    input_ids: list[int]
    special: list[bool]
    attributions: Tensor
    baseline_ids: list[int]
    target: int | None
    output: float
    baseline_output: float
    delta: float
    node: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Sum of the attributions (about ``F(input) - F(baseline)``)."""
        return float(self.attributions.sum())

    @property
    def completeness_gap(self) -> float:
        """``|sum(attributions) - (F(input) - F(baseline))|``."""
        return abs(self.delta)

    @property
    def relative_gap(self) -> float:
        """Completeness gap as a share of ``|F(input) - F(baseline)|``."""
        change = abs(self.output - self.baseline_output)
        return self.completeness_gap / change if change > 0 else 0.0

    def rows(self) -> list[dict[str, Any]]:
        """One record per token, in tokenizer order."""
        return [
            {"position": i, "token": t, "special": s, "attribution": float(a)}
            for i, (t, s, a) in enumerate(
                zip(self.tokens, self.special, self.attributions))
        ]

    def top_words(self, k: int = 5) -> list[dict[str, Any]]:
        """The ``k`` non-special tokens of largest attribution magnitude."""
        rows = [r for r in self.rows() if not r["special"]]
        rows.sort(key=lambda r: -abs(r["attribution"]))
        return rows[:k]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record: tokens, attributions and the gap."""
        return {
            "node": self.node, "text": self.text, "target": self.target,
            "tokens": self.rows(), "baseline_ids": self.baseline_ids,
            "output": self.output, "baseline_output": self.baseline_output,
            "completeness_gap": self.completeness_gap,
            "relative_gap": self.relative_gap,
        }

    def __repr__(self) -> str:
        return (
            f"TokenAttribution(node={self.node!r}, tokens="
            f"{len(self.tokens)}, total={self.total:.4f}, "
            f"completeness_gap={self.completeness_gap:.2e})"
        )


@dataclass
class WordExplanation:
    """Which neighbours mattered for a node, and which words in their texts.

    Attributes:
        node (Any): the explained node's original id.
        target (int): the explained class.
        output (float): the model's output for ``target``.
        texts (list[TokenAttribution]): one per explained node text (the
            node first), each measured against blanking that text only.
    """

    node: Any
    target: int | None
    output: float
    texts: list[TokenAttribution]

    def neighbours(self) -> list[dict[str, Any]]:
        """Node texts ranked by the effect of blanking them (the sum of
        their token attributions)."""
        rows = [{"node": t.node, "importance": t.total,
                 "completeness_gap": t.completeness_gap}
                for t in self.texts]
        return sorted(rows, key=lambda r: -abs(r["importance"]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record of every text's token attributions."""
        return {"node": self.node, "target": self.target,
                "output": self.output, "neighbours": self.neighbours(),
                "texts": [t.to_dict() for t in self.texts]}

    def __repr__(self) -> str:
        return (f"WordExplanation(node={self.node!r}, target="
                f"{self.target}, texts={len(self.texts)})")
