import pytest
import torch
from torch import nn
from torch_geometric.data import Batch, Data

from gnnkit.errors import DataError, ModelError
from gnnkit.models.backbones import build_model
from gnnkit.train.tasks import (
    GraphTask,
    NodeTask,
    PackedGraphs,
    TargetScaler,
    forward_batch,
)


def graph(num_nodes, y, edges=(), width=2):
    x = torch.arange(num_nodes * width, dtype=torch.float).view(-1, width)
    edge_index = torch.tensor(list(edges), dtype=torch.long).view(-1, 2).t()
    edge_attr = torch.ones(edge_index.size(1), 3) * num_nodes
    return Data(x=x, edge_index=edge_index.contiguous(),
                edge_attr=edge_attr, y=torch.tensor([y]))


def graphs():
    return [graph(3, 1, [(0, 1), (1, 2)]), graph(2, 0, [(1, 0)]),
            graph(0, 0), graph(4, 1, [(0, 3), (3, 2), (2, 1)]),
            graph(1, 0)]


class MeanModel(nn.Module):
    """Logits ``[mean(x[:, 0]), mean(x[:, 1])]`` per graph."""

    def forward(self, x, edge_index, batch=None, edge_attr=None,
                edge_weight=None, num_graphs=None):
        from gnnkit.models.heads import pool
        return pool(x, batch, "mean", num_graphs)


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4], [3, 2, 0, 4, 1],
                                   [2, 4]])
def test_packed_graphs_select_equals_pyg_batch(order):
    data = graphs()
    got = PackedGraphs(data).select(torch.tensor(order))
    ref = Batch.from_data_list([data[i] for i in order])
    assert got.num_graphs == ref.num_graphs == len(order)
    for key in ("x", "edge_index", "batch", "edge_attr", "y", "ptr"):
        assert torch.equal(getattr(got, key), getattr(ref, key)), key


def test_graph_task_epoch_covers_each_graph_once():
    task = GraphTask(graphs(), graphs()[:2], batch_size=2)
    batches = task.train_batches(torch.Generator().manual_seed(0))
    assert [b.num_graphs for b in batches] == [2, 2, 1]
    sizes = sorted(b.x.size(0) for b in batches)
    assert sum(sizes) == 10
    seen = torch.cat([b.y for b in batches])
    assert sorted(seen.tolist()) == [0, 0, 0, 1, 1]


def test_graph_task_validate_classification_exact():
    task = GraphTask(graphs(), graphs()[:2])
    metrics = task.validate(MeanModel())
    # means: graph 0 -> [2, 3] (class 1 right), graph 1 -> [1, 2] (wrong)
    assert metrics["accuracy"] == 0.5
    assert repr(task) == ("GraphTask(task='classification', "
                          "train_graphs=5, val_graphs=2, batch_size=32)")
    expected = nn.functional.cross_entropy(
        torch.tensor([[2.0, 3.0], [1.0, 2.0]]), torch.tensor([1, 0]))
    assert metrics["loss"] == pytest.approx(float(expected))
    assert (task.monitor, task.mode) == ("val_accuracy", "max")


def test_graph_task_regression_scaler_and_rmse():
    train = [Data(x=torch.zeros(1, 1), edge_index=torch.zeros(2, 0,
                  dtype=torch.long), y=torch.tensor([v])) for v in
             (1.0, 3.0)]
    task = GraphTask(train, train[:1], task="regression")
    assert task.target_scaler.mean.tolist() == [2.0]
    assert task.target_scaler.std.tolist() == [1.0]

    class Zero(nn.Module):
        def forward(self, x, *args, num_graphs=None, **kwargs):
            return torch.zeros(num_graphs, 1)

    metrics = task.validate(Zero())  # predicts the train mean 2.0
    assert metrics["rmse"] == pytest.approx(1.0)
    assert metrics["mae"] == pytest.approx(1.0)
    assert metrics["loss"] == pytest.approx(1.0)
    assert (task.monitor, task.mode) == ("val_rmse", "min")


