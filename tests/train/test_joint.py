from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph

from gnnkit.errors import DataError
from gnnkit.models.fusion import LMGNN
from gnnkit.text.encoder import TextEncoder
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.joint import (
    JointNodeTask,
    JointSettings,
    joint_param_groups,
    train_joint,
)
from gnnkit.train.neighbor_sampling import neighbor_ptr, sample_neighbors

CASE = Path(__file__).parents[1] / "cases" / "C14"

# A path 0-1-2-3-4 plus a star 5 -> {0, 1, 2}, both directions.
PAIRS = [(0, 1), (1, 2), (2, 3), (3, 4), (5, 0), (5, 1), (5, 2)]
EDGE_INDEX = torch.tensor(PAIRS + [(b, a) for a, b in PAIRS]).t()


def make_task(bert_path, c14, **kw):
    encoder = TextEncoder(bert_path, max_length=16)
    torch.manual_seed(0)
    model = LMGNN(encoder, 2, strategy=kw.pop("strategy", "lora"),
                  hidden_channels=8)
    task = JointNodeTask(c14.graphs[0], c14.texts[0], [0, 1, 2], [3, 4, 5],
                         encoder=encoder, **kw)
    return model, task


def test_neighbor_ptr_lists_incoming_neighbours():
    rowptr, col = neighbor_ptr(EDGE_INDEX, 6)
    assert rowptr.tolist() == [0, 2, 5, 8, 10, 11, 14]
    assert sorted(col[rowptr[5]:rowptr[6]].tolist()) == [0, 1, 2]
    assert col[rowptr[4]:rowptr[5]].tolist() == [3]


def test_sample_neighbors_all_equals_k_hop():
    rowptr, col = neighbor_ptr(EDGE_INDEX, 6)
    seeds = torch.tensor([4, 3])
    nodes = sample_neighbors(seeds, rowptr, col, [-1, -1])
    expected, _, _, _ = k_hop_subgraph(seeds, 2, EDGE_INDEX, num_nodes=6)
    assert nodes[:2].tolist() == [4, 3]
    assert sorted(nodes.tolist()) == expected.tolist() == [1, 2, 3, 4, 5]


def test_sample_neighbors_fanout_limits_each_node():
    rowptr, col = neighbor_ptr(EDGE_INDEX, 6)
    generator = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(30):
        nodes = sample_neighbors(torch.tensor([5]), rowptr, col, [1],
                                 generator)
        assert nodes.numel() == 2 and nodes[0] == 5
        seen.add(int(nodes[1]))
    assert seen == {0, 1, 2}  # one neighbour each time, all reachable


def test_joint_task_batch_is_induced_subgraph(bert_path, c14):
    _, task = make_task(bert_path, c14, batch_size=2, num_neighbors=(1,))
    batches = task.train_batches(torch.Generator().manual_seed(0))
    assert [b.batch_size for b in batches] == [2, 1]
    seeds = torch.cat([b.n_id[:b.batch_size] for b in batches])
    assert sorted(seeds.tolist()) == [0, 1, 2]
    edges = set(map(tuple, c14.graphs[0].edge_index.t().tolist()))
    for batch in batches:
        assert batch.n_id.numel() <= 2 * batch.batch_size
        for src, dst in batch.edge_index.t().tolist():
            assert (int(batch.n_id[src]), int(batch.n_id[dst])) in edges
        seeds = batch.n_id[:batch.batch_size]
        assert torch.equal(batch.y, c14.graphs[0].y[seeds])


def test_joint_task_tokens_trim_padding(bert_path, c14):
    _, task = make_task(bert_path, c14)
    ids, mask = task.tokens(torch.tensor([0]))
    assert ids.shape == mask.shape == (1, int(mask.sum()))
    assert task.input_ids.shape[0] == 6


def test_joint_task_loss_and_validate(bert_path, c14):
    model, task = make_task(bert_path, c14, batch_size=3)
    batch = task.train_batches(torch.Generator().manual_seed(0))[0]
    loss = task.loss(model, batch)
    assert loss.dim() == 0 and loss.requires_grad
    model.eval()
    assert task.node_logits(model).shape == (6, 2)
    metrics = task.validate(model)
    assert set(metrics) == {"loss", "accuracy"}
    assert round(metrics["accuracy"] * 3, 5) in (0, 1, 2, 3)


