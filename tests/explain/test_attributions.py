import json

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.utils import barabasi_albert_graph

from gnnkit.data.shipped import load_dataset
from gnnkit.errors import DataError, ModelError
from gnnkit.explain.attributions import explain_graph, explain_node
from gnnkit.models.backbones import build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.tasks import GraphTask

# C15: graphs 3 and 35 of MUTAG in a loader with batch_size 32, no shuffle.
C15 = [(3, 0, 3, 19, 44, 44, 62), (35, 1, 3, 14, 30, 639, 652)]


@pytest.fixture(scope="module")
def mutag():
    return load_dataset("MUTAG")


@pytest.fixture(scope="module")
def gin(mutag):
    torch.manual_seed(0)
    model = build_model("gin", mutag.num_features, 2, hidden_channels=32,
                        num_layers=3)
    task = GraphTask(mutag.graphs[:150], mutag.graphs[150:])
    fit(model, task, TrainConfig(epochs=5, progress_bar=False))
    return model.eval()


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency"])
def test_explain_graph_in_batch_equals_alone(mutag, gin, method):
    batches = list(DataLoader(mutag.graphs, batch_size=32, shuffle=False))
    assert int(batches[1].ptr[3]) == 53  # graph 35 at node offset 53
    for graph, b, pos, n, e, first, last in C15:
        ids = mutag.node_ids[graph]
        inside = explain_graph(gin, batches[b], pos, method=method,
                               node_ids=ids)
        alone = explain_graph(gin, mutag, graph, method=method)
        assert inside.node_mask.shape == (n, 7)
        assert inside.edge_mask.shape == (e,)
        assert inside.node_ids == list(range(first, last + 1))
        assert alone.node_ids == inside.node_ids
        assert torch.equal(inside.edge_rows, torch.arange(e))
        assert torch.allclose(inside.node_mask, alone.node_mask, atol=1e-5)
        assert torch.allclose(inside.edge_mask, alone.edge_mask, atol=1e-5)
        assert inside.outside == 0.0  # nothing leaks to other graphs
        assert inside.node_mask.abs().sum() > 0
        assert inside.target == alone.target


def test_explain_graph_to_dict_keyed_by_original_ids(mutag, gin):
    result = explain_graph(gin, mutag, 3)
    record = json.loads(json.dumps(result.to_dict()))
    assert record["item"] == mutag.graph_ids[3] == 4
    assert list(record["nodes"]) == [str(i) for i in range(44, 63)]
    assert len(record["edges"]) == 44
    src, dst = mutag.graphs[3].edge_index[:, 7].tolist()
    edge = record["edges"][7]
    assert (edge["row"], edge["source"], edge["target"]) == (
        7, mutag.node_ids[3][src], mutag.node_ids[3][dst])
    assert record["features"].keys() == set(mutag.feature_names)
    assert record["fidelity_plus"] in (0.0, 1.0)
    assert record["fidelity_minus"] in (0.0, 1.0)


def test_explain_graph_integrated_gradients_completeness(mutag, gin):
    result = explain_graph(gin, mutag, 35, n_steps=50)
    graph = mutag.graphs[35]
    batch = torch.zeros(graph.num_nodes, dtype=torch.long)
    with torch.no_grad():
        full = gin(graph.x, graph.edge_index, batch)[0, result.target]
        # The path starts from zero features and all edge masks at zero,
        # i.e. no messages at all.
        no_edges = torch.empty(2, 0, dtype=torch.long)
        empty = gin(graph.x * 0, no_edges, batch)[0, result.target]
    total = result.node_mask.sum() + result.edge_mask.sum()
    assert abs(float(total) - float(full - empty)) < 0.05 * abs(
        float(full - empty))


def test_explain_graph_captum_after_gnnexplainer(mutag, gin):
    first = explain_graph(gin, mutag, 3, method="saliency")
    explain_graph(gin, mutag, 3, method="gnnexplainer", epochs=5)
    again = explain_graph(gin, mutag, 3, method="saliency")
    assert torch.allclose(first.edge_mask, again.edge_mask)
    assert again.edge_mask.abs().sum() > 0


def test_explain_graph_keeps_model_mode(mutag):
    model = build_model("gin", mutag.num_features, 2, hidden_channels=8)
    model.train()
    explain_graph(model, mutag, 0, method="saliency")
    assert model.training
    model.eval()
    explain_graph(model, mutag, 0, method="saliency")
    assert not model.training


def test_explain_graph_gnnexplainer_seeded(mutag, gin):
    a = explain_graph(gin, mutag, 3, method="gnnexplainer", epochs=20)
    b = explain_graph(gin, mutag, 3, method="gnnexplainer", epochs=20)
    c = explain_graph(gin, mutag, 3, method="gnnexplainer", epochs=20,
                      seed=1)
    assert torch.equal(a.edge_mask, b.edge_mask)
    assert not torch.equal(a.edge_mask, c.edge_mask)
    assert float(a.edge_mask.min()) >= 0 and float(a.edge_mask.max()) <= 1


def test_explain_graph_single_logit_binary():
    torch.manual_seed(0)
    model = build_model("gcn", 3, 1, hidden_channels=8).eval()
    graph = Data(x=torch.randn(5, 3),
                 edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]))
    result = explain_graph(model, graph, method="input_x_gradient")
    with torch.no_grad():
        prob = model(graph.x, graph.edge_index).sigmoid().item()
    assert result.prediction == pytest.approx([prob])
    assert result.target == int(prob > 0.5)
    assert result.fidelity_plus in (0.0, 1.0)


