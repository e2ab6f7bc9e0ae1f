import csv
from pathlib import Path

import pytest

from gnnkit.data import shipped
from gnnkit.data.shipped import (
    SHIPPED,
    data_dir,
    list_datasets,
    load_dataset,
)
from gnnkit.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"


def test_data_dir_defaults_to_repo_data(monkeypatch):
    monkeypatch.delenv("GNNKIT_DATA", raising=False)
    assert data_dir() == ROOT / "data"


def test_data_dir_env_first(monkeypatch, tmp_path):
    monkeypatch.setenv("GNNKIT_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.setenv("GNNKIT_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="GNNKIT_DATA points to a folder"):
        data_dir()


def test_list_datasets_names():
    names = list_datasets()
    assert names[:4] == ["MUTAG", "PROTEINS", "IMDB-BINARY", "IMDB-MULTI"]
    assert {"Cora_TAG", "CiteSeer_TAG", "BBBP", "ESOL", "FreeSolv",
            "BACE"} <= set(names)


def test_load_dataset_unknown_lists_names():
    with pytest.raises(DataError, match="shipped datasets: MUTAG, PROTEINS"):
        load_dataset("NOT_A_DATASET")


def test_load_dataset_mutag_and_proteins():
    mutag = load_dataset("MUTAG")
    assert len(mutag) == 188 and mutag.num_features == 7
    proteins = load_dataset("proteins")
    assert len(proteins) == 1113 and proteins.classes == [1, 2]


def test_load_dataset_imdb_binary_degree_features():
    data = load_dataset("IMDB-BINARY")
    assert len(data) == 1000
    assert data.num_features == 136
    assert data.feature_names[0] == "degree=0"
    assert all(g.x.sum() == g.num_nodes for g in data.graphs[:50])


def test_load_dataset_cora_and_citeseer_tag():
    cora = load_dataset("Cora_TAG")
    assert cora.name == "Cora_TAG" and cora.level == "node"
    assert cora[0].num_nodes == 2708 and cora[0].edge_index.size(1) == 10556
    assert cora.num_classes == 7 and len(cora.texts[0]) == 2708
    citeseer = load_dataset("CiteSeer_TAG")
    assert citeseer[0].num_nodes == 3186
    # 4,225 undirected pairs in both directions.
    assert citeseer[0].edge_index.size(1) == 8450
    assert citeseer.meta["label_names"] == ["Agents", "ML", "IR", "DB",
                                            "HCI", "AI"]


def test_load_dataset_paths_by_kind():
    tu = load_dataset(CASES / "C02" / "SIGNED")
    assert tu.classes == [-1, 1]
    table = load_dataset(CASES / "C06" / "edges.csv",
                         nodes=CASES / "C06" / "nodes.csv", directed=True)
    assert table[0].edge_index.size(1) == 7
    graphs = load_dataset(CASES / "C08" / "graphs.json", allow_empty=True)
    assert len(graphs) == 4


def test_shipped_molecule_columns_exist():
    for name in ("BBBP", "ESOL", "FreeSolv", "BACE"):
        entry = SHIPPED[name]
        path = ROOT / "data" / entry.folder / entry.files[0]
        with open(path, newline="") as handle:
            header = next(csv.reader(handle))
        for key in ("smiles", "target", "id_column"):
            assert entry.kwargs[key] in header, (name, key)


def test_load_dataset_molecules_pass_registry(monkeypatch):
    calls = []

    def fake(path, **kwargs):
        calls.append((Path(path).name, kwargs))
        return shipped.GraphDataset([], name="x")

    import gnnkit.data.smiles_csv as smiles_csv

    monkeypatch.setattr(smiles_csv, "read_smiles_csv", fake)
    data = load_dataset("ESOL", on_error="skip")
    assert data.name == "ESOL"
    assert calls == [("delaney-processed.csv", {
        "smiles": "smiles",
        "target": "measured log solubility in mols per litre",
        "task": "regression", "id_column": "Compound ID",
        "on_error": "skip"})]


def test_load_dataset_freesolv_real():
    data = load_dataset("FreeSolv")
    assert len(data) == 642 and data.task == "regression"


def test_load_dataset_option_not_for_reader(tmp_path):
    with pytest.raises(DataError, match=r"option\(s\) nodes do not apply to "
                       r"a TU folder; it takes degree_features, max_degree"):
        load_dataset("MUTAG", nodes="nodes.csv")
    graphs = tmp_path / "g.json"
    graphs.write_text('[{"id": "A", "num_nodes": 1}]')
    with pytest.raises(DataError, match=r"option\(s\) graph_id do not apply "
                       r"to a JSON graph file"):
        load_dataset(graphs, graph_id="g")
