import pandas as pd
import pytest

from gnnkit.data.tables import read_csv_graph
from gnnkit.errors import DataError
from gnnkit.viz.own_files import (
    join_new_rows,
    labels_of,
    save_uploads,
    upload_role,
)

COLUMNS = {"node_id": "id", "label": "label", "text": "text",
           "source": "src", "target": "dst"}


class Upload:  # what ipywidgets.FileUpload.value holds
    def __init__(self, name, content):
        self.name, self.content = name, memoryview(content)


def write(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def graph(tmp_path):
    nodes = write(tmp_path / "nodes.csv",
                  "id,label,text,extra\na,x,alpha,1\nb,y,beta,2\n")
    edges = write(tmp_path / "edges.csv", "src,dst\na,b\n")
    return nodes, edges


def test_upload_role_reads_the_name():
    assert [upload_role(n) for n in [
        "cora_edges.csv", "Nodes.tsv", "citations.csv", "papers.jsonl.gz",
        "new_papers.csv", "links_new.csv"]] == [
        "edges", "nodes", "edges", "nodes", "new_nodes", "new_edges"]


def test_save_uploads_fills_both_boxes_and_clears_new_rows(tmp_path):
    paths = save_uploads([Upload("my_edges.csv", b"src,dst\n"),
                          {"name": "my_nodes.csv", "content": b"id\n"}],
                         tmp_path / "up")
    assert paths == {"edges": str(tmp_path / "up" / "my_edges.csv"),
                     "nodes": str(tmp_path / "up" / "my_nodes.csv"),
                     "new_nodes": "", "new_edges": ""}
    assert (tmp_path / "up" / "my_edges.csv").read_text() == "src,dst\n"
    assert save_uploads([Upload("new_nodes.csv", b"id\n")], tmp_path) == {
        "new_nodes": str(tmp_path / "new_nodes.csv")}
    with pytest.raises(DataError, match="two uploads look like the edges"):
        save_uploads([Upload("a_edges.csv", b""), Upload("b_edges.csv", b"")],
                     tmp_path)


def test_join_new_rows_keeps_needed_columns(tmp_path, graph):
    new_nodes = write(tmp_path / "new_nodes.csv",
                      "text,id,label\ngamma,c,x\n")
    new_edges = write(tmp_path / "new_edges.csv", "dst,src\nc,a\n")
    joined = join_new_rows(*graph, new_nodes, new_edges, COLUMNS,
                           tmp_path / "out", features=["extra"])
    assert joined.ready is False  # the new nodes lack the feature column
    assert "has no column 'extra'" in joined.note
    joined = join_new_rows(*graph, new_nodes, new_edges, COLUMNS,
                           tmp_path / "out")
    assert joined.ready and joined.new_ids == ["c"]
    assert joined.note.startswith("1 new nodes and 1 new edges joined to 2")
    assert joined.nodes.read_text() == "id,text\na,alpha\nb,beta\nc,gamma\n"
    assert joined.edges.read_text() == "src,dst\na,b\na,c\n"
    everything = read_csv_graph(joined.edges, joined.nodes,
                                **{**COLUMNS, "label": None}, features=None)
    assert everything.node_ids == [["a", "b", "c"]]
    assert everything[0].edge_index.size(1) == 4
    assert labels_of(new_nodes, COLUMNS) == {"c": "x"}


def test_join_new_rows_says_why_nothing_is_predicted(tmp_path, graph):
    joined = join_new_rows(*graph, "", "", COLUMNS, tmp_path)
    assert not joined.ready and "'new nodes' box is empty" in joined.note
    other = write(tmp_path / "new_nodes.csv", "paper,title\np9,x\n")
    joined = join_new_rows(*graph, other, None, COLUMNS, tmp_path)
    assert not joined.ready
    assert "has no column 'id', 'text'" in joined.note
    assert "paper, title" in joined.note
    assert labels_of(other, COLUMNS) is None and labels_of("", COLUMNS) is None


def test_join_new_rows_rejects_empty_and_old_ids(tmp_path, graph):
    bad = write(tmp_path / "new_nodes.csv", "id,text\nc,x\n,y\n")
    with pytest.raises(DataError, match=r"line 3, field 'id': node id is "
                                        r"empty"):
        join_new_rows(*graph, bad, None, COLUMNS, tmp_path)
    old = write(tmp_path / "new_nodes.csv", "id,text\nb,x\n")
    with pytest.raises(DataError, match="'b' is already a node"):
        join_new_rows(*graph, old, None, COLUMNS, tmp_path)
    assert not (tmp_path / "all_nodes.csv").exists()
    frame = pd.read_csv(graph[0])
    assert list(frame.columns) == ["id", "label", "text", "extra"]


@pytest.mark.parametrize("nodes, edges, message", [
    ("id,text\nc,x\nc,y\n", None,
     r"new_nodes.csv, line 3, field 'id': node id 'c' repeats line 2"),
    ("id,text,extra\nc,x,abc\n", None,
     r"new_nodes.csv, line 2, field 'extra': feature value 'abc'"),
    ("id,text\nc,x\n", "src,dst\nc,zz\n",
     r"new_edges.csv, line 2, field 'dst': node 'zz' is neither a node"),
])
def test_join_new_rows_names_bad_new_rows(tmp_path, graph, nodes, edges,
                                          message):
    new_nodes = write(tmp_path / "new_nodes.csv", nodes)
    new_edges = edges and write(tmp_path / "new_edges.csv", edges)
    with pytest.raises(DataError, match=message):
        join_new_rows(*graph, new_nodes, new_edges, COLUMNS, tmp_path,
                      features=["extra"] if "extra" in nodes else ())
    assert not (tmp_path / "all_nodes.csv").exists()


def test_header_only_new_rows_and_nameless_upload(tmp_path, graph):
    empty = write(tmp_path / "new_nodes.csv", "id,text\n")
    joined = join_new_rows(*graph, empty, None, COLUMNS, tmp_path)
    assert not joined.ready and "has a header but no rows" in joined.note
    with pytest.raises(DataError, match="an upload has no file name"):
        save_uploads([Upload("", b"id\n")], tmp_path / "up")
