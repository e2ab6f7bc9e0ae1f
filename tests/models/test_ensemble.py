import math
import subprocess
import sys
import warnings

import pytest
import torch
from torch import nn
from torch_geometric.data import Data

from gnnkit.errors import ModelError
from gnnkit.models.backbones import build_model
from gnnkit.models.ensemble import Ensemble
from gnnkit.models.persist import load_model, save_model


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


def gine_and_gcn():
    torch.manual_seed(0)
    return [build_model("gin", 3, 2, edge_dim=2, num_layers=1,
                        hidden_channels=4),
            build_model("gcn", 3, 2, num_layers=1, hidden_channels=4)]


def graph_inputs():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(4, 3, generator=gen)
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    edge_attr = torch.rand(6, 2, generator=gen)
    batch = torch.tensor([0, 0, 1, 1])
    return x, edge_index, batch, edge_attr


def test_ensemble_gives_each_member_the_edge_inputs_it_uses():
    members = gine_and_gcn()
    ensemble = Ensemble(members).eval()
    x, edge_index, batch, edge_attr = graph_inputs()
    assert ensemble.edge_dim == 2 and ensemble.supports_edge_weight
    assert ensemble.config["name"] == "gin+gcn"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the GCN must not see edge_attr
        out = ensemble(x, edge_index, batch, edge_attr=edge_attr)
        gine = members[0](x, edge_index, batch, edge_attr).softmax(-1)
        gcn = members[1](x, edge_index, batch).softmax(-1)
    assert torch.allclose(out.softmax(-1), (gine + gcn) / 2, atol=1e-6)
    assert repr(ensemble) == ("Ensemble(1 x GIN + 1 x GCN, "
                              "task='classification')")


FRESH = """
import sys, torch
from gnnkit.models.persist import load_model
model, info = load_model(sys.argv[1])
x, edge_index, batch, edge_attr = torch.load(sys.argv[2])
torch.save(model(x, edge_index, batch, edge_attr=edge_attr), sys.argv[3])
print(info["kind"], info["config"]["name"], type(model).__name__)
"""


def test_saved_ensemble_reloads_in_fresh_process(tmp_path):
    ensemble = Ensemble(gine_and_gcn()).eval()
    inputs = graph_inputs()
    torch.save(inputs, tmp_path / "inputs.pt")
    save_model(tmp_path / "m", ensemble, classes=["a", "b"])
    proc = subprocess.run(
        [sys.executable, "-c", FRESH, str(tmp_path / "m"),
         str(tmp_path / "inputs.pt"), str(tmp_path / "out.pt")],
        capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["ensemble", "gin+gcn", "Ensemble"]
    x, edge_index, batch, edge_attr = inputs
    with torch.no_grad():
        expected = ensemble(x, edge_index, batch, edge_attr=edge_attr)
    assert torch.equal(torch.load(tmp_path / "out.pt"), expected)


def test_ensemble_without_member_configs_fails_to_load(tmp_path):
    save_model(tmp_path / "m", Ensemble([Constant([0.0, 1.0])]))
    with pytest.raises(ModelError, match="config.json: cannot rebuild the "
                       "model .ensemble member 0 has no model config"):
        load_model(tmp_path / "m")


def test_ensemble_passes_adjacency_to_members_that_use_it():
    from gnnkit.train.batching import PackedGraphs
    from gnnkit.train.tasks import forward_batch

    x, edge_index, batch, _ = graph_inputs()
    graphs = [Data(x=x[:2], edge_index=torch.tensor([[0, 1], [1, 0]])),
              Data(x=x[2:], edge_index=torch.tensor([[0, 1], [1, 0]]))]
    packed = PackedGraphs(graphs, "graphs", targets=False).chunks(2)[0]
    torch.manual_seed(0)
    gin = build_model("gin", 3, 2, num_layers=1, hidden_channels=4).eval()
    mlp = build_model("mlp", 3, 2, num_layers=1, hidden_channels=4).eval()
    ensemble = Ensemble([gin, mlp]).eval()
    seen = []
    gin.register_forward_pre_hook(
        lambda m, args, kwargs: seen.append("adjacency" in kwargs),
        with_kwargs=True)
    with torch.no_grad():
        out = forward_batch(ensemble, packed)
        mean = (forward_batch(gin, packed).softmax(-1)
                + forward_batch(mlp, packed).softmax(-1)) / 2
    assert ensemble.uses_adjacency and not Ensemble([mlp]).uses_adjacency
    assert seen == [True, True]  # from the ensemble, then alone
    assert torch.allclose(out.softmax(-1), mean, atol=1e-6)
