import gzip
import json
from pathlib import Path

import pytest
import torch

from gnnkit.data.table_io import read_table
from gnnkit.data.tables import read_csv_graph
from gnnkit.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def small(tmp_path):
    nodes = write(tmp_path / "nodes.csv",
                  "id,f,label,text\n"
                  "a,1.5,cat,first\n"
                  "b,2,dog,second\n"
                  "c,-1,cat,third\n"
                  "d,0,bird,fourth\n")
    edges = write(tmp_path / "edges.csv",
                  "source,target,w\n"
                  "a,b,0.5\n"
                  "b,c,2\n"
                  "c,c,1\n"
                  "b,a,0.5\n")
    return edges, nodes


def test_read_csv_graph_undirected_exact_edges(small):
    edges, nodes = small
    data = read_csv_graph(edges, nodes, text="text", scale=False)
    graph = data[0]
    # Given rows, then reversed rows; exact repeats (a-b twice, c-c) go.
    assert graph.edge_index.tolist() == [[0, 1, 2, 1, 2], [1, 2, 2, 0, 1]]
    assert graph.x.tolist() == [[1.5], [2.0], [-1.0], [0.0]]
    assert data.feature_names == ["f"]
    assert data.classes == ["bird", "cat", "dog"]
    assert graph.y.tolist() == [1, 2, 1, 0]
    assert data.node_ids == [["a", "b", "c", "d"]]
    assert data.texts == [["first", "second", "third", "fourth"]]
    assert data.level == "node"


def test_read_csv_graph_directed_keeps_rows_and_weight(small):
    edges, nodes = small
    data = read_csv_graph(edges, nodes, directed=True, weight="w")
    assert data[0].edge_index.tolist() == [[0, 1, 2, 1], [1, 2, 2, 0]]
    assert data[0].edge_weight.tolist() == [0.5, 2.0, 1.0, 0.5]


def test_read_csv_graph_sparse_int_ids_and_features_none(tmp_path):
    nodes = write(tmp_path / "n.csv", "id,label\n10,1\n200,2\n7,1\n")
    edges = write(tmp_path / "e.csv", "source,target\n7,10\n")
    data = read_csv_graph(edges, nodes, features=None)
    assert data.node_ids == [[10, 200, 7]]
    assert data[0].edge_index.tolist() == [[2, 0], [0, 2]]
    assert data[0].x.tolist() == [[1.0], [1.0], [1.0]]
    assert data.classes == [1, 2]


def test_read_csv_graph_regression_task(tmp_path):
    nodes = write(tmp_path / "n.csv", "id,label\nx,0.25\ny,1.5\n")
    edges = write(tmp_path / "e.csv", "source,target\nx,y\n")
    data = read_csv_graph(edges, nodes, task="regression")
    assert data.classes is None
    assert data[0].y.tolist() == [0.25, 1.5]


def test_read_csv_graph_unknown_edge_node(small, tmp_path):
    _, nodes = small
    edges = write(tmp_path / "bad.csv", "source,target\na,b\nb,zz\n")
    with pytest.raises(DataError, match=r"bad.csv, line 3, field 'target': "
                       r"target node 'zz' is not in the node table"):
        read_csv_graph(edges, nodes)


def test_read_csv_graph_duplicate_node_names_both_lines(tmp_path):
    nodes = write(tmp_path / "n.csv", "id,label\na,0\nb,1\na,1\n")
    edges = write(tmp_path / "e.csv", "source,target\na,b\n")
    with pytest.raises(DataError, match="duplicate node id 'a' on lines 2 "
                       "and 4"):
        read_csv_graph(edges, nodes)


def test_read_csv_graph_missing_column_lists_columns(small):
    edges, nodes = small
    with pytest.raises(DataError, match=r"no source column 'src'; the "
                       r"columns are \['source', 'target', 'w'\]"):
        read_csv_graph(edges, nodes, source="src")


def test_read_csv_graph_non_numeric_feature(tmp_path):
    nodes = write(tmp_path / "n.csv", "id,f,label\na,1,0\nb,oops,1\n")
    edges = write(tmp_path / "e.csv", "source,target\na,b\n")
    with pytest.raises(DataError, match=r"n.csv, line 3, field 'f': "
                       r"feature value 'oops' is not a number"):
        read_csv_graph(edges, nodes, features=["f"])


