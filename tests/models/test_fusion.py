import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gnnkit.errors import DataError, ModelError
from gnnkit.models.fusion import LMGNN, edge_positions
from gnnkit.models.fusion_io import load_lm_gnn
from gnnkit.testing.tiny_lm import tiny_bert
from gnnkit.text.encoder import TextEncoder
from gnnkit.train.joint import JointSettings, train_joint

CASE = Path(__file__).parents[1] / "cases" / "C14"
IDS = ["a1", "a2", "a3", "a4", "a5", "a6"]
EDGES = [("a1", "a2"), ("a2", "a3"), ("a3", "a4"), ("a4", "a5"),
         ("a5", "a6"), ("a6", "a1"), ("a1", "a4")]
RELOAD = """
import json, sys
from gnnkit.models.fusion_io import load_lm_gnn
model = load_lm_gnn(sys.argv[1])
texts, edges = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = model.predict(texts, [tuple(e) for e in edges], node_ids=sys.argv[4:],
                    undirected=True)
print(json.dumps({"logits": out.logits.tolist(), "labels": out.labels}))
"""


def build(path, strategy="lora", seed=0, **kw):
    torch.manual_seed(seed)
    encoder = TextEncoder(path, max_length=16)
    return LMGNN(encoder, 2, strategy=strategy, hidden_channels=8,
                 classes=["x", "y"], **kw)


@pytest.fixture(scope="module")
def trained(bert_path, c14, tmp_path_factory):
    """A LoRA + GCN model trained on C14, and its save folder."""
    model = build(bert_path)
    settings = JointSettings(epochs=3, batch_size=2, num_neighbors=(2, 2),
                             lm_lr=1e-2, gnn_lr=1e-2)
    train_joint(model, c14.graphs[0], c14.texts[0], torch.tensor([0, 1, 2]),
                torch.tensor([3, 4, 5]), settings)
    folder = tmp_path_factory.mktemp("saved") / "c14_model"
    model.eval().save(folder)
    return model, folder


@pytest.mark.parametrize("strategy", ["frozen", "top-1", "full", "lora",
                                      "prefix"])
def test_lmgnn_logits_shape_per_strategy(bert_path, c14, strategy):
    model = build(bert_path, strategy)
    tokens = model.encoder.tokenize(c14.texts[0])
    out = model(tokens["input_ids"], tokens["attention_mask"],
                c14.graphs[0].edge_index)
    assert out.shape == (6, 2)
    out.sum().backward()
    assert model.gnn.head.lin.weight.grad is not None


def test_lmgnn_frozen_runs_lm_without_gradient(bert_path, c14):
    model = build(bert_path, "frozen").train()
    assert not model.lm_trains
    tokens = model.encoder.tokenize(c14.texts[0])
    x = model.encode_tokens(tokens["input_ids"], tokens["attention_mask"])
    assert x.shape == (6, 32) and not x.requires_grad
    assert model.trainable_parameters()["lm"] == 0
    cascade = model.encoder.encode(c14.texts[0], progress_bar=False)
    assert torch.allclose(x, cascade, atol=1e-5)  # no dropout: cascade
    assert model.encoder.training


def test_lmgnn_trainable_parameters_split(bert_path):
    counts = build(bert_path, "lora").trainable_parameters()
    gcn = (32 * 8 + 8) + (8 * 8 + 8)
    assert counts == {"lm": 2048, "gnn": gcn, "head": 8 * 2 + 2,
                      "total": 2048 + gcn + 18}


def test_lmgnn_predict_id_pairs_equal_positions(trained, c14):
    model, _ = trained
    by_ids = model.predict(c14.texts[0], EDGES, node_ids=IDS,
                           undirected=True)
    by_pos = model.predict(c14.texts[0], c14.graphs[0].edge_index)
    assert by_ids.logits.shape == (6, 2)
    assert torch.allclose(by_ids.logits, by_pos.logits, atol=1e-6)
    assert set(by_ids.labels) <= {"x", "y"}
    assert torch.allclose(by_ids.probabilities.sum(-1), torch.ones(6))


def test_lmgnn_predict_new_nodes_with_their_edges(trained):
    model, _ = trained
    out = model.predict(["Message passing on graphs", "Prefix tuning"],
                        [("n1", "n2")], node_ids=["n1", "n2"],
                        undirected=True)
    assert out.logits.shape == (2, 2) and out.node_ids == ["n1", "n2"]


