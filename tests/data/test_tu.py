import logging
from collections import Counter
from pathlib import Path

import pytest
import torch

from gnnkit.data.tu import read_tu
from gnnkit.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
SIGNED = ROOT / "tests" / "cases" / "C02" / "SIGNED"


def write_tu(folder, name="T", **files):
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    base = {
        "A": "1, 2\n2, 1\n3, 4\n4, 3\n",
        "graph_indicator": "1\n1\n2\n2\n",
        "graph_labels": "5\n7\n",
    }
    base.update(files)
    for key, text in base.items():
        if text is not None:
            (raw / f"{name}_{key}.txt").write_text(text)
    return folder


def test_read_tu_signed_labels_reindexed():
    data = read_tu(SIGNED)
    assert data.num_classes == 2
    assert data.y.tolist() == [0, 1, 1, 0]
    assert data.classes == [-1, 1]
    assert data.decode(torch.tensor([0, 1, 1])) == [-1, 1, 1]
    assert [g.num_nodes for g in data.graphs] == [3, 2, 3, 2]
    assert [g.edge_index.size(1) for g in data.graphs] == [4, 2, 6, 2]


def test_read_tu_signed_exact_graph():
    data = read_tu(SIGNED / "raw")
    assert data.name == "SIGNED"
    assert data.graph_ids == [1, 2, 3, 4]
    assert data.node_ids == [[1, 2, 3], [4, 5], [6, 7, 8], [9, 10]]
    assert data.graphs[2].edge_index.tolist() == [
        [0, 1, 1, 2, 2, 0],
        [1, 0, 2, 1, 0, 2],
    ]
    assert data.graphs[0].x.tolist() == [[1, 0], [0, 1], [1, 0]]
    assert data.feature_names == ["node_label=0", "node_label=1"]


def test_read_tu_mutag_counts():
    data = read_tu(ROOT / "data" / "MUTAG")
    assert len(data) == 188
    assert sum(g.num_nodes for g in data.graphs) == 3371
    assert sum(g.edge_index.size(1) for g in data.graphs) == 7442
    assert data.meta["duplicate_edges_removed"] == 0
    assert data.num_features == 7
    assert data.num_edge_features == 4
    assert data.classes == [-1, 1]
    assert Counter(data.y.tolist()) == {0: 63, 1: 125}
    assert data.node_ids[3] == list(range(44, 63))
    assert data.graphs[3].edge_index.size(1) == 44
    assert data.graphs[35].num_nodes == 14
    assert data.node_ids[35][0] == 639


def test_read_tu_proteins_attributes_appended():
    data = read_tu(ROOT / "data" / "PROTEINS")
    assert len(data) == 1113
    assert data.classes == [1, 2]
    assert Counter(data.y.tolist()) == {0: 663, 1: 450}
    assert data.feature_names[-1] == "node_attr0"
    assert sum(g.edge_index.size(1) for g in data.graphs) == 162088
    assert data.meta["duplicate_edges_removed"] == 0
    # First node of PROTEINS: label 0, attribute 23.
    assert data.graphs[0].x[0].tolist() == [1, 0, 0, 23]


def test_read_tu_degree_features_when_featureless(tmp_path):
    write_tu(tmp_path, A="1, 2\n2, 1\n2, 3\n3, 2\n2, 1\n4, 5\n5, 4\n",
             graph_indicator="1\n1\n1\n2\n2\n", graph_labels="0\n1\n")
    data = read_tu(tmp_path)
    # Node 2 has 2 distinct neighbours; its repeated row counts once.
    assert data.feature_names == ["degree=0", "degree=1", "degree=2"]
    assert data.graphs[0].x.tolist() == [[0, 1, 0], [0, 0, 1], [0, 1, 0]]
    assert data.graphs[0].edge_index.size(1) == 4
    kept = read_tu(tmp_path, dedupe_edges=False)
    assert kept.graphs[0].edge_index.size(1) == 5
    assert kept.graphs[0].x.tolist() == data.graphs[0].x.tolist()
    clipped = read_tu(tmp_path, max_degree=1)
    assert clipped.graphs[0].x.tolist() == [[0, 1], [0, 1], [0, 1]]
    plain = read_tu(tmp_path, degree_features=False)
    assert plain.graphs[1].x.tolist() == [[1.0], [1.0]]