def test_read_csv_graph_missing_text_error_lists_ids():
    with pytest.raises(DataError, match=r"2 node\(s\) have no text: n2, n5"):
        read_csv_graph(CASES / "C10" / "edges.csv",
                       CASES / "C10" / "nodes.csv", text="text")


def test_read_csv_graph_missing_text_empty_keeps_words():
    with pytest.warns(UserWarning, match="n2, n5"):
        data = read_csv_graph(CASES / "C10" / "edges.csv",
                              CASES / "C10" / "nodes.csv", text="text",
                              missing_text="empty")
    texts = data.texts[0]
    assert texts[2] == "" and texts[5] == ""
    assert texts[3:5] == ["NA", "None"] and texts[6] == "null"
    assert len(texts) == 7


def test_read_csv_graph_latin1_error_names_byte():
    with pytest.raises(DataError, match=r"nodes_latin1.csv, line 2: byte "
                       r"0xE9 at file offset 20 .*encoding='latin-1'"):
        read_csv_graph(CASES / "C11" / "edges.csv",
                       CASES / "C11" / "nodes_latin1.csv", text="text")


def test_read_csv_graph_latin1_with_encoding_matches_utf8():
    latin = read_csv_graph(CASES / "C11" / "edges.csv",
                           CASES / "C11" / "nodes_latin1.csv", text="text",
                           encoding="latin-1")
    utf8 = read_csv_graph(CASES / "C11" / "edges.csv",
                          CASES / "C11" / "nodes_utf8.csv", text="text")
    assert latin.texts[0][:2] == ["Café au lait", "Crème brûlée"]
    assert latin.texts == utf8.texts


def test_read_csv_graph_jsonl_gz_null_text(tmp_path):
    rows = [{"id": 1, "text": "kept", "label": 0},
            {"id": 2, "text": None, "label": 1},
            {"id": 3, "label": 1}]
    nodes = tmp_path / "n.jsonl.gz"
    nodes.write_bytes(gzip.compress(
        "\n".join(json.dumps(r) for r in rows).encode()))
    edges = write(tmp_path / "e.tsv", "source\ttarget\n1\t3\n")
    with pytest.raises(DataError, match=r"have no text: 2, 3"):
        read_csv_graph(edges, nodes, text="text")
    with pytest.warns(UserWarning, match="have no text and get '': 2, 3"):
        data = read_csv_graph(edges, nodes, text="text",
                              missing_text="empty")
    assert data.texts == [["kept", "", ""]]
    assert data.node_ids == [[1, 2, 3]]
    assert data[0].edge_index.tolist() == [[0, 2], [2, 0]]


def test_read_csv_graph_graph_level(tmp_path):
    nodes = write(tmp_path / "n.csv",
                  "gid,id,f\ng1,0,1\ng1,1,2\ng2,0,3\ng2,1,4\ng2,2,5\n")
    edges = write(tmp_path / "e.csv",
                  "gid,source,target\ng2,0,2\ng1,0,1\ng2,2,1\n")
    graphs = write(tmp_path / "g.csv", "gid,label\ng2,-1\ng1,1\ng3,1\n")
    with pytest.raises(DataError, match=r"graph g3 \(index 2\) has no nodes"):
        read_csv_graph(edges, nodes, graphs=graphs, graph_id="gid")
    data = read_csv_graph(edges, nodes, graphs=graphs, graph_id="gid",
                          allow_empty=True, scale=False)
    assert data.level == "graph" and data.graph_ids == ["g2", "g1", "g3"]
    assert data.y.tolist() == [0, 1, 1] and data.classes == [-1, 1]
    assert data[0].x.tolist() == [[3], [4], [5]]
    assert data[0].edge_index.tolist() == [[0, 2, 2, 1], [2, 1, 0, 2]]
    assert data[1].edge_index.tolist() == [[0, 1], [1, 0]]
    assert data.node_ids == [[0, 1, 2], [0, 1], []]


