import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.random_walk import (
    add_random_walk_features,
    add_random_walk_features_like,
)
from gnnkit.errors import DataError


def undirected(pairs, num_nodes, width=1):
    edges = [[u, v] for u, v in pairs] + [[v, u] for u, v in pairs]
    index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    return Data(x=torch.arange(num_nodes * width, dtype=torch.float)
                .view(num_nodes, width), edge_index=index,
                num_nodes=num_nodes, y=torch.tensor([0]))


def dataset_of(*graphs, names=("a",)):
    return GraphDataset(list(graphs), name="toy", classes=[0],
                        feature_names=list(names))


def test_triangle_returns_after_two_and_three_steps():
    # a walk on a triangle never returns in 1 step, returns in 2 with
    # probability 1/2 (back along the edge it left by) and in 3 with 1/4
    # (either way round: 2 walks of probability 1/8)
    dataset = add_random_walk_features(
        dataset_of(undirected([(0, 1), (1, 2), (2, 0)], 3)), 3)

    expected = torch.tensor([0.0, 0.5, 0.25]).repeat(3, 1)
    assert torch.allclose(dataset.graphs[0].x[:, 1:], expected)


def test_path_centre_always_returns_in_even_steps():
    # path 0-1-2: the centre is back after every even walk; an end only
    # half the time (the centre sends it to either end)
    dataset = add_random_walk_features(
        dataset_of(undirected([(0, 1), (1, 2)], 3)), 4)

    rwse = dataset.graphs[0].x[:, 1:]
    assert torch.allclose(rwse[1], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    assert torch.allclose(rwse[0], torch.tensor([0.0, 0.5, 0.0, 0.5]))
    assert torch.allclose(rwse[2], rwse[0])


def test_columns_are_appended_and_named():
    graph = undirected([(0, 1)], 3, width=2)  # node 2 has no edges
    before = graph.x.clone()
    dataset = add_random_walk_features(dataset_of(graph, names=("a", "b")),
                                       2)

    assert dataset.feature_names == ["a", "b", "rwse_1", "rwse_2"]
    assert dataset.num_features == 4
    assert torch.equal(dataset.graphs[0].x[:, :2], before)
    assert dataset.graphs[0].x[2, 2:].tolist() == [0.0, 0.0]
    assert dataset.graphs[0].x[0, 2:].tolist() == [0.0, 1.0]


def test_like_adds_as_many_steps_as_the_names_ask():
    names = ["a", "rwse_1", "rwse_2", "rwse_3"]
    dataset = add_random_walk_features_like(
        dataset_of(undirected([(0, 1), (1, 2), (2, 0)], 3)), names)
    assert dataset.feature_names == names
    assert torch.allclose(dataset.graphs[0].x[0, 1:],
                          torch.tensor([0.0, 0.5, 0.25]))

    plain = add_random_walk_features_like(
        dataset_of(undirected([(0, 1)], 2)), ["a"])
    assert plain.feature_names == ["a"] and plain.num_features == 1


@pytest.mark.parametrize("steps", [0, -1, 2.0, True])
def test_refuses_bad_steps(steps):
    with pytest.raises(DataError, match="integer >= 1"):
        add_random_walk_features(dataset_of(undirected([(0, 1)], 2)), steps)


def test_refuses_adding_twice():
    dataset = add_random_walk_features(dataset_of(undirected([(0, 1)], 2)),
                                       2)
    with pytest.raises(DataError, match="already has random-walk"):
        add_random_walk_features(dataset, 2)
