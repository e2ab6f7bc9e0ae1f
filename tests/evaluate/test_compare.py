import argparse
import json
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph, subgraph

from gnnkit.cli import compare as cli_compare
from gnnkit.cli import run as cli_run
from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import load_dataset
from gnnkit.data.tables import read_csv_graph
from gnnkit.errors import DataError
from gnnkit.evaluate.compare import (
    ComparisonResult,
    combined_rows,
    compare,
    compare_label_rates,
    make_splits,
)
from gnnkit.evaluate.grand_mode import GrandSettings
from gnnkit.evaluate.modes import (
    CompareSettings,
    FeatureStore,
    Mode,
    parse_mode,
    run_mode,
)
from gnnkit.models.fusion_io import load_lm_gnn
from gnnkit.testing.tiny_lm import tiny_bert
from gnnkit.train.joint import JointSettings

CASE = Path(__file__).parents[1] / "cases" / "C14"
SPLIT = "34/33/33"


@pytest.fixture(scope="module")
def bert_path(tmp_path_factory):
    return str(tiny_bert(tmp_path_factory.mktemp("tiny_bert")))


@pytest.fixture(scope="module")
def c14():
    return read_csv_graph(CASE / "edges.csv", CASE / "nodes.csv",
                          text="text", name="C14")


def tiny_settings(bert_path):
    joint = JointSettings(max_length=16, epochs=2, batch_size=2,
                          num_neighbors=(2,), hidden_channels=8)
    grand = GrandSettings(hidden_channels=8, epochs=5, patience=5)
    return CompareSettings(lm=bert_path, cache=None, max_length=16,
                           epochs=5, patience=5, hidden_channels=8,
                           joint=joint, grand=grand, lm_max_length=16,
                           lm_epochs=1)


@pytest.mark.parametrize("name, expected", [
    ("cascade_gcn", Mode("cascade_gcn", "features", "lm", "gcn")),
    ("tfidf_sage", Mode("tfidf_sage", "features", "tfidf", "sage")),
    ("hybrid_gat", Mode("hybrid_gat", "features", "hybrid", "gat")),
    ("hybrid_appnp", Mode("hybrid_appnp", "features", "hybrid", "appnp")),
    ("hybrid_grand", Mode("hybrid_grand", "features", "hybrid", "grand")),
    ("tfidf_grand", Mode("tfidf_grand", "features", "tfidf", "grand")),
    ("mlp_lm", Mode("mlp_lm", "features", "lm", "mlp")),
    ("gnn_gin", Mode("gnn_gin", "features", "x", "gin")),
    ("joint_lora", Mode("joint_lora", "joint", "lm", "gcn", "lora")),
    ("joint_top-2_sage", Mode("joint_top-2_sage", "joint", "lm", "sage",
                              "top-2")),
    ("lm", Mode("lm", "lm")),
    ("mlp_lm+gnn_gcn", Mode("mlp_lm+gnn_gcn", "ensemble", parts=(
        Mode("mlp_lm", "features", "lm", "mlp"),
        Mode("gnn_gcn", "features", "x", "gcn")))),
])
def test_parse_mode_grammar(name, expected):
    assert parse_mode(name) == expected


@pytest.mark.parametrize("name", ["cascade", "joint_adapter", "mlp_gcn",
                                  "tfidf_transformer", "LM",
                                  "joint_lora_appnp", "joint_lora_grand",
                                  "mlp_grand"])
def test_parse_mode_unknown_raises(name):
    with pytest.raises(ValueError, match=f"Unknown mode '{name}'"):
        parse_mode(name)


def test_parse_mode_error_lists_feature_only_backbones():
    with pytest.raises(ValueError, match="also 'appnp' and 'grand'"):
        parse_mode("cascade_grnd")


def test_make_splits_disjoint_and_repeatable():
    y = torch.arange(100) % 4
    first = make_splits(y, [0, 1], "60/20/20")
    again = make_splits(y, [0, 1], "60/20/20")
    train, val, test = first[0]
    assert (train.numel(), val.numel(), test.numel()) == (60, 20, 20)
    assert len(set(torch.cat(first[0]).tolist())) == 100
    assert all(torch.equal(a, b) for a, b in zip(first[1], again[1]))
    assert not torch.equal(first[0][0], first[1][0])
    train, val, test = make_splits(y, [3], "k_per_class", k=5,
                                   val_size=30)[0]
    assert torch.bincount(y[train]).tolist() == [5, 5, 5, 5]
    assert (val.numel(), test.numel()) == (30, 50)
    with pytest.raises(ValueError, match="percentages such as '60/20/20'"):
        make_splits(y, [0], "half")