def test_edge_positions_unknown_node_raises():
    with pytest.raises(DataError, match="names node 'zz'"):
        edge_positions([("a1", "zz")], IDS)
    with pytest.raises(DataError, match="outside 0..5"):
        edge_positions(torch.tensor([[0], [6]]), IDS)


def test_lmgnn_replace_head_keeps_gnn(bert_path):
    model = build(bert_path)
    conv = model.gnn.convs[0].lin.weight.clone()
    model.replace_head(["p", "q", "r"])
    assert model.gnn.head.lin.out_features == 3
    assert model.num_classes == 3 and model.gnn.config["out_channels"] == 3
    assert torch.equal(model.gnn.convs[0].lin.weight, conv)


def test_save_load_fresh_process_logits_equal(trained, c14):
    model, folder = trained
    before = model.predict(c14.texts[0], EDGES, node_ids=IDS,
                           undirected=True)
    args = [sys.executable, "-c", RELOAD, str(folder),
            json.dumps(c14.texts[0]), json.dumps(EDGES), *IDS]
    done = subprocess.run(args, capture_output=True, text=True, check=True,
                          timeout=120)
    after = json.loads(done.stdout.strip().splitlines()[-1])
    logits = torch.tensor(after["logits"])
    assert logits.shape == (6, 2)
    assert torch.allclose(logits, before.logits, atol=1e-6, rtol=0)
    assert after["labels"] == before.labels
    assert (folder / "lm_adapter" / "adapter_config.json").is_file()


def test_load_restores_everything_in_process(trained):
    model, folder = trained
    again = load_lm_gnn(folder)
    assert again.classes == ["x", "y"]
    assert again.strategy == model.strategy
    assert again.encoder.max_length == 16
    assert again.trainable_parameters()["lm"] == 0
    assert again.trainable_parameters()["gnn"] == 354 - 18
    trainable = LMGNN.load(folder, trainable=True)
    assert trainable.trainable_parameters()["lm"] == 2048


@pytest.mark.parametrize("part, message", [
    ("head.safetensors", "no classification head weights"),
    ("gnn.safetensors", "no GNN weights"),
    ("lm_adapter", "no PEFT adapter"),
    ("tokenizer", "no tokenizer"),
    ("config.json", "not a saved LM\\+GNN model"),
])
def test_load_missing_part_raises(trained, tmp_path, part, message):
    import shutil

    _, folder = trained
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    target = copy / part
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(ModelError, match=message):
        load_lm_gnn(copy)


def test_load_newer_format_raises(trained, tmp_path):
    import json
    import shutil

    _, folder = trained
    shutil.copytree(folder, tmp_path / "copy")
    path = tmp_path / "copy" / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()),
                                "format": 9}))
    with pytest.raises(ModelError, match=r"saved by a newer gnnkit \(format "
                       r"9, this gnnkit reads up to 1\)"):
        load_lm_gnn(tmp_path / "copy")


def test_load_head_tensor_removed_raises(trained, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    _, folder = trained
    shutil.copytree(folder, tmp_path / "copy")
    path = tmp_path / "copy" / "head.safetensors"
    state = load_file(path)
    save_file({"head.lin.weight": state["head.lin.weight"]}, path)
    with pytest.raises(ModelError, match="head weights .* 1 missing"):
        load_lm_gnn(tmp_path / "copy")


def test_load_other_base_weights_raises(trained, tmp_path):
    import shutil

    _, folder = trained
    shutil.copytree(folder, tmp_path / "copy")
    other = tiny_bert(tmp_path / "other_bert", seed=1)
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    config["config"]["encoder"]["name_or_path"] = str(other)
    (tmp_path / "copy" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="weight digest differs"):
        load_lm_gnn(tmp_path / "copy")


def test_save_replaces_existing_folder(bert_path, tmp_path):
    build(bert_path, "lora").save(tmp_path / "m")
    build(bert_path, "full", seed=1).save(tmp_path / "m")
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["config.json", "gnn.safetensors", "head.safetensors",
                     "lm.safetensors", "tokenizer"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_lmgnn_repr(bert_path):
    text = repr(build(bert_path, "prefix"))
    assert text.startswith("LMGNN(encoder=TextEncoder(")
    assert "strategy='prefix', classes=2)" in text
