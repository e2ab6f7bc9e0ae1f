import os

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import stochastic_blockmodel_graph

from gnnkit.data.knowledge import read_kg
from gnnkit.errors import DataError
from gnnkit.models.link import (
    RelationalLinkModel,
    build_link_model,
    kg_text_features,
)
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.link_tasks import KGTask, LinkTask, split_edges


class TableModel(torch.nn.Module):
    """KG stand-in scoring query (entity e, relation r) with row e + 4r."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, x, edge_index, edge_type):
        return x

    def score_tails(self, z, head, relation):
        return self.table[head + 4 * relation]


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


def test_kg_task_filtered_ranks_by_hand():
    # train (0,r,1), (0,r,2); valid (2,r,3); test (0,r,3).
    triples = torch.tensor([[0, 0, 1], [0, 0, 2]])
    data = Data(
        num_nodes=4,
        edge_index=triples[:, [0, 2]].t(),
        edge_type=triples[:, 1],
        train_triples=triples,
        valid_triples=torch.tensor([[2, 0, 3]]),
        test_triples=torch.tensor([[0, 0, 3]]),
    )
    table = torch.zeros(8, 4)
    table[0] = torch.tensor([0.9, 0.8, 0.7, 0.6])  # (0, r, ?): 1, 2 known
    table[3 + 4] = torch.tensor([0.1, 0.5, 0.9, 0.2])  # (3, r^-1, ?): 2
    task = KGTask(data, torch.zeros(4, 1))
    out = task.evaluate(TableModel(table))
    assert out["tail"]["mean_rank"] == 2.0  # only 0 is left above 3
    assert out["head"]["mean_rank"] == 3.0  # 1 and 3 are above 0
    assert out["mrr"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert out["hits@1"] == 0.0 and out["hits@3"] == 1.0


def test_kg_task_umls_short_run_well_above_chance():
    from gnnkit.text.encoder import TextEncoder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    kg = read_kg("UMLS_KG")
    x, relation_x = kg_text_features(
        kg, TextEncoder(max_length=32), progress_bar=False
    )
    assert x.shape == (135, 384) and relation_x.shape == (92, 384)
    task = KGTask(kg, x, batch_size=1024, val_limit=200)
    model = RelationalLinkModel(
        384, 135, 46, relation_x=relation_x, hidden_channels=64, num_bases=8
    )
    fit(
        model,
        task,
        TrainConfig(epochs=4, lr=0.01, weight_decay=0.0, progress_bar=False),
    )
    out = task.evaluate(model)
    assert out["count"] == 2 * 661
    # chance is about 10 / 135 = 0.07
    assert out["hits@10"] > 0.6


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
