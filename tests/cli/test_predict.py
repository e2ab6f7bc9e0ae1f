"""``gnnkit predict``: molecules for SMILES-trained models, the output
file's format."""

import csv
import json

import pytest
import torch

from gnnkit.cli import main
from gnnkit.data.molecules import (
    ATOM_FEATURE_NAMES,
    BOND_FEATURE_NAMES,
    NUM_ATOM_FEATURES,
    NUM_BOND_FEATURES,
    smiles_to_graph,
)
from gnnkit.data.smiles_csv import read_smiles_csv
from gnnkit.models.backbones import build_model
from gnnkit.models.persist import save_model
from gnnkit.train.predict import predict

SMILES = ["CCO", "c1ccccc1", "CC(=O)[O-].[Na+]", "N#CC1CC1"]


def test_read_smiles_csv_without_target(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("smiles\n" + "\n".join(SMILES) + "\n")

    dataset = read_smiles_csv(path, target=None)

    assert dataset.graph_texts == SMILES and dataset.classes is None
    assert all(getattr(g, "y", None) is None for g in dataset.graphs)


@pytest.fixture
def bbbp_model(tmp_path):
    """A GINE recorded as trained on the shipped BBBP."""
    torch.manual_seed(0)
    model = build_model("gin", NUM_ATOM_FEATURES, 2, hidden_channels=8,
                        edge_dim=NUM_BOND_FEATURES)
    save_model(tmp_path / "model", model, classes=[0, 1], extra={
        "dataset": "BBBP", "level": "graph", "task": "classification",
        "feature_names": list(ATOM_FEATURE_NAMES),
        "edge_feature_names": list(BOND_FEATURE_NAMES),
        "data": {"dataset": "BBBP"}})
    return model


def test_predict_new_molecules_of_a_smiles_trained_model(
        bbbp_model, tmp_path, capsys):
    # the new file has only a SMILES column, no target and no id column
    model = bbbp_model
    path = tmp_path / "new.csv"
    path.write_text("smiles\n" + "\n".join(SMILES) + "\n")
    want = predict(model, [smiles_to_graph(s) for s in SMILES]).softmax(-1)

    code = main(["predict", "--model", str(tmp_path / "model"), "--input",
                 str(path), "--out", str(tmp_path / "p.csv")])

    assert code == 0, capsys.readouterr().err
    with open(tmp_path / "p.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    got = torch.tensor([[float(r["p(0)"]), float(r["p(1)"])] for r in rows])
    assert [r["id"] for r in rows] == ["0", "1", "2", "3"]
    assert torch.allclose(got, want, atol=1e-5)


def test_explain_new_molecules_of_a_smiles_trained_model(bbbp_model,
                                                         tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("smiles\n" + "\n".join(SMILES) + "\n")

    code = main(["explain", "--model", str(tmp_path / "model"),
                 "--dataset", str(path), "--graph", "2", "--method",
                 "saliency", "--out", str(tmp_path / "ex")])

    assert code == 0
    record = json.loads((tmp_path / "ex" / "explanation.json").read_text())
    assert len(record["nodes"]) == 5  # CC(=O)[O-].[Na+]: 5 heavy atoms


def test_predict_refuses_an_out_file_that_is_not_csv(tmp_path, capsys):
    code = main(["predict", "--model", str(tmp_path / "none"), "--input",
                 "MUTAG", "--out", str(tmp_path / "p.json")])

    assert code == 2
    err = capsys.readouterr().err
    assert "p.json: predictions are written as CSV" in err
    assert not (tmp_path / "p.json").exists()
