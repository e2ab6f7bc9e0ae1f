"""Tiny random BERT and RoBERTa checkpoints with local tokenizers.

Written to a folder so tests load them like any Hugging Face checkpoint
(no download; built in about a second).
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import (
    AutoModel,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    RobertaConfig,
    RobertaTokenizer,
)

from gnnkit.text.encoder import default_model_path

_SIZE = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
)

_ROBERTA_CORPUS = [
    "Graph neural networks pass messages between neighbouring nodes.",
    "A language model reads the text of each node in the graph.",
    "Citation graphs link papers about learning, search and theory.",
    "Short abstract about graph pooling and node classification.",
    "Section one describes how node one exchanges messages in layer one.",
]

_ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def _build_model(config, num_labels: int | None, seed: int):
    # Seeded without touching the caller's global random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if num_labels is None:
            return AutoModel.from_config(config)
        config.num_labels = num_labels
        return AutoModelForSequenceClassification.from_config(config)


def tiny_bert(
    directory: str | Path,
    *,
    max_position_embeddings: int = 64,
    num_labels: int | None = None,
    seed: int = 0,
) -> Path:
    """Write a tiny BERT (hidden 32, 2 layers, 2 heads) to ``directory``.

    The tokenizer is the shipped all-MiniLM-L6-v2 uncased WordPiece
    tokenizer ([PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, limit 512), so
    the usable length is set by ``max_position_embeddings``.

    Args:
        directory (str or Path): folder to write (created if needed).
        max_position_embeddings (int, optional): position limit
            (default: ``64``).
        num_labels (int, optional): if given, save a
            ``BertForSequenceClassification`` with that many labels
            instead of a bare ``BertModel``.
        seed (int, optional): seed of the random weights (default: ``0``).

    Returns:
        Path: ``directory``, loadable with ``load_lm`` or ``TextEncoder``.
    """
    directory = Path(directory)
    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        **_SIZE,
    )
    model = _build_model(config, num_labels, seed)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def _roberta_tokenizer(directory: Path) -> RobertaTokenizer:
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        _ROBERTA_CORPUS,
        vocab_size=400,
        min_frequency=1,
        special_tokens=_ROBERTA_SPECIALS,
        show_progress=False,
    )
    directory.mkdir(parents=True, exist_ok=True)
    vocab, merges = bpe.save_model(str(directory))
    return RobertaTokenizer(
        vocab=vocab, merges=merges, model_max_length=512
    )


def tiny_roberta(
    directory: str | Path,
    *,
    max_position_embeddings: int = 66,
    num_labels: int | None = None,
    seed: int = 0,
) -> Path:
    """Write a tiny RoBERTa with a byte-level BPE tokenizer to ``directory``.

    The BPE vocabulary is trained offline on a few sentences, with
    ``<s>=0``, ``<pad>=1``, ``</s>=2``, ``<unk>=3`` and ``<mask>=4``. As
    in RoBERTa, positions start after the padding index, so 66 position
    embeddings leave 64 usable tokens.

    Args:
        directory (str or Path): folder to write (created if needed).
        max_position_embeddings (int, optional): position embeddings
            (default: ``66``).
        num_labels (int, optional): if given, save a sequence classifier.
        seed (int, optional): seed of the random weights (default: ``0``).

    Returns:
        Path: ``directory``, loadable with ``load_lm`` or ``TextEncoder``.
    """
    directory = Path(directory)
    tokenizer = _roberta_tokenizer(directory)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=max_position_embeddings,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        type_vocab_size=1,
        **_SIZE,
    )
    model = _build_model(config, num_labels, seed)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
