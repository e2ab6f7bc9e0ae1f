from pathlib import Path

import networkx as nx
import pytest
import torch

from gnnkit.data.networkx_io import from_networkx, to_networkx
from gnnkit.data.tu import read_tu
from gnnkit.errors import DataError

SIGNED = Path(__file__).resolve().parents[2] / "tests/cases/C02/SIGNED"


def tiny_graph():
    graph = nx.Graph(name="tiny")
    graph.add_node("a", f=1.0, emb=[0.0, 1.0], label="x", text="hello")
    graph.add_node("b", f=2.0, emb=[1.0, 0.0], label="y", text="hi")
    graph.add_node("c", f=3.0, emb=[1.0, 1.0], label="x", text="yo")
    graph.add_edges_from([("a", "b"), ("b", "c"), ("c", "c")])
    return graph


def test_from_networkx_node_level_exact():
    data = from_networkx(tiny_graph(), text="text")
    assert data.level == "node" and data.name == "tiny"
    assert data.node_ids == [["a", "b", "c"]]
    assert data.feature_names == ["emb0", "emb1", "f"]
    assert data[0].x.tolist() == [[0, 1, 1], [1, 0, 2], [1, 1, 3]]
    assert data[0].edge_index.tolist() == [[0, 1, 2, 1, 2], [1, 2, 2, 0, 1]]
    assert data.classes == ["x", "y"] and data.y.tolist() == [0, 1, 0]
    assert data.texts == [["hello", "hi", "yo"]]


def test_from_networkx_round_trip_node_level():
    data = from_networkx(tiny_graph(), text="text")
    back = to_networkx(data)
    assert isinstance(back, nx.Graph) and not back.is_directed()
    assert back.nodes["b"] == {"x": [1.0, 0.0, 2.0], "text": "hi", "y": 1,
                               "label": "y"}
    again = from_networkx(back, text="text")
    assert torch.equal(again[0].x, data[0].x)
    assert torch.equal(again[0].edge_index, data[0].edge_index)
    assert again.classes == data.classes and again.texts == data.texts


def test_from_networkx_round_trip_graph_level():
    data = read_tu(SIGNED)
    graphs = [to_networkx(data, i) for i in range(len(data))]
    assert graphs[1].graph["label"] == 1 and graphs[0].graph["label"] == -1
    assert list(graphs[1].nodes) == [4, 5]
    again = from_networkx(graphs)
    assert again.level == "graph" and again.classes == [-1, 1]
    assert again.y.tolist() == [0, 1, 1, 0]
    assert again.node_ids == data.node_ids
    for old, new in zip(data.graphs, again.graphs):
        assert torch.equal(old.x, new.x)
        assert sorted(old.edge_index.t().tolist()) == sorted(
            new.edge_index.t().tolist())


def test_from_networkx_directed_weights():
    graph = nx.DiGraph()
    graph.add_edge(0, 1, w=0.5)
    graph.add_edge(1, 0, w=2.0)
    graph.add_edge(1, 2, w=1.0)
    data = from_networkx(graph, weight="w")
    assert data[0].edge_index.tolist() == [[0, 1, 1], [1, 0, 2]]
    assert data[0].edge_weight.tolist() == [0.5, 2.0, 1.0]
    assert data[0].x.tolist() == [[1.0], [1.0], [1.0]]
    assert data.classes is None
    assert to_networkx(data).is_directed()


def test_from_networkx_non_numeric_feature():
    graph = tiny_graph()
    graph.nodes["b"]["f"] = "two"
    with pytest.raises(DataError, match=r"field 'f': node 'b' has f='two'"):
        from_networkx(graph, features=["f"])


def test_from_networkx_missing_label_names_nodes():
    graph = tiny_graph()
    del graph.nodes["c"]["label"]
    with pytest.raises(DataError, match=r"1 node\(s\) have no 'label': 'c'"):
        from_networkx(graph)


@pytest.mark.parametrize("graphs, match", [
    ("abc", r"item 0 is a str, not a networkx graph"),
    ([nx.path_graph(2), 5], r"item 1 is a int, not a networkx graph"),
    (nx.Graph(), r"the graph has no nodes"),
    ([nx.path_graph(2), nx.Graph()], r"graph 1 has no nodes"),
])
def test_from_networkx_not_graphs_or_empty(graphs, match):
    with pytest.raises(DataError, match=match):
        from_networkx(graphs, label=None)


def test_from_networkx_nan_feature_warns_and_explicit_raises():
    graph = tiny_graph()
    graph.nodes["b"]["f"] = float("nan")
    with pytest.warns(UserWarning, match=r"attribute 'f' is nan on node "
                      r"'b', so it is not used"):
        data = from_networkx(graph)
    assert data.feature_names == ["emb0", "emb1"]
    with pytest.raises(DataError, match=r"node 'b' has f=nan, which is not "
                       r"a finite number"):
        from_networkx(graph, features=["f"])


def test_from_networkx_nan_label_is_missing():
    graph = tiny_graph()
    graph.nodes["c"]["label"] = float("nan")
    with pytest.raises(DataError, match=r"1 node\(s\) have no 'label': 'c'"):
        from_networkx(graph)


def test_from_networkx_infinite_weight_rejected():
    graph = nx.Graph()
    graph.add_edge("a", "b", w=float("inf"))
    with pytest.raises(DataError, match=r"edge \('a', 'b'\) has w=inf, "
                       r"which is not a finite number"):
        from_networkx(graph, weight="w", label=None)