def test_compare_every_mode_on_tiny_graph(bert_path, c14):
    modes = ["tfidf_gcn", "mlp_lm", "cascade_gcn", "hybrid_sage",
             "joint_lora", "joint_frozen", "joint_prefix", "lm",
             "cascade_gcn+tfidf_gcn", "cascade_appnp", "hybrid_grand"]
    seen = []
    result = compare(c14, modes, seeds=2, split=SPLIT,
                     settings=tiny_settings(bert_path), on_run=seen.append)
    assert [r["mode"] for r in result.rows] == modes
    assert len(result.runs) == len(seen) == 22
    params = {r["mode"]: r["trainable_parameters"] for r in result.rows}
    gnn = (32 * 8 + 8) + (8 * 8 + 8) + (8 * 2 + 2)  # GCN(32) + head
    assert params["cascade_gcn"] == params["joint_frozen"] == gnn
    assert params["mlp_lm"] == gnn
    assert params["joint_lora"] == gnn + 2048
    assert params["joint_prefix"] == gnn + 1024
    assert params["cascade_gcn+tfidf_gcn"] == gnn + params["tfidf_gcn"]
    assert params["cascade_appnp"] == (32 * 8 + 8) + (8 * 2 + 2)  # MLP
    tfidf_width = (params["tfidf_gcn"] - gnn) // 8 + 32
    hybrid_width = 32 + tfidf_width  # LM embedding beside TF-IDF
    assert params["hybrid_grand"] == (hybrid_width * 8 + 8) + (8 * 2 + 2)
    for run in result.runs:
        assert run["accuracy"] in (0.0, 0.5, 1.0)
        assert run["train_seconds"] > 0 and run["best_epoch"] >= 1
    row = result.rows[0]
    assert set(row) == {"mode", "accuracy_mean", "accuracy_std",
                        "val_accuracy_mean", "macro_f1_mean",
                        "train_seconds", "trainable_parameters", "runs"}
    for run in result.runs:  # two validation nodes per split
        assert run["val_accuracy"] in (0.0, 0.5, 1.0)
    assert row["val_accuracy_mean"] == sum(
        r["val_accuracy"] for r in result.runs
        if r["mode"] == row["mode"]) / 2
    json.dumps(result.to_dict())
    assert "cascade_gcn" in result.format_table()


def test_ensemble_averages_member_probabilities(bert_path, c14):
    settings = tiny_settings(bert_path)
    features = FeatureStore(c14, settings)
    part = make_splits(c14.y, [0], SPLIT)[0]
    both = run_mode(parse_mode("mlp_lm+tfidf_gcn"), c14, features, part, 0,
                    settings)
    members = [run_mode(parse_mode(m), c14, features, part, 0, settings)
               for m in ("mlp_lm", "tfidf_gcn")]
    mean = sum(m.test_logits.softmax(-1) for m in members) / 2
    norms = features.get("lm").norm(dim=1)  # unit length, as in ST
    assert torch.allclose(norms, torch.ones(6), atol=1e-5)
    assert both.test_logits.shape == (2, 2)
    assert torch.allclose(both.test_logits.exp(), mean, atol=1e-6)
    val_mean = sum(m.val_logits.softmax(-1) for m in members) / 2
    assert torch.allclose(both.val_logits.exp(), val_mean, atol=1e-6)
    assert both.val_accuracy(c14.y[part[1]]) == float(
        (val_mean.argmax(-1) == c14.y[part[1]]).float().mean())
    assert both.trainable_parameters == sum(m.trainable_parameters
                                            for m in members)
    memo = {"mlp_lm": members[0]}
    again = run_mode(parse_mode("mlp_lm+tfidf_gcn"), c14, features, part, 0,
                     settings, memo)
    assert memo["mlp_lm"] is members[0] and set(memo) == {
        "mlp_lm", "tfidf_gcn", "mlp_lm+tfidf_gcn"}
    assert torch.allclose(again.test_logits, both.test_logits, atol=1e-6)


def test_compare_label_rates_adds_split_column(bert_path, c14):
    results = compare_label_rates(c14, ["mlp_lm"], ks=(1,), full_split=SPLIT,
                                  seeds=1, settings=tiny_settings(bert_path))
    rows = combined_rows(results)
    assert [r["split"] for r in rows] == ["1 per class", SPLIT]


def test_compare_rejects_graph_level_and_textless_data(c14):
    graphs = GraphDataset([Data(x=torch.ones(2, 1), y=torch.tensor([0]),
                                edge_index=torch.zeros(2, 0).long())],
                          level="graph", classes=[0, 1])
    with pytest.raises(DataError, match="not a node classification"):
        compare(graphs, ["cascade_gcn"])
    textless = GraphDataset(c14.graphs, level="node", name="bare",
                            classes=c14.classes)
    with pytest.raises(DataError, match="has no node texts"):
        compare(textless, ["cascade_gcn"])


def cora_neighbourhood():
    cora = load_dataset("Cora_TAG")
    graph = cora.graphs[0]
    nodes, _, _, _ = k_hop_subgraph(torch.arange(16), 2, graph.edge_index,
                                    num_nodes=2708)  # 414 nodes
    nodes = nodes[:300]
    edge_index, _ = subgraph(nodes, graph.edge_index, relabel_nodes=True,
                             num_nodes=2708)
    sub = Data(x=graph.x[nodes], edge_index=edge_index, y=graph.y[nodes])
    texts = [cora.texts[0][i] for i in nodes.tolist()]
    ids = [cora.node_ids[0][i] for i in nodes.tolist()]
    return GraphDataset([sub], level="node", name="Cora_TAG_part",
                        classes=cora.classes, node_ids=[ids], texts=[texts])