def test_read_tu_duplicate_edges_dropped_first_kept(tmp_path, caplog):
    write_tu(tmp_path, A="1, 2\n2, 1\n1, 2\n3, 4\n4, 3\n2, 1\n",
             edge_labels="0\n1\n2\n0\n0\n2\n")
    with caplog.at_level(logging.INFO, logger="gnnkit.data.tu"):
        data = read_tu(tmp_path)
    assert "dropped 2 duplicate edge rows" in caplog.text
    assert data.meta["duplicate_edges_removed"] == 2
    assert data.graphs[0].edge_index.tolist() == [[0, 1], [1, 0]]
    # The first (1, 2) row has label 0; its repeat's label 2 is dropped.
    assert data.graphs[0].edge_attr.tolist() == [[1, 0, 0], [0, 1, 0]]
    assert data.graphs[1].edge_index.tolist() == [[0, 1], [1, 0]]


def test_read_tu_duplicate_edges_kept_when_false(tmp_path):
    write_tu(tmp_path, A="1, 2\n2, 1\n1, 2\n3, 4\n4, 3\n",
             edge_labels="0\n1\n2\n0\n0\n")
    data = read_tu(tmp_path, dedupe_edges=False)
    assert data.meta["duplicate_edges_removed"] == 0
    assert data.graphs[0].edge_index.tolist() == [[0, 1, 0], [1, 0, 1]]
    assert data.graphs[0].edge_attr[:, 2].tolist() == [0, 0, 1]


def test_read_tu_imdb_binary_edges_match_pyg():
    data = read_tu(ROOT / "data" / "IMDB-BINARY")
    # 193,062 is what torch_geometric.io.read_tu_data (TUDataset) gives on
    # a copy of data/IMDB-BINARY (checked once with torch-geometric
    # 2.8.1); the raw A.txt lists each of them twice (386,124 rows).
    assert sum(g.edge_index.size(1) for g in data.graphs) == 193062
    assert data.meta["duplicate_edges_removed"] == 193062
    assert data.num_features == 136


def test_read_tu_degree_appended_when_true():
    data = read_tu(SIGNED, degree_features=True)
    assert data.feature_names[2:] == ["degree=0", "degree=1", "degree=2"]
    assert data.graphs[2].x[0].tolist() == [1, 0, 0, 0, 1]


def test_read_tu_edge_labels_one_hot(tmp_path):
    write_tu(tmp_path, edge_labels="1\n1\n3\n3\n",
             edge_attributes="0.5\n0.5\n2\n2\n")
    data = read_tu(tmp_path)
    assert data.graphs[1].edge_attr.tolist() == [[0, 0, 1, 2], [0, 0, 1, 2]]
    assert data.meta["edge_feature_names"][:3] == [
        "edge_label=1", "edge_label=2", "edge_label=3"
    ]


def test_read_tu_missing_file_lists_expected(tmp_path):
    write_tu(tmp_path, graph_labels=None)
    with pytest.raises(DataError, match="T_graph_labels.txt.*T_A.txt, "
                       "T_graph_indicator.txt, T_graph_labels.txt"):
        read_tu(tmp_path)


def test_read_tu_line_counts_disagree(tmp_path):
    write_tu(tmp_path, node_labels="0\n1\n0\n")
    with pytest.raises(DataError, match="T_node_labels.txt has 3 lines but "
                       "T_graph_indicator.txt has 4"):
        read_tu(tmp_path)


