import json
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GATConv, GINEConv

from gnnkit.errors import ModelError
from gnnkit.models.backbones import build_model

CASES = Path(__file__).parents[1] / "cases"
NAMES = ["gcn", "gat", "sage", "gin", "mlp"]


def tiny_batch():
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0],
                      [0.5, 0.0, 0.0], [0.0, 0.0, 1.0]])
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    batch = torch.tensor([0, 0, 0, 1, 1])
    return x, edge_index, batch


def c08_graphs():
    raw = json.loads((CASES / "C08" / "graphs.json").read_text())
    graphs = []
    for g in raw["graphs"]:
        x = torch.tensor(g["x"], dtype=torch.float).view(-1, 2)
        edges = torch.tensor(g["edges"], dtype=torch.long).view(-1, 2)
        graphs.append(Data(x=x, edge_index=edges.t().contiguous(),
                           y=torch.tensor([g["y"]])))
    return graphs


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("level, rows", [("graph", 2), ("node", 5)])
def test_build_model_output_shape(name, level, rows):
    x, edge_index, batch = tiny_batch()
    model = build_model(name, 3, 4, level=level, hidden_channels=8,
                        num_layers=2)
    assert model(x, edge_index, batch).shape == (rows, 4)
    assert model.embed(x, edge_index, batch).shape == (5, 8)


@pytest.mark.parametrize("name", NAMES)
def test_graph_model_trailing_empty_graph_gets_zero_readout(name):
    torch.manual_seed(0)
    model = build_model(name, 3, 2, hidden_channels=8, pooling="sum").eval()
    x, edge_index, _ = tiny_batch()
    batch = torch.zeros(5, dtype=torch.long)
    out = model(x, edge_index, batch, num_graphs=2)
    assert out.shape == (2, 2)
    assert torch.allclose(out[1], model.head(torch.zeros(1, 8))[0])
    assert torch.allclose(out[0], model(x, edge_index)[0])


@pytest.mark.parametrize("position", [0, 1, 3])
def test_graph_model_c08_empty_graph_position_invariant(position):
    torch.manual_seed(0)
    model = build_model("gin", 2, 2, hidden_channels=8).eval()
    graphs = c08_graphs()
    reference = model(*_inputs(graphs[:3]))
    order = [g for g in graphs[:3]]
    order.insert(position, graphs[3])
    out = model(*_inputs(order))
    assert out.shape == (4, 2)
    kept = [i for i in range(4) if i != position]
    assert torch.allclose(out[kept], reference, atol=1e-6)


def _inputs(graphs):
    batch = Batch.from_data_list(graphs)
    return batch.x, batch.edge_index, batch.batch, None, None, len(graphs)


def test_build_model_config_rebuilds_same_model():
    torch.manual_seed(0)
    model = build_model("gat", 3, 2, hidden_channels=8, heads=2, jk="cat")
    clone = build_model(**json.loads(json.dumps(model.config)))
    clone.load_state_dict(model.state_dict())
    x, edge_index, batch = tiny_batch()
    model.eval(), clone.eval()
    assert torch.equal(model(x, edge_index, batch), clone(x, edge_index,
                                                         batch))


def test_build_model_unknown_name():
    with pytest.raises(ValueError, match="Unknown model 'gxn'"):
        build_model("gxn", 3, 2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(hidden_channels=10, heads=4), "divisible by heads=4"),
    (dict(level="edge"), "level must be 'graph' or 'node'"),
    (dict(dropout=1.0), r"dropout must be in \[0, 1\)"),
    (dict(num_layers=0), r"num_layers must be an integer >= 1 \(got 0\)"),
    (dict(jk="lstm"), "jk must be"),
])
def test_build_model_bad_hyper_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_model("gat", 3, 2, **kwargs)


def test_graph_model_wrong_feature_width():
    model = build_model("gcn", 4, 2)
    x, edge_index, batch = tiny_batch()
    with pytest.raises(ModelError, match=r"shape \[num_nodes, 4\]"):
        model(x, edge_index, batch)


def test_gcn_uses_edge_weight():
    torch.manual_seed(0)
    model = build_model("gcn", 3, 2, level="node").eval()
    x, edge_index, _ = tiny_batch()
    weight = torch.tensor([1.0, 1.0, 0.1, 0.1, 2.0, 2.0])
    plain = model(x, edge_index)
    assert not torch.allclose(plain, model(x, edge_index,
                                           edge_weight=weight))
    ones = model(x, edge_index, edge_weight=torch.ones(6))
    assert torch.allclose(plain, ones, atol=1e-6)


def test_gat_ignores_edge_weight_with_one_warning():
    torch.manual_seed(0)
    model = build_model("gat", 3, 2, level="node").eval()
    x, edge_index, _ = tiny_batch()
    with pytest.warns(UserWarning, match="GAT ignores edge_weight"):
        out = model(x, edge_index, edge_weight=torch.rand(6))
    assert torch.equal(out, model(x, edge_index))
    assert model._warned == {"edge_weight"}
    assert not model.supports_edge_weight and model.supports_edge_attr


def test_gin_with_edge_dim_uses_edge_attr():
    torch.manual_seed(0)
    model = build_model("gin", 3, 2, edge_dim=2).eval()
    assert isinstance(model.convs[0], GINEConv)
    x, edge_index, batch = tiny_batch()
    a = model(x, edge_index, batch, edge_attr=torch.zeros(6, 2))
    b = model(x, edge_index, batch, edge_attr=torch.ones(6, 2))
    assert not torch.allclose(a, b)


def test_mlp_ignores_edges():
    torch.manual_seed(0)
    model = build_model("mlp", 3, 2).eval()
    x, edge_index, batch = tiny_batch()
    assert torch.equal(model(x, edge_index, batch),
                       model(x, edge_index[:, :0], batch))


def test_gat_layers_reachable_for_attention():
    model = build_model("gat", 3, 2, hidden_channels=8, heads=2,
                        num_layers=2)
    assert all(isinstance(c, GATConv) for c in model.convs)
    assert model.convs[0].heads == 2


def test_graph_model_repr():
    model = build_model("gin", 7, 2, pooling="sum", num_layers=4)
    assert repr(model) == ("GIN(7, 2, level='graph', hidden_channels=64, "
                           "num_layers=4, pooling='sum')")
    gat = build_model("gat", 7, 3, level="node", edge_dim=4)
    assert repr(gat) == ("GAT(7, 3, level='node', hidden_channels=64, "
                         "num_layers=3, edge_dim=4, heads=4)")


def test_graph_model_integer_features():
    model = build_model("gin", 3, 2)
    x, edge_index, batch = tiny_batch()
    with pytest.raises(ModelError, match="expects float node features x "
                       r"\(got torch.int64\)"):
        model(x.long(), edge_index, batch)


def test_edge_dim_for_a_model_without_edge_features_warns_and_is_dropped():
    with pytest.warns(UserWarning, match="'gcn' does not read edge"):
        model = build_model("gcn", 3, 2, edge_dim=4)

    assert model.config["edge_dim"] is None
    assert build_model(**model.config).config == model.config
