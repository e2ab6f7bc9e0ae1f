import math

import pytest
import torch
from torch_geometric.data import Data

from gnnkit.errors import ModelError
from gnnkit.models.grand import GRANDNet, drop_node, mixed_order_propagation
from gnnkit.train.config import TrainConfig
from gnnkit.train.consistency import ConsistencyNodeTask, consistency_loss
from gnnkit.train.fit import fit
from gnnkit.train.predict import predict

PATH = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # 0 - 1 - 2


def path_adjacency():
    """A_hat of the 3-node path by hand: self-loops give degrees 2, 3, 2
    and A_hat[i, j] = 1 / sqrt(d_i d_j)."""
    s = 1 / math.sqrt(6)
    return torch.tensor([[1 / 2, s, 0], [s, 1 / 3, s], [0, s, 1 / 2]])


def test_mixed_order_propagation_is_mean_of_powers_on_a_path():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, -1.0]])
    a = path_adjacency()
    expected = (x + a @ x + a @ a @ x) / 3
    out = mixed_order_propagation(x, PATH, K=2)
    assert torch.allclose(out, expected, atol=1e-6)
    assert torch.allclose(mixed_order_propagation(x, PATH, K=0), x)
    # corner of (I + A + A^2) / 3: (1 + 1/2 + (1/4 + 1/6)) / 3
    eye = mixed_order_propagation(torch.eye(3), PATH, K=2)
    assert eye[0, 0].item() == pytest.approx((1.5 + 5 / 12) / 3)


def test_drop_node_zeroes_whole_rows_and_keeps_the_mean():
    x = torch.ones(4000, 3)
    out = drop_node(x, 0.25, torch.Generator().manual_seed(0))
    kept = out[:, 0] > 0
    assert torch.allclose(out[kept], torch.tensor(4 / 3))
    assert torch.equal(out[~kept], torch.zeros(int((~kept).sum()), 3))
    assert 0.2 < (~kept).float().mean().item() < 0.3
    assert out.mean().item() == pytest.approx(1.0, abs=0.03)
    assert drop_node(x, 0.0) is x


def test_grand_net_is_random_in_training_and_fixed_in_eval():
    torch.manual_seed(0)
    model = GRANDNet(2, 3, hidden_channels=8, K=2)
    x = torch.randn(3, 2)
    model.train()
    assert not torch.allclose(model(x, PATH), model(x, PATH))
    model.eval()
    out = model(x, PATH)
    assert out.shape == (3, 3)
    assert torch.equal(out, model(x, PATH))
    # projecting first, then adding the bias, equals the paper's order
    h = mixed_order_propagation(x, PATH, K=2)
    first, second = model.lins
    assert torch.allclose(out, second(first(h).relu()), atol=1e-6)


def test_grand_net_rejects_bad_settings():
    with pytest.raises(ModelError, match="drop_node must be in"):
        GRANDNet(2, 3, drop_node=1.0)
    with pytest.raises(ModelError, match="K must be >= 0"):
        GRANDNet(2, 3, K=-1)


def test_consistency_loss_by_hand():
    p1 = torch.tensor([[0.8, 0.2]])
    p2 = torch.tensor([[0.4, 0.6]])
    sharp = torch.tensor([0.36, 0.16]) / 0.52  # mean [0.6, 0.4] squared
    expected = ((p1 - sharp).pow(2).sum() + (p2 - sharp).pow(2).sum()) / 2
    assert consistency_loss([p1, p2], 0.5).item() == pytest.approx(
        expected.item())
    same = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert consistency_loss([same, same], 0.5).item() == 0.0


def two_communities(n=40, seed=0):
    """Two dense halves joined by one edge; the label is the half and
    the features are noise, so only the graph tells the classes apart."""
    g = torch.Generator().manual_seed(seed)
    half = n // 2
    edges = [(i, j) for i in range(n) for j in range(n)
             if i != j and (i < half) == (j < half)
             and torch.rand(1, generator=g).item() < 0.3]
    edges += [(0, half), (half, 0)]
    edge_index = torch.tensor(edges).t()
    y = (torch.arange(n) >= half).long()
    x = torch.randn(n, 4, generator=g)
    return Data(x=x, edge_index=edge_index, y=y, num_nodes=n)


def test_consistency_task_trains_grand_on_two_labels_per_class():
    data = two_communities()
    train, val = torch.tensor([1, 2, 21, 22]), torch.tensor([3, 4, 23, 24])
    torch.manual_seed(0)
    model = GRANDNet(4, 2, hidden_channels=16, K=8, dropout=0.2,
                     input_dropout=0.0, drop_node=0.3)
    task = ConsistencyNodeTask(data, train, val, samples=3)
    config = TrainConfig(lr=0.05, epochs=60, patience=60,
                         schedule="constant", progress_bar=False)
    result = fit(model, task, config)
    losses = [r["loss"] for r in result.history]
    assert sum(losses[-10:]) / 10 < 0.6 * sum(losses[:5]) / 5
    rest = torch.tensor([n for n in range(40) if n not in
                         (1, 2, 3, 4, 21, 22, 23, 24)])
    pred = predict(model, data).argmax(-1)
    assert (pred[rest] == data.y[rest]).float().mean() >= 0.9


def test_consistency_task_rejects_bad_settings():
    data = two_communities()
    index = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="samples must be an integer >= 2"):
        ConsistencyNodeTask(data, index, index, samples=1)
    with pytest.raises(ValueError, match=r"temperature must be in \(0, 1\]"):
        ConsistencyNodeTask(data, index, index, temperature=0.0)
    with pytest.raises(ValueError, match="weight must be >= 0"):
        ConsistencyNodeTask(data, index, index, weight=-1.0)
