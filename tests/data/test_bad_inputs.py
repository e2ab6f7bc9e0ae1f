"""Bad input to the readers fails (or warns) with a message naming the file,
line, option or value at fault, on tiny files."""

import json
import warnings

import networkx as nx
import pytest

from gnnkit.data.knowledge import read_kg
from gnnkit.data.molecules import smiles_to_graph
from gnnkit.data.networkx_io import from_networkx
from gnnkit.data.shipped import load_dataset
from gnnkit.data.smiles_csv import read_smiles_csv
from gnnkit.data.summary import summarize, summary_table
from gnnkit.data.tables import read_csv_graph
from gnnkit.errors import DataError


@pytest.fixture
def tables(tmp_path):
    """A three-node graph: ``edges.csv`` and ``nodes.csv``."""
    (tmp_path / "edges.csv").write_text("source,target\na,b\nb,c\n")
    (tmp_path / "nodes.csv").write_text("id,label\na,0\nb,1\nc,0\n")
    return tmp_path


def kg_folder(folder, entities="e1\ne2\ne3\n", test="e3\tr\te1\n"):
    folder.mkdir()
    (folder / "train.tsv").write_text("e1\tr\te2\ne2\tr\te3\n")
    (folder / "dev.tsv").write_text("e1\tr\te3\n")
    (folder / "test.tsv").write_text(test)
    (folder / "entities.txt").write_text(entities)
    (folder / "relations.txt").write_text("r\n")
    return folder


def test_unknown_encoding_names_option_and_value(tables):
    with pytest.raises(DataError, match=r"unknown encoding 'bogus' "
                       r"\(--encoding / encoding=\)"):
        read_csv_graph(tables / "edges.csv", tables / "nodes.csv",
                       encoding="bogus")


def test_unknown_encoding_of_a_smiles_csv(tmp_path):
    (tmp_path / "m.csv").write_text("smiles,y\nCC,1\nCO,0\n")
    with pytest.raises(DataError, match="unknown encoding 'nope'"):
        read_smiles_csv(tmp_path / "m.csv", target="y", encoding="nope")


def test_utf16_asked_of_a_utf8_file_hints_at_the_encoding(tables):
    with pytest.raises(DataError, match="edges.csv: the file may not be "
                       "utf-16.*pass encoding='utf-8'"):
        read_csv_graph(tables / "edges.csv", encoding="utf-16")


def test_utf16_file_with_encoding_still_reads(tmp_path):
    (tmp_path / "edges.csv").write_bytes(
        "source,target\na,b\n".encode("utf-16"))
    dataset = read_csv_graph(tmp_path / "edges.csv", encoding="utf-16")
    assert dataset.node_ids == [["a", "b"]]


def test_corrupt_label_names_names_file_line_and_column(tables):
    (tables / "label_names.json").write_text('{"0": "neg",\n "1": }')
    with pytest.raises(DataError) as err:
        read_csv_graph(tables / "edges.csv", tables / "nodes.csv")
    assert str(err.value).startswith(str(tables / "label_names.json")
                                     + ", line 2: not valid JSON")
    assert "column 7" in str(err.value)


def test_label_names_of_wrong_shape_names_the_expected_shape(tables):
    (tables / "label_names.json").write_text(json.dumps(["neg", "pos"]))
    with pytest.raises(DataError, match=r"label_names.json: expected a JSON "
                       r"object mapping each class to its name.*JSON list"):
        read_csv_graph(tables / "edges.csv", tables / "nodes.csv")


def test_label_names_object_still_names_classes(tables):
    (tables / "label_names.json").write_text('{"0": "neg", "1": "pos"}')
    dataset = read_csv_graph(tables / "edges.csv", tables / "nodes.csv")
    assert dataset.meta["label_names"] == ["neg", "pos"]


def test_labels_equal_as_numbers_but_written_differently_warn(tables):
    (tables / "nodes.csv").write_text("id,label\na,1\nb,1.0\nc,2\n")
    with pytest.warns(UserWarning, match=r"nodes.csv: label column 'label' "
                      r"holds '1' and '1.0'.*2 different classes"):
        dataset = read_csv_graph(tables / "edges.csv", tables / "nodes.csv")
    assert dataset.classes == ["1", "1.0", "2"]  # compared as written


