"""``gnnkit predict`` on the models ``gnnkit run --mode cascade|joint|lm``
saves: the CLI, in-process, gives the in-memory model's predictions."""

import csv
from types import SimpleNamespace

import pytest
import torch
from torch_geometric.data import Data

from gnnkit.cli import main
from gnnkit.cli.compare import save_run_model
from gnnkit.data.tables import read_csv_graph
from gnnkit.evaluate.features import FeatureStore
from gnnkit.evaluate.modes import CompareSettings, parse_mode
from gnnkit.models.backbones import build_model
from gnnkit.models.fusion import LMGNN
from gnnkit.models.lm_classifier import LMNodeClassifier
from gnnkit.text.encoder import TextEncoder
from gnnkit.train.predict import predict

TEXTS = ["graph neural networks", "language models read text",
         "message passing on molecules", "a cat sat on the mat",
         "dogs bark at night", "pooling over nodes"]


@pytest.fixture
def text_graph(tmp_path):
    """Six nodes with texts and labels in a ring, read as the CLI reads it."""
    (tmp_path / "edges.csv").write_text(
        "src,dst\n" + "".join(f"n{i},n{(i + 1) % 6}\n" for i in range(6)))
    (tmp_path / "nodes.csv").write_text("id,label,text\n" + "".join(
        f"n{i},{'ab'[i % 2]},{t}\n" for i, t in enumerate(TEXTS)))
    options = {"source": "src", "target": "dst", "text": "text"}
    dataset = read_csv_graph(tmp_path / "edges.csv", tmp_path / "nodes.csv",
                             label="label", **options)
    record = {"dataset": str(tmp_path / "edges.csv"),
              "nodes": str(tmp_path / "nodes.csv"), **options}
    return dataset, record


def predicted(folder, tmp_path, *options):
    """Class probabilities the CLI writes for the nodes of ``text_graph``."""
    out = tmp_path / "p.csv"
    code = main(["predict", "--model", str(folder), "--input",
                 str(tmp_path / "edges.csv"), "--out", str(out), *options])
    assert code == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == [f"n{i}" for i in range(6)]
    return rows, torch.tensor([[float(v) for k, v in r.items()
                                if k.startswith("p(")] for r in rows])


def save(folder, name, model, dataset, settings, record):
    return save_run_model(folder, parse_mode(name),
                          SimpleNamespace(model=model), dataset, settings,
                          record)


def test_predict_cascade_model_encodes_texts_as_in_training(
        bert_path, text_graph, tmp_path):
    dataset, record = text_graph
    settings = CompareSettings(lm=bert_path, cache=None, max_length=16)
    x = FeatureStore(dataset, settings).get("lm")  # what training used
    torch.manual_seed(0)
    model = build_model("gcn", x.size(1), 2, level="node", hidden_channels=8)
    save(tmp_path / "model", "cascade_gcn", model, dataset, settings, record)
    graph = dataset.graphs[0]
    want = predict(model, Data(x=x, edge_index=graph.edge_index,
                               num_nodes=6)).softmax(-1)

    # the column options come from the record; the node table is new
    rows, got = predicted(tmp_path / "model", tmp_path, "--nodes",
                          str(tmp_path / "nodes.csv"))

    assert torch.allclose(got, want, atol=1e-5)
    assert {r["prediction"] for r in rows} <= {"a", "b"}


def test_predict_joint_model(bert_path, text_graph, tmp_path):
    dataset, _ = text_graph
    torch.manual_seed(0)
    model = LMGNN(TextEncoder(bert_path, max_length=16), 2, gnn="gcn",
                  strategy="lora", classes=dataset.classes,
                  hidden_channels=8)
    save(tmp_path / "model", "joint_lora", model, dataset, None, None)
    want = model.predict(TEXTS, dataset.graphs[0].edge_index,
                         node_ids=dataset.node_ids[0])

    rows, got = predicted(tmp_path / "model", tmp_path, "--nodes",
                          str(tmp_path / "nodes.csv"), "--source", "src",
                          "--target", "dst", "--text", "text")

    assert torch.allclose(got, want.logits.softmax(-1), atol=1e-5)
    assert [r["prediction"] for r in rows] == want.labels


def test_predict_lm_model_and_explain_refuses_it(bert_path, text_graph,
                                                  tmp_path, capsys):
    dataset, _ = text_graph
    torch.manual_seed(0)
    model = LMNodeClassifier(bert_path, 2, max_length=16)
    save(tmp_path / "model", "lm", model, dataset, None, None)
    want = model.predict_logits(TEXTS).softmax(-1)

    rows, got = predicted(tmp_path / "model", tmp_path, "--nodes",
                          str(tmp_path / "nodes.csv"), "--source", "src",
                          "--target", "dst", "--text", "text")

    assert torch.allclose(got, want, atol=1e-5)
    # the label names saved with the model, not class numbers
    assert [r["prediction"] for r in rows] == \
        [dataset.classes[i] for i in want.argmax(-1).tolist()]
    code = main(["explain", "--model", str(tmp_path / "model"), "--node",
                 "n0", "--out", str(tmp_path / "ex")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "does not support models of kind 'lm_node_classifier'" in err


def test_predict_text_model_without_texts_says_which_option(
        bert_path, text_graph, tmp_path, capsys):
    dataset, _ = text_graph
    model = LMNodeClassifier(bert_path, 2, max_length=16)
    save(tmp_path / "model", "lm", model, dataset, None, None)

    code = main(["predict", "--model", str(tmp_path / "model"), "--input",
                 str(tmp_path / "edges.csv"), "--nodes",
                 str(tmp_path / "nodes.csv"), "--source", "src",
                 "--target", "dst", "--out", str(tmp_path / "p.csv")])

    assert code == 2
    assert "reads node texts" in capsys.readouterr().err
