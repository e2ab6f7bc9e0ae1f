import torch
from torch_geometric.data import Data

from gnnkit.viz.figures import (
    confusion_matrix_figure,
    graph_figure,
    training_curves,
)


def test_training_curves_one_line_per_run_and_panel():
    history = [{"epoch": 1, "loss": 0.9, "val_accuracy": 0.5},
               {"epoch": 2, "loss": 0.7, "val_accuracy": 0.6}]
    fig = training_curves([history, history])

    assert len(fig.data) == 4
    assert list(fig.data[1].y) == [0.5, 0.6]


def test_graph_figure_draws_every_edge_and_node():
    data = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]), num_nodes=4)
    fig = graph_figure(data, node_ids=["a", "b", "c", "d"],
                       node_color=torch.tensor([0.1, 0.2, 0.3, 0.4]))

    assert len(fig.data) == 4
    assert list(fig.data[-1].text) == ["a", "b", "c", "d"]


def test_confusion_matrix_figure_labels():
    fig = confusion_matrix_figure([[3, 1], [0, 4]], [-1, 1])

    assert list(fig.data[0].x) == ["-1", "1"]