def test_plain_integer_labels_do_not_warn(tables):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = read_csv_graph(tables / "edges.csv", tables / "nodes.csv")
    assert dataset.classes == [0, 1]


def test_blank_graph_id_in_node_table_names_node_table_line(tmp_path):
    (tmp_path / "nodes.csv").write_text("gid,id\ng1,a\ng1,b\n,c\ng2,a\n")
    (tmp_path / "edges.csv").write_text("gid,source,target\ng1,a,b\n")
    (tmp_path / "graphs.csv").write_text("gid,label\ng1,0\ng2,1\n")
    with pytest.raises(DataError, match=r"nodes.csv, line 4, field 'gid': "
                       "graph id is empty"):
        read_csv_graph(tmp_path / "edges.csv", tmp_path / "nodes.csv",
                       graphs=tmp_path / "graphs.csv", graph_id="gid")


def test_graph_table_without_graph_id_is_said_first(tmp_path):
    (tmp_path / "nodes.csv").write_text("id\na\na\n")  # duplicate ids too
    (tmp_path / "edges.csv").write_text("source,target\na,a\n")
    (tmp_path / "graphs.csv").write_text("gid,label\ng1,0\n")
    with pytest.raises(DataError, match="a graph table needs graph_id="):
        read_csv_graph(tmp_path / "edges.csv", tmp_path / "nodes.csv",
                       graphs=tmp_path / "graphs.csv")


def test_kg_entity_listed_twice_names_file_line_and_id(tmp_path):
    folder = kg_folder(tmp_path / "kg", entities="e1\ne1\ne2\ne3\n")
    with pytest.raises(DataError, match=r"entities.txt, line 2: 'e1' is "
                       r"listed twice \(lines 1 and 2\)"):
        read_kg(folder)


def test_kg_empty_test_split_names_the_file(tmp_path):
    folder = kg_folder(tmp_path / "kg", test="\n")
    with pytest.raises(DataError, match=r"test.tsv: the file has no "
                       "triples; the test split"):
        read_kg(folder)


def test_networkx_mixed_type_attribute_dropped_with_a_warning():
    graph = nx.path_graph(3)
    for node, value in zip(graph.nodes, (1.0, "2", 3)):
        graph.nodes[node].update(f=value, g=float(node), label=node % 2)
    with pytest.warns(UserWarning, match="node attribute 'f' is '2' on "
                      "node 1, so it is not used"):
        dataset = from_networkx(graph)
    assert dataset.feature_names == ["g"]


def test_networkx_list_labels_are_refused():
    graph = nx.path_graph(2)
    nx.set_node_attributes(graph, {0: [0, 1], 1: [1, 0]}, "label")
    with pytest.raises(DataError, match=r"node 0 has label=\[0, 1\]; a "
                       "label is one class"):
        from_networkx(graph)


@pytest.mark.parametrize("value, kind", [(None, "NoneType"), (5, "int")])
def test_smiles_that_is_not_text_is_a_data_error(value, kind):
    with pytest.raises(DataError, match=f"cannot read SMILES {value!r}: a "
                       f"SMILES is text, not {kind}"):
        smiles_to_graph(value)


def test_smiles_csv_unknown_task_is_a_data_error(tmp_path):
    (tmp_path / "m.csv").write_text("smiles,y\nCC,1\nCO,0\n")
    with pytest.raises(DataError, match="task must be one of"):
        read_smiles_csv(tmp_path / "m.csv", target="y", task="multi")


def test_class_counts_are_keyed_by_raw_class(tables):
    (tables / "nodes.csv").write_text("id,label\na,2\nb,1\nc,2\n")
    summary = summarize(read_csv_graph(tables / "edges.csv",
                                       tables / "nodes.csv"))
    assert summary["class_counts"] == {1: 1, 2: 2}
    assert "class counts           1: 1 (33.3%), 2: 2 (66.7%)" in (
        summary_table(summary))


def test_shipped_name_shadowing_a_local_folder_warns(tmp_path, monkeypatch):
    (tmp_path / "MUTAG").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match=r"'MUTAG' is both a shipped "
                      r"dataset and a folder here; reading the shipped one"):
        dataset = load_dataset("MUTAG")
    assert len(dataset) == 188
