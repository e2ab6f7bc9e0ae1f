"""``gnnkit run`` / ``predict`` / ``explain`` on a user's own node CSV with
its own column names (src, dst, pid, topic) and an unscaled year column."""

import csv
import json
import re
import subprocess
import sys

import pytest
import torch

from gnnkit.cli import main
from gnnkit.data.tables import read_csv_graph
from gnnkit.evaluate import node_cv
from gnnkit.models.persist import load_model
from gnnkit.train.predict import predict

COLUMNS = ["--source", "src", "--target", "dst", "--node-id", "pid",
           "--label", "topic"]


def write_graph(folder, n=40):
    """Two topics of ``n/2`` papers; the year (1990-2020) tells them
    apart, edges mostly join papers of one topic."""
    gen = torch.Generator().manual_seed(0)
    rows = ["pid,year,cites,topic"]
    for i in range(n):
        bio = i % 2
        year = (2008 + i % 13) if bio else (1990 + i % 17)
        cites = round(float(torch.rand(1, generator=gen)) * 5, 2)
        rows.append(f"p{i:02d},{year},{cites},{'bio' if bio else 'cs'}")
    (folder / "nodes.csv").write_text("\n".join(rows) + "\n")
    edges = ["src,dst"]
    for i in range(n):
        for j in (i + 2, i + 4):  # same topic
            if j < n:
                edges.append(f"p{i:02d},p{j:02d}")
    edges.append("p00,p01")
    (folder / "edges.csv").write_text("\n".join(edges) + "\n")
    return folder / "edges.csv", folder / "nodes.csv"


@pytest.fixture(scope="module")
def node_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own")
    edges, nodes = write_graph(folder)
    out = folder / "runs" / "own"
    code = main(["run", "--dataset", str(edges), "--nodes", str(nodes),
                 *COLUMNS, "--model", "gcn", "--folds", "5", "--epochs",
                 "60", "--out", str(out), "--no-progress"])
    assert code == 0
    return folder, out


def test_node_run_cross_validates_with_baseline(node_run):
    _, out = node_run
    metrics = json.loads((out / "metrics.json").read_text())

    assert metrics["task"] == "node_classification"
    assert metrics["folds"] == 5
    for name in ("accuracy", "macro_f1", "roc_auc"):
        assert len(metrics[name]["per_fold"]) == 5
        assert len(metrics["baseline"][name]["per_fold"]) == 5
        assert metrics[name]["std"] is not None
    assert metrics["baseline"]["model"] == "mlp"
    # the year column separates the topics once it is scaled; unscaled it
    # swamped training and gave one class (accuracy 0.5)
    assert metrics["accuracy"]["mean"] >= 0.9
    assert metrics["baseline"]["accuracy"]["mean"] >= 0.9
    assert metrics["train_config"]["val_fraction"] == 0.2
    assert metrics["model_config"]["hidden_channels"] == 64  # as --help says
    assert metrics["threads"] == 1  # small tensors: one thread is fastest


def test_node_run_writes_report(node_run):
    _, out = node_run
    page = (out / "report.html").read_text()

    assert page.startswith("<!DOCTYPE html>")
    assert "5-fold CV over nodes" in page
    assert "Confusion matrix" in page and "Explanations of test nodes" in page
    assert "test nodes" in page


def test_node_run_saves_how_data_was_read(node_run):
    folder, out = node_run
    _, info = load_model(out / "model")
    extra = info["extra"]

    assert extra["data"] == {
        "dataset": str((folder / "edges.csv").resolve()),
        "nodes": str((folder / "nodes.csv").resolve()),
        "source": "src", "target": "dst", "node_id": "pid",
        "label": "topic"}
    assert extra["feature_names"] == ["year", "cites"]
    scaling = extra["feature_scaling"]
    assert scaling["columns"] == ["year", "cites"]
    assert scaling["mean"][0] == pytest.approx(2005.4)
    assert info["classes"] == ["bio", "cs"]


def test_predict_reuses_recorded_columns_and_scaling(node_run, monkeypatch):
    folder, out = node_run
    monkeypatch.chdir(folder)
    new = folder / "new_nodes.csv"
    new.write_text("pid,year,cites\nq1,2019,1.0\nq2,1991,1.0\n")
    (folder / "new_edges.csv").write_text("src,dst\n")  # two lone nodes

    code = main(["predict", "--model", str(out / "model"),
                 "--input", "new_edges.csv", "--nodes", "new_nodes.csv"])

    assert code == 0
    rows = list(csv.DictReader((folder / "runs/predictions.csv").open()))
    assert [r["id"] for r in rows] == ["q1", "q2"]
    assert [r["prediction"] for r in rows] == ["bio", "cs"]


