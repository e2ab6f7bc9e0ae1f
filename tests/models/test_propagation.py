import pytest
import torch
from torch_geometric.data import Data

from gnnkit.errors import ModelError
from gnnkit.models.propagation import APPNPNet
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import NodeTask


def two_communities(n=20, seed=0):
    """Two dense halves joined by one edge; the label is the half and
    the features are noise, so only the graph tells the classes apart."""
    g = torch.Generator().manual_seed(seed)
    half = n // 2
    edges = [(i, j) for i in range(n) for j in range(n)
             if i != j and (i < half) == (j < half)
             and torch.rand(1, generator=g).item() < 0.5]
    edges += [(0, half), (half, 0)]
    edge_index = torch.tensor(edges).t()
    y = (torch.arange(n) >= half).long()
    x = torch.randn(n, 4, generator=g)
    return Data(x=x, edge_index=edge_index, y=y, num_nodes=n)


def test_isolated_node_keeps_its_mlp_logits():
    torch.manual_seed(0)
    model = APPNPNet(3, 2, hidden_channels=8, K=5, alpha=0.2).eval()
    x = torch.randn(3, 3)
    edge_index = torch.tensor([[0, 1], [1, 0]])  # node 2 alone
    out = model(x, edge_index)
    h = x
    for i, lin in enumerate(model.lins):
        h = lin(h).relu() if i == 0 else lin(h)
    assert out.shape == (3, 2)
    assert torch.allclose(out[2], h[2], atol=1e-6)
    assert not torch.allclose(out[0], h[0], atol=1e-3)


def test_propagation_separates_communities_features_cannot():
    data = two_communities()
    train = torch.tensor([1, 2, 11, 12])
    val = torch.tensor([3, 4, 13, 14])
    test = torch.tensor([n for n in range(20)
                         if n not in (1, 2, 3, 4, 11, 12, 13, 14)])
    torch.manual_seed(0)
    model = APPNPNet(4, 2, hidden_channels=16, K=10, alpha=0.1)
    config = TrainConfig(lr=0.05, epochs=60, patience=60,
                         schedule="constant", seed=0, progress_bar=False)
    fit(model, NodeTask(data, train, val), config)
    pred = predict(model, data).argmax(-1)
    assert (pred[test] == data.y[test]).float().mean() >= 0.9
    assert model.config["K"] == 10 and "K=10" in repr(model)


@pytest.mark.parametrize("kwargs, field", [
    ({"K": 0}, "K"), ({"alpha": 0.0}, "alpha"), ({"dropout": 1.0},
                                                  "dropout"),
    ({"num_layers": 0}, "num_layers")])
def test_bad_settings_raise_model_error(kwargs, field):
    with pytest.raises(ModelError, match=f"{field} must be"):
        APPNPNet(4, 2, **kwargs)
