from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.tables import read_csv_graph
from gnnkit.errors import ModelError
from gnnkit.explain.attention import gat_attention, reduce_heads
from gnnkit.models.backbones import build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.tasks import NodeTask

C06 = Path(__file__).parents[1] / "cases" / "C06"
USER_PAIRS = [(0, 1), (2, 1), (1, 2), (2, 2), (0, 2), (1, 0), (3, 0)]


@pytest.fixture(scope="module")
def c06():
    dataset = read_csv_graph(C06 / "edges.csv", C06 / "nodes.csv",
                             directed=True)
    torch.manual_seed(0)
    model = build_model("gat", 2, 2, level="node", num_layers=1, heads=2,
                        hidden_channels=4, dropout=0.0)
    data = dataset.graphs[0]
    fit(model, NodeTask(data, [0, 1, 2, 3], [0, 1, 2, 3]),
        TrainConfig(epochs=20, progress_bar=False))
    return dataset, model


def test_gat_attention_c06_rows_in_input_order(c06):
    dataset, model = c06
    (layer,) = gat_attention(model, dataset)
    assert layer.alpha.shape == (7, 2)
    pairs = layer.pairs()
    assert [(s, t) for s, t, _ in pairs[:7]] == USER_PAIRS
    assert [(s, t, a) for s, t, a in pairs[7:]] == [
        (0, 0, True), (1, 1, True), (3, 3, True)]
    assert len(pairs) == 10  # node 2's own self-loop is not duplicated
    assert layer.user_loop.tolist() == [False] * 3 + [True] + [False] * 3
    assert layer.all_alpha().shape == (10, 2)


def test_gat_attention_c06_sums_to_one(c06):
    dataset, model = c06
    (layer,) = gat_attention(model, dataset)
    sums = layer.incoming_sums()
    assert sorted(sums) == [0, 1, 2, 3]
    for total in sums.values():
        assert torch.allclose(total, torch.ones(2), atol=1e-6)
    assert torch.equal(layer.self_attention(3), torch.ones(2))
    own = layer.alpha[3]  # row 4 of edges.csv, the user's 2 -> 2
    assert torch.equal(layer.self_attention(2), own)
    assert float(own.min()) > 0 and float(own.max()) < 1


def test_gat_attention_matches_pyg_weights(c06):
    dataset, model = c06
    data = dataset.graphs[0]
    (layer,) = gat_attention(model, dataset)
    with torch.no_grad():
        _, (edge_index, alpha) = model.convs[0](
            data.x, data.edge_index, return_attention_weights=True)
    for (src, dst, _), row in zip(layer.pairs(), layer.all_alpha()):
        hit = ((edge_index[0] == src) & (edge_index[1] == dst)).nonzero()
        assert torch.allclose(alpha[hit.view(-1)[0]], row)


def test_gat_attention_c06_without_self_loops(c06):
    dataset, model = c06
    model.convs[0].add_self_loops = False
    try:
        (layer,) = gat_attention(model, dataset)
    finally:
        model.convs[0].add_self_loops = True
    assert len(layer.pairs()) == 7 and layer.loop_nodes.numel() == 0
    sums = layer.incoming_sums()
    assert sorted(sums) == [0, 1, 2]  # node 3 has no entries at all
    assert layer.self_attention(3) is None
    for total in sums.values():
        assert torch.allclose(total, torch.ones(2), atol=1e-6)
    assert not torch.isnan(layer.all_alpha()).any()


def test_gat_attention_two_layers_and_reductions():
    torch.manual_seed(0)
    model = build_model("gat", 3, 2, level="node", num_layers=2, heads=4,
                        hidden_channels=8).eval()
    data = Data(x=torch.randn(5, 3),
                edge_index=torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]]))
    layers = gat_attention(model, data, node_ids=list("abcde"))
    assert [lay.layer for lay in layers] == [0, 1]
    assert layers[1].heads == 4
    mean, top = layers[0].reduce("mean"), layers[0].reduce("max")
    assert mean.shape == (10,)
    assert torch.all(top >= mean)
    rows = layers[0].rows("max")
    assert rows[0]["source"] == "a" and rows[0]["target"] == "b"
    assert rows[0]["max"] == pytest.approx(float(top[0]))
    assert repr(layers[0]) == (
        "LayerAttention(layer=0, edges=5, added_loops=5, heads=4)")


def test_gat_attention_errors():
    model = build_model("gcn", 2, 2, level="node")
    data = Data(x=torch.randn(3, 2), edge_index=torch.tensor([[0], [1]]))
    with pytest.raises(ModelError, match="has no attention layer"):
        gat_attention(model, data)
    with pytest.raises(ValueError, match="how must be one of"):
        reduce_heads(torch.ones(3, 2), "sum")


def test_text_attention_tiny_bert(tmp_path):
    from gnnkit.explain.attention import text_attention
    from gnnkit.testing.tiny_lm import tiny_bert
    from gnnkit.text.encoder import TextEncoder

    encoder = TextEncoder(tiny_bert(tmp_path / "bert"))
    before = encoder.lm.config._attn_implementation
    result = text_attention(encoder, "Attention over graph edges")
    assert result.tokens[0] == "[CLS]" and result.tokens[-1] == "[SEP]"
    assert result.special == [True, False, False, False, False, True]
    assert result.attentions.shape == (2, 2, 6, 6)  # layers, heads, T, T
    rows = result.attentions.sum(dim=-1)
    assert torch.allclose(rows, torch.ones_like(rows), atol=1e-5)
    assert result.reduce(-1, "max").shape == (6, 6)
    assert encoder.lm.config._attn_implementation == before