def test_predict_matches_model_on_training_nodes(node_run, tmp_path):
    folder, out = node_run
    target = tmp_path / "p.csv"
    assert main(["predict", "--model", str(out / "model"), "--input",
                 str(folder / "edges.csv"), "--nodes",
                 str(folder / "nodes.csv"), "--out", str(target)]) == 0
    rows = list(csv.DictReader(target.open()))
    model, _ = load_model(out / "model")
    data = read_csv_graph(folder / "edges.csv", folder / "nodes.csv",
                          source="src", target="dst", node_id="pid",
                          label="topic")
    expected = predict(model, data.graphs[0]).softmax(-1)

    got = torch.tensor([[float(r["p(bio)"]), float(r["p(cs)"])]
                        for r in rows])
    assert torch.allclose(got, expected, atol=1e-5)


def test_explain_node_uses_recorded_dataset(node_run, monkeypatch, capsys):
    folder, out = node_run
    monkeypatch.chdir(folder)

    code = main(["explain", "--model", str(out / "model"), "--node", "p05",
                 "--method", "saliency"])

    assert code == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("node p05: explained class 'bio'")
    record = json.loads(
        (folder / "runs/explanation/explanation.json").read_text())
    assert record["item"] == "p05" and "p07" in record["nodes"]


def test_node_folds_keep_test_nodes_out_of_training(monkeypatch):
    seen = []
    real = node_cv.NodeTask

    def spy(data, train_index, val_index, **kwargs):
        seen.append((set(train_index.tolist()), set(val_index.tolist())))
        return real(data, train_index, val_index, **kwargs)

    monkeypatch.setattr(node_cv, "NodeTask", spy)
    data = _in_memory_dataset()
    result = node_cv.cross_validate_nodes(
        data, "gcn", folds=4, seed=1, progress_bar=False,
        train_config=node_cv.TrainConfig(epochs=3, progress_bar=False))

    tests = [set(f.test_index) for f in result.folds]
    assert sorted(n for t in tests for n in t) == list(range(24))
    for fold, (train, val) in zip(tests, seen):
        assert len(fold) == 6
        assert sorted(int(data.y[i]) for i in fold) == [0, 0, 0, 1, 1, 1]
        assert not fold & (train | val) and not train & val
        assert len(val) == 4  # 20 % of the 18 training nodes
    assert result.train_config["val_fraction"] == 0.2


def _in_memory_dataset():
    from torch_geometric.data import Data

    from gnnkit.data.dataset import GraphDataset

    y = torch.tensor([i % 2 for i in range(24)])
    x = torch.stack([y.float(), torch.arange(24.0) / 24], dim=1)
    edge_index = torch.tensor([[i for i in range(22)],
                               [i + 2 for i in range(22)]])
    graph = Data(x=x, edge_index=edge_index, y=y, num_nodes=24)
    return GraphDataset([graph], level="node", name="toy", classes=[0, 1])


def test_node_progress_bars_name_the_model(tmp_path, capsys):
    edges, nodes = write_graph(tmp_path, n=12)
    assert main(["run", "--dataset", str(edges), "--nodes", str(nodes),
                 *COLUMNS, "--model", "sage", "--folds", "2", "--epochs",
                 "2", "--out", str(tmp_path / "o")]) == 0

    err = capsys.readouterr().err
    name = tmp_path.name  # a generic nodes.csv is named by its folder
    assert f"CV {name} sage" in err and f"CV {name} mlp" in err


def test_lm_mode_refused_on_graph_level_data(tmp_path, capsys):
    code = main(["run", "--mode", "cascade", "--out", str(tmp_path / "o")])

    assert code == 2
    assert "--mode cascade is for node-level graphs" in \
        capsys.readouterr().err


def test_no_progress_hides_transformers_bars():
    from transformers.utils import logging as hf_logging

    from gnnkit.cli.run import hide_library_progress

    hf_logging.enable_progress_bar()
    try:
        hide_library_progress()
        assert not hf_logging.is_progress_bar_enabled()
    finally:
        hf_logging.enable_progress_bar()


