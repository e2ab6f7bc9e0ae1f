import math
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.tables import read_csv_graph
from gnnkit.evaluate.transfer import (
    accuracy,
    continual,
    finetune,
    new_model,
    partition,
    train_head,
    transfer,
)
from gnnkit.train.joint import JointSettings

CASE = Path(__file__).parents[1] / "cases" / "C14"
SETTINGS = JointSettings(max_length=16, epochs=2, batch_size=2,
                         num_neighbors=(2,), hidden_channels=8,
                         lm_lr=1e-2)
SPLIT = (torch.tensor([0, 1, 2]), torch.tensor([3]), torch.tensor([4, 5]))


@pytest.fixture(scope="module")
def source():
    return read_csv_graph(CASE / "edges.csv", CASE / "nodes.csv",
                          text="text", name="C14")


@pytest.fixture(scope="module")
def target():
    texts = ["Genetic search for schedules", "Bayesian networks of genes",
             "Reinforcement learning agents", "Evolving neural controllers",
             "Probabilistic inference on trees", "Policy gradient methods"]
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4, 5, 0],
                               [1, 0, 2, 1, 4, 3, 0, 5]])
    graph = Data(x=torch.ones(6, 1), edge_index=edge_index,
                 y=torch.tensor([0, 1, 2, 0, 1, 2]))
    return GraphDataset([graph], level="node", name="T3",
                        classes=["ga", "prob", "rl"], texts=[texts])


def test_partition_splits_disjoint_halves():
    old, new = partition(torch.arange(10, 20), 0.3, seed=1)
    assert old.numel() == 3 and new.numel() == 7
    assert sorted(torch.cat([old, new]).tolist()) == list(range(10, 20))


def test_train_head_changes_only_the_head(bert_path, target):
    torch.manual_seed(0)
    model = new_model(target, "lora", SETTINGS, bert_path)
    conv = model.gnn.convs[0].lin.weight.clone()
    lora = [p.clone() for p in model.encoder.parameters() if p.requires_grad]
    head = model.gnn.head.lin.weight.clone()
    score = train_head(model, target, SPLIT, epochs=5)
    assert score in (0.0, 0.5, 1.0)
    assert torch.equal(model.gnn.convs[0].lin.weight, conv)
    now = [p for p in model.encoder.parameters() if p.requires_grad]
    assert len(now) == len(lora) == 8
    assert all(torch.equal(a, b) for a, b in zip(now, lora))
    assert not torch.equal(model.gnn.head.lin.weight, head)


def test_transfer_reports_every_stage(bert_path, source, target):
    result = transfer(source, target, settings=SETTINGS, lm=bert_path,
                      source_split=SPLIT, target_split=SPLIT)
    assert (result.source, result.target) == ("C14", "T3")
    assert result.source_accuracy in (0.0, 0.5, 1.0)
    for value in (result.before, result.after, result.scratch):
        assert value in (0.0, 0.5, 1.0)
    assert result.trainable_parameters["head"] == 8 * 3 + 3
    assert result.trainable_parameters["lm"] == 2048
    assert set(result.seconds) == {"pretrain", "head_only", "finetune",
                                   "scratch"}
    assert result.to_dict()["target"] == "T3"


def test_continual_reports_kept_accuracy(bert_path, source):
    torch.manual_seed(0)
    model = new_model(source, "lora", SETTINGS, bert_path)
    old, new = torch.tensor([0, 1]), torch.tensor([2, 3])
    val, test = torch.tensor([4]), torch.tensor([5])
    finetune(model, source, (old, val, test), SETTINGS)
    before = accuracy(model, source, old)
    result = continual(model, source, old, new, val, test, SETTINGS)
    assert result.old_before == before
    assert result.old_after == accuracy(model, source, old)
    if before > 0:
        assert result.kept == pytest.approx(result.old_after / before)
    else:
        assert math.isnan(result.kept)
    assert result.new_after in (0.0, 0.5, 1.0)
    assert set(result.to_dict()) == {"old_before", "old_after", "kept",
                                     "new_after", "test_before",
                                     "test_after"}
