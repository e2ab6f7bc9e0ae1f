import csv
import json
import re
import subprocess
import sys

import pytest
import torch

from gnnkit.cli import main
from gnnkit.data.random_walk import add_random_walk_features
from gnnkit.data.shipped import load_dataset
from gnnkit.models.persist import load_model
from gnnkit.train.predict import predict


@pytest.fixture(scope="module")
def mutag_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = main(["run", "--dataset", "MUTAG", "--folds", "3",
                 "--epochs", "40", "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_run_mutag_learns_above_majority_rate(mutag_run):
    metrics = json.loads((mutag_run / "metrics.json").read_text())

    assert metrics["dataset"] == "MUTAG"
    assert metrics["model"] == "gin"
    assert metrics["task"] == "graph_classification"
    assert len(metrics["accuracy"]["per_fold"]) == 3
    assert metrics["accuracy"]["mean"] > 125 / 188
    assert metrics["roc_auc"]["n_defined"] == 3
    assert metrics["baseline"]["model"] == "mlp"
    assert metrics["wall_seconds"] > 0
    assert metrics["threads"] == 1  # graph-level default


def test_run_writes_self_contained_report(mutag_run):
    page = (mutag_run / "report.html").read_text()

    assert page.startswith("<!DOCTYPE html>")
    assert "Confusion matrix" in page and "Training curves" in page
    assert "Explanations of test examples" in page
    assert "cdn.plot.ly" not in page.split("</script>", 1)[1]


def test_predict_in_fresh_process_matches_saved_model(mutag_run, tmp_path):
    out_csv = tmp_path / "preds.csv"
    subprocess.run(
        [sys.executable, "-m", "gnnkit", "predict", "--model",
         str(mutag_run / "model"), "--input", "data/MUTAG",
         "--out", str(out_csv)],
        check=True, capture_output=True,
    )
    rows = list(csv.DictReader(out_csv.open()))
    model, info = load_model(mutag_run / "model")
    expected = predict(model, load_dataset("MUTAG").graphs).softmax(-1)

    assert len(rows) == 188
    assert info["classes"] == [-1, 1]
    got = torch.tensor([[float(r["p(-1)"]), float(r["p(1)"])] for r in rows])
    assert torch.allclose(got, expected, atol=1e-5)
    assert {r["prediction"] for r in rows} <= {"-1", "1"}


def test_run_bad_path_exits_with_clear_error(capsys):
    code = main(["run", "--dataset", "no/such/folder"])

    assert code == 2
    err = capsys.readouterr().err
    assert "no/such/folder" in err and "shipped datasets" in err


def test_run_empty_graph_named_in_error(capsys):
    code = main(["run", "--dataset", "tests/cases/C08/graphs.json"])

    assert code == 2
    assert "graph G3 (index 3) has no nodes" in capsys.readouterr().err


def test_summary_prints_counts(capsys):
    assert main(["summary", "--dataset", "MUTAG"]) == 0

    out = capsys.readouterr().out
    assert "188" in out and "7,442" in out


@pytest.mark.parametrize("argv, message", [
    (["--folds", "1"], "--folds must be at least 2"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--threads", "0"], "--threads must be at least 1"),
    (["--folds", "70"], "has 63 graph\\(s\\), fewer than --folds 70"),
])
def test_run_refuses_bad_options_before_training(argv, message, capsys,
                                                 tmp_path):
    code = main(["run", "--out", str(tmp_path / "o"), *argv])

    assert code == 2
    assert re.search(message, capsys.readouterr().err)


def test_run_refuses_out_that_is_a_file(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")

    assert main(["run", "--out", str(afile)]) == 2
    assert "is an existing file" in capsys.readouterr().err
    assert afile.read_text() == "keep me"


def test_run_single_class_dataset_is_refused(tmp_path, capsys):
    edges = tmp_path / "edges.csv"
    edges.write_text("graph,source,target\ng1,a,b\ng2,c,d\n")
    graphs = tmp_path / "graphs.csv"
    graphs.write_text("graph,label\ng1,x\ng2,x\n")

    code = main(["run", "--dataset", str(edges), "--graphs", str(graphs),
                 "--graph-id", "graph", "--out", str(tmp_path / "o")])

    assert code == 2
    assert "single class ('x')" in capsys.readouterr().err


def test_predict_refuses_out_that_is_a_folder(mutag_run, capsys):
    code = main(["predict", "--model", str(mutag_run / "model"),
                 "--input", "data/MUTAG", "--out", str(mutag_run)])

    assert code == 2
    assert "is a folder" in capsys.readouterr().err


def test_default_mode_is_cascade_only_for_text_without_features(capsys):
    from torch_geometric.data import Data

    from gnnkit.cli.run import default_mode
    from gnnkit.data.dataset import GraphDataset

    graph = Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0], [1]]),
                 y=torch.tensor([0, 1]))
    texts = GraphDataset([graph], level="node", texts=[["a", "b"]],
                         feature_names=["constant"], name="tiny")
    numbers = GraphDataset([graph], level="node", texts=[["a", "b"]],
                           feature_names=["year"], name="tiny")

    assert default_mode(texts) == "cascade"
    assert "--mode cascade" in capsys.readouterr().out
    assert default_mode(numbers) == "gnn"
    assert default_mode(load_dataset("MUTAG")) == "gnn"


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble")
    code = main(["run", "--dataset", "MUTAG", "--folds", "2", "--epochs",
                 "3", "--model", "gin+mlp", "--repeats", "2", "--jk", "cat",
                 "--edge-features", "--hidden", "8", "--no-baseline",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_run_records_repeats_and_model_kwargs(ensemble_run):
    metrics = json.loads((ensemble_run / "metrics.json").read_text())

    assert metrics["model"] == "gin+mlp" and metrics["repeats"] == 2
    assert metrics["model_kwargs"] == {"hidden_channels": 8, "jk": "cat",
                                       "edge_dim": 4}
    assert metrics["recipe"] is None and "baseline" not in metrics
    gin, mlp = metrics["model_config"]["members"]
    assert (gin["edge_dim"], gin["jk"], mlp["name"]) == (4, "cat", "mlp")
    assert len(metrics["final_member_best_epochs"]) == 4


def test_saved_ensemble_predicts_in_fresh_process(ensemble_run, tmp_path):
    out_csv = tmp_path / "preds.csv"
    subprocess.run(
        [sys.executable, "-m", "gnnkit", "predict", "--model",
         str(ensemble_run / "model"), "--input", "data/MUTAG",
         "--out", str(out_csv)],
        check=True, capture_output=True,
    )
    rows = list(csv.DictReader(out_csv.open()))
    model, info = load_model(ensemble_run / "model")
    expected = predict(model, load_dataset("MUTAG").graphs).softmax(-1)

    assert info["kind"] == "ensemble" and len(model.members) == 4
    got = torch.tensor([[float(r["p(-1)"]), float(r["p(1)"])] for r in rows])
    assert torch.allclose(got, expected, atol=1e-5)


def test_run_recipe_best_with_explicit_option_winning(tmp_path):
    code = main(["run", "--dataset", "MUTAG", "--recipe", "best",
                 "--repeats", "1", "--folds", "2", "--epochs", "2",
                 "--layers", "3", "--out", str(tmp_path), "--no-progress"])
    metrics = json.loads((tmp_path / "metrics.json").read_text())

    assert code == 0 and metrics["recipe"] == "best"
    assert metrics["repeats"] == 1  # --repeats wins over the recipe's 3
    assert metrics["model_kwargs"] == {"jk": "cat", "edge_dim": 4,
                                       "num_layers": 3}
    # the MLP baseline shares --layers only, as in the bench
    assert metrics["baseline"]["model_kwargs"] == {"num_layers": 3}
    config = metrics["model_config"]
    assert (config["jk"], config["num_layers"]) == ("cat", 3)
    # 7 one-hot atom labels and the recipe's 20 random-walk steps
    assert config["in_channels"] == 7 + 20


@pytest.fixture(scope="module")
def rwse_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rwse")
    code = main(["run", "--dataset", "MUTAG", "--rwse", "3", "--folds",
                 "2", "--epochs", "3", "--hidden", "8", "--no-baseline",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_run_rwse_adds_named_columns(rwse_run):
    metrics = json.loads((rwse_run / "metrics.json").read_text())
    _, info = load_model(rwse_run / "model")

    assert metrics["model_config"]["in_channels"] == 7 + 3
    assert info["extra"]["feature_names"][-3:] == ["rwse_1", "rwse_2",
                                                   "rwse_3"]


def test_saved_rwse_model_predicts_in_fresh_process(rwse_run, tmp_path):
    out_csv = tmp_path / "preds.csv"
    subprocess.run(
        [sys.executable, "-m", "gnnkit", "predict", "--model",
         str(rwse_run / "model"), "--input", "data/MUTAG",
         "--out", str(out_csv)],
        check=True, capture_output=True,
    )
    rows = list(csv.DictReader(out_csv.open()))
    model, _ = load_model(rwse_run / "model")
    dataset = add_random_walk_features(load_dataset("MUTAG"), 3)
    expected = predict(model, dataset.graphs).softmax(-1)

    got = torch.tensor([[float(r["p(-1)"]), float(r["p(1)"])] for r in rows])
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("argv, message", [
    (["--repeats", "0"], "--repeats must be at least 1"),
    (["--dataset", "PROTEINS", "--edge-features"],
     "dataset 'PROTEINS' has no edge features"),
    (["--dataset", "BACE", "--recipe", "best"],
     "no best recipe for dataset 'BACE'"),
    (["--rwse", "-1"], "--rwse must be at least 0 (got -1)"),
])
def test_run_refuses_bad_averaging_options(argv, message, capsys, tmp_path):
    code = main(["run", "--out", str(tmp_path / "o"), *argv])

    assert code == 2
    assert message in capsys.readouterr().err


def test_run_refuses_unknown_backbone(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--model", "gin+foo"])
    assert "unknown backbone 'foo'" in capsys.readouterr().err


def test_run_refuses_repeats_on_node_level_data(tmp_path, capsys):
    (tmp_path / "papers").mkdir()
    edges = tmp_path / "papers" / "edges.csv"
    edges.write_text("source,target\n" + "".join(
        f"n{i},n{i + 1}\n" for i in range(7)))
    nodes = tmp_path / "papers" / "nodes.csv"
    nodes.write_text("id,label\n" + "".join(
        f"n{i},{i % 2}\n" for i in range(8)))

    code = main(["run", "--dataset", str(edges), "--nodes", str(nodes),
                 "--mode", "gnn", "--repeats", "2", "--folds", "2",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert "graph-level data; 'papers' is node-level (got model='gin', " \
        "repeats=2)" in capsys.readouterr().err
