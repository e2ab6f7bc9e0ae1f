import warnings

import pytest
from transformers import AutoConfig, AutoTokenizer, BertConfig, RobertaConfig

from gnnkit.testing.tiny_lm import tiny_roberta
from gnnkit.text.encoder import default_model_path
from gnnkit.text.tokens import (
    position_offset,
    special_token_ids,
    token_lengths,
    truncation_report,
    usable_length,
    warn_truncation,
)


@pytest.fixture(scope="module")
def minilm_tokenizer():
    return AutoTokenizer.from_pretrained(default_model_path())


def test_position_offset_bert_and_roberta():
    assert position_offset(BertConfig()) == 0
    assert position_offset(RobertaConfig(pad_token_id=1)) == 2


def test_usable_length_base_bert_is_512(minilm_tokenizer):
    config = AutoConfig.from_pretrained(default_model_path())
    assert minilm_tokenizer.model_max_length == 512
    assert config.max_position_embeddings == 512
    assert usable_length(minilm_tokenizer, config) == 512


def test_usable_length_position_limit_wins(minilm_tokenizer):
    config = BertConfig(max_position_embeddings=64)
    assert usable_length(minilm_tokenizer, config) == 64


def test_usable_length_roberta_offset(tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_roberta(tmp_path))
    config = RobertaConfig(max_position_embeddings=66, pad_token_id=1)
    assert usable_length(tokenizer, config) == 64
    base = RobertaConfig(max_position_embeddings=514, pad_token_id=1)
    assert usable_length(tokenizer, base) == 512


def test_usable_length_without_limits_raises(minilm_tokenizer):
    class Unbounded:
        model_max_length = int(1e30)

    with pytest.raises(ValueError, match="pass max_length explicitly"):
        usable_length(Unbounded(), None)


def test_special_token_ids_bert(minilm_tokenizer):
    assert special_token_ids(minilm_tokenizer) == [0, 100, 101, 102, 103]


def test_token_lengths_counts_special_tokens(minilm_tokenizer):
    lengths = token_lengths(minilm_tokenizer, ["graph", "", "NA"])
    assert lengths == [3, 2, 3]
    assert token_lengths(minilm_tokenizer, []) == []


def test_truncation_report_names_cut_texts():
    report = truncation_report([5, 70, 64, 99], 64, ["a", "b", "c", "d"])
    assert bool(report)
    assert report.indices == [1, 3]
    assert report.names == ["b", "d"]
    assert report.dropped == [6, 35]
    message = report.message()
    assert message.startswith("2 of 4 texts are longer")
    assert "b (6 tokens dropped), d (35 tokens dropped)" in message


def test_truncation_report_default_names_and_limit():
    report = truncation_report([10] * 12, 8)
    assert report.names[0] == "text 0"
    assert "and 2 more" in report.message(limit=10)


def test_warn_truncation_warns_only_when_cut():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_truncation(truncation_report([3, 4], 8))
    with pytest.warns(UserWarning, match=r"text 1 \(2 tokens dropped\)"):
        warn_truncation(truncation_report([3, 10], 8))
