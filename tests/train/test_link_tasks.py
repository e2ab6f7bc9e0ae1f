import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import stochastic_blockmodel_graph

from gnnkit.errors import DataError
from gnnkit.models.link import build_link_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.link_tasks import LinkTask, split_edges


def sbm_graph(seed=0):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    edge_index = stochastic_blockmodel_graph(
        [30, 30, 30], [[0.3, 0.02, 0.02], [0.02, 0.3, 0.02], [0.02, 0.02, 0.3]]
    )
    x = torch.randn(90, 8, generator=generator)
    return Data(x=x, edge_index=edge_index, num_nodes=90)


def test_split_edges_holds_out_disjoint_pairs():
    data = sbm_graph()
    train, val, test = split_edges(data, val_ratio=0.1, test_ratio=0.2)
    pairs = [
        set(map(tuple, d.pos_edge_label_index.t().tolist()))
        for d in (train, val, test)
    ]
    assert not pairs[0] & pairs[1] and not pairs[0] & pairs[2]
    assert not pairs[1] & pairs[2]
    undirected = data.edge_index.size(1) // 2
    assert sum(map(len, pairs)) == undirected
    assert len(pairs[2]) == int(0.2 * undirected)  # PyG floors
    assert val.neg_edge_label_index.shape == val.pos_edge_label_index.shape
    held_out = set(map(tuple, test.pos_edge_label_index.t().tolist()))
    message = set(map(tuple, train.edge_index.t().tolist()))
    assert not held_out & message
    again = split_edges(data, val_ratio=0.1, test_ratio=0.2)[2]
    assert torch.equal(again.pos_edge_label_index, test.pos_edge_label_index)


def test_link_task_short_run_beats_chance():
    task = LinkTask(sbm_graph(), val_ratio=0.1, test_ratio=0.2, seed=0)
    model = build_link_model("gcn", 8, out_channels=16, hidden_channels=32)
    result = fit(
        model, task, TrainConfig(epochs=40, lr=0.01, progress_bar=False)
    )
    assert result.monitor == "val_roc_auc"
    out = task.evaluate(model)
    assert out["roc_auc"] > 0.75  # chance: 0.5
    assert set(out) >= {"average_precision", "mrr", "hits@10", "count"}
    assert out["count"] == 2 * task.test_data.pos_edge_label_index.size(1)


def test_link_task_needs_features():
    with pytest.raises(DataError, match="no node features x"):
        LinkTask(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2))


def test_split_edges_refuses_an_empty_held_out_part():
    ring = torch.arange(12)
    edge_index = torch.stack([ring, (ring + 1) % 12])
    data = Data(
        x=torch.ones(12, 1),
        num_nodes=12,
        edge_index=torch.cat([edge_index, edge_index.flip(0)], 1),
    )
    with pytest.raises(DataError, match="validation part holds no edge"):
        split_edges(data, val_ratio=0.05)
