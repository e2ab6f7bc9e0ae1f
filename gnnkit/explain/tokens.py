"""Which words mattered: Captum ``LayerIntegratedGradients`` on a language
model's token embeddings, against a baseline built from the tokenizer's own
special and padding ids (Captum issues #653, #1269), for a text classifier
or for a node whose text feeds a GNN through an encoder."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import torch
from captum.attr import LayerIntegratedGradients
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph

from gnnkit.errors import DataError, ModelError
from gnnkit.explain.results import TokenAttribution, WordExplanation
from gnnkit.explain.wrappers import receptive_hops
from gnnkit.text.tokens import position_offset

Forward = Callable[[Tensor, Tensor], Tensor]


def text_baseline(
    tokenizer: Any, input_ids: Tensor, attention_mask: Tensor
) -> Tensor:
    """The reference input for token attributions.

    Each real token is replaced by the tokenizer's padding id, except a
    leading and a trailing special token, which stay; padded positions stay
    padding. So the baseline has the input's length and attention mask:
    ``[101, 0, ..., 0, 102]`` for BERT, ``[0, 1, ..., 1, 2]`` for RoBERTa.

    Args:
        tokenizer (PreTrainedTokenizerBase): the model's tokenizer.
        input_ids (Tensor): token ids ``[n, T]``.
        attention_mask (Tensor): ``[n, T]``, 1 for real tokens.

    Returns:
        Tensor: baseline ids ``[n, T]``.

    Raises:
        ModelError: if the tokenizer has no padding token.
    """
    pad = tokenizer.pad_token_id
    if pad is None:
        raise ModelError(
            f"{type(tokenizer).__name__} has no padding token, so no "
            "neutral baseline can be built; set tokenizer.pad_token."
        )
    specials = torch.tensor(sorted(set(tokenizer.all_special_ids)))
    baseline = torch.full_like(input_ids, int(pad))
    for row in range(input_ids.size(0)):
        real = attention_mask[row].nonzero().view(-1)
        for position in (real[:1], real[-1:]):
            token = input_ids[row, position]
            if token.numel() and bool(torch.isin(token, specials).all()):
                baseline[row, position] = token
    return baseline


def token_attributions(
    forward: Forward,
    embeddings: nn.Module,
    tokenizer: Any,
    text: str,
    *,
    target: int | None = None,
    n_steps: int = 50,
    max_length: int | None = None,
    internal_batch_size: int | None = None,
    node: Any = None,
    lm: nn.Module | None = None,
) -> TokenAttribution:
    """Layer Integrated Gradients of ``forward`` on the token embeddings.

    Args:
        forward (callable): ``forward(input_ids, attention_mask)`` giving
            outputs ``[n, C]`` (or ``[n]``).
        embeddings (nn.Module): the token-embedding layer
            (``lm.get_input_embeddings()``).
        tokenizer (PreTrainedTokenizerBase): the model's tokenizer.
        text (str): the text to explain.
        target (int, optional): output column (default: the largest
            output for classifiers; ignored for ``[n]`` outputs).
        n_steps (int, optional): integration steps. (default: ``50``)
        max_length (int, optional): truncation length.
        internal_batch_size (int, optional): steps per forward pass.
        node (Any, optional): node id recorded on the result.
        lm (nn.Module, optional): the language model; with a RoBERTa-style
            model its positions are taken from the attention mask so the
            baseline keeps the input's positions.

    Returns:
        TokenAttribution: per-token attributions with the completeness gap.
    """
    if not isinstance(text, str) or not text.strip():
        raise DataError(
            f"node {node!r}: text must be a non-empty string "
            f"(got {text!r})."
        )
    enc = tokenizer(text, truncation=True, max_length=max_length,
                    return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    baseline = text_baseline(tokenizer, ids, mask)
    with torch.no_grad(), _positions_from_mask(lm):
        out, out_base = forward(ids, mask), forward(baseline, mask)
    if target is None and out.dim() > 1:
        target = int(out[0].argmax())
    lig = LayerIntegratedGradients(forward, embeddings)
    with _positions_from_mask(lm):
        attr, delta = lig.attribute(
            ids, baselines=baseline, additional_forward_args=(mask,),
            target=target, n_steps=n_steps,
            internal_batch_size=internal_batch_size,
            return_convergence_delta=True)
    return TokenAttribution(
        text=text, tokens=tokenizer.convert_ids_to_tokens(ids[0].tolist()),
        input_ids=ids[0].tolist(),
        special=_special(tokenizer, ids[0]),
        attributions=attr.sum(dim=-1)[0].detach(),
        baseline_ids=baseline[0].tolist(), target=target,
        output=_pick(out, target), baseline_output=_pick(out_base, target),
        delta=float(delta.view(-1)[0]), node=node,
    )


@contextmanager
def _positions_from_mask(lm: nn.Module | None) -> Iterator[None]:
    """Number positions from the attention mask, not from the ids.

    RoBERTa-style models derive position ids from ``input_ids`` and give
    padding ids the padding position, so a baseline of pad tokens would
    also move every position and break completeness. Inside this context
    the positions of the baseline equal those of the input.
    """
    offset = 0 if lm is None else position_offset(lm.config)
    layer = getattr(lm, "embeddings", None)
    if offset == 0 or layer is None:
        yield
        return
    state: dict[str, Tensor] = {}

    def grab(module, args, kwargs):
        mask = kwargs.get("attention_mask")
        if mask is None and len(args) > 1:
            mask = args[1]
        state["mask"] = mask

    def inject(module, args, kwargs):
        mask = state.get("mask")
        if kwargs.get("position_ids") is None and mask is not None:
            mask = mask.long()
            kwargs["position_ids"] = torch.cumsum(mask, 1) * mask \
                + (offset - 1)
            return args, kwargs
        return None

    handles = [lm.register_forward_pre_hook(grab, with_kwargs=True),
               layer.register_forward_pre_hook(inject, with_kwargs=True)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _special(tokenizer: Any, ids: Tensor) -> list[bool]:
    specials = set(tokenizer.all_special_ids)
    return [int(i) in specials for i in ids.tolist()]


def _pick(out: Tensor, target: int | None) -> float:
    row = out[0]
    return float(row if row.dim() == 0 else row[target])


def explain_text(
    model: nn.Module,
    text: str,
    *,
    tokenizer: Any = None,
    target: int | None = None,
    n_steps: int = 50,
    max_length: int | None = None,
) -> TokenAttribution:
    """Token attributions for a text classifier (the "LM alone" mode).

    Args:
        model (nn.Module): a gnnkit ``LMNodeClassifier`` (``.lm``,
            ``.tokenizer``, ``forward(input_ids, attention_mask)``) or a
            Hugging Face sequence classifier (its ``logits``).
        text (str): the text.
        tokenizer (PreTrainedTokenizerBase, optional): the tokenizer
            (default: ``model.tokenizer``).
        target (int, optional): class (default: predicted).
        n_steps (int, optional): integration steps. (default: ``50``)
        max_length (int, optional): truncation length (default: the
            model's ``max_length`` if it has one).

    Returns:
        TokenAttribution: per-token attributions with the completeness gap.
    """
    tokenizer = tokenizer or getattr(model, "tokenizer", None)
    if tokenizer is None:
        raise ModelError(
            f"{type(model).__name__} carries no tokenizer; pass "
            "tokenizer=... (the one the model was trained with)."
        )
    lm = getattr(model, "lm", model)

    def forward(input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        out = model(input_ids=input_ids, attention_mask=attention_mask)
        return getattr(out, "logits", out)

    with _eval(model):
        return token_attributions(
            forward, lm.get_input_embeddings(), tokenizer, text,
            target=target, n_steps=n_steps,
            max_length=max_length or getattr(model, "max_length", None),
            lm=getattr(lm, getattr(lm, "base_model_prefix", ""), lm))


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
    with _eval(encoder, gnn):
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


@contextmanager
def _eval(*modules: nn.Module) -> Iterator[None]:
    modes = [m.training for m in modules]
    for module in modules:
        module.eval()
    try:
        yield
    finally:
        for module, mode in zip(modules, modes):
            module.train(mode)


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
