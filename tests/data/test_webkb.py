import gzip

import pytest
import torch

from gnnkit.data.shipped import load_dataset
from gnnkit.data.webkb import read_webkb
from gnnkit.errors import DataError

HEADER = "url,raw_text,category,node_id,label,len,neighbor_ids\n"


def write(tmp_path, rows):
    path = tmp_path / "Tiny.csv"
    path.write_text(HEADER + "".join(rows))
    return path


def test_tiny_university_exact_graph(tmp_path):
    path = write(tmp_path, [
        'a,"home; page",student,10,0,9,"[20, 10]"\n',
        "b,course notes,course,20,1,12,[]\n",
        "c,NA,student,30,0,2,[20]\n",
    ])
    dataset = read_webkb(path)
    graph = dataset.graphs[0]

    assert dataset.name == "WebKB_Tiny"
    assert dataset.node_ids == [[10, 20, 30]]
    assert dataset.texts == [["home; page", "course notes", "NA"]]
    assert dataset.classes == ["course", "student"]
    assert graph.y.tolist() == [1, 0, 1]
    assert graph.edge_index.tolist() == [[0, 0, 1, 1, 2], [0, 1, 0, 2, 1]]
    directed = read_webkb(path, directed=True).graphs[0]
    assert directed.edge_index.tolist() == [[0, 0, 2], [0, 1, 1]]


@pytest.mark.parametrize("rows, message", [
    (["a,t,student,1,0,1,[2\n"], r"line 2, field 'neighbor_ids'.*not a list"),
    (["a,t,student,1,0,1,[7]\n"], r"line 2.*links to node 7, which is not"),
    (["a,t,student,1,0,1,[]\n", "b,t,course,1,1,1,[]\n"],
     r"line 3, field 'node_id'.*repeats the id of line 2"),
    (["a,t,student,x1,0,1,[]\n"], r"line 2, field 'node_id'.*'x1'"),
    (["a,t,student,1,0,1,\"[1, 'a']\"\n"],
     r"line 2, field 'neighbor_ids': 'a' is not an integer"),
    (["a,t,student,1,0,1,{1: 2}\n"],
     r"line 2, field 'neighbor_ids': '\{1: 2\}' is not a list"),
    (["a,t,student,1,0,1,[]\n", "b,t, ,2,1,1,[]\n"],
     r"line 3, field 'category': the page has no category"),
    ([], r"Tiny.csv: the file has a header but no pages"),
])
def test_bad_rows_are_named(tmp_path, rows, message):
    with pytest.raises(DataError, match=message):
        read_webkb(write(tmp_path, rows))


@pytest.mark.parametrize("name, nodes, entries, staff", [
    ("WebKB_Cornell", 191, 2 * 274 + 1, 17),
    ("WebKB_Texas", 187, 2 * 280 + 18, 1),
    ("WebKB_Washington", 229, 2 * 365 + 51, 9),
    ("WebKB_Wisconsin", 265, 2 * 459 + 20, 10),
])
def test_shipped_universities_match_provenance(name, nodes, entries, staff):
    dataset = load_dataset(name)
    graph = dataset.graphs[0]

    assert graph.num_nodes == nodes
    assert graph.edge_index.size(1) == entries  # both ways + self-links
    counts = torch.bincount(graph.y, minlength=5).tolist()
    assert counts[dataset.classes.index("staff")] == staff


def test_truncated_gzip_is_named(tmp_path):
    packed = gzip.compress((HEADER + "a,t,student,1,0,1,[]\n").encode())
    path = tmp_path / "Tiny.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match=r"Tiny.csv.gz: not a valid gzip "
                                        r"file"):
        read_webkb(path)