def test_read_csv_graph_cora_tag():
    folder = ROOT / "data" / "Cora_TAG"
    data = read_csv_graph(folder / "edges.csv", folder / "nodes.jsonl.gz",
                          source="src", target="dst", node_id="node_id",
                          label="label", text="text", features=None)
    graph = data[0]
    assert graph.num_nodes == 2708
    assert graph.edge_index.size(1) == 10556
    assert data.num_classes == 7
    assert tuple(graph.x.shape) == (2708, 1)
    assert data.meta["label_names"][1] == "Neural_Networks"
    assert torch.equal(graph.edge_index[:, :5278].flip(0),
                       graph.edge_index[:, 5278:])


def test_read_table_lines_count_multiline_cells(tmp_path):
    nodes = write(tmp_path / "n.csv",
                  'id,text,f\na,"two\nlines",1\n\nb,x,oops\n')
    table = read_table(nodes)
    # Header line 1, row a on lines 2-3, a blank line 4, row b on line 5.
    assert table.lines.tolist() == [2, 5]
    assert table.frame["text"].tolist() == ["two\nlines", "x"]
    edges = write(tmp_path / "e.csv", "source,target\na,b\n")
    with pytest.raises(DataError, match=r"n.csv, line 5, field 'f': "
                       r"feature value 'oops' is not a number"):
        read_csv_graph(edges, nodes, text="text", features=["f"])


def test_read_table_too_many_cells_names_file_line(tmp_path):
    nodes = write(tmp_path / "n.tsv",
                  'id\ttext\n"a"\t"x\ny"\nb\tz\textra\n')
    with pytest.raises(DataError, match=r"n.tsv, line 4: cannot parse the "
                       r"table \(.*Expected 2 fields"):
        read_table(nodes)


NODES = "id,f,label\na,1,x\nb,2,y\nc,3,x\n"


def test_read_csv_graph_header_only_edges_gives_no_edges(tmp_path):
    edges = write(tmp_path / "e.csv", "source,target\n")
    data = read_csv_graph(edges, write(tmp_path / "n.csv", NODES),
                          scale=False)
    assert tuple(data[0].edge_index.shape) == (2, 0)
    assert data[0].x.tolist() == [[1.0], [2.0], [3.0]]
    assert data[0].y.tolist() == [0, 1, 0]


@pytest.mark.parametrize("edges, nodes, match", [
    ("source,target\n", None, r"e.csv: the edge table has no rows and "
                              r"there is no node table"),
    ("source,target\na,b\n", "id,label\n", r"n.csv: the node table has a "
                                           r"header but no rows"),
    ("source,target\na,\n", None, r"e.csv, line 2, field 'target': node id "
                                  r"is empty"),
    ("source,target\na,\n", NODES, r"e.csv, line 2, field 'target': target "
                                   r"node id is empty"),
])
def test_read_csv_graph_no_rows_or_empty_ids(tmp_path, edges, nodes, match):
    edge_path = write(tmp_path / "e.csv", edges)
    node_path = nodes and write(tmp_path / "n.csv", nodes)
    with pytest.raises(DataError, match=match):
        read_csv_graph(edge_path, node_path)


@pytest.mark.parametrize("labels, bad", [
    ("x,NaN,y", "'NaN'"), ("0,nan,1", "'nan'"), ("0,NA,1", "'NA'"),
    ("0,null,1", "'null'"),
])
def test_read_csv_graph_missing_label_markers(tmp_path, labels, bad):
    rows = "".join(f"{i},{v}\n" for i, v in zip("abc", labels.split(",")))
    nodes = write(tmp_path / "n.csv", "id,label\n" + rows)
    edges = write(tmp_path / "e.csv", "source,target\na,b\n")
    with pytest.raises(DataError, match=rf"n.csv, line 3, field 'label': "
                       rf"label is missing \({bad}\)"):
        read_csv_graph(edges, nodes)


def test_read_csv_graph_na_word_label_is_a_class(tmp_path):
    # Among word labels, "NA" may be a class (North America), not missing.
    nodes = write(tmp_path / "n.csv", "id,label\na,EU\nb,NA\nc,EU\n")
    edges = write(tmp_path / "e.csv", "source,target\na,b\n")
    data = read_csv_graph(edges, nodes)
    assert data.classes == ["EU", "NA"]
    assert data[0].y.tolist() == [0, 1, 0]


