import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError


def tiny_graph(num_nodes, label):
    edge_index = torch.tensor([[0, 1], [1, 0]])
    return Data(x=torch.eye(num_nodes, 3), edge_index=edge_index,
                y=torch.tensor([label]))


@pytest.fixture
def dataset():
    return GraphDataset(
        graphs=[tiny_graph(2, 0), tiny_graph(3, 1), tiny_graph(4, 1)],
        name="toy",
        classes=[-1, 1],
        graph_ids=["g1", "g2", "g3"],
        texts=[["a", "b"], ["c", "d", "e"], ["f", "g", "h", "i"]],
        graph_texts=["CC", "CCO", "CCN"],
        meta={"source": "test"},
    )


def test_graph_dataset_defaults_and_sizes(dataset):
    plain = GraphDataset(graphs=dataset.graphs)
    assert plain.graph_ids == [0, 1, 2]
    assert plain.node_ids == [[0, 1], [0, 1, 2], [0, 1, 2, 3]]
    assert len(dataset) == 3 and dataset[1] is dataset.graphs[1]
    assert dataset.num_features == 3 and dataset.num_edge_features == 0
    assert dataset.y.tolist() == [0, 1, 1]
    assert dataset.task == "classification" and dataset.num_classes == 2


def test_graph_dataset_decode_maps_to_original_labels(dataset):
    assert dataset.decode(torch.tensor([1, 0, 1])) == [1, -1, 1]
    assert dataset.decode([0]) == [-1]


def test_graph_dataset_decode_regression_raises():
    data = GraphDataset(graphs=[tiny_graph(2, 0)], name="esol")
    assert data.task == "regression" and data.num_classes == 1
    with pytest.raises(ValueError, match="Dataset 'esol' has regression "
                       "targets; there are no class labels to decode"):
        data.decode([0])


def test_graph_dataset_subset_keeps_ids_and_texts_aligned(dataset):
    part = dataset.subset(torch.tensor([2, 0]))
    assert len(part) == 2
    assert part.graph_ids == ["g3", "g1"]
    assert part.node_ids == [[0, 1, 2, 3], [0, 1]]
    assert part.texts == [["f", "g", "h", "i"], ["a", "b"]]
    assert part.graph_texts == ["CCN", "CC"]
    assert part.y.tolist() == [1, 0]
    assert part.classes == [-1, 1] and part.name == "toy"
    part.meta["extra"] = 1
    assert "extra" not in dataset.meta


def test_graph_dataset_subset_without_texts(dataset):
    plain = GraphDataset(graphs=dataset.graphs, classes=[0, 1])
    part = plain.subset([1])
    assert part.texts is None and part.graph_texts is None
    assert part.graph_ids == [1]


def test_graph_dataset_subset_node_level_raises():
    data = GraphDataset(graphs=[tiny_graph(2, 0)], level="node")
    with pytest.raises(ValueError, match="subset\\(\\) selects graphs"):
        data.subset([0])


def test_graph_dataset_repr(dataset):
    assert repr(dataset) == (
        "GraphDataset(name='toy', level='graph', graphs=3, features=3, "
        "task='classification', classes=2)"
    )


def test_graph_dataset_y_without_labels_raises():
    bare = Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0], [1]]))
    data = GraphDataset(graphs=[bare], name="new", graph_ids=["G7"])
    with pytest.raises(DataError, match=r"dataset 'new' has no labels "
                       r"\(graph 'G7' has no y\)"):
        data.y


@pytest.mark.parametrize("graph, match", [
    (Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0, 1], [1, 5]])),
     r"edge 1 \(1, 5\) names a node outside 0..1"),
    (Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0.0], [1.0]])),
     r"edge_index holds floats; use torch.long"),
    (Data(x=torch.ones(2, 1), edge_index=torch.tensor([0, 1])),
     r"edge_index has shape \[2\], not \[2, num_edges\]"),
    (Data(x=torch.ones(3, 1), edge_index=torch.tensor([[0], [1]]),
          num_nodes=2), r"x has 3 rows for 2 nodes"),
])
def test_graph_dataset_rejects_inconsistent_graph(graph, match):
    with pytest.raises(DataError, match=rf"dataset 'hand', graph 0: {match}"):
        GraphDataset(graphs=[graph], name="hand")
