from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch

from gnnkit.data.molecules import (
    NUM_ATOM_FEATURES,
    NUM_BOND_FEATURES,
)
from gnnkit.data.smiles_csv import read_smiles_csv
from gnnkit.errors import DataError, ModelError
from gnnkit.evaluate.scaffold import scaffold_split
from gnnkit.models.molecule_fusion import MoleculeTextModel, attach_text
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import GraphTask

ROOT = Path(__file__).resolve().parents[2]
C05 = ROOT / "tests" / "cases" / "C05" / "molecules.csv"


def c05_with_text(width=4):
    dataset = read_smiles_csv(C05, target="label", id_column="id")
    text = torch.arange(5 * width, dtype=torch.float).view(5, width)
    return dataset, attach_text(dataset, text), text


def forward(model, graphs):
    batch = Batch.from_data_list(graphs)
    return model(
        batch.x,
        batch.edge_index,
        batch.batch,
        edge_attr=batch.edge_attr,
        num_graphs=batch.num_graphs,
    )


def test_attach_text_appends_the_embedding_to_every_atom():
    dataset, joined, text = c05_with_text()
    assert joined.num_features == NUM_ATOM_FEATURES + 4
    assert joined.meta["atom_channels"] == NUM_ATOM_FEATURES
    assert joined.meta["text_channels"] == 4
    sodium_acetate = joined[2]
    assert torch.equal(
        sodium_acetate.x[:, NUM_ATOM_FEATURES:], text[2].expand(5, 4)
    )
    assert torch.equal(sodium_acetate.x[:, :NUM_ATOM_FEATURES], dataset[2].x)
    assert dataset.num_features == NUM_ATOM_FEATURES  # input untouched
    assert joined.graph_ids == dataset.graph_ids
    with pytest.raises(DataError, match="one embedding row per graph"):
        attach_text(dataset, torch.zeros(4, 4))


@pytest.mark.parametrize("mode", ["graph", "text", "fusion"])
def test_molecule_text_model_reads_only_its_modality(mode):
    _, joined, _ = c05_with_text()
    torch.manual_seed(0)
    model = MoleculeTextModel(
        NUM_ATOM_FEATURES, 4, 2, mode=mode, edge_dim=NUM_BOND_FEATURES
    ).eval()
    out = forward(model, joined.graphs)
    assert out.shape == (5, 2)
    no_text = [g.clone() for g in joined.graphs]
    no_atoms = [g.clone() for g in joined.graphs]
    for g in no_text:
        g.x[:, NUM_ATOM_FEATURES:] = 0.0
    for g in no_atoms:
        g.x[:, :NUM_ATOM_FEATURES] = 0.0
    same_without_text = torch.allclose(forward(model, no_text), out)
    same_without_atoms = torch.allclose(forward(model, no_atoms), out)
    assert same_without_text == (mode == "graph")
    assert same_without_atoms == (mode == "text")


def test_molecule_text_model_checks_width_and_repr():
    model = MoleculeTextModel(NUM_ATOM_FEATURES, 4, 2, mode="fusion")
    with pytest.raises(ModelError, match="attach_text"):
        model(torch.zeros(3, NUM_ATOM_FEATURES), torch.zeros(2, 0).long())
    with pytest.raises(ValueError, match="mode must be one of"):
        MoleculeTextModel(3, 4, 2, mode="late")
    assert repr(model) == (
        f"MoleculeTextModel({NUM_ATOM_FEATURES}, 4, 2, "
        "mode='fusion', gnn='gin', hidden_channels=64)"
    )


def test_molecule_text_model_esol_short_run_beats_the_mean():
    dataset = read_smiles_csv(
        ROOT / "data" / "ESOL" / "delaney-processed.csv",
        target="measured log solubility in mols per litre",
        task="regression",
    )
    dataset = attach_text(dataset, torch.zeros(len(dataset), 1))
    split = scaffold_split(dataset)
    graphs = dataset.graphs
    task = GraphTask(
        [graphs[i] for i in split.train],
        [graphs[i] for i in split.val],
        task="regression",
        batch_size=64,
    )
    torch.manual_seed(0)
    model = MoleculeTextModel(
        NUM_ATOM_FEATURES, 1, 1, mode="graph", edge_dim=NUM_BOND_FEATURES
    )
    fit(model, task, TrainConfig(epochs=15, lr=3e-3, progress_bar=False))
    test = [graphs[i] for i in split.test]
    pred = task.target_scaler.inverse_transform(predict(model, test))
    y = dataset.y[split.test]
    rmse = (pred.view(-1) - y).pow(2).mean().sqrt()
    mean_rmse = (dataset.y[split.train].mean() - y).pow(2).mean().sqrt()
    assert rmse < 0.7 * mean_rmse


def test_molecule_text_model_survives_save_and_load(tmp_path):
    from gnnkit.models.persist import load_model, save_model

    _, joined, _ = c05_with_text()
    torch.manual_seed(0)
    model = MoleculeTextModel(
        NUM_ATOM_FEATURES, 4, 2, mode="fusion", edge_dim=NUM_BOND_FEATURES
    ).eval()
    save_model(tmp_path / "m", model, classes=[0, 1])
    loaded, info = load_model(tmp_path / "m")
    assert torch.allclose(
        forward(loaded.eval(), joined.graphs), forward(model, joined.graphs)
    )
