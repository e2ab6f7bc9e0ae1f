"""Which words in a node's and its neighbours' texts drove a GNN's
prediction: input-times-gradient ranks the texts of the receptive field,
and :func:`~gnnkit.explain.tokens.token_attributions` follows each chosen
text back through the text encoder, for cascade and joint LM+GNN models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph

from gnnkit.errors import DataError
from gnnkit.explain.results import TokenAttribution, WordExplanation
from gnnkit.explain.tokens import Forward, eval_mode, token_attributions
from gnnkit.explain.wrappers import receptive_hops


def explain_words(
    encoder: nn.Module,
    gnn: nn.Module,
    data: Data,
    texts: Sequence[str | None],
    node: Any,
    *,
    node_ids: Sequence[Any] | None = None,
    target: int | None = None,
    max_texts: int = 8,
    n_steps: int = 50,
    embed: Callable[[Tensor], Tensor] | None = None,
) -> WordExplanation:
    """Attribute a GNN's node prediction to the words of the node's and its
    neighbours' texts, back through the text encoder.

    Works for cascade mode (frozen encoder, its embeddings as node
    features) and joint LM+GNN models alike: ``data.x`` holds the current
    node features (or is ``None``, and the receptive field's texts are
    encoded here), and for each explained text its row is recomputed by
    ``encoder`` along the integration path while all other rows stay.
    Candidate texts are the node and its receptive field, ranked by
    input-times-gradient of their feature rows; the top ``max_texts`` are
    explained.

    Args:
        encoder (nn.Module): a :class:`~gnnkit.text.encoder.TextEncoder`
            (``forward(input_ids, attention_mask)``, ``.lm``,
            ``.tokenizer``).
        gnn (nn.Module): node-level model ``gnn(x, edge_index) -> [N, C]``.
        data (Data): the graph; ``x`` holds the encoder's embeddings.
        texts (sequence): the text of every node (``None`` if missing).
        node (Any): the node (original id in ``node_ids``, else position).
        node_ids (sequence, optional): original node ids.
        target (int, optional): class (default: predicted).
        max_texts (int, optional): texts to explain. (default: ``8``)
        n_steps (int, optional): integration steps. (default: ``50``)
        embed (callable, optional): maps encoder output ``[n, d]`` to the
            node-feature row (default: identity).

    Returns:
        WordExplanation: per-text token attributions, node first.
    """
    ids = list(node_ids or range(data.num_nodes))
    position = _position(ids, node)
    with eval_mode(encoder, gnn):
        sub = _Subgraph.of(gnn, data, position, encoder, texts, embed)
        with torch.no_grad():
            out = gnn(sub.x, sub.edge_index)[sub.center]
        target = int(out.argmax()) if target is None else int(target)
        chosen = _rank_texts(gnn, sub, target, texts, max_texts)
        results = [
            _explain_text_of(encoder, gnn, sub, local, target, embed,
                             texts, ids, n_steps)
            for local in chosen
        ]
    return WordExplanation(ids[position], target, float(out[target]),
                           results)


def _explain_text_of(encoder, gnn, sub, local, target, embed, texts, ids,
                     n_steps) -> TokenAttribution:
    original = int(sub.nodes[local])
    forward = _node_text_forward(encoder, gnn, sub, local, target, embed)
    result = token_attributions(
        forward, encoder.lm.get_input_embeddings(), encoder.tokenizer,
        texts[original], target=0, n_steps=n_steps,
        max_length=getattr(encoder, "max_length", None),
        node=ids[original], lm=encoder.lm)
    result.target = target
    return result


def _position(ids: list[Any], node: Any) -> int:
    for candidates in (ids, [str(i) for i in ids]):
        key = node if candidates is ids else str(node)
        if key in candidates:
            return candidates.index(key)
    raise DataError(f"node {node!r} is not in the graph.", field="node")


@dataclass
class _Subgraph:
    x: Tensor
    edge_index: Tensor
    nodes: Tensor  # original positions
    center: int
    region: Tensor  # bool: within k hops

    @classmethod
    def of(cls, gnn, data: Data, position: int, encoder, texts,
           embed) -> "_Subgraph":
        hops, hops_compute = receptive_hops(gnn)
        num_nodes = data.num_nodes
        nodes, edge_index, mapping, _ = k_hop_subgraph(
            position, hops_compute, data.edge_index, relabel_nodes=True,
            num_nodes=num_nodes)
        region = torch.isin(nodes, k_hop_subgraph(
            position, hops, data.edge_index, num_nodes=num_nodes)[0])
        if data.x is not None:
            x = data.x[nodes]
        else:
            x = _encode(encoder, [texts[i] for i in nodes.tolist()], embed)
        return cls(x, edge_index, nodes, int(mapping[0]), region)


def _encode(encoder, texts: list, embed) -> Tensor:
    """Encoder features of ``texts`` (missing texts as empty strings)."""
    texts = [t if isinstance(t, str) else "" for t in texts]
    tokens = encoder.tokenize(texts, warn=False)
    with torch.no_grad():
        rows = encoder(tokens["input_ids"], tokens["attention_mask"])
        return embed(rows) if embed is not None else rows


def explain_lm_gnn_node(
    model: nn.Module,
    dataset: Any,
    node: Any,
    **options: Any,
) -> WordExplanation:
    """:func:`explain_words` for a joint LM+GNN model
    (:class:`~gnnkit.models.fusion.LMGNN`) on a node-level dataset with
    texts; the receptive field's texts are encoded by the model's encoder.

    Args:
        model (LMGNN): the model (``.encoder`` and ``.gnn``).
        dataset (GraphDataset): node-level dataset with ``texts``.
        node (Any): original node id.
        **options: passed to :func:`explain_words`.
    """
    if getattr(dataset, "texts", None) is None:
        raise DataError(
            f"dataset '{dataset.name}' has no node texts; word "
            "explanations need the texts the encoder reads."
        )
    graph = dataset.graphs[0]
    data = Data(edge_index=graph.edge_index, num_nodes=graph.num_nodes)
    return explain_words(model.encoder, model.gnn, data, dataset.texts[0],
                         node, node_ids=dataset.node_ids[0], **options)


def _rank_texts(gnn, sub: _Subgraph, target, texts, max_texts) -> list[int]:
    x = sub.x.clone().requires_grad_(True)
    gnn(x, sub.edge_index)[sub.center, target].backward()
    score = (x.grad * x).sum(-1).abs().detach()
    has_text = torch.tensor([
        isinstance(texts[int(i)], str) and bool(texts[int(i)].strip())
        for i in sub.nodes])
    score[~(sub.region & has_text)] = -1.0
    score[sub.center] = float("inf") if has_text[sub.center] else -1.0
    order = score.argsort(descending=True)
    return [int(i) for i in order[:max_texts] if score[i] >= 0]


def _node_text_forward(encoder, gnn, sub: _Subgraph, local: int,
                       target: int, embed) -> Forward:
    """``F(input_ids, attention_mask)``: the GNN's output for the centre
    node, with node ``local``'s features recomputed from the text; one
    copy of the subgraph per row of ``input_ids``."""
    n, e = sub.x.size(0), sub.edge_index.size(1)

    def forward(input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        rows = encoder(input_ids, attention_mask)  # [b, d]
        rows = embed(rows) if embed is not None else rows
        b = rows.size(0)
        x = sub.x.repeat(b, 1)  # [b * n, F]
        x[torch.arange(b) * n + local] = rows.to(x.dtype)
        offsets = (torch.arange(b) * n).repeat_interleave(e)
        edge_index = sub.edge_index.repeat(1, b) + offsets  # [2, b * e]
        out = gnn(x, edge_index)  # [b * n, C]
        return out[torch.arange(b) * n + sub.center, target].view(-1, 1)

    return forward
