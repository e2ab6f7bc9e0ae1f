"""Language-model encoders that turn node texts into vectors.

Hugging Face ``transformers`` models pooled over the attention mask, as in
sentence-transformers, with truncation reports and an on-disk cache.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
from typing import Any, Sequence

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError
from gnnkit.text.cache import (
    EmbeddingCache,
    files_digest,
    resolve_cache,
    state_digest,
)
from gnnkit.text.hub import default_model_path, load_lm
from gnnkit.text.tokens import (
    check_texts,
    text_names,
    token_lengths,
    truncation_report,
    usable_length,
    warn_truncation,
)

log = logging.getLogger(__name__)

POOLINGS = ("mean", "cls", "max")


def _pool(hidden: Tensor, attention_mask: Tensor, pooling: str) -> Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # [n, L, 1]
    if pooling == "cls":
        return hidden[:, 0]  # [n, d]
    if pooling == "max":
        low = torch.finfo(hidden.dtype).min
        filled = hidden.masked_fill(mask == 0, low)
        return filled.max(dim=1).values  # [n, d]
    summed = (hidden * mask).sum(dim=1)  # [n, d]
    return summed / mask.sum(dim=1).clamp(min=1.0)


class TextEncoder(nn.Module):
    r"""A language model that turns texts into one vector each.

    The model's last hidden states are pooled over the attention mask, so
    padding never changes a text's embedding: ``"mean"`` averages real
    tokens (sentence-transformers' choice for all-MiniLM-L6-v2), ``"max"``
    takes their maximum, ``"cls"`` the first token.

    Args:
        name_or_path (str or Path, optional): Hub name or local folder
            (default: the shipped all-MiniLM-L6-v2).
        pooling (str, optional): ``"mean"``, ``"cls"`` or ``"max"``
            (default: ``"mean"``).
        max_length (int, optional): truncation length, capped at the
            model's usable length; ``None`` means the usable length
            (default: ``256``).
        model (nn.Module, optional): an already built model (with
            ``tokenizer``) used instead of loading ``name_or_path``.
        tokenizer (optional): the tokenizer that goes with ``model``.

    Shapes:
        - **input:** ``input_ids`` and ``attention_mask`` :math:`(n, L)`
          or ``inputs_embeds`` :math:`(n, L, d)`
        - **output:** embeddings :math:`(n, d)`

    Example:
        >>> encoder = TextEncoder()
        >>> encoder.encode(["graph pooling", "message passing"]).shape
        torch.Size([2, 384])
    """

    def __init__(
        self,
        name_or_path: str | os.PathLike | None = None,
        *,
        pooling: str = "mean",
        max_length: int | None = 256,
        model: nn.Module | None = None,
        tokenizer: Any = None,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(
                f"pooling must be one of {POOLINGS} (got {pooling!r})."
            )
        if (model is None) != (tokenizer is None):
            raise ValueError(
                "Pass model and tokenizer together, or neither (got only "
                f"the {'model' if tokenizer is None else 'tokenizer'})."
            )
        loaded = model is None
        if loaded:
            model, tokenizer = load_lm(name_or_path)
            name_or_path = name_or_path or default_model_path()
        self.lm = model
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.name_or_path = str(
            name_or_path
            or getattr(model.config, "_name_or_path", "")
            or type(model).__name__
        )
        self.max_length = self._effective_length(max_length)
        self.out_channels = int(model.config.hidden_size)
        self._digest_key: tuple | None = None
        self._digest = ""
        if loaded and os.path.isdir(self.name_or_path):
            # Untouched since loading: the weight files identify the model.
            self._digest_key = self._state_key(self.lm.state_dict())
            self._digest = files_digest(self.name_or_path)
        self.eval()  # as from_pretrained leaves the model

    def _effective_length(self, requested: int | None) -> int:
        usable = usable_length(self.tokenizer, self.lm.config)
        if requested is None:
            return usable
        if requested < 2:
            raise ValueError(f"max_length must be >= 2 (got {requested}).")
        if requested > usable:
            log.info("max_length=%d capped at %d", requested, usable)
        return min(int(requested), usable)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name_or_path!r}, "
            f"pooling={self.pooling!r}, max_length={self.max_length}, "
            f"out_channels={self.out_channels})"
        )

    @property
    def device(self) -> torch.device:
        """The device of the language model's weights."""
        return next(self.lm.parameters()).device

    def weights_digest(self) -> str:
        """SHA-256 of the model's weights, recomputed only after a change.

        Parameters bump their version counter when trained or loaded in
        place, so a fine-tuned model never reuses a frozen one's cache. A
        model untouched since loading from a folder is identified by its
        weight files (name, size, modification time) instead.
        """
        state = self.lm.state_dict()
        key = self._state_key(state)
        if key != self._digest_key:
            self._digest_key, self._digest = key, state_digest(state)
        return self._digest

    @staticmethod
    def _state_key(state: dict[str, Tensor]) -> tuple:
        return tuple((k, t.data_ptr(), t._version) for k, t in state.items())

    @property
    def identity(self) -> str:
        """What the cache keys on: model, config, weights, pooling, length."""
        config = self.lm.config.to_json_string(use_diff=False)
        config_hash = hashlib.sha256(config.encode()).hexdigest()
        return (
            f"{self.name_or_path}|config={config_hash[:16]}"
            f"|weights={self.weights_digest()[:16]}"
            f"|pooling={self.pooling}|max_length={self.max_length}"
        )

    def tokenize(
        self,
        texts: Sequence[str],
        *,
        node_ids: Sequence[Any] | None = None,
        warn: bool = True,
    ):
        """Tokenize ``texts``, padded to the longest and truncated.

        Args:
            texts (Sequence[str]): the texts.
            node_ids (Sequence, optional): ids naming the texts in the
                truncation warning.
            warn (bool, optional): warn once about truncated texts
                (default: ``True``).

        Returns:
            BatchEncoding: ``input_ids`` and ``attention_mask`` tensors.
        """
        texts = list(texts)
        if warn:
            lengths = token_lengths(self.tokenizer, texts)
            report = truncation_report(lengths, self.max_length, node_ids)
            warn_truncation(report, stacklevel=3)
        return self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )

    def forward(
        self,
        input_ids: Tensor | None,
        attention_mask: Tensor,
        inputs_embeds: Tensor | None = None,
    ) -> Tensor:
        """Pool the last hidden states over the attention mask.

        Args:
            input_ids (Tensor, optional): token ids ``[n, L]``; ignored
                when ``inputs_embeds`` is given.
            attention_mask (Tensor): ``[n, L]``, 1 for real tokens.
            inputs_embeds (Tensor, optional): token embeddings
                ``[n, L, d]`` (e.g. from Captum).

        Returns:
            Tensor: embeddings ``[n, out_channels]``.
        """
        if inputs_embeds is not None:
            input_ids = None
        out = self.lm(
            input_ids=input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
        )
        hidden = out.last_hidden_state  # [n, L, hidden_size]
        return _pool(hidden, attention_mask, self.pooling)

    def encode(
        self,
        texts: Sequence[str | None],
        *,
        node_ids: Sequence[Any] | None = None,
        batch_size: int = 32,
        progress_bar: bool = True,
        cache: EmbeddingCache | str | os.PathLike | bool | None = None,
        missing: str = "error",
    ) -> Tensor:
        """Encode texts in length-sorted batches, in inference mode.

        Args:
            texts (Sequence[str or None]): one text per node; ``None`` (or
                NaN) marks a missing text. ``"NA"``, ``"None"``, ``""`` are
                ordinary texts.
            node_ids (Sequence, optional): ids naming texts in errors and
                warnings (default: positions).
            batch_size (int, optional): texts per forward pass
                (default: ``32``).
            progress_bar (bool, optional): show a progress bar
                (default: ``True``).
            cache (EmbeddingCache or path or bool, optional): reuse and
                store embeddings on disk; ``True`` uses the default folder
                (default: ``None``, no cache).
            missing (str, optional): ``"error"`` raises on missing texts,
                ``"empty"`` encodes them as ``""`` with a warning
                (default: ``"error"``).

        Returns:
            Tensor: ``[len(texts), out_channels]`` in input order.

        Raises:
            DataError: if texts are missing and ``missing="error"``, or a
                text is not a string.
        """
        texts = check_texts(texts, node_ids, missing)
        names = text_names(node_ids, len(texts))
        out = torch.empty(len(texts), self.out_channels)
        store = resolve_cache(cache)
        todo = list(range(len(texts)))
        if store is not None:
            identity = self.identity
            found, todo = store.get_many(identity, texts)
            for i, row in found.items():
                out[i] = row
        if todo:
            fresh = self._encode_uncached(
                [texts[i] for i in todo],
                [names[i] for i in todo],
                batch_size,
                progress_bar,
            )
            out[todo] = fresh
            if store is not None:
                store.put_many(identity, [texts[i] for i in todo], fresh)
        return out

    def _encode_uncached(
        self,
        texts: list[str],
        names: list[str],
        batch_size: int,
        progress_bar: bool,
    ) -> Tensor:
        lengths = token_lengths(self.tokenizer, texts)
        report = truncation_report(lengths, self.max_length, names)
        warn_truncation(report, stacklevel=4)
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        out = torch.empty(len(texts), self.out_channels)
        modes = {module: module.training for module in self.modules()}
        self.eval()
        bar = tqdm(
            total=len(texts), desc="Encoding texts", disable=not progress_bar
        )
        try:
            with torch.inference_mode():
                for start in range(0, len(order), batch_size):
                    pick = order[start : start + batch_size]
                    out[pick] = self._encode_batch([texts[i] for i in pick])
                    bar.update(len(pick))
        finally:
            bar.close()
            for module, mode in modes.items():
                module.training = mode
        return out

    def _encode_batch(self, texts: list[str]) -> Tensor:
        batch = self.tokenize(texts, warn=False).to(self.device)
        pooled = self(batch["input_ids"], batch["attention_mask"])
        return pooled.float().cpu()  # [batch, out_channels]