def test_summary_into_closed_pipe_is_quiet():
    proc = subprocess.Popen(
        [sys.executable, "-m", "gnnkit", "summary", "--dataset", "MUTAG"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` that has read enough
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)

    assert err == ""
    assert proc.returncode == 141


@pytest.mark.parametrize("rows, message", [
    ("pid,year,cites\nq1,2019,1.0\nq2,abc,1.0\n",
     r"new_nodes.csv, line 3, field 'year': 'abc' is not a number, so the "
     r"column was not read, but the model was trained on it"),
    ("pid,year,cites\nq1,2019,1.0\nq2,1e300,1.0\n",
     r"new_nodes.csv, line 3, field 'year': feature value '1e300' is too "
     r"large"),
    ("pid,cites\nq1,1.0\n",
     r"lacks the feature column\(s\) \['year'\]"),
])
def test_predict_names_bad_new_rows(node_run, monkeypatch, capsys, rows,
                                    message):
    folder, out = node_run
    monkeypatch.chdir(folder)
    (folder / "new_nodes.csv").write_text(rows)
    (folder / "new_edges.csv").write_text("src,dst\n")

    code = main(["predict", "--model", str(out / "model"), "--input",
                 "new_edges.csv", "--nodes", "new_nodes.csv", "--out",
                 "bad.csv"])

    assert code == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (folder / "bad.csv").exists()


def test_node_run_refuses_a_value_too_large_for_float32(tmp_path, capsys):
    edges, nodes = write_graph(tmp_path, n=12)
    lines = nodes.read_text().splitlines()
    lines[4] = "p03,1e39,1.0,bio"  # line 5 of the file
    nodes.write_text("\n".join(lines) + "\n")

    code = main(["run", "--dataset", str(edges), "--nodes", str(nodes),
                 *COLUMNS, "--folds", "2", "--epochs", "1",
                 "--out", str(tmp_path / "o"), "--no-progress"])

    assert code == 2
    assert ("nodes.csv, line 5, field 'year': feature value '1e39' is too "
            "large") in capsys.readouterr().err


def test_node_run_names_a_class_of_one_node(tmp_path, capsys):
    edges, nodes = write_graph(tmp_path, n=12)

    code = main(["run", "--dataset", str(edges), "--nodes", str(nodes),
                 *COLUMNS[:-1], "pid", "--folds", "2", "--epochs", "1",
                 "--out", str(tmp_path / "o"), "--no-progress"])

    err = capsys.readouterr().err
    assert code == 2
    assert ("class 'p00' of dataset '" + tmp_path.name + "' has a single "
            "node, and each of at least 2 folds needs one of each class (12 "
            "classes in 12 nodes: is the label column right?)") in err
    assert "--folds 1" not in err


def test_unlabelled_nodes_stay_out_of_folds_and_training(monkeypatch):
    seen = []
    real = node_cv.NodeTask

    def spy(data, train_index, val_index, **kwargs):
        seen.append(set(train_index.tolist()) | set(val_index.tolist()))
        return real(data, train_index, val_index, **kwargs)

    monkeypatch.setattr(node_cv, "NodeTask", spy)
    data = _in_memory_dataset()
    data.graphs[0].y[:4] = -1  # nodes 0-3 carry no label
    result = node_cv.cross_validate_nodes(
        data, "gcn", folds=2, seed=0, progress_bar=False,
        train_config=node_cv.TrainConfig(epochs=2, progress_bar=False))

    tests = sorted(n for f in result.folds for n in f.test_index)
    assert tests == list(range(4, 24))
    assert len(seen) == 2 and not any(used & {0, 1, 2, 3} for used in seen)
    assert data.graphs[0].y[:4].tolist() == [-1, -1, -1, -1]



def test_cascade_run_uses_cache_option_and_flags_a_stale_report(tmp_path,
                                                                capsys):
    edges, _ = write_graph(tmp_path, n=12)
    nodes = tmp_path / "texts.csv"
    nodes.write_text("pid,topic,title\n" + "".join(
        f"p{i:02d},{'bio' if i % 2 else 'cs'},paper {i} on "
        f"{'cells' if i % 2 else 'compilers'}\n" for i in range(12)))
    out = tmp_path / "run"
    out.mkdir()
    (out / "report.html").write_text("an earlier run")

    code = main(["run", "--dataset", str(edges), "--nodes", str(nodes),
                 *COLUMNS, "--text", "title", "--mode", "cascade",
                 "--epochs", "2", "--cache", str(tmp_path / "cache"),
                 "--out", str(out), "--no-progress"])

    assert code == 0
    assert any((tmp_path / "cache").iterdir())
    assert "report.html is left from an earlier run" in \
        capsys.readouterr().err
    assert (out / "report.html").read_text() == "an earlier run"
