from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch

from gnnkit.data.molecules import (
    ATOM_FEATURE_NAMES,
    NUM_ATOM_FEATURES,
    NUM_BOND_FEATURES,
    parse_smiles,
    smiles_to_graph,
)
from gnnkit.data.smiles_csv import read_smiles_csv
from gnnkit.errors import DataError
from gnnkit.models.backbones import build_model

CASES = Path(__file__).resolve().parents[1] / "cases"
C04 = CASES / "C04" / "molecules.csv"
C05 = CASES / "C05" / "molecules.csv"
CHARGE = ATOM_FEATURE_NAMES.index("formal_charge")


def read(path, **kwargs):
    return read_smiles_csv(path, target="label", id_column="id", **kwargs)


def test_read_smiles_csv_c04_strict_lists_every_bad_row():
    with pytest.raises(DataError) as info:
        read(C04)
    message = str(info.value)
    assert "molecules.csv" in message
    for line, row_id, reason in [
        (3, "m2", "Explicit valence for atom # 1 N, 4"),
        (4, "m3", "unclosed ring"),
        (5, "m4", "Can't kekulize"),
        (6, "m5", "empty SMILES"),
    ]:
        assert f"line {line} (id {row_id})" in message
        assert reason in message
    assert "m1" not in message and "m6" not in message
    assert "on_error='skip'" in message


def test_read_smiles_csv_c04_skip_keeps_two_aligned_graphs():
    with pytest.warns(UserWarning, match=r"skipped 4 of 6 rows") as record:
        dataset = read(C04, on_error="skip")
    assert "['m2', 'm3', 'm4', 'm5']" in str(record[0].message)
    assert dataset.graph_ids == ["m1", "m6"]
    assert [g.num_nodes for g in dataset] == [3, 9]
    assert [g.edge_index.size(1) for g in dataset] == [4, 18]
    assert dataset.y.tolist() == [0, 1]
    assert dataset.decode(dataset.y) == [0, 1]
    assert [b["id"] for b in dataset.meta["skipped"]] == [
        "m2",
        "m3",
        "m4",
        "m5",
    ]
    assert dataset.meta["lines"] == [2, 7]


def test_read_smiles_csv_c05_bond_free_graphs_and_charges():
    dataset = read(C05)
    assert [g.num_nodes for g in dataset] == [1, 2, 5, 1, 3]
    assert [g.edge_index.size(1) for g in dataset] == [0, 0, 6, 0, 4]
    for graph in dataset:
        assert graph.x.shape == (graph.num_nodes, NUM_ATOM_FEATURES)
        assert graph.edge_attr.shape == (
            graph.edge_index.size(1),
            NUM_BOND_FEATURES,
        )
    for i in (0, 1, 3):
        assert dataset[i].edge_index.shape == (2, 0)
        assert dataset[i].edge_attr.shape == (0, NUM_BOND_FEATURES)
    assert dataset[1].x[:, CHARGE].tolist() == [1.0, -1.0]  # Na+, Cl-
    assert dataset[2].x[:, CHARGE].tolist() == [0.0, 0.0, 0.0, -1.0, 1.0]
    assert dataset.meta["num_fragments"] == [1, 2, 2, 1, 1]


def test_read_smiles_csv_c05_gin_with_bond_features_gives_five_rows():
    dataset = read(C05)
    batch = Batch.from_data_list(dataset.graphs)
    torch.manual_seed(0)
    model = build_model(
        "gin", NUM_ATOM_FEATURES, 2, edge_dim=NUM_BOND_FEATURES
    ).eval()
    out = model(
        batch.x,
        batch.edge_index,
        batch.batch,
        edge_attr=batch.edge_attr,
        num_graphs=batch.num_graphs,
    )
    assert out.shape == (5, 2)
    assert torch.isfinite(out).all()


def test_read_smiles_csv_keep_largest_fragment_gives_acetate():
    dataset = read(C05, keep_largest_fragment=True)
    acetate = dataset[2]
    assert acetate.num_nodes == 4
    assert acetate.edge_index.size(1) == 2 * 3
    assert dataset.graph_texts[2] == "CC(=O)[O-]"
    assert acetate.x[:, CHARGE].tolist() == [0.0, 0.0, 0.0, -1.0]
    assert dataset.meta["num_fragments"][2] == 2


def test_smiles_to_graph_strips_whitespace_and_rejects_empty():
    graph = smiles_to_graph("  CCO \t")
    assert graph.num_nodes == 3
    with pytest.raises(DataError, match="empty SMILES"):
        smiles_to_graph("   ")
    with pytest.raises(DataError, match="syntax error"):
        smiles_to_graph("CC(")


def test_parse_smiles_prints_nothing(capfd):
    mol, reason = parse_smiles("C1CC")
    assert mol is None and "unclosed ring" in reason
    assert capfd.readouterr().err == ""


def test_read_smiles_csv_regression_target_errors(tmp_path):
    path = tmp_path / "esol.csv"
    path.write_text("smiles,logS\nCCO ,0.5\nc1ccccc1,\nCC,abc\n")
    with pytest.raises(
        DataError,
        match=r"line 3 .*target cell is empty"
        r"(.|\n)*line 4 .*not a number",
    ):
        read_smiles_csv(path, target="logS", task="regression")
    with pytest.warns(UserWarning, match="skipped 2 of 3"):
        dataset = read_smiles_csv(
            path, target="logS", task="regression", on_error="skip"
        )
    assert dataset.classes is None
    assert dataset.graph_texts == ["CCO"]
    assert dataset.graph_ids == [0]
    assert torch.equal(dataset.y, torch.tensor([0.5]))


def test_read_smiles_csv_missing_column_and_file(tmp_path):
    with pytest.raises(
        DataError,
        match=r"no target column 'p_np'.*"
        r"\['id', 'smiles', 'label'\]",
    ):
        read_smiles_csv(C04, target="p_np")
    with pytest.raises(DataError, match="file not found"):
        read_smiles_csv(tmp_path / "none.csv", target="label")


def test_read_smiles_csv_all_rows_bad_raises_even_when_skipping(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("smiles,y\nC1CC,0\n,1\n")
    with pytest.raises(DataError, match="every row of 2 cannot be read"):
        read_smiles_csv(path, target="y", on_error="skip")


def test_read_smiles_csv_shipped_esol_strips_trailing_spaces():
    root = Path(__file__).resolve().parents[2] / "data" / "ESOL"
    dataset = read_smiles_csv(
        root / "delaney-processed.csv",
        target="measured log solubility in mols per litre",
        task="regression",
        id_column="Compound ID",
    )
    assert len(dataset) == 1128
    assert dataset.graph_ids[0] == "Amigdalin"
    assert dataset.graph_texts[0].endswith("C3O")
    assert abs(float(dataset.y.mean()) - (-3.05)) < 0.01
    assert min(g.num_nodes for g in dataset) == 1


def test_read_smiles_csv_bom_header_and_empty_file(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffsmiles,y\nCCO,1\nCC,0\n".encode("utf-8"))
    dataset = read_smiles_csv(path, target="y")
    assert dataset.graph_texts == ["CCO", "CC"]
    assert dataset.classes == [0, 1]
    empty = tmp_path / "empty.csv"
    empty.write_text("smiles,y\n")
    with pytest.raises(DataError, match="no data rows"):
        read_smiles_csv(empty, target="y")
