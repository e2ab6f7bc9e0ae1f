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


def write_json(tmp_path, text):
    path = tmp_path / "g.json"
    path.write_text(text if isinstance(text, str) else json.dumps(text))
    return path


GOOD = {"id": "A", "num_nodes": 2, "x": [[1], [2]], "edges": [[0, 1]],
        "y": 1}


@pytest.mark.parametrize("graphs, match", [
    ([], r"field 'graphs': the file holds no graphs"),
    ([GOOD, {**GOOD, "id": "B", "y": {"a": 1}}], r"graph B \(index 1\) "
                                                 r"has y=\{'a': 1\}; y must"),
    ([GOOD, {**GOOD, "id": "B", "y": [0, 1]}], r"graph B \(index 1\) has "
                                               r"y=\[0, 1\]"),
    ([{**GOOD, "num_nodes": True}], r"num_nodes must be a whole number >= 0"
                                    r" \(got True\)"),
    ([GOOD, {**GOOD, "id": "B", "x": None}], r"field 'x': graph B \(index 1\)"
                                             r" has no x while others do"),
    ([{**GOOD, "edges": [[0, 1.5]]}], r"row 0 of edges \(\[0, 1.5\]\) must "
                                      r"hold whole node indices"),
    ([{**GOOD, "edges": [[0, 10**20]]}], r"row 0 of edges .* must hold "
                                         r"whole node indices"),
    ([GOOD, GOOD], r"field 'id': graph id 'A' is used by the graphs at "
                   r"index 0 and 1"),
])
def test_read_json_graphs_bad_fields(tmp_path, graphs, match):
    with pytest.raises(DataError, match=match):
        read_json_graphs(write_json(tmp_path, graphs))


@pytest.mark.parametrize("x", ["NaN", "Infinity", "null"])
def test_read_json_graphs_x_must_be_finite(tmp_path, x):
    path = write_json(tmp_path, '[{"id": "A", "num_nodes": 2, "x": [[1], '
                        f'[{x}]], "y": 1}}]')
    with pytest.raises(DataError, match=r"graph A \(index 0\): row 1 of x "
                       r".* must hold finite numbers"):
        read_json_graphs(path)


def test_read_json_graphs_nan_label_rejected(tmp_path):
    path = write_json(tmp_path, '[{"id": "A", "num_nodes": 1, "y": NaN}]')
    with pytest.raises(DataError, match=r"graph A \(index 0\) has y=nan"):
        read_json_graphs(path)


def test_read_json_graphs_mixed_int_and_float_is_regression(tmp_path):
    data = read_json_graphs(write_json(tmp_path, [
        GOOD, {**GOOD, "id": "B", "y": 0.5}, {**GOOD, "id": "C", "y": [2]},
    ]))
    assert data.classes is None
    assert data.y.tolist() == [1.0, 0.5, 2.0]


def test_read_json_graphs_bom_and_bad_gzip(tmp_path):
    path = write_json(tmp_path, "\ufeff" + json.dumps([GOOD]))
    assert read_json_graphs(path).graph_ids == ["A"]
    fake = tmp_path / "g.json.gz"
    fake.write_text(json.dumps([GOOD]))
    with pytest.raises(DataError, match=r"g.json.gz: not a valid gzip"):
        read_json_graphs(fake)


def test_one_fractional_label_among_classes_warns_of_regression(tmp_path):
    records = [{**GOOD, "id": f"G{i}", "y": i % 2} for i in range(19)]
    records.append({**GOOD, "id": "odd", "y": 0.5})

    with pytest.warns(UserWarning, match=r"graph odd \(index 19\) has "
                      r"y=0.5 while 19 of 20 labels are whole"):
        data = read_json_graphs(write_json(tmp_path, records))

    assert data.classes is None and data.y[19].item() == 0.5
