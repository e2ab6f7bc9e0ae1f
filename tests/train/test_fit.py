import logging
import math

import pytest
import torch
from torch import nn
from torch_geometric.data import Data

from gnnkit.data.shipped import load_dataset
from gnnkit.errors import ModelError
from gnnkit.evaluate.splits import random_split
from gnnkit.models.backbones import build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import build_optimizer, fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import GraphTask, Task

QUIET = dict(progress_bar=False)


def toy_graphs(n=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        size = 2 + i % 4
        x = torch.rand(size, 3, generator=gen) + (i % 2)
        ring = torch.arange(size)
        edge_index = torch.stack([ring, ring.roll(1)])
        out.append(Data(x=x, edge_index=edge_index, y=torch.tensor([i % 2])))
    return out


def toy_task():
    data = toy_graphs()
    return GraphTask(data[:16], data[16:], batch_size=4)


class ScriptedTask(Task):
    """Trains a linear layer; validation scores are read from a script."""

    monitor, mode = "val_accuracy", "max"

    def __init__(self, scores):
        self.scores = list(scores)
        self.epoch = 0

    def train_batches(self, generator):
        return [torch.randn(4, 2, generator=generator) for _ in range(2)]

    def loss(self, model, batch):
        return model(batch).pow(2).mean()

    def validate(self, model):
        self.epoch += 1
        return {"loss": 1.0, "accuracy": self.scores[self.epoch - 1]}


def test_fit_same_seed_same_history():
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = build_model("gin", 3, 2, hidden_channels=8)
        runs.append(fit(model, toy_task(), TrainConfig(epochs=4, **QUIET)))
    assert runs[0].history == runs[1].history
    assert [r["epoch"] for r in runs[0].history] == [1, 2, 3, 4]
    assert set(runs[0].history[0]) == {"epoch", "loss", "lr", "val_loss",
                                       "val_accuracy"}


def test_fit_early_stopping_restores_best_weights():
    model = nn.Linear(2, 1)
    snapshots = {}

    def snapshot(epoch, record):
        snapshots[epoch] = model.weight.detach().clone()

    task = ScriptedTask([0.5, 0.9, 0.6, 0.6, 0.7, 0.95])
    config = TrainConfig(epochs=6, patience=2, lr=0.1, **QUIET)
    result = fit(model, task, config, callbacks=[snapshot])
    assert (result.best_epoch, result.best_score) == (2, 0.9)
    assert result.stopped_early and len(result.history) == 4
    assert not torch.equal(snapshots[4], snapshots[2])
    assert torch.equal(model.weight, snapshots[2])


def test_fit_ties_broken_by_validation_loss():
    class Tied(ScriptedTask):
        def validate(self, model):
            out = super().validate(model)
            out["loss"] = [0.9, 0.5, 0.7][self.epoch - 1]
            return out

    result = fit(nn.Linear(2, 1), Tied([0.8, 0.8, 0.8]),
                 TrainConfig(epochs=3, **QUIET))
    assert result.best_epoch == 2


def test_fit_callback_stops_cleanly():
    model = nn.Linear(2, 1)
    task = ScriptedTask([0.1, 0.2, 0.3, 0.4])
    result = fit(model, task, TrainConfig(epochs=4, **QUIET),
                 callbacks=[lambda epoch, record: epoch == 3])
    assert result.stopped_by_callback and not result.stopped_early
    assert [r["val_accuracy"] for r in result.history] == [0.1, 0.2, 0.3]
    assert result.best_epoch == 3


def test_fit_logs_one_line_per_epoch(caplog):
    with caplog.at_level(logging.INFO, logger="gnnkit.train.fit"):
        fit(nn.Linear(2, 1), ScriptedTask([0.5, 0.8125]),
            TrainConfig(epochs=2, **QUIET))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[1].startswith("Epoch: 002, Loss: ")
    assert lines[1].endswith(", Val: 0.8125")


def test_fit_freeze_prefix_keeps_weights():
    torch.manual_seed(0)
    model = build_model("gin", 3, 2, hidden_channels=8)
    before = model.convs[0].nn[0].weight.detach().clone()
    head = model.head.lin2.weight.detach().clone()
    fit(model, toy_task(), TrainConfig(epochs=2, freeze=["convs.0."],
                                       **QUIET))
    assert torch.equal(model.convs[0].nn[0].weight, before)
    assert not torch.equal(model.head.lin2.weight, head)


def test_fit_freeze_unknown_prefix():
    with pytest.raises(ValueError, match="prefix 'encoder.' matches no"):
        fit(nn.Linear(2, 1), ScriptedTask([0.5]),
            TrainConfig(epochs=1, freeze=["encoder."], **QUIET))


def test_build_optimizer_param_groups_for_lm_and_gnn():
    model = nn.ModuleDict({"encoder": nn.Linear(4, 4),
                           "gnn": nn.Linear(4, 2)})
    config = TrainConfig(lr=1e-2, warmup_epochs=0, param_groups=[
        {"prefix": "encoder.", "lr": 2e-5, "warmup_epochs": 1}])
    optimizer, warmups = build_optimizer(model, config)
    lrs = [g["lr"] for g in optimizer.param_groups]
    sizes = [len(g["params"]) for g in optimizer.param_groups]
    assert lrs == [1e-2, 2e-5] and sizes == [2, 2] and warmups == [0, 1]


def test_fit_nan_loss_is_a_clear_error():
    class NanTask(ScriptedTask):
        def loss(self, model, batch):
            return model(batch).sum() * math.nan

    with pytest.raises(ModelError, match="loss became nan at epoch 1"):
        fit(nn.Linear(2, 1), NanTask([0.5]), TrainConfig(epochs=1, **QUIET))


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-1), r"TrainConfig.lr must be > 0 \(got -1\)"),
    (dict(epochs=0), r"TrainConfig.epochs must be an integer >= 1"),
    (dict(optimizer="adam"), "TrainConfig.optimizer must be 'adamw' or"),
    (dict(schedule="step"), "TrainConfig.schedule must be 'cosine'"),
    (dict(grad_clip=0), "TrainConfig.grad_clip must be None or > 0"),
    (dict(param_groups=[{"lr": 1e-3}]), "exactly one of 'prefix'"),
    (dict(param_groups=[{"prefix": "a", "lr": 0}]), "lr must be > 0"),
])
def test_train_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_predict_c08_empty_graph_rows_in_input_order():
    torch.manual_seed(0)
    model = build_model("gin", 3, 2, hidden_channels=8)
    data = toy_graphs(3)
    empty = Data(x=torch.zeros(0, 3),
                 edge_index=torch.zeros(2, 0, dtype=torch.long))
    reference = predict(model, data)
    for position in (0, 1, 3):
        mixed = data[:position] + [empty] + data[position:]
        out = predict(model, mixed, batch_size=2)
        assert out.shape == (4, 2)
        kept = [i for i in range(4) if i != position]
        assert torch.allclose(out[kept], reference, atol=1e-6)
    assert model.training  # mode restored


def test_predict_node_level_shape():
    model = build_model("gcn", 3, 4, level="node")
    assert predict(model, toy_graphs(1)[0]).shape == (2, 4)


def test_fit_learns_mutag(one_thread):
    dataset = load_dataset("MUTAG")
    train, val, test = random_split(len(dataset), (0.7, 0.1, 0.2), seed=0,
                                    stratify=dataset.y)
    torch.manual_seed(0)
    model = build_model("gin", dataset.num_features, 2, pooling="sum")
    task = GraphTask(dataset.subset(train).graphs,
                     dataset.subset(val).graphs)
    result = fit(model, task, TrainConfig(epochs=50, **QUIET))
    test_set = dataset.subset(test)
    accuracy = (predict(model, test_set).argmax(-1) == test_set.y)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert accuracy.float().mean() > 0.75  # majority rate: 0.665
