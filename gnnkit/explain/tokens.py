"""Which words mattered: Captum ``LayerIntegratedGradients`` on a language
model's token embeddings, against a baseline built from the tokenizer's own
special and padding ids (Captum issues #653, #1269), for a text classifier
or any ``forward(input_ids, attention_mask)``; :mod:`gnnkit.explain.words`
applies it to the texts that feed a GNN node through an encoder."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import torch
from captum.attr import LayerIntegratedGradients
from torch import Tensor, nn

from gnnkit.errors import DataError, ModelError
from gnnkit.explain.results import TokenAttribution
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

    with eval_mode(model):
        return token_attributions(
            forward, lm.get_input_embeddings(), tokenizer, text,
            target=target, n_steps=n_steps,
            max_length=max_length or getattr(model, "max_length", None),
            lm=getattr(lm, getattr(lm, "base_model_prefix", ""), lm))


@contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Put ``modules`` in eval mode, and back in their own modes after."""
    modes = [m.training for m in modules]
    for module in modules:
        module.eval()
    try:
        yield
    finally:
        for module, mode in zip(modules, modes):
            module.train(mode)