def encode_dataset(
    dataset: GraphDataset, encoder: TextEncoder | None = None, **kw: Any
) -> GraphDataset:
    """A copy of ``dataset`` whose node features are LM embeddings.

    All node texts are encoded in one call (so batches span graphs), then
    split back per graph. ``meta["text_encoder"]`` records the encoder's
    identity.

    Args:
        dataset (GraphDataset): a dataset with node ``texts``.
        encoder (TextEncoder, optional): the encoder (default: the shipped
            all-MiniLM-L6-v2 with mean pooling).
        **kw: passed to :meth:`TextEncoder.encode` (``batch_size``,
            ``cache``, ``missing``, ``progress_bar``).

    Returns:
        GraphDataset: the copy, with ``x`` of width ``out_channels``.

    Raises:
        DataError: if the dataset has no node texts.
    """
    if dataset.texts is None:
        raise DataError(
            f"Dataset '{dataset.name}' has no node texts to encode; load "
            "it with a text column (e.g. read_csv_graph(..., text='text'))."
        )
    encoder = TextEncoder() if encoder is None else encoder
    texts = [t for graph_texts in dataset.texts for t in graph_texts]
    ids = [
        f"{gid}:{nid}" if dataset.level == "graph" else str(nid)
        for gid, node_ids in zip(dataset.graph_ids, dataset.node_ids)
        for nid in node_ids
    ]
    x = encoder.encode(texts, node_ids=ids, **kw)
    sizes = [len(graph_texts) for graph_texts in dataset.texts]
    graphs = []
    for graph, part in zip(dataset.graphs, torch.split(x, sizes)):
        graph = copy.copy(graph)
        graph.x = part  # [num_nodes, out_channels]
        graphs.append(graph)
    out = copy.copy(dataset)
    out.graphs = graphs
    out.feature_names = [f"lm_{i}" for i in range(encoder.out_channels)]
    out.meta = {**dataset.meta, "text_encoder": encoder.identity}
    return out