def test_explain_graph_regression_has_no_fidelity():
    torch.manual_seed(0)
    model = build_model("sage", 3, 1, hidden_channels=8).eval()
    graph = Data(x=torch.randn(4, 3),
                 edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]))
    result = explain_graph(model, graph, task="regression")
    assert result.fidelity_plus is None and result.fidelity_minus is None
    assert result.node_mask.shape == (4, 3)


def _ba_graph(n=150):
    torch.manual_seed(0)
    edge_index = barabasi_albert_graph(n, 2)
    return Data(x=torch.randn(n, 6), edge_index=edge_index)


@pytest.mark.parametrize("name", ["gcn", "gat", "gin"])
def test_explain_node_khop_equals_full_graph(name):
    data = _ba_graph()
    torch.manual_seed(1)
    model = build_model(name, 6, 3, level="node", hidden_channels=8,
                        num_layers=2, heads=2).eval()
    for method in ("integrated_gradients", "saliency"):
        sub = explain_node(model, data, 7, method=method)
        full = explain_node(model, data, 7, method=method, khop=False)
        assert 1 < len(sub.node_ids) < data.num_nodes
        assert sub.node_ids == full.node_ids
        assert torch.equal(sub.edge_rows, full.edge_rows)
        assert torch.allclose(sub.node_mask, full.node_mask, atol=1e-5)
        assert torch.allclose(sub.edge_mask, full.edge_mask, atol=1e-5)
        assert full.outside == 0.0
        assert sub.target == full.target


def test_explain_node_by_original_id(tmp_path):
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target\nb,a\nc,a\nd,c\n")
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,f,label\na,1.0,0\nb,0.5,1\nc,-1.0,0\nd,2.0,1\n")
    dataset = load_dataset(edges, nodes=nodes, directed=True)
    torch.manual_seed(0)
    model = build_model("gcn", 1, 2, level="node", hidden_channels=4,
                        num_layers=1).eval()
    result = explain_node(model, dataset, "a", method="saliency")
    assert result.item == "a"
    assert sorted(result.node_ids) == ["a", "b", "c"]
    pairs = {(e["source"], e["target"]) for e in result.to_dict()["edges"]}
    assert pairs == {("b", "a"), ("c", "a")}
    with pytest.raises(DataError, match="node 'z' is not in the graph"):
        explain_node(model, dataset, "z")


def test_explain_graph_user_self_loops_never_attributed():
    # Every node has a self-loop: GAT drops and re-adds them, which keeps
    # the edge count, so PyG would apply the user's loop masks to the
    # wrong edges unless gnnkit leaves those loops out.
    torch.manual_seed(0)
    model = build_model("gat", 3, 2, hidden_channels=4, heads=2).eval()
    ring = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    loops = torch.arange(4).repeat(2, 1)
    x = torch.randn(4, 3)
    with_loops = explain_graph(
        model, Data(x=x, edge_index=torch.cat([ring, loops], 1)))
    plain = explain_graph(model, Data(x=x, edge_index=ring))
    assert with_loops.self_loop.tolist() == [False] * 4 + [True] * 4
    assert with_loops.edge_mask[4:].tolist() == [0.0] * 4
    assert torch.allclose(with_loops.edge_mask[:4], plain.edge_mask,
                          atol=1e-6)
    assert torch.allclose(with_loops.node_mask, plain.node_mask, atol=1e-6)


def test_explain_graph_errors(mutag, gin):
    with pytest.raises(DataError, match="index 188 is out of range"):
        explain_graph(gin, mutag, 188)
    with pytest.raises(ValueError, match="Unknown explanation method"):
        explain_graph(gin, mutag, 0, method="lime")
    node_model = build_model("gin", 7, 2, level="node", hidden_channels=8)
    with pytest.raises(ModelError, match="pooling must happen inside"):
        explain_graph(node_model, mutag, 0)
    with pytest.raises(DataError, match="is graph-level"):
        explain_node(gin, mutag, 44)


def test_attribution_repr_and_top_nodes(mutag, gin):
    result = explain_graph(gin, mutag, 3, method="saliency")
    assert repr(result).startswith(
        "Attribution(method='saliency', level='graph', item=4,")
    top = result.top_nodes(3)
    assert len(top) == 3
    assert abs(top[0]["importance"]) >= abs(top[2]["importance"])
    assert top[0]["node"] in range(44, 63)


class PlainPyG(torch.nn.Module):
    """A user's own PyG model: no gnnkit config, pools inside."""

    def __init__(self):
        super().__init__()
        from torch_geometric.nn import GCNConv

        self.conv = GCNConv(3, 4)
        self.lin = torch.nn.Linear(4, 2)

    def forward(self, x, edge_index, batch):
        from torch_geometric.nn import global_mean_pool

        h = self.conv(x, edge_index).relu()
        return self.lin(global_mean_pool(h, batch))


class NoBatch(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x, edge_index):
        return self.lin(x.mean(0, keepdim=True))


def test_explain_graph_plain_pyg_model():
    torch.manual_seed(0)
    model = PlainPyG().eval()
    graph = Data(x=torch.randn(4, 3),
                 edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]))
    result = explain_graph(model, graph, method="saliency")
    assert result.node_mask.shape == (4, 3)
    assert result.edge_mask.shape == (3,)
    with pytest.raises(ModelError, match="takes no 'batch' argument"):
        explain_graph(NoBatch(), graph)
