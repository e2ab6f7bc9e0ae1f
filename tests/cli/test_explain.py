import argparse
import json
import re

import pytest
import torch

from gnnkit.cli import explain as explain_cli
from gnnkit.data.shipped import load_dataset
from gnnkit.errors import DataError
from gnnkit.models.backbones import build_model
from gnnkit.models.persist import save_model


def _args(*argv):
    parser = argparse.ArgumentParser()
    explain_cli.add_parser(parser.add_subparsers())
    return parser.parse_args(["explain", *argv])


def test_explain_cli_graph_writes_page_and_masks(tmp_path, capsys):
    dataset = load_dataset("MUTAG")
    torch.manual_seed(0)
    model = build_model("gin", 7, 2, hidden_channels=16)
    save_model(tmp_path / "model", model, classes=dataset.classes,
               extra={"dataset": "MUTAG", "level": "graph",
                      "task": "classification",
                      "feature_names": dataset.feature_names})
    out = tmp_path / "out"
    code = explain_cli.run(_args("--model", str(tmp_path / "model"),
                                 "--graph", "3", "--method", "saliency",
                                 "--out", str(out)))
    assert code == 0
    record = json.loads((out / "explanation.json").read_text())
    assert record["item"] == 4 and record["method"] == "saliency"
    assert list(record["nodes"]) == [str(i) for i in range(44, 63)]
    assert len(record["edges"]) == 44
    page = (out / "explanation.html").read_text()
    assert page.count("* plotly.js v") == 1
    # position and id told apart; the class by its label, not its index
    assert re.search(r"^graph 3 \(id 4\): explained class (-1|1) ",
                     capsys.readouterr().out)


def test_explain_cli_node_by_original_id(tmp_path):
    (tmp_path / "edges.csv").write_text("source,target\nb,a\nc,a\nd,c\n")
    (tmp_path / "nodes.csv").write_text(
        "id,f,label\na,1.0,0\nb,0.5,1\nc,-1.0,0\nd,2.0,1\n")
    torch.manual_seed(0)
    model = build_model("gcn", 1, 2, level="node", hidden_channels=4)
    save_model(tmp_path / "model", model, classes=[0, 1],
               extra={"dataset": "edges", "level": "node"})
    args = _args("--model", str(tmp_path / "model"), "--node", "a",
                 "--dataset", str(tmp_path / "edges.csv"),
                 "--nodes", str(tmp_path / "nodes.csv"),
                 "--out", str(tmp_path / "out"))
    assert explain_cli.run(args) == 0
    record = json.loads((tmp_path / "out" / "explanation.json").read_text())
    assert record["item"] == "a" and record["level"] == "node"
    assert set(record["nodes"]) == {"a", "b", "c", "d"}
    with pytest.raises(DataError, match="is node-level, so --graph"):
        explain_cli.explain_saved(tmp_path / "model", graph=0,
                                  dataset=str(tmp_path / "edges.csv"),
                                  nodes=str(tmp_path / "nodes.csv"))


def test_explain_cli_needs_one_target():
    with pytest.raises(SystemExit):
        _args("--model", "m")



def test_explain_cli_regression_in_target_units(tmp_path, capsys):
    # the model outputs standardised values; explain reports them as
    # predict does, in the target's units (x * std + mean)
    dataset = load_dataset("MUTAG")
    torch.manual_seed(0)
    model = build_model("gin", 7, 1, hidden_channels=16).eval()
    save_model(tmp_path / "model", model, extra={
        "dataset": "MUTAG", "level": "graph", "task": "regression",
        "feature_names": dataset.feature_names,
        "target_scaler": {"mean": [10.0], "std": [2.0]}})
    with torch.no_grad():
        raw = float(model(dataset[1].x, dataset[1].edge_index).view(-1)[0])
    out = tmp_path / "out"

    code = explain_cli.run(_args("--model", str(tmp_path / "model"),
                                 "--graph", "1", "--method", "saliency",
                                 "--out", str(out)))

    assert code == 0
    record = json.loads((out / "explanation.json").read_text())
    assert record["prediction"] == pytest.approx([raw * 2 + 10], abs=1e-4)
    value = record["target"]
    value = value[0] if isinstance(value, list) else value
    assert value == pytest.approx(raw * 2 + 10, abs=1e-4)
    assert f"explained value {value}" in capsys.readouterr().out