def test_target_scaler_round_trip():
    scaler = TargetScaler.fit(torch.tensor([[1.0, 10.0], [3.0, 10.0]]))
    assert scaler.std.tolist() == [1.0, 1.0]  # constant column kept at 1
    again = TargetScaler.from_dict(scaler.to_dict())
    y = torch.tensor([[5.0, 0.0]])
    assert torch.equal(again.inverse_transform(again.transform(y)), y)


@pytest.mark.parametrize("bad, match", [
    (Data(edge_index=torch.zeros(2, 0, dtype=torch.long),
          y=torch.tensor([0])), r"train_graphs\[1\] has no node feature"),
    (Data(x=torch.zeros(2, 5), edge_index=torch.zeros(2, 0,
          dtype=torch.long), y=torch.tensor([0])), "has 5 node features"),
    (Data(x=torch.zeros(2, 2), edge_index=torch.zeros(2, 0,
          dtype=torch.long), y=torch.tensor([0])), "has no edge_attr"),
    (Data(x=torch.zeros(2, 2), edge_index=torch.zeros(2, 0,
          dtype=torch.long), edge_attr=torch.zeros(0, 3),
          y=torch.tensor([0.5])), "integer class ids"),
])
def test_graph_task_bad_graphs(bad, match):
    with pytest.raises(DataError, match=match):
        GraphTask([graphs()[0], bad], graphs()[:1])


def test_graph_task_empty_validation_and_bad_kind():
    with pytest.raises(DataError, match="val_graphs is empty"):
        GraphTask(graphs(), [])
    with pytest.raises(ValueError, match="task must be 'classification'"):
        GraphTask(graphs(), graphs(), task="ranking")


def test_node_task_uses_only_its_nodes():
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
    data = Data(x=x, edge_index=torch.zeros(2, 0, dtype=torch.long),
                y=torch.tensor([1, 1, 0, 0]))
    mask = torch.tensor([True, True, False, False])
    task = NodeTask(data, mask, torch.tensor([2, 3]))
    assert repr(task) == ("NodeTask(task='classification', num_nodes=4, "
                          "train_nodes=2, val_nodes=2)")
    identity = build_model("mlp", 2, 2, level="node")
    identity.forward = lambda x, *a, **k: x
    assert task.validate(identity)["accuracy"] == 0.5
    loss = task.loss(identity, task.train_batches(None)[0])
    expected = nn.functional.cross_entropy(x[:2], torch.tensor([1, 1]))
    assert float(loss) == pytest.approx(float(expected))


def test_forward_batch_drops_edge_attr_for_models_without_edge_dim():
    torch.manual_seed(0)
    model = build_model("gin", 2, 2, hidden_channels=4).eval()
    batch = PackedGraphs(graphs()).select(torch.arange(5))
    with torch.no_grad():
        out = forward_batch(model, batch)
    assert out.shape == (5, 2) and model._warned == set()


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_packed_graphs_batches_equal_pyg_batches(batch_size):
    data = graphs()
    order = torch.tensor([4, 2, 0, 3, 1])
    got = PackedGraphs(data).batches(order, batch_size)
    parts = order.split(batch_size)
    assert len(got) == len(parts)
    for batch, part in zip(got, parts):
        ref = Batch.from_data_list([data[i] for i in part])
        assert batch.num_graphs == ref.num_graphs
        for key in ("x", "edge_index", "batch", "edge_attr", "y", "ptr"):
            assert torch.equal(getattr(batch, key), getattr(ref, key)), key


def test_graph_task_model_too_narrow_for_classes():
    data = graphs()
    data[0].y = torch.tensor([2])
    task = GraphTask(data, data[:2])
    model = build_model("mlp", 2, 2)
    with pytest.raises(ModelError, match="gives 2 outputs but the "
                       r"classification targets need 3 \(classes\); "
                       "build it with out_channels=3"):
        task.validate(model)