@pytest.mark.slow
def test_compare_cascade_on_cora_learns(tmp_path):
    part = cora_neighbourhood()
    settings = CompareSettings(max_length=64, cache=tmp_path, epochs=100,
                               patience=30)
    with pytest.warns(UserWarning, match="texts are longer than .* 64"):
        result = compare(part, ["cascade_gcn", "tfidf_gcn"], seeds=1,
                         settings=settings)
    y = part.y
    majority = torch.bincount(y).max().item() / y.numel()
    row = {r["mode"]: r for r in result.rows}
    assert part.graphs[0].num_nodes == 300
    assert row["cascade_gcn"]["accuracy_mean"] > majority + 0.15
    assert row["tfidf_gcn"]["accuracy_mean"] > majority
    assert len(list(tmp_path.glob("emb-*.safetensors"))) == 1


def compare_args(argv):
    subparsers = argparse.ArgumentParser().add_subparsers()
    return cli_compare.add_parser(subparsers).parse_args(argv)


def test_cli_compare_writes_metrics_and_report(bert_path, tmp_path):
    args = compare_args([
        "--dataset", str(CASE / "edges.csv"), "--nodes",
        str(CASE / "nodes.csv"), "--text", "text", "--modes", "tfidf_gcn",
        "mlp_lm", "--seeds", "2", "--split", SPLIT, "--lm", bert_path,
        "--max-length", "16", "--cache", "", "--out", str(tmp_path),
        "--no-progress"])
    assert cli_compare.run(args) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [r["mode"] for r in metrics["table"]] == ["tfidf_gcn", "mlp_lm"]
    assert metrics["columns"][:2] == ["mode", "accuracy_mean"]
    assert metrics["seeds"] == [0, 1] and len(metrics["runs"]) == 4
    page = (tmp_path / "report.html").read_text()
    assert metrics["report"] == str(tmp_path / "report.html")
    assert "Comparison" in page and "tfidf_gcn" in page


def test_cli_compare_several_label_rates_one_table(bert_path, tmp_path):
    args = compare_args([
        "--dataset", str(CASE / "edges.csv"), "--nodes",
        str(CASE / "nodes.csv"), "--text", "text", "--modes", "mlp_lm",
        "--seeds", "1", "--labels-per-class", "1", "2", "--lm", bert_path,
        "--max-length", "16", "--cache", "", "--out", str(tmp_path),
        "--no-progress"])
    assert cli_compare.run(args) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["columns"][:2] == ["split", "mode"]
    assert [r["split"] for r in metrics["table"]] == ["1 per class",
                                                      "2 per class"]


def test_cli_compare_defaults_to_cora_and_k_per_class():
    args = compare_args(["--labels-per-class", "5"])
    assert args.dataset == "Cora_TAG" and args.labels_per_class == [5]
    assert args.modes == ["tfidf_gcn", "mlp_lm", "cascade_gcn",
                          "joint_lora", "lm"]


def test_run_node_mode_joint_saves_loadable_model(tmp_path, monkeypatch):
    parser = argparse.ArgumentParser().add_subparsers()
    args = cli_run.add_parser(parser).parse_args([
        "--dataset", str(CASE / "edges.csv"), "--nodes",
        str(CASE / "nodes.csv"), "--text", "text", "--mode", "joint",
        "--model", "gcn", "--epochs", "1", "--out", str(tmp_path),
        "--no-progress"])
    dataset = cli_run.read_data(args)
    monkeypatch.setattr(cli_compare, "make_splits", lambda y, seeds: [
        (torch.tensor([0, 1, 2]), torch.tensor([3]), torch.tensor([4, 5]))])
    assert cli_compare.run_node_mode(args, dataset) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["mode"] == "joint_lora_gcn"
    assert metrics["trainable_parameters"] > 74_000  # LoRA on MiniLM + GCN
    model = load_lm_gnn(metrics["model_path"])
    assert model.predict(dataset.texts[0], dataset.graphs[0].edge_index
                         ).logits.shape == (6, 2)


def test_comparison_result_best_row_chosen_on_validation():
    rest = {"accuracy_std": 0.01, "macro_f1_mean": 0.7,
            "train_seconds": 1.0, "trainable_parameters": 10}
    result = ComparisonResult("d", "60/20/20", [0], rows=[
        {"mode": "a", "accuracy_mean": 0.8, "val_accuracy_mean": 0.85},
        {"mode": "b", "accuracy_mean": 0.9, "val_accuracy_mean": 0.82},
        {"mode": "c_long_ensemble+x", "accuracy_mean": 0.95,
         "val_accuracy_mean": None}])
    for row in result.rows:
        row.update(rest)
    assert result.best()["mode"] == "a"
    assert result.best("accuracy_mean")["mode"] == "c_long_ensemble+x"
    table = result.format_table()
    assert "0.8500" in table and table.splitlines()[-1].split()[2] == "-"
    assert "±" not in table  # one seed: no spread to show
