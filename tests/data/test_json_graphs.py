import json
from pathlib import Path

import pytest

from gnnkit.data.json_graphs import read_json_graphs
from gnnkit.errors import DataError

C08 = Path(__file__).resolve().parents[2] / "tests" / "cases" / "C08"


def test_read_json_graphs_empty_graph_rejected():
    with pytest.raises(DataError, match=r"graphs.json: graph G3 \(index 3\) "
                       r"has no nodes"):
        read_json_graphs(C08 / "graphs.json")


def test_read_json_graphs_empty_graph_allowed():
    data = read_json_graphs(C08 / "graphs.json", allow_empty=True)
    assert len(data) == 4
    assert data.graph_ids == ["G0", "G1", "G2", "G3"]
    assert [g.num_nodes for g in data.graphs] == [3, 2, 4, 0]
    assert tuple(data[3].x.shape) == (0, 2)
    assert tuple(data[3].edge_index.shape) == (2, 0)
    assert data.y.tolist() == [1, 0, 1, 0]
    assert data[0].edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert data[1].x.tolist() == [[0.5, 0.5], [1.0, 0.0]]


def write_graphs(tmp_path, graphs):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"graphs": graphs}))
    return path


def test_read_json_graphs_edge_out_of_range(tmp_path):
    path = write_graphs(tmp_path, [
        {"id": "A", "num_nodes": 2, "x": [[1], [2]], "edges": [[0, 2]],
         "y": 0}])
    with pytest.raises(DataError, match=r"graph A \(index 0\): edge \[0, 2\] "
                       r"names a node outside 0..1"):
        read_json_graphs(path)


def test_read_json_graphs_x_shape_mismatch(tmp_path):
    path = write_graphs(tmp_path, [
        {"id": "A", "num_nodes": 3, "x": [[1], [2]], "edges": [], "y": 0}])
    with pytest.raises(DataError, match=r"x should have shape \[3, 1\] "
                       r"\(got \[2, 1\]\)"):
        read_json_graphs(path)


def test_read_json_graphs_bad_json_names_line(tmp_path):
    path = tmp_path / "g.json"
    path.write_text('{"graphs": [\n{"id": 1,,}\n]}')
    with pytest.raises(DataError, match=r"g.json, line 2: not valid JSON"):
        read_json_graphs(path)


def test_read_json_graphs_float_targets_regression(tmp_path):
    path = write_graphs(tmp_path, [
        {"id": 0, "num_nodes": 1, "edges": [], "y": 0.5},
        {"id": 1, "num_nodes": 1, "edges": [], "y": -1.25}])
    data = read_json_graphs(path)
    assert data.classes is None
    assert data.y.tolist() == [0.5, -1.25]
    assert data[0].x.tolist() == [[1.0]]