def count_encoded(model):
    sizes = []
    model.encoder.register_forward_hook(
        lambda module, args, out: sizes.append(out.size(0)))
    return sizes


def test_joint_task_fresh_encodes_every_sampled_node(bert_path, c14):
    model, task = make_task(bert_path, c14, batch_size=2,
                            num_neighbors=(2,), neighbor_features="fresh")
    sizes = count_encoded(model)
    batch = task.train_batches(torch.Generator().manual_seed(0))[0]
    task.loss(model, batch)
    assert sizes == [batch.n_id.numel()] and sizes[0] > 2


def test_joint_task_cached_encodes_only_seeds(bert_path, c14):
    model, task = make_task(bert_path, c14, batch_size=2,
                            num_neighbors=(2,), neighbor_features="cached")
    sizes = count_encoded(model)
    batch = task.train_batches(torch.Generator().manual_seed(0))[0]
    loss = task.loss(model, batch)
    assert sizes == [6, 2]  # the table once, then the two seeds
    loss.backward()
    lora = [p for p in model.encoder.parameters() if p.requires_grad]
    assert all(p.grad is not None for p in lora)
    model.eval()
    with torch.inference_mode():
        task.validate(model)
    assert task.table.shape == (6, 32) and task.table.is_inference()
    sizes.clear()
    task.loss(model.train(), batch).backward()
    assert sizes == [2]
    with pytest.raises(ValueError, match="'fresh' or 'cached'"):
        make_task(bert_path, c14, neighbor_features="stale")


def test_joint_task_text_count_mismatch_raises(bert_path, c14):
    encoder = TextEncoder(bert_path, max_length=16)
    with pytest.raises(DataError, match="5 texts for a graph of 6 nodes"):
        JointNodeTask(c14.graphs[0], c14.texts[0][:5], [0], [1],
                      encoder=encoder)
    with pytest.raises(DataError, match="no node labels"):
        JointNodeTask(Data(edge_index=EDGE_INDEX, num_nodes=6),
                      ["t"] * 6, [0], [1], encoder=encoder)


def test_joint_param_groups_frozen_has_no_lm_group(bert_path, c14):
    model, _ = make_task(bert_path, c14, strategy="frozen")
    groups = joint_param_groups(model, lm_lr=1e-4, gnn_lr=1e-2)
    assert groups == [{"name": "gnn", "prefix": "gnn.", "lr": 1e-2}]


def test_joint_param_groups_train_at_their_own_rate(bert_path, c14):
    model, task = make_task(bert_path, c14, batch_size=3)
    lm_before = {n: p.clone() for n, p in model.encoder.named_parameters()
                 if p.requires_grad}
    gnn_before = model.gnn.convs[0].lin.weight.clone()
    groups = joint_param_groups(model, lm_lr=1e-9, gnn_lr=1e-1)
    assert [g["lr"] for g in groups] == [1e-9, 1e-1]
    fit(model, task, TrainConfig(epochs=2, param_groups=groups,
                                 schedule="constant", progress_bar=False))
    lm_change = max((p - lm_before[n]).abs().max().item()
                    for n, p in model.encoder.named_parameters()
                    if p.requires_grad)
    gnn_change = (model.gnn.convs[0].lin.weight - gnn_before).abs().max()
    assert 0 < lm_change < 1e-7
    assert gnn_change > 1e-2


def test_train_joint_returns_history_and_task(bert_path, c14):
    model, _ = make_task(bert_path, c14)
    settings = JointSettings(epochs=2, batch_size=2, steps_per_epoch=1,
                             num_neighbors=(2,))
    result, task = train_joint(model, c14.graphs[0], c14.texts[0],
                               torch.tensor([0, 1, 2]),
                               torch.tensor([3, 4, 5]), settings)
    assert len(result.history) == 2
    assert len(task.train_batches(torch.Generator())) == 1
    assert result.monitor == "val_accuracy"
    assert "JointNodeTask(num_nodes=6, train=3" in repr(task)