def test_read_csv_graph_ids_kept_as_written(tmp_path):
    nodes = write(tmp_path / "n.csv", "id,label\n007,x\n7,y\n8,x\n")
    edges = write(tmp_path / "e.csv", "source,target\n007,8\n")
    data = read_csv_graph(edges, nodes, directed=True)
    assert data.node_ids == [["007", "7", "8"]]
    assert data[0].edge_index.tolist() == [[0], [2]]


@pytest.mark.parametrize("nodes, edge, hint", [
    ("007", "7", "'007'"), ("3", "3.0", "'3'"),
])
def test_read_csv_graph_unknown_id_hints_spelling(tmp_path, nodes, edge,
                                                  hint):
    node_path = write(tmp_path / "n.csv", f"id,label\n{nodes},x\n9,y\n")
    edges = write(tmp_path / "e.csv", f"source,target\n{edge},9\n")
    with pytest.raises(DataError, match=rf"source node '{edge}' is not in "
                       rf"the node table.*The node table has {hint}; ids "
                       r"are compared as written"):
        read_csv_graph(edges, node_path)


def graph_tables(tmp_path, node_rows, edge_rows):
    nodes = write(tmp_path / "n.csv", "g,id,label\n" + node_rows)
    edges = write(tmp_path / "e.csv", "g,source,target\n" + edge_rows)
    return edges, nodes


def test_read_csv_graph_edge_across_graphs_names_graph(tmp_path):
    edges, nodes = graph_tables(tmp_path, "G1,a,0\nG1,b,0\nG2,c,1\n",
                                "G1,a,c\n")
    with pytest.raises(DataError, match=r"target node 'c' in graph 'G1' is "
                       r"not in the node table.*Node 'c' is in graph 'G2'"):
        read_csv_graph(edges, nodes, graph_id="g")


def test_read_csv_graph_graph_labels_from_node_table(tmp_path):
    edges, nodes = graph_tables(tmp_path,
                                "G1,a,1\nG1,b,1\nG2,a,0\nG2,b,0\nG3,a,1\n",
                                "G1,a,b\nG2,b,a\n")
    data = read_csv_graph(edges, nodes, graph_id="g")
    assert data.graph_ids == ["G1", "G2", "G3"]
    assert data.classes == [0, 1]
    assert data.y.tolist() == [1, 0, 1]
    assert data.feature_names == ["constant"]


def test_read_csv_graph_graph_labels_disagree_in_node_table(tmp_path):
    edges, nodes = graph_tables(tmp_path, "G1,a,1\nG1,b,0\n", "G1,a,b\n")
    with pytest.raises(DataError, match=r"n.csv, line 3, field 'label': "
                       r"graph 'G1' has nodes labelled '1' \(line 2\) and "
                       r"'0'"):
        read_csv_graph(edges, nodes, graph_id="g")


def test_read_csv_graph_graph_table_needs_graph_id(tmp_path):
    edges, nodes = graph_tables(tmp_path, "G1,a,1\nG1,b,1\n", "G1,a,b\n")
    graphs = write(tmp_path / "g.csv", "g,label\nG1,1\n")
    with pytest.raises(DataError, match=r"g.csv: a graph table needs "
                       r"graph_id="):
        read_csv_graph(edges, nodes, graphs=graphs)


def test_read_csv_graph_list_column_warns(tmp_path):
    nodes = write(tmp_path / "n.jsonl", '{"id": "a", "emb": [1, 2]}\n'
                  '{"id": "b", "emb": [3, 4]}\n')
    edges = write(tmp_path / "e.csv", "source,target\na,b\n")
    with pytest.warns(UserWarning, match=r"column 'emb' holds lists"):
        data = read_csv_graph(edges, nodes, label=None)
    assert data.feature_names == ["constant"]


def test_read_csv_graph_no_label_column_points_to_label_none(tmp_path):
    nodes = write(tmp_path / "n.csv", "id,f\na,1\nb,2\n")
    edges = write(tmp_path / "e.csv", "source,target\na,b\n")
    with pytest.raises(DataError, match=r"n.csv, field 'label': no label "
                       r"column 'label'.*pass label=None to read "
                       r"unlabelled data"):
        read_csv_graph(edges, nodes)
    data = read_csv_graph(edges, nodes, label=None)
    assert data.classes is None and data[0].y is None
    assert data[0].x.tolist() == [[-1.0], [1.0]]  # z-scored 1 and 2
