import pytest
import torch
from torch import nn

from gnnkit.errors import ModelError
from gnnkit.models.peft_strategies import (
    LMStrategy,
    apply_strategy,
    count_parameters,
    load_lm,
    save_lm,
    transformer_layers,
)
from gnnkit.text.encoder import load_lm as load_base

# Tiny BERT: hidden 32, 2 layers, intermediate 64, vocabulary 30522.
LAYER = 3 * (32 * 32 + 32) + (32 * 32 + 32) + 64 + (32 * 64 + 64) \
    + (64 * 32 + 32) + 64  # one BertLayer: 8,544 parameters
LORA = 2 * 2 * (8 * 32 + 32 * 8)  # 2 layers x (query, value) x (A, B)
PREFIX = 8 * 2 * 2 * 32  # tokens x layers x (key, value) x hidden


def fresh(path):
    model, _ = load_base(path)
    return model


def test_strategy_parse_top_k_shorthand():
    strategy = LMStrategy.parse("top-3")
    assert (strategy.name, strategy.top_k) == ("top-k", 3)
    assert LMStrategy.parse(strategy, lora_r=4).lora_r == 4
    assert LMStrategy.parse({"name": "lora", "lora_r": 2}).lora_r == 2
    assert LMStrategy.parse(None).name == "frozen"


def test_strategy_unknown_name_raises():
    with pytest.raises(ValueError, match="Unknown LM strategy 'adapter'"):
        LMStrategy.parse("adapter")
    with pytest.raises(ValueError, match="lora_r must be an integer >= 1"):
        LMStrategy(name="lora", lora_r=0)


@pytest.mark.parametrize("name, expected", [
    ("frozen", 0), ("top-1", LAYER), ("top-2", 2 * LAYER),
    ("lora", LORA), ("prefix", PREFIX),
])
def test_apply_strategy_trainable_counts(bert_path, name, expected):
    lm = apply_strategy(fresh(bert_path), LMStrategy.parse(name))
    assert count_parameters(lm) == expected


def test_apply_strategy_full_trains_everything(bert_path):
    lm = fresh(bert_path)
    total = count_parameters(lm, trainable=False)
    lm = apply_strategy(lm, LMStrategy.parse("full"))
    assert count_parameters(lm) == total > 900_000


def test_apply_strategy_lora_trains_only_lora_weights(bert_path):
    lm = apply_strategy(fresh(bert_path), LMStrategy.parse("lora"))
    names = [n for n, p in lm.named_parameters() if p.requires_grad]
    assert len(names) == 8
    assert all("lora_" in n for n in names)
    assert all(".query." in n or ".value." in n for n in names)


def test_apply_strategy_top_k_trains_last_layers(bert_path):
    lm = apply_strategy(fresh(bert_path), LMStrategy.parse("top-1"))
    names = {n.split(".")[2] for n, p in lm.named_parameters()
             if p.requires_grad}
    assert names == {"1"}  # encoder.layer.1 only


def test_apply_strategy_prefix_keeps_output_shape_and_padding(bert_path):
    lm = apply_strategy(fresh(bert_path), LMStrategy.parse("prefix")).eval()
    ids = torch.tensor([[101, 2000, 2001, 102, 0], [101, 2003, 102, 0, 0]])
    mask = (ids != 0).long()
    out = lm(input_ids=ids, attention_mask=mask).last_hidden_state
    assert out.shape == (2, 5, 32)
    alone = lm(input_ids=ids[1:, :3],
               attention_mask=mask[1:, :3]).last_hidden_state
    assert torch.allclose(alone[0], out[1, :3], atol=1e-5)


def test_apply_strategy_top_k_beyond_depth_raises(bert_path):
    with pytest.raises(ModelError, match="top 3 layers but BertModel has 2"):
        apply_strategy(fresh(bert_path), LMStrategy.parse("top-3"))


def test_transformer_layers_missing_raises():
    with pytest.raises(ModelError, match="Cannot find the transformer"):
        transformer_layers(nn.Linear(2, 2))


@pytest.mark.parametrize("name", ["lora", "prefix", "top-1"])
def test_save_lm_load_lm_round_trip(bert_path, tmp_path, name):
    strategy = LMStrategy.parse(name)
    torch.manual_seed(0)
    lm = apply_strategy(fresh(bert_path), strategy)
    with torch.no_grad():
        for param in lm.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.1)
    save_lm(lm, strategy, tmp_path)
    again = load_lm(fresh(bert_path), strategy, tmp_path)
    ids = torch.tensor([[101, 2000, 2001, 102]])
    mask = torch.ones_like(ids)
    a = lm.eval()(input_ids=ids, attention_mask=mask).last_hidden_state
    b = again(input_ids=ids, attention_mask=mask).last_hidden_state
    assert torch.allclose(a, b, atol=1e-6)
    assert count_parameters(again) == 0


def test_load_lm_trainable_restores_strategy(bert_path, tmp_path):
    strategy = LMStrategy.parse("lora")
    save_lm(apply_strategy(fresh(bert_path), strategy), strategy, tmp_path)
    again = load_lm(fresh(bert_path), strategy, tmp_path, trainable=True)
    assert count_parameters(again) == LORA


@pytest.mark.parametrize("name, what", [
    ("lora", "PEFT adapter"), ("full", "fine-tuned language-model weights"),
])
def test_load_lm_missing_part_raises(bert_path, tmp_path, name, what):
    with pytest.raises(ModelError, match=f"has no {what}"):
        load_lm(fresh(bert_path), LMStrategy.parse(name), tmp_path)
