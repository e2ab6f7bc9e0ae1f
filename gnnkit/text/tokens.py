"""Tokenizer helpers: usable length, special tokens, truncation reports.

The usable length is the smaller of the tokenizer and position-embedding
limits (BERT/RoBERTa, transformers issue #2446).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

from gnnkit.errors import DataError

# Families whose position ids start after the padding index
# (RoBERTa: ``padding_idx + 1``), so two positions are never usable.
_PADDING_OFFSET_TYPES = {
    "roberta",
    "xlm-roberta",
    "xlm-roberta-xl",
    "camembert",
    "longformer",
    "data2vec-text",
    "roberta-prelayernorm",
    "xmod",
    "ibert",
    "mpnet",
    "luke",
}

# Tokenizers without a limit report a huge sentinel (``int(1e30)``).
_NO_LIMIT = 1_000_000


def position_offset(config: Any) -> int:
    """Positions an encoder reserves before the first token.

    RoBERTa-style models number positions from ``pad_token_id + 1``, so a
    RoBERTa with 514 position embeddings takes 512 tokens.

    Args:
        config (PretrainedConfig): the model configuration.

    Returns:
        int: ``pad_token_id + 1`` for RoBERTa-style models, else ``0``.
    """
    if getattr(config, "model_type", None) in _PADDING_OFFSET_TYPES:
        pad = getattr(config, "pad_token_id", None)
        return 1 if pad is None else int(pad) + 1
    return 0


def usable_length(tokenizer: Any, config: Any = None) -> int:
    """The longest input, special tokens included, an encoder accepts.

    It is the smaller of the tokenizer's ``model_max_length`` and the
    position-embedding limit ``max_position_embeddings -
    position_offset(config)``.

    Args:
        tokenizer (PreTrainedTokenizerBase): the tokenizer.
        config (PretrainedConfig, optional): the model configuration.

    Returns:
        int: the usable length in tokens.

    Example:
        >>> usable_length(bert_tokenizer, bert_config)  # base BERT
        512
    """
    limits = []
    tok_max = getattr(tokenizer, "model_max_length", None)
    if tok_max is not None and tok_max < _NO_LIMIT:
        limits.append(int(tok_max))
    positions = getattr(config, "max_position_embeddings", None)
    if positions is not None:
        limits.append(int(positions) - position_offset(config))
    if not limits:
        raise ValueError(
            "Neither the tokenizer nor the model config gives a maximum "
            "sequence length; pass max_length explicitly."
        )
    return min(limits)


def special_token_ids(tokenizer: Any) -> list[int]:
    """Sorted ids of the tokenizer's special tokens ([CLS], [PAD], ...)."""
    return sorted(set(int(i) for i in tokenizer.all_special_ids))


def token_lengths(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Untruncated token counts of ``texts``, special tokens included."""
    if len(texts) == 0:
        return []
    encoded = tokenizer(
        list(texts),
        add_special_tokens=True,
        truncation=False,
        padding=False,
        verbose=False,
    )
    return [len(ids) for ids in encoded["input_ids"]]


@dataclass
class TruncationReport:
    """Which texts a ``max_length`` cuts and how many tokens each loses.

    Args:
        max_length (int): the length texts are cut to.
        indices (list[int]): positions of the cut texts in the input.
        names (list[str]): their node ids (or ``"text <i>"``).
        dropped (list[int]): tokens dropped from each cut text.
    """

    max_length: int
    indices: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    total: int = 0

    def __bool__(self) -> bool:
        return bool(self.indices)

    def message(self, limit: int = 10) -> str:
        """A one-paragraph account naming the cut texts."""
        parts = [
            f"{name} ({drop} tokens dropped)"
            for name, drop in zip(self.names[:limit], self.dropped[:limit])
        ]
        more = len(self.names) - limit
        if more > 0:
            parts.append(f"and {more} more")
        return (
            f"{len(self.indices)} of {self.total} texts are longer than "
            f"the encoder's usable length of {self.max_length} tokens and "
            f"were truncated: {', '.join(parts)}. Only the first "
            f"{self.max_length} tokens of each are encoded; shorten the "
            "texts or use an encoder with a longer limit to keep the rest."
        )


def truncation_report(
    lengths: Sequence[int],
    max_length: int,
    node_ids: Sequence[Any] | None = None,
) -> TruncationReport:
    """Report the texts whose token count exceeds ``max_length``.

    Args:
        lengths (Sequence[int]): untruncated token counts
            (see :func:`token_lengths`).
        max_length (int): the truncation length.
        node_ids (Sequence, optional): ids naming the texts
            (default: ``"text <i>"``).

    Returns:
        TruncationReport: the cut texts with their dropped-token counts.
    """
    report = TruncationReport(max_length=max_length, total=len(lengths))
    for i, length in enumerate(lengths):
        if length > max_length:
            name = f"text {i}" if node_ids is None else str(node_ids[i])
            report.indices.append(i)
            report.names.append(name)
            report.dropped.append(int(length) - max_length)
    return report


def warn_truncation(report: TruncationReport, stacklevel: int = 3) -> None:
    """Issue one ``UserWarning`` for ``report`` if any text was cut."""
    if report:
        warnings.warn(report.message(), UserWarning, stacklevel=stacklevel)


def text_names(node_ids: Sequence[Any] | None, n: int) -> list[str]:
    """Names of ``n`` texts in messages: their node ids, else ``text i``."""
    if node_ids is None:
        return [f"text {i}" for i in range(n)]
    if len(node_ids) != n:
        raise ValueError(
            f"node_ids has {len(node_ids)} entries but there are {n} texts; "
            "pass one id per text."
        )
    return [str(i) for i in node_ids]


def _is_missing(text: Any) -> bool:
    return text is None or (isinstance(text, float) and math.isnan(text))


def check_texts(
    texts: Sequence[Any],
    node_ids: Sequence[Any] | None = None,
    missing: str = "error",
) -> list[str]:
    """Validate node texts and apply the missing-text policy.

    ``None`` or NaN marks a missing text; strings such as ``"NA"``,
    ``"None"``, ``"null"`` or ``""`` are ordinary texts.

    Args:
        texts (Sequence): one text per node.
        node_ids (Sequence, optional): ids naming texts in messages.
        missing (str, optional): ``"error"`` raises on missing texts,
            ``"empty"`` replaces them with ``""`` and warns once
            (default: ``"error"``).

    Returns:
        list[str]: the texts, missing ones as ``""``.

    Raises:
        DataError: if texts are missing under ``"error"`` or a text is
            neither a string nor missing.
    """
    if missing not in ("error", "empty"):
        raise ValueError(
            f"missing must be 'error' or 'empty' (got {missing!r})."
        )
    texts = list(texts)
    names = text_names(node_ids, len(texts))
    for name, text in zip(names, texts):
        if not _is_missing(text) and not isinstance(text, str):
            raise DataError(
                f"the text of {name} has type {type(text).__name__} "
                f"(got {text!r}); node texts must be strings or None.",
                field="text",
            )
    absent = [i for i, text in enumerate(texts) if _is_missing(text)]
    if absent:
        _report_missing([names[i] for i in absent], len(texts), missing)
    return ["" if _is_missing(text) else text for text in texts]


def _report_missing(names: list[str], total: int, missing: str) -> None:
    listed = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
    what = f"{len(names)} of {total} node texts are missing: {listed}"
    if missing == "error":
        raise DataError(
            f"{what}. Fill them in, drop those nodes, or pass "
            "missing='empty' to encode them as empty text.",
            field="text",
        )
    warnings.warn(f"{what}; encoding them as empty text.", stacklevel=4)