def test_read_tu_non_integer_entry_names_line(tmp_path):
    write_tu(tmp_path, A="1, 2\n2, x\n3, 4\n4, 3\n")
    with pytest.raises(DataError, match=r"T_A.txt, line 2, field 'column 2'"
                       r": value 'x'"):
        read_tu(tmp_path)


def test_read_tu_edge_out_of_range(tmp_path):
    write_tu(tmp_path, A="1, 2\n2, 1\n3, 9\n")
    with pytest.raises(DataError, match=r"line 3: edge \(3, 9\) names a "
                       r"node id outside 1..4"):
        read_tu(tmp_path)


def test_read_tu_empty_graph_named(tmp_path):
    write_tu(tmp_path, graph_labels="5\n7\n7\n")
    with pytest.raises(DataError, match="graph 3 has no nodes"):
        read_tu(tmp_path)
    data = read_tu(tmp_path, allow_empty=True)
    assert data.graphs[2].num_nodes == 0
    assert tuple(data.graphs[2].x.shape) == (0, 2)
    assert data.y.tolist() == [0, 1, 1]


def test_read_tu_several_datasets_needs_name(tmp_path):
    write_tu(tmp_path, name="B")
    write_tu(tmp_path, name="C")
    with pytest.raises(DataError, match="B, C"):
        read_tu(tmp_path)
    assert read_tu(tmp_path, "C").name == "C"


@pytest.mark.parametrize("files, match", [
    ({"graph_labels": ""}, r"T_graph_labels.txt: the file is empty; a TU "
                           r"dataset needs one line per graph"),
    ({"A": "", "graph_indicator": "", "graph_labels": ""},
     r"T_graph_labels.txt: the file is empty"),
    ({"graph_labels": "5\nnan\n"}, r"T_graph_labels.txt, line 2, .*value "
                                   r"'nan' in column 1 is not a finite"),
    ({"A": "0, 1\n1, 0\n"}, r"T_A.txt, line 1: edge \(0, 1\) .*TU ids count "
                            r"from 1, and this file uses 0"),
    ({"graph_indicator": "0\n0\n1\n1\n"}, r"graph id 0 is outside 1..2 .*TU "
                                          r"ids count from 1"),
    ({"node_attributes": "1\ninf\n2\n3\n"}, r"T_node_attributes.txt, line 2"
                                            r", .*'inf' .*not a finite"),
])
def test_read_tu_bad_files_name_line(tmp_path, files, match):
    write_tu(tmp_path, **files)
    with pytest.raises(DataError, match=match):
        read_tu(tmp_path)


def test_read_tu_surplus_graph_labels_named(tmp_path):
    write_tu(tmp_path, graph_labels="5\n7\n7\n")
    with pytest.raises(DataError, match=r"graph 3 has no nodes "
                       r"\(T_graph_labels.txt has 3 lines but "
                       r"T_graph_indicator.txt names graphs 1..2 only\)"):
        read_tu(tmp_path)


def test_read_tu_sparse_node_label_refused_before_one_hot(tmp_path):
    # One stray value would need 10^8 one-hot columns (gigabytes).
    write_tu(tmp_path, node_labels="0\n1\n0\n100000000\n")
    with pytest.raises(DataError, match=r"T_node_labels.txt, line 4, .*"
                       r"label values span 0..100000000"):
        read_tu(tmp_path)


def test_read_tu_empty_edge_file_warns(tmp_path):
    write_tu(tmp_path, A="")
    with pytest.warns(UserWarning, match="T_A.txt is empty, so no graph"):
        data = read_tu(tmp_path, degree_features=False)
    assert [g.edge_index.shape[1] for g in data.graphs] == [0, 0]
    assert data.y.tolist() == [0, 1]


def test_read_tu_file_path_not_folder(tmp_path):
    write_tu(tmp_path)
    with pytest.raises(DataError, match="T_A.txt: TU dataset folder is a "
                       "file, not a folder"):
        read_tu(tmp_path / "raw" / "T_A.txt")
