import math

import pytest
import torch
from torch import nn

from gnnkit.errors import ModelError
from gnnkit.models.backbones import build_model
from gnnkit.models.ensemble import Ensemble


class Constant(nn.Module):
    """Returns the same row for every graph of a batch."""

    def __init__(self, row):
        super().__init__()
        self.row = torch.tensor(row)

    def forward(self, x, edge_index, batch=None, **kwargs):
        return self.row.expand(int(batch.max()) + 1, -1)


def test_ensemble_averages_class_probabilities():
    batch = torch.tensor([0, 0, 1])
    ensemble = Ensemble([Constant([0.0, 0.0]),
                         Constant([math.log(3.0), 0.0])])
    out = ensemble(torch.zeros(3, 1), torch.empty(2, 0), batch)
    # members give [0.5, 0.5] and [0.75, 0.25]: the mean is [0.625, 0.375]
    assert out.shape == (2, 2)
    expected = torch.tensor([[0.625, 0.375]] * 2)
    assert torch.allclose(out.softmax(-1), expected, atol=1e-6)
    assert torch.allclose(out.exp().sum(-1), torch.ones(2), atol=1e-6)


def test_ensemble_mean_for_regression():
    batch = torch.tensor([0, 1, 2])
    ensemble = Ensemble([Constant([1.0]), Constant([4.0])],
                        task="regression")
    out = ensemble(torch.zeros(3, 1), torch.empty(2, 0), batch)
    assert torch.equal(out, torch.full((3, 1), 2.5))


def test_ensemble_takes_member_attributes_and_edge_inputs():
    torch.manual_seed(0)
    members = [build_model("gin", 3, 2, edge_dim=2, num_layers=1,
                           hidden_channels=4) for _ in range(2)]
    ensemble = Ensemble(members).eval()
    assert ensemble.edge_dim == 2 and ensemble.level == "graph"
    assert ensemble.config["name"] == "gin"
    x = torch.rand(3, 3)
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    edge_attr = torch.rand(4, 2)
    batch = torch.zeros(3, dtype=torch.long)
    with torch.no_grad():
        probs = torch.stack([m.eval()(x, edge_index, batch, edge_attr)
                             .softmax(-1) for m in members]).mean(0)
        out = ensemble(x, edge_index, batch, edge_attr)
    assert torch.allclose(out.softmax(-1), probs, atol=1e-6)
    assert repr(ensemble) == "Ensemble(2 x GIN, task='classification')"


def test_ensemble_rejects_bad_input():
    with pytest.raises(ModelError, match="at least one model"):
        Ensemble([])
    with pytest.raises(ModelError, match="'classification' or"):
        Ensemble([Constant([0.0])], task="ranking")
