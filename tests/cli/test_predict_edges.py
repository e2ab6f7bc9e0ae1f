"""``gnnkit predict`` and ``explain`` on models that read edge features:
new graphs' edge columns are lined up with the model's by name."""

import csv

import pytest
import torch

from gnnkit.cli import main
from gnnkit.data.tu import read_tu
from gnnkit.models.backbones import build_model
from gnnkit.models.persist import save_model

# three graphs: a triangle, a path and a star; edge labels 1/2 in the
# first two, 0/3 in the third
GRAPHS = [
    ([0, 1, 0], [(0, 1, 1), (1, 2, 2), (2, 0, 1)]),
    ([1, 1, 0], [(0, 1, 2), (1, 2, 2)]),
    ([0, 1, 1, 0], [(0, 1, 0), (0, 2, 3), (0, 3, 0)]),
]


def write_tu(folder, graphs, edge_labels=True):
    """A TU folder ``T`` holding ``graphs`` (undirected edges)."""
    folder.mkdir()
    rows = {key: [] for key in ("A", "graph_indicator", "graph_labels",
                                "node_labels", "edge_labels")}
    start = 1
    for number, (labels, edges) in enumerate(graphs, start=1):
        rows["graph_indicator"] += [number] * len(labels)
        rows["graph_labels"].append(number % 2)
        rows["node_labels"] += labels
        for i, j, label in edges:
            rows["A"] += [f"{start + i}, {start + j}",
                          f"{start + j}, {start + i}"]
            rows["edge_labels"] += [label, label]
        start += len(labels)
    if not edge_labels:
        rows.pop("edge_labels")
    for key, values in rows.items():
        (folder / f"T_{key}.txt").write_text(
            "".join(f"{v}\n" for v in values))
    return folder


@pytest.fixture
def edge_model(tmp_path):
    """A GINE saved with the edge and node feature names of all three
    graphs (edge labels 0..3)."""
    full = read_tu(write_tu(tmp_path / "full", GRAPHS))
    torch.manual_seed(0)
    model = build_model("gin", full.num_features, 2, hidden_channels=8,
                        edge_dim=full.num_edge_features)
    save_model(tmp_path / "model", model, classes=full.classes, extra={
        "dataset": "T", "level": "graph", "task": "classification",
        "feature_names": full.feature_names,
        "edge_feature_names": full.meta["edge_feature_names"],
        "data": {"dataset": str(tmp_path / "full")}})
    assert full.meta["edge_feature_names"] == [
        f"edge_label={k}" for k in range(4)]
    return tmp_path / "model"


def predictions(model, folder, out):
    assert main(["predict", "--model", str(model), "--input", str(folder),
                 "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        return list(csv.DictReader(handle))


def test_predict_aligns_subset_and_shifted_edge_labels(edge_model, tmp_path):
    full = predictions(edge_model, tmp_path / "full", tmp_path / "f.csv")
    # edge labels 1..2 only (2 columns), and 0 and 3 only (4 columns)
    part = predictions(edge_model, write_tu(tmp_path / "part", GRAPHS[:2]),
                       tmp_path / "p.csv")
    last = predictions(edge_model, write_tu(tmp_path / "last", GRAPHS[2:]),
                       tmp_path / "l.csv")

    assert len(full) == 3 and len(part) == 2 and len(last) == 1
    for got, want in zip(part + last, full):
        assert got["p(0)"] == want["p(0)"] and got["p(1)"] == want["p(1)"]
    # the edge columns matter to this model: all-zero edges change it
    shifted = [(labels, [(i, j, 1) for i, j, _ in edges])
               for labels, edges in GRAPHS]
    other = predictions(edge_model, write_tu(tmp_path / "ones", shifted),
                        tmp_path / "o.csv")
    assert [r["p(0)"] for r in other] != [r["p(0)"] for r in full]


def test_predict_unseen_edge_label_dropped_with_one_warning(
        edge_model, tmp_path, capsys):
    graphs = [(GRAPHS[0][0], [(0, 1, 7), (1, 2, 2)])]
    rows = predictions(edge_model, write_tu(tmp_path / "new", graphs),
                       tmp_path / "n.csv")

    assert len(rows) == 1
    err = capsys.readouterr().err
    assert err.count("never saw") == 1 and "'edge_label=7'" in err


def test_predict_and_explain_without_edge_labels_name_the_input(
        edge_model, tmp_path, capsys):
    folder = write_tu(tmp_path / "bare", GRAPHS, edge_labels=False)

    code = main(["predict", "--model", str(edge_model), "--input",
                 str(folder), "--out", str(tmp_path / "x.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{folder}: dataset 'T' has no edge features" in err
    assert "Traceback" not in err

    code = main(["explain", "--model", str(edge_model), "--dataset",
                 str(folder), "--graph", "0", "--out",
                 str(tmp_path / "ex")])
    assert code == 2
    assert "has no edge features" in capsys.readouterr().err


def test_explain_on_subset_edge_labels(edge_model, tmp_path):
    folder = write_tu(tmp_path / "part", GRAPHS[:2])

    code = main(["explain", "--model", str(edge_model), "--dataset",
                 str(folder), "--graph", "1", "--method", "saliency",
                 "--out", str(tmp_path / "ex")])

    assert code == 0
    assert (tmp_path / "ex" / "explanation.json").is_file()


def test_run_records_edge_feature_names_for_predict(tmp_path):
    """A model trained by ``gnnkit run --edge-features`` lines up the edge
    labels of new graphs: graphs read alone predict as they do together."""
    full = write_tu(tmp_path / "full", GRAPHS * 4)
    out = tmp_path / "run"
    assert main(["run", "--dataset", str(full), "--model", "gin",
                 "--edge-features", "--folds", "2", "--epochs", "2",
                 "--out", str(out), "--no-progress"]) == 0

    together = predictions(out / "model", tmp_path / "full",
                           tmp_path / "f.csv")
    alone = predictions(out / "model", write_tu(tmp_path / "last",
                                                GRAPHS[2:]),
                        tmp_path / "l.csv")

    assert alone[0]["prediction"] == together[2]["prediction"]
    assert [float(v) for k, v in alone[0].items() if k.startswith("p(")] \
        == pytest.approx([float(v) for k, v in together[2].items()
                          if k.startswith("p(")], abs=1e-5)
